// EndTxn (key 26, v0-4): commits or aborts the producer's open transaction. The decision is
// made durable (PrepareCommit / PrepareAbort), the markers are written to every partition of
// the transaction and fsynced, and the transaction is complete before the answer — so the
// producer's next transaction starts at once. Errors in txn/txn_coordinator.h.
#include "protocol/generated/end_txn.h"
#include "broker/error_code.h"
#include "broker/handlers/handlers.h"
#include "broker/txn/handler_support.h"

namespace cairn::broker {

namespace {
constexpr int16_t kFencedFromVersion = 2;
}  // namespace

asio::awaitable<net::Reply> handle_end_txn(RequestContext ctx) {
  protocol::EndTxnRequest request;
  if (!ctx.decode(request)) co_return net::Reply::close();
  protocol::EndTxnResponse response;
  if (!ctx.allowed(AclOperation::write, AclResourceType::transactional_id,
                   request.transactional_id)) {
    response.error_code = wire(ErrorCode::transactional_id_authorization_failed);
    co_return respond(ctx, response);
  }
  if (ctx.broker->txn == nullptr) {
    response.error_code = wire(ErrorCode::coordinator_not_available);
    co_return respond(ctx, response);
  }
  txn::EndRequest end;
  end.transactional_id = request.transactional_id;
  end.producer_id = ProducerId(request.producer_id);
  end.epoch = ProducerEpoch(request.producer_epoch);
  end.commit = request.committed;
  ErrorCode error = co_await txn::on_txn_shard(ctx, request.transactional_id,
                                               txn::end_txn(ctx.broker->txn, std::move(end)));
  response.error_code = wire(txn::for_version(error, ctx.api_version(), kFencedFromVersion));
  co_return respond(ctx, response);
}

}  // namespace cairn::broker
