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
// - TOPIC_AUTHORIZATION_FAILED for the partitions of a topic the principal may not READ.
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
// - Fetch sessions (KIP-227, v7+; partitions/fetch_sessions.h has the rules): a full fetch
//   with epoch 0 creates a session in the connection's shard's cache when a slot is free, and
//   answers its id; an incremental fetch (session id and epoch > 0) reads every partition of
//   the session, the request's ones added or updated and forgotten_topics_data removed, and
//   answers only the partitions with something to say. Session errors (unknown id, wrong
//   epoch, topic ids used differently) answer the top-level error alone.
#include <algorithm>
#include <chrono>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "broker/error_code.h"
#include "broker/handlers/handlers.h"
#include "broker/handlers/quota_throttle.h"
#include "broker/partitions/fetch_sessions.h"
#include "broker/partitions/fetch_wakeup.h"
#include "broker/partitions/partition_manager.h"
#include "broker/partitions/transactions.h"
#include "broker/topics/topic_registry.h"
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
      read.error = slot_errors[slot];  // not read: an unknown topic id, not authorized
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

constexpr int16_t kTopicIdsMin = 13;  // Fetch names topics by id from v13 on
constexpr int16_t kSessionsMin = 7;   // and has fetch sessions (KIP-227) from v7 on

