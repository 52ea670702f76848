// WriteTxnMarkers (key 27, v0-1): writes COMMIT or ABORT markers for a producer's transaction
// on the partitions named. Kafka's coordinators send it to partition leaders; here Cairn's own
// coordinator writes its markers directly, and the request serves the admin path that ends a
// hanging transaction (Kafka's Admin.abortTransaction, `cairn txn abort-hanging`). A marker on
// a __consumer_offsets partition also settles the producer's pending offsets there.
//
// Per partition: UNKNOWN_TOPIC_OR_PARTITION for one that does not exist; INVALID_PRODUCER_EPOCH
// when a newer epoch of the producer already wrote there; KAFKA_STORAGE_ERROR when the log
// cannot be written. The answer is sent once every marker written is durable.
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "broker/error_code.h"
#include "broker/groups/coordinator.h"
#include "broker/handlers/handlers.h"
#include "broker/partitions/log_await.h"
#include "broker/partitions/partition_manager.h"
#include "broker/partitions/transactions.h"
#include "protocol/generated/write_txn_markers.h"

namespace cairn::broker {

namespace {

using protocol::WriteTxnMarkersRequest;
using protocol::WriteTxnMarkersResponse;
using TopicPartition = std::pair<std::string, int32_t>;

struct MarkerJob {
  ProducerId producer_id{-1};
  ProducerEpoch epoch{-1};
  bool commit = false;
  int32_t coordinator_epoch = 0;
};

ErrorCode write_one(const BrokerState* broker, const MarkerJob& job, const TopicPartition& tp,
                    std::vector<std::pair<std::shared_ptr<Partition>, Offset>>& written) {
  std::shared_ptr<Partition> partition = broker->partitions->find(tp.first, PartitionId(tp.second));
  Status health = partition == nullptr ? error(StatusCode::not_found, "no such partition")
                                       : partition->health();
  if (!health.ok()) return kafka_error(health);
  TimestampMs now(broker->partitions->clock().now_ms());
  Result<Offset> at =
      append_marker(*partition, job.producer_id, job.epoch, job.commit, now, job.coordinator_epoch);
  if (at.status().code() == StatusCode::invalid_argument) return ErrorCode::invalid_producer_epoch;
  if (!at.ok()) return kafka_error(at.status());
  if (tp.first == kConsumerOffsetsTopic && broker->groups != nullptr) {
    groups::complete_txn_offsets(broker->groups, tp.second, job.producer_id, job.commit);
  }
  written.emplace_back(std::move(partition), *at);
  return ErrorCode::none;
}

// On the shard owning every partition of `partitions`: their error codes, in order.
asio::awaitable<std::vector<ErrorCode>> write_on_shard(const BrokerState* broker, MarkerJob job,
                                                       std::vector<TopicPartition> partitions) {
  std::vector<ErrorCode> codes;
  std::vector<std::pair<std::shared_ptr<Partition>, Offset>> written;
  for (const TopicPartition& tp : partitions) codes.push_back(write_one(broker, job, tp, written));
  size_t next = 0;
  for (size_t i = 0; i < codes.size(); ++i) {
    if (codes[i] != ErrorCode::none) continue;
    auto& [partition, offset] = written[next++];
    // Deleted while an earlier wait was pending: its log is gone.
    if (!partition->usable()) {
      codes[i] = ErrorCode::kafka_storage_error;
      continue;
    }
    Status durable = co_await await_durable(*partition->log, offset);
    if (!durable.ok()) codes[i] = kafka_error(durable);
  }
  co_return codes;
}

asio::awaitable<WriteTxnMarkersResponse::WritableTxnMarkerResult> write_marker(
    const BrokerState* broker, const WriteTxnMarkersRequest::WritableTxnMarker& marker,
    bool authorized) {
  std::shared_ptr<const TopicTable> topics = broker->topics->snapshot();
  MarkerJob job{ProducerId(marker.producer_id), ProducerEpoch(marker.producer_epoch),
                marker.transaction_result, marker.coordinator_epoch};
  std::map<TopicPartition, ErrorCode> codes;
  std::map<net::ShardId, std::vector<TopicPartition>> by_shard;
  for (const auto& topic : marker.topics) {
    const TopicInfo* info = topics->find(topic.name);
    for (int32_t index : topic.partition_indexes) {
      TopicPartition tp{topic.name, index};
      if (!authorized) {
        codes[tp] = ErrorCode::cluster_authorization_failed;
      } else if (info == nullptr || index < 0 || index >= info->partition_count) {
        codes[tp] = ErrorCode::unknown_topic_or_partition;
      } else {
        by_shard[broker->shard_of(topic.name, PartitionId(index))].push_back(tp);
      }
    }
  }
  for (auto& [shard, list] : by_shard) {
    std::vector<ErrorCode> results =
        co_await broker->shards->run_on(shard, write_on_shard(broker, job, list));
    for (size_t i = 0; i < list.size(); ++i) codes[list[i]] = results[i];
  }
  WriteTxnMarkersResponse::WritableTxnMarkerResult out;
  out.producer_id = marker.producer_id;
  for (const auto& topic : marker.topics) {
    WriteTxnMarkersResponse::WritableTxnMarkerTopicResult result;
    result.name = topic.name;
    for (int32_t index : topic.partition_indexes) {
      result.partitions.push_back({index, wire(codes[{topic.name, index}])});
    }
    out.topics.push_back(std::move(result));
  }
  co_return out;
}

}  // namespace

asio::awaitable<net::Reply> handle_write_txn_markers(RequestContext ctx) {
  WriteTxnMarkersRequest request;
  if (!ctx.decode(request)) co_return net::Reply::close();
  WriteTxnMarkersResponse response;
  // Only brokers send it: CLUSTER_ACTION on the cluster (Kafka's rule).
  const bool authorized = ctx.allowed_on_cluster(AclOperation::cluster_action);
  for (const auto& marker : request.markers) {
    response.markers.push_back(co_await write_marker(ctx.broker, marker, authorized));
  }
  co_return respond(ctx, response);
}

}  // namespace cairn::broker
