// DataDirLock: one broker per data directory.
//
// Two brokers on one data directory destroy each other's data (each rewrites the topic
// registry and wipes partitions it believes belong to another incarnation of a topic), so the
// broker takes an exclusive flock(2) on DATA_DIR/.lock before it reads or writes anything else
// there and holds it for the life of the process. The kernel drops the lock when the process
// dies, however it dies, so a kill -9 never leaves a stale lock behind. The file holds the
// holder's pid, for the message the next broker prints.
//
// Main thread; the lock belongs to the process (flock locks the open file description, opened
// with O_CLOEXEC so no child inherits it).
#pragma once

#include <filesystem>
#include <memory>

#include "base/status.h"

namespace cairn::broker {

class DataDirLock {
 public:
  // Creates `data_dir` if missing and locks it. Fails with `fenced` naming the holder's
  // pid when another process holds the lock, touching nothing in the directory.
  static Result<std::unique_ptr<DataDirLock>> acquire(const std::filesystem::path& data_dir);
  ~DataDirLock();
  DataDirLock(const DataDirLock&) = delete;
  DataDirLock& operator=(const DataDirLock&) = delete;

 private:
  explicit DataDirLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace cairn::broker
