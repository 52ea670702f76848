// DescribeProducers (key 61, v0): the producers a partition knows (its producer state, the
// table idempotence and transactions are checked against): id, epoch, last sequence and
// timestamp of its last batch, the coordinator epoch of its last marker (-1: none seen),
// and the first offset of its open transaction here (-1: none) — what `cairn txn
// find-hanging` and Kafka's kafka-transactions.sh look at. Per partition:
// UNKNOWN_TOPIC_OR_PARTITION for one that does not exist, KAFKA_STORAGE_ERROR for one whose
// log cannot be read.
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "broker/error_code.h"
#include "broker/handlers/handlers.h"
#include "broker/partitions/partition_manager.h"
#include "broker/partitions/transactions.h"
#include "net/await_callback.h"
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

DescribeProducersResponse::PartitionResponse describe_partition(const BrokerState* broker,
                                                                const std::string& topic,
                                                                int32_t index) {
  DescribeProducersResponse::PartitionResponse out;
  out.partition_index = index;
  std::shared_ptr<Partition> partition = broker->partitions->find(topic, PartitionId(index));
  Status health = partition == nullptr ? error(StatusCode::not_found, "no such partition")
                                       : partition->health();
  if (!health.ok()) {
    out.error_code = wire(kafka_error(health));
    out.error_message = health.message();
    return out;
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
  return out;
}

using TopicPartition = std::pair<std::string, int32_t>;

// On the shard owning every partition of `partitions`: their answers, in order.
asio::awaitable<std::vector<DescribeProducersResponse::PartitionResponse>> describe_on_shard(
    const BrokerState* broker, std::vector<TopicPartition> partitions) {
  std::vector<DescribeProducersResponse::PartitionResponse> out;
  for (const auto& [topic, index] : partitions) {
    out.push_back(describe_partition(broker, topic, index));
  }
  co_return out;
}

}  // namespace

asio::awaitable<net::Reply> handle_describe_producers(RequestContext ctx) {
  protocol::DescribeProducersRequest request;
  if (!ctx.decode(request)) co_return net::Reply::close();
  std::shared_ptr<const TopicTable> topics = ctx.broker->topics->snapshot();
  // Every shard's partitions at once; the answers go back in request order.
  std::map<net::ShardId, std::vector<TopicPartition>> by_shard;
  std::set<std::string> refused;  // topics the principal may not READ (Kafka's check)
  for (const auto& topic : request.topics) {
    const TopicInfo* info = topics->find(topic.name);
    if (!ctx.allowed(AclOperation::read, AclResourceType::topic, topic.name)) {
      refused.insert(topic.name);
      continue;
    }
    for (int32_t index : topic.partition_indexes) {
      if (info != nullptr && index >= 0 && index < info->partition_count) {
        by_shard[ctx.broker->shard_of(topic.name, PartitionId(index))].push_back(
            {topic.name, index});
      }
    }
  }
  std::vector<asio::awaitable<std::vector<DescribeProducersResponse::PartitionResponse>>> hops;
  for (auto& [shard, list] : by_shard) {
    hops.push_back(ctx.broker->shards->run_on(shard, describe_on_shard(ctx.broker, list)));
  }
  auto answers = co_await net::await_all(std::move(hops));
  std::map<TopicPartition, DescribeProducersResponse::PartitionResponse> found;
  size_t hop = 0;
  for (auto& [shard, list] : by_shard) {
    for (size_t k = 0; k < list.size(); ++k) found[list[k]] = std::move(answers[hop][k]);
    ++hop;
  }
  DescribeProducersResponse response;
  for (const auto& topic : request.topics) {
    DescribeProducersResponse::TopicResponse out;
    out.name = topic.name;
    for (int32_t index : topic.partition_indexes) {
      auto it = found.find({topic.name, index});
      if (it != found.end()) {
        out.partitions.push_back(it->second);
        continue;
      }
      DescribeProducersResponse::PartitionResponse missing;
      missing.partition_index = index;
      missing.error_code =
          wire(refused.contains(topic.name) ? ErrorCode::topic_authorization_failed
                                            : ErrorCode::unknown_topic_or_partition);
      out.partitions.push_back(std::move(missing));
    }
    response.topics.push_back(std::move(out));
  }
  co_return respond(ctx, response);
}

}  // namespace cairn::broker
