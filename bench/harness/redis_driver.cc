// The Redis Streams driver (hiredis). Partition p of topic t is the stream key "t:p".
//
// Producer: XADD t:p * d <payload>, pipelined on up to 8 connections (partition p on
// connection p % 8): send() appends to hiredis's output buffer, poll() writes it out and reads
// whatever replies have arrived. Replies come back in order per connection, so a FIFO of tokens
// per connection pairs each reply with its message.
// Consumer: its own connection and thread, XREAD COUNT n BLOCK 100 over every partition's key,
// remembering the last id per key. Redis creates a stream on its first XADD.
#include <hiredis/hiredis.h>
#include <poll.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <deque>
#include <thread>
#include <vector>

#include "clock.h"
#include "driver.h"

namespace cairn::bench {
namespace {

constexpr size_t kOutputFlushBytes = 256 * 1024;
constexpr int kReadCountMax = 1000;
// Redis reads at most 16 KiB from a connection per event-loop turn and, with appendfsync
// always, fsyncs once per turn; one pipelined connection would cap durable throughput at about
// 16 KiB per fsync. A producer therefore spreads partitions over up to 8 connections.
constexpr uint32_t kProducerConnectionsMax = 8;

struct Endpoint {
  std::string host;
  int port = 0;
};

Result<Endpoint> split_address(const std::string& address) {
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos) return error(StatusCode::invalid_argument, "need host:port");
  return Endpoint{address.substr(0, colon), std::stoi(address.substr(colon + 1))};
}

Result<redisContext*> connect(const Endpoint& endpoint) {
  const timeval timeout{5, 0};
  redisContext* c = redisConnectWithTimeout(endpoint.host.c_str(), endpoint.port, timeout);
  if (c == nullptr) return error(StatusCode::io_error, "redis: out of memory");
  if (c->err != 0) {
    std::string text = c->errstr;
    redisFree(c);
    return error(StatusCode::io_error, "redis: connect: " + text);
  }
  return c;
}

std::string key_of(const std::string& topic, uint32_t partition) {
  return topic + ":" + std::to_string(partition);
}

// One pipelined connection and the tokens of its unanswered commands, oldest first.
struct Lane {
  redisContext* c = nullptr;
  std::deque<uint64_t> tokens;
  size_t appended_bytes = 0;  // appended since the last write: about hiredis's output buffer
};

class RedisProducer final : public Producer {
 public:
  RedisProducer(std::vector<Lane> lanes, std::string topic, uint32_t in_flight_max,
                AckHandler on_ack)
      : lanes_(std::move(lanes)),
        topic_(std::move(topic)),
        lane_in_flight_max_(std::max<size_t>(1, in_flight_max / lanes_.size())),
        on_ack_(std::move(on_ack)) {}
  ~RedisProducer() override {
    (void)flush(5000);
    for (Lane& lane : lanes_) redisFree(lane.c);
  }

  Result<SendOutcome> send(int32_t partition, std::span<const uint8_t> payload,
                           uint64_t token) override {
    ASSERT(payload.size() >= kMessageHeaderBytes);
    ASSERT(partition >= 0);
    Lane& lane = lanes_[static_cast<size_t>(partition) % lanes_.size()];
    if (lane.c->err != 0)
      return error(StatusCode::io_error, std::string("redis: ") + lane.c->errstr);
    if (lane.tokens.size() >= lane_in_flight_max_) {
      serve(0);
      if (lane.tokens.size() >= lane_in_flight_max_) return SendOutcome::queue_full;
    }
    const std::string key = key_of(topic_, static_cast<uint32_t>(partition));
    const char* argv[] = {"XADD", key.c_str(), "*", "d",
                          reinterpret_cast<const char*>(payload.data())};
    const size_t lengths[] = {4, key.size(), 1, 1, payload.size()};
    if (redisAppendCommandArgv(lane.c, 5, argv, lengths) != REDIS_OK) {
      return error(StatusCode::io_error, std::string("redis: append: ") + lane.c->errstr);
    }
    lane.tokens.push_back(token);
    lane.appended_bytes += payload.size() + key.size() + 32;
    if (lane.appended_bytes >= kOutputFlushBytes) write_out(lane);
    return SendOutcome::sent;
  }

