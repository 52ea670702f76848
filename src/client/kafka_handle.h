// KafkaHandle: one librdkafka client instance (rd_kafka_t) built from the CLI's connection
// options, plus the error mapping from librdkafka codes to Status.
//
// Configuration order: built-in defaults of the caller, then `bootstrap.servers` from
// ClientOptions::brokers, then every `-X key=value` pass-through (so `-X` always wins).
// librdkafka logs are kept out of the terminal: the handle remembers the last warning/error
// line (e.g. "Connect to ipv4#127.0.0.1:1 failed: Connection refused") so a timeout message
// can say why; with `-X debug=...` or ClientOptions::verbose_logs they go to stderr.
//
// Connecting: create() returns only once a broker answered a Metadata request, so every
// command fails the same way when the cluster is unreachable. A refused connection fails fast:
// once librdkafka reports every bootstrap broker down, create() gives the brokers about a
// second more (a host name can have more addresses to try) and then fails with each broker's
// reason, "cannot connect to 127.0.0.1:9092: Connection refused". A broker that never answers
// (a dropped SYN) still takes the whole timeout.
//
// Threads: the handle is used from the thread that created it; librdkafka's own threads only
// call the log and delivery trampolines, which touch the mutex-guarded last-log string and the
// delivery callback (the latter only from inside poll(), on the caller's thread). The error
// trampoline runs inside rd_kafka_poll(), on the caller's thread.
#pragma once

#include <librdkafka/rdkafka.h>

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "client/record.h"

namespace cairn::client {

// Connection options every `cairn` client command takes.
struct ClientOptions {
  std::string brokers = "127.0.0.1:9092";
  std::vector<std::string> properties;  // "key=value" librdkafka properties (-X)
  int timeout_ms = 10'000;              // bound on each request and wait
  bool verbose_logs = false;            // print librdkafka's log lines to stderr
};

using Settings = std::vector<std::pair<std::string, std::string>>;

enum class HandleKind { producer, consumer };

// Maps a librdkafka error to a Status: "<context>: <description> (<ERROR_NAME>)".
Status kafka_status(rd_kafka_resp_err_t err, std::string_view context);
// Same for an rd_kafka_error_t (admin per-item errors); ok when error is null.
Status kafka_status(const rd_kafka_error_t* error, std::string_view context);
StatusCode status_code_for(rd_kafka_resp_err_t err);

class KafkaHandle {
 public:
  using DeliveryCallback = std::function<void(const rd_kafka_message_t&)>;

  // Creates the client instance. `defaults` are applied before the user's -X properties.
  static Result<std::unique_ptr<KafkaHandle>> create(HandleKind kind, const ClientOptions& options,
                                                     const Settings& defaults,
                                                     DeliveryCallback on_delivery = nullptr);
  ~KafkaHandle();
  KafkaHandle(const KafkaHandle&) = delete;
  KafkaHandle& operator=(const KafkaHandle&) = delete;

  rd_kafka_t* get() const { return rk_; }
  int timeout_ms() const { return timeout_ms_; }

  // The last librdkafka warning or error log line, or "" when there was none.
  std::string last_log() const;
  // Adds the last log line (when any) to a timed_out or io_error status: why a connection
  // timed out.
  Status explain(Status status) const;

 private:
  KafkaHandle() = default;
  static void log_trampoline(const rd_kafka_t* rk, int level, const char* facility,
                             const char* message);
  static void delivery_trampoline(rd_kafka_t* rk, const rd_kafka_message_t* message, void* opaque);
  static void error_trampoline(rd_kafka_t* rk, int err, const char* reason, void* opaque);
  // Waits (at most timeout_ms_) until a broker answers; see "Connecting" above.
  Status await_connection();
  // "cannot connect to HOST:PORT: REASON" from the failures the error callback saw.
  std::string connection_failure() const;

  rd_kafka_t* rk_ = nullptr;
  int timeout_ms_ = 10'000;
  bool verbose_logs_ = false;
  DeliveryCallback on_delivery_;
  mutable std::mutex log_mutex_;
  std::string last_log_;  // guarded by log_mutex_
  // What the error callback saw while connecting: every broker down, and the last failure of
  // each broker as (HOST:PORT, reason), in the order the brokers first failed.
  bool all_brokers_down_ = false;  // guarded by log_mutex_
  std::vector<std::pair<std::string, std::string>> broker_failures_;  // guarded by log_mutex_
};

// Splits "key=value" (the value may contain '='); an error names the bad argument.
Result<std::pair<std::string, std::string>> split_key_value(std::string_view text,
                                                            std::string_view what);

}  // namespace cairn::client
