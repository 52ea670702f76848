// PartitionConfig: everything one partition needs from its topic's configuration — the storage
// knobs of its Log plus the produce-path checks — as typed values. It is made in one place,
// configs::partition_config (broker/configs/resolve.h), from the config catalog: the topic's
// overrides, then the broker layers, then the catalog's defaults. The PartitionManager gets
// that function as its ConfigResolver. The member defaults below are only what a
// default-constructed value holds (Kafka's defaults, for tests that need any config).
// Plain values; any thread.
#pragma once

#include <cstdint>
#include <limits>

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

}  // namespace cairn::broker
