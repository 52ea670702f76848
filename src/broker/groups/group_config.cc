#include "broker/groups/group_config.h"

#include <charconv>

namespace cairn::broker::groups {

namespace {

// The value of `name` if set, parsed as an integer in [min, max].
Status read_integer(const std::map<std::string, std::string, std::less<>>& configs,
                    std::string_view name, int64_t min, int64_t max, int64_t* out) {
  auto it = configs.find(name);
  if (it == configs.end()) return Status();
  const std::string& text = it->second;
  int64_t value = 0;
  auto [end, parse_error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (parse_error != std::errc() || end != text.data() + text.size() || value < min ||
      value > max) {
    return error(StatusCode::invalid_argument,
                 std::string(name) + ": '" + text + "' is not an integer in [" +
                     std::to_string(min) + ", " + std::to_string(max) + "]");
  }
  *out = value;
  return Status();
}

}  // namespace

Result<GroupConfig> group_config_from(
    const std::map<std::string, std::string, std::less<>>& kafka_configs) {
  GroupConfig config;
  constexpr int64_t kIntMax = INT32_MAX;
  int64_t min_session = config.min_session_timeout_ms;
  int64_t max_session = config.max_session_timeout_ms;
  int64_t initial_delay = config.initial_rebalance_delay_ms;
  int64_t max_size = config.max_group_size;
  int64_t retention_minutes = config.offsets_retention_ms / 60'000;
  int64_t check_interval = config.offsets_retention_check_interval_ms;
  int64_t partitions = config.offsets_topic_partition_count;
  int64_t metadata_max = config.offset_metadata_max_bytes;
  RETURN_IF_ERROR(
      read_integer(kafka_configs, "group.min.session.timeout.ms", 1, kIntMax, &min_session));
  RETURN_IF_ERROR(
      read_integer(kafka_configs, "group.max.session.timeout.ms", 1, kIntMax, &max_session));
  RETURN_IF_ERROR(
      read_integer(kafka_configs, "group.initial.rebalance.delay.ms", 0, kIntMax, &initial_delay));
  RETURN_IF_ERROR(read_integer(kafka_configs, "group.max.size", 1, kIntMax, &max_size));
  RETURN_IF_ERROR(
      read_integer(kafka_configs, "offsets.retention.minutes", 1, kIntMax, &retention_minutes));
  RETURN_IF_ERROR(read_integer(kafka_configs, "offsets.retention.check.interval.ms", 1,
                               INT64_MAX / 2, &check_interval));
  // A bound keeps the idle cost (one log per partition) in check.
  RETURN_IF_ERROR(
      read_integer(kafka_configs, "offsets.topic.num.partitions", 1, 1000, &partitions));
  RETURN_IF_ERROR(
      read_integer(kafka_configs, "offset.metadata.max.bytes", 0, kIntMax, &metadata_max));
  if (min_session > max_session) {
    return error(StatusCode::invalid_argument,
                 "group.min.session.timeout.ms is above group.max.session.timeout.ms");
  }
  config.min_session_timeout_ms = static_cast<int32_t>(min_session);
  config.max_session_timeout_ms = static_cast<int32_t>(max_session);
  config.initial_rebalance_delay_ms = static_cast<int32_t>(initial_delay);
  config.max_group_size = static_cast<uint32_t>(max_size);
  config.offsets_retention_ms = retention_minutes * 60'000;
  config.offsets_retention_check_interval_ms = check_interval;
  config.offsets_topic_partition_count = static_cast<int32_t>(partitions);
  config.offset_metadata_max_bytes = static_cast<int32_t>(metadata_max);
  return config;
}

}  // namespace cairn::broker::groups
