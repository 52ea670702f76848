// Metadata (key 3): this broker, the cluster id, and the topics the client asks about.
//
// Single node: the broker list is this broker (its advertised address on the listener the
// client came in on), it is the controller, and it leads every partition (replicas = isr =
// [this node], leader epoch 0). Which topics: v0 — an empty list means all topics; v1+ —
// null means all, empty means none. A requested topic that does not exist is created when
// auto.create.topics.enable is on (the default) and the request allows it (v4+:
// allow_auto_topic_creation; v0-3 always do), with num.partitions partitions and no
// overrides; its logs exist before the answer, so the answer describes it fully. Otherwise,
// or if the name is not legal or internal, it gets UNKNOWN_TOPIC_OR_PARTITION
// (INVALID_TOPIC_EXCEPTION for an illegal name).
//
// Topic ids (KIP-516): v10+ answers carry each topic's id. A v10+ request may name a topic by
// id instead (a null name, as Kafka serves from v12): a known id answers that topic, an
// unknown one UNKNOWN_TOPIC_ID with a null name; ids are never auto-created.
//
// Authorization (docs/security.md): "all topics" lists only those the principal may DESCRIBE;
// a requested topic it may not DESCRIBE answers TOPIC_AUTHORIZATION_FAILED whether it exists or
// not, and auto-creation needs CREATE on the cluster or the topic (else the same error).
#include <spdlog/spdlog.h>

#include <set>
#include <string>

#include "broker/error_code.h"
#include "broker/handlers/handlers.h"
#include "broker/partitions/partition_manager.h"
#include "protocol/generated/metadata.h"

