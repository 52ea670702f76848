// Listener: accepts TCP connections on one address and spreads them over the shards.
//
// The acceptor runs on shard 0; each accepted socket is created directly on the next shard
// (round-robin) and adopted there: the SessionFactory is called on that shard and the
// Connection lives there for good.
//
// Lifecycle: bind() (synchronous, so "address in use" surfaces at startup), start(), stop().
// stop() may be called from any thread: it closes the acceptor and every connection (each on
// its own shard) and returns at once. Destroy the Listener only after the ShardSet has joined.
#pragma once

#include <asio.hpp>
#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "net/connection.h"
#include "net/shard_set.h"

namespace cairn::net {

class TlsContextSource;  // net/tls.h
class ConnectionQuota;   // net/connection_quota.h

struct HostPort {
  std::string host;
  uint16_t port = 0;
};
// Parses "HOST:PORT", "[IPV6]:PORT"; the port must be 0..65535.
Result<HostPort> parse_host_port(const std::string& text);

struct ListenerOptions {
  uint32_t index = 0;                      // given to each connection as ConnectionInfo::listener
  std::shared_ptr<TlsContextSource> tls;   // null: plaintext; else each connection runs TLS
  std::shared_ptr<ConnectionQuota> quota;  // null: no connection caps; shared by listeners
};

class Listener {
 public:
  // Binds `address` (port 0 picks a free port: see local_endpoint()).
  static Result<std::unique_ptr<Listener>> bind(ShardSet& shards, const HostPort& address,
                                                ConnectionLimits limits, SessionFactory factory,
                                                ListenerOptions options = {});
  ~Listener();
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  asio::ip::tcp::endpoint local_endpoint() const { return local_endpoint_; }
  void start();
  void stop();

 private:
  Listener(ShardSet& shards, ConnectionLimits limits, SessionFactory factory,
           ListenerOptions options);
  static asio::awaitable<void> accept_loop(Listener* self);
  // `slot`: the connection's max.connections slot (null without a quota), held for its life.
  void adopt(ShardId shard, asio::ip::tcp::socket socket, std::shared_ptr<void> slot);

  ShardSet& shards_;
  ConnectionLimits limits_;
  SessionFactory factory_;
  ListenerOptions options_;
  asio::ip::tcp::acceptor acceptor_;
  asio::ip::tcp::endpoint local_endpoint_;
  std::vector<std::unique_ptr<ConnectionRegistry>> registries_;  // one per shard
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> next_connection_id_{1};
};

}  // namespace cairn::net
