#include "client/kafka_handle.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <optional>

namespace cairn::client {

StatusCode status_code_for(rd_kafka_resp_err_t err) {
  switch (err) {
    case RD_KAFKA_RESP_ERR_NO_ERROR:
      return StatusCode::ok;
    case RD_KAFKA_RESP_ERR__TIMED_OUT:
    case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT:
    case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
      return StatusCode::timed_out;
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    case RD_KAFKA_RESP_ERR_GROUP_ID_NOT_FOUND:
      return StatusCode::not_found;
    case RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS:
      return StatusCode::already_exists;
    case RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE:
      return StatusCode::out_of_range;
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
      return StatusCode::too_large;
    case RD_KAFKA_RESP_ERR_UNSUPPORTED_VERSION:
    case RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE:
    case RD_KAFKA_RESP_ERR_INVALID_REQUEST:
      return StatusCode::unsupported;
    case RD_KAFKA_RESP_ERR__TRANSPORT:
    case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
    case RD_KAFKA_RESP_ERR_KAFKA_STORAGE_ERROR:
      return StatusCode::io_error;
    case RD_KAFKA_RESP_ERR__INVALID_ARG:
    case RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION:
    case RD_KAFKA_RESP_ERR_INVALID_PARTITIONS:
    case RD_KAFKA_RESP_ERR_INVALID_REPLICATION_FACTOR:
    case RD_KAFKA_RESP_ERR_INVALID_CONFIG:
    case RD_KAFKA_RESP_ERR_POLICY_VIOLATION:
      return StatusCode::invalid_argument;
    case RD_KAFKA_RESP_ERR_NON_EMPTY_GROUP:
    case RD_KAFKA_RESP_ERR_UNKNOWN_MEMBER_ID:
      return StatusCode::fenced;
    default:
      return StatusCode::internal;
  }
}

Status kafka_status(rd_kafka_resp_err_t err, std::string_view context) {
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return Status::ok_status();
  return error(status_code_for(err),
               fmt::format("{}: {} ({})", context, rd_kafka_err2str(err), rd_kafka_err2name(err)));
}

Status kafka_status(const rd_kafka_error_t* kafka_error, std::string_view context) {
  if (kafka_error == nullptr) return Status::ok_status();
  rd_kafka_resp_err_t err = rd_kafka_error_code(kafka_error);
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return Status::ok_status();
  return error(status_code_for(err),
               fmt::format("{}: {} ({})", context, rd_kafka_error_string(kafka_error),
                           rd_kafka_err2name(err)));
}

Result<std::pair<std::string, std::string>> split_key_value(std::string_view text,
                                                            std::string_view what) {
  size_t equals = text.find('=');
  if (equals == std::string_view::npos || equals == 0) {
    return error(StatusCode::invalid_argument,
                 fmt::format("{} '{}' is not of the form key=value", what, text));
  }
  return std::pair<std::string, std::string>(std::string(text.substr(0, equals)),
                                             std::string(text.substr(equals + 1)));
}

namespace {

Status set_property(rd_kafka_conf_t* conf, const std::string& key, const std::string& value) {
  char errstr[512];
  if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), errstr, sizeof(errstr)) !=
      RD_KAFKA_CONF_OK) {
    return error(StatusCode::invalid_argument,
                 fmt::format("client property {}={}: {}", key, value, errstr));
  }
  return Status::ok_status();
}

}  // namespace

Result<std::unique_ptr<KafkaHandle>> KafkaHandle::create(HandleKind kind,
                                                         const ClientOptions& options,
                                                         const Settings& defaults,
                                                         DeliveryCallback on_delivery) {
  std::unique_ptr<KafkaHandle> handle(new KafkaHandle());
  handle->timeout_ms_ = options.timeout_ms;
  handle->verbose_logs_ = options.verbose_logs;
  handle->on_delivery_ = std::move(on_delivery);

  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  Settings all = defaults;
  all.emplace_back("bootstrap.servers", options.brokers);
  all.emplace_back("client.id", "cairn-cli");
  for (const std::string& property : options.properties) {
    auto kv = split_key_value(property, "-X property");
    if (!kv.ok()) {
      rd_kafka_conf_destroy(conf);
      return kv.status();
    }
    if (kv->first == "debug") handle->verbose_logs_ = true;
    all.push_back(std::move(*kv));
  }
  for (const auto& [key, value] : all) {
    Status status = set_property(conf, key, value);
    if (!status.ok()) {
      rd_kafka_conf_destroy(conf);
      return status;
    }
  }
  rd_kafka_conf_set_opaque(conf, handle.get());
  rd_kafka_conf_set_log_cb(conf, &KafkaHandle::log_trampoline);
  rd_kafka_conf_set_error_cb(conf, &KafkaHandle::error_trampoline);
  if (handle->on_delivery_) rd_kafka_conf_set_dr_msg_cb(conf, &KafkaHandle::delivery_trampoline);

  char errstr[512];
  rd_kafka_type_t type = kind == HandleKind::producer ? RD_KAFKA_PRODUCER : RD_KAFKA_CONSUMER;
  handle->rk_ = rd_kafka_new(type, conf, errstr, sizeof(errstr));
  if (handle->rk_ == nullptr) {
    rd_kafka_conf_destroy(conf);  // rd_kafka_new only takes ownership on success
    return error(StatusCode::invalid_argument, fmt::format("creating the client: {}", errstr));
  }
  RETURN_IF_ERROR(handle->await_connection());
  return handle;
}

