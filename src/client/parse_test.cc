#include "client/parse.h"

#include <gtest/gtest.h>

namespace cairn::client {
namespace {

using Kind = OffsetBound::Kind;

TEST(ParseDuration, UnitsAndPlainSeconds) {
  EXPECT_EQ(*parse_duration_ms("500ms"), 500);
  EXPECT_EQ(*parse_duration_ms("10s"), 10'000);
  EXPECT_EQ(*parse_duration_ms("5m"), 300'000);
  EXPECT_EQ(*parse_duration_ms("2h"), 7'200'000);
  EXPECT_EQ(*parse_duration_ms("3"), 3'000);
  EXPECT_FALSE(parse_duration_ms("").ok());
  EXPECT_FALSE(parse_duration_ms("ms").ok());
  EXPECT_FALSE(parse_duration_ms("-1s").ok());
  EXPECT_FALSE(parse_duration_ms("1x").ok());
}

TEST(ParsePartitionList, SortedUniqueAndRejectsJunk) {
  EXPECT_EQ(*parse_partition_list("2,0,2,1"), (std::vector<int32_t>{0, 1, 2}));
  EXPECT_FALSE(parse_partition_list("").ok());
  EXPECT_FALSE(parse_partition_list("1,,2").ok());
  EXPECT_FALSE(parse_partition_list("-1").ok());
  EXPECT_FALSE(parse_partition_list("a").ok());
}

TEST(ParseOffsetSpec, SingleBounds) {
  EXPECT_EQ(parse_offset_spec("start", 0)->from.kind, Kind::start);
  EXPECT_EQ(parse_offset_spec("end", 0)->from.kind, Kind::end);
  auto exact = *parse_offset_spec("47", 0);
  EXPECT_EQ(exact.from.kind, Kind::exact);
  EXPECT_EQ(exact.from.value, 47);
  EXPECT_FALSE(exact.until.has_value());
  auto plus = *parse_offset_spec("+2", 0);
  EXPECT_EQ(plus.from.kind, Kind::after_start);
  EXPECT_EQ(plus.from.value, 2);
  auto minus = *parse_offset_spec("-3", 0);
  EXPECT_EQ(minus.from.kind, Kind::before_end);
  EXPECT_EQ(minus.from.value, 3);
  auto at = *parse_offset_spec("@1700000000000", 0);
  EXPECT_EQ(at.from.kind, Kind::timestamp);
  EXPECT_EQ(at.from.value, 1'700'000'000'000);
  auto ago = *parse_offset_spec("@-1m", 100'000);
  EXPECT_EQ(ago.from.value, 100'000 - 60'000);
}

TEST(ParseOffsetSpec, Ranges) {
  auto to_end = *parse_offset_spec(":end", 0);
  EXPECT_EQ(to_end.from.kind, Kind::start);
  ASSERT_TRUE(to_end.until.has_value());
  EXPECT_EQ(to_end.until->kind, Kind::end);
  auto range = *parse_offset_spec("3:7", 0);
  EXPECT_EQ(range.from.value, 3);
  EXPECT_EQ(range.until->kind, Kind::exact);
  EXPECT_EQ(range.until->value, 7);
  auto times = *parse_offset_spec("@10:@20", 0);
  EXPECT_EQ(times.until->kind, Kind::timestamp);
  EXPECT_FALSE(parse_offset_spec("3:start", 0).ok());
  EXPECT_FALSE(parse_offset_spec("3:-1", 0).ok());
  EXPECT_FALSE(parse_offset_spec("bogus", 0).ok());
  EXPECT_FALSE(parse_offset_spec("@x", 0).ok());
  EXPECT_FALSE(parse_offset_spec("", 0).ok());
}

TEST(ResolveOffset, ClampsIntoTheLog) {
  Watermarks marks{10, 20};
  EXPECT_EQ(resolve_offset({Kind::start}, marks, -1), 10);
  EXPECT_EQ(resolve_offset({Kind::end}, marks, -1), 20);
  EXPECT_EQ(resolve_offset({Kind::exact, 15}, marks, -1), 15);
  EXPECT_EQ(resolve_offset({Kind::exact, 5}, marks, -1), 10);
  EXPECT_EQ(resolve_offset({Kind::exact, 25}, marks, -1), 20);
  EXPECT_EQ(resolve_offset({Kind::after_start, 3}, marks, -1), 13);
  EXPECT_EQ(resolve_offset({Kind::before_end, 3}, marks, -1), 17);
  EXPECT_EQ(resolve_offset({Kind::before_end, 30}, marks, -1), 10);
  EXPECT_EQ(resolve_offset({Kind::timestamp, 1}, marks, 12), 12);
  EXPECT_EQ(resolve_offset({Kind::timestamp, 1}, marks, -1), 20);
}

}  // namespace
}  // namespace cairn::client
