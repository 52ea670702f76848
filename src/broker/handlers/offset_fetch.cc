// OffsetFetch (key 9, v0-7): a group's committed offsets — of the partitions asked for, or
// (v2+, topics null) all of them. A partition without a commit answers offset -1, empty
// metadata and no error, as Kafka does. While the group's __consumer_offsets partition is
// being replayed the answer is COORDINATOR_LOAD_IN_PROGRESS (top level from v2, per partition
// before). v5+ carry the committed leader epoch. Offsets a transaction committed are shown
// once its COMMIT marker landed; v7's require_stable makes a partition whose transactional
// commit is still pending answer UNSTABLE_OFFSET_COMMIT (the client retries).
#include <map>

#include "broker/error_code.h"
#include "broker/groups/handler_support.h"
#include "broker/handlers/handlers.h"
#include "protocol/generated/offset_fetch.h"

namespace cairn::broker {

namespace {

using protocol::OffsetFetchRequest;
using protocol::OffsetFetchResponse;

OffsetFetchResponse::OffsetFetchResponsePartition to_partition(
    PartitionId partition, const std::optional<groups::CommittedOffset>& committed,
    ErrorCode error) {
  OffsetFetchResponse::OffsetFetchResponsePartition out;
  out.partition_index = partition.value();
  out.committed_offset = committed.has_value() ? committed->offset.value() : -1;
  out.committed_leader_epoch = committed.has_value() ? committed->leader_epoch.value() : -1;
  out.metadata = committed.has_value() ? committed->metadata : "";
  out.error_code = wire(error);
  return out;
}

}  // namespace

asio::awaitable<net::Reply> handle_offset_fetch(RequestContext ctx) {
  OffsetFetchRequest request;
  if (!ctx.decode(request)) co_return net::Reply::close();
  const int16_t version = ctx.api_version();
  std::optional<std::vector<groups::TopicPartitionKey>> keys;
  if (request.topics.has_value()) {
    keys.emplace();
    for (const auto& topic : *request.topics) {
      for (int32_t partition : topic.partition_indexes) {
        keys->push_back({topic.name, PartitionId(partition)});
      }
    }
  }
  groups::FetchResult result;
  if (ctx.broker->groups == nullptr) {
    result.error = ErrorCode::coordinator_not_available;
  } else {
    result = co_await groups::on_group_shard(
        ctx, request.group_id,
        groups::fetch_offsets(ctx.broker->groups, request.group_id, keys,
                              version >= 7 && request.require_stable));
  }
  OffsetFetchResponse response;
  if (result.error != ErrorCode::none && version >= 2) {
    response.error_code = wire(result.error);
    co_return respond(ctx, response);
  }
  if (result.error != ErrorCode::none) {
    // v0-1 have no top-level error: every requested partition carries it.
    for (const auto& topic :
         request.topics.value_or(std::vector<OffsetFetchRequest::OffsetFetchRequestTopic>{})) {
      OffsetFetchResponse::OffsetFetchResponseTopic out;
      out.name = topic.name;
      for (int32_t partition : topic.partition_indexes) {
        out.partitions.push_back(to_partition(PartitionId(partition), std::nullopt, result.error));
      }
      response.topics.push_back(std::move(out));
    }
    co_return respond(ctx, response);
  }
  // Group partitions by topic, keeping the order topics first appear in.
  std::map<std::string, size_t> topic_index;
  for (const groups::FetchedOffset& fetched : result.offsets) {
    auto [it, added] = topic_index.emplace(fetched.key.topic, response.topics.size());
    if (added) {
      response.topics.emplace_back();
      response.topics.back().name = fetched.key.topic;
    }
    response.topics[it->second].partitions.push_back(
        to_partition(fetched.key.partition, fetched.committed, fetched.error));
  }
  co_return respond(ctx, response);
}

}  // namespace cairn::broker
