// OffsetCommit (key 8, v0-9): stores a group's consumed positions in __consumer_offsets and
// answers once they are fsynced. Who may commit (groups/group_manager.h): the members of the
// current generation, and — with generation -1 and no member id (v0 always) — anyone, while the
// group has no members (admin tools, manually assigned consumers). Per partition: a topic or
// partition that does not exist gets UNKNOWN_TOPIC_OR_PARTITION, metadata longer than
// offset.metadata.max.bytes OFFSET_METADATA_TOO_LARGE; the metadata string round-trips.
// v2-4 carry a retention time for the commit; v6+ the leader epoch; v7+ the instance id; v8 is
// flexible. v9 is v8 on the wire: KIP-848 lets its generation field carry a consumer-protocol
// member epoch. A member of a consumer-protocol group must commit with v9+ (below: the
// UNSUPPORTED_VERSION Kafka 4.0 answers); for classic groups it is the generation.
// Authorization: READ on the group (else GROUP_AUTHORIZATION_FAILED everywhere) and on each
// topic (else TOPIC_AUTHORIZATION_FAILED for its partitions).
#include "protocol/generated/offset_commit.h"
#include "broker/error_code.h"
#include "broker/groups/handler_support.h"
#include "broker/handlers/handlers.h"

namespace cairn::broker {

namespace {

using protocol::OffsetCommitRequest;
using protocol::OffsetCommitResponse;

groups::CommitRequest to_commit(const RequestContext& ctx, OffsetCommitRequest& request) {
  const int16_t version = ctx.api_version();
  groups::CommitRequest commit;
  commit.group_id = request.group_id;
  commit.api_version = version;
  if (version >= 1) {
    commit.generation_id = request.generation_id_or_member_epoch;
    commit.member_id = request.member_id;
  }
  if (version >= 7) commit.group_instance_id = request.group_instance_id;
  if (version >= 2 && version <= 4) commit.retention_time_ms = request.retention_time_ms;
  std::shared_ptr<const TopicTable> topics = ctx.broker->topics->snapshot();
  const int32_t metadata_max_bytes = ctx.broker->groups->config().offset_metadata_max_bytes;
  for (auto& topic : request.topics) {
    const TopicInfo* info = topics->find(topic.name);
    const bool may_read = ctx.allowed(AclOperation::read, AclResourceType::topic, topic.name);
    for (auto& partition : topic.partitions) {
      commit.partitions.push_back(groups::commit_partition(
          info, topic.name, partition.partition_index, partition.committed_offset,
          version >= 6 ? partition.committed_leader_epoch : -1, partition.committed_metadata,
          metadata_max_bytes));
      if (!may_read) commit.partitions.back().error = ErrorCode::topic_authorization_failed;
    }
  }
  return commit;
}

}  // namespace

asio::awaitable<net::Reply> handle_offset_commit(RequestContext ctx) {
  OffsetCommitRequest request;
  if (!ctx.decode(request)) co_return net::Reply::close();
  std::vector<ErrorCode> errors;
  ErrorCode refused = ErrorCode::none;
  if (!ctx.allowed(AclOperation::read, AclResourceType::group, request.group_id)) {
    refused = ErrorCode::group_authorization_failed;
  } else if (ctx.broker->groups == nullptr) {
    refused = ErrorCode::coordinator_not_available;
  }
  if (refused != ErrorCode::none) {
    for (const auto& topic : request.topics) {
      errors.insert(errors.end(), topic.partitions.size(), refused);
    }
  } else {
    groups::CommitRequest commit = to_commit(ctx, request);
    errors = co_await groups::commit_keeping_refusals(ctx.broker, std::move(commit));
  }
  OffsetCommitResponse response;
  size_t next = 0;
  for (const auto& topic : request.topics) {
    OffsetCommitResponse::OffsetCommitResponseTopic out;
    out.name = topic.name;
    for (const auto& partition : topic.partitions) {
      ASSERT(next < errors.size());
      out.partitions.push_back({partition.partition_index, wire(errors[next++])});
    }
    response.topics.push_back(std::move(out));
  }
  ASSERT(next == errors.size());
  co_return respond(ctx, response);
}

}  // namespace cairn::broker