// The name of each requested topic: as sent before v13; from v13 on, the name of the topic
// with that id, or nullopt when no topic has it.
std::vector<std::optional<std::string>> topic_names(const BrokerState& broker,
                                                    const FetchRequest& request, int16_t version) {
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

// A partition's key in a fetch session: its topic id from v13 on, its name before.
FetchSessionKey session_key(const std::string& topic, const protocol::Uuid& topic_id,
                            int32_t partition, bool by_id) {
  FetchSessionKey key;
  if (by_id) {
    key.topic_id = topic_id;
  } else {
    key.topic = topic;
  }
  key.partition = partition;
  return key;
}

// One partition the Fetch reads and answers, in answer order.
struct Wanted {
  size_t topic = 0;     // its topic in the response and in Plan::names
  FetchSessionKey key;  // the partition (in a session's terms when a session is involved)
  int64_t fetch_offset = 0;
  int32_t partition_max_bytes = 0;
};

// What one Fetch reads: its partitions, and the response shaped for them (topics and
// partitions in answer order; `slots[i]` answers `wanted[i]`).
struct Plan {
  FetchResponse response;
  // By response topic: the topic's name, nullopt for a topic id no topic has.
  std::vector<std::optional<std::string>> names;
  std::vector<Wanted> wanted;
  std::vector<FetchResponse::PartitionData*> slots;
};

// Sessionless and full fetches: the request's topics and partitions, in request order,
// named as the request named them. `keyed`: a full fetch, whose partitions a new session
// will hold (only the partition index is needed otherwise).
void plan_from_request(const BrokerState& broker, const FetchRequest& request, int16_t version,
                       bool keyed, Plan& plan) {
  plan.names = topic_names(broker, request, version);
  bool by_id = version >= kTopicIdsMin;
  plan.response.responses.resize(request.topics.size());
  for (size_t t = 0; t < request.topics.size(); t++) {
    const FetchRequest::FetchTopic& topic = request.topics[t];
    plan.response.responses[t].topic = topic.topic;
    plan.response.responses[t].topic_id = topic.topic_id;
    for (const FetchRequest::FetchPartition& partition : topic.partitions) {
      plan.response.responses[t].partitions.emplace_back().partition_index = partition.partition;
      FetchSessionKey key;
      key.partition = partition.partition;
      if (keyed) key = session_key(topic.topic, topic.topic_id, partition.partition, by_id);
      plan.wanted.push_back(
          Wanted{t, std::move(key), partition.fetch_offset, partition.partition_max_bytes});
    }
  }
}

// Incremental fetches: every partition of the session, in its fetch order; one response topic
// per run of partitions of the same topic. A session by topic id looks each id up again, so a
// topic deleted since answers UNKNOWN_TOPIC_ID.
void plan_from_session(const BrokerState& broker, const FetchSession& session, Plan& plan) {
  std::shared_ptr<const TopicTable> topics = broker.topics->snapshot();
  std::map<protocol::Uuid, std::optional<std::string>> names_by_id;
  const FetchSessionKey* previous = nullptr;
  for (const FetchSessionPartition& partition : session.partitions()) {
    const FetchSessionKey& key = partition.key;
    if (previous == nullptr || previous->topic_id != key.topic_id || previous->topic != key.topic) {
      FetchResponse::FetchableTopicResponse& topic = plan.response.responses.emplace_back();
      topic.topic = key.topic;
      topic.topic_id = key.topic_id;
      std::optional<std::string> name = key.topic;
      if (session.uses_topic_ids()) {
        auto [it, inserted] = names_by_id.try_emplace(key.topic_id);
        if (inserted) {
          const TopicInfo* found = topics->find_id(key.topic_id);
          if (found != nullptr) it->second = found->name;
        }
        name = it->second;
      }
      plan.names.push_back(std::move(name));
    }
    previous = &key;
    plan.response.responses.back().partitions.emplace_back().partition_index = key.partition;
    plan.wanted.push_back(
        Wanted{plan.names.size() - 1, key, partition.fetch_offset, partition.partition_max_bytes});
  }
}

// Points each slot at its partition's answer, once the response has its final shape.
void take_slots(Plan& plan) {
  for (FetchResponse::FetchableTopicResponse& topic : plan.response.responses) {
    for (FetchResponse::PartitionData& partition : topic.partitions) {
      plan.slots.push_back(&partition);
    }
  }
  ASSERT(plan.slots.size() == plan.wanted.size());
}

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// The fetch session cache of the shard running this handler; null when the broker keeps none
// (the handler tests).
FetchSessionCache* local_fetch_sessions(const BrokerState& broker) {
  std::optional<net::ShardId> shard = net::ShardSet::current();
  if (!shard.has_value() || shard->value() >= broker.fetch_sessions.size()) return nullptr;
  return broker.fetch_sessions[shard->value()].get();
}

// Whether a session could hold what the request names: at most `partitions_max` entries, and
// only names a topic could have. Session keys copy the name per partition, so they are built
// only then: a small request cannot make the broker copy a long name per partition.
bool fits_a_session(const FetchRequest& request, size_t partitions_max) {
  size_t entries = 0;
  for (const FetchRequest::FetchTopic& topic : request.topics) {
    if (topic.topic.size() > kTopicNameCharsMax) return false;
    entries += topic.partitions.size();
  }
  for (const FetchRequest::ForgottenTopic& topic : request.forgotten_topics_data) {
    if (topic.topic.size() > kTopicNameCharsMax) return false;
    entries += topic.partitions.size();
  }
  return entries <= partitions_max;
}

// What the request's session id and epoch mean (fetch_sessions.h has the table). A full
// fetch naming a session of another shard closes it there (posted, not awaited); an
// incremental one answers FETCH_SESSION_ID_NOT_FOUND, since sessions stay on their shard.
FetchSessionContext begin_session(const BrokerState& broker, const FetchRequest& request,
                                  int16_t version) {
  FetchSessionContext context;  // sessionless
  if (version < kSessionsMin) return context;
  bool full =
      request.session_epoch == kInitialSessionEpoch || request.session_epoch == kFinalSessionEpoch;
  auto shard_count = static_cast<uint32_t>(broker.fetch_sessions.size());
  FetchSessionCache* cache = local_fetch_sessions(broker);
  if (cache == nullptr) {
    if (!full) {
      context.kind = FetchSessionKind::error;
      context.error = ErrorCode::fetch_session_id_not_found;
    }
    return context;
  }
  std::optional<uint32_t> owner = FetchSessionCache::shard_of(request.session_id, shard_count);
  if (full && owner.has_value() && owner != net::ShardSet::current()->value()) {
    FetchSessionCache* remote = broker.fetch_sessions[*owner].get();
    broker.shards->post(net::ShardId(*owner),
                        [remote, id = request.session_id] { remote->remove(id); });
  }
  bool by_id = version >= kTopicIdsMin;
  bool fits = fits_a_session(request, cache->partitions_max());
  if (!full && !fits) {  // more than a session may hold: closed, as begin() does
    cache->remove(request.session_id);
    context.kind = FetchSessionKind::error;
    context.error = ErrorCode::fetch_session_id_not_found;
    return context;
  }
  std::vector<FetchSessionPartition> updates;
  std::vector<FetchSessionKey> forgotten;
  if (!full) {
    for (const FetchRequest::FetchTopic& topic : request.topics) {
      for (const FetchRequest::FetchPartition& partition : topic.partitions) {
        updates.push_back(FetchSessionPartition{
            session_key(topic.topic, topic.topic_id, partition.partition, by_id),
            partition.fetch_offset, partition.partition_max_bytes});
      }
    }
    for (const FetchRequest::ForgottenTopic& topic : request.forgotten_topics_data) {
      for (int32_t partition : topic.partitions) {
        forgotten.push_back(session_key(topic.topic, topic.topic_id, partition, by_id));
      }
    }
  }
  context =
      cache->begin(request.session_id, request.session_epoch, by_id, updates, forgotten, now_ms());
  // A full fetch too big for a session is answered without one (session id 0).
  if (context.kind == FetchSessionKind::full && !fits) context.kind = FetchSessionKind::sessionless;
  return context;
}

// A full fetch: a new session remembers what this answer told the client (if a slot is free).
int32_t create_session(const BrokerState& broker, const Plan& plan, int16_t version) {
  FetchSessionCache* cache = local_fetch_sessions(broker);
  if (cache == nullptr) return kInvalidSessionId;
  std::vector<FetchSessionPartition> partitions;
  partitions.reserve(plan.wanted.size());
  for (size_t slot = 0; slot < plan.wanted.size(); slot++) {
    const FetchResponse::PartitionData& answer = *plan.slots[slot];
    partitions.push_back(FetchSessionPartition{
        plan.wanted[slot].key, plan.wanted[slot].fetch_offset,
        plan.wanted[slot].partition_max_bytes, answer.error_code != 0 ? -1 : answer.high_watermark,
        answer.last_stable_offset, answer.log_start_offset});
  }
  return cache->create(partitions, version >= kTopicIdsMin, now_ms());
}

// An incremental fetch: keeps only the partitions with something to say (records, an error,
// a new high watermark, last stable offset or log start offset), and drops emptied topics.
void keep_changed(FetchSession& session, const Plan& plan, const Pass& pass,
                  FetchResponse& response) {
  std::vector<bool> keep(plan.wanted.size());
  for (size_t slot = 0; slot < plan.wanted.size(); slot++) {
    const FetchResponse::PartitionData& answer = *plan.slots[slot];
    keep[slot] = session.must_respond(
        plan.wanted[slot].key,
        FetchSessionAnswer{answer.error_code, answer.high_watermark, answer.last_stable_offset,
                           answer.log_start_offset, pass.outputs[slot].size_bytes});
  }
  size_t slot = 0;
  for (FetchResponse::FetchableTopicResponse& topic : response.responses) {
    std::vector<FetchResponse::PartitionData> kept;
    for (FetchResponse::PartitionData& partition : topic.partitions) {
      if (keep[slot++]) kept.push_back(std::move(partition));
    }
    topic.partitions = std::move(kept);
  }
  std::erase_if(response.responses, [](const FetchResponse::FetchableTopicResponse& topic) {
    return topic.partitions.empty();
  });
}

// The answer's session part. Incremental: answers INVALID_FETCH_SESSION_EPOCH instead when a
// later request of the session moved its epoch on while this one waited (Kafka does too).
void finish_session(const BrokerState& broker, const FetchSessionContext& context, Plan& plan,
                    const Pass& pass, int16_t version) {
  FetchResponse& response = plan.response;
  if (context.kind == FetchSessionKind::full) {
    response.session_id = create_session(broker, plan, version);
  } else if (context.kind == FetchSessionKind::incremental) {
    FetchSession& session = *context.session;
    response.session_id = session.id();
    if (session.epoch() != context.answer_epoch) {
      response.error_code = wire(ErrorCode::invalid_fetch_session_epoch);
      response.responses.clear();
      return;
    }
    keep_changed(session, plan, pass, response);
  }
}

// A throttled KIP-219 Fetch: no partitions at all. An incremental session keeps its id (its
// epoch moved on as for any Fetch) and what it last sent; a full Fetch creates no session.
void answer_empty(const FetchSessionContext& context, FetchResponse& response) {
  response.responses.clear();
  response.session_id = 0;
  if (context.kind != FetchSessionKind::incremental) return;
  const FetchSession& session = *context.session;
  response.session_id = session.id();
  if (session.epoch() != context.answer_epoch) {
    response.error_code = wire(ErrorCode::invalid_fetch_session_epoch);
  }
}

// Where each wanted partition is read, by owning shard; nothing for a partition with no
// topic (an unknown topic id: answered at once, without a read) or a negative index.
struct Reads {
  std::map<net::ShardId, std::vector<ReadInput>> per_shard;
  std::vector<std::string_view> slot_topics;  // by slot, into the plan's names
  std::vector<ErrorCode> slot_errors;         // by slot: answered without a read
  bool answer_now = false;                    // an unknown topic id: Kafka answers at once
};

Reads plan_reads(const RequestContext& ctx, const Plan& plan, bool read_committed,
                 int8_t legacy_magic) {
  const BrokerState& broker = *ctx.broker;
  Reads reads;
  std::vector<int8_t> may_read(plan.names.size(), -1);  // by topic: unknown yet, no, yes
  bool refused = false;
  for (size_t slot = 0; slot < plan.wanted.size(); slot++) {
    const Wanted& wanted = plan.wanted[slot];
    const std::optional<std::string>& name = plan.names[wanted.topic];
    bool named = name.has_value();
    reads.slot_topics.push_back(named ? std::string_view(*name) : "");
    reads.slot_errors.push_back(named ? ErrorCode::none : ErrorCode::unknown_topic_id);
    reads.answer_now = reads.answer_now || !named;
    if (named && may_read[wanted.topic] < 0) {
      may_read[wanted.topic] = ctx.allowed(AclOperation::read, AclResourceType::topic, *name);
    }
    if (named && may_read[wanted.topic] == 0) {
      reads.slot_errors.back() = ErrorCode::topic_authorization_failed;
      refused = true;
      continue;
    }
    if (wanted.key.partition < 0 || !named) continue;  // answered by fill_all
    ReadInput input{slot,
                    *name,
                    PartitionId(wanted.key.partition),
                    Offset(wanted.fetch_offset),
                    std::max<int64_t>(wanted.partition_max_bytes, 0),
                    read_committed,
                    legacy_magic};
    reads.per_shard[broker.shard_of(*name, input.partition)].push_back(std::move(input));
  }
  // Nothing the principal may read: nothing to wait for (Kafka answers at once).
  reads.answer_now = reads.answer_now || (refused && reads.per_shard.empty());
  return reads;
}

// Allowed reads of audited topics (docs/audit.md): the partitions that returned records.
void audit_reads(const RequestContext& ctx, const Plan& plan, const Reads& reads,
                 const Pass& pass) {
  if (ctx.broker->audit == nullptr) return;
  std::map<std::string_view, std::vector<int32_t>> read;
  for (size_t slot = 0; slot < plan.wanted.size(); slot++) {
    const ReadOutput& output = pass.outputs[slot];
    if (reads.slot_errors[slot] != ErrorCode::none || output.slot != slot ||
        output.error != ErrorCode::none || output.size_bytes == 0) {
      continue;
    }
    read[reads.slot_topics[slot]].push_back(plan.wanted[slot].key.partition);
  }
  for (auto& [topic, partitions] : read) {
    ctx.audit_access(AclOperation::read, topic, std::move(partitions));
  }
}

// Fills the response from the last pass and counts it against the client's quota, if any;
// returns the throttle time. A client that waits out throttle_time_ms itself (KIP-219) gets
// nothing from a Fetch that would take it over its quota, as from Kafka: the records stay for
// a later Fetch.
int32_t answer(const RequestContext& ctx, const FetchSessionContext& session, Plan& plan,
               const Reads& reads, Pass& pass, bool read_committed,
               std::optional<int64_t> quota_bytes_max) {
  const int16_t version = ctx.api_version();
  // A first batch larger than the quota's cap (a Fetch always returns one) would be refused
  // forever: it goes out, throttled, as to an older client.
  const bool oversize =
      quota_bytes_max && pass.size_bytes > static_cast<uint64_t>(*quota_bytes_max);
  const bool answer_empty_if_throttled = version >= kFetchClientThrottleVersion && !oversize;
  int32_t throttle_ms =
      record_quota_bytes(ctx, quotas::QuotaKey::consumer_byte_rate,
                         static_cast<int64_t>(pass.size_bytes), !answer_empty_if_throttled);
  if (answer_empty_if_throttled && throttle_ms > 0) {
    answer_empty(session, plan.response);
  } else {
    audit_reads(ctx, plan, reads, pass);
    fill_all(*ctx.broker, pass, plan.slots, reads.slot_topics, reads.slot_errors, read_committed);
    finish_session(*ctx.broker, session, plan, pass, version);
  }
  plan.response.throttle_time_ms = throttle_ms;
  return throttle_ms;
}

}  // namespace

