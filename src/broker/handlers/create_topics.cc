// CreateTopics (key 19): creates topics with their partition count and config overrides.
//
// v7+ answers carry each created topic's id (KIP-516).
//
// Each topic is checked on its own, in Kafka's order, and gets its own error; the others go
// on. A name twice in one request: INVALID_REQUEST for it. Illegal name:
// INVALID_TOPIC_EXCEPTION. Exists (the internal __consumer_offsets and __transaction_state
// always do): TOPIC_ALREADY_EXISTS. Another internal name not in the registry:
// POLICY_VIOLATION. num_partitions 0 or
// < -1 (or above the registry's limit): INVALID_PARTITIONS; -1 means num.partitions. More
// partitions than the broker admits (its partition ceiling, its open files limit;
// PartitionManager::admit_partitions): POLICY_VIOLATION, with the limit in the message.
// replication_factor other than 1 or -1 (one node): INVALID_REPLICATION_FACTOR. Manual
// assignments together with a count: INVALID_REQUEST; assignments that are not partitions
// 0..n-1 each on exactly this broker: INVALID_REPLICA_ASSIGNMENT. Unknown config name or bad
// value: INVALID_CONFIG.
//
// Authorization: CREATE on the cluster or on the topic (else TOPIC_AUTHORIZATION_FAILED);
// without DESCRIBE_CONFIGS on it, v5+ answers topic_config_error_code instead of its configs.
//
// validate_only (v1+) runs every check and answers as if created, creating nothing. v5+ also
// returns the partition count, replication factor and every config of the (would-be) topic.
// The topic is durable in the registry and its logs exist before the answer; timeout_ms is
// not needed (creation completes within the request).
#include <spdlog/spdlog.h>

#include <map>
#include <string>

#include "broker/configs/alter.h"
#include "broker/configs/resolve.h"
#include "broker/error_code.h"
#include "broker/handlers/admin_support.h"
#include "broker/handlers/handlers.h"
#include "broker/handlers/immutable.h"
#include "broker/partitions/partition_manager.h"
#include "protocol/generated/create_topics.h"

