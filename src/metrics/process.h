// The process's own resource use, read from /proc/self at scrape time, under the names every
// Prometheus client library uses (process_cpu_seconds_total, process_resident_memory_bytes,
// ...), so existing dashboards find them. Linux only; a file that cannot be read leaves its
// families out. Any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "metrics/exposition.h"

namespace cairn::metrics {

struct ProcessStats {
  double cpu_seconds = 0;  // user + system
  uint64_t resident_bytes = 0;
  uint64_t virtual_bytes = 0;
  double start_time_seconds = 0;  // since the Unix epoch
  uint64_t open_fds = 0;
  uint64_t max_fds = 0;
  uint64_t threads = 0;
};

// Parses the text of /proc/<pid>/stat. `ticks_per_second`: sysconf(_SC_CLK_TCK);
// `boot_time_seconds`: btime of /proc/stat. nullopt if the text does not parse.
std::optional<ProcessStats> parse_proc_stat(std::string_view text, double ticks_per_second,
                                            double boot_time_seconds, uint64_t page_bytes);

// Writes the process_* families for the calling process.
void collect_process(Exposition& out);

}  // namespace cairn::metrics
