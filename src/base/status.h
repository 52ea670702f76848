// Status and Result<T>: how fallible operations report failure on the data path.
//
// No exceptions on the data path. A Status is either ok or an error code from a closed set
// plus a human message; Result<T> is a T or a non-ok Status. Kafka error codes are mapped from
// these only at the wire edge (one mapping function per boundary). Values, no shared state:
// safe to move between threads.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>

#include "base/assert.h"

namespace cairn {

enum class StatusCode : int {
  ok = 0,
  invalid_argument,   // the caller passed something malformed
  corrupt,            // bytes failed validation (CRC, length, magic)
  not_found,          // no such topic, partition, file, key
  out_of_range,       // offset or index outside what exists
  too_large,          // over a configured limit
  already_exists,
  io_error,           // the OS said EIO or similar; fatal for the object that saw it
  no_space,           // ENOSPC; retryable once space returns
  fenced,             // the object refuses service (e.g. corrupt mid-log data)
  unsupported,        // a feature or version this build does not implement
  timed_out,
  shutting_down,
  internal,           // a bug or an unexpected state
};

const char* status_code_name(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status ok_status() { return Status(); }

  bool ok() const { return code_ == StatusCode::ok; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  std::string to_string() const;

 private:
  StatusCode code_ = StatusCode::ok;
  std::string message_;
};

inline Status error(StatusCode code, std::string message) {
  ASSERT(code != StatusCode::ok);
  return Status(code, std::move(message));
}

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {  // NOLINT: implicit by design
    ASSERT(!status_.ok());
  }

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }

  T& value() & {
    ASSERT(ok());
    return *value_;
  }
  const T& value() const& {
    ASSERT(ok());
    return *value_;
  }
  T&& value() && {
    ASSERT(ok());
    return std::move(*value_);
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace cairn

// RETURN_IF_ERROR(expr): evaluate a Status expression; return it from the caller if not ok.
#define RETURN_IF_ERROR(expr)            \
  do {                                   \
    ::cairn::Status status_ = (expr);    \
    if (!status_.ok()) return status_;   \
  } while (0)
