#include "metrics/process.h"

#include <gtest/gtest.h>

namespace cairn::metrics {
namespace {

// A /proc/self/stat line whose command holds a space and a ')' (it may: the name is the
// executable's, up to 15 bytes).
constexpr std::string_view kStat =
    "4242 (cai rn) x) S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 150 0 0 20 0 7 0 3000 "
    "104857600 2560 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0";

TEST(Process, ParsesStatFieldsAfterTheLastParenthesis) {
  std::optional<ProcessStats> stats = parse_proc_stat(kStat, 100, 1'700'000'000, 4096);
  ASSERT_TRUE(stats.has_value());
  EXPECT_DOUBLE_EQ(stats->cpu_seconds, 4.0);  // (250 + 150) / 100
  EXPECT_EQ(stats->threads, 7u);
  EXPECT_DOUBLE_EQ(stats->start_time_seconds, 1'700'000'030.0);
  EXPECT_EQ(stats->virtual_bytes, 104857600u);
  EXPECT_EQ(stats->resident_bytes, 2560u * 4096);
}

TEST(Process, TruncatedStatDoesNotParse) {
  EXPECT_FALSE(parse_proc_stat("4242 (cairn) S 1 2 3", 100, 0, 4096).has_value());
  EXPECT_FALSE(parse_proc_stat("no parenthesis", 100, 0, 4096).has_value());
}

TEST(Process, CollectsOwnProcess) {
  Exposition out;
  collect_process(out);
  std::string text = std::move(out).text();
  EXPECT_NE(text.find("# TYPE process_cpu_seconds_total counter\n"), std::string::npos);
  EXPECT_NE(text.find("\nprocess_open_fds "), std::string::npos);
  EXPECT_NE(text.find("\nprocess_resident_memory_bytes "), std::string::npos);
}

}  // namespace
}  // namespace cairn::metrics
