// CreatePartitions (key 37): raises a topic's partition count.
//
// Per topic: a name twice in the request: INVALID_REQUEST; no such topic (or an illegal or
// internal name): UNKNOWN_TOPIC_OR_PARTITION / INVALID_TOPIC_EXCEPTION / POLICY_VIOLATION;
// a count that is not above the current one (or above the registry's limit):
// INVALID_PARTITIONS; more than the broker admits (PartitionManager::admit_partitions):
// POLICY_VIOLATION; assignments that are not one list per new partition, each exactly
// [this broker]: INVALID_REPLICA_ASSIGNMENT; no ALTER on the topic: TOPIC_AUTHORIZATION_FAILED.
// validate_only checks and changes nothing. The new count is durable in the registry, then the new
// partitions' logs are created.
#include <spdlog/spdlog.h>

#include <map>
#include <string>

#include "broker/error_code.h"
#include "broker/handlers/admin_support.h"
#include "broker/handlers/handlers.h"
#include "broker/meta_writer.h"
#include "broker/partitions/partition_manager.h"
#include "protocol/generated/create_partitions.h"

namespace cairn::broker {
namespace {

using protocol::CreatePartitionsRequest;
using protocol::CreatePartitionsResponse;

struct Check {
  ErrorCode error = ErrorCode::none;
  std::string message;
  int32_t old_count = 0;
};

Check refuse(ErrorCode error, std::string message) { return Check{error, std::move(message), 0}; }

Check check(const BrokerState& broker, const CreatePartitionsRequest::CreatePartitionsTopic& t) {
  Status legal = validate_topic_name(t.name);
  if (!legal.ok()) return refuse(ErrorCode::invalid_topic_exception, legal.message());
  if (is_internal_topic(t.name)) {
    return refuse(ErrorCode::policy_violation, "Topic " + t.name + " is internal to Cairn");
  }
  std::shared_ptr<const TopicTable> topics = broker.topics->snapshot();
  const TopicInfo* topic = topics->find(t.name);
  if (topic == nullptr) {
    return refuse(ErrorCode::unknown_topic_or_partition,
                  "The topic '" + t.name + "' does not exist.");
  }
  int32_t current = topic->partition_count;
  if (t.count == current) {
    return refuse(ErrorCode::invalid_partitions,
                  "Topic already has " + std::to_string(current) + " partitions.");
  }
  if (t.count < current) {
    return refuse(ErrorCode::invalid_partitions,
                  "Topic currently has " + std::to_string(current) +
                      " partitions, which is higher than the requested " + std::to_string(t.count) +
                      ".");
  }
  if (t.count > kPartitionCountMax) {
    return refuse(ErrorCode::invalid_partitions,
                  "Cairn's limit is " + std::to_string(kPartitionCountMax) + " partitions");
  }
  Status admitted =
      broker.partitions->admit_partitions(*broker.topics->snapshot(), int64_t{t.count} - current);
  if (!admitted.ok()) return refuse(kafka_error(admitted), admitted.message());
  if (t.assignments.has_value()) {
    if (t.assignments->size() != static_cast<size_t>(t.count - current)) {
      return refuse(ErrorCode::invalid_replica_assignment,
                    "Increasing the number of partitions by " + std::to_string(t.count - current) +
                        " but " + std::to_string(t.assignments->size()) + " assignments provided.");
    }
    for (const auto& assignment : *t.assignments) {
      if (assignment.broker_ids.size() != 1 || assignment.broker_ids[0] != broker.node_id.value()) {
        return refuse(ErrorCode::invalid_replica_assignment,
                      "New partitions must be assigned to broker " +
                          std::to_string(broker.node_id.value()) + " only (single node)");
      }
    }
  }
  return Check{ErrorCode::none, "", current};
}

}  // namespace

asio::awaitable<net::Reply> handle_create_partitions(RequestContext ctx) {
  CreatePartitionsRequest request;
  if (!ctx.decode(request)) co_return net::Reply::close();
  const BrokerState* broker = ctx.broker;
  std::map<std::string_view, int> counts;
  for (const auto& topic : request.topics) counts[topic.name]++;

  CreatePartitionsResponse response;
  response.results.reserve(request.topics.size());
  for (const CreatePartitionsRequest::CreatePartitionsTopic& topic : request.topics) {
    Check checked = counts[topic.name] > 1 ? refuse(ErrorCode::invalid_request,
                                                    "Duplicate topic in request: " + topic.name)
                    : !ctx.allowed(AclOperation::alter, AclResourceType::topic, topic.name)
                        ? refuse(ErrorCode::topic_authorization_failed,
                                 "not authorized to alter topic " + topic.name)
                        : check(*broker, topic);
    if (checked.error == ErrorCode::none && !request.validate_only) {
      Result<TopicInfo> grown = co_await broker->meta_writer->run(
          [&] { return broker->topics->set_partition_count(topic.name, topic.count); });
      if (!grown.ok()) {
        // Another request changed the count meanwhile, or the registry could not persist.
        ErrorCode code = grown.status().code() == StatusCode::invalid_argument
                             ? ErrorCode::invalid_partitions
                             : kafka_error(grown.status());
        checked = refuse(code, grown.status().message());
      } else {
        int32_t old_count = checked.old_count;
        Status created = co_await broker->partitions->create_partitions(*grown, old_count);
        if (!created.ok()) {
          checked = refuse(kafka_error(created), created.message());
        } else {
          spdlog::info("topic {}: {} -> {} partitions", topic.name, old_count, topic.count);
        }
      }
    }
    CreatePartitionsResponse::CreatePartitionsTopicResult result;
    result.name = topic.name;
    result.error_code = wire(checked.error);
    if (checked.error != ErrorCode::none) result.error_message = checked.message;
    response.results.push_back(std::move(result));
  }
  co_return respond(ctx, response);
}

}  // namespace cairn::broker
