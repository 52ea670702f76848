#include "http/router.h"

#include <exception>

#include "base/assert.h"

namespace cairn::http {

void Router::add(std::string method, std::string path, Handler handler) {
  ASSERT(path.starts_with('/'));
  ASSERT(handler != nullptr);
  bool inserted = routes_[std::move(path)].emplace(std::move(method), std::move(handler)).second;
  ASSERT(inserted);
}

Response Router::dispatch(const Request& request) const {
  auto path = routes_.find(request.path);
  if (path == routes_.end()) return text_response(404, "not found\n");
  auto route = path->second.find(request.method);
  if (route == path->second.end()) {
    std::string allow;
    for (const auto& [method, handler] : path->second) {
      allow += (allow.empty() ? "" : ", ") + method;
    }
    Response response = text_response(405, "method not allowed\n");
    response.headers.emplace_back("Allow", allow);
    return response;
  }
  try {
    return route->second(request);
  } catch (const std::exception& e) {
    return text_response(500, std::string("internal error: ") + e.what() + "\n");
  }
}

Response text_response(int status, std::string body) {
  Response response;
  response.status = status;
  response.body = std::move(body);
  return response;
}

std::string_view reason_phrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 204:
      return "No Content";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 409:
      return "Conflict";
    case 413:
      return "Payload Too Large";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    default:
      return "Unknown";
  }
}

}  // namespace cairn::http
