// Server: the admin HTTP/1.1 server (RESTinio 0.6 on standalone asio) that serves a Router on
// its own threads — its own asio::io_context, never a broker shard's loop, so a slow scrape or
// a hostile HTTP client cannot delay a Kafka request. HTTP parsing, keep-alive, timeouts and
// malformed requests (answered 400 or closed) are RESTinio's; routing is ours (router.h).
//
// Lifecycle: start() binds and runs; the port is bound when it returns (port 0 picks a free
// one, see port()). stop() closes the listener and every connection and joins the threads;
// idempotent, also run by the destructor. Call start/stop/port from one controlling thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "base/status.h"
#include "http/router.h"

namespace cairn::http {

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 9644;
  size_t thread_count = 2;      // a scrape waiting for the shards leaves one for probes
  size_t connections_max = 64;  // more wait in the accept queue
  size_t body_bytes_max = 1 << 20;
  size_t headers_max = 100;  // header fields per request
  size_t url_bytes_max = 8192;
};

class Server {
 public:
  // The bound server, or invalid_argument (bad host) / io_error (the port is taken).
  static Result<std::unique_ptr<Server>> start(ServerOptions options,
                                               std::shared_ptr<const Router> router);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  uint16_t port() const;
  const std::string& host() const;
  void stop();

  struct Impl;

 private:
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace cairn::http
