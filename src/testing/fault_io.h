// FaultIo: an in-memory storage::Io for crash and fault tests, in the spirit of LevelDB's
// fault_injection_test Env. Each file keeps two contents: what the page cache holds now and
// what is durable (as of its last successful sync()). A new directory entry is durable only
// after sync_dir() on its parent; removals and renames are durable at once (a simplification
// documented in docs/format/log.md).
//
// Faults:
//   power_loss()       every file falls back to its durable contents — optionally keeping a
//                      random prefix of the unsynced tail in which a 4 KiB page may read as
//                      zeros (torn writes, page-granular as on a real disk) — non-durable
//                      entries vanish, and every open File handle goes dead (io_error), as if
//                      the process died with the machine. Bit rot is corrupt()'s job.
//   fail_syncs_after() the n-th next sync() (file or directory) and all after it fail with
//                      io_error, and nothing more becomes durable (fsyncgate).
//   set_capacity_bytes() writes that would grow the total past it write what fits and fail
//                      with no_space; raising it again lets them through.
// Counters: bytes read and syncs, to prove what a recovery touched.
//
// Thread safety: every method may be called from any thread (one mutex).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "storage/io.h"

namespace cairn::testing {

class FaultIo final : public storage::Io {
 public:
  FaultIo();
  ~FaultIo() override;

  Result<std::shared_ptr<storage::File>> open(const std::string& path,
                                              storage::OpenMode mode) override;
  Result<std::vector<std::string>> list_dir(const std::string& dir) override;
  Status make_dirs(const std::string& dir) override;
  Status remove(const std::string& path) override;
  Status remove_dir(const std::string& dir) override;
  Status rename(const std::string& source, const std::string& target) override;
  Status sync_dir(const std::string& dir) override;
  Result<bool> exists(const std::string& path) override;

  // Faults.
  void power_loss(uint64_t seed, bool torn);
  void fail_syncs_after(int64_t successful_syncs_left);
  void clear_sync_failure();
  void set_capacity_bytes(uint64_t capacity_bytes);
  uint64_t used_bytes();

  // Inspection and damage for tests.
  uint64_t bytes_read();
  uint64_t sync_count();
  void reset_counters();
  std::vector<uint8_t> contents(const std::string& path);
  // Overwrites bytes of the current and durable contents alike (bit rot on the platter).
  void corrupt(const std::string& path, uint64_t position, uint8_t xor_mask);
  void set_contents(const std::string& path, const std::vector<uint8_t>& bytes);

  struct Node;
  struct State;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace cairn::testing
