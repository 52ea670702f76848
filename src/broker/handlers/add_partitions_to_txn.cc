// AddPartitionsToTxn (key 24, v0-5): adds partitions to a producer's open transaction (or
// opens one). The coordinator makes the addition durable before answering, and the partitions
// accept the producer's transactional batches from then on (KIP-890's guard). A partition of
// a topic that does not exist gets UNKNOWN_TOPIC_OR_PARTITION and every other one
// OPERATION_NOT_ATTEMPTED, as Kafka answers; otherwise the coordinator's one answer goes to
// every partition (txn/txn_coordinator.h lists them).
//
// v0-3 are the clients' form: one transaction. v4+ (KIP-890) are the form brokers send each
// other: several transactions, each either added as above or, with verify_only, only checked
// — per partition NONE when it is in the producer's open transaction, else
// TRANSACTION_ABORTABLE (v5; v4 predates that code and gets INVALID_TXN_STATE); for the whole
// transaction INVALID_PRODUCER_ID_MAPPING (unknown id or another producer), PRODUCER_FENCED
// (another epoch) or CONCURRENT_TRANSACTIONS (the transaction is completing), as Kafka's
// coordinator answers. v5 only adds TRANSACTION_ABORTABLE.
// Authorization: v0-3 need WRITE on the transactional id (else every partition answers
// TRANSACTIONAL_ID_AUTHORIZATION_FAILED) and on each topic (TOPIC_AUTHORIZATION_FAILED, the
// others OPERATION_NOT_ATTEMPTED); v4+ CLUSTER_ACTION on the cluster (top-level
// CLUSTER_AUTHORIZATION_FAILED).
#include <string>
#include <vector>

#include "broker/error_code.h"
#include "broker/handlers/handlers.h"
#include "broker/txn/handler_support.h"
#include "protocol/generated/add_partitions_to_txn.h"

