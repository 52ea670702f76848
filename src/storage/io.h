// io.h: the one seam through which the storage engine touches files. Everything in
// src/storage reads, writes, syncs, lists and deletes through an `Io` and the `File`s it opens,
// so tests can swap in testing::FaultIo (an in-memory file system that drops unsynced writes,
// fails fsync with EIO, runs out of space) and count the bytes a recovery reads.
//
// Thread safety: an `Io` may be used from any thread. A `File` may be used from several threads
// at once as long as they do not write the same byte range concurrently: the storage engine
// writes a segment from its shard thread while a flusher thread calls sync() on it, which is
// what pwrite(2) and fdatasync(2) allow. Errors are Statuses: EIO -> io_error,
// ENOSPC/EDQUOT -> no_space, ENOENT -> not_found.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"

namespace cairn::storage {

class File {
 public:
  virtual ~File() = default;

  // Reads up to out.size() bytes at `position`; returns how many were read (fewer only at the
  // end of the file).
  virtual Result<size_t> read_at(uint64_t position, std::span<uint8_t> out) = 0;
  // Writes all of `data` at `position` (to the page cache; not durable until sync()). On error
  // an unknown prefix of `data` may have been written.
  virtual Status write_at(uint64_t position, std::span<const uint8_t> data) = 0;
  // fdatasync(2): everything written before the call is durable when it returns ok. A failure
  // leaves the file's durable contents unknown; callers must treat it as fatal for the file.
  virtual Status sync() = 0;
  virtual Result<uint64_t> size_bytes() = 0;
  virtual Status truncate(uint64_t size_bytes) = 0;
  // The OS file descriptor for sendfile(2), or -1 when the file is not a real one (FaultIo).
  virtual int fd() const = 0;
};

enum class OpenMode {
  read_only,
  read_write,         // the file must exist
  create_read_write,  // created empty if missing (parent directory entry not yet durable)
  create_truncate,    // created or emptied
};

class Io {
 public:
  virtual ~Io() = default;
  virtual Result<std::shared_ptr<File>> open(const std::string& path, OpenMode mode) = 0;
  // Names (not paths) of the entries in `dir`, unordered, without "." and "..".
  virtual Result<std::vector<std::string>> list_dir(const std::string& dir) = 0;
  // mkdir -p.
  virtual Status make_dirs(const std::string& dir) = 0;
  virtual Status remove(const std::string& path) = 0;
  // rmdir(2): removes an empty directory.
  virtual Status remove_dir(const std::string& dir) = 0;
  // rename(2): atomic replace of `target`.
  virtual Status rename(const std::string& source, const std::string& target) = 0;
  // fsync(2) on a directory: makes entries created, renamed or removed in it durable.
  virtual Status sync_dir(const std::string& dir) = 0;
  virtual Result<bool> exists(const std::string& path) = 0;
};

// The real thing: POSIX calls, retried on EINTR. One instance for the whole process.
Io& posix_io();

// Maps an errno to a Status with `what` (usually "op path") in the message.
Status errno_status(int err, const std::string& what);

}  // namespace cairn::storage
