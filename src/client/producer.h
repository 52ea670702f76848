// Producer: sends records to one topic and reports each delivery through a callback.
//
// Lifecycle: create() -> produce()* -> flush(). produce() only queues the record (and blocks,
// serving delivery reports, while librdkafka's local queue is full); the delivery callback
// runs on the caller's thread from inside produce(), poll() or flush(). A record is durable
// by the broker's acks rule only once its Delivery has an ok status.
// Destroying a producer with records still queued drops them (their deliveries never run).
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "base/status.h"
#include "client/kafka_handle.h"
#include "client/record.h"

namespace cairn::client {

class Producer {
 public:
  using OnDelivery = std::function<void(const Delivery&)>;

  // `settings` are producer properties (acks, compression.type, ...) applied before -X.
  static Result<std::unique_ptr<Producer>> create(const ClientOptions& options,
                                                  const Settings& settings, OnDelivery on_delivery);
  ~Producer();

  // Queues one record; `sequence` comes back in its Delivery.
  Status produce(const std::string& topic, const OutgoingRecord& record, uint64_t sequence);
  // Serves delivery reports for up to timeout_ms.
  void poll(int timeout_ms);
  // Waits until every queued record has its Delivery, for at most timeout_ms.
  Status flush(int timeout_ms);

  const KafkaHandle& handle() const { return *handle_; }

 private:
  Producer() = default;
  void on_message(const rd_kafka_message_t& message);

  std::unique_ptr<KafkaHandle> handle_;
  OnDelivery on_delivery_;
};

}  // namespace cairn::client
