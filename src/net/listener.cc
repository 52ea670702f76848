#include "net/listener.h"

#include <charconv>

#include <spdlog/spdlog.h>

#include "base/assert.h"
#include "net/connection_quota.h"
#include "net/tls.h"

namespace cairn::net {

Result<HostPort> parse_host_port(const std::string& text) {
  size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon + 1 == text.size()) {
    return error(StatusCode::invalid_argument, "expected HOST:PORT, got '" + text + "'");
  }
  std::string host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host.empty()) return error(StatusCode::invalid_argument, "empty host in '" + text + "'");
  uint32_t port = 0;
  const char* first = text.data() + colon + 1;
  const char* last = text.data() + text.size();
  auto [end, ec] = std::from_chars(first, last, port);
  if (ec != std::errc() || end != last || port > 65535) {
    return error(StatusCode::invalid_argument, "bad port in '" + text + "'");
  }
  return HostPort{host, static_cast<uint16_t>(port)};
}

Listener::Listener(ShardSet& shards, ConnectionLimits limits, SessionFactory factory,
                   ListenerOptions options)
    : shards_(shards),
      limits_(limits),
      factory_(std::move(factory)),
      options_(std::move(options)),
      acceptor_(shards.context(ShardId(0))) {
  for (uint32_t i = 0; i < shards.count(); i++) {
    registries_.push_back(std::make_unique<ConnectionRegistry>());
  }
}

Listener::~Listener() = default;

Result<std::unique_ptr<Listener>> Listener::bind(ShardSet& shards, const HostPort& address,
                                                 ConnectionLimits limits, SessionFactory factory,
                                                 ListenerOptions options) {
  std::unique_ptr<Listener> listener(
      new Listener(shards, limits, std::move(factory), std::move(options)));
  asio::error_code ec;
  asio::ip::tcp::resolver resolver(shards.context(ShardId(0)));
  auto results = resolver.resolve(address.host, std::to_string(address.port),
                                  asio::ip::tcp::resolver::passive, ec);
  if (ec || results.empty()) {
    return error(StatusCode::invalid_argument,
                 "cannot resolve '" + address.host + "': " + ec.message());
  }
  asio::ip::tcp::endpoint endpoint = results.begin()->endpoint();
  asio::ip::tcp::acceptor& acceptor = listener->acceptor_;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (!ec) listener->local_endpoint_ = acceptor.local_endpoint(ec);
  if (ec) {
    return error(StatusCode::io_error, "cannot listen on " + endpoint.address().to_string() + ":" +
                                           std::to_string(address.port) + ": " + ec.message());
  }
  return listener;
}

void Listener::start() {
  asio::co_spawn(shards_.executor(ShardId(0)), accept_loop(this), asio::detached);
}

void Listener::stop() {
  if (stopping_.exchange(true)) return;
  asio::post(shards_.executor(ShardId(0)), [this] {
    asio::error_code ec;
    acceptor_.close(ec);
  });
  for (uint32_t i = 0; i < shards_.count(); i++) {
    shards_.post(ShardId(i), [registry = registries_[i].get()] { registry->close_all(); });
  }
}

asio::awaitable<void> Listener::accept_loop(Listener* self) {
  uint32_t next = 0;
  asio::steady_timer backoff(self->shards_.executor(ShardId(0)));
  while (!self->stopping_.load()) {
    ShardId target(next);
    next = (next + 1) % self->shards_.count();
    asio::error_code ec;
    asio::ip::tcp::socket socket = co_await self->acceptor_.async_accept(
        self->shards_.context(target), asio::redirect_error(asio::use_awaitable, ec));
    if (ec == asio::error::operation_aborted || !self->acceptor_.is_open()) break;
    if (ec) {
      // Out of file descriptors or similar: don't spin; existing connections keep working.
      spdlog::warn("accept failed: {}", ec.message());
      backoff.expires_after(std::chrono::milliseconds(100));
      co_await backoff.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      continue;
    }
    std::shared_ptr<void> slot;
    if (self->options_.quota != nullptr) {
      asio::ip::tcp::endpoint peer = socket.remote_endpoint(ec);
      if (!ec) slot = self->options_.quota->try_acquire(peer.address());
      if (slot == nullptr) {  // over max.connections(.per.ip), or the peer is gone: close now
        spdlog::debug("refusing a connection from {}: connection limit",
                      ec ? std::string("?") : peer.address().to_string());
        continue;
      }
    }
    self->shards_.post(target,
                       [self, target, s = std::move(socket), slot = std::move(slot)]() mutable {
                         self->adopt(target, std::move(s), std::move(slot));
                       });
  }
}

void Listener::adopt(ShardId shard, asio::ip::tcp::socket socket, std::shared_ptr<void> slot) {
  ASSERT(ShardSet::current() == shard);
  if (stopping_.load()) return;  // the socket closes as it goes out of scope
  asio::error_code ec;
  ConnectionInfo info;
  info.id = next_connection_id_.fetch_add(1);
  info.shard = shard;
  info.listener = options_.index;
  info.peer = socket.remote_endpoint(ec);
  if (!ec) info.local = socket.local_endpoint(ec);
  if (!ec) socket.set_option(asio::ip::tcp::no_delay(true), ec);
  if (ec) return;  // the peer is already gone
  spdlog::debug("connection {} from {}:{} on shard {}", info.id, info.peer.address().to_string(),
                info.peer.port(), shard.value());
  std::shared_ptr<asio::ssl::context> tls;
  if (options_.tls != nullptr) tls = options_.tls->current();
  auto connection = Connection::create(std::move(socket), info, limits_, &factory_,
                                       registries_[shard.value()].get(), std::move(tls));
  connection->hold(std::move(slot));
  connection->start();
}

}  // namespace cairn::net
