// The Kafka driver: librdkafka's C API against any Kafka-compatible broker. For developing the
// harness without a broker, the address "mock" runs librdkafka's in-process mock cluster
// (topics created through its test API, since it has no controller for CreateTopics).
//
// Producer: one rd_kafka_t, messages copied into librdkafka (RD_KAFKA_MSG_F_COPY), the token
// travels as the message opaque and comes back in the delivery report, served by poll().
// A workload with `transactional:` gets a transactional producer (transactional.id named after
// the topic, so each run has its own); the runner calls begin/commit.
// Consumer: a high-level consumer that assign()s every partition from the beginning (no group
// rebalance, no offset commits), read in batches by its own thread.
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <atomic>
#include <cstdio>
#include <thread>

#include "clock.h"
#include "driver.h"

namespace cairn::bench {
namespace {

constexpr int kAdminTimeoutMs = 30000;
constexpr int kMetadataWaitMs = 15000;
constexpr int kConsumeBatchMax = 1024;

Status set_conf(rd_kafka_conf_t* conf, const std::string& key, const std::string& value) {
  char errstr[512];
  if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), errstr, sizeof errstr) !=
      RD_KAFKA_CONF_OK) {
    return error(StatusCode::invalid_argument, "kafka: " + key + "=" + value + ": " + errstr);
  }
  return Status();
}

// Creates an rd_kafka_t; takes ownership of conf in every case.
Result<rd_kafka_t*> new_handle(rd_kafka_type_t type, rd_kafka_conf_t* conf) {
  char errstr[512];
  rd_kafka_t* rk = rd_kafka_new(type, conf, errstr, sizeof errstr);
  if (rk == nullptr) {
    rd_kafka_conf_destroy(conf);
    return error(StatusCode::internal, std::string("kafka: rd_kafka_new: ") + errstr);
  }
  return rk;
}

Result<rd_kafka_conf_t*> base_conf(const std::string& address,
                                   const std::map<std::string, std::string>& extra) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  Status status = set_conf(conf, "bootstrap.servers", address);
  if (status.ok()) status = set_conf(conf, "client.id", "cairn-bench");
  for (const auto& [key, value] : extra) {
    if (status.ok()) status = set_conf(conf, key, value);
  }
  if (!status.ok()) {
    rd_kafka_conf_destroy(conf);
    return status;
  }
  return conf;
}

// Takes ownership of a transactional API's error object; null is success.
Status txn_status(rd_kafka_error_t* err, const char* what) {
  if (err == nullptr) return Status();
  const std::string message = std::string("kafka: ") + what + ": " + rd_kafka_error_string(err) +
                              (rd_kafka_error_is_fatal(err) ? " (fatal)" : "");
  rd_kafka_error_destroy(err);
  return error(StatusCode::io_error, message);
}

// What the delivery-report callback needs; it lives on the heap before the rd_kafka_t exists
// because the handle's opaque is fixed at creation.
struct DeliveryState {
  AckHandler on_ack;
  bool error_logged = false;

  static void on_delivery(rd_kafka_t*, const rd_kafka_message_t* message, void* opaque) {
    auto* self = static_cast<DeliveryState*>(opaque);
    if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR && !self->error_logged) {
      self->error_logged = true;
      std::fprintf(stderr, "cairn-bench: kafka delivery failed: %s\n",
                   rd_kafka_err2str(message->err));
    }
    self->on_ack(reinterpret_cast<uintptr_t>(message->_private),
                 message->err == RD_KAFKA_RESP_ERR_NO_ERROR);
  }
};

class KafkaProducer final : public Producer {
 public:
  KafkaProducer(rd_kafka_t* rk, rd_kafka_topic_t* rkt, Partitioning partitioning,
                std::unique_ptr<DeliveryState> state)
      : rk_(rk), rkt_(rkt), partitioning_(partitioning), state_(std::move(state)) {}

  ~KafkaProducer() override {
    rd_kafka_flush(rk_, 5000);
    rd_kafka_topic_destroy(rkt_);
    rd_kafka_destroy(rk_);
  }

