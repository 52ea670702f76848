// AddOffsetsToTxn (key 25, v0-4): adds the __consumer_offsets partition of `group_id` to the
// producer's transaction, so that its TxnOffsetCommits there commit or abort with it (the
// marker goes to that partition too). Errors as AddPartitionsToTxn's.
#include "protocol/generated/add_offsets_to_txn.h"
#include "broker/error_code.h"
#include "broker/groups/group_config.h"
#include "broker/handlers/handlers.h"
#include "broker/txn/handler_support.h"

namespace cairn::broker {

namespace {
constexpr int16_t kFencedFromVersion = 2;
}  // namespace

asio::awaitable<net::Reply> handle_add_offsets_to_txn(RequestContext ctx) {
  protocol::AddOffsetsToTxnRequest request;
  if (!ctx.decode(request)) co_return net::Reply::close();
  protocol::AddOffsetsToTxnResponse response;
  // Kafka's checks: WRITE on the transactional id, READ on the group.
  if (!ctx.allowed(AclOperation::write, AclResourceType::transactional_id,
                   request.transactional_id)) {
    response.error_code = wire(ErrorCode::transactional_id_authorization_failed);
    co_return respond(ctx, response);
  }
  if (!ctx.allowed(AclOperation::read, AclResourceType::group, request.group_id)) {
    response.error_code = wire(ErrorCode::group_authorization_failed);
    co_return respond(ctx, response);
  }
  if (ctx.broker->txn == nullptr || ctx.broker->groups == nullptr) {
    response.error_code = wire(ErrorCode::coordinator_not_available);
    co_return respond(ctx, response);
  }
  txn::AddRequest add;
  add.transactional_id = request.transactional_id;
  add.producer_id = ProducerId(request.producer_id);
  add.epoch = ProducerEpoch(request.producer_epoch);
  add.partitions.push_back(
      {std::string(kConsumerOffsetsTopic),
       groups::offsets_partition_for(request.group_id, ctx.broker->groups->partition_count())});
  ErrorCode error = co_await txn::on_txn_shard(
      ctx, request.transactional_id, txn::add_partitions(ctx.broker->txn, std::move(add)));
  response.error_code = wire(txn::for_version(error, ctx.api_version(), kFencedFromVersion));
  co_return respond(ctx, response);
}

}  // namespace cairn::broker
