#include "base/open_files.h"

#include <dirent.h>
#include <sys/resource.h>

#include <cstdio>
#include <limits>

namespace cairn::open_files {
namespace {

uint64_t as_count(rlim_t value) {
  return value == RLIM_INFINITY ? std::numeric_limits<uint64_t>::max() : uint64_t{value};
}

// fs.nr_open: the most a soft or hard limit may be (0 if unknown).
uint64_t kernel_max() {
  std::FILE* file = std::fopen("/proc/sys/fs/nr_open", "re");
  if (file == nullptr) return 0;
  unsigned long long value = 0;
  bool read = std::fscanf(file, "%llu", &value) == 1;
  std::fclose(file);
  return read ? value : 0;
}

}  // namespace

uint64_t limit() {
  rlimit current{};
  if (::getrlimit(RLIMIT_NOFILE, &current) != 0) return 1024;
  return as_count(current.rlim_cur);
}

uint64_t hard_limit() {
  rlimit current{};
  if (::getrlimit(RLIMIT_NOFILE, &current) != 0) return 1024;
  return as_count(current.rlim_max);
}

uint64_t raise_limit() {
  rlimit current{};
  if (::getrlimit(RLIMIT_NOFILE, &current) != 0) return 1024;
  rlimit wanted = current;
  wanted.rlim_cur = current.rlim_max;
  uint64_t most = kernel_max();
  if (wanted.rlim_cur == RLIM_INFINITY && most > 0) wanted.rlim_cur = most;
  if (wanted.rlim_cur != current.rlim_cur) ::setrlimit(RLIMIT_NOFILE, &wanted);
  return limit();
}

uint64_t in_use() {
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return 0;
  uint64_t count = 0;
  while (dirent* entry = ::readdir(dir)) {
    if (entry->d_name[0] != '.') count++;
  }
  ::closedir(dir);
  return count > 0 ? count - 1 : 0;  // not the descriptor of the listing itself
}

}  // namespace cairn::open_files