  Result<SendOutcome> send(int32_t partition, std::span<const uint8_t> payload,
                           uint64_t token) override {
    ASSERT(payload.size() >= kMessageHeaderBytes);
    ASSERT(load_u64(payload, 0) == token);
    const int32_t target =
        partitioning_ == Partitioning::sticky ? RD_KAFKA_PARTITION_UA : partition;
    // librdkafka copies the payload (F_COPY); the const_cast is its C signature only.
    const int rc = rd_kafka_produce(rkt_, target, RD_KAFKA_MSG_F_COPY,
                                    const_cast<uint8_t*>(payload.data()), payload.size(), nullptr,
                                    0, reinterpret_cast<void*>(static_cast<uintptr_t>(token)));
    if (rc == 0) return SendOutcome::sent;
    const rd_kafka_resp_err_t err = rd_kafka_last_error();
    if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) return SendOutcome::queue_full;
    return error(StatusCode::io_error, std::string("kafka: produce: ") + rd_kafka_err2str(err));
  }

  void poll(int timeout_ms) override { rd_kafka_poll(rk_, timeout_ms); }

  Status flush(int timeout_ms) override {
    const rd_kafka_resp_err_t err = rd_kafka_flush(rk_, timeout_ms);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return Status();
    return error(StatusCode::timed_out, std::string("kafka: flush: ") + rd_kafka_err2str(err));
  }

  int64_t in_flight() const override { return rd_kafka_outq_len(rk_); }

  Status begin_transaction() override {
    return txn_status(rd_kafka_begin_transaction(rk_), "begin_transaction");
  }

  // -1: librdkafka's recommended timeout, what is left of transaction.timeout.ms.
  Result<CommitOutcome> commit_transaction() override {
    rd_kafka_error_t* err = rd_kafka_commit_transaction(rk_, -1);
    if (err == nullptr) return CommitOutcome::committed;
    if (!rd_kafka_error_txn_requires_abort(err)) return txn_status(err, "commit_transaction");
    if (!abort_logged_) {
      abort_logged_ = true;
      std::fprintf(stderr, "cairn-bench: kafka transaction aborted: %s\n",
                   rd_kafka_error_string(err));
    }
    rd_kafka_error_destroy(err);
    RETURN_IF_ERROR(txn_status(rd_kafka_abort_transaction(rk_, -1), "abort_transaction"));
    return CommitOutcome::aborted;
  }

 private:
  rd_kafka_t* rk_;
  rd_kafka_topic_t* rkt_;
  Partitioning partitioning_;
  std::unique_ptr<DeliveryState> state_;  // the handle's opaque; outlives rk_ (destroyed first)
  bool abort_logged_ = false;
};

class KafkaConsumer final : public Consumer {
 public:
  KafkaConsumer(rd_kafka_t* rk, std::string topic, uint32_t partition_count)
      : rk_(rk), topic_(std::move(topic)), partition_count_(partition_count) {}

  ~KafkaConsumer() override {
    stop();
    rd_kafka_destroy(rk_);
  }

  Status start(MessageHandler handler) override {
    ASSERT(!thread_.joinable());
    rd_kafka_topic_partition_list_t* list =
        rd_kafka_topic_partition_list_new(static_cast<int>(partition_count_));
    for (uint32_t p = 0; p < partition_count_; p++) {
      rd_kafka_topic_partition_list_add(list, topic_.c_str(), static_cast<int32_t>(p))->offset =
          RD_KAFKA_OFFSET_BEGINNING;
    }
    const rd_kafka_resp_err_t err = rd_kafka_assign(rk_, list);
    rd_kafka_topic_partition_list_destroy(list);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return error(StatusCode::io_error, std::string("kafka: assign: ") + rd_kafka_err2str(err));
    }
    thread_ = std::thread([this, h = std::move(handler)] { loop(h); });
    return Status();
  }

  void stop() override {
    if (!thread_.joinable()) return;
    stopping_.store(true);
    thread_.join();
    rd_kafka_consumer_close(rk_);
  }

  int64_t error_count() const override { return errors_.load(); }

 private:
  // rd_kafka_consume_batch_queue() with a timeout waits until the batch is *full* or the
  // timeout passes, which would add up to that timeout to every latency. So: block in
  // consumer_poll() for the first message, then take whatever else is already queued with a
  // zero-timeout batch call.
  void loop(const MessageHandler& handler) {
    rd_kafka_queue_t* queue = rd_kafka_queue_get_consumer(rk_);
    rd_kafka_message_t* batch[kConsumeBatchMax];
    while (!stopping_.load(std::memory_order_relaxed)) {
      rd_kafka_message_t* first = rd_kafka_consumer_poll(rk_, 100);
      if (first == nullptr) continue;
      const int64_t received_ns = now_ns();
      deliver(first, received_ns, handler);
      const ssize_t n = rd_kafka_consume_batch_queue(queue, 0, batch, kConsumeBatchMax);
      for (ssize_t i = 0; i < n; i++) deliver(batch[i], received_ns, handler);
    }
    rd_kafka_queue_destroy(queue);
  }

  void deliver(rd_kafka_message_t* m, int64_t received_ns, const MessageHandler& handler) {
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      handler({static_cast<const uint8_t*>(m->payload), m->len}, received_ns);
    } else if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      if (errors_.fetch_add(1) == 0) {
        std::fprintf(stderr, "cairn-bench: kafka consume error: %s\n", rd_kafka_message_errstr(m));
      }
    }
    rd_kafka_message_destroy(m);
  }

  rd_kafka_t* rk_;
  std::string topic_;
  uint32_t partition_count_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<int64_t> errors_{0};
};

