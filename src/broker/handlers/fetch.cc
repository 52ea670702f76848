// Fetch (key 1): whole record batches from each partition's fetch offset, sent from the page
// cache with sendfile (the response splices the segment file ranges in; net/frame.h).
//
// - Reads hop to each owning shard (one hop per shard) with the response's remaining byte
//   budget: max_bytes for the whole response, partition_max_bytes per partition, whole
//   batches only, and — while the response is still empty — the first batch even when it is
//   larger than either limit (KIP-74), so a big record never blocks a consumer.
// - Long poll: when fewer than min_bytes came back, the Fetch waits until max_wait_ms passes
//   or data lands. In the same hop as its read, it registers a FetchWakeup with every
//   partition it read (partitions/fetch_wakeup.h); the next append there wakes it, and it
//   reads everything again. A partition error (unknown partition, out of range, storage)
//   answers at once, as Kafka does.
// - Visibility: read_uncommitted reads up to the high watermark (the log end offset: single
//   node, RF=1), aborted data and markers included, and gets aborted_transactions = null;
//   read_committed reads up to the last stable offset (the first open transaction) and gets
//   the aborted transactions that overlap what it returned (marker at or after the fetch
//   offset, first offset below the end of the returned batches), so the client can drop
//   their records. Markers themselves are sent too; clients skip control batches.
// - OFFSET_OUT_OF_RANGE for a fetch offset below the log start or above the log end.
// - Shutdown: PartitionManager::stop wakes every waiting Fetch, which then answers with what
//   it has without reading again (a hop to a shard that already stopped would never return).
// - Fetch v0-3 (clients from before Kafka 0.11) read message format v0 (Fetch v0-1) or v1
//   (v2-3): the batches read are copied into memory and converted (protocol/legacy_records.h;
//   no sendfile for them), within the partition's limit and at most 55 MiB per response (the
//   first batch excepted, KIP-74), and counted in /metrics. zstd data answers
//   UNSUPPORTED_COMPRESSION_TYPE when it comes first, as Kafka does for them.
// - Topic ids (KIP-516): Fetch v13+ names topics by id; an id no topic has (a stale one, after
//   the topic was deleted and created again) answers its partitions UNKNOWN_TOPIC_ID at once.
//   v12+ tagged fields (diverging epoch, current leader, snapshot id, node endpoints) concern
//   followers and leader changes, which one node never has: never sent.
// - Sessionless: session_id 0 in every answer (KIP-227 lets a broker refuse sessions), so the
//   client keeps sending full fetch requests; forgotten_topics_data is ignored.
#include <algorithm>
#include <chrono>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "broker/error_code.h"
#include "broker/handlers/handlers.h"
#include "broker/partitions/fetch_wakeup.h"
#include "broker/partitions/partition_manager.h"
#include "broker/partitions/transactions.h"
#include "protocol/generated/fetch.h"
#include "protocol/legacy_records.h"