Status KafkaHandle::await_connection() {
  using Clock = std::chrono::steady_clock;
  // Long enough for librdkafka's reconnect backoff (100 ms, doubling) to try a second address.
  constexpr auto kAllDownGrace = std::chrono::milliseconds(1'000);
  constexpr int kAttemptTimeoutMs = 200;
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms_);
  std::optional<Clock::time_point> give_up;
  while (true) {
    // No topics: a brokers-only Metadata request, the cheapest proof that a broker answers.
    const rd_kafka_metadata_t* metadata = nullptr;
    auto left_ms = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    int attempt_ms = static_cast<int>(std::clamp<int64_t>(left_ms.count(), 1, kAttemptTimeoutMs));
    rd_kafka_resp_err_t err = rd_kafka_metadata(rk_, 0, nullptr, &metadata, attempt_ms);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      rd_kafka_metadata_destroy(metadata);
      return Status::ok_status();
    }
    rd_kafka_poll(rk_, 0);  // serves error_trampoline; nothing else is queued yet
    bool all_down = false;
    {
      std::lock_guard<std::mutex> lock(log_mutex_);
      all_down = all_brokers_down_;
    }
    auto now = Clock::now();
    if (all_down && !give_up) give_up = now + kAllDownGrace;
    if (give_up && now >= *give_up) return error(StatusCode::io_error, connection_failure());
    if (now >= deadline) {
      return explain(error(StatusCode::timed_out,
                           fmt::format("no broker answered within {} ms", timeout_ms_)));
    }
  }
}

namespace {

// librdkafka's error reasons read "127.0.0.1:9092/bootstrap: Connect to ipv4#127.0.0.1:9092
// failed: Connection refused (after 0ms in state CONNECT)"; this keeps "127.0.0.1:9092" and
// "Connection refused". A reason of another shape is kept whole, with an empty broker.
std::pair<std::string, std::string> split_broker_reason(std::string_view reason) {
  size_t colon = reason.find(": ");
  size_t slash = reason.find('/');
  if (colon == std::string_view::npos || slash == std::string_view::npos || slash > colon) {
    return {"", std::string(reason)};
  }
  std::string broker(reason.substr(0, slash));
  std::string_view detail = reason.substr(colon + 2);
  size_t failed = detail.find(" failed: ");
  if (failed != std::string_view::npos) detail = detail.substr(failed + 9);
  size_t after = detail.rfind(" (after ");
  if (after != std::string_view::npos) detail = detail.substr(0, after);
  return {broker, std::string(detail)};
}

}  // namespace

std::string KafkaHandle::connection_failure() const {
  std::lock_guard<std::mutex> lock(log_mutex_);
  if (broker_failures_.empty()) return "cannot connect to any broker (all brokers are down)";
  std::vector<std::string> parts;
  for (const auto& [broker, reason] : broker_failures_) {
    parts.push_back(broker.empty() ? reason : fmt::format("{}: {}", broker, reason));
  }
  if (parts.size() == 1) return "cannot connect to " + parts[0];
  return fmt::format("cannot connect to any broker: {}", fmt::join(parts, "; "));
}

void KafkaHandle::error_trampoline(rd_kafka_t* rk, int err, const char* reason, void* opaque) {
  auto* self = static_cast<KafkaHandle*>(opaque);
  if (self == nullptr) return;
  std::string text = reason != nullptr ? reason : "";
  if (self->verbose_logs_) std::fprintf(stderr, "librdkafka error: %s\n", text.c_str());
  std::lock_guard<std::mutex> lock(self->log_mutex_);
  if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) {
    self->all_brokers_down_ = true;
    return;
  }
  self->last_log_ = text;
  auto [broker, detail] = split_broker_reason(text);
  auto& failures = self->broker_failures_;
  auto same = [&broker = broker](const auto& failure) { return failure.first == broker; };
  auto it = std::find_if(failures.begin(), failures.end(), same);
  if (it != failures.end()) {
    it->second = detail;
  } else {
    failures.emplace_back(broker, detail);
  }
}

KafkaHandle::~KafkaHandle() {
  if (rk_ != nullptr) rd_kafka_destroy(rk_);
}

std::string KafkaHandle::last_log() const {
  std::lock_guard<std::mutex> lock(log_mutex_);
  return last_log_;
}

Status KafkaHandle::explain(Status status) const {
  if (status.code() != StatusCode::timed_out && status.code() != StatusCode::io_error) {
    return status;
  }
  std::string last = last_log();
  if (last.empty()) return status;
  return Status(status.code(), fmt::format("{} (last client error: {})", status.message(), last));
}

void KafkaHandle::log_trampoline(const rd_kafka_t* rk, int level, const char* facility,
                                 const char* message) {
  auto* self = static_cast<KafkaHandle*>(rd_kafka_opaque(rk));
  if (self == nullptr) return;
  if (self->verbose_logs_) std::fprintf(stderr, "librdkafka %d %s: %s\n", level, facility, message);
  if (level <= 4) {  // LOG_WARNING or worse
    std::lock_guard<std::mutex> lock(self->log_mutex_);
    self->last_log_ = message;
  }
}

void KafkaHandle::delivery_trampoline(rd_kafka_t* rk, const rd_kafka_message_t* message,
                                      void* opaque) {
  auto* self = static_cast<KafkaHandle*>(opaque);
  if (self != nullptr && self->on_delivery_) self->on_delivery_(*message);
}

}  // namespace cairn::client