namespace cairn::broker {
namespace {

using protocol::CreateTopicsRequest;
using protocol::CreateTopicsResponse;
using TopicResult = CreateTopicsResponse::CreatableTopicResult;

struct Plan {
  ErrorCode error = ErrorCode::none;
  std::string message;
  int32_t partition_count = 0;
  configs::ConfigMap configs;
};

Plan refuse(ErrorCode error, std::string message) {
  Plan plan;
  plan.error = error;
  plan.message = std::move(message);
  return plan;
}

// Assignments (num_partitions and replication_factor both -1): partitions 0..n-1, each on
// exactly [this broker].
Plan plan_assignments(const CreateTopicsRequest::CreatableTopic& topic, NodeId node) {
  const auto& assignments = topic.assignments;
  if (assignments.size() > static_cast<size_t>(kPartitionCountMax)) {
    return refuse(ErrorCode::invalid_partitions, "too many partitions");
  }
  std::vector<bool> seen(assignments.size(), false);
  for (const auto& assignment : assignments) {
    int32_t index = assignment.partition_index;
    if (index < 0 || index >= static_cast<int32_t>(assignments.size()) ||
        seen[static_cast<size_t>(index)]) {
      return refuse(ErrorCode::invalid_replica_assignment,
                    "Partitions should be a consecutive 0-based integer sequence");
    }
    seen[static_cast<size_t>(index)] = true;
    if (assignment.broker_ids.size() != 1 || assignment.broker_ids[0] != node.value()) {
      return refuse(ErrorCode::invalid_replica_assignment,
                    "Partition " + std::to_string(index) + " must be assigned to broker " +
                        std::to_string(node.value()) + " only (single-node cluster)");
    }
  }
  Plan plan;
  plan.partition_count = static_cast<int32_t>(assignments.size());
  return plan;
}

Plan plan_counts(const CreateTopicsRequest::CreatableTopic& topic, const BrokerConfig& config) {
  if (!topic.assignments.empty()) {
    if (topic.num_partitions != -1 || topic.replication_factor != -1) {
      return refuse(ErrorCode::invalid_request,
                    "Both numPartitions or replicationFactor and replicasAssignments were set. "
                    "Both cannot be used at the same time.");
    }
    return Plan{};
  }
  if (topic.num_partitions == 0 || topic.num_partitions < -1) {
    return refuse(ErrorCode::invalid_partitions,
                  "Number of partitions was set to an invalid non-positive value.");
  }
  if (topic.num_partitions > kPartitionCountMax) {
    return refuse(ErrorCode::invalid_partitions, "Number of partitions is above Cairn's limit of " +
                                                     std::to_string(kPartitionCountMax));
  }
  if (topic.replication_factor == 0 || topic.replication_factor < -1) {
    return refuse(ErrorCode::invalid_replication_factor,
                  "Replication factor must be larger than 0, or -1 to use the default value.");
  }
  if (topic.replication_factor > 1) {
    return refuse(ErrorCode::invalid_replication_factor,
                  "Unable to replicate the partition " + std::to_string(topic.replication_factor) +
                      " time(s): only 1 broker is registered (Cairn is a single node).");
  }
  Plan plan;
  plan.partition_count = topic.num_partitions == -1 ? config.num_partitions : topic.num_partitions;
  return plan;
}

Plan plan_topic(const BrokerState& broker, const TopicTable& topics,
                const CreateTopicsRequest::CreatableTopic& topic) {
  Status legal = validate_topic_name(topic.name);
  if (!legal.ok()) return refuse(ErrorCode::invalid_topic_exception, legal.message());
  if (topics.find(topic.name) != nullptr) {
    return refuse(ErrorCode::topic_already_exists, "Topic '" + topic.name + "' already exists.");
  }
  if (is_internal_topic(topic.name)) {
    return refuse(ErrorCode::policy_violation,
                  "Topic name " + topic.name + " is reserved for Cairn's internal use");
  }
  Plan plan = plan_counts(topic, broker.config);
  if (plan.error != ErrorCode::none) return plan;
  if (!topic.assignments.empty()) {
    plan = plan_assignments(topic, broker.node_id);
    if (plan.error != ErrorCode::none) return plan;
  }
  Status admitted = broker.partitions->admit_partitions(topics, plan.partition_count);
  if (!admitted.ok()) return refuse(kafka_error(admitted), admitted.message());
  std::vector<configs::AlterEntry> entries;
  entries.reserve(topic.configs.size());
  for (const auto& config : topic.configs) entries.push_back({config.name, config.value});
  configs::AlterOutcome outcome = configs::replace_configs(configs::Scope::topic, entries);
  if (!outcome.ok()) return refuse(outcome.error, outcome.message);
  plan.configs = std::move(outcome.configs);
  std::string refused =
      check_immutable_change(configs::layers_of(broker), {}, plan.configs, /*locked=*/false);
  if (!refused.empty()) return refuse(ErrorCode::policy_violation, refused);
  return plan;
}

void describe_created(const configs::Layers& layers, const Plan& plan, TopicResult& result) {
  result.num_partitions = plan.partition_count;
  result.replication_factor = 1;
  result.configs.emplace();
  for (const configs::ConfigDef& def : configs::topic_config_defs()) {
    configs::Resolved resolved = configs::resolve_topic_config(layers, plan.configs, def);
    CreateTopicsResponse::CreatableTopicConfigs entry;
    entry.name = std::string(def.name);
    entry.value = resolved.value;
    entry.read_only = false;
    entry.config_source = static_cast<int8_t>(resolved.source);
    entry.is_sensitive = false;
    result.configs->push_back(std::move(entry));
  }
}

}  // namespace

asio::awaitable<net::Reply> handle_create_topics(RequestContext ctx) {
  CreateTopicsRequest request;
  if (!ctx.decode(request)) co_return net::Reply::close();
  const BrokerState* broker = ctx.broker;
  configs::Layers layers = configs::layers_of(*broker);
  bool validate_only = ctx.api_version() >= 1 && request.validate_only;
  std::map<std::string_view, int> counts;
  for (const auto& topic : request.topics) counts[topic.name]++;

  // CREATE on the cluster allows every topic; else each topic needs its own (Kafka's rule).
  const bool may_create_all = ctx.allowed_on_cluster_quietly(AclOperation::create);
  CreateTopicsResponse response;
  response.topics.reserve(request.topics.size());
  for (const CreateTopicsRequest::CreatableTopic& topic : request.topics) {
    TopicResult result;
    result.name = topic.name;
    result.error_message = std::nullopt;
    result.configs = std::nullopt;
    Plan plan =
        counts[topic.name] > 1
            ? refuse(ErrorCode::invalid_request,
                     "Create topics request contains multiple entries for topic " + topic.name)
        : !may_create_all && !ctx.allowed(AclOperation::create, AclResourceType::topic, topic.name)
            ? refuse(ErrorCode::topic_authorization_failed,
                     "not authorized to create topic " + topic.name)
            : plan_topic(*broker, *broker->topics->snapshot(), topic);
    if (plan.error == ErrorCode::none && !validate_only) {
      Result<TopicInfo> created = co_await broker->partitions->create_topic(
          broker->topics, topic.name, plan.partition_count, plan.configs);
      if (!created.ok()) {
        plan = refuse(kafka_error(created.status()), created.status().message());
        spdlog::warn("CreateTopics {}: {}", topic.name, created.status().to_string());
      } else {
        spdlog::info("created topic {} with {} partition(s)", topic.name, plan.partition_count);
        result.topic_id = created->topic_id;  // v7+ (KIP-516); zero for validate_only
      }
    }
    result.error_code = wire(plan.error);
    if (plan.error != ErrorCode::none) {
      result.error_message = plan.message;
    } else if (ctx.api_version() >= 5 && !ctx.allowed_quietly(AclOperation::describe_configs,
                                                              AclResourceType::topic, topic.name)) {
      result.topic_config_error_code = wire(ErrorCode::topic_authorization_failed);
    } else if (ctx.api_version() >= 5) {
      describe_created(layers, plan, result);
    }
    response.topics.push_back(std::move(result));
  }
  co_return respond(ctx, response);
}

}  // namespace cairn::broker
