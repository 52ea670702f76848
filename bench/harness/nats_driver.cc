// The NATS JetStream driver (Debian's libnats, the official C client). Partition p of topic t is
// its own stream "t-p" capturing the subject "t.p": a JetStream stream is one ordered log, the
// closest thing to a partition.
//
// Producer: js_PublishAsync with an ack handler; libnats delivers acks on its own thread, so
// the in-flight count is atomic and poll() waits on a condition variable.
// Consumer: one ordered push consumer per stream (no acks, flow control on), each with its own
// delivery thread up to 64 partitions, through libnats's shared delivery pool beyond.
#include <nats/nats.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <shared_mutex>
#include <vector>

#include "clock.h"
#include "driver.h"

namespace cairn::bench {
namespace {

constexpr int kDeliveryThreadCount = 2;
constexpr int64_t kConsumerCreateWaitMs = 30000;
constexpr uint32_t kOwnThreadPartitionCountMax = 64;

Status nats_error(const std::string& what, natsStatus s,
                  jsErrCode code = static_cast<jsErrCode>(0)) {
  std::string text = "nats: " + what + ": " + natsStatus_GetText(s);
  if (code != 0) text += " (JetStream error " + std::to_string(code) + ")";
  const char* last = nats_GetLastError(nullptr);
  if (last != nullptr && last[0] != '\0') text += ": " + std::string(last);
  return error(StatusCode::io_error, text);
}

std::string stream_of(const std::string& topic, uint32_t partition) {
  return topic + "-" + std::to_string(partition);
}

std::string subject_of(const std::string& topic, uint32_t partition) {
  return topic + "." + std::to_string(partition);
}

// A connection and its JetStream context, owned together.
struct Connection {
  natsConnection* nc = nullptr;
  jsCtx* js = nullptr;
  ~Connection() {
    if (js != nullptr) jsCtx_Destroy(js);
    if (nc != nullptr) natsConnection_Destroy(nc);
  }
};

Result<std::unique_ptr<Connection>> connect(const std::string& address, bool global_delivery,
                                            jsOptions* js_options) {
  natsOptions* options = nullptr;
  natsStatus s = natsOptions_Create(&options);
  const std::string url = "nats://" + address;
  if (s == NATS_OK) s = natsOptions_SetURL(options, url.c_str());
  if (s == NATS_OK) s = natsOptions_UseGlobalMessageDelivery(options, global_delivery);
  auto connection = std::make_unique<Connection>();
  if (s == NATS_OK) s = natsConnection_Connect(&connection->nc, options);
  natsOptions_Destroy(options);
  if (s != NATS_OK) return nats_error("connect " + url, s);
  s = natsConnection_JetStream(&connection->js, connection->nc, js_options);
  if (s != NATS_OK) return nats_error("JetStream context", s);
  return connection;
}

// libnats may still run a callback after natsConnection_Destroy() or
// natsSubscription_Destroy() has returned (its threads wind down on their own), so what a
// callback touches must outlive the producer or consumer: the callback state below is leaked
// on purpose (a few hundred bytes per producer or consumer, a handful per run), and closed
// under its lock before the harness frees what the handlers point to.
struct CallbackGate {
  std::shared_mutex mutex;
  bool open = true;  // guarded by mutex

  void close() {
    std::unique_lock lock(mutex);
    open = false;
  }
};

struct AckState {
  AckHandler on_ack;
  CallbackGate gate;
  std::atomic<int64_t> in_flight{0};
  std::mutex mutex;
  std::condition_variable acked;
  std::atomic<bool> error_logged{false};

  static void on_publish_ack(jsCtx*, natsMsg* msg, jsPubAck*, jsPubAckErr* pae, void* closure) {
    auto* self = static_cast<AckState*>(closure);
    const auto* data = reinterpret_cast<const uint8_t*>(natsMsg_GetData(msg));
    const int length = natsMsg_GetDataLength(msg);
    const uint64_t token =
        length >= 8 ? load_u64({data, static_cast<size_t>(length)}, 0) : uint64_t{0};
    {
      std::shared_lock lock(self->gate.mutex);
      if (self->gate.open) {
        if (pae != nullptr && !self->error_logged.exchange(true)) {
          std::fprintf(stderr, "cairn-bench: nats publish failed: %s %s\n",
                       natsStatus_GetText(pae->Err), pae->ErrText ? pae->ErrText : "");
        }
        self->on_ack(token, pae == nullptr);
      }
    }
    natsMsg_Destroy(msg);
    self->in_flight.fetch_sub(1);
    std::lock_guard lock(self->mutex);
    self->acked.notify_all();
  }
};

class NatsProducer final : public Producer {
 public:
  NatsProducer(std::unique_ptr<AckState> state, std::unique_ptr<Connection> connection,
               std::vector<std::string> subjects, int64_t in_flight_max)
      : state_(std::move(state)),
        connection_(std::move(connection)),
        subjects_(std::move(subjects)),
        in_flight_max_(in_flight_max) {}
  ~NatsProducer() override {
    (void)flush(5000);
    state_->gate.close();
    connection_.reset();
    (void)state_.release();  // see CallbackGate
  }

