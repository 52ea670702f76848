#include "net/connection.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

#include <spdlog/spdlog.h>

#include "base/assert.h"
#include "net/frame_assembler.h"
#include "net/tls.h"

namespace cairn::net {
namespace {

// One read takes at most this much from the socket; the assembler's ready queue is bounded by
// the frames that fit in one read.
constexpr size_t kReadChunkBytes = 64 * KiB;
// A gather write takes at most this many replies.
constexpr size_t kGatherRepliesMax = 64;
// TLS: the per-connection buffer that file ranges are read into, and that runs of small
// buffers are joined in so that they leave as one TLS record rather than one each.
constexpr size_t kTlsBufferBytes = 64 * KiB;

std::array<uint8_t, kFrameSizeBytes> encode_size(uint64_t size) {
  ASSERT(size <= INT32_MAX);
  uint32_t u = static_cast<uint32_t>(size);
  return {static_cast<uint8_t>(u >> 24), static_cast<uint8_t>(u >> 16),
          static_cast<uint8_t>(u >> 8), static_cast<uint8_t>(u)};
}

auto with_error(asio::error_code& ec) { return asio::redirect_error(asio::use_awaitable, ec); }

}  // namespace

void OrderingToken::release() {
  if (gate_ == nullptr) return;
  std::shared_ptr<detail::Gate> gate = std::move(gate_);
  gate_ = nullptr;
  if (gate->connection.expired()) return;
  asio::dispatch(gate->executor, [gate] {
    if (std::shared_ptr<Connection> connection = gate->connection.lock()) {
      connection->on_gate_released(gate->sequence);
    }
  });
}

std::shared_ptr<Connection> Connection::create(asio::ip::tcp::socket socket, ConnectionInfo info,
                                               ConnectionLimits limits,
                                               const SessionFactory* factory,
                                               ConnectionRegistry* registry,
                                               std::shared_ptr<asio::ssl::context> tls) {
  return std::shared_ptr<Connection>(
      new Connection(std::move(socket), info, limits, factory, registry, std::move(tls)));
}

Connection::Connection(asio::ip::tcp::socket socket, ConnectionInfo info, ConnectionLimits limits,
                       const SessionFactory* factory, ConnectionRegistry* registry,
                       std::shared_ptr<asio::ssl::context> tls)
    : socket_(std::move(socket)),
      info_(info),
      limits_(limits),
      factory_(factory),
      registry_(registry),
      tls_context_(std::move(tls)),
      handshake_timer_(socket_.get_executor()),
      reader_wakeup_(socket_.get_executor()),
      writer_wakeup_(socket_.get_executor()),
      idle_timer_(socket_.get_executor()),
      last_activity_(Clock::now()) {
  ASSERT(factory_ != nullptr);
  ASSERT(limits_.frame_bytes_max > 0);
  ASSERT(limits_.in_flight_max > 0);
  info_.tls = tls_context_ != nullptr;
  if (tls_context_ != nullptr) tls_ = std::make_unique<TlsStream>(socket_, *tls_context_);
}

void Connection::start() {
  asio::error_code ec;
  socket_.non_blocking(true, ec);  // sendfile() must not block the shard
  if (ec) {
    close();
    return;
  }
  if (registry_ != nullptr) registry_->add(shared_from_this());
  if (tls_ != nullptr) {
    asio::co_spawn(socket_.get_executor(), handshake(shared_from_this()), asio::detached);
    return;
  }
  open_session(PeerIdentity{});
}

bool Connection::open_session(const PeerIdentity& peer) {
  ASSERT(session_ == nullptr);
  session_ = (*factory_)(info_, peer);
  if (session_ == nullptr) {
    close();
    return false;
  }
  last_activity_ = Clock::now();
  asio::any_io_executor executor = socket_.get_executor();
  asio::co_spawn(executor, read_loop(shared_from_this()), asio::detached);
  asio::co_spawn(executor, write_loop(shared_from_this()), asio::detached);
  asio::co_spawn(executor, idle_loop(shared_from_this()), asio::detached);
  return true;
}

asio::awaitable<void> Connection::handshake(std::shared_ptr<Connection> self) {
  self->handshake_timer_.expires_after(self->limits_.handshake_timeout);
  asio::co_spawn(self->socket_.get_executor(), handshake_watchdog(self), asio::detached);
  asio::error_code ec;
  co_await self->tls_->async_handshake(asio::ssl::stream_base::server, with_error(ec));
  self->handshake_done_ = true;
  self->handshake_timer_.cancel();
  if (self->closed_) co_return;  // the watchdog or a shutdown closed it
  if (ec) {
    spdlog::info("connection {} from {}:{}: TLS handshake failed: {}; closing", self->info_.id,
                 self->info_.peer.address().to_string(), self->info_.peer.port(),
                 handshake_failure(self->tls_->native_handle(), ec));
    self->close();
    co_return;
  }
  self->open_session(peer_identity(self->tls_->native_handle()));
}

asio::awaitable<void> Connection::handshake_watchdog(std::shared_ptr<Connection> self) {
  asio::error_code ec;
  co_await self->handshake_timer_.async_wait(with_error(ec));
  if (self->handshake_done_ || self->closed_) co_return;
  spdlog::info("connection {} from {}: no TLS handshake within {} ms; closing", self->info_.id,
               self->info_.peer.address().to_string(), self->limits_.handshake_timeout.count());
  self->close();
}

void Connection::close() {
  if (closed_) return;
  closed_ = true;
  asio::error_code ec;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  socket_.close(ec);
  idle_timer_.cancel();
  handshake_timer_.cancel();
  reader_wakeup_.notify();
  writer_wakeup_.notify();
  if (registry_ != nullptr) registry_->remove(info_.id);
  held_.reset();  // a max.connections slot frees with the socket, not with the last handler
  spdlog::debug("connection {} from {}:{} closed", info_.id, info_.peer.address().to_string(),
                info_.peer.port());
}

void Connection::finish_reading() {
  read_done_ = true;
  writer_wakeup_.notify();
}

void Connection::on_gate_released(uint64_t sequence) {
  ASSERT(sequence == gate_sequence_);
  gate_open_ = true;
  reader_wakeup_.notify();
}

void Connection::dispatch(std::vector<uint8_t> frame) {
  ASSERT(can_dispatch());
  ASSERT(!frame.empty());
  auto slot = std::make_shared<Slot>();
  in_flight_.push_back(slot);
  gate_open_ = false;
  gate_sequence_++;
  handlers_running_++;
  auto gate = std::make_shared<detail::Gate>(
      detail::Gate{socket_.get_executor(), weak_from_this(), gate_sequence_});
  asio::co_spawn(socket_.get_executor(),
                 run_request(shared_from_this(), std::move(slot),
                             InboundRequest{std::move(frame), OrderingToken(std::move(gate))}),
                 asio::detached);
}

asio::awaitable<void> Connection::run_request(std::shared_ptr<Connection> self,
                                              std::shared_ptr<Slot> slot, InboundRequest request) {
  Reply reply;
  try {
    reply = co_await self->session_->handle(std::move(request));
  } catch (const std::exception& e) {
    spdlog::error("connection {}: request handler threw (a bug): {}", self->info_.id, e.what());
    reply = Reply::close();
  }
  ASSERT(self->handlers_running_ > 0);
  self->handlers_running_--;
  if (reply.kind == Reply::Kind::close || reply.close_after) self->closing_ = true;
  slot->reply = std::move(reply);
  slot->done = true;
  self->writer_wakeup_.notify();
}

asio::awaitable<void> Connection::read_loop(std::shared_ptr<Connection> self) {
  FrameAssembler assembler(self->limits_.frame_bytes_max);
  std::vector<uint8_t> chunk(kReadChunkBytes);
  while (!self->closed_) {
    while (assembler.has_frame() && !self->closed_) {
      while (!self->closed_ && !self->can_dispatch()) co_await self->reader_wakeup_.wait();
      if (self->closed_) break;
      self->dispatch(assembler.pop_frame());
    }
    if (self->closed_) break;
    if (assembler.failed()) {
      self->finish_reading();
      break;
    }
    asio::error_code ec;
    size_t read_bytes = 0;
    if (self->tls_ != nullptr) {
      read_bytes = co_await self->tls_->async_read_some(asio::buffer(chunk), with_error(ec));
      // ACK what came in at once rather than after the delayed-ACK timer: a TLS client writes
      // a request as several records, and with Nagle on it sends the next one only once the
      // last is ACKed (librdkafka's default: ~60 ms per Fetch round otherwise). Linux leaves
      // quick-ACK mode on its own, so it is set again after every read.
      int one = 1;
      if (!ec) {
        ::setsockopt(self->socket_.native_handle(), IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
      }
    } else {
      read_bytes = co_await self->socket_.async_read_some(asio::buffer(chunk), with_error(ec));
    }
    if (ec) {
      // A TLS peer that closes without close_notify reads as a truncated stream: for Kafka
      // clients that is an ordinary end of input.
      if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated) {
        self->finish_reading();
      } else {
        self->close();
      }
      break;
    }
    self->last_activity_ = Clock::now();
    assembler.set_frame_bytes_max(
        std::min(self->limits_.frame_bytes_max, self->session_->frame_bytes_max()));
    Status status = assembler.feed(std::span<const uint8_t>(chunk.data(), read_bytes));
    if (!status.ok()) {
      spdlog::info("connection {} from {}: {}; closing", self->info_.id,
                   self->info_.peer.address().to_string(), status.message());
    }
  }
}

void Connection::pop_written() {
  ASSERT(head_ready());
  in_flight_.pop_front();
  last_activity_ = Clock::now();
  reader_wakeup_.notify();
}

asio::awaitable<void> Connection::write_loop(std::shared_ptr<Connection> self) {
  while (true) {
    while (!self->closed_ && !self->head_ready() &&
           !(self->read_done_ && self->in_flight_.empty())) {
      co_await self->writer_wakeup_.wait();
    }
    if (self->closed_) break;
    if (self->in_flight_.empty()) {  // the client finished sending and every reply is out
      self->close();
      break;
    }
    bool keep_open = co_await write_ready(self);
    if (!keep_open) {
      self->close();
      break;
    }
  }
}

asio::awaitable<bool> Connection::write_ready(std::shared_ptr<Connection> self) {
  ASSERT(self->head_ready());
  Reply& head = self->in_flight_.front()->reply;
  if (head.kind == Reply::Kind::close) co_return false;
  if (head.kind == Reply::Kind::none) {
    self->pop_written();
    co_return true;
  }
  if (!head.frame.splices.empty()) {
    bool close_after = head.close_after;
    bool ok = co_await write_spliced(self, self->in_flight_.front());
    if (ok) self->pop_written();
    co_return ok && !close_after;
  }
  // Gather the run of ready, plain replies at the head into one write. The slots are held
  // by shared_ptr, so the buffers stay valid while the reader appends to the queue.
  std::vector<std::array<uint8_t, kFrameSizeBytes>> prefixes;
  prefixes.reserve(kGatherRepliesMax);  // never reallocates: buffers point into it
  std::vector<asio::const_buffer> buffers;
  size_t count = 0;
  bool close_after = false;
  while (count < self->in_flight_.size() && count < kGatherRepliesMax &&
         self->in_flight_[count]->done) {
    const Reply& reply = self->in_flight_[count]->reply;
    bool last = false;
    if (reply.kind == Reply::Kind::frame) {
      if (!reply.frame.splices.empty()) break;
      prefixes.push_back(encode_size(reply.frame.bytes.size()));
      buffers.push_back(asio::buffer(prefixes.back()));
      buffers.push_back(asio::buffer(reply.frame.bytes));
      last = reply.close_after;
    } else if (reply.kind == Reply::Kind::close) {
      break;
    }
    count++;
    if (last) {
      close_after = true;
      break;
    }
  }
  ASSERT(count >= 1);
  if (self->tls_ != nullptr) {
    bool ok = co_await write_tls(self, std::move(buffers));
    if (!ok) co_return false;
  } else {
    asio::error_code ec;
    co_await asio::async_write(self->socket_, buffers, with_error(ec));
    if (ec) co_return false;
  }
  for (size_t i = 0; i < count; i++) self->pop_written();
  co_return !close_after;
}

asio::awaitable<bool> Connection::write_spliced(std::shared_ptr<Connection> self,
                                                std::shared_ptr<Slot> slot) {
  const OutboundFrame& frame = slot->reply.frame;
  std::array<uint8_t, kFrameSizeBytes> prefix = encode_size(frame.size());
  size_t position = 0;
  bool prefix_sent = false;
  for (size_t i = 0; i <= frame.splices.size(); i++) {
    size_t until = i < frame.splices.size() ? frame.splices[i].at : frame.bytes.size();
    ASSERT(until >= position);
    ASSERT(until <= frame.bytes.size());
    std::array<asio::const_buffer, 2> buffers = {
        asio::buffer(prefix.data(), prefix_sent ? 0 : prefix.size()),
        asio::buffer(frame.bytes.data() + position, until - position)};
    prefix_sent = true;
    if (self->tls_ != nullptr) {
      std::vector<asio::const_buffer> parts(buffers.begin(), buffers.end());
      bool ok = co_await write_tls(self, std::move(parts));
      if (!ok) co_return false;
    } else {
      asio::error_code ec;
      co_await asio::async_write(self->socket_, buffers, with_error(ec));
      if (ec) co_return false;
    }
    position = until;
    if (i < frame.splices.size()) {
      bool ok = false;
      if (self->tls_ != nullptr) {
        ok = co_await send_file_tls(self, frame.splices[i].slice);
      } else {
        ok = co_await send_file(self, frame.splices[i].slice);
      }
      if (!ok) co_return false;
    }
  }
  co_return true;
}

asio::awaitable<bool> Connection::send_file(std::shared_ptr<Connection> self, FileSlice slice) {
  uint64_t sent_bytes = 0;
  while (sent_bytes < slice.size) {
    off_t offset = static_cast<off_t>(slice.offset + sent_bytes);
    ssize_t n =
        ::sendfile(self->socket_.native_handle(), slice.fd, &offset, slice.size - sent_bytes);
    if (n > 0) {
      sent_bytes += static_cast<uint64_t>(n);
      continue;
    }
    if (n == 0) {
      // The frame's size prefix promised bytes the file no longer has: the client's view of
      // the stream is lost, so the only safe move is to close.
      spdlog::error("connection {}: file range ended early ({} of {} bytes)", self->info_.id,
                    sent_bytes, slice.size);
      co_return false;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      spdlog::debug("connection {}: sendfile: {}", self->info_.id, std::strerror(errno));
      co_return false;
    }
    asio::error_code ec;
    co_await self->socket_.async_wait(asio::ip::tcp::socket::wait_write, with_error(ec));
    if (ec) co_return false;
  }
  self->last_activity_ = Clock::now();
  co_return true;
}

asio::awaitable<bool> Connection::write_tls(std::shared_ptr<Connection> self,
                                            std::vector<asio::const_buffer> buffers) {
  ASSERT(self->tls_ != nullptr);
  asio::error_code ec;
  size_t total_bytes = asio::buffer_size(buffers);
  if (buffers.size() > 1 && total_bytes <= kTlsBufferBytes) {
    self->tls_buffer_.resize(kTlsBufferBytes);
    size_t copied = asio::buffer_copy(asio::buffer(self->tls_buffer_), buffers);
    ASSERT(copied == total_bytes);
    co_await asio::async_write(*self->tls_, asio::buffer(self->tls_buffer_.data(), copied),
                               with_error(ec));
  } else {
    co_await asio::async_write(*self->tls_, buffers, with_error(ec));
  }
  co_return !ec;
}

// sendfile() would bypass the TLS stream, so the range goes through a bounded buffer:
// pread a chunk, encrypt and write it, repeat.
asio::awaitable<bool> Connection::send_file_tls(std::shared_ptr<Connection> self, FileSlice slice) {
  ASSERT(self->tls_ != nullptr);
  self->tls_buffer_.resize(kTlsBufferBytes);
  uint64_t sent_bytes = 0;
  while (sent_bytes < slice.size) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(kTlsBufferBytes, slice.size - sent_bytes));
    ssize_t n = ::pread(slice.fd, self->tls_buffer_.data(), want,
                        static_cast<off_t>(slice.offset + sent_bytes));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      // As in send_file: the size prefix promised bytes we cannot deliver; close.
      spdlog::error("connection {}: file range unreadable ({} of {} bytes): {}", self->info_.id,
                    sent_bytes, slice.size, n == 0 ? "ended early" : std::strerror(errno));
      co_return false;
    }
    asio::error_code ec;
    co_await asio::async_write(*self->tls_,
                               asio::buffer(self->tls_buffer_.data(), static_cast<size_t>(n)),
                               with_error(ec));
    if (ec) co_return false;
    sent_bytes += static_cast<uint64_t>(n);
  }
  self->last_activity_ = Clock::now();
  co_return true;
}

asio::awaitable<void> Connection::idle_loop(std::shared_ptr<Connection> self) {
  while (!self->closed_) {
    Clock::time_point now = Clock::now();
    if (self->handlers_running_ > 0) self->last_activity_ = now;  // a long request is not idle
    Clock::time_point deadline = self->last_activity_ + self->limits_.idle_timeout;
    if (now >= deadline) {
      spdlog::info("connection {} from {}: idle for {} ms; closing", self->info_.id,
                   self->info_.peer.address().to_string(), self->limits_.idle_timeout.count());
      self->close();
      break;
    }
    self->idle_timer_.expires_at(deadline);
    asio::error_code ec;
    co_await self->idle_timer_.async_wait(with_error(ec));
  }
}

void ConnectionRegistry::add(const std::shared_ptr<Connection>& connection) {
  connections_[connection->info().id] = connection;
}

void ConnectionRegistry::close_all() {
  std::vector<std::shared_ptr<Connection>> open;
  for (auto& [id, weak] : connections_) {
    if (auto connection = weak.lock()) open.push_back(std::move(connection));
  }
  for (auto& connection : open) connection->close();
  connections_.clear();
}

}  // namespace cairn::net
