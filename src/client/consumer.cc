#include "client/consumer.h"

#include <fmt/format.h>

namespace cairn::client {

namespace {

IncomingRecord convert_record(const rd_kafka_message_t& message) {
  IncomingRecord record;
  record.topic = rd_kafka_topic_name(message.rkt);
  record.partition = message.partition;
  record.offset = message.offset;
  rd_kafka_timestamp_type_t type;
  record.timestamp_ms = rd_kafka_message_timestamp(&message, &type);
  if (message.key != nullptr) {
    record.key.emplace(static_cast<const char*>(message.key), message.key_len);
  }
  if (message.payload != nullptr) {
    record.value.emplace(static_cast<const char*>(message.payload), message.len);
  }
  rd_kafka_headers_t* headers = nullptr;
  if (rd_kafka_message_headers(&message, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    const char* name = nullptr;
    const void* value = nullptr;
    size_t size = 0;
    for (size_t i = 0;
         rd_kafka_header_get_all(headers, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR;
         i++) {
      Header header{name, std::nullopt};
      if (value != nullptr) header.value.emplace(static_cast<const char*>(value), size);
      record.headers.push_back(std::move(header));
    }
  }
  return record;
}

// Turns one message (a record, a partition end or an error) into an event.
ConsumerEvent convert_message(const KafkaHandle& handle, const rd_kafka_message_t& message) {
  ConsumerEvent event;
  if (message.err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    event.kind = ConsumerEvent::Kind::record;
    event.record = convert_record(message);
    return event;
  }
  if (message.err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
    event.kind = ConsumerEvent::Kind::partition_end;
    event.record.topic = rd_kafka_topic_name(message.rkt);
    event.partition = message.partition;
    event.offset = message.offset;
    return event;
  }
  event.kind = ConsumerEvent::Kind::error;
  std::string context = message.rkt != nullptr
                            ? fmt::format("reading topic '{}' partition {}",
                                          rd_kafka_topic_name(message.rkt), message.partition)
                            : std::string("consuming");
  if (message.payload != nullptr && message.len > 0) {
    context += fmt::format(
        " ({})", std::string_view(static_cast<const char*>(message.payload), message.len));
  }
  event.status = handle.explain(kafka_status(message.err, context));
  event.fatal = message.err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC ||
                message.err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
                message.err == RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION ||
                message.err == RD_KAFKA_RESP_ERR__FATAL ||
                message.err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED ||
                message.err == RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED;
  return event;
}

}  // namespace

Result<std::unique_ptr<PartitionReader>> PartitionReader::create(const ClientOptions& options,
                                                                 bool report_ends) {
  std::unique_ptr<PartitionReader> reader(new PartitionReader());
  auto handle =
      KafkaHandle::create(HandleKind::consumer, options,
                          {{"enable.partition.eof", report_ends ? "true" : "false"},
                           {"allow.auto.create.topics", "false"},
                           // Without a group the reader has nowhere to keep offsets; an offset
                           // outside the log restarts at the nearer end, as kcat does.
                           {"auto.offset.reset", "earliest"},
                           {"enable.auto.commit", "false"}});
  if (!handle.ok()) return handle.status();
  reader->handle_ = std::move(*handle);
  reader->queue_ = rd_kafka_queue_new(reader->handle_->get());
  return reader;
}

PartitionReader::~PartitionReader() {
  for (const auto& [topic, partition] : started_) rd_kafka_consume_stop(topic, partition);
  if (queue_ != nullptr) rd_kafka_queue_destroy(queue_);
  for (rd_kafka_topic_t* topic : topics_) rd_kafka_topic_destroy(topic);
}

Status PartitionReader::start(const std::string& topic,
                              const std::vector<std::pair<int32_t, int64_t>>& starts) {
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(handle_->get(), topic.c_str(), nullptr);
  if (rkt == nullptr) {
    return kafka_status(rd_kafka_last_error(), fmt::format("topic '{}'", topic));
  }
  topics_.push_back(rkt);
  for (const auto& [partition, offset] : starts) {
    if (rd_kafka_consume_start_queue(rkt, partition, offset, queue_) != 0) {
      return kafka_status(rd_kafka_last_error(),
                          fmt::format("starting topic '{}' partition {}", topic, partition));
    }
    started_.emplace_back(rkt, partition);
  }
  return Status::ok_status();
}

ConsumerEvent PartitionReader::poll(int timeout_ms) {
  rd_kafka_message_t* message = rd_kafka_consume_queue(queue_, timeout_ms);
  if (message == nullptr) return ConsumerEvent{};
  ConsumerEvent event = convert_message(*handle_, *message);
  rd_kafka_message_destroy(message);
  return event;
}

Result<std::unique_ptr<GroupConsumer>> GroupConsumer::create(const ClientOptions& options,
                                                             const std::string& group,
                                                             const std::string& auto_offset_reset,
                                                             bool report_ends) {
  std::unique_ptr<GroupConsumer> consumer(new GroupConsumer());
  auto handle = KafkaHandle::create(HandleKind::consumer, options,
                                    {{"group.id", group},
                                     {"enable.partition.eof", report_ends ? "true" : "false"},
                                     {"auto.offset.reset", auto_offset_reset},
                                     {"enable.auto.offset.store", "false"},
                                     {"allow.auto.create.topics", "false"}});
  if (!handle.ok()) return handle.status();
  consumer->handle_ = std::move(*handle);
  rd_kafka_poll_set_consumer(consumer->handle_->get());
  return consumer;
}

GroupConsumer::~GroupConsumer() {
  // No handle when create() failed (e.g. no broker reachable): nothing to commit or leave.
  if (!closed_ && handle_ != nullptr) (void)close();
}

Status GroupConsumer::subscribe(const std::vector<std::string>& topics) {
  rd_kafka_topic_partition_list_t* list =
      rd_kafka_topic_partition_list_new(static_cast<int>(topics.size()));
  for (const std::string& topic : topics) {
    rd_kafka_topic_partition_list_add(list, topic.c_str(), RD_KAFKA_PARTITION_UA);
  }
  rd_kafka_resp_err_t err = rd_kafka_subscribe(handle_->get(), list);
  rd_kafka_topic_partition_list_destroy(list);
  return kafka_status(err, "subscribing");
}

ConsumerEvent GroupConsumer::poll(int timeout_ms) {
  rd_kafka_message_t* message = rd_kafka_consumer_poll(handle_->get(), timeout_ms);
  if (message == nullptr) return ConsumerEvent{};
  ConsumerEvent event = convert_message(*handle_, *message);
  rd_kafka_message_destroy(message);
  return event;
}

Status GroupConsumer::store(const IncomingRecord& record) {
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(list, record.topic.c_str(), record.partition)->offset =
      record.offset + 1;
  rd_kafka_resp_err_t err = rd_kafka_offsets_store(handle_->get(), list);
  rd_kafka_topic_partition_list_destroy(list);
  return kafka_status(err, "storing the consumed offset");
}

std::vector<TopicPartition> GroupConsumer::assignment() {
  std::vector<TopicPartition> partitions;
  rd_kafka_topic_partition_list_t* list = nullptr;
  if (rd_kafka_assignment(handle_->get(), &list) != RD_KAFKA_RESP_ERR_NO_ERROR) return partitions;
  for (int i = 0; i < list->cnt; i++) {
    partitions.push_back({list->elems[i].topic, list->elems[i].partition});
  }
  rd_kafka_topic_partition_list_destroy(list);
  return partitions;
}

Status GroupConsumer::close() {
  closed_ = true;
  // Synchronous commit of what store() marked; "no offset" just means nothing was read.
  rd_kafka_resp_err_t err = rd_kafka_commit(handle_->get(), nullptr, 0);
  Status status;
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR && err != RD_KAFKA_RESP_ERR__NO_OFFSET) {
    status = handle_->explain(kafka_status(err, "committing offsets"));
  }
  rd_kafka_resp_err_t close_err = rd_kafka_consumer_close(handle_->get());
  if (status.ok() && close_err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    status = kafka_status(close_err, "leaving the group");
  }
  return status;
}

}  // namespace cairn::client
