// Driver: what the harness needs from a messaging system, after the OpenMessaging Benchmark's
// driver contract (create a topic, make producers and consumers), in C++.
//
// A "topic" has `partition_count` independent ordered logs. Each driver maps that onto its
// system: Kafka partitions; one Redis stream key per partition; one JetStream stream per
// partition (see bench/README.md).
//
// Threads:
// - A Producer is used by one thread (the harness's load thread). Its AckHandler may run on that
//   thread (Kafka, Redis: inside poll()/send()) or on a client library thread (NATS), so the
//   handler must be thread-safe.
// - A Consumer delivers messages to its MessageHandler from its own thread(s) until stop(); the
//   handler must be thread-safe.
// - Driver methods other than those are called from the harness's main thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>

#include "base/status.h"
#include "workload.h"

namespace cairn::bench {

// Every message the harness sends starts with this header (little endian).
//   [0, 8)   token: the intended send time in ns on the harness's steady clock (0 = probe)
//   [8, 16)  sequence number within the run
inline constexpr size_t kMessageHeaderBytes = 16;

// Called once per acknowledged (ok) or failed (!ok) message, with the token it was sent with.
using AckHandler = std::function<void(uint64_t token, bool ok)>;
// Called once per consumed message with its payload and the steady-clock time it arrived.
using MessageHandler = std::function<void(std::span<const uint8_t> payload, int64_t receive_ns)>;

enum class SendOutcome { sent, queue_full };
enum class CommitOutcome { committed, aborted };

class Producer {
 public:
  virtual ~Producer() = default;
  // Queues one message for `partition` (ignored when the driver partitions by itself).
  // queue_full: too many messages in flight; call poll() and retry.
  // REQUIRES: payload.size() >= kMessageHeaderBytes; token equals the payload's first 8 bytes.
  virtual Result<SendOutcome> send(int32_t partition, std::span<const uint8_t> payload,
                                   uint64_t token) = 0;
  // Pushes queued bytes out and serves acknowledgements for up to timeout_ms.
  virtual void poll(int timeout_ms) = 0;
  // Waits until every message sent so far is acknowledged or failed, up to timeout_ms.
  virtual Status flush(int timeout_ms) = 0;
  virtual int64_t in_flight() const = 0;

  // Transactions, for a workload with `transactional:` (only the Kafka driver has them; its
  // make_producer then returns a producer whose transactions are initialised). The messages
  // sent between begin_transaction() and commit_transaction() form one transaction;
  // commit_transaction() waits for all their acknowledgements first, serving the AckHandler
  // on this thread. A transaction that cannot commit while the producer stays usable (a
  // message failed, say) is aborted there and reported as `aborted`: begin the next one as
  // usual. An error status is fatal to the producer.
  virtual Status begin_transaction() { return unsupported_transactions(); }
  virtual Result<CommitOutcome> commit_transaction() { return unsupported_transactions(); }

 private:
  static Status unsupported_transactions() {
    return error(StatusCode::unsupported, "this driver has no transactions");
  }
};

class Consumer {
 public:
  virtual ~Consumer() = default;
  // Starts reading every partition of `topic` from the beginning.
  virtual Status start(MessageHandler handler) = 0;
  virtual void stop() = 0;
  // Errors seen while consuming (connection drops, fetch errors), for the results.
  virtual int64_t error_count() const = 0;
};

class Driver {
 public:
  virtual ~Driver() = default;
  virtual std::string system_name() const = 0;
  // Creates the topic with `partition_count` partitions (fresh name per run).
  virtual Status create_topic(const std::string& topic, uint32_t partition_count) = 0;
  // Deletes a topic whose run is over, so that a whole `make bench` keeps one run's data on
  // disk at a time. Drivers without it keep the data (Redis: bench/run.py flushes it between
  // workloads; NATS's streams are small at its rates).
  virtual Status delete_topic(const std::string&) { return Status(); }
  virtual Result<std::unique_ptr<Producer>> make_producer(const std::string& topic,
                                                          uint32_t partition_count,
                                                          const Workload& workload,
                                                          AckHandler on_ack) = 0;
  virtual Result<std::unique_ptr<Consumer>> make_consumer(const std::string& topic,
                                                          uint32_t partition_count,
                                                          const Workload& workload) = 0;
};

// address is host:port. system: "kafka", "redis" or "nats".
Result<std::unique_ptr<Driver>> make_driver(const std::string& system, const std::string& address);

Result<std::unique_ptr<Driver>> make_kafka_driver(const std::string& address);
Result<std::unique_ptr<Driver>> make_redis_driver(const std::string& address);
Result<std::unique_ptr<Driver>> make_nats_driver(const std::string& address);

}  // namespace cairn::bench
