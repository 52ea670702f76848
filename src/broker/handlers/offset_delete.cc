// OffsetDelete (key 47, v0): deletes some committed offsets of a group. Allowed for a group
// without members, and for a consumer group's topics none of its members subscribes to
// (GROUP_SUBSCRIBED_TO_TOPIC otherwise). Group-level errors: GROUP_ID_NOT_FOUND, and
// NON_EMPTY_GROUP for an active group of another protocol type. A topic or partition that does
// not exist gets UNKNOWN_TOPIC_OR_PARTITION. Authorization: DELETE on the group (else
// GROUP_AUTHORIZATION_FAILED), READ on each topic (else TOPIC_AUTHORIZATION_FAILED).
#include "protocol/generated/offset_delete.h"
#include "broker/error_code.h"
#include "broker/groups/handler_support.h"
#include "broker/handlers/handlers.h"

namespace cairn::broker {

asio::awaitable<net::Reply> handle_offset_delete(RequestContext ctx) {
  protocol::OffsetDeleteRequest request;
  if (!ctx.decode(request)) co_return net::Reply::close();
  protocol::OffsetDeleteResponse response;
  if (!ctx.allowed(AclOperation::remove, AclResourceType::group, request.group_id)) {
    response.error_code = wire(ErrorCode::group_authorization_failed);
    co_return respond(ctx, response);
  }
  if (ctx.broker->groups == nullptr) {
    response.error_code = wire(ErrorCode::coordinator_not_available);
    co_return respond(ctx, response);
  }
  std::shared_ptr<const TopicTable> topics = ctx.broker->topics->snapshot();
  std::vector<groups::TopicPartitionKey> keys;
  std::vector<ErrorCode> unchecked;  // per requested partition: none when the group decides
  for (const auto& topic : request.topics) {
    const TopicInfo* info = topics->find(topic.name);
    const bool may_read = ctx.allowed(AclOperation::read, AclResourceType::topic, topic.name);
    for (const auto& partition : topic.partitions) {
      bool exists = info != nullptr && partition.partition_index >= 0 &&
                    partition.partition_index < info->partition_count;
      ErrorCode error = !may_read ? ErrorCode::topic_authorization_failed
                        : !exists ? ErrorCode::unknown_topic_or_partition
                                  : ErrorCode::none;
      unchecked.push_back(error);
      if (error == ErrorCode::none) {
        keys.push_back({topic.name, PartitionId(partition.partition_index)});
      }
    }
  }
  groups::OffsetDeleteResult result = co_await groups::on_group_shard(
      ctx, request.group_id, groups::delete_offsets(ctx.broker->groups, request.group_id, keys));
  response.error_code = wire(result.error);
  if (result.error != ErrorCode::none) co_return respond(ctx, response);
  size_t requested = 0;
  size_t checked = 0;
  for (const auto& topic : request.topics) {
    protocol::OffsetDeleteResponse::OffsetDeleteResponseTopic out;
    out.name = topic.name;
    for (const auto& partition : topic.partitions) {
      ErrorCode error = unchecked[requested++];
      if (error == ErrorCode::none) error = result.partition_errors[checked++];
      out.partitions.push_back({partition.partition_index, wire(error)});
    }
    response.topics.push_back(std::move(out));
  }
  co_return respond(ctx, response);
}

}  // namespace cairn::broker