namespace cairn::broker {
namespace {

using protocol::MetadataRequest;
using protocol::MetadataResponse;

MetadataResponse::MetadataResponseTopic describe_topic(const TopicInfo& topic, NodeId node) {
  MetadataResponse::MetadataResponseTopic out;
  out.error_code = wire(ErrorCode::none);
  out.name = topic.name;
  out.topic_id = topic.topic_id;
  out.is_internal = is_internal_topic(topic.name);
  out.partitions.reserve(static_cast<size_t>(topic.partition_count));
  for (int32_t p = 0; p < topic.partition_count; p++) {
    MetadataResponse::MetadataResponsePartition partition;
    partition.error_code = wire(ErrorCode::none);
    partition.partition_index = p;
    partition.leader_id = node.value();
    partition.leader_epoch = 0;
    partition.replica_nodes = {node.value()};
    partition.isr_nodes = {node.value()};
    out.partitions.push_back(std::move(partition));
  }
  return out;
}

MetadataResponse::MetadataResponseTopic missing_topic(const std::string& name) {
  MetadataResponse::MetadataResponseTopic out;
  out.name = name;
  out.error_code = validate_topic_name(name).ok() ? wire(ErrorCode::unknown_topic_or_partition)
                                                  : wire(ErrorCode::invalid_topic_exception);
  return out;
}

MetadataResponse::MetadataResponseTopic unknown_topic_id(const protocol::Uuid& topic_id,
                                                         ErrorCode code) {
  MetadataResponse::MetadataResponseTopic out;
  out.name = std::nullopt;
  out.topic_id = topic_id;
  out.error_code = wire(code);
  return out;
}

bool may_auto_create(std::string_view name) {
  return validate_topic_name(name).ok() && !is_internal_topic(name);
}

// Creates `name` (auto.create.topics.enable). Returns its metadata, or the error to report.
asio::awaitable<MetadataResponse::MetadataResponseTopic> auto_create(const BrokerState* broker,
                                                                     std::string name) {
  Result<TopicInfo> created = co_await broker->partitions->create_topic(
      broker->topics, name, broker->config.num_partitions, TopicConfigs());
  if (created.ok()) {
    spdlog::info("auto-created topic {} with {} partition(s)", name, created->partition_count);
    co_return describe_topic(*created, broker->node_id);
  }
  if (created.status().code() == StatusCode::already_exists) {  // created meanwhile
    std::shared_ptr<const TopicTable> topics = broker->topics->snapshot();
    if (const TopicInfo* topic = topics->find(name)) {
      co_return describe_topic(*topic, broker->node_id);
    }
  }
  spdlog::warn("auto-creating topic {}: {}", name, created.status().to_string());
  MetadataResponse::MetadataResponseTopic out;
  out.name = std::move(name);
  out.error_code = created.status().code() == StatusCode::invalid_argument
                       ? wire(ErrorCode::invalid_topic_exception)
                       : wire(ErrorCode::leader_not_available);  // retriable
  co_return out;
}

MetadataResponse::MetadataResponseTopic unauthorized_topic(const std::string& name) {
  MetadataResponse::MetadataResponseTopic out;
  out.name = name;
  out.is_internal = is_internal_topic(name);
  out.error_code = wire(ErrorCode::topic_authorization_failed);
  return out;
}

// Auto-creation needs CREATE on the cluster or on the topic (Kafka's rule).
bool may_create(const RequestContext& ctx, const std::string& name) {
  return ctx.allowed_on_cluster_quietly(AclOperation::create) ||
         ctx.allowed(AclOperation::create, AclResourceType::topic, name);
}

// One requested topic (by name or id) as the principal may see it.
asio::awaitable<MetadataResponse::MetadataResponseTopic> answer_requested(
    const RequestContext& ctx, const TopicTable& topics,
    const MetadataRequest::MetadataRequestTopic& requested, bool create) {
  const BrokerState& broker = *ctx.broker;
  if (!requested.name.has_value()) {  // by topic id
    const TopicInfo* topic = topics.find_id(requested.topic_id);
    if (topic == nullptr)
      co_return unknown_topic_id(requested.topic_id, ErrorCode::unknown_topic_id);
    if (!ctx.allowed(AclOperation::describe, AclResourceType::topic, topic->name)) {
      co_return unknown_topic_id(requested.topic_id, ErrorCode::topic_authorization_failed);
    }
    co_return describe_topic(*topic, broker.node_id);
  }
  const std::string& name = *requested.name;
  if (!ctx.allowed(AclOperation::describe, AclResourceType::topic, name)) {
    co_return unauthorized_topic(name);
  }
  const TopicInfo* topic = topics.find(name);
  if (topic != nullptr) co_return describe_topic(*topic, broker.node_id);
  if (!create || !may_auto_create(name)) co_return missing_topic(name);
  if (!may_create(ctx, name)) co_return unauthorized_topic(name);
  co_return co_await auto_create(&broker, name);
}

// v8+: what the principal may do with each answered topic and (v8-10) with the cluster, when
// asked; INT32_MIN otherwise (Kafka's "not requested").
void add_authorized_operations(const RequestContext& ctx, const MetadataRequest& request,
                               MetadataResponse& response) {
  if (request.include_topic_authorized_operations) {
    for (auto& topic : response.topics) {
      if (topic.error_code != wire(ErrorCode::none) || !topic.name) continue;
      topic.topic_authorized_operations =
          ctx.authorized_operations(AclResourceType::topic, *topic.name);
    }
  }
  if (request.include_cluster_authorized_operations) {
    response.cluster_authorized_operations =
        ctx.authorized_operations(AclResourceType::cluster, security::kClusterResourceName);
  }
}

}  // namespace

asio::awaitable<net::Reply> handle_metadata(RequestContext ctx) {
  MetadataRequest request;
  if (!ctx.decode(request)) co_return net::Reply::close();
  const BrokerState& broker = *ctx.broker;

  MetadataResponse response;
  const net::HostPort& advertised = broker.advertised_for(ctx.connection.listener);
  response.brokers.push_back(
      {broker.node_id.value(), advertised.host, advertised.port, std::nullopt});
  response.cluster_id = broker.cluster_id;
  response.controller_id = broker.node_id.value();

  std::shared_ptr<const TopicTable> topics = broker.topics->snapshot();
  bool all_topics =
      !request.topics.has_value() || (ctx.api_version() == 0 && request.topics->empty());
  if (all_topics) {  // only the topics the principal may describe
    for (const auto& [name, topic] : topics->topics()) {
      if (!ctx.allowed_quietly(AclOperation::describe, AclResourceType::topic, name)) continue;
      response.topics.push_back(describe_topic(topic, broker.node_id));
    }
  } else {
    bool create = broker.config.auto_create_topics_enable &&
                  (ctx.api_version() < 4 || request.allow_auto_topic_creation);
    std::set<std::string_view> seen;  // Kafka answers each requested topic once
    std::set<protocol::Uuid> seen_ids;
    for (const MetadataRequest::MetadataRequestTopic& requested : *request.topics) {
      bool first = requested.name.has_value() ? seen.insert(*requested.name).second
                                              : seen_ids.insert(requested.topic_id).second;
      if (!first) continue;
      response.topics.push_back(co_await answer_requested(ctx, *topics, requested, create));
    }
  }
  add_authorized_operations(ctx, request, response);
  co_return respond(ctx, response);
}

}  // namespace cairn::broker
