#include "base/status.h"

namespace cairn {

const char* status_code_name(StatusCode code) {
  switch (code) {
    case StatusCode::ok: return "ok";
    case StatusCode::invalid_argument: return "invalid_argument";
    case StatusCode::corrupt: return "corrupt";
    case StatusCode::not_found: return "not_found";
    case StatusCode::out_of_range: return "out_of_range";
    case StatusCode::too_large: return "too_large";
    case StatusCode::already_exists: return "already_exists";
    case StatusCode::io_error: return "io_error";
    case StatusCode::no_space: return "no_space";
    case StatusCode::fenced: return "fenced";
    case StatusCode::unsupported: return "unsupported";
    case StatusCode::timed_out: return "timed_out";
    case StatusCode::shutting_down: return "shutting_down";
    case StatusCode::internal: return "internal";
  }
  return "unknown";
}

std::string Status::to_string() const {
  if (ok()) return "ok";
  return std::string(status_code_name(code_)) + ": " + message_;
}

}  // namespace cairn
