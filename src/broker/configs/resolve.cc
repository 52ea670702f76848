#include "broker/configs/resolve.h"

#include <algorithm>
#include <cstdlib>

#include "base/assert.h"

namespace cairn::broker::configs {
namespace {

// A broker value scaled to its topic config (hours -> ms). Negative means "no limit" in every
// duration/size config that has a multiplier, so it stays -1 rather than -3,600,000.
std::string scaled(std::string_view value, int64_t multiplier) {
  if (multiplier == 1) return std::string(value);
  int64_t number = parse_long(value);
  if (number < 0) return "-1";
  ASSERT(number <= kLongMax / multiplier);
  return std::to_string(number * multiplier);
}

const std::string* lookup(const ConfigMap* configs, std::string_view name) {
  if (configs == nullptr) return nullptr;
  auto it = configs->find(name);
  return it == configs->end() ? nullptr : &it->second;
}

struct Layer {
  const ConfigMap* configs;
  ConfigSource source;
};

std::array<Layer, 3> broker_layers(const Layers& layers) {
  ASSERT(layers.dynamic != nullptr);
  return {{{&layers.dynamic->broker, ConfigSource::dynamic_broker},
           {&layers.dynamic->cluster_default, ConfigSource::dynamic_default_broker},
           {layers.static_configs, ConfigSource::static_broker}}};
}

void finish(Resolved& resolved) {
  ASSERT(!resolved.synonyms.empty());
  resolved.value = resolved.synonyms.front().value;
  resolved.source = resolved.synonyms.front().source;
}

// The resolved value as a typed integer; a value that is not one is a bug (validated before).
int64_t long_of(const Layers& layers, const ConfigMap& overrides, std::string_view name) {
  const ConfigDef* def = find_topic_config(name);
  ASSERT(def != nullptr);
  Resolved resolved = resolve_topic_config(layers, overrides, *def);
  ASSERT(resolved.value.has_value());
  return parse_long(*resolved.value);
}

std::string string_of(const Layers& layers, const ConfigMap& overrides, std::string_view name) {
  const ConfigDef* def = find_topic_config(name);
  ASSERT(def != nullptr);
  Resolved resolved = resolve_topic_config(layers, overrides, *def);
  ASSERT(resolved.value.has_value());
  return *resolved.value;
}

int64_t clamp_duration(int64_t ms) { return std::min(ms, kDurationMsMax); }

}  // namespace

Layers layers_of(const BrokerState& broker) {
  ASSERT(broker.dynamic_configs != nullptr);
  return Layers{&broker.config.kafka_configs, broker.dynamic_configs->snapshot()};
}

Resolved resolve_topic_config(const Layers& layers, const ConfigMap& overrides,
                              const ConfigDef& def) {
  Resolved resolved;
  resolved.def = &def;
  if (const std::string* value = lookup(&overrides, def.name)) {
    resolved.synonyms.push_back({std::string(def.name), *value, ConfigSource::dynamic_topic});
  }
  for (const Layer& layer : broker_layers(layers)) {
    for (const BrokerSynonym& synonym : def.synonyms) {
      if (synonym.name.empty()) continue;
      if (const std::string* value = lookup(layer.configs, synonym.name)) {
        resolved.synonyms.push_back(
            {std::string(synonym.name), scaled(*value, synonym.multiplier), layer.source});
      }
    }
  }
  // The built-in default, under the broker synonym that carries it (Kafka lists it so).
  bool have_default = false;
  for (const BrokerSynonym& synonym : def.synonyms) {
    if (synonym.name.empty()) continue;
    const ConfigDef* broker_def = find_broker_config(synonym.name);
    if (broker_def == nullptr || !broker_def->default_value.has_value()) continue;
    resolved.synonyms.push_back({std::string(synonym.name),
                                 scaled(*broker_def->default_value, synonym.multiplier),
                                 ConfigSource::default_config});
    have_default = true;
    break;
  }
  if (!have_default) {
    std::optional<std::string> value;
    if (def.default_value.has_value()) value = std::string(*def.default_value);
    resolved.synonyms.push_back({std::string(def.name), value, ConfigSource::default_config});
  }
  finish(resolved);
  return resolved;
}

Resolved resolve_broker_config(const Layers& layers, const ConfigDef& def) {
  Resolved resolved;
  resolved.def = &def;
  for (const Layer& layer : broker_layers(layers)) {
    if (const std::string* value = lookup(layer.configs, def.name)) {
      resolved.synonyms.push_back({std::string(def.name), *value, layer.source});
    }
  }
  std::optional<std::string> value;
  if (def.default_value.has_value()) value = std::string(*def.default_value);
  resolved.synonyms.push_back({std::string(def.name), value, ConfigSource::default_config});
  finish(resolved);
  return resolved;
}

PartitionConfig partition_config(const Layers& layers, const ConfigMap& raw_overrides) {
  // Overrides were validated when they were set; one that no longer validates (a hand-edited
  // topics.json) is ignored here rather than taking the broker down.
  ConfigMap overrides;
  for (const auto& [name, value] : raw_overrides) {
    const ConfigDef* def = find_topic_config(name);
    if (def == nullptr) continue;
    Result<std::string> normalized = validate_value(*def, value);
    if (normalized.ok()) overrides.emplace(name, std::move(normalized).value());
  }
  PartitionConfig config;
  std::string policy = "," + string_of(layers, overrides, "cleanup.policy") + ",";
  bool cleanup_delete = policy.find(",delete,") != std::string::npos;
  bool cleanup_compact = policy.find(",compact,") != std::string::npos;

  storage::LogConfig& log = config.log;
  log.segment_bytes = static_cast<uint64_t>(long_of(layers, overrides, "segment.bytes"));
  log.segment_ms = clamp_duration(long_of(layers, overrides, "segment.ms"));
  log.index_interval_bytes = static_cast<uint64_t>(
      std::max<int64_t>(1, long_of(layers, overrides, "index.interval.bytes")));
  int64_t retention_bytes = long_of(layers, overrides, "retention.bytes");
  int64_t retention_ms = long_of(layers, overrides, "retention.ms");
  log.retention_bytes = retention_bytes < 0 || !cleanup_delete ? -1 : retention_bytes;
  log.retention_ms = retention_ms < 0 || !cleanup_delete ? -1 : clamp_duration(retention_ms);
  log.flush_interval_ms =
      std::clamp<int64_t>(long_of(layers, overrides, "flush.ms"), 1, kDurationMsMax);
  // Compaction (docs/compaction.md). A policy naming neither (not possible from the catalog's
  // validator, but cheap to guard) falls back to delete.
  log.cleanup_delete = cleanup_delete || !cleanup_compact;
  log.cleanup_compact = cleanup_compact;
  double ratio = std::strtod(string_of(layers, overrides, "min.cleanable.dirty.ratio").c_str(),
                             nullptr);
  log.min_cleanable_dirty_ratio = std::clamp(ratio, 0.0, 1.0);
  log.min_compaction_lag_ms =
      std::max<int64_t>(0, long_of(layers, overrides, "min.compaction.lag.ms"));
  // Kafka refuses max < min; each is validated alone here, so the larger wins.
  log.max_compaction_lag_ms = std::max(log.min_compaction_lag_ms,
                                       long_of(layers, overrides, "max.compaction.lag.ms"));
  log.max_compaction_lag_ms = std::max<int64_t>(1, log.max_compaction_lag_ms);
  log.delete_retention_ms =
      std::max<int64_t>(0, long_of(layers, overrides, "delete.retention.ms"));

  config.max_message_bytes = static_cast<int32_t>(long_of(layers, overrides, "max.message.bytes"));
  config.timestamp_type = string_of(layers, overrides, "message.timestamp.type") == "LogAppendTime"
                              ? TimestampType::log_append_time
                              : TimestampType::create_time;
  config.timestamp_difference_max_ms =
      long_of(layers, overrides, "message.timestamp.difference.max.ms");
  ASSERT(storage::validate(log).ok());
  return config;
}

ConfigResolver partition_resolver(ConfigMap static_configs, const DynamicConfigStore* store) {
  ASSERT(store != nullptr);
  auto shared = std::make_shared<const ConfigMap>(std::move(static_configs));
  return [shared, store](const TopicInfo& topic) -> Result<PartitionConfig> {
    return partition_config(Layers{shared.get(), store->snapshot()}, topic.configs);
  };
}

std::chrono::milliseconds retention_check_interval(const BrokerConfig& config) {
  auto it = config.kafka_configs.find("log.retention.check.interval.ms");
  int64_t ms = it == config.kafka_configs.end() ? 300'000 : parse_long(it->second);
  return std::chrono::milliseconds(std::clamp<int64_t>(ms, 1, kDurationMsMax));
}

void set_cleaner_options(const BrokerConfig& config, uint32_t shard_count,
                         PartitionManagerOptions& options) {
  ASSERT(shard_count > 0);
  auto value = [&config](std::string_view name) {
    return broker_config_value(config.kafka_configs, name);
  };
  options.cleaner_enabled = parse_bool(value("log.cleaner.enable"));
  options.cleaner_check_interval = std::chrono::milliseconds(
      std::clamp<int64_t>(parse_long(value("log.cleaner.backoff.ms")), 0, kDurationMsMax));
  options.cleaner_step_bytes =
      std::max<uint64_t>(1, static_cast<uint64_t>(parse_long(value("log.cleaner.io.buffer.size"))));
  options.cleaner_key_map_bytes =
      static_cast<uint64_t>(parse_long(value("log.cleaner.dedupe.buffer.size"))) / shard_count;
  // Kafka's default, Double.MAX_VALUE, means no throttle; so does anything past 2^63 bytes/s.
  double rate = parse_double(value("log.cleaner.io.max.bytes.per.second")) / shard_count;
  options.cleaner_bytes_per_second =
      rate >= 0x1p63 ? 0 : std::max<uint64_t>(1, static_cast<uint64_t>(rate));
}

}  // namespace cairn::broker::configs