class KafkaDriver final : public Driver {
 public:
  KafkaDriver(std::string address, rd_kafka_t* admin, rd_kafka_t* mock_owner,
              rd_kafka_mock_cluster_t* mock)
      : address_(std::move(address)), admin_(admin), mock_owner_(mock_owner), mock_(mock) {}
  ~KafkaDriver() override {
    rd_kafka_destroy(admin_);
    if (mock_ != nullptr) rd_kafka_mock_cluster_destroy(mock_);
    if (mock_owner_ != nullptr) rd_kafka_destroy(mock_owner_);
  }

  std::string system_name() const override { return "kafka"; }

  Status create_topic(const std::string& topic, uint32_t partition_count) override {
    if (mock_ != nullptr) {
      const rd_kafka_resp_err_t err =
          rd_kafka_mock_topic_create(mock_, topic.c_str(), static_cast<int>(partition_count), 1);
      if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return error(StatusCode::io_error, std::string("mock: ") + rd_kafka_err2str(err));
      }
    } else {
      const Status created = request_create(topic, partition_count);
      // A broker without CreateTopics may still auto-create topics on Metadata, with its
      // default partition count: usable only when that is the count the workload needs.
      if (created.code() == StatusCode::unsupported)
        return wait_for_metadata(topic, partition_count, true);
      RETURN_IF_ERROR(created);
    }
    return wait_for_metadata(topic, partition_count, false);
  }

  Status delete_topic(const std::string& topic) override {
    if (mock_ != nullptr) return Status();  // the mock cluster keeps its data in memory
    return request_delete(topic);
  }

  Result<std::unique_ptr<Producer>> make_producer(const std::string& topic, uint32_t,
                                                  const Workload& workload,
                                                  AckHandler on_ack) override {
    auto conf = base_conf(address_, workload.kafka_producer);
    if (!conf.ok()) return conf.status();
    Status status = set_conf(*conf, "acks", workload.acks == Acks::all ? "all" : "1");
    if (status.ok() && workload.transactional) {
      status = set_conf(*conf, "transactional.id", "cairn-bench-" + topic);
    }
    if (!status.ok()) {
      rd_kafka_conf_destroy(*conf);
      return status;
    }
    auto state = std::make_unique<DeliveryState>();
    state->on_ack = std::move(on_ack);
    rd_kafka_conf_set_dr_msg_cb(*conf, &DeliveryState::on_delivery);
    rd_kafka_conf_set_opaque(*conf, state.get());
    auto rk = new_handle(RD_KAFKA_PRODUCER, *conf);
    if (!rk.ok()) return rk.status();
    if (workload.transactional) {
      status = txn_status(rd_kafka_init_transactions(*rk, kAdminTimeoutMs), "init_transactions");
      if (!status.ok()) {
        rd_kafka_destroy(*rk);
        return status;
      }
    }
    rd_kafka_topic_t* rkt = rd_kafka_topic_new(*rk, topic.c_str(), nullptr);
    return std::unique_ptr<Producer>(
        std::make_unique<KafkaProducer>(*rk, rkt, workload.partitioning, std::move(state)));
  }

  Result<std::unique_ptr<Consumer>> make_consumer(const std::string& topic,
                                                  uint32_t partition_count,
                                                  const Workload& workload) override {
    std::map<std::string, std::string> settings = {
        {"group.id", "cairn-bench-" + topic},  {"enable.auto.commit", "false"},
        {"enable.auto.offset.store", "false"}, {"auto.offset.reset", "earliest"},
        {"enable.partition.eof", "false"},
    };
    for (const auto& [key, value] : workload.kafka_consumer) settings[key] = value;
    auto conf = base_conf(address_, settings);
    if (!conf.ok()) return conf.status();
    auto rk = new_handle(RD_KAFKA_CONSUMER, *conf);
    if (!rk.ok()) return rk.status();
    rd_kafka_poll_set_consumer(*rk);
    return std::unique_ptr<Consumer>(std::make_unique<KafkaConsumer>(*rk, topic, partition_count));
  }

 private:
  Status request_create(const std::string& topic, uint32_t partition_count);
  Status request_delete(const std::string& topic);
  Status wait_for_metadata(const std::string& topic, uint32_t partition_count, bool auto_created);

  std::string address_;
  rd_kafka_t* admin_;
  rd_kafka_t* mock_owner_;  // only with the mock cluster
  rd_kafka_mock_cluster_t* mock_;
};

