// DeleteRecords (key 21): moves partitions' log start offset (the low watermark) forward.
//
// Per partition: no DELETE on the topic: TOPIC_AUTHORIZATION_FAILED; an immutable topic
// (cairn.immutable, handlers/immutable.h): POLICY_VIOLATION; unknown topic or
// partition: UNKNOWN_TOPIC_OR_PARTITION; an internal topic
// (__consumer_offsets): INVALID_TOPIC_EXCEPTION, as in Kafka; offset -1 means the
// high watermark; an offset above the high watermark (or below -1): OFFSET_OUT_OF_RANGE; one
// below the current start changes nothing. The answer carries the new low watermark and is
// sent once the move is durable (the log deletes whole segments below it; a reader never gets
// a record below the low watermark again, even after a crash). Low watermark -1 on errors.
#include <string>

#include "broker/error_code.h"
#include "broker/handlers/admin_support.h"
#include "broker/handlers/handlers.h"
#include "broker/handlers/immutable.h"
#include "broker/partitions/partition_manager.h"
#include "protocol/generated/delete_records.h"

namespace cairn::broker {
namespace {

using protocol::DeleteRecordsRequest;
using protocol::DeleteRecordsResponse;

asio::awaitable<DeleteRecordsResponse::DeleteRecordsPartitionResult> delete_partition(
    const BrokerState* broker, std::shared_ptr<const TopicTable> topics, std::string topic,
    int32_t partition, int64_t offset) {
  DeleteRecordsResponse::DeleteRecordsPartitionResult result;
  result.partition_index = partition;
  result.low_watermark = -1;
  const TopicInfo* info = topics->find(topic);
  if (info == nullptr || partition < 0 || partition >= info->partition_count) {
    result.error_code = wire(ErrorCode::unknown_topic_or_partition);
    co_return result;
  }
  if (is_internal_topic(topic)) {
    result.error_code = wire(ErrorCode::invalid_topic_exception);
    co_return result;
  }
  if (offset < -1) {
    result.error_code = wire(ErrorCode::offset_out_of_range);
    co_return result;
  }
  Result<Offset> low = co_await broker->partitions->delete_records(
      std::move(topic), PartitionId(partition), Offset(offset));
  if (!low.ok()) {
    result.error_code = wire(kafka_error(low.status()));
    co_return result;
  }
  result.error_code = wire(ErrorCode::none);
  result.low_watermark = low->value();
  co_return result;
}

}  // namespace

asio::awaitable<net::Reply> handle_delete_records(RequestContext ctx) {
  DeleteRecordsRequest request;
  if (!ctx.decode(request)) co_return net::Reply::close();
  std::shared_ptr<const TopicTable> topics = ctx.broker->topics->snapshot();

  DeleteRecordsResponse response;
  response.topics.reserve(request.topics.size());
  for (const DeleteRecordsRequest::DeleteRecordsTopic& topic : request.topics) {
    DeleteRecordsResponse::DeleteRecordsTopicResult result;
    result.name = topic.name;
    result.partitions.reserve(topic.partitions.size());
    const bool may_delete = ctx.allowed(AclOperation::remove, AclResourceType::topic, topic.name);
    const TopicInfo* info = topics->find(topic.name);
    const bool immutable = info != nullptr && is_immutable(info->configs);
    for (const DeleteRecordsRequest::DeleteRecordsPartition& partition : topic.partitions) {
      if (!may_delete || immutable) {
        DeleteRecordsResponse::DeleteRecordsPartitionResult refused;
        refused.partition_index = partition.partition_index;
        refused.low_watermark = -1;
        refused.error_code =
            wire(!may_delete ? ErrorCode::topic_authorization_failed : ErrorCode::policy_violation);
        result.partitions.push_back(refused);
        continue;
      }
      result.partitions.push_back(co_await delete_partition(
          ctx.broker, topics, topic.name, partition.partition_index, partition.offset));
    }
    response.topics.push_back(std::move(result));
  }
  co_return respond(ctx, response);
}

}  // namespace cairn::broker
