// OffsetFetch (key 9, v0-9): a group's committed offsets — of the partitions asked for, or
// (v2+, topics null) all of them. A partition without a commit answers offset -1, empty
// metadata and no error, as Kafka does. While the group's __consumer_offsets partition is
// being replayed the answer is COORDINATOR_LOAD_IN_PROGRESS (top level from v2, per partition
// before). v5+ carry the committed leader epoch. Offsets a transaction committed are shown
// once its COMMIT marker landed; v7's require_stable makes a partition whose transactional
// commit is still pending answer UNSTABLE_OFFSET_COMMIT (the client retries). v8+ ask for a
// batch of groups (KIP-709): each group is answered on its own, with its own group-level error
// (a group the coordinator does not know answers like an empty one, no error). v9 adds the
// member id and epoch of KIP-848's consumer protocol: for a consumer-protocol group, a fetch
// naming a member must come from a current member with its epoch (UNKNOWN_MEMBER_ID,
// STALE_MEMBER_EPOCH as the group's error); null and -1 (admin tools), and classic groups, are
// not checked, as in Kafka. Authorization: DESCRIBE on the group (else
// GROUP_AUTHORIZATION_FAILED) and on each topic (authorize_topics below).
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

namespace {

asio::awaitable<groups::FetchResult> refused(ErrorCode error) {
  groups::FetchResult result;
  result.error = error;
  co_return result;
}

// Offsets of topics the principal may not DESCRIBE: TOPIC_AUTHORIZATION_FAILED when the
// request named them, left out when it asked for all (Kafka's rule).
groups::FetchResult authorize_topics(const RequestContext& ctx, groups::FetchResult result,
                                     bool named) {
  std::map<std::string, bool, std::less<>> may_describe;
  std::vector<groups::FetchedOffset> kept;
  for (groups::FetchedOffset& fetched : result.offsets) {
    auto [it, added] = may_describe.try_emplace(fetched.key.topic, true);
    if (added) it->second = ctx.allowed(AclOperation::describe, AclResourceType::topic, it->first);
    if (!it->second) {
      if (!named) continue;
      fetched.committed = std::nullopt;
      fetched.error = ErrorCode::topic_authorization_failed;
    }
    kept.push_back(std::move(fetched));
  }
  result.offsets = std::move(kept);
  return result;
}

// The committed offsets of one group: of `keys`, or (nullopt) all of them. Not a coroutine
// (nothing here outlives `ctx`).
asio::awaitable<groups::FetchResult> fetch_group(
    const RequestContext& ctx, std::string group_id,
    std::optional<std::vector<groups::TopicPartitionKey>> keys, bool require_stable,
    std::optional<std::string> member_id = std::nullopt, int32_t member_epoch = -1) {
  if (!ctx.allowed(AclOperation::describe, AclResourceType::group, group_id)) {
    return refused(ErrorCode::group_authorization_failed);
  }
  if (ctx.broker->groups == nullptr) return refused(ErrorCode::coordinator_not_available);
  return groups::on_group_shard(
      ctx, group_id,
      groups::fetch_offsets(ctx.broker->groups, group_id, std::move(keys), require_stable,
                            std::move(member_id), member_epoch));
}

template <typename Topics>
std::optional<std::vector<groups::TopicPartitionKey>> keys_of(const std::optional<Topics>& topics) {
  if (!topics.has_value()) return std::nullopt;
  std::vector<groups::TopicPartitionKey> keys;
  for (const auto& topic : *topics) {
    for (int32_t partition : topic.partition_indexes) {
      keys.push_back({topic.name, PartitionId(partition)});
    }
  }
  return keys;
}

// Groups partitions by topic, keeping the order topics first appear in.
template <typename TopicOut, typename Convert>
std::vector<TopicOut> by_topic(const std::vector<groups::FetchedOffset>& offsets, Convert convert) {
  std::vector<TopicOut> topics;
  std::map<std::string, size_t> topic_index;
  for (const groups::FetchedOffset& fetched : offsets) {
    auto [it, added] = topic_index.emplace(fetched.key.topic, topics.size());
    if (added) {
      topics.emplace_back();
      topics.back().name = fetched.key.topic;
    }
    topics[it->second].partitions.push_back(convert(fetched));
  }
  return topics;
}

OffsetFetchResponse::OffsetFetchResponsePartitions to_batched_partition(
    const groups::FetchedOffset& fetched) {
  OffsetFetchResponse::OffsetFetchResponsePartition single =
      to_partition(fetched.key.partition, fetched.committed, fetched.error);
  OffsetFetchResponse::OffsetFetchResponsePartitions out;
  out.partition_index = single.partition_index;
  out.committed_offset = single.committed_offset;
  out.committed_leader_epoch = single.committed_leader_epoch;
  out.metadata = std::move(single.metadata);
  out.error_code = single.error_code;
  return out;
}

// v8+: one answer per group, each with its own error.
asio::awaitable<net::Reply> fetch_batched(RequestContext ctx, OffsetFetchRequest request) {
  OffsetFetchResponse response;
  for (const auto& group : request.groups) {
    // v8 has no member fields: the decoded defaults (null, -1) are what v8 means.
    groups::FetchResult result =
        co_await fetch_group(ctx, group.group_id, keys_of(group.topics), request.require_stable,
                             group.member_id, group.member_epoch);
    result = authorize_topics(ctx, std::move(result), group.topics.has_value());
    OffsetFetchResponse::OffsetFetchResponseGroup out;
    out.group_id = group.group_id;
    out.error_code = wire(result.error);
    if (result.error == ErrorCode::none) {
      out.topics = by_topic<OffsetFetchResponse::OffsetFetchResponseTopics>(result.offsets,
                                                                            to_batched_partition);
    }
    response.groups.push_back(std::move(out));
  }
  co_return respond(ctx, response);
}

}  // namespace

asio::awaitable<net::Reply> handle_offset_fetch(RequestContext ctx) {
  OffsetFetchRequest request;
  if (!ctx.decode(request)) co_return net::Reply::close();
  const int16_t version = ctx.api_version();
  if (version >= 8) co_return co_await fetch_batched(std::move(ctx), std::move(request));
  groups::FetchResult result = co_await fetch_group(ctx, request.group_id, keys_of(request.topics),
                                                    version >= 7 && request.require_stable);
  result = authorize_topics(ctx, std::move(result), request.topics.has_value());
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
  response.topics = by_topic<OffsetFetchResponse::OffsetFetchResponseTopic>(
      result.offsets, [](const groups::FetchedOffset& fetched) {
        return to_partition(fetched.key.partition, fetched.committed, fetched.error);
      });
  co_return respond(ctx, response);
}

}  // namespace cairn::broker