Status KafkaDriver::request_create(const std::string& topic, uint32_t partition_count) {
  char errstr[512];
  rd_kafka_NewTopic_t* new_topic = rd_kafka_NewTopic_new(
      topic.c_str(), static_cast<int>(partition_count), 1, errstr, sizeof errstr);
  if (new_topic == nullptr) return error(StatusCode::invalid_argument, errstr);
  rd_kafka_AdminOptions_t* options =
      rd_kafka_AdminOptions_new(admin_, RD_KAFKA_ADMIN_OP_CREATETOPICS);
  rd_kafka_AdminOptions_set_operation_timeout(options, kAdminTimeoutMs, errstr, sizeof errstr);
  rd_kafka_AdminOptions_set_request_timeout(options, kAdminTimeoutMs, errstr, sizeof errstr);
  rd_kafka_queue_t* queue = rd_kafka_queue_new(admin_);
  rd_kafka_CreateTopics(admin_, &new_topic, 1, options, queue);
  rd_kafka_event_t* event = rd_kafka_queue_poll(queue, kAdminTimeoutMs + 5000);
  Status status;
  if (event == nullptr) {
    status = error(StatusCode::timed_out, "kafka: CreateTopics: no answer");
  } else if (rd_kafka_event_error(event) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    const bool unsupported = rd_kafka_event_error(event) == RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE;
    status = error(unsupported ? StatusCode::unsupported : StatusCode::io_error,
                   std::string("kafka: CreateTopics: ") + rd_kafka_event_error_string(event));
  } else {
    size_t count = 0;
    const rd_kafka_topic_result_t** results =
        rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(event), &count);
    for (size_t i = 0; i < count && status.ok(); i++) {
      const rd_kafka_resp_err_t err = rd_kafka_topic_result_error(results[i]);
      if (err != RD_KAFKA_RESP_ERR_NO_ERROR && err != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
        const char* text = rd_kafka_topic_result_error_string(results[i]);
        status = error(StatusCode::io_error, std::string("kafka: CreateTopics: ") +
                                                 rd_kafka_err2str(err) + " " + (text ? text : ""));
      }
    }
  }
  if (event != nullptr) rd_kafka_event_destroy(event);
  rd_kafka_queue_destroy(queue);
  rd_kafka_AdminOptions_destroy(options);
  rd_kafka_NewTopic_destroy(new_topic);
  return status;
}

