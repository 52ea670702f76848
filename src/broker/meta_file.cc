#include "broker/meta_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace cairn::broker {
namespace {

Status errno_status(const std::string& what, const std::filesystem::path& path) {
  int e = errno;
  StatusCode code = e == ENOSPC ? StatusCode::no_space : StatusCode::io_error;
  return error(code, what + " " + path.string() + ": " + std::strerror(e));
}

Status fsync_directory(const std::filesystem::path& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return errno_status("open directory", dir);
  int rc = ::fsync(fd);
  Status status = rc == 0 ? Status::ok_status() : errno_status("fsync directory", dir);
  ::close(fd);
  return status;
}

}  // namespace

Result<std::optional<std::string>> read_meta_file(const std::filesystem::path& path,
                                                  size_t bytes_max) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return std::optional<std::string>();
    return errno_status("open", path);
  }
  std::string contents;
  char buffer[4096];
  while (true) {
    ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      Status status = errno_status("read", path);
      ::close(fd);
      return status;
    }
    if (n == 0) break;
    contents.append(buffer, static_cast<size_t>(n));
    if (contents.size() > bytes_max) {
      ::close(fd);
      return error(StatusCode::too_large,
                   path.string() + " is larger than " + std::to_string(bytes_max) + " bytes");
    }
  }
  ::close(fd);
  return std::optional<std::string>(std::move(contents));
}

Status write_meta_file(const std::filesystem::path& path, std::string_view contents) {
  std::filesystem::path dir = path.parent_path();
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return error(StatusCode::io_error, "create " + dir.string() + ": " + ec.message());
  std::filesystem::path temporary = path;
  temporary += ".tmp";
  int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return errno_status("create", temporary);
  size_t written = 0;
  while (written < contents.size()) {
    ssize_t n = ::write(fd, contents.data() + written, contents.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      Status status = errno_status("write", temporary);
      ::close(fd);
      return status;
    }
    written += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    Status status = errno_status("fsync", temporary);
    ::close(fd);
    return status;
  }
  ::close(fd);
  if (::rename(temporary.c_str(), path.c_str()) != 0) return errno_status("rename", temporary);
  return fsync_directory(dir);
}

}  // namespace cairn::broker
