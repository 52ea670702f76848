// The broker's startup configuration (from `cairn serve` flags and the YAML file given with
// --config, see docs/configuration.md). Read-only once the server starts; any thread.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>

#include "base/types.h"
#include "net/frame.h"
#include "net/listener.h"

namespace cairn::broker {

struct BrokerConfig {
  net::HostPort listen{"127.0.0.1", 9092};
  // What Metadata tells clients to connect to. Default: the listen host and the bound port.
  std::optional<net::HostPort> advertise;
  std::filesystem::path data_dir = "./data";
  NodeId node_id{0};
  uint32_t shard_count = 1;
  net::ConnectionLimits limits;
  // The most partitions each shard may host (all topics', internal ones included): the
  // broker's ceiling is this times shard_count (PartitionManager::admit_partitions).
  uint32_t max_partitions_per_shard = 5000;

  // Kafka broker configs set in the config file (`kafka:` section) or by flags, by their Kafka
  // names ("log.retention.ms" -> "86400000"): the STATIC_BROKER_CONFIG layer. Validated and
  // normalized by configs::finish_broker_config (broker/configs/broker_configs.h), which also
  // fills the typed fields below from it. Dynamic broker configs (AlterConfigs on the BROKER
  // resource) live in configs::DynamicConfigStore, not here.
  std::map<std::string, std::string, std::less<>> kafka_configs;
  // auto.create.topics.enable: Metadata/Produce for an unknown topic creates it.
  bool auto_create_topics_enable = true;
  // num.partitions: partitions of an auto-created topic, and of CreateTopics with -1.
  int32_t num_partitions = 1;
  // default.replication.factor: what CreateTopics with -1 reports (one node: only 1 is legal).
  int16_t default_replication_factor = 1;
  // delete.topic.enable: false makes DeleteTopics answer TOPIC_DELETION_DISABLED.
  bool delete_topic_enable = true;
};

}  // namespace cairn::broker
