// Connection and Listener over real loopback sockets, with a small test session whose first
// body byte says what to do with the request.
#include "net/connection.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <string>

#include "net/listener.h"

namespace cairn::net {
namespace {

using asio::ip::tcp;
using namespace std::chrono_literals;

struct Shared {
  std::atomic<bool> flag{false};
  std::atomic<bool> holder_running{false};
  std::atomic<bool> overlap_seen{false};
  std::atomic<int> started{0};
  std::atomic<bool> go{false};
  int file_fd = -1;
};

// Polls `flag` for up to `polls` milliseconds.
asio::awaitable<bool> wait_for(std::atomic<bool>* flag, int polls) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (int i = 0; i < polls && !flag->load(); i++) {
    timer.expires_after(1ms);
    co_await timer.async_wait(asio::use_awaitable);
  }
  co_return flag->load();
}

// Commands (first byte): 'e' echo; 'h' hold the ordering token while waiting for `flag`;
// 'r' release the token, then wait for `flag`; 's' set `flag`, echo; 'n' no reply;
// 'c' close; 'f' reply "<" + file bytes [0, 5) + ">"; 'g' release, count, wait for `go`.
class TestSession : public Session {
 public:
  explicit TestSession(Shared* shared) : shared_(shared) {}

  asio::awaitable<Reply> handle(InboundRequest request) override {
    std::vector<uint8_t> frame = std::move(request.frame);
    if (shared_->holder_running.load()) shared_->overlap_seen = true;
    switch (frame[0]) {
      case 'h': {
        shared_->holder_running = true;
        bool set = co_await wait_for(&shared_->flag, 300);
        shared_->holder_running = false;
        co_return Reply::respond({{'h', static_cast<uint8_t>(set ? 'y' : 'n')}, {}});
      }
      case 'r': {
        request.ordering.release();
        bool set = co_await wait_for(&shared_->flag, 10000);
        co_return Reply::respond({{'r', static_cast<uint8_t>(set ? 'y' : 'n')}, {}});
      }
      case 's':
        shared_->flag = true;
        break;
      case 'n':
        co_return Reply::none();
      case 'c':
        co_return Reply::close();
      case 'f': {
        OutboundFrame out{{'<', '>'}, {}};
        out.splices.push_back(FileSplice{1, FileSlice{shared_->file_fd, 0, 5, nullptr}});
        co_return Reply::respond(std::move(out));
      }
      case 'g': {
        request.ordering.release();
        shared_->started++;
        co_await wait_for(&shared_->go, 10000);
        break;
      }
      default:
        break;
    }
    co_return Reply::respond(OutboundFrame{std::move(frame), {}});
  }

 private:
  Shared* shared_;
};

class ConnectionTest : public ::testing::Test {
 protected:
  void start(ConnectionLimits limits = {}) {
    shards_.start();
    auto listener = Listener::bind(shards_, HostPort{"127.0.0.1", 0}, limits,
                                   [this](const ConnectionInfo&, const PeerIdentity&) {
                                     return std::make_unique<TestSession>(&shared_);
                                   });
    ASSERT_TRUE(listener.ok()) << listener.status().to_string();
    listener_ = std::move(listener).value();
    listener_->start();
  }
  void TearDown() override {
    if (listener_) listener_->stop();
    shards_.request_stop();
    ASSERT_TRUE(shards_.wait_stopped(10s));
    shards_.join();
  }

  tcp::socket connect() {
    tcp::socket socket(client_context_);
    socket.connect(listener_->local_endpoint());
    return socket;
  }
  static void send(tcp::socket& socket, const std::string& body) {
    std::vector<uint8_t> bytes = framed(body);
    asio::write(socket, asio::buffer(bytes));
  }
  static std::vector<uint8_t> framed(const std::string& body) {
    uint32_t n = static_cast<uint32_t>(body.size());
    std::vector<uint8_t> out = {static_cast<uint8_t>(n >> 24), static_cast<uint8_t>(n >> 16),
                                static_cast<uint8_t>(n >> 8), static_cast<uint8_t>(n)};
    out.insert(out.end(), body.begin(), body.end());
    return out;
  }
  // The next frame's body, or "<eof>" if the broker closed the connection.
  static std::string receive(tcp::socket& socket) {
    uint8_t prefix[4];
    asio::error_code ec;
    asio::read(socket, asio::buffer(prefix), ec);
    if (ec) return "<eof>";
    uint32_t n = (uint32_t{prefix[0]} << 24) | (uint32_t{prefix[1]} << 16) |
                 (uint32_t{prefix[2]} << 8) | prefix[3];
    std::string body(n, '\0');
    asio::read(socket, asio::buffer(body), ec);
    if (ec) return "<eof>";
    return body;
  }