  void poll(int timeout_ms) override { serve(timeout_ms); }

  Status flush(int timeout_ms) override {
    const int64_t deadline_ns = now_ns() + int64_t{timeout_ms} * 1000000;
    while (in_flight() > 0 && now_ns() < deadline_ns) {
      serve(10);
      for (const Lane& lane : lanes_) {
        if (lane.c->err != 0) return error(StatusCode::io_error, lane.c->errstr);
      }
    }
    if (in_flight() == 0) return Status();
    return error(StatusCode::timed_out, "redis: replies outstanding after flush");
  }

  int64_t in_flight() const override {
    size_t total = 0;
    for (const Lane& lane : lanes_) total += lane.tokens.size();
    return static_cast<int64_t>(total);
  }

 private:
  static void write_out(Lane& lane) {
    int done = 0;
    while (!done && lane.c->err == 0) {
      if (redisBufferWrite(lane.c, &done) != REDIS_OK) break;
    }
    lane.appended_bytes = 0;
  }

  // Writes out every lane, then reads the replies that arrive within timeout_ms.
  void serve(int timeout_ms) {
    std::vector<pollfd> fds;
    for (Lane& lane : lanes_) {
      if (lane.appended_bytes > 0) write_out(lane);
      fds.push_back(pollfd{lane.c->fd, POLLIN, 0});
    }
    if (in_flight() == 0) return;
    if (::poll(fds.data(), fds.size(), timeout_ms) <= 0) return;
    for (size_t i = 0; i < lanes_.size(); i++) {
      if ((fds[i].revents & (POLLIN | POLLERR | POLLHUP)) != 0) read_replies(lanes_[i]);
    }
  }

  void read_replies(Lane& lane) {
    if (redisBufferRead(lane.c) != REDIS_OK) return;
    void* reply = nullptr;
    while (redisGetReplyFromReader(lane.c, &reply) == REDIS_OK && reply != nullptr) {
      const auto* r = static_cast<redisReply*>(reply);
      const bool ok = r->type != REDIS_REPLY_ERROR;
      if (!ok && !error_logged_) {
        error_logged_ = true;
        std::fprintf(stderr, "cairn-bench: redis XADD failed: %s\n", r->str);
      }
      freeReplyObject(reply);
      reply = nullptr;
      ASSERT(!lane.tokens.empty());
      const uint64_t token = lane.tokens.front();
      lane.tokens.pop_front();
      on_ack_(token, ok);
    }
  }

  std::vector<Lane> lanes_;
  std::string topic_;
  size_t lane_in_flight_max_;
  AckHandler on_ack_;
  bool error_logged_ = false;
};

class RedisConsumer final : public Consumer {
 public:
  RedisConsumer(redisContext* c, std::string topic, uint32_t partition_count)
      : c_(c), topic_(std::move(topic)), partition_count_(partition_count) {}
  ~RedisConsumer() override {
    stop();
    redisFree(c_);
  }

  Status start(MessageHandler handler) override {
    ASSERT(!thread_.joinable());
    thread_ = std::thread([this, h = std::move(handler)] { loop(h); });
    return Status();
  }

  void stop() override {
    if (!thread_.joinable()) return;
    stopping_.store(true);
    thread_.join();
  }

  int64_t error_count() const override { return errors_.load(); }

 private:
  void loop(const MessageHandler& handler);
  void deliver(const redisReply* reply, const MessageHandler& handler);