Status KafkaDriver::request_delete(const std::string& topic) {
  char errstr[512];
  rd_kafka_DeleteTopic_t* target = rd_kafka_DeleteTopic_new(topic.c_str());
  rd_kafka_AdminOptions_t* options =
      rd_kafka_AdminOptions_new(admin_, RD_KAFKA_ADMIN_OP_DELETETOPICS);
  rd_kafka_AdminOptions_set_operation_timeout(options, kAdminTimeoutMs, errstr, sizeof errstr);
  rd_kafka_AdminOptions_set_request_timeout(options, kAdminTimeoutMs, errstr, sizeof errstr);
  rd_kafka_queue_t* queue = rd_kafka_queue_new(admin_);
  rd_kafka_DeleteTopics(admin_, &target, 1, options, queue);
  rd_kafka_event_t* event = rd_kafka_queue_poll(queue, kAdminTimeoutMs + 5000);
  Status status;
  if (event == nullptr) {
    status = error(StatusCode::timed_out, "kafka: DeleteTopics: no answer");
  } else if (rd_kafka_event_error(event) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    status = error(StatusCode::io_error,
                   std::string("kafka: DeleteTopics: ") + rd_kafka_event_error_string(event));
  } else {
    size_t count = 0;
    const rd_kafka_topic_result_t** results =
        rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(event), &count);
    for (size_t i = 0; i < count && status.ok(); i++) {
      const rd_kafka_resp_err_t err = rd_kafka_topic_result_error(results[i]);
      if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        status = error(StatusCode::io_error,
                       std::string("kafka: DeleteTopics: ") + rd_kafka_err2str(err));
      }
    }
  }
  if (event != nullptr) rd_kafka_event_destroy(event);
  rd_kafka_queue_destroy(queue);
  rd_kafka_AdminOptions_destroy(options);
  rd_kafka_DeleteTopic_destroy(target);
  return status;
}

// CreateTopics answers before every broker's metadata shows the topic; produce only after the
// metadata lists all partitions. With auto_created, the Metadata request itself creates the
// topic (a producer handle asks for auto-creation) and a wrong partition count is final.
Status KafkaDriver::wait_for_metadata(const std::string& topic, uint32_t partition_count,
                                      bool auto_created) {
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(admin_, topic.c_str(), nullptr);
  const int64_t deadline_ns = now_ns() + int64_t{kMetadataWaitMs} * 1000000;
  std::string last = "no answer";
  while (now_ns() < deadline_ns) {
    const rd_kafka_metadata_t* metadata = nullptr;
    const rd_kafka_resp_err_t err = rd_kafka_metadata(admin_, 0, rkt, &metadata, 2000);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      const bool ready = metadata->topic_cnt == 1 && metadata->topics[0].err == 0 &&
                         metadata->topics[0].partition_cnt == static_cast<int>(partition_count);
      last = metadata->topic_cnt == 1 ? rd_kafka_err2str(metadata->topics[0].err) : "no topic";
      const int actual = metadata->topic_cnt == 1 && metadata->topics[0].err == 0
                             ? metadata->topics[0].partition_cnt
                             : 0;
      rd_kafka_metadata_destroy(metadata);
      if (auto_created && actual > 0 && actual != static_cast<int>(partition_count)) {
        rd_kafka_topic_destroy(rkt);
        return error(StatusCode::unsupported,
                     "kafka: the broker has no CreateTopics and auto-created " + topic + " with " +
                         std::to_string(actual) + " partitions; the workload needs " +
                         std::to_string(partition_count));
      }
      if (ready) {
        rd_kafka_topic_destroy(rkt);
        return Status();
      }
    } else {
      last = rd_kafka_err2str(err);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  rd_kafka_topic_destroy(rkt);
  return error(StatusCode::timed_out, "kafka: topic " + topic + " not in metadata: " + last);
}

}  // namespace

Result<std::unique_ptr<Driver>> make_kafka_driver(const std::string& address) {
  std::string bootstrap = address;
  rd_kafka_t* mock_owner = nullptr;
  rd_kafka_mock_cluster_t* mock = nullptr;
  if (address == "mock") {
    auto owner = new_handle(RD_KAFKA_PRODUCER, rd_kafka_conf_new());
    if (!owner.ok()) return owner.status();
    mock_owner = *owner;
    mock = rd_kafka_mock_cluster_new(mock_owner, 1);
    bootstrap = rd_kafka_mock_cluster_bootstraps(mock);
  }
  auto conf = base_conf(bootstrap, {});
  if (!conf.ok()) return conf.status();
  auto admin = new_handle(RD_KAFKA_PRODUCER, *conf);
  if (!admin.ok()) return admin.status();
  return std::unique_ptr<Driver>(
      std::make_unique<KafkaDriver>(bootstrap, *admin, mock_owner, mock));
}

}  // namespace cairn::bench
