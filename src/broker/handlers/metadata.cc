// Metadata (key 3): this broker, the cluster id, and the topics the client asks about.
//
// Single node: the broker list is this broker (advertised address), it is the controller,
// and it leads every partition (replicas = isr = [this node], leader epoch 0). Which topics:
// v0 — an empty list means all topics; v1+ — null means all, empty means none. A requested
// topic that does not exist gets UNKNOWN_TOPIC_OR_PARTITION (INVALID_TOPIC_EXCEPTION if its
// name is not legal); auto-creation comes with the topic-management work.
#include <set>
#include <string>

#include "broker/error_code.h"
#include "broker/handlers/handlers.h"
#include "protocol/generated/metadata.h"

namespace cairn::broker {
namespace {

using protocol::MetadataRequest;
using protocol::MetadataResponse;

MetadataResponse::MetadataResponseTopic describe_topic(const TopicInfo& topic, NodeId node) {
  MetadataResponse::MetadataResponseTopic out;
  out.error_code = wire(ErrorCode::none);
  out.name = topic.name;
  out.is_internal = false;
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

}  // namespace

asio::awaitable<net::Reply> handle_metadata(RequestContext ctx) {
  MetadataRequest request;
  if (!ctx.decode(request)) co_return net::Reply::close();
  const BrokerState& broker = *ctx.broker;

  MetadataResponse response;
  response.brokers.push_back(
      {broker.node_id.value(), broker.advertised.host, broker.advertised.port, std::nullopt});
  response.cluster_id = broker.cluster_id;
  response.controller_id = broker.node_id.value();

  std::shared_ptr<const TopicTable> topics = broker.topics->snapshot();
  bool all_topics =
      !request.topics.has_value() || (ctx.api_version() == 0 && request.topics->empty());
  if (all_topics) {
    for (const auto& [name, topic] : topics->topics()) {
      response.topics.push_back(describe_topic(topic, broker.node_id));
    }
  } else {
    std::set<std::string_view> seen;  // Kafka answers each requested topic once
    for (const MetadataRequest::MetadataRequestTopic& requested : *request.topics) {
      if (!seen.insert(requested.name).second) continue;
      const TopicInfo* topic = topics->find(requested.name);
      response.topics.push_back(topic != nullptr ? describe_topic(*topic, broker.node_id)
                                                 : missing_topic(requested.name));
    }
  }
  co_return respond(ctx, response);
}

}  // namespace cairn::broker