  redisContext* c_;
  std::string topic_;
  uint32_t partition_count_;
  std::vector<std::string> last_ids_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<int64_t> errors_{0};
};

void RedisConsumer::loop(const MessageHandler& handler) {
  std::vector<std::string> keys;
  last_ids_.assign(partition_count_, "0-0");
  for (uint32_t p = 0; p < partition_count_; p++) keys.push_back(key_of(topic_, p));
  const std::string count = std::to_string(kReadCountMax);
  while (!stopping_.load(std::memory_order_relaxed)) {
    std::vector<const char*> argv = {"XREAD", "COUNT", count.c_str(), "BLOCK", "100", "STREAMS"};
    for (const auto& key : keys) argv.push_back(key.c_str());
    for (const auto& id : last_ids_) argv.push_back(id.c_str());
    std::vector<size_t> lengths;
    for (const char* arg : argv) lengths.push_back(std::strlen(arg));
    auto* reply = static_cast<redisReply*>(
        redisCommandArgv(c_, static_cast<int>(argv.size()), argv.data(), lengths.data()));
    if (reply == nullptr) {
      if (errors_.fetch_add(1) == 0) std::fprintf(stderr, "redis: XREAD: %s\n", c_->errstr);
      return;  // the connection is gone
    }
    if (reply->type == REDIS_REPLY_ERROR) {
      if (errors_.fetch_add(1) == 0) std::fprintf(stderr, "redis: XREAD: %s\n", reply->str);
    } else if (reply->type == REDIS_REPLY_ARRAY) {
      deliver(reply, handler);
    }
    freeReplyObject(reply);
  }
}

// reply: [[key, [[id, [field, value]], ...]], ...]
void RedisConsumer::deliver(const redisReply* reply, const MessageHandler& handler) {
  const int64_t received_ns = now_ns();
  for (size_t s = 0; s < reply->elements; s++) {
    const redisReply* stream = reply->element[s];
    if (stream->type != REDIS_REPLY_ARRAY || stream->elements != 2) continue;
    const std::string key(stream->element[0]->str, stream->element[0]->len);
    const size_t colon = key.rfind(':');
    ASSERT(colon != std::string::npos);
    const auto partition = static_cast<uint32_t>(std::stoul(key.substr(colon + 1)));
    ASSERT(partition < partition_count_);
    const redisReply* entries = stream->element[1];
    for (size_t e = 0; e < entries->elements; e++) {
      const redisReply* entry = entries->element[e];
      if (entry->type != REDIS_REPLY_ARRAY || entry->elements != 2) continue;
      last_ids_[partition].assign(entry->element[0]->str, entry->element[0]->len);
      const redisReply* fields = entry->element[1];
      if (fields->elements < 2) continue;
      const redisReply* value = fields->element[1];
      handler({reinterpret_cast<const uint8_t*>(value->str), value->len}, received_ns);
    }
  }
}

class RedisDriver final : public Driver {
 public:
  explicit RedisDriver(Endpoint endpoint) : endpoint_(std::move(endpoint)) {}

  std::string system_name() const override { return "redis"; }

  // Streams appear on their first XADD; a fresh topic name per run means nothing to clear.
  Status create_topic(const std::string&, uint32_t) override { return Status(); }

  Result<std::unique_ptr<Producer>> make_producer(const std::string& topic,
                                                  uint32_t partition_count,
                                                  const Workload& workload,
                                                  AckHandler on_ack) override {
    std::vector<Lane> lanes(std::min(partition_count, kProducerConnectionsMax));
    for (size_t i = 0; i < lanes.size(); i++) {
      auto c = connect(endpoint_);
      if (!c.ok()) {
        for (size_t j = 0; j < i; j++) redisFree(lanes[j].c);
        return c.status();
      }
      lanes[i].c = *c;
    }
    return std::unique_ptr<Producer>(std::make_unique<RedisProducer>(
        std::move(lanes), topic, workload.in_flight_max, std::move(on_ack)));
  }

  Result<std::unique_ptr<Consumer>> make_consumer(const std::string& topic,
                                                  uint32_t partition_count,
                                                  const Workload&) override {
    auto c = connect(endpoint_);
    if (!c.ok()) return c.status();
    return std::unique_ptr<Consumer>(std::make_unique<RedisConsumer>(*c, topic, partition_count));
  }

 private:
  Endpoint endpoint_;
};

}  // namespace

Result<std::unique_ptr<Driver>> make_redis_driver(const std::string& address) {
  auto endpoint = split_address(address);
  if (!endpoint.ok()) return endpoint.status();
  auto probe = connect(*endpoint);
  if (!probe.ok()) return probe.status();
  redisFree(*probe);
  return std::unique_ptr<Driver>(std::make_unique<RedisDriver>(*endpoint));
}

}  // namespace cairn::bench
