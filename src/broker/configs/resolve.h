// Config resolution: the value a topic or the broker actually has for each config, where it
// came from, and its synonyms (what DescribeConfigs reports), plus the typed PartitionConfig
// the data path enforces (storage::LogConfig, max.message.bytes, message.timestamp.type).
//
// A topic config resolves as: topic override (DYNAMIC_TOPIC_CONFIG) -> its broker synonyms,
// source by source: per-broker dynamic (DYNAMIC_BROKER_CONFIG), cluster-default dynamic
// (DYNAMIC_DEFAULT_BROKER_CONFIG), static file/flags (STATIC_BROKER_CONFIG), each in synonym
// order (log.retention.ms before log.retention.minutes before log.retention.hours) -> the
// built-in default (DEFAULT_CONFIG). A broker config resolves the same way minus the topic.
//
// Pure functions over immutable inputs; any thread. Callers take one Layers per request so a
// request sees one consistent view.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "broker/broker_state.h"
#include "broker/configs/broker_configs.h"
#include "broker/configs/config_defs.h"
#include "broker/partitions/partition_config.h"
#include "broker/partitions/partition_manager.h"

namespace cairn::broker::configs {

// The broker layers of one resolution.
struct Layers {
  const ConfigMap* static_configs = nullptr;            // BrokerConfig::kafka_configs
  std::shared_ptr<const DynamicBrokerConfigs> dynamic;  // never null
};

// The layers of `broker` now. REQUIRES: broker.dynamic_configs is set.
Layers layers_of(const BrokerState& broker);

struct Synonym {
  std::string name;
  std::optional<std::string> value;
  ConfigSource source = ConfigSource::unknown;
};

struct Resolved {
  const ConfigDef* def = nullptr;
  std::optional<std::string> value;  // null only for a broker config without a default
  ConfigSource source = ConfigSource::default_config;
  // Where the value could come from, highest precedence first; the first is the winner.
  std::vector<Synonym> synonyms;
};

// REQUIRES: `def` is a topic config (topic_config_defs()).
Resolved resolve_topic_config(const Layers& layers, const ConfigMap& overrides,
                              const ConfigDef& def);
// REQUIRES: `def` is a broker config (broker_config_defs()).
Resolved resolve_broker_config(const Layers& layers, const ConfigDef& def);

// Durations are clamped to this so that `now + duration` cannot overflow in the storage code
// (Kafka's "never" is Long.MAX_VALUE; 10^15 ms is 31,000 years).
inline constexpr int64_t kDurationMsMax = 1'000'000'000'000'000;

// What Cairn enforces for a topic with `overrides`: its Log's config (segment.*, retention.*,
// index.interval.bytes, flush.ms) and the produce checks (max.message.bytes,
// message.timestamp.type, message.timestamp.difference.max.ms). A compact-only cleanup.policy
// turns time and size retention off (Kafka's rule), whatever retention.ms/bytes say.
// Overrides that no longer validate (a hand-edited topics.json) are ignored.
PartitionConfig partition_config(const Layers& layers, const ConfigMap& overrides);

// The PartitionManager's resolver (PartitionManagerOptions::resolver): partition_config over
// `static_configs` (BrokerConfig::kafka_configs, copied) and the store's dynamic layers at
// the moment of each call. `store` must outlive the resolver. Thread-safe.
ConfigResolver partition_resolver(ConfigMap static_configs, const DynamicConfigStore* store);

// log.retention.check.interval.ms of `config` (after finish_broker_config).
std::chrono::milliseconds retention_check_interval(const BrokerConfig& config);

// The cleaner's broker configs of `config` (after finish_broker_config) in `options`, for a
// broker of `shard_count` shards: log.cleaner.enable, log.cleaner.backoff.ms and
// log.cleaner.io.buffer.size (the bytes of one step) as they are; Kafka's totals across its
// cleaner threads, log.cleaner.dedupe.buffer.size and log.cleaner.io.max.bytes.per.second,
// split evenly between the shards, each of which runs one cleaner. REQUIRES: shard_count > 0.
void set_cleaner_options(const BrokerConfig& config, uint32_t shard_count,
                         PartitionManagerOptions& options);

}  // namespace cairn::broker::configs