namespace cairn::broker {

namespace {

using Request = protocol::AddPartitionsToTxnRequest;
using Response = protocol::AddPartitionsToTxnResponse;
using Topics = std::vector<Request::AddPartitionsToTxnTopic>;
using TopicResults = std::vector<Response::AddPartitionsToTxnTopicResult>;

constexpr int16_t kFencedFromVersion = 2;
constexpr int16_t kBatchedFromVersion = 4;
constexpr int16_t kAbortableFromVersion = 5;

// One transaction of a request, in either form.
struct TxnInput {
  std::string transactional_id;
  ProducerId producer_id{-1};
  ProducerEpoch epoch{-1};
  bool verify_only = false;
  const Topics* topics = nullptr;
};

bool missing(const TopicInfo* info, int32_t partition) {
  return info == nullptr || partition < 0 || partition >= info->partition_count;
}

// The answer for every partition of `topics`, each from `error_of(topic, partition)`.
template <typename ErrorOf>
TopicResults results_for(const Topics& topics, ErrorOf error_of) {
  TopicResults results;
  for (const auto& topic : topics) {
    Response::AddPartitionsToTxnTopicResult out;
    out.name = topic.name;
    for (int32_t partition : topic.partitions) {
      out.results_by_partition.push_back({partition, wire(error_of(topic.name, partition))});
    }
    results.push_back(std::move(out));
  }
  return results;
}

asio::awaitable<TopicResults> add(const RequestContext& ctx, const TopicTable& topics,
                                  const TxnInput& input) {
  txn::AddRequest add;
  add.transactional_id = input.transactional_id;
  add.producer_id = input.producer_id;
  add.epoch = input.epoch;
  if (!ctx.allowed(AclOperation::write, AclResourceType::transactional_id,
                   input.transactional_id)) {
    co_return results_for(*input.topics, [](const std::string&, int32_t) {
      return ErrorCode::transactional_id_authorization_failed;
    });
  }
  // Internal topics are written by the broker alone: refused even to super users (Kafka).
  auto may_write = [&ctx](const std::string& name) {
    return !is_internal_topic(name) &&
           ctx.allowed(AclOperation::write, AclResourceType::topic, name);
  };
  bool refused = false;
  for (const auto& topic : *input.topics) {
    const TopicInfo* info = topics.find(topic.name);
    bool writable = may_write(topic.name);
    for (int32_t partition : topic.partitions) {
      refused = refused || !writable || missing(info, partition);
      add.partitions.push_back({topic.name, partition});
    }
  }
  if (refused) {  // Kafka's order: not authorized, unknown, then the rest not attempted
    co_return results_for(*input.topics, [&](const std::string& name, int32_t partition) {
      return !may_write(name)                        ? ErrorCode::topic_authorization_failed
             : missing(topics.find(name), partition) ? ErrorCode::unknown_topic_or_partition
                                                     : ErrorCode::operation_not_attempted;
    });
  }
  ErrorCode error = co_await txn::on_txn_shard(
      ctx, input.transactional_id, txn::add_partitions(ctx.broker->txn, std::move(add)));
  error = txn::for_version(error, ctx.api_version(), kFencedFromVersion);
  co_return results_for(*input.topics, [error](const std::string&, int32_t) { return error; });
}

// verify_only (v4+): whether each partition is in the producer's open transaction.
asio::awaitable<TopicResults> verify(const RequestContext& ctx, const TxnInput& input) {
  auto all = [&](ErrorCode error) {
    return results_for(*input.topics, [error](const std::string&, int32_t) { return error; });
  };
  if (input.transactional_id.empty()) co_return all(ErrorCode::invalid_request);
  txn::DescribeResult found = co_await txn::on_txn_shard(
      ctx, input.transactional_id, txn::describe_txn(ctx.broker->txn, input.transactional_id));
  const txn::TxnMetadata& txn = found.metadata;
  if (found.error == ErrorCode::transactional_id_not_found) {
    co_return all(ErrorCode::invalid_producer_id_mapping);
  }
  if (found.error != ErrorCode::none) co_return all(found.error);
  if (txn.producer_id != input.producer_id) co_return all(ErrorCode::invalid_producer_id_mapping);
  if (txn.epoch != input.epoch) co_return all(ErrorCode::producer_fenced);
  if (txn.state == txn::TxnState::prepare_commit || txn.state == txn::TxnState::prepare_abort) {
    co_return all(ErrorCode::concurrent_transactions);
  }
  ErrorCode absent = ctx.api_version() >= kAbortableFromVersion ? ErrorCode::transaction_abortable
                                                                : ErrorCode::invalid_txn_state;
  co_return results_for(*input.topics, [&](const std::string& topic, int32_t partition) {
    bool in = txn.state == txn::TxnState::ongoing && txn.partitions.contains({topic, partition});
    return in ? ErrorCode::none : absent;
  });
}

std::vector<TxnInput> inputs_of(const Request& request, int16_t version) {
  std::vector<TxnInput> inputs;
  if (version < kBatchedFromVersion) {
    inputs.push_back(
        {request.v3_and_below_transactional_id, ProducerId(request.v3_and_below_producer_id),
         ProducerEpoch(request.v3_and_below_producer_epoch), false, &request.v3_and_below_topics});
    return inputs;
  }
  for (const auto& txn : request.transactions) {
    inputs.push_back({txn.transactional_id, ProducerId(txn.producer_id),
                      ProducerEpoch(txn.producer_epoch), txn.verify_only, &txn.topics});
  }
  return inputs;
}

}  // namespace

asio::awaitable<net::Reply> handle_add_partitions_to_txn(RequestContext ctx) {
  Request request;
  if (!ctx.decode(request)) co_return net::Reply::close();
  std::shared_ptr<const TopicTable> topics = ctx.broker->topics->snapshot();
  const int16_t version = ctx.api_version();
  Response response;
  // v4+ come from brokers: CLUSTER_ACTION on the cluster (Kafka's rule).
  if (version >= kBatchedFromVersion && !ctx.allowed_on_cluster(AclOperation::cluster_action)) {
    response.error_code = wire(ErrorCode::cluster_authorization_failed);
    co_return respond(ctx, response);
  }
  for (const TxnInput& input : inputs_of(request, version)) {
    TopicResults results;
    if (ctx.broker->txn == nullptr) {
      results = results_for(*input.topics, [](const std::string&, int32_t) {
        return ErrorCode::coordinator_not_available;
      });
    } else if (input.verify_only) {
      results = co_await verify(ctx, input);
    } else {
      results = co_await add(ctx, *topics, input);
    }
    if (version < kBatchedFromVersion) {
      response.results_by_topic_v3_and_below = std::move(results);
    } else {
      response.results_by_transaction.push_back({input.transactional_id, std::move(results)});
    }
  }
  co_return respond(ctx, response);
}

}  // namespace cairn::broker
