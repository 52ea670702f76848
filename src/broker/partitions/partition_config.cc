#include "broker/partitions/partition_config.h"

#include <algorithm>
#include <charconv>
#include <string_view>

namespace cairn::broker {
namespace {

Result<int64_t> parse_int(std::string_view key, std::string_view text, int64_t min, int64_t max) {
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < min || value > max) {
    return error(StatusCode::invalid_argument, "topic config " + std::string(key) + "=" +
                                                   std::string(text) + ": not an integer in [" +
                                                   std::to_string(min) + ", " +
                                                   std::to_string(max) + "]");
  }
  return value;
}

constexpr int64_t kFlushIntervalMsMax = 365LL * 24 * 3600 * 1000;

}  // namespace

Result<PartitionConfig> resolve_partition_config(
    const PartitionConfig& defaults,
    const std::map<std::string, std::string, std::less<>>& overrides) {
  PartitionConfig config = defaults;
  constexpr int64_t kLongMax = std::numeric_limits<int64_t>::max();
  for (const auto& [key, value] : overrides) {
    if (key == "segment.bytes") {
      auto v = parse_int(key, value, static_cast<int64_t>(storage::kSegmentBytesMin),
                         static_cast<int64_t>(storage::kSegmentBytesMax));
      if (!v.ok()) return v.status();
      config.log.segment_bytes = static_cast<uint64_t>(*v);
    } else if (key == "segment.ms") {
      auto v = parse_int(key, value, 1, kLongMax);
      if (!v.ok()) return v.status();
      config.log.segment_ms = *v;
    } else if (key == "index.interval.bytes") {
      auto v = parse_int(key, value, 1, std::numeric_limits<int32_t>::max());
      if (!v.ok()) return v.status();
      config.log.index_interval_bytes = static_cast<uint64_t>(*v);
    } else if (key == "retention.bytes") {
      auto v = parse_int(key, value, -1, kLongMax);
      if (!v.ok()) return v.status();
      config.log.retention_bytes = *v;
    } else if (key == "retention.ms") {
      auto v = parse_int(key, value, -1, kLongMax);
      if (!v.ok()) return v.status();
      config.log.retention_ms = *v;
    } else if (key == "flush.ms") {
      auto v = parse_int(key, value, 1, kLongMax);
      if (!v.ok()) return v.status();
      // Kafka's default is Long.MAX_VALUE ("never"); a deadline that far out would overflow
      // the flusher's clock arithmetic, and a year is "never" for a flush.
      config.log.flush_interval_ms = std::min<int64_t>(*v, kFlushIntervalMsMax);
    } else if (key == "max.message.bytes") {
      auto v = parse_int(key, value, 0, std::numeric_limits<int32_t>::max());
      if (!v.ok()) return v.status();
      config.max_message_bytes = static_cast<int32_t>(*v);
    } else if (key == "message.timestamp.type") {
      if (value == "CreateTime") {
        config.timestamp_type = TimestampType::create_time;
      } else if (value == "LogAppendTime") {
        config.timestamp_type = TimestampType::log_append_time;
      } else {
        return error(StatusCode::invalid_argument, "topic config message.timestamp.type=" + value +
                                                       ": not CreateTime or LogAppendTime");
      }
    } else if (key == "message.timestamp.difference.max.ms") {
      auto v = parse_int(key, value, 0, kLongMax);
      if (!v.ok()) return v.status();
      config.timestamp_difference_max_ms = *v;
    }
  }
  RETURN_IF_ERROR(storage::validate(config.log));
  return config;
}

}  // namespace cairn::broker
