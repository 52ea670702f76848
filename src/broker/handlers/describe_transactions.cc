// DescribeTransactions (key 65, v0): the coordinator's state of each transactional id asked
// for — state, timeout, when the open transaction started (-1: none), producer id and epoch,
// and the partitions of the open transaction. Per id: TRANSACTIONAL_ID_NOT_FOUND for an id
// the coordinator does not know, COORDINATOR_LOAD_IN_PROGRESS while its partition loads,
// INVALID_REQUEST for an empty id.
#include <map>

#include "broker/error_code.h"
#include "broker/handlers/handlers.h"
#include "broker/txn/handler_support.h"
#include "protocol/generated/describe_transactions.h"

namespace cairn::broker {

namespace {

using Described = protocol::DescribeTransactionsResponse::TransactionState;

Described describe_one(const RequestContext& ctx, const std::string& id,
                       const txn::DescribeResult& result) {
  Described out;
  out.transactional_id = id;
  out.error_code = wire(result.error);
  if (result.error != ErrorCode::none) return out;
  const txn::TxnMetadata& metadata = result.metadata;
  out.transaction_state = txn::state_name(metadata.state);
  out.transaction_timeout_ms = metadata.timeout_ms;
  out.transaction_start_time_ms = metadata.start_ms;
  out.producer_id = metadata.producer_id.value();
  out.producer_epoch = metadata.epoch.value();
  std::map<std::string, std::vector<int32_t>> topics;
  for (const txn::TxnPartition& tp : metadata.partitions) {
    topics[tp.topic].push_back(tp.partition);
  }
  std::erase_if(topics, [&ctx](const auto& entry) {  // Kafka leaves out what it hides
    return !ctx.allowed_quietly(AclOperation::describe, AclResourceType::topic, entry.first);
  });
  for (auto& [topic, partitions] : topics) {
    out.topics.push_back({topic, std::move(partitions)});
  }
  return out;
}

}  // namespace

asio::awaitable<net::Reply> handle_describe_transactions(RequestContext ctx) {
  protocol::DescribeTransactionsRequest request;
  if (!ctx.decode(request)) co_return net::Reply::close();
  protocol::DescribeTransactionsResponse response;
  for (const std::string& id : request.transactional_ids) {
    txn::DescribeResult result;
    if (id.empty()) {
      result.error = ErrorCode::invalid_request;
    } else if (!ctx.allowed(AclOperation::describe, AclResourceType::transactional_id, id)) {
      result.error = ErrorCode::transactional_id_authorization_failed;
    } else if (ctx.broker->txn == nullptr) {
      result.error = ErrorCode::coordinator_not_available;
    } else {
      result = co_await txn::on_txn_shard(ctx, id, txn::describe_txn(ctx.broker->txn, id));
    }
    response.transaction_states.push_back(describe_one(ctx, id, result));
  }
  co_return respond(ctx, response);
}

}  // namespace cairn::broker
