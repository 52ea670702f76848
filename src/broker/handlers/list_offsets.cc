// ListOffsets (key 2): an offset per partition for a timestamp.
//
//   -2 (EARLIEST)  the log start offset
//   -1 (LATEST)    the high watermark; for read_committed (isolation_level 1, v2+) the last
//                  stable offset
//   t >= 0         the offset of the first record whose timestamp is >= t, with that
//                  record's timestamp (Kafka's record-level answer: the time index finds the
//                  batch, then the batch's records are read); none: offset -1, timestamp -1.
//                  Only offsets below the high watermark (read_committed: the LSO) count.
//   -3 (MAX_TIMESTAMP, v7+)   the first record with the log's highest timestamp, as above
//   -4 (EARLIEST_LOCAL, v8+)  the log start offset: every segment is local
//   -5 (LATEST_TIERED, v9+)   offset -1: nothing is tiered (Kafka's answer without remote
//                             storage)
// v0 keeps Kafka 0.8's meaning, "offsets before the timestamp", in old_style_offsets: see
// offsets_before. Each partition hops to its owning shard. Errors: UNKNOWN_TOPIC_OR_PARTITION,
// KAFKA_STORAGE_ERROR, TOPIC_AUTHORIZATION_FAILED (no DESCRIBE on the topic).
#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "broker/error_code.h"
#include "broker/handlers/handlers.h"
#include "broker/partitions/partition_manager.h"
#include "protocol/generated/list_offsets.h"
#include "protocol/record_batch.h"

