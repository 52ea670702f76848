// TxnOffsetCommit (key 28, v0-4): a transactional producer commits its consumer group's
// offsets inside its transaction (send_offsets_to_transaction). They are written to the
// group's __consumer_offsets partition as a transactional batch of the producer and stay
// pending — OffsetFetch does not show them, or answers UNSTABLE_OFFSET_COMMIT when asked for
// stable offsets — until the transaction's marker lands there: then they are committed, or
// dropped on abort. v3 (KIP-447) carries the group generation, member id and instance id,
// checked like OffsetCommit's so a zombie of a rebalanced group is fenced
// (ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID); v0-2 skip those checks.
// First the transaction coordinator verifies the producer, as Kafka's KIP-890 verification
// does: INVALID_PRODUCER_ID_MAPPING for an unknown transactional id or another producer id,
// INVALID_PRODUCER_EPOCH for another epoch (every version: Kafka never answers
// PRODUCER_FENCED here); then a transaction that does not hold the group's partition (no
// AddOffsetsToTxn) is INVALID_TXN_STATE. Per-partition errors as OffsetCommit's
// (groups::commit_partition).
#include "protocol/generated/txn_offset_commit.h"
#include "broker/error_code.h"
#include "broker/groups/handler_support.h"
#include "broker/handlers/handlers.h"
#include "broker/txn/handler_support.h"

namespace cairn::broker {

namespace {

using protocol::TxnOffsetCommitRequest;
using protocol::TxnOffsetCommitResponse;

constexpr int16_t kGroupMetadataFromVersion = 3;

groups::CommitRequest to_commit(const RequestContext& ctx, TxnOffsetCommitRequest& request) {
  groups::CommitRequest commit;
  commit.group_id = request.group_id;
  commit.producer =
      InternalProducer{ProducerId(request.producer_id), ProducerEpoch(request.producer_epoch)};
  if (ctx.api_version() >= kGroupMetadataFromVersion) {
    commit.generation_id = request.generation_id;
    commit.member_id = request.member_id;
    commit.group_instance_id = request.group_instance_id;
  }
  std::shared_ptr<const TopicTable> topics = ctx.broker->topics->snapshot();
  const int32_t metadata_max_bytes = ctx.broker->groups->config().offset_metadata_max_bytes;
  for (auto& topic : request.topics) {
    const TopicInfo* info = topics->find(topic.name);
    const bool may_read = ctx.allowed(AclOperation::read, AclResourceType::topic, topic.name);
    for (auto& partition : topic.partitions) {
      commit.partitions.push_back(groups::commit_partition(
          info, topic.name, partition.partition_index, partition.committed_offset,
          partition.committed_leader_epoch, partition.committed_metadata, metadata_max_bytes));
      if (!may_read) commit.partitions.back().error = ErrorCode::topic_authorization_failed;
    }
  }
  return commit;
}

}  // namespace

asio::awaitable<net::Reply> handle_txn_offset_commit(RequestContext ctx) {
  TxnOffsetCommitRequest request;
  if (!ctx.decode(request)) co_return net::Reply::close();
  std::vector<ErrorCode> errors;
  ErrorCode refused = ErrorCode::none;
  // Kafka's checks: WRITE on the transactional id, READ on the group, READ on each topic.
  if (!ctx.allowed(AclOperation::write, AclResourceType::transactional_id,
                   request.transactional_id)) {
    refused = ErrorCode::transactional_id_authorization_failed;
  } else if (!ctx.allowed(AclOperation::read, AclResourceType::group, request.group_id)) {
    refused = ErrorCode::group_authorization_failed;
  } else if (ctx.broker->groups == nullptr || ctx.broker->txn == nullptr) {
    refused = ErrorCode::coordinator_not_available;
  } else {
    refused =
        co_await txn::on_txn_shard(ctx, request.transactional_id,
                                   txn::verify_producer(ctx.broker->txn, request.transactional_id,
                                                        ProducerId(request.producer_id),
                                                        ProducerEpoch(request.producer_epoch)));
  }
  if (refused != ErrorCode::none) {
    for (const auto& topic : request.topics) {
      errors.insert(errors.end(), topic.partitions.size(), refused);
    }
  } else {
    groups::CommitRequest commit = to_commit(ctx, request);
    errors = co_await groups::commit_keeping_refusals(ctx.broker, std::move(commit));
  }
  TxnOffsetCommitResponse response;
  size_t next = 0;
  for (const auto& topic : request.topics) {
    TxnOffsetCommitResponse::TxnOffsetCommitResponseTopic out;
    out.name = topic.name;
    for (const auto& partition : topic.partitions) {
      ASSERT(next < errors.size());
      ErrorCode error = errors[next++];
      if (error == ErrorCode::producer_fenced) error = ErrorCode::invalid_producer_epoch;
      out.partitions.push_back({partition.partition_index, wire(error)});
    }
    response.topics.push_back(std::move(out));
  }
  ASSERT(next == errors.size());
  co_return respond(ctx, response);
}

}  // namespace cairn::broker
