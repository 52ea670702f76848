// Router: which handler answers an HTTP request, by method and path. A route's path is exact
// ("/v1/topics") or has parameter segments ("/v1/topics/{topic}/configs"): a `{name}` segment
// matches one non-empty segment, which the handler finds percent-decoded in
// Request::params["name"]. An exact route wins over a pattern; among patterns, the first added
// that matches. A path that no route has is 404; a known path with another method is 405 with
// an Allow header. Pure (no sockets), so it is tested without a server.
//
// Thread safety: build it on one thread, then hand it to the Server; dispatch() is const and
// may run on several HTTP threads at once, so handlers must be thread-safe. Handlers run on
// the HTTP server's threads, never on a broker shard: they may block briefly (a scrape waits
// for the shards' answers), never for long.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cairn::http {

struct Request {
  std::string method;  // "GET", "POST", ... as sent
  std::string path;    // without the query string
  std::string query;   // after '?', undecoded
  std::string body;
  std::string content_type;  // the Content-Type header as sent; "" when absent
  // The route's `{name}` segments, percent-decoded (set by Router::dispatch).
  std::map<std::string, std::string, std::less<>> params;

  // The parameter `name`; REQUIRES: the route has it.
  const std::string& param(std::string_view name) const;
};

struct Response {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // beyond Content-Type
};

using Handler = std::function<Response(const Request&)>;

class Router {
 public:
  // REQUIRES: no route yet for (method, path); path starts with '/'; a `{name}` segment is
  // the whole segment.
  void add(std::string method, std::string path, Handler handler);
  void get(std::string path, Handler handler) { add("GET", std::move(path), std::move(handler)); }

  // The handler's response; 404 / 405 (with Allow) when no route matches; 500 when the
  // handler throws (a bug, or out of memory), so a bad request never ends the process.
  Response dispatch(const Request& request) const;

 private:
  using Methods = std::map<std::string, Handler>;
  struct Pattern {
    std::vector<std::string> segments;  // "{name}" for a parameter
    Methods methods;
  };
  // The methods of the route `path` matches, with its parameters filled in; null if none.
  const Methods* match(const std::string& path,
                       std::map<std::string, std::string, std::less<>>& params) const;

  std::map<std::string, Methods, std::less<>> routes_;  // exact path -> method -> handler
  std::vector<Pattern> patterns_;                       // in the order added
};

// A small JSON object body {"status": ..., "reason": ...}-style is built by the caller with
// json.h; these are the plain error answers.
Response text_response(int status, std::string body);
// The reason phrase of the status codes this library answers with ("Not Found").
std::string_view reason_phrase(int status);

}  // namespace cairn::http
