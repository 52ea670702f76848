// Plain values the CLI's Kafka clients exchange: records, offsets, watermarks, per-item
// results. No librdkafka types here, so formatting and parsing code (format.h, offset_spec.h)
// can be unit-tested without a cluster. Values only; safe to move between threads.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "base/status.h"

namespace cairn::client {

struct Header {
  std::string key;
  std::optional<std::string> value;  // nullopt: a null header value
};

// A record read from a partition.
struct IncomingRecord {
  std::string topic;
  int32_t partition = -1;
  int64_t offset = -1;
  int64_t timestamp_ms = -1;  // -1 when the record carries none
  std::optional<std::string> key;
  std::optional<std::string> value;
  std::vector<Header> headers;
};

// A record to produce. partition -1 lets the partitioner choose (by key hash when keyed).
struct OutgoingRecord {
  std::optional<std::string> key;
  std::optional<std::string> value;  // nullopt: a tombstone
  std::vector<Header> headers;
  int32_t partition = -1;
  int64_t timestamp_ms = 0;  // 0: the client stamps the current time
};

// What happened to one produced record.
struct Delivery {
  uint64_t sequence = 0;  // the caller's number for the record (input order)
  std::string topic;
  int32_t partition = -1;
  int64_t offset = -1;
  int64_t timestamp_ms = -1;
  Status status;
};

// Log start offset and high watermark of a partition: records live in [low_offset, high_offset).
struct Watermarks {
  int64_t low_offset = 0;
  int64_t high_offset = 0;
};

struct TopicPartition {
  std::string topic;
  int32_t partition = -1;
  bool operator<(const TopicPartition& other) const {
    return std::tie(topic, partition) < std::tie(other.topic, other.partition);
  }
  bool operator==(const TopicPartition& other) const = default;
};

struct TopicPartitionOffset {
  std::string topic;
  int32_t partition = -1;
  int64_t offset = -1;  // -1 (RD_KAFKA_OFFSET_INVALID): no committed offset
  Status status;
};

// The outcome of one item (a topic, a group) of a batched admin request.
struct ItemResult {
  std::string name;
  Status status;
};

}  // namespace cairn::client
