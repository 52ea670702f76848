#include "broker/handlers/admin_support.h"

#include <spdlog/spdlog.h>

#include "broker/configs/resolve.h"
#include "broker/handlers/immutable.h"
#include "broker/meta_writer.h"
#include "broker/partitions/partition_manager.h"

namespace cairn::broker {
namespace {

configs::AlterOutcome compute(configs::Scope scope, const configs::ConfigMap& current,
                              const std::vector<configs::AlterEntry>& entries, bool incremental,
                              const configs::Layers& layers) {
  if (incremental) return configs::apply_incremental(scope, current, entries, layers);
  return configs::replace_configs(scope, entries);
}

// Validates and commits; runs on the MetaWriter, whose one thread makes the read-modify-write
// atomic. `committed` tells whether anything changed.
AlterAnswer alter_topic(const BrokerState& broker, const std::string& name,
                        const std::vector<configs::AlterEntry>& entries, bool incremental,
                        bool validate_only, bool locked, bool& committed) {
  committed = false;
  Status legal = validate_topic_name(name);
  if (!legal.ok()) return {ErrorCode::invalid_topic_exception, legal.message()};
  std::shared_ptr<const TopicTable> topics = broker.topics->snapshot();
  const TopicInfo* topic = topics->find(name);
  if (topic == nullptr) {
    return {ErrorCode::unknown_topic_or_partition, "Topic " + name + " does not exist"};
  }
  configs::Layers layers = configs::layers_of(broker);
  configs::AlterOutcome outcome =
      compute(configs::Scope::topic, topic->configs, entries, incremental, layers);
  if (!outcome.ok()) return {outcome.error, outcome.message};
  std::string refused = check_immutable_change(layers, topic->configs, outcome.configs, locked);
  if (!refused.empty()) return {ErrorCode::policy_violation, "Topic " + name + ": " + refused};
  if (validate_only || outcome.configs == topic->configs) return {};
  Result<TopicInfo> set = broker.topics->set_configs(name, std::move(outcome.configs));
  if (!set.ok()) return {kafka_error(set.status()), set.status().message()};
  committed = true;
  return {};
}

AlterAnswer alter_broker(const BrokerState& broker, const std::string& name,
                         const std::vector<configs::AlterEntry>& entries, bool incremental,
                         bool validate_only, bool& committed) {
  committed = false;
  bool cluster_default = name.empty();
  if (!cluster_default && name != std::to_string(broker.node_id.value())) {
    return {ErrorCode::invalid_request, "Unexpected broker id, expected " +
                                            std::to_string(broker.node_id.value()) +
                                            " or empty string, but received " + name};
  }
  configs::Layers layers = configs::layers_of(broker);
  const configs::ConfigMap& current =
      cluster_default ? layers.dynamic->cluster_default : layers.dynamic->broker;
  configs::AlterOutcome outcome =
      compute(configs::Scope::broker, current, entries, incremental, layers);
  if (!outcome.ok()) return {outcome.error, outcome.message};
  if (validate_only || outcome.configs == current) return {};
  Status replaced = broker.dynamic_configs->replace(cluster_default, std::move(outcome.configs));
  if (!replaced.ok()) return {kafka_error(replaced), replaced.message()};
  committed = true;
  return {};
}

}  // namespace

asio::awaitable<Status> apply_topic_config(const BrokerState* broker, std::string topic) {
  std::shared_ptr<const TopicTable> topics = broker->topics->snapshot();
  const TopicInfo* info = topics->find(topic);
  if (info == nullptr) co_return error(StatusCode::not_found, "topic " + topic + " is gone");
  co_return co_await broker->partitions->apply_config(*info);
}

asio::awaitable<AlterAnswer> alter_resource(const BrokerState* broker, configs::ResourceType type,
                                            std::string name,
                                            std::vector<configs::AlterEntry> entries,
                                            bool incremental, bool validate_only) {
  bool committed = false;
  AlterAnswer answer;
  if (type == configs::ResourceType::topic) {
    // An immutable topic's records lock some changes (immutable.h); found before the write.
    bool locked = false;
    std::shared_ptr<const TopicTable> topics = broker->topics->snapshot();
    if (const TopicInfo* topic = topics->find(name); topic && is_immutable(topic->configs)) {
      locked = still_locked(*broker, co_await immutable_lock_until(broker, *topic));
    }
    answer = co_await broker->meta_writer->run([&] {
      return alter_topic(*broker, name, entries, incremental, validate_only, locked, committed);
    });
  } else if (type == configs::ResourceType::broker) {
    answer = co_await broker->meta_writer->run([&] {
      return alter_broker(*broker, name, entries, incremental, validate_only, committed);
    });
  } else {
    co_return AlterAnswer{ErrorCode::invalid_request,
                          "Unsupported resource type " + std::to_string(static_cast<int>(type))};
  }
  if (!committed) co_return answer;
  // Durable and visible to DescribeConfigs; now the logs. A failure here is logged, not
  // answered: the change is committed and each partition picks it up when it reopens.
  Status applied;
  if (type == configs::ResourceType::topic) {
    applied = co_await apply_topic_config(broker, name);
  } else {
    applied = co_await apply_all_topic_configs(broker);
  }
  if (!applied.ok()) {
    spdlog::warn("config change of {} applied incompletely: {}", name, applied.to_string());
  }
  spdlog::info("{} configs of {} '{}' changed", incremental ? "incremental" : "whole",
               type == configs::ResourceType::topic ? "topic" : "broker", name);
  co_return answer;
}

asio::awaitable<Status> apply_all_topic_configs(const BrokerState* broker) {
  std::shared_ptr<const TopicTable> topics = broker->topics->snapshot();
  Status first;
  for (const auto& [name, info] : topics->topics()) {
    Status applied = co_await broker->partitions->apply_config(info);
    if (!applied.ok() && first.ok()) first = applied;
  }
  co_return first;
}

ErrorCode config_authorization(const RequestContext& ctx, int8_t resource_type,
                               const std::string& name, AclOperation operation) {
  switch (static_cast<configs::ResourceType>(resource_type)) {
    case configs::ResourceType::topic:
      return ctx.allowed(operation, AclResourceType::topic, name)
                 ? ErrorCode::none
                 : ErrorCode::topic_authorization_failed;
    case configs::ResourceType::broker:
    case configs::ResourceType::broker_logger:
      return ctx.allowed_on_cluster(operation) ? ErrorCode::none
                                               : ErrorCode::cluster_authorization_failed;
    default:
      return ErrorCode::none;
  }
}

}  // namespace cairn::broker
