// Helpers shared by the admin API's files (admin_api.h): error answers, request bodies, the
// Kafka error codes an action's reply carries mapped to HTTP statuses, and the partitions'
// offsets and sizes gathered from every shard. Any non-shard thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"
#include "broker/admin/admin_api.h"
#include "broker/partitions/partition_manager.h"

namespace cairn::broker::admin {

// {"error": message} with `status`.
Answer error_answer(int status, std::string message);
// A failed call into the shards: 504 when one did not answer in time, else 500.
Answer status_answer(const Status& status);
// A Kafka error code from an action's reply: 404 for an unknown topic or group, 409 for a
// conflict (the topic exists, the group has members), 400 for invalid input, 503/504 when the
// broker is busy, 500 otherwise. The body names the Kafka error and carries `message`.
Answer kafka_error_answer(int16_t error_code, const std::optional<std::string>& message);

// The body as a JSON object, or the 400 answer saying why not.
Result<nlohmann::json> parse_object(const std::string& body);
// The boolean `key` of `input` (false when absent); invalid_argument when it is no boolean.
Result<bool> optional_flag(const nlohmann::json& input, const char* key);

// Kafka's name of the config source of DescribeConfigs ("DYNAMIC_TOPIC_CONFIG", ...).
const char* config_source_name(int8_t source);
// A topic id as Kafka prints it: URL-safe base64 without padding.
std::string topic_id_text(const std::array<uint8_t, 16>& id);

using PartitionKey = std::pair<std::string, int32_t>;  // (topic, partition)
// Every shard's partition samples (partition_manager.h), by topic and partition; nullopt when
// a shard did not answer within `timeout`.
std::optional<std::map<PartitionKey, PartitionSample>> gather_partitions(
    const BrokerState& state, std::chrono::milliseconds timeout);

}  // namespace cairn::broker::admin
