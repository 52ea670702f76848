// Broker-level configs: the static layer (config file and flags, in BrokerConfig) and the
// dynamic layers (AlterConfigs / IncrementalAlterConfigs on the BROKER resource), which
// DynamicConfigStore keeps in DATA_DIR/meta/broker_configs.json.
//
// Thread safety: finish_broker_config runs once, before the server starts. DynamicConfigStore
// follows TopicRegistry's rule: snapshot() from any shard (an atomic shared_ptr load, no lock);
// replace() from any shard, serialized by a mutex, persisted (fsync) before it is published,
// so it blocks the calling shard briefly — admin requests only.
//
// File format (docs/format/meta.md): JSON {"format": 1, "broker": {name: value},
// "cluster_default": {name: value}}.
#pragma once

#include <atomic>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "base/status.h"
#include "broker/config.h"
#include "storage/io.h"

namespace cairn::broker::configs {

using ConfigMap = std::map<std::string, std::string, std::less<>>;

// Checks every entry of config.kafka_configs (known broker config, legal value), normalizes
// the values and fills the typed fields (num_partitions, auto_create_topics_enable, ...).
// Errors: invalid_argument naming the bad entry.
Status finish_broker_config(BrokerConfig& config);

// The value of broker config `name` in `configs` (checked by finish_broker_config), else the
// catalog's default. REQUIRES: `name` is in the catalog with a default.
std::string broker_config_value(const ConfigMap& configs, std::string_view name);

struct DynamicBrokerConfigs {
  ConfigMap broker;           // DYNAMIC_BROKER_CONFIG: set on resource BROKER "<node id>"
  ConfigMap cluster_default;  // DYNAMIC_DEFAULT_BROKER_CONFIG: set on resource BROKER ""
};

class DynamicConfigStore {
 public:
  // Loads `meta_dir`/broker_configs.json (absent: nothing set). Malformed: corrupt. Entries
  // that are no longer dynamic broker configs (or no longer valid) are dropped with a warning.
  // Reads and later writes through `io`, which must outlive the store.
  static Result<std::unique_ptr<DynamicConfigStore>> open(const std::filesystem::path& meta_dir,
                                                          storage::Io& io);

  std::shared_ptr<const DynamicBrokerConfigs> snapshot() const { return table_.load(); }

  // Replaces one layer with `configs` (already validated by the caller). Errors: io_error /
  // no_space (nothing changed).
  Status replace(bool cluster_default, ConfigMap configs);

 private:
  DynamicConfigStore(storage::Io& io, std::filesystem::path path,
                     std::shared_ptr<const DynamicBrokerConfigs> t);

  storage::Io& io_;
  std::filesystem::path path_;
  std::mutex write_mutex_;
  std::atomic<std::shared_ptr<const DynamicBrokerConfigs>> table_;
};

}  // namespace cairn::broker::configs