namespace cairn::broker {
namespace {

using protocol::FetchRequest;
using protocol::FetchResponse;

struct ReadInput {
  size_t slot = 0;
  std::string topic;
  PartitionId partition;
  Offset fetch_offset;
  int64_t partition_max_bytes = 0;
  bool read_committed = false;
  int8_t legacy_magic = -1;  // 0 or 1: Fetch v0-3, which read message format v0/v1
};

struct ReadOutput {
  size_t slot = 0;
  ErrorCode error = ErrorCode::none;
  Offset high_watermark{-1};
  Offset last_stable_offset{-1};
  Offset log_start_offset{-1};
  std::vector<protocol::FileRange> ranges;
  uint64_t size_bytes = 0;
  // Offsets the ranges deliver from the fetch offset on: the records, for /metrics (a
  // compacted log's gaps count too; reading the batch headers to skip them would cost more).
  uint64_t record_offsets = 0;
  std::vector<producers::AbortedTxn> aborted;  // read_committed only
  std::vector<uint8_t> converted;              // Fetch v0-3: the messages, instead of ranges
};

// What one pass over the shards carries along: the response's byte budget.
struct Budget {
  int64_t remaining_bytes = 0;
  bool have_data = false;  // once true, no batch may exceed the limits any more
};

// Fetch v0-3: replaces `out`'s file ranges with legacy messages. When what was read converts
// to nothing (only transaction markers), reads on, so an old client never stalls on them.
ErrorCode down_convert(const BrokerState& broker, storage::Log& log, storage::ReadResult read,
                       Offset visible, const ReadInput& input, int64_t limit, bool first_may_exceed,
                       ReadOutput& out) {
  constexpr int kReadsMax = 16;
  constexpr size_t kDecompressedBytesMax = 32 * MiB;  // per batch, as on Produce
  for (int reads = 1;; reads++) {
    // Log::copy checks every batch's CRC (a mismatch fences the log: KAFKA_STORAGE_ERROR), so
    // a damaged batch never reaches an old client with a fresh checksum.
    Result<std::vector<uint8_t>> batches = log.copy(read);
    if (!batches.ok()) return kafka_error(batches.status());
    Result<protocol::legacy::FromV2> converted = protocol::legacy::from_v2(
        *batches, input.legacy_magic, input.fetch_offset, static_cast<size_t>(limit),
        first_may_exceed, kDecompressedBytesMax);
    if (!converted.ok()) {
      return converted.status().code() == StatusCode::unsupported
                 ? ErrorCode::unsupported_compression_type
                 : ErrorCode::corrupt_message;
    }
    if (converted->messages > 0 || read.next_offset >= visible || reads == kReadsMax) {
      broker.metrics->fetch_conversions.add(static_cast<uint64_t>(converted->messages));
      out.converted = std::move(converted->bytes);
      out.ranges.clear();
      out.size_bytes = out.converted.size();
      out.record_offsets = static_cast<uint64_t>(converted->messages);  // records sent
      return ErrorCode::none;
    }
    Result<storage::ReadResult> next =
        log.read(read.next_offset, static_cast<uint64_t>(limit), visible);
    if (!next.ok()) return kafka_error(next.status());
    if (next->empty()) {
      out.ranges.clear();
      out.size_bytes = 0;
      return ErrorCode::none;
    }
    read = std::move(next).value();
  }
}

ReadOutput read_one(const BrokerState& broker, const ReadInput& input, Budget& budget,
                    const std::shared_ptr<FetchWakeup>& wakeup) {
  ReadOutput out;
  out.slot = input.slot;
  std::shared_ptr<Partition> partition = broker.partitions->find(input.topic, input.partition);
  if (partition == nullptr) {
    out.error = ErrorCode::unknown_topic_or_partition;
    return out;
  }
  Status health = partition->health();
  if (!health.ok()) {
    out.error = kafka_error(health);
    return out;
  }
  storage::Log& log = *partition->log;
  out.high_watermark = partition->high_watermark();
  out.last_stable_offset = partition->last_stable_offset();
  out.log_start_offset = log.log_start_offset();
  if (wakeup != nullptr) partition->add_waiter(wakeup);
  int64_t limit = std::min(input.partition_max_bytes, budget.remaining_bytes);
  if (budget.have_data && limit <= 0) return out;
  Offset visible = input.read_committed ? out.last_stable_offset : out.high_watermark;
  Result<storage::ReadResult> read =
      log.read(input.fetch_offset, static_cast<uint64_t>(std::max<int64_t>(limit, 0)), visible);
  if (!read.ok()) {
    out.error = kafka_error(read.status());
    return out;
  }
  if (read->empty()) return out;
  // Log::read always returns its first batch; only the response's first data may be oversized.
  if (budget.have_data && read->size_bytes > static_cast<uint64_t>(limit)) return out;
  if (input.read_committed) {
    Result<std::vector<producers::AbortedTxn>> aborted =
        aborted_between(*partition, input.fetch_offset, read->next_offset);
    if (!aborted.ok()) {
      out.error = kafka_error(aborted.status());
      return out;
    }
    out.aborted = std::move(aborted).value();
  }
  for (const storage::FileRange& range : read->ranges) {
    ASSERT(range.fd() >= 0);
    ASSERT(range.size_bytes <= std::numeric_limits<uint32_t>::max());
    out.ranges.push_back(protocol::FileRange{range.fd(), range.position,
                                             static_cast<uint32_t>(range.size_bytes), range.file});
  }
  out.size_bytes = read->size_bytes;
  Offset from = std::max(read->first_offset, input.fetch_offset);
  if (read->next_offset > from) {
    out.record_offsets = static_cast<uint64_t>(read->next_offset.value() - from.value());
  }
  if (input.legacy_magic >= 0) {
    out.error = down_convert(broker, log, std::move(read).value(), visible, input,
                             std::max<int64_t>(limit, 0), !budget.have_data, out);
    if (out.error != ErrorCode::none) {
      out.ranges.clear();  // an error answers no records
      out.size_bytes = 0;
      return out;
    }
  }
  budget.remaining_bytes -= static_cast<int64_t>(out.size_bytes);
  budget.have_data = budget.have_data || out.size_bytes > 0;
  return out;
}

struct ShardRead {
  std::vector<ReadOutput> outputs;
  Budget budget;
};

asio::awaitable<ShardRead> read_on_shard(const BrokerState* broker, std::vector<ReadInput> inputs,
                                         Budget budget, std::shared_ptr<FetchWakeup> wakeup) {
  ShardRead result;
  result.outputs.reserve(inputs.size());
  for (const ReadInput& input : inputs) {
    result.outputs.push_back(read_one(*broker, input, budget, wakeup));
  }
  result.budget = budget;
  co_return result;
}

struct Pass {
  std::vector<ReadOutput> outputs;  // by slot
  uint64_t size_bytes = 0;
  bool any_error = false;
};

asio::awaitable<Pass> read_all(const BrokerState& broker,
                               const std::map<net::ShardId, std::vector<ReadInput>>& per_shard,
                               size_t slot_count, int64_t max_bytes,
                               std::shared_ptr<FetchWakeup> wakeup) {
  Pass pass;
  pass.outputs.resize(slot_count);
  Budget budget{max_bytes, false};
  for (const auto& [shard, inputs] : per_shard) {
    ShardRead read =
        co_await broker.shards->run_on(shard, read_on_shard(&broker, inputs, budget, wakeup));
    budget = read.budget;
    for (ReadOutput& output : read.outputs) {
      pass.size_bytes += output.size_bytes;
      if (output.error != ErrorCode::none) pass.any_error = true;
      size_t slot = output.slot;
      pass.outputs[slot] = std::move(output);
    }
  }
  co_return pass;
}

void fill(FetchResponse::PartitionData& out, ReadOutput& read, bool read_committed) {
  out.error_code = wire(read.error);
  out.high_watermark = read.high_watermark.value();
  out.last_stable_offset = read.last_stable_offset.value();
  out.log_start_offset = read.log_start_offset.value();
  if (read_committed) {
    std::vector<FetchResponse::AbortedTransaction> aborted(read.aborted.size());
    for (size_t i = 0; i < read.aborted.size(); i++) {
      aborted[i].producer_id = read.aborted[i].producer_id.value();
      aborted[i].first_offset = read.aborted[i].first_offset.value();
    }
    out.aborted_transactions = std::move(aborted);
  } else {
    out.aborted_transactions = std::nullopt;
  }
  out.records.inline_bytes = std::span<const uint8_t>(read.converted);  // empty, not null
  out.records.file_ranges = std::move(read.ranges);
}

// Fills every partition of the response from the last pass, and counts it in /metrics.
void fill_all(const BrokerState& broker, Pass& pass,
              const std::vector<FetchResponse::PartitionData*>& slots,
              const std::vector<std::string_view>& slot_topics,
              const std::vector<ErrorCode>& slot_errors, bool read_committed) {
  for (size_t slot = 0; slot < slots.size(); slot++) {
    ReadOutput& read = pass.outputs[slot];
    if (slot_errors[slot] != ErrorCode::none) {
      read.error = slot_errors[slot];  // not read: an unknown topic id
    } else if (read.slot != slot ||
               (read.error == ErrorCode::none && read.high_watermark.value() < 0)) {
      read.error = ErrorCode::unknown_topic_or_partition;  // negative partition index
    }
    broker.metrics->count_error(FetchRequest::kApiKey, read.error);
    if (read.size_bytes > 0) {
      broker.metrics->topic(slot_topics[slot]).add_out(read.size_bytes, read.record_offsets);
    }
    fill(*slots[slot], read, read_committed);
  }
}

// The name of each requested topic: as sent before v13; from v13 on, the name of the topic
// with that id, or nullopt when no topic has it.
std::vector<std::optional<std::string>> topic_names(const BrokerState& broker,
                                                    const FetchRequest& request, int16_t version) {
  constexpr int16_t kTopicIdsMin = 13;
  std::vector<std::optional<std::string>> names;
  names.reserve(request.topics.size());
  std::shared_ptr<const TopicTable> topics;
  if (version >= kTopicIdsMin) topics = broker.topics->snapshot();
  for (const FetchRequest::FetchTopic& topic : request.topics) {
    if (version < kTopicIdsMin) {
      names.emplace_back(topic.topic);
      continue;
    }
    const TopicInfo* found = topics->find_id(topic.topic_id);
    names.push_back(found != nullptr ? std::optional<std::string>(found->name) : std::nullopt);
  }
  return names;
}

// The response's byte budget: max_bytes from v3 on. Fetch v0-3 are converted in memory: at
// most Kafka's fetch.max.bytes default (which Kafka applies to every version), the first
// batch excepted.
int64_t response_bytes_max(const FetchRequest& request, int16_t version) {
  constexpr int64_t kLegacyResponseBytesMax = 55 * MiB;
  int64_t max_bytes =
      version >= 3 ? std::max<int32_t>(request.max_bytes, 0) : std::numeric_limits<int32_t>::max();
  return version < 4 ? std::min(max_bytes, kLegacyResponseBytesMax) : max_bytes;
}

// The response's topics and partitions, in request order, named as the request named them.
void shape_response(const FetchRequest& request, FetchResponse& response) {
  response.responses.resize(request.topics.size());
  for (size_t t = 0; t < request.topics.size(); t++) {
    response.responses[t].topic = request.topics[t].topic;
    response.responses[t].topic_id = request.topics[t].topic_id;
    response.responses[t].partitions.resize(request.topics[t].partitions.size());
  }
}

}  // namespace

asio::awaitable<net::Reply> handle_fetch(RequestContext ctx) {
  FetchRequest request;
  if (!ctx.decode(request)) co_return net::Reply::close();
  ctx.ordering.release();  // a Fetch changes nothing: later requests need not wait for it
  const BrokerState& broker = *ctx.broker;
  bool read_committed = request.isolation_level == 1;
  // Fetch v0-1 read message format v0, v2-3 format v1; later versions read batches as stored.
  int8_t legacy_magic = ctx.api_version() < 2 ? 0 : ctx.api_version() < 4 ? 1 : -1;
  using Clock = FetchWakeup::Clock;
  Clock::time_point deadline =
      Clock::now() + std::chrono::milliseconds(std::max<int32_t>(request.max_wait_ms, 0));

  FetchResponse response;
  std::vector<FetchResponse::PartitionData*> slots;
  std::vector<std::string_view> slot_topics;  // by slot, into `names`
  std::vector<ErrorCode> slot_errors;         // by slot: answered without a read
  std::map<net::ShardId, std::vector<ReadInput>> per_shard;
  std::vector<std::optional<std::string>> names = topic_names(broker, request, ctx.api_version());
  shape_response(request, response);
  bool answer_now = false;  // an unknown topic id: Kafka answers at once
  for (size_t t = 0; t < request.topics.size(); t++) {
    const FetchRequest::FetchTopic& topic = request.topics[t];
    for (size_t p = 0; p < topic.partitions.size(); p++) {
      const FetchRequest::FetchPartition& partition = topic.partitions[p];
      FetchResponse::PartitionData& out = response.responses[t].partitions[p];
      out.partition_index = partition.partition;
      slots.push_back(&out);
      slot_topics.push_back(names[t].has_value() ? std::string_view(*names[t]) : "");
      slot_errors.push_back(names[t].has_value() ? ErrorCode::none : ErrorCode::unknown_topic_id);
      answer_now = answer_now || !names[t].has_value();
      if (partition.partition < 0 || !names[t].has_value()) continue;  // answered below
      ReadInput input{slots.size() - 1,
                      *names[t],
                      PartitionId(partition.partition),
                      Offset(partition.fetch_offset),
                      std::max<int64_t>(partition.partition_max_bytes, 0),
                      read_committed,
                      legacy_magic};
      per_shard[broker.shard_of(*names[t], input.partition)].push_back(std::move(input));
    }
  }

  int64_t max_bytes = response_bytes_max(request, ctx.api_version());
  // Only named values in co_await expressions: GCC 12 destroys some temporaries made there
  // twice (a conditional's shared_ptr was freed while a partition still held it).
  asio::any_io_executor executor = co_await asio::this_coro::executor;
  auto wakeup = std::make_shared<FetchWakeup>(executor);
  Pass pass;
  while (true) {
    wakeup->rearm();
    bool may_wait = Clock::now() < deadline && !broker.partitions->stopping();
    std::shared_ptr<FetchWakeup> registered;
    if (may_wait) registered = wakeup;
    pass = co_await read_all(broker, per_shard, slots.size(), max_bytes, registered);
    bool enough = pass.size_bytes >= static_cast<uint64_t>(std::max(request.min_bytes, 0)) &&
                  pass.size_bytes > 0;
    if (enough || request.min_bytes <= 0 || pass.any_error || answer_now || !may_wait) break;
    co_await wakeup->wait_until(deadline);
    // Stopping: answer with what we have. Another read would hop to shards that may have
    // finished their work and stopped running, and the hop would never come back.
    if (broker.partitions->stopping()) break;
  }
  wakeup->finish();

  fill_all(broker, pass, slots, slot_topics, slot_errors, read_committed);
  co_return respond(ctx, response);
}

}  // namespace cairn::broker
