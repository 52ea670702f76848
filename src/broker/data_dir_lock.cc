#include "broker/data_dir_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <system_error>

namespace cairn::broker {
namespace {

constexpr const char* kLockFileName = ".lock";

std::string os_error(const std::string& what, int error_number) {
  return what + ": " + std::strerror(error_number);
}

// The pid the holder wrote, or "" when the file is empty or unreadable (the holder may be
// between its flock and its write).
std::string read_holder(int fd) {
  char buffer[32] = {};
  ssize_t got = ::pread(fd, buffer, sizeof(buffer) - 1, 0);
  if (got <= 0) return "";
  std::string text(buffer, static_cast<size_t>(got));
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

}  // namespace

Result<std::unique_ptr<DataDirLock>> DataDirLock::acquire(const std::filesystem::path& data_dir) {
  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  if (ec) {
    return error(StatusCode::io_error,
                 "cannot create data directory " + data_dir.string() + ": " + ec.message());
  }
  std::string path = (data_dir / kLockFileName).string();
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return error(StatusCode::io_error, os_error("cannot open " + path, errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int lock_errno = errno;
    std::string holder = lock_errno == EWOULDBLOCK ? read_holder(fd) : "";
    ::close(fd);
    if (lock_errno != EWOULDBLOCK) {
      return error(StatusCode::io_error, os_error("cannot lock " + path, lock_errno));
    }
    return error(StatusCode::fenced,
                 "data directory " + data_dir.string() + " is in use by another broker" +
                     (holder.empty() ? "" : " (pid " + holder + ")") +
                     "; one broker per data directory (" + path + " is locked)");
  }
  std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 ||
      ::pwrite(fd, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
    int write_errno = errno;
    ::close(fd);
    return error(StatusCode::io_error, os_error("cannot write " + path, write_errno));
  }
  return std::unique_ptr<DataDirLock>(new DataDirLock(fd));
}

DataDirLock::~DataDirLock() { ::close(fd_); }

}  // namespace cairn::broker
