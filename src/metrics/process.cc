#include "metrics/process.h"

#include <sys/resource.h>
#include <unistd.h>

#include <charconv>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace cairn::metrics {
namespace {

std::optional<std::string> read_file(const char* path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::optional<double> boot_time_seconds() {
  std::optional<std::string> stat = read_file("/proc/stat");
  if (!stat) return std::nullopt;
  std::istringstream lines(*stat);
  std::string key;
  while (lines >> key) {
    if (key == "btime") {
      double value = 0;
      if (lines >> value) return value;
      return std::nullopt;
    }
    lines.ignore(1 << 20, '\n');
  }
  return std::nullopt;
}

uint64_t count_open_fds() {
  std::error_code ec;
  uint64_t count = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    count++;
  }
  return count > 0 ? count - 1 : 0;  // the directory iterator's own descriptor
}

}  // namespace

std::optional<ProcessStats> parse_proc_stat(std::string_view text, double ticks_per_second,
                                            double boot_time_seconds, uint64_t page_bytes) {
  // The command name (field 2) is in parentheses and may hold spaces and ')': the fields
  // after it start after the last ')'.
  size_t close = text.rfind(')');
  if (close == std::string_view::npos || ticks_per_second <= 0) return std::nullopt;
  std::istringstream fields{std::string(text.substr(close + 1))};
  std::vector<std::string> values;  // values[0] is field 3 (state)
  std::string value;
  while (fields >> value && values.size() < 24) values.push_back(value);
  if (values.size() < 24) return std::nullopt;
  auto number = [&](int field) -> std::optional<uint64_t> {
    const std::string& s = values[static_cast<size_t>(field - 3)];
    uint64_t out = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
    return out;
  };
  // proc(5): 14 utime, 15 stime, 20 num_threads, 22 starttime, 23 vsize, 24 rss (pages).
  auto utime = number(14), stime = number(15), threads = number(20), start = number(22),
       vsize = number(23), rss = number(24);
  if (!utime || !stime || !threads || !start || !vsize || !rss) return std::nullopt;
  ProcessStats stats;
  stats.cpu_seconds = static_cast<double>(*utime + *stime) / ticks_per_second;
  stats.threads = *threads;
  stats.start_time_seconds = boot_time_seconds + static_cast<double>(*start) / ticks_per_second;
  stats.virtual_bytes = *vsize;
  stats.resident_bytes = *rss * page_bytes;
  return stats;
}

void collect_process(Exposition& out) {
  std::optional<std::string> stat_text = read_file("/proc/self/stat");
  std::optional<double> boot = boot_time_seconds();
  if (!stat_text || !boot) return;
  std::optional<ProcessStats> stats =
      parse_proc_stat(*stat_text, static_cast<double>(sysconf(_SC_CLK_TCK)), *boot,
                      static_cast<uint64_t>(sysconf(_SC_PAGESIZE)));
  if (!stats) return;
  rlimit limit{};
  stats->max_fds = getrlimit(RLIMIT_NOFILE, &limit) == 0 ? limit.rlim_cur : 0;
  stats->open_fds = count_open_fds();
  out.family("process_cpu_seconds_total", "User and system CPU time spent, in seconds",
             Type::counter);
  out.sample("process_cpu_seconds_total", {}, stats->cpu_seconds);
  out.family("process_resident_memory_bytes", "Resident memory size in bytes", Type::gauge);
  out.sample("process_resident_memory_bytes", {}, stats->resident_bytes);
  out.family("process_virtual_memory_bytes", "Virtual memory size in bytes", Type::gauge);
  out.sample("process_virtual_memory_bytes", {}, stats->virtual_bytes);
  out.family("process_start_time_seconds", "Start time of the process since the Unix epoch",
             Type::gauge);
  out.sample("process_start_time_seconds", {}, stats->start_time_seconds);
  out.family("process_open_fds", "Open file descriptors", Type::gauge);
  out.sample("process_open_fds", {}, stats->open_fds);
  out.family("process_max_fds", "Limit on open file descriptors (RLIMIT_NOFILE)", Type::gauge);
  out.sample("process_max_fds", {}, stats->max_fds);
  out.family("process_threads", "Threads of the process", Type::gauge);
  out.sample("process_threads", {}, stats->threads);
}

}  // namespace cairn::metrics
