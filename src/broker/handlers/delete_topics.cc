// DeleteTopics (key 20, v0-4: by name; v6's topic ids are out of the served range).
//
// For each name: a name twice in the request: INVALID_REQUEST; delete.topic.enable=false:
// TOPIC_DELETION_DISABLED; illegal name: INVALID_TOPIC_EXCEPTION; Cairn's internal names:
// POLICY_VIOLATION; no such topic: UNKNOWN_TOPIC_OR_PARTITION. Otherwise the topic leaves the
// registry (durably) and then its logs are deleted. A crash between the two leaves directories
// the PartitionManager recognizes as another incarnation (topic_id file) and wipes on reuse.
// Every consumer group then forgets its committed offsets of the topic.
#include <spdlog/spdlog.h>

#include <map>
#include <string>

#include "broker/error_code.h"
#include "broker/groups/coordinator.h"
#include "broker/handlers/admin_support.h"
#include "broker/handlers/handlers.h"
#include "broker/meta_writer.h"
#include "broker/partitions/partition_manager.h"
#include "protocol/generated/delete_topics.h"

namespace cairn::broker {
namespace {

using protocol::DeleteTopicsRequest;
using protocol::DeleteTopicsResponse;

ErrorCode check(const BrokerState& broker, const std::string& name) {
  if (!broker.config.delete_topic_enable) return ErrorCode::topic_deletion_disabled;
  if (!validate_topic_name(name).ok()) return ErrorCode::invalid_topic_exception;
  if (is_internal_topic(name)) return ErrorCode::policy_violation;
  if (broker.topics->snapshot()->find(name) == nullptr) {
    return ErrorCode::unknown_topic_or_partition;
  }
  return ErrorCode::none;
}

asio::awaitable<ErrorCode> delete_topic(const BrokerState* broker, std::string name) {
  // The incarnation removed, read where it is removed (a concurrent re-creation of the name
  // must keep its logs).
  auto remove = [&]() -> Result<protocol::Uuid> {
    const TopicInfo* topic = broker->topics->snapshot()->find(name);
    if (topic == nullptr) return error(StatusCode::not_found, "no topic " + name);
    protocol::Uuid id = topic->topic_id;
    RETURN_IF_ERROR(broker->topics->remove(name));
    return id;
  };
  Result<protocol::Uuid> removed = co_await broker->meta_writer->run(remove);
  if (!removed.ok()) co_return kafka_error(removed.status());
  Status deleted = co_await broker->partitions->delete_topic(name, *removed);
  if (!deleted.ok()) {
    // The topic is gone from the registry (clients see it deleted); the leftover directories
    // are wiped when a topic of that name is created again.
    spdlog::warn("DeleteTopics {}: deleting its logs: {}", name, deleted.to_string());
  }
  // Committed offsets of the old topic must not apply to a new topic of the same name.
  if (broker->groups != nullptr) co_await groups::forget_topic(broker->groups, name);
  spdlog::info("deleted topic {}", name);
  co_return ErrorCode::none;
}

}  // namespace

asio::awaitable<net::Reply> handle_delete_topics(RequestContext ctx) {
  DeleteTopicsRequest request;
  if (!ctx.decode(request)) co_return net::Reply::close();
  const BrokerState* broker = ctx.broker;
  std::map<std::string_view, int> counts;
  for (const std::string& name : request.topic_names) counts[name]++;

  DeleteTopicsResponse response;
  response.responses.reserve(request.topic_names.size());
  for (const std::string& name : request.topic_names) {
    ErrorCode code = counts[name] > 1 ? ErrorCode::invalid_request : check(*broker, name);
    if (code == ErrorCode::none) code = co_await delete_topic(broker, name);
    response.responses.push_back({name, wire(code)});
  }
  co_return respond(ctx, response);
}

}  // namespace cairn::broker
