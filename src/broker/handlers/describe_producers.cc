// DescribeProducers (key 61, v0): the producers a partition knows (its producer state, the
// table idempotence and transactions are checked against): id, epoch, last sequence and
// timestamp of its last batch, the coordinator epoch of its last marker (-1: none seen),
// and the first offset of its open transaction here (-1: none) — what `cairn txn
// find-hanging` and Kafka's kafka-transactions.sh look at. Per partition:
// UNKNOWN_TOPIC_OR_PARTITION for one that does not exist, KAFKA_STORAGE_ERROR for one whose
// log cannot be read.
#include <string>
#include <vector>

#include "broker/error_code.h"
#include "broker/handlers/handlers.h"
#include "broker/partitions/partition_manager.h"
#include "broker/partitions/transactions.h"
#include "protocol/generated/describe_producers.h"
#include "protocol/record_batch.h"

namespace cairn::broker {

namespace {

using protocol::DescribeProducersResponse;

// The coordinator epoch written in the producer's last marker on `partition`, or -1.
int32_t marker_coordinator_epoch(Partition& partition, Offset marker_offset) {
  if (marker_offset.value() < 0) return -1;
  Result<storage::ReadResult> read =
      partition.log->read(marker_offset, 1, Offset(marker_offset.value() + 1));
  Result<std::vector<uint8_t>> bytes =
      read.ok() ? partition.log->copy(*read) : Result<std::vector<uint8_t>>(read.status());
  if (!bytes.ok()) return -1;
  protocol::BatchSplitter splitter(*bytes);
  std::optional<model::RecordBatchView> batch = splitter.next();
  // The cleaner may have removed it (docs/compaction.md): then the read finds a later batch.
  if (!batch.has_value() || !batch->is_control() || batch->base_offset() != marker_offset) {
    return -1;
  }
  Result<TxnMarker> marker = decode_marker_batch(*batch);
  return marker.ok() ? marker->coordinator_epoch : -1;
}

asio::awaitable<DescribeProducersResponse::PartitionResponse> describe_partition(
    const BrokerState* broker, std::string topic, int32_t index) {
  DescribeProducersResponse::PartitionResponse out;
  out.partition_index = index;
  std::shared_ptr<Partition> partition = broker->partitions->find(topic, PartitionId(index));
  Status health = partition == nullptr ? error(StatusCode::not_found, "no such partition")
                                       : partition->health();
  if (!health.ok()) {
    out.error_code = wire(kafka_error(health));
    out.error_message = health.message();
    co_return out;
  }
  for (const auto& [id, entry] : partition->producers.entries()) {
    DescribeProducersResponse::ProducerState producer;
    producer.producer_id = id.value();
    producer.producer_epoch = entry.epoch.value();
    if (!entry.batches.empty()) {
      producer.last_sequence = entry.batches.back().last_sequence.value();
      producer.last_timestamp = entry.batches.back().max_timestamp.value();
    }
    producer.coordinator_epoch = marker_coordinator_epoch(*partition, entry.marker_offset);
    producer.current_txn_start_offset = entry.txn_first_offset.value();
    out.active_producers.push_back(producer);
  }
  co_return out;
}

}  // namespace

asio::awaitable<net::Reply> handle_describe_producers(RequestContext ctx) {
  protocol::DescribeProducersRequest request;
  if (!ctx.decode(request)) co_return net::Reply::close();
  std::shared_ptr<const TopicTable> topics = ctx.broker->topics->snapshot();
  DescribeProducersResponse response;
  for (const auto& topic : request.topics) {
    DescribeProducersResponse::TopicResponse out;
    out.name = topic.name;
    const TopicInfo* info = topics->find(topic.name);
    for (int32_t index : topic.partition_indexes) {
      if (info == nullptr || index < 0 || index >= info->partition_count) {
        DescribeProducersResponse::PartitionResponse missing;
        missing.partition_index = index;
        missing.error_code = wire(ErrorCode::unknown_topic_or_partition);
        out.partitions.push_back(std::move(missing));
        continue;
      }
      out.partitions.push_back(
          co_await ctx.broker->shards->run_on(ctx.broker->shard_of(topic.name, PartitionId(index)),
                                              describe_partition(ctx.broker, topic.name, index)));
    }
    response.topics.push_back(std::move(out));
  }
  co_return respond(ctx, response);
}

}  // namespace cairn::broker
