// Readers of records.
//
// PartitionReader reads chosen partitions of one topic from chosen offsets, with no consumer
// group (no coordinator, no commits): what `cairn consume` does without -g.
// GroupConsumer subscribes to topics as a member of a consumer group and commits the offsets
// of the records the caller marks as processed (store()); what `cairn consume -g` does.
//
// Both hand out ConsumerEvents from poll(), on the caller's thread; one thread at a time.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"
#include "client/kafka_handle.h"
#include "client/record.h"

namespace cairn::client {

struct ConsumerEvent {
  enum class Kind { none, record, partition_end, error };
  Kind kind = Kind::none;
  IncomingRecord record;   // kind == record (for partition_end only .topic is set)
  int32_t partition = -1;  // kind == partition_end: the partition that reached its end
  int64_t offset = -1;     // kind == partition_end: the end offset reached
  Status status;           // kind == error
  bool fatal = false;      // kind == error: the reader cannot go on
};

class PartitionReader {
 public:
  // Reports partition_end events (enable.partition.eof) when `report_ends` is set.
  static Result<std::unique_ptr<PartitionReader>> create(const ClientOptions& options,
                                                         bool report_ends);
  ~PartitionReader();

  const KafkaHandle& handle() const { return *handle_; }

  // Starts reading `topic` at each (partition, offset); offsets may be librdkafka's logical
  // RD_KAFKA_OFFSET_BEGINNING / _END. REQUIRES: called at most once per topic.
  Status start(const std::string& topic, const std::vector<std::pair<int32_t, int64_t>>& starts);
  ConsumerEvent poll(int timeout_ms);

 private:
  PartitionReader() = default;

  std::unique_ptr<KafkaHandle> handle_;
  rd_kafka_queue_t* queue_ = nullptr;
  std::vector<rd_kafka_topic_t*> topics_;
  std::vector<std::pair<rd_kafka_topic_t*, int32_t>> started_;
};

class GroupConsumer {
 public:
  // `auto_offset_reset` is "earliest" or "latest": where a partition without a committed
  // offset starts.
  // Reports partition_end events when `report_ends` is set.
  static Result<std::unique_ptr<GroupConsumer>> create(const ClientOptions& options,
                                                       const std::string& group,
                                                       const std::string& auto_offset_reset,
                                                       bool report_ends);
  ~GroupConsumer();

  const KafkaHandle& handle() const { return *handle_; }

  Status subscribe(const std::vector<std::string>& topics);
  ConsumerEvent poll(int timeout_ms);
  // Marks `record` processed: its offset + 1 is committed by the next commit.
  Status store(const IncomingRecord& record);
  // The partitions the group currently assigns to this member.
  std::vector<TopicPartition> assignment();
  // Commits the stored offsets synchronously and leaves the group.
  Status close();

 private:
  GroupConsumer() = default;

  std::unique_ptr<KafkaHandle> handle_;
  bool closed_ = false;
};

}  // namespace cairn::client