  Result<SendOutcome> send(int32_t partition, std::span<const uint8_t> payload,
                           uint64_t token) override {
    ASSERT(payload.size() >= kMessageHeaderBytes);
    ASSERT(load_u64(payload, 0) == token);
    ASSERT(partition >= 0 && static_cast<size_t>(partition) < subjects_.size());
    if (state_->in_flight.load() >= in_flight_max_) return SendOutcome::queue_full;
    state_->in_flight.fetch_add(1);
    const natsStatus s = js_PublishAsync(connection_->js, subjects_[partition].c_str(),
                                         payload.data(), static_cast<int>(payload.size()), nullptr);
    if (s == NATS_OK) return SendOutcome::sent;
    state_->in_flight.fetch_sub(1);
    if (s == NATS_TIMEOUT) return SendOutcome::queue_full;  // libnats's own stall limit
    return nats_error("publish", s);
  }

  void poll(int timeout_ms) override {
    if (timeout_ms <= 0) return;
    std::unique_lock lock(state_->mutex);
    const int64_t before = state_->in_flight.load();
    state_->acked.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                           [&] { return state_->in_flight.load() < before || before == 0; });
  }

  Status flush(int timeout_ms) override {
    jsPubOptions options;
    jsPubOptions_Init(&options);
    options.MaxWait = timeout_ms;
    const natsStatus s = js_PublishAsyncComplete(connection_->js, &options);
    if (s != NATS_OK) return nats_error("flush", s);
    return Status();
  }

  int64_t in_flight() const override { return state_->in_flight.load(); }

 private:
  std::unique_ptr<AckState> state_;
  std::unique_ptr<Connection> connection_;
  std::vector<std::string> subjects_;
  int64_t in_flight_max_;
};

class NatsConsumer final : public Consumer {
 public:
  NatsConsumer(std::unique_ptr<Connection> connection, std::string topic, uint32_t partition_count)
      : connection_(std::move(connection)),
        topic_(std::move(topic)),
        partition_count_(partition_count) {}
  ~NatsConsumer() override { stop(); }

  Status start(MessageHandler handler) override {
    ASSERT(state_ == nullptr);
    state_ = new DeliveryState{std::move(handler), {}};  // leaked: see CallbackGate
    for (uint32_t p = 0; p < partition_count_; p++) {
      const std::string stream = stream_of(topic_, p);
      const std::string subject = subject_of(topic_, p);
      jsSubOptions options;
      jsSubOptions_Init(&options);
      options.Stream = stream.c_str();
      options.Ordered = true;
      options.Config.DeliverPolicy = js_DeliverAll;
      natsSubscription* sub = nullptr;
      jsErrCode code = static_cast<jsErrCode>(0);
      natsStatus s = js_Subscribe(&sub, connection_->js, subject.c_str(), &NatsConsumer::on_message,
                                  state_, nullptr, &options, &code);
      if (s != NATS_OK) return nats_error("subscribe " + subject, s, code);
      subscriptions_.push_back(sub);
      // No client-side drop limit: a catch-up read must not lose messages to a slow callback.
      s = natsSubscription_SetPendingLimits(sub, -1, -1);
      if (s != NATS_OK) return nats_error("pending limits", s);
    }
    return Status();
  }

  void stop() override {
    if (state_ != nullptr) state_->gate.close();
    for (natsSubscription* sub : subscriptions_) {
      natsSubscription_Unsubscribe(sub);
      natsSubscription_Destroy(sub);
    }
    subscriptions_.clear();
    connection_.reset();
  }

  int64_t error_count() const override { return errors_.load(); }

 private:
  struct DeliveryState {
    MessageHandler handler;
    CallbackGate gate;
  };

