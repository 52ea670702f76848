// Glue shared by the admin handlers (CreateTopics, DeleteTopics, CreatePartitions,
// AlterConfigs, IncrementalAlterConfigs, DeleteRecords): config changes (computed and committed
// on the MetaWriter's one thread, which makes each read-modify-write atomic and keeps its
// fsync off the shards), and applying a changed config to the partitions' logs. Their errors
// go to the wire through kafka_error (error_code.h).
//
// Threads: any shard.
#pragma once

#include <asio.hpp>
#include <string>
#include <vector>

#include "base/status.h"
#include "broker/broker_state.h"
#include "broker/configs/alter.h"
#include "broker/error_code.h"
#include "broker/request_context.h"

namespace cairn::broker {

// Applies what `topic` resolves to now (its overrides in the newest registry snapshot and the
// broker layers) to every partition's log and produce checks. not_found if it is gone.
asio::awaitable<Status> apply_topic_config(const BrokerState* broker, std::string topic);
// The same for every topic, after a broker-wide default changed. Returns the first error.
asio::awaitable<Status> apply_all_topic_configs(const BrokerState* broker);

// Kafka's check for a config resource: `operation` (DESCRIBE_CONFIGS or ALTER_CONFIGS) on the
// topic, or on the cluster for BROKER and BROKER_LOGGER. The error to answer: none when
// allowed, TOPIC_ / CLUSTER_AUTHORIZATION_FAILED otherwise (other types: none, they fail later).
ErrorCode config_authorization(const RequestContext& ctx, int8_t resource_type,
                               const std::string& name, AclOperation operation);

struct AlterAnswer {
  ErrorCode error = ErrorCode::none;
  std::string message;
};

// AlterConfigs (incremental = false: `entries` replace the resource's whole override set) and
// IncrementalAlterConfigs (incremental = true) for one TOPIC or BROKER resource: validates,
// then (unless validate_only) commits durably and applies the result to the logs. BROKER
// "<node id>" is the per-broker dynamic layer, BROKER "" the cluster-wide default; other
// names, and other resource types, are INVALID_REQUEST.
asio::awaitable<AlterAnswer> alter_resource(const BrokerState* broker, configs::ResourceType type,
                                            std::string name,
                                            std::vector<configs::AlterEntry> entries,
                                            bool incremental, bool validate_only);

}  // namespace cairn::broker
