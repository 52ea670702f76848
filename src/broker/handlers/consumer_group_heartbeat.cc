// ConsumerGroupHeartbeat (key 68, v0): the consumer group protocol (KIP-848). A member joins
// (epoch 0), heartbeats with its epoch and the partitions it owns, and leaves (-1; a static
// member -2); each answer carries its epoch, the heartbeat interval and, when it changed, the
// partitions it may use. The state machine is groups/consumer_group.h; this file converts
// topic ids to names and back (a topic deleted meanwhile simply drops out).
#include "protocol/generated/consumer_group_heartbeat.h"
#include "broker/error_code.h"
#include "broker/groups/handler_support.h"
#include "broker/handlers/handlers.h"

namespace cairn::broker {

namespace {

using Request = protocol::ConsumerGroupHeartbeatRequest;
using Response = protocol::ConsumerGroupHeartbeatResponse;

groups::TopicPartitions owned_by_name(const std::vector<Request::TopicPartitions>& owned,
                                      const TopicTable& topics) {
  groups::TopicPartitions result;
  for (const Request::TopicPartitions& entry : owned) {
    const TopicInfo* topic = topics.find_id(entry.topic_id);
    if (topic == nullptr) continue;  // deleted: nobody can own it any more
    result[topic->name].insert(entry.partitions.begin(), entry.partitions.end());
  }
  return result;
}

Response::Assignment assignment_by_id(const groups::TopicPartitions& partitions,
                                      const TopicTable& topics) {
  Response::Assignment assignment;
  for (const auto& [name, set] : partitions) {
    const TopicInfo* topic = topics.find(name);
    if (topic == nullptr) continue;
    Response::TopicPartitions entry;
    entry.topic_id = topic->topic_id;
    entry.partitions.assign(set.begin(), set.end());
    assignment.topic_partitions.push_back(std::move(entry));
  }
  return assignment;
}

groups::ConsumerHeartbeat from_wire(const RequestContext& ctx, Request request,
                                    const TopicTable& topics) {
  groups::ConsumerHeartbeat heartbeat;
  heartbeat.group_id = std::move(request.group_id);
  heartbeat.member_id = std::move(request.member_id);
  heartbeat.member_epoch = request.member_epoch;
  heartbeat.instance_id = std::move(request.instance_id);
  heartbeat.rack_id = std::move(request.rack_id);
  heartbeat.rebalance_timeout_ms = request.rebalance_timeout_ms;
  heartbeat.subscribed_topic_names = std::move(request.subscribed_topic_names);
  heartbeat.server_assignor = std::move(request.server_assignor);
  if (request.topic_partitions.has_value()) {
    heartbeat.owned = owned_by_name(*request.topic_partitions, topics);
  }
  heartbeat.client_id = groups::client_id(ctx);
  heartbeat.client_host = groups::client_host(ctx);
  return heartbeat;
}

const std::vector<std::string>& no_topics() {
  static const std::vector<std::string> none;
  return none;
}

}  // namespace

asio::awaitable<net::Reply> handle_consumer_group_heartbeat(RequestContext ctx) {
  Request request;
  if (!ctx.decode(request)) co_return net::Reply::close();
  Response response;
  if (ctx.broker->groups == nullptr) {
    response.error_code = wire(ErrorCode::coordinator_not_available);
    co_return respond(ctx, response);
  }
  // Kafka's checks: READ on the group, DESCRIBE on every subscribed topic.
  if (!ctx.allowed(AclOperation::read, AclResourceType::group, request.group_id)) {
    response.error_code = wire(ErrorCode::group_authorization_failed);
    co_return respond(ctx, response);
  }
  for (const std::string& topic : request.subscribed_topic_names.value_or(no_topics())) {
    if (!ctx.allowed(AclOperation::describe, AclResourceType::topic, topic)) {
      response.error_code = wire(ErrorCode::topic_authorization_failed);
      response.error_message = "not authorized to describe subscribed topic " + topic;
      co_return respond(ctx, response);
    }
  }
  std::shared_ptr<const TopicTable> topics = ctx.broker->topics->snapshot();
  const std::string group_id = request.group_id;
  groups::ConsumerHeartbeat heartbeat = from_wire(ctx, std::move(request), *topics);
  groups::ConsumerHeartbeatResult result = co_await groups::on_group_shard(
      ctx, group_id, groups::consumer_heartbeat(ctx.broker->groups, std::move(heartbeat), topics));
  response.error_code = wire(result.error);
  if (!result.error_message.empty()) response.error_message = result.error_message;
  if (result.error == ErrorCode::none) {
    response.member_id = result.member_id;
    response.member_epoch = result.member_epoch;
    response.heartbeat_interval_ms = result.heartbeat_interval_ms;
    if (result.assignment.has_value()) {
      response.assignment = assignment_by_id(*result.assignment, *topics);
    }
  }
  co_return respond(ctx, response);
}

}  // namespace cairn::broker