asio::awaitable<net::Reply> handle_fetch(RequestContext ctx) {
  FetchRequest request;
  if (!ctx.decode(request)) co_return net::Reply::close();
  const BrokerState& broker = *ctx.broker;
  int16_t version = ctx.api_version();
  // The session step runs before anything is awaited and before the next request may start,
  // so a client's requests reach its session in order.
  FetchSessionContext session = begin_session(broker, request, version);
  // Under a consumer_byte_rate, no response carries more than the quota's whole window.
  std::optional<int64_t> quota_bytes_max = fetch_quota_bytes_max(ctx);
  // A Fetch changes nothing else: later requests need not wait for it. Unless a quota applies:
  // then the token mutes the connection while the client is throttled (quota_throttle.h).
  if (!quota_bytes_max) ctx.ordering.release();
  Plan plan;
  if (session.kind == FetchSessionKind::error) {
    plan.response.error_code = wire(session.error);
    co_return respond(ctx, plan.response);
  }
  if (session.kind == FetchSessionKind::incremental) {
    plan_from_session(broker, *session.session, plan);
  } else {
    plan_from_request(broker, request, version, session.kind == FetchSessionKind::full, plan);
  }
  take_slots(plan);
  bool read_committed = request.isolation_level == 1;
  // Fetch v0-1 read message format v0, v2-3 format v1; later versions read batches as stored.
  int8_t legacy_magic = version < 2 ? 0 : version < 4 ? 1 : -1;
  Reads reads = plan_reads(ctx, plan, read_committed, legacy_magic);
  using Clock = FetchWakeup::Clock;
  Clock::time_point deadline =
      Clock::now() + std::chrono::milliseconds(std::max<int32_t>(request.max_wait_ms, 0));
  int64_t max_bytes = response_bytes_max(request, version);
  if (quota_bytes_max) max_bytes = std::min(max_bytes, *quota_bytes_max);
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
    pass = co_await read_all(broker, reads.per_shard, plan.slots.size(), max_bytes, registered);
    bool enough = pass.size_bytes >= static_cast<uint64_t>(std::max(request.min_bytes, 0)) &&
                  pass.size_bytes > 0;
    if (enough || request.min_bytes <= 0 || pass.any_error || reads.answer_now || !may_wait) {
      break;
    }
    co_await wakeup->wait_until(deadline);
    // Stopping: answer with what we have. Another read would hop to shards that may have
    // finished their work and stopped running, and the hop would never come back.
    if (broker.partitions->stopping()) break;
  }
  wakeup->finish();

  int32_t throttle_ms = answer(ctx, session, plan, reads, pass, read_committed, quota_bytes_max);
  if (version >= kFetchClientThrottleVersion) {
    mute_connection(executor, ctx.broker, std::move(ctx.ordering), throttle_ms);
  } else {
    co_await throttle_delay(ctx.broker, throttle_ms);
  }
  co_return respond(ctx, plan.response);
}

}  // namespace cairn::broker
