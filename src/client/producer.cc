#include "client/producer.h"

#include <fmt/format.h>

#include <chrono>

namespace cairn::client {

Result<std::unique_ptr<Producer>> Producer::create(const ClientOptions& options,
                                                   const Settings& settings,
                                                   OnDelivery on_delivery) {
  std::unique_ptr<Producer> producer(new Producer());
  producer->on_delivery_ = std::move(on_delivery);
  Producer* self = producer.get();
  auto handle = KafkaHandle::create(HandleKind::producer, options, settings,
                                    [self](const rd_kafka_message_t& m) { self->on_message(m); });
  if (!handle.ok()) return handle.status();
  producer->handle_ = std::move(*handle);
  return producer;
}

Producer::~Producer() {
  if (handle_ != nullptr) {
    // Drop whatever was not flushed so destruction cannot wait on an unreachable cluster.
    rd_kafka_purge(handle_->get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
  }
}

void Producer::on_message(const rd_kafka_message_t& message) {
  Delivery delivery;
  delivery.sequence = reinterpret_cast<uintptr_t>(message._private);
  delivery.topic = rd_kafka_topic_name(message.rkt);
  delivery.partition = message.partition;
  delivery.offset = message.offset;
  rd_kafka_timestamp_type_t type;
  delivery.timestamp_ms = rd_kafka_message_timestamp(&message, &type);
  delivery.status =
      handle_->explain(kafka_status(message.err, fmt::format("delivering record {} to topic '{}'",
                                                             delivery.sequence, delivery.topic)));
  if (on_delivery_) on_delivery_(delivery);
}

Status Producer::produce(const std::string& topic, const OutgoingRecord& record,
                         uint64_t sequence) {
  auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(handle_->timeout_ms());
  while (true) {
    rd_kafka_headers_t* headers = nullptr;
    if (!record.headers.empty()) {
      headers = rd_kafka_headers_new(record.headers.size());
      for (const Header& h : record.headers) {
        rd_kafka_header_add(headers, h.key.data(), static_cast<ssize_t>(h.key.size()),
                            h.value ? h.value->data() : nullptr,
                            h.value ? static_cast<ssize_t>(h.value->size()) : 0);
      }
    }
    void* opaque = reinterpret_cast<void*>(static_cast<uintptr_t>(sequence));
    const void* key = record.key ? record.key->data() : nullptr;
    size_t key_size = record.key ? record.key->size() : 0;
    void* value = record.value ? const_cast<char*>(record.value->data()) : nullptr;
    size_t value_size = record.value ? record.value->size() : 0;
    rd_kafka_resp_err_t err = rd_kafka_producev(
        handle_->get(), RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(record.partition),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY(key, key_size),
        RD_KAFKA_V_VALUE(value, value_size), RD_KAFKA_V_TIMESTAMP(record.timestamp_ms),
        RD_KAFKA_V_HEADERS(headers), RD_KAFKA_V_OPAQUE(opaque), RD_KAFKA_V_END);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return Status::ok_status();  // headers now owned
    if (headers != nullptr) rd_kafka_headers_destroy(headers);
    if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL || std::chrono::steady_clock::now() > deadline) {
      return handle_->explain(
          kafka_status(err, fmt::format("producing record {} to topic '{}'", sequence, topic)));
    }
    poll(100);  // the queue drains as deliveries complete
  }
}

void Producer::poll(int timeout_ms) { rd_kafka_poll(handle_->get(), timeout_ms); }

Status Producer::flush(int timeout_ms) {
  rd_kafka_resp_err_t err = rd_kafka_flush(handle_->get(), timeout_ms);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return handle_->explain(kafka_status(
        err, fmt::format("waiting for {} undelivered records", rd_kafka_outq_len(handle_->get()))));
  }
  return Status::ok_status();
}

}  // namespace cairn::client
