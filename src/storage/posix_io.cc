// The POSIX implementation of io.h.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <string>

#include "storage/io.h"

namespace cairn::storage {

Status errno_status(int err, const std::string& what) {
  std::string message = what + ": " + std::strerror(err);
  switch (err) {
    case ENOSPC:
    case EDQUOT:
      return error(StatusCode::no_space, message);
    case ENOENT:
      return error(StatusCode::not_found, message);
    case EEXIST:
      return error(StatusCode::already_exists, message);
    default:
      return error(StatusCode::io_error, message);
  }
}

namespace {

// Holds only its descriptor: a log keeps three files open per partition, and a path copy in
// each would be about 15% of a partition's memory. Error messages look the path up instead.
class PosixFile final : public File {
 public:
  explicit PosixFile(int fd) : fd_(fd) {}
  ~PosixFile() override { ::close(fd_); }

  Result<size_t> read_at(uint64_t position, std::span<uint8_t> out) override {
    size_t done = 0;
    while (done < out.size()) {
      ssize_t n =
          ::pread(fd_, out.data() + done, out.size() - done, static_cast<off_t>(position + done));
      if (n < 0) {
        if (errno == EINTR) continue;
        return failed("pread");
      }
      if (n == 0) break;
      done += static_cast<size_t>(n);
    }
    return done;
  }

  Status write_at(uint64_t position, std::span<const uint8_t> data) override {
    size_t done = 0;
    while (done < data.size()) {
      ssize_t n = ::pwrite(fd_, data.data() + done, data.size() - done,
                           static_cast<off_t>(position + done));
      if (n < 0) {
        if (errno == EINTR) continue;
        return failed("pwrite");
      }
      ASSERT(n > 0);
      done += static_cast<size_t>(n);
    }
    return Status();
  }

  Status sync() override {
    // Never retried after a failure: the kernel may have dropped the dirty pages already.
    if (::fdatasync(fd_) != 0) return failed("fdatasync");
    return Status();
  }

  Result<uint64_t> size_bytes() override {
    struct stat st;
    if (::fstat(fd_, &st) != 0) return failed("fstat");
    return static_cast<uint64_t>(st.st_size);
  }

  Status truncate(uint64_t size_bytes) override {
    if (::ftruncate(fd_, static_cast<off_t>(size_bytes)) != 0) {
      return failed("ftruncate");
    }
    return Status();
  }

  int fd() const override { return fd_; }

 private:
  // The status for the call `op` that just failed, naming the file (read before anything
  // else can change errno).
  Status failed(const char* op) const {
    int err = errno;
    char path[PATH_MAX];
    std::string link = "/proc/self/fd/" + std::to_string(fd_);
    ssize_t n = ::readlink(link.c_str(), path, sizeof(path) - 1);
    std::string name =
        n > 0 ? std::string(path, static_cast<size_t>(n)) : "fd " + std::to_string(fd_);
    return errno_status(err, std::string(op) + " " + name);
  }

  int fd_;
};

class PosixIo final : public Io {
 public:
  Result<std::shared_ptr<File>> open(const std::string& path, OpenMode mode) override {
    int flags = O_CLOEXEC;
    switch (mode) {
      case OpenMode::read_only:
        flags |= O_RDONLY;
        break;
      case OpenMode::read_write:
        flags |= O_RDWR;
        break;
      case OpenMode::create_read_write:
        flags |= O_RDWR | O_CREAT;
        break;
      case OpenMode::create_truncate:
        flags |= O_RDWR | O_CREAT | O_TRUNC;
        break;
    }
    int fd = ::open(path.c_str(), flags, 0644);
    if (fd < 0) return errno_status(errno, "open " + path);
    return std::shared_ptr<File>(std::make_shared<PosixFile>(fd));
  }

  Result<std::vector<std::string>> list_dir(const std::string& dir) override {
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) return errno_status(errno, "opendir " + dir);
    std::vector<std::string> names;
    while (struct dirent* entry = ::readdir(d)) {
      std::string name = entry->d_name;
      if (name != "." && name != "..") names.push_back(std::move(name));
    }
    ::closedir(d);
    return names;
  }

  Status make_dirs(const std::string& dir) override {
    for (size_t i = 1; i <= dir.size(); i++) {
      if (i == dir.size() || dir[i] == '/') {
        std::string prefix = dir.substr(0, i);
        if (::mkdir(prefix.c_str(), 0755) != 0 && errno != EEXIST) {
          return errno_status(errno, "mkdir " + prefix);
        }
      }
    }
    return Status();
  }

  Status remove(const std::string& path) override {
    if (::unlink(path.c_str()) != 0) return errno_status(errno, "unlink " + path);
    return Status();
  }

  Status remove_dir(const std::string& dir) override {
    if (::rmdir(dir.c_str()) != 0) return errno_status(errno, "rmdir " + dir);
    return Status();
  }

  Status rename(const std::string& source, const std::string& target) override {
    if (::rename(source.c_str(), target.c_str()) != 0) {
      return errno_status(errno, "rename " + source);
    }
    return Status();
  }

  Status sync_dir(const std::string& dir) override {
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return errno_status(errno, "open dir " + dir);
    int rc = ::fsync(fd);
    int err = errno;
    ::close(fd);
    if (rc != 0) return errno_status(err, "fsync dir " + dir);
    return Status();
  }

  Result<bool> exists(const std::string& path) override {
    struct stat st;
    if (::stat(path.c_str(), &st) == 0) return true;
    if (errno == ENOENT) return false;
    return errno_status(errno, "stat " + path);
  }
};

}  // namespace

Io& posix_io() {
  static PosixIo io;
  return io;
}

}  // namespace cairn::storage
