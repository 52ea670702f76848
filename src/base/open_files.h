// The process's open file descriptors against its open files limit (RLIMIT_NOFILE), Linux.
// A broker holds a few files per partition (storage::Log: the segment, offset index and time
// index of each segment) besides its sockets and event loop descriptors; these let it admit
// partitions and open logs only while enough descriptors are left for the rest.
//
//   uint64_t limit = open_files::raise_limit();  // at startup: soft limit up to the hard one
//   if (open_files::in_use() + needed + reserve > open_files::limit()) refuse();
//
// Any thread. in_use() reads /proc/self/fd: its cost grows with the descriptors open.
#pragma once

#include <cstdint>

namespace cairn::open_files {

// The soft limit (UINT64_MAX when unlimited).
uint64_t limit();
// The hard limit (UINT64_MAX when unlimited).
uint64_t hard_limit();
// Raises the soft limit to the hard one (at most to what the kernel's fs.nr_open allows);
// returns the soft limit in force afterwards.
uint64_t raise_limit();
// Descriptors open now (entries of /proc/self/fd), or 0 if it cannot be read.
uint64_t in_use();

}  // namespace cairn::open_files