  Shared shared_;
  ShardSet shards_{2};
  std::unique_ptr<Listener> listener_;
  asio::io_context client_context_;
};

TEST_F(ConnectionTest, EchoRoundTrip) {
  start();
  tcp::socket s = connect();
  send(s, "ehello");
  EXPECT_EQ("ehello", receive(s));
}

TEST_F(ConnectionTest, HeldTokenKeepsRequestsSequential) {
  start();
  tcp::socket s = connect();
  std::vector<uint8_t> both = framed("h");
  std::vector<uint8_t> second = framed("s");
  both.insert(both.end(), second.begin(), second.end());
  asio::write(s, asio::buffer(both));
  // 's' cannot start while 'h' holds the token, so 'h' times out waiting for the flag.
  EXPECT_EQ("hn", receive(s));
  EXPECT_EQ("s", receive(s));
  EXPECT_FALSE(shared_.overlap_seen.load());
}

TEST_F(ConnectionTest, ReleasedTokenLetsLaterRequestsRunButRepliesKeepOrder) {
  start();
  tcp::socket s = connect();
  std::vector<uint8_t> both = framed("r");
  std::vector<uint8_t> second = framed("s");
  both.insert(both.end(), second.begin(), second.end());
  asio::write(s, asio::buffer(both));
  // 's' finishes first (it sets the flag 'r' waits for), yet 'r' is answered first.
  EXPECT_EQ("ry", receive(s));
  EXPECT_EQ("s", receive(s));
}

TEST_F(ConnectionTest, PipelinedRepliesComeBackInOrder) {
  start();
  tcp::socket s = connect();
  std::vector<uint8_t> all;
  for (int i = 0; i < 200; i++) {
    std::vector<uint8_t> one = framed("e" + std::to_string(i));
    all.insert(all.end(), one.begin(), one.end());
  }
  asio::write(s, asio::buffer(all));
  for (int i = 0; i < 200; i++) ASSERT_EQ("e" + std::to_string(i), receive(s));
}

TEST_F(ConnectionTest, NoReplyRequestIsSkippedAndOrderKept) {
  start();
  tcp::socket s = connect();
  send(s, "e1");
  send(s, "n");
  send(s, "e2");
  EXPECT_EQ("e1", receive(s));
  EXPECT_EQ("e2", receive(s));
  s.shutdown(tcp::socket::shutdown_send);
  EXPECT_EQ("<eof>", receive(s));
}

TEST_F(ConnectionTest, CloseReplyClosesAfterEarlierReplies) {
  start();
  tcp::socket s = connect();
  send(s, "e1");
  send(s, "c");
  send(s, "e2");
  EXPECT_EQ("e1", receive(s));
  EXPECT_EQ("<eof>", receive(s));
}

TEST_F(ConnectionTest, BadSizesCloseTheConnection) {
  start();
  for (uint32_t size : {0u, 0xffffffffu, 0x80000000u, 0x7fffffffu}) {
    tcp::socket s = connect();
    send(s, "e0");
    uint8_t prefix[4] = {static_cast<uint8_t>(size >> 24), static_cast<uint8_t>(size >> 16),
                         static_cast<uint8_t>(size >> 8), static_cast<uint8_t>(size)};
    asio::write(s, asio::buffer(prefix));
    EXPECT_EQ("e0", receive(s)) << size;
    EXPECT_EQ("<eof>", receive(s)) << size;
  }
  tcp::socket s = connect();
  send(s, "estill-serving");
  EXPECT_EQ("estill-serving", receive(s));
}

TEST_F(ConnectionTest, FrameJustAboveLimitIsRefused) {
  ConnectionLimits limits;
  limits.frame_bytes_max = 16;
  start(limits);
  tcp::socket s = connect();
  send(s, std::string(16, 'e'));
  EXPECT_EQ(std::string(16, 'e'), receive(s));
  send(s, std::string(17, 'e'));
  EXPECT_EQ("<eof>", receive(s));
}

TEST_F(ConnectionTest, SplicedFileRangeIsSentInPlace) {
  char path[] = "/tmp/cairn_net_test_XXXXXX";
  int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(7, write(fd, "abcdefg", 7));
  unlink(path);
  shared_.file_fd = fd;
  start();
  tcp::socket s = connect();
  send(s, "f");
  send(s, "eafter");
  EXPECT_EQ("<abcde>", receive(s));
  EXPECT_EQ("eafter", receive(s));
  close(fd);
}

TEST_F(ConnectionTest, FullInFlightQueueStopsReading) {
  ConnectionLimits limits;
  limits.in_flight_max = 3;
  start(limits);
  tcp::socket s = connect();
  std::vector<uint8_t> all;
  for (int i = 0; i < 10; i++) {
    std::vector<uint8_t> one = framed("g" + std::to_string(i));
    all.insert(all.end(), one.begin(), one.end());
  }
  asio::write(s, asio::buffer(all));
  while (shared_.started.load() < 3) std::this_thread::sleep_for(1ms);
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(3, shared_.started.load());  // never more than the limit handed over
  shared_.go = true;
  for (int i = 0; i < 10; i++) ASSERT_EQ("g" + std::to_string(i), receive(s));
  EXPECT_EQ(10, shared_.started.load());
}

TEST_F(ConnectionTest, IdleConnectionIsClosed) {
  ConnectionLimits limits;
  limits.idle_timeout = 200ms;
  start(limits);
  tcp::socket s = connect();
  send(s, "e1");
  EXPECT_EQ("e1", receive(s));
  EXPECT_EQ("<eof>", receive(s));  // blocks until the broker closes the idle connection
}

TEST(ParseHostPort, Forms) {
  auto a = parse_host_port("127.0.0.1:9092");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ("127.0.0.1", a->host);
  EXPECT_EQ(9092, a->port);
  auto b = parse_host_port("[::1]:0");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ("::1", b->host);
  EXPECT_EQ(0, b->port);
  EXPECT_FALSE(parse_host_port("localhost").ok());
  EXPECT_FALSE(parse_host_port("localhost:").ok());
  EXPECT_FALSE(parse_host_port(":9092").ok());
  EXPECT_FALSE(parse_host_port("h:65536").ok());
  EXPECT_FALSE(parse_host_port("h:12x").ok());
}

}  // namespace
}  // namespace cairn::net
