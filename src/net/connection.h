// Connection: one accepted TCP socket on one shard, carrying size-prefixed frames.
//
// Request path inside a connection:
//
//   socket -> read loop -> FrameAssembler -> [in-flight queue] -> write loop -> socket
//                              |                  ^
//                              +-> Session::handle (one coroutine per request) fills its slot
//
// - The read loop hands frames to the session one at a time, in arrival order: the next frame
//   is handed over once the previous request's OrderingToken is released (by the handler, or
//   when the handler returns). Handlers that released their token run concurrently.
// - Every request gets a slot in the in-flight queue when it is handed over; the write loop
//   writes replies strictly in slot order, however the handlers finish. A `none` reply
//   (acks=0) is skipped; a `close` reply closes the connection after earlier replies.
// - The queue is bounded (ConnectionLimits::in_flight_max): when it is full the read loop stops
//   reading, and TCP flow control pushes back on the client.
// - A bad frame size closes the connection once the replies to earlier requests are written.
//   An idle connection (nothing read or written and no handler running for idle_timeout) is
//   closed. Once a handler answers `close` (or a reply with close_after), no request read after
//   it is handed to the session (a failed login must not let pipelined frames through).
// - TLS: with a TLS context the connection first runs the server handshake, bounded by
//   ConnectionLimits::handshake_timeout; a failed or slow handshake closes only this
//   connection. The session is created once the transport is ready (at once without TLS), so
//   it knows the peer's identity (PeerIdentity) before its first request. Over TLS, file ranges
//   are read into a bounded buffer and written through the TLS stream instead of sendfile();
//   the plaintext path is a branch per write, nothing more.
//
// Threading: a Connection and everything in it belong to its shard; all members are called on
// that shard's thread except OrderingToken::release (any thread). Coroutines hold a shared_ptr
// to the Connection, so it lives until the last of them ends.
#pragma once

#include <asio.hpp>
#include <asio/ssl.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <unordered_map>
#include <vector>

#include "net/frame.h"
#include "net/shard_set.h"
#include "net/tls_settings.h"
#include "net/wakeup.h"

namespace cairn::net {

class Connection;
class ConnectionRegistry;

struct ConnectionInfo {
  uint64_t id = 0;
  ShardId shard;
  asio::ip::tcp::endpoint peer;
  asio::ip::tcp::endpoint local;
  uint32_t listener = 0;  // the listener's index, as its owner numbered them
  bool tls = false;
};

namespace detail {
struct Gate {
  asio::any_io_executor executor;
  std::weak_ptr<Connection> connection;
  uint64_t sequence = 0;
};
}  // namespace detail

// Held by a handler while the connection must not hand the session its next request. Release
// it at the request's ordering point (e.g. once a produce's appends are queued on their
// partitions) to let later requests start while this one still waits (e.g. for fsync).
// Destruction releases it. Movable, not copyable; release() may be called from any thread.
class OrderingToken {
 public:
  OrderingToken() = default;
  explicit OrderingToken(std::shared_ptr<detail::Gate> gate) : gate_(std::move(gate)) {}
  OrderingToken(OrderingToken&& other) noexcept = default;
  OrderingToken& operator=(OrderingToken&& other) noexcept {
    if (this != &other) {
      release();
      gate_ = std::move(other.gate_);
    }
    return *this;
  }
  OrderingToken(const OrderingToken&) = delete;
  OrderingToken& operator=(const OrderingToken&) = delete;
  ~OrderingToken() { release(); }

  void release();
  bool held() const { return gate_ != nullptr; }

 private:
  std::shared_ptr<detail::Gate> gate_;
};

struct InboundRequest {
  std::vector<uint8_t> frame;  // without the size prefix; never empty
  OrderingToken ordering;
};

// The protocol side of a connection (the broker's Kafka session). Created per connection by a
// SessionFactory on the connection's shard; destroyed with the connection.
class Session {
 public:
  virtual ~Session() = default;
  // Runs on the connection's shard. Must not throw (an escaping exception closes the
  // connection and is logged as a bug).
  virtual asio::awaitable<Reply> handle(InboundRequest request) = 0;
  // The largest frame the session takes now, below ConnectionLimits::frame_bytes_max (before
  // a SASL login: a small cap). Read before each read from the socket.
  virtual uint32_t frame_bytes_max() const { return UINT32_MAX; }
};

// Called on the connection's shard (possibly on several shards at once) once the transport is
// ready. Returning null refuses the peer: the connection closes before reading a request.
using SessionFactory =
    std::function<std::unique_ptr<Session>(const ConnectionInfo& info, const PeerIdentity& peer)>;

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  // REQUIRES: `socket` belongs to the calling shard's io_context; `factory` and `registry`
  // (may be null) outlive the connection's coroutines, and `registry` belongs to the same
  // shard. `tls` null: plaintext.
  static std::shared_ptr<Connection> create(asio::ip::tcp::socket socket, ConnectionInfo info,
                                            ConnectionLimits limits, const SessionFactory* factory,
                                            ConnectionRegistry* registry,
                                            std::shared_ptr<asio::ssl::context> tls);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Starts the TLS handshake if any, then the read, write and idle loops.
  void start();
  // Closes the socket now; replies not yet written are dropped. Idempotent.
  void close();
  bool closed() const { return closed_; }
  const ConnectionInfo& info() const { return info_; }
  // Keeps `resource` alive until the connection closes (e.g. its max.connections slot).
  void hold(std::shared_ptr<void> resource) { held_ = std::move(resource); }

