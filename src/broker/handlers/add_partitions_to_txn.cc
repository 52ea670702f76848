// AddPartitionsToTxn (key 24, v0-3): adds partitions to a producer's open transaction (or
// opens one). The coordinator makes the addition durable before answering, and the partitions
// accept the producer's transactional batches from then on (KIP-890's guard). A partition of
// a topic that does not exist gets UNKNOWN_TOPIC_OR_PARTITION and every other one
// OPERATION_NOT_ATTEMPTED, as Kafka answers; otherwise the coordinator's one answer goes to
// every partition (txn/txn_coordinator.h lists them). v4+ (the broker-to-broker verify form)
// is not served.
#include <vector>

#include "broker/error_code.h"
#include "broker/handlers/handlers.h"
#include "broker/txn/handler_support.h"
#include "protocol/generated/add_partitions_to_txn.h"

namespace cairn::broker {

namespace {
constexpr int16_t kFencedFromVersion = 2;
}  // namespace

asio::awaitable<net::Reply> handle_add_partitions_to_txn(RequestContext ctx) {
  protocol::AddPartitionsToTxnRequest request;
  if (!ctx.decode(request)) co_return net::Reply::close();
  std::shared_ptr<const TopicTable> topics = ctx.broker->topics->snapshot();
  txn::AddRequest add;
  add.transactional_id = request.v3_and_below_transactional_id;
  add.producer_id = ProducerId(request.v3_and_below_producer_id);
  add.epoch = ProducerEpoch(request.v3_and_below_producer_epoch);
  bool unknown = false;
  for (const auto& topic : request.v3_and_below_topics) {
    const TopicInfo* info = topics->find(topic.name);
    for (int32_t partition : topic.partitions) {
      if (info == nullptr || partition < 0 || partition >= info->partition_count) unknown = true;
      add.partitions.push_back({topic.name, partition});
    }
  }
  ErrorCode error = ErrorCode::none;
  if (ctx.broker->txn == nullptr) {
    error = ErrorCode::coordinator_not_available;
  } else if (!unknown) {
    std::string id = add.transactional_id;
    error =
        co_await txn::on_txn_shard(ctx, id, txn::add_partitions(ctx.broker->txn, std::move(add)));
    error = txn::for_version(error, ctx.api_version(), kFencedFromVersion);
  }
  protocol::AddPartitionsToTxnResponse response;
  for (const auto& topic : request.v3_and_below_topics) {
    protocol::AddPartitionsToTxnResponse::AddPartitionsToTxnTopicResult out;
    out.name = topic.name;
    const TopicInfo* info = topics->find(topic.name);
    for (int32_t partition : topic.partitions) {
      ErrorCode code = error;
      if (unknown) {
        bool missing = info == nullptr || partition < 0 || partition >= info->partition_count;
        code = missing ? ErrorCode::unknown_topic_or_partition : ErrorCode::operation_not_attempted;
      }
      out.results_by_partition.push_back({partition, wire(code)});
    }
    response.results_by_topic_v3_and_below.push_back(std::move(out));
  }
  co_return respond(ctx, response);
}

}  // namespace cairn::broker
