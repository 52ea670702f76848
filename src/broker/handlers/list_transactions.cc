// ListTransactions (key 66, v0-1): the transactional ids this broker coordinates, from every
// shard, with their producer id and state. Filters (all optional, combined with AND): state
// names (a name Kafka does not know is echoed in unknown_state_filters and matches nothing),
// producer ids, and (v1, KIP-994) a duration: only transactions open longer than that many ms.
// COORDINATOR_LOAD_IN_PROGRESS, without the ids of that shard, while a __transaction_state
// partition is not loaded.
#include <algorithm>
#include <set>

#include "broker/error_code.h"
#include "broker/handlers/handlers.h"
#include "broker/txn/txn_coordinator.h"
#include "net/await_callback.h"
#include "protocol/generated/list_transactions.h"

namespace cairn::broker {

namespace {

const std::set<std::string>& known_state_names() {
  static const std::set<std::string> names = [] {
    std::set<std::string> out;
    for (int8_t s = 0; s <= static_cast<int8_t>(txn::TxnState::prepare_epoch_fence); ++s) {
      out.insert(txn::state_name(static_cast<txn::TxnState>(s)));
    }
    return out;
  }();
  return names;
}

bool wanted(const protocol::ListTransactionsRequest& request, int16_t version,
            const txn::TxnMetadata& metadata, int64_t now_ms) {
  const auto& states = request.state_filters;
  if (!states.empty() &&
      std::find(states.begin(), states.end(), txn::state_name(metadata.state)) == states.end()) {
    return false;
  }
  const auto& ids = request.producer_id_filters;
  if (!ids.empty() &&
      std::find(ids.begin(), ids.end(), metadata.producer_id.value()) == ids.end()) {
    return false;
  }
  if (version >= 1 && request.duration_filter >= 0) {
    return metadata.start_ms >= 0 && now_ms - metadata.start_ms > request.duration_filter;
  }
  return true;
}

}  // namespace

asio::awaitable<net::Reply> handle_list_transactions(RequestContext ctx) {
  protocol::ListTransactionsRequest request;
  if (!ctx.decode(request)) co_return net::Reply::close();
  protocol::ListTransactionsResponse response;
  const txn::TxnCoordinator* coordinator = ctx.broker->txn;
  if (coordinator == nullptr) {
    response.error_code = wire(ErrorCode::coordinator_not_available);
    co_return respond(ctx, response);
  }
  for (const std::string& name : request.state_filters) {
    if (!known_state_names().contains(name)) response.unknown_state_filters.push_back(name);
  }
  const int64_t now_ms = ctx.broker->partitions->clock().now_ms();
  std::vector<asio::awaitable<txn::ListResult>> hops;
  for (uint32_t i = 0; i < ctx.broker->shards->count(); ++i) {
    hops.push_back(ctx.broker->shards->run_on(net::ShardId(i), txn::list_local_txns(coordinator)));
  }
  std::vector<txn::ListResult> results = co_await net::await_all(std::move(hops));
  for (const txn::ListResult& local : results) {
    if (local.error != ErrorCode::none) response.error_code = wire(local.error);
    for (const txn::TxnMetadata& metadata : local.txns) {
      if (!wanted(request, ctx.api_version(), metadata, now_ms)) continue;
      // Only the ids the principal may DESCRIBE (Kafka's rule).
      if (!ctx.allowed_quietly(AclOperation::describe, AclResourceType::transactional_id,
                               metadata.transactional_id)) {
        continue;
      }
      protocol::ListTransactionsResponse::TransactionState out;
      out.transactional_id = metadata.transactional_id;
      out.producer_id = metadata.producer_id.value();
      out.transaction_state = txn::state_name(metadata.state);
      response.transaction_states.push_back(std::move(out));
    }
  }
  co_return respond(ctx, response);
}

}  // namespace cairn::broker
