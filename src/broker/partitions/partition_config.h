// PartitionConfig: everything one partition needs from its topic's configuration — the storage
// knobs of its Log plus the produce-path checks — resolved from the broker-wide defaults
// (BrokerConfig::topic_defaults) and the topic's overrides (TopicInfo::configs, Kafka names).
//
// resolve_partition_config is the one place that turns Kafka topic config strings into typed
// values for the data path. It reads only the keys below and ignores every other key (admin
// validation decides which keys and values are legal; an override it cannot parse here is an
// error, invalid_argument):
//
//   segment.bytes  segment.ms  index.interval.bytes  retention.bytes  retention.ms  flush.ms
//   max.message.bytes  message.timestamp.type (CreateTime | LogAppendTime)
//   message.timestamp.difference.max.ms
//
// Defaults are Kafka's (log.segment.bytes 1 GiB, log.retention.hours 168, message.max.bytes
// 1048588, CreateTime, no timestamp difference limit) except flush.ms, where Cairn flushes
// acks=1 data within a second instead of leaving it to the OS.
// Plain values and a pure function; any thread.
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <string>

#include "base/status.h"
#include "storage/config.h"

namespace cairn::broker {

// Kafka's message.timestamp.type.
enum class TimestampType : uint8_t { create_time, log_append_time };

struct PartitionConfig {
  storage::LogConfig log;
  // max.message.bytes: the largest record batch (after compression, log overhead included)
  // a producer may append. Bigger: MESSAGE_TOO_LARGE.
  int32_t max_message_bytes = 1048588;
  // message.timestamp.type: LogAppendTime makes the broker stamp every batch with its clock.
  TimestampType timestamp_type = TimestampType::create_time;
  // message.timestamp.difference.max.ms: with CreateTime, a batch whose timestamps are further
  // than this from the broker's clock is refused with INVALID_TIMESTAMP.
  int64_t timestamp_difference_max_ms = std::numeric_limits<int64_t>::max();

  bool operator==(const PartitionConfig&) const = default;
};

// Kafka's default message.max.bytes (1 MiB + the 12-byte log overhead).
inline constexpr int32_t kDefaultMaxMessageBytes = 1048588;

// `defaults` with the overrides applied (see the header comment). Errors: invalid_argument
// naming the key, when a known key's value does not parse or is out of range.
Result<PartitionConfig> resolve_partition_config(
    const PartitionConfig& defaults,
    const std::map<std::string, std::string, std::less<>>& overrides);

}  // namespace cairn::broker
