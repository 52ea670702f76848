#include "http/router.h"

#include <exception>

#include "base/assert.h"

namespace cairn::http {
namespace {

std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> segments;
  size_t start = 1;  // after the leading '/'
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    segments.emplace_back(path.substr(start, end - start));
    start = end + 1;
  }
  return segments;
}

bool is_parameter(std::string_view segment) {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// "%2F" -> "/"; a malformed escape stays as it is ("%zz"), so decoding never fails.
std::string percent_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); i++) {
    if (text[i] == '%' && i + 2 < text.size()) {
      int high = hex_value(text[i + 1]);
      int low = hex_value(text[i + 2]);
      if (high >= 0 && low >= 0) {
        out += static_cast<char>(high * 16 + low);
        i += 2;
        continue;
      }
    }
    out += text[i];
  }
  return out;
}

}  // namespace

const std::string& Request::param(std::string_view name) const {
  auto found = params.find(name);
  ASSERT(found != params.end());
  return found->second;
}

void Router::add(std::string method, std::string path, Handler handler) {
  ASSERT(path.starts_with('/'));
  ASSERT(handler != nullptr);
  if (path.find('{') == std::string::npos) {
    bool inserted = routes_[std::move(path)].emplace(std::move(method), std::move(handler)).second;
    ASSERT(inserted);
    return;
  }
  std::vector<std::string> segments = split_path(path);
  for (const std::string& segment : segments) {
    // A brace anywhere but around a whole segment is a typo in the route table.
    ASSERT(is_parameter(segment) || segment.find_first_of("{}") == std::string::npos);
  }
  for (Pattern& pattern : patterns_) {
    if (pattern.segments == segments) {
      bool inserted = pattern.methods.emplace(std::move(method), std::move(handler)).second;
      ASSERT(inserted);
      return;
    }
  }
  Pattern pattern{std::move(segments), {}};
  pattern.methods.emplace(std::move(method), std::move(handler));
  patterns_.push_back(std::move(pattern));
}

const Router::Methods* Router::match(
    const std::string& path, std::map<std::string, std::string, std::less<>>& params) const {
  if (auto exact = routes_.find(path); exact != routes_.end()) return &exact->second;
  if (!path.starts_with('/')) return nullptr;
  std::vector<std::string> segments = split_path(path);
  for (const Pattern& pattern : patterns_) {
    if (pattern.segments.size() != segments.size()) continue;
    std::map<std::string, std::string, std::less<>> found;
    bool matches = true;
    for (size_t i = 0; i < segments.size() && matches; i++) {
      const std::string& want = pattern.segments[i];
      if (!is_parameter(want)) {
        matches = want == segments[i];
      } else if (segments[i].empty()) {
        matches = false;
      } else {
        found[want.substr(1, want.size() - 2)] = percent_decode(segments[i]);
      }
    }
    if (matches) {
      params = std::move(found);
      return &pattern.methods;
    }
  }
  return nullptr;
}

Response Router::dispatch(const Request& request) const {
  std::map<std::string, std::string, std::less<>> params;
  const Methods* methods = match(request.path, params);
  if (methods == nullptr) return text_response(404, "not found\n");
  auto route = methods->find(request.method);
  if (route == methods->end()) {
    std::string allow;
    for (const auto& [method, handler] : *methods) {
      allow += (allow.empty() ? "" : ", ") + method;
    }
    Response response = text_response(405, "method not allowed\n");
    response.headers.emplace_back("Allow", allow);
    return response;
  }
  try {
    if (params.empty()) return route->second(request);
    Request with_params = request;
    with_params.params = std::move(params);
    return route->second(with_params);
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
    case 201:
      return "Created";
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
    case 415:
      return "Unsupported Media Type";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "Unknown";
  }
}

}  // namespace cairn::http