 private:
  struct Slot {
    bool done = false;
    Reply reply;
  };
  using Clock = std::chrono::steady_clock;

  using TlsStream = asio::ssl::stream<asio::ip::tcp::socket&>;

  Connection(asio::ip::tcp::socket socket, ConnectionInfo info, ConnectionLimits limits,
             const SessionFactory* factory, ConnectionRegistry* registry,
             std::shared_ptr<asio::ssl::context> tls);

  static asio::awaitable<void> handshake(std::shared_ptr<Connection> self);
  static asio::awaitable<void> handshake_watchdog(std::shared_ptr<Connection> self);
  // Creates the session and starts the loops; false (and closed) when the factory refused.
  bool open_session(const PeerIdentity& peer);
  static asio::awaitable<bool> write_tls(std::shared_ptr<Connection> self,
                                         std::vector<asio::const_buffer> buffers);
  static asio::awaitable<bool> send_file_tls(std::shared_ptr<Connection> self, FileSlice slice);

  static asio::awaitable<void> read_loop(std::shared_ptr<Connection> self);
  static asio::awaitable<void> write_loop(std::shared_ptr<Connection> self);
  static asio::awaitable<void> idle_loop(std::shared_ptr<Connection> self);
  static asio::awaitable<void> run_request(std::shared_ptr<Connection> self,
                                           std::shared_ptr<Slot> slot, InboundRequest request);
  static asio::awaitable<bool> write_ready(std::shared_ptr<Connection> self);
  static asio::awaitable<bool> write_spliced(std::shared_ptr<Connection> self,
                                             std::shared_ptr<Slot> slot);
  static asio::awaitable<bool> send_file(std::shared_ptr<Connection> self, FileSlice slice);

  bool can_dispatch() const {
    return gate_open_ && !closing_ && in_flight_.size() < limits_.in_flight_max;
  }
  bool head_ready() const { return !in_flight_.empty() && in_flight_.front()->done; }
  void dispatch(std::vector<uint8_t> frame);
  void pop_written();
  void finish_reading();
  void on_gate_released(uint64_t sequence);
  friend class OrderingToken;

  std::shared_ptr<void> held_;  // see hold(); reset by close()
  asio::ip::tcp::socket socket_;
  ConnectionInfo info_;
  ConnectionLimits limits_;
  const SessionFactory* factory_;
  std::unique_ptr<Session> session_;  // null until the transport is ready
  ConnectionRegistry* registry_;
  // TLS only: the context this connection started from (a reload does not touch it), the
  // stream over socket_, and the buffers file ranges and small writes go through.
  std::shared_ptr<asio::ssl::context> tls_context_;
  std::unique_ptr<TlsStream> tls_;
  std::vector<uint8_t> tls_buffer_;
  bool handshake_done_ = false;
  asio::steady_timer handshake_timer_;

  std::deque<std::shared_ptr<Slot>> in_flight_;  // request order; front is written next
  bool gate_open_ = true;                        // the last handed-over request released order
  uint64_t gate_sequence_ = 0;
  uint32_t handlers_running_ = 0;  // requests whose handler has not returned
  bool read_done_ = false;         // no more requests will be read; close once in_flight_ drains
  bool closing_ = false;  // a reply ends the connection: no later request reaches the session
  bool closed_ = false;
  Wakeup reader_wakeup_;
  Wakeup writer_wakeup_;
  asio::steady_timer idle_timer_;
  Clock::time_point last_activity_;
};

// The open connections of one shard, so shutdown can close them. Shard-local.
class ConnectionRegistry {
 public:
  void add(const std::shared_ptr<Connection>& connection);
  void remove(uint64_t id) { connections_.erase(id); }
  void close_all();
  size_t size() const { return connections_.size(); }

 private:
  std::unordered_map<uint64_t, std::weak_ptr<Connection>> connections_;
};

}  // namespace cairn::net