  static void on_message(natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
    auto* state = static_cast<DeliveryState*>(closure);
    const auto* data = reinterpret_cast<const uint8_t*>(natsMsg_GetData(msg));
    const int length = natsMsg_GetDataLength(msg);
    {
      std::shared_lock lock(state->gate.mutex);
      if (state->gate.open) state->handler({data, static_cast<size_t>(length)}, now_ns());
    }
    natsMsg_Destroy(msg);
  }

  std::unique_ptr<Connection> connection_;
  std::string topic_;
  uint32_t partition_count_;
  DeliveryState* state_ = nullptr;
  std::vector<natsSubscription*> subscriptions_;
  std::atomic<int64_t> errors_{0};
};

class NatsDriver final : public Driver {
 public:
  NatsDriver(std::string address, std::unique_ptr<Connection> admin)
      : address_(std::move(address)), admin_(std::move(admin)) {}

  std::string system_name() const override { return "nats"; }

  Status create_topic(const std::string& topic, uint32_t partition_count) override {
    for (uint32_t p = 0; p < partition_count; p++) {
      const std::string name = stream_of(topic, p);
      const std::string subject = subject_of(topic, p);
      const char* subjects[] = {subject.c_str()};
      jsStreamConfig config;
      jsStreamConfig_Init(&config);
      config.Name = name.c_str();
      config.Subjects = subjects;
      config.SubjectsLen = 1;
      config.Storage = js_FileStorage;
      config.Replicas = 1;
      jsErrCode code = static_cast<jsErrCode>(0);
      const natsStatus s = js_AddStream(nullptr, admin_->js, &config, nullptr, &code);
      if (s != NATS_OK) return nats_error("add stream " + name, s, code);
    }
    return Status();
  }

  Result<std::unique_ptr<Producer>> make_producer(const std::string& topic,
                                                  uint32_t partition_count,
                                                  const Workload& workload,
                                                  AckHandler on_ack) override {
    auto state = std::make_unique<AckState>();
    state->on_ack = std::move(on_ack);
    jsOptions options;
    jsOptions_Init(&options);
    options.PublishAsync.MaxPending = workload.in_flight_max;
    options.PublishAsync.AckHandler = &AckState::on_publish_ack;
    options.PublishAsync.AckHandlerClosure = state.get();
    options.PublishAsync.StallWait = 1;
    auto connection = connect(address_, false, &options);
    if (!connection.ok()) return connection.status();
    std::vector<std::string> subjects;
    for (uint32_t p = 0; p < partition_count; p++) subjects.push_back(subject_of(topic, p));
    return std::unique_ptr<Producer>(std::make_unique<NatsProducer>(
        std::move(state), std::move(*connection), std::move(subjects), workload.in_flight_max));
  }

  Result<std::unique_ptr<Consumer>> make_consumer(const std::string& topic,
                                                  uint32_t partition_count,
                                                  const Workload&) override {
    // Each subscription's consumer starts delivering at once. With libnats's shared delivery
    // pool, the replies to the later consumer-create requests would wait behind the backlog
    // already queued for the earlier ones (and time out): up to 64 partitions, every
    // subscription gets its own delivery thread instead; beyond, the pool (a thread each
    // would be too many), which is fine at the low rates of many-partition workloads.
    jsOptions options;
    jsOptions_Init(&options);
    options.Wait = kConsumerCreateWaitMs;
    const bool shared_pool = partition_count > kOwnThreadPartitionCountMax;
    auto connection = connect(address_, shared_pool, &options);
    if (!connection.ok()) return connection.status();
    return std::unique_ptr<Consumer>(
        std::make_unique<NatsConsumer>(std::move(*connection), topic, partition_count));
  }

 private:
  std::string address_;
  std::unique_ptr<Connection> admin_;
};

}  // namespace

Result<std::unique_ptr<Driver>> make_nats_driver(const std::string& address) {
  static const natsStatus opened = [] {
    natsStatus s = nats_Open(-1);
    if (s == NATS_OK) s = nats_SetMessageDeliveryPoolSize(kDeliveryThreadCount);
    return s;
  }();
  if (opened != NATS_OK) return nats_error("library init", opened);
  auto admin = connect(address, false, nullptr);
  if (!admin.ok()) return admin.status();
  return std::unique_ptr<Driver>(std::make_unique<NatsDriver>(address, std::move(*admin)));
}

}  // namespace cairn::bench
