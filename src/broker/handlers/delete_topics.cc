// DeleteTopics (key 20): v0-5 by name, v6 by name or by topic id (KIP-516).
//
// v6 entries: a name and an id both set: INVALID_REQUEST; an id no topic has:
// UNKNOWN_TOPIC_ID; an id is otherwise read as its topic's name, and the answer carries both.
// For each name: a name twice in the request: INVALID_REQUEST; delete.topic.enable=false:
// TOPIC_DELETION_DISABLED; illegal name: INVALID_TOPIC_EXCEPTION; Cairn's internal names:
// POLICY_VIOLATION; no DELETE on the topic: TOPIC_AUTHORIZATION_FAILED; an immutable topic
// whose records have not aged out (handlers/immutable.h): POLICY_VIOLATION; no such topic:
// UNKNOWN_TOPIC_OR_PARTITION. Otherwise the topic leaves the
// registry (durably) and then its logs are deleted. A crash between the two leaves directories
// the PartitionManager recognizes as another incarnation (topic_id file) and wipes on reuse.
// Every consumer group then forgets its committed offsets of the topic.
#include <spdlog/spdlog.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "broker/error_code.h"
#include "broker/groups/coordinator.h"
#include "broker/handlers/admin_support.h"
#include "broker/handlers/handlers.h"
#include "broker/handlers/immutable.h"
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

// An immutable topic (cairn.immutable) whose records have not aged out: POLICY_VIOLATION.
asio::awaitable<ErrorCode> refuse_if_locked(const BrokerState* broker, const std::string& name,
                                            std::string& message) {
  std::shared_ptr<const TopicTable> topics = broker->topics->snapshot();
  const TopicInfo* topic = topics->find(name);
  if (topic == nullptr || !is_immutable(topic->configs)) co_return ErrorCode::none;
  std::optional<int64_t> until = co_await immutable_lock_until(broker, *topic);
  if (!still_locked(*broker, until)) co_return ErrorCode::none;
  message = "Topic " + name + " is immutable (cairn.immutable=true) and holds records within " +
            "its retention: it cannot be deleted before they age out";
  co_return ErrorCode::policy_violation;
}

// One entry of the request: by name (every version), or by topic id (v6).
struct Target {
  std::optional<std::string> name;
  protocol::Uuid topic_id{};
  ErrorCode error = ErrorCode::none;  // found before anything is deleted
  bool by_id = false;                 // named by topic id (v6)
};

std::vector<Target> targets_of(const BrokerState& broker, const DeleteTopicsRequest& request,
                               int16_t version) {
  std::vector<Target> targets;
  if (version < 6) {
    for (const std::string& name : request.topic_names) targets.push_back({name, {}, {}});
    return targets;
  }
  std::shared_ptr<const TopicTable> topics = broker.topics->snapshot();
  for (const DeleteTopicsRequest::DeleteTopicState& entry : request.topics) {
    Target target{entry.name, entry.topic_id, ErrorCode::none};
    bool by_id = entry.topic_id != protocol::Uuid{};
    target.by_id = by_id;
    if (by_id && entry.name.has_value()) {
      target.error = ErrorCode::invalid_request;  // one or the other, as Kafka requires
    } else if (by_id) {
      const TopicInfo* topic = topics->find_id(entry.topic_id);
      if (topic == nullptr) {
        target.error = ErrorCode::unknown_topic_id;
      } else {
        target.name = topic->name;
      }
    } else if (!entry.name.has_value()) {
      target.error = ErrorCode::invalid_request;  // neither
    }
    targets.push_back(std::move(target));
  }
  return targets;
}

}  // namespace

asio::awaitable<net::Reply> handle_delete_topics(RequestContext ctx) {
  DeleteTopicsRequest request;
  if (!ctx.decode(request)) co_return net::Reply::close();
  const BrokerState* broker = ctx.broker;
  std::vector<Target> targets = targets_of(*broker, request, ctx.api_version());
  std::map<std::string_view, int> counts;
  for (const Target& target : targets) {
    if (target.name.has_value()) counts[*target.name]++;
  }

  DeleteTopicsResponse response;
  response.responses.reserve(targets.size());
  for (Target& target : targets) {
    ErrorCode code = target.error;
    std::string message;
    // By id, a topic the principal may not DESCRIBE keeps its name hidden (Kafka's rule).
    if (code == ErrorCode::none && target.by_id &&
        !ctx.allowed(AclOperation::describe, AclResourceType::topic, *target.name)) {
      code = ErrorCode::topic_authorization_failed;
      target.name = std::nullopt;
    }
    if (code == ErrorCode::none) {
      const std::string& name = *target.name;
      code = counts[name] > 1 ? ErrorCode::invalid_request
             : !ctx.allowed(AclOperation::remove, AclResourceType::topic, name)
                 ? ErrorCode::topic_authorization_failed
                 : check(*broker, name);
      if (code == ErrorCode::none && target.topic_id == protocol::Uuid{}) {
        target.topic_id = broker->topics->snapshot()->find(name)->topic_id;
      }
      if (code == ErrorCode::none) code = co_await refuse_if_locked(broker, name, message);
      if (code == ErrorCode::none) code = co_await delete_topic(broker, name);
    }
    DeleteTopicsResponse::DeletableTopicResult result;
    result.name = target.name;
    result.topic_id = target.topic_id;
    result.error_code = wire(code);
    if (!message.empty()) result.error_message = message;
    response.responses.push_back(std::move(result));
  }
  co_return respond(ctx, response);
}

}  // namespace cairn::broker