namespace cairn::broker {
namespace {

using protocol::ListOffsetsRequest;
using protocol::ListOffsetsResponse;

constexpr int64_t kLatestTimestamp = -1;
constexpr int64_t kEarliestTimestamp = -2;
constexpr int64_t kMaxTimestamp = -3;            // v7+, KIP-734
constexpr int64_t kEarliestLocalTimestamp = -4;  // v8+, KIP-405
constexpr int64_t kLatestTieredTimestamp = -5;   // v9+, KIP-1005

struct Lookup {
  ErrorCode error = ErrorCode::none;
  Offset offset{-1};
  TimestampMs timestamp{-1};
  std::vector<int64_t> old_style_offsets;  // v0
};

// The first record at or after `from` (a batch base offset) whose timestamp is >= `target`.
Result<Lookup> find_record_by_time(storage::Log& log, Offset from, TimestampMs target,
                                   Offset high_watermark) {
  Offset at = from;
  while (at < high_watermark) {
    Result<storage::ReadResult> read = log.read(at, 1, high_watermark);  // one batch
    if (!read.ok()) return read.status();
    if (read->empty()) break;
    Result<std::vector<uint8_t>> bytes = log.copy(*read);
    if (!bytes.ok()) return bytes.status();
    Result<model::RecordBatchView> batch = model::RecordBatchView::parse(*bytes);
    if (!batch.ok()) return batch.status();
    Result<protocol::BatchRecords> records =
        protocol::BatchRecords::open(*batch, protocol::ValidateOptions{}.decompressed_bytes_max);
    if (!records.ok()) return records.status();
    protocol::RecordReader reader = records->reader();
    protocol::Record record;
    while (reader.next(&record)) {
      if (record.offset >= from && record.timestamp >= target) {
        return Lookup{ErrorCode::none, record.offset, record.timestamp};
      }
    }
    at = read->next_offset;
  }
  return Lookup{};
}

// ListOffsets v0: Kafka 0.8's "offsets before `timestamp`" (its legacyFetchOffsetsBefore).
// The entries, ascending: each segment as (base offset, newest time; Log::segment_times,
// where Kafka had the segment file's modification time), then (high watermark, now) when the
// active segment holds records. -1 starts at the last entry, -2 at the first, a timestamp at
// the last entry whose time is at or before it (none: no offsets); the answer is up to
// max_num_offsets offsets from there back, largest first. So -1 answers [high watermark], -2
// [log start], a time after the last append [high watermark], and a time within the log the
// base offset of the segment it falls after: as coarse as Kafka's, and what old clients (such
// as kafka-node's Offset.fetch, whose default time is now) expect.
std::vector<int64_t> offsets_before(const storage::Log& log, int64_t timestamp,
                                    int32_t max_num_offsets, Offset high_watermark,
                                    int64_t now_ms) {
  std::vector<storage::SegmentTime> entries = log.segment_times();
  ASSERT(!entries.empty());
  if (log.log_end_offset() > log.active_segment_base()) {
    entries.push_back(storage::SegmentTime{high_watermark, now_ms});
  }
  int64_t start = -1;
  if (timestamp == kLatestTimestamp) {
    start = static_cast<int64_t>(entries.size()) - 1;
  } else if (timestamp == kEarliestTimestamp) {
    start = 0;
  } else {
    for (size_t i = 0; i < entries.size(); i++) {
      if (entries[i].newest_ms <= timestamp) start = static_cast<int64_t>(i);
    }
  }
  std::vector<int64_t> offsets;
  for (int64_t i = start; i >= 0 && std::ssize(offsets) < max_num_offsets; i--) {
    Offset offset = entries[static_cast<size_t>(i)].base_offset;
    offsets.push_back(std::min(offset, high_watermark).value());
  }
  return offsets;
}

Lookup lookup_one(const BrokerState& broker, const std::string& topic, PartitionId id,
                  int64_t timestamp, bool read_committed, std::optional<int32_t> legacy_max) {
  std::shared_ptr<Partition> partition = broker.partitions->find(topic, id);
  if (partition == nullptr) return Lookup{ErrorCode::unknown_topic_or_partition};
  Status health = partition->health();
  if (!health.ok()) return Lookup{kafka_error(health)};
  storage::Log& log = *partition->log;
  if (legacy_max.has_value()) {
    Lookup lookup;
    lookup.old_style_offsets =
        offsets_before(log, timestamp, *legacy_max, partition->high_watermark(),
                       broker.partitions->clock().now_ms());
    return lookup;
  }
  if (timestamp == kEarliestTimestamp || timestamp == kEarliestLocalTimestamp) {
    return Lookup{ErrorCode::none, log.log_start_offset()};  // every segment is local
  }
  Offset visible = read_committed ? partition->last_stable_offset() : partition->high_watermark();
  if (timestamp == kLatestTimestamp) return Lookup{ErrorCode::none, visible};
  if (timestamp == kLatestTieredTimestamp) return Lookup{};  // nothing is tiered
  if (timestamp == kMaxTimestamp) {
    timestamp = log.max_timestamp().value();  // then: its first record, as for a timestamp
    if (timestamp < 0) return Lookup{};
  } else if (timestamp < 0) {
    return Lookup{};  // an unknown special value
  }
  Result<std::optional<Offset>> batch = log.offset_for_timestamp(TimestampMs(timestamp));
  if (!batch.ok()) return Lookup{kafka_error(batch.status())};
  if (!batch->has_value()) return Lookup{};
  Result<Lookup> found = find_record_by_time(log, **batch, TimestampMs(timestamp), visible);
  if (!found.ok()) return Lookup{kafka_error(found.status())};
  return *found;
}

struct LookupInput {
  size_t slot = 0;
  std::string topic;
  PartitionId partition;
  int64_t timestamp = 0;
  bool read_committed = false;
  std::optional<int32_t> legacy_max;  // v0: max_num_offsets
};

asio::awaitable<std::vector<std::pair<size_t, Lookup>>> lookup_on_shard(
    const BrokerState* broker, std::vector<LookupInput> inputs) {
  std::vector<std::pair<size_t, Lookup>> out;
  out.reserve(inputs.size());
  for (const LookupInput& input : inputs) {
    out.emplace_back(input.slot, lookup_one(*broker, input.topic, input.partition, input.timestamp,
                                            input.read_committed, input.legacy_max));
  }
  co_return out;
}

}  // namespace

asio::awaitable<net::Reply> handle_list_offsets(RequestContext ctx) {
  ListOffsetsRequest request;
  if (!ctx.decode(request)) co_return net::Reply::close();
  ctx.ordering.release();
  const BrokerState& broker = *ctx.broker;
  int16_t version = ctx.api_version();

  ListOffsetsResponse response;
  std::vector<ListOffsetsResponse::ListOffsetsPartitionResponse*> slots;
  std::map<net::ShardId, std::vector<LookupInput>> per_shard;
  response.topics.resize(request.topics.size());
  for (size_t t = 0; t < request.topics.size(); t++) {
    response.topics[t].name = request.topics[t].name;
    response.topics[t].partitions.resize(request.topics[t].partitions.size());
  }
  for (size_t t = 0; t < request.topics.size(); t++) {
    const ListOffsetsRequest::ListOffsetsTopic& topic = request.topics[t];
    const bool may_describe =
        ctx.allowed(AclOperation::describe, AclResourceType::topic, topic.name);
    for (size_t p = 0; p < topic.partitions.size(); p++) {
      const ListOffsetsRequest::ListOffsetsPartition& partition = topic.partitions[p];
      ListOffsetsResponse::ListOffsetsPartitionResponse& out = response.topics[t].partitions[p];
      out.partition_index = partition.partition_index;
      slots.push_back(&out);
      if (!may_describe) {
        out.error_code = wire(ErrorCode::topic_authorization_failed);
        continue;
      }
      if (partition.partition_index < 0) {
        out.error_code = wire(ErrorCode::unknown_topic_or_partition);
        continue;
      }
      LookupInput input{slots.size() - 1, topic.name, PartitionId(partition.partition_index),
                        partition.timestamp, request.isolation_level == 1};
      if (version == 0) input.legacy_max = partition.max_num_offsets;
      per_shard[broker.shard_of(topic.name, input.partition)].push_back(std::move(input));
    }
  }
  for (auto& [shard, inputs] : per_shard) {
    auto results =
        co_await broker.shards->run_on(shard, lookup_on_shard(&broker, std::move(inputs)));
    for (const auto& [slot, lookup] : results) {
      ListOffsetsResponse::ListOffsetsPartitionResponse& out = *slots[slot];
      out.error_code = wire(lookup.error);
      if (lookup.error != ErrorCode::none) continue;
      if (version == 0) {
        out.old_style_offsets = lookup.old_style_offsets;
      } else {
        out.offset = lookup.offset.value();
        out.timestamp = lookup.timestamp.value();
        out.leader_epoch = lookup.offset.value() >= 0 ? 0 : -1;
      }
    }
  }
  co_return respond(ctx, response);
}

}  // namespace cairn::broker
