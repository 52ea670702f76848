// Produce (key 0): validate each partition's record batch, append it on the partition's
// owning shard, and answer per acks.
//
// Flow: the request's partitions are grouped by owning shard; one hop per shard appends them
// (checks below, then Log::append, producer state, waking Fetches), all hops at once
// (net::await_all), so the request waits for its slowest shard. Once every hop is back the
// ordering token is released — the connection's next request appends after this one — and:
//   acks=0   no response at all (net::Reply::none);
//   acks=1   answer now: the data is in the page cache, flushed within flush.ms;
//   acks=-1  answer once every appended partition is fsynced (DurabilityBarrier; the Log's
//            group commit shares one fdatasync among many batches). A failed fsync answers
//            KAFKA_STORAGE_ERROR, never success.
//
// Per-partition checks, in Kafka's order (UnifiedLog.analyzeAndValidateRecords, LogValidator):
//   unknown topic/partition          UNKNOWN_TOPIC_OR_PARTITION
//   internal topic (__consumer_offsets)   INVALID_TOPIC_EXCEPTION
//   log failed / fenced              KAFKA_STORAGE_ERROR
//   batch bigger than max.message.bytes   MESSAGE_TOO_LARGE
//   CRC, framing                     CORRUPT_MESSAGE
//   base offset != 0, record rules   INVALID_RECORD (UNSUPPORTED_COMPRESSION_TYPE for codecs)
//   batch bigger than segment.bytes  RECORD_LIST_TOO_LARGE
//   CreateTime out of message.timestamp.difference.max.ms   INVALID_TIMESTAMP
//   a record without a key on a compacted topic              INVALID_RECORD
//   transactional batch without a producer id                INVALID_RECORD
//   idempotence and transactions (producers/producer_state.h): duplicate -> the original
//   offsets; OUT_OF_ORDER_SEQUENCE_NUMBER; INVALID_PRODUCER_EPOCH; INVALID_TXN_STATE for a
//   transactional batch to a partition not in the producer's transaction (KIP-890), or a
//   plain one while its transaction here is open — unless the transaction coordinator says
//   the producer is not the id's current one: then INVALID_PRODUCER_EPOCH (another epoch) or
//   INVALID_PRODUCER_ID_MAPPING (another producer), as Kafka's verification answers
// A transactional batch in a request without a transactional_id, or a transactional_id the
// principal may not WRITE, fails the whole request with TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
// before anything is appended (Kafka's rule); a topic it may not WRITE answers
// TOPIC_AUTHORIZATION_FAILED for each of its partitions.
// Produce v0-2 carry legacy message sets (magic 0/1): each partition's set is converted to one
// v2 batch (protocol/legacy_records.h; no producer id, the wrapper's codec), counted in
// /metrics, and then takes the v2 path above. Bad sets answer CORRUPT_MESSAGE (framing, CRC,
// nested compression, over the decompression budget) or UNSUPPORTED_COMPRESSION_TYPE (zstd).
// A v2 batch in Produce v0-2 is accepted too, as Kafka does.
// acks outside {-1, 0, 1}: INVALID_REQUIRED_ACKS for every partition.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "broker/error_code.h"
#include "broker/handlers/handlers.h"
#include "broker/handlers/quota_throttle.h"
#include "broker/partitions/durability_barrier.h"
#include "broker/partitions/partition_manager.h"
#include "broker/txn/handler_support.h"
#include "net/await_callback.h"
#include "protocol/generated/produce.h"
#include "protocol/legacy_records.h"
#include "protocol/record_batch.h"

namespace cairn::broker {
namespace {

using protocol::ProduceRequest;
using protocol::ProduceResponse;

constexpr int16_t kProduceVersionBatchesMin = 3;

// One partition of the request, carried by value to its owning shard.
struct AppendInput {
  size_t slot = 0;  // index into the flat list of partitions (and the barrier)
  std::string topic;
  PartitionId partition;
  std::span<uint8_t> records;  // into the request frame, which the handler's ctx keeps alive
  bool records_null = false;
};

struct AppendOutput {
  size_t slot = 0;
  ErrorCode error = ErrorCode::none;
  Offset base_offset{-1};
  TimestampMs log_append_time{-1};
  Offset log_start_offset{-1};
  // The batch's producer, when it was refused with INVALID_TXN_STATE.
  ProducerId producer_id{-1};
  ProducerEpoch epoch{-1};
  // Produce v8+ (KIP-467): why the batch was refused, and which of its records did it.
  std::optional<std::string> error_message;
  std::vector<ProduceResponse::BatchIndexAndErrorMessage> record_errors;
};

ErrorCode fault_error(protocol::BatchFault fault) {
  switch (fault) {
    case protocol::BatchFault::none:
      return ErrorCode::none;
    case protocol::BatchFault::corrupt_message:
      return ErrorCode::corrupt_message;
    case protocol::BatchFault::invalid_record:
      return ErrorCode::invalid_record;
    case protocol::BatchFault::unsupported_compression_type:
      return ErrorCode::unsupported_compression_type;
  }
  return ErrorCode::corrupt_message;
}

// CreateTime: every record's timestamp within `limit_ms` of `now_ms` (Kafka checks each record).
// Whether every record's timestamp is within `limit_ms` of now: its lowest and highest are.
bool timestamps_within(const protocol::BatchCheck& check, int64_t now_ms, int64_t limit_ms) {
  auto distance_ok = [&](int64_t timestamp) {
    if (timestamp == -1) return true;  // NO_TIMESTAMP (magic 0 records): nothing to check
    int64_t diff = timestamp > now_ms ? timestamp - now_ms : now_ms - timestamp;
    return diff >= 0 && diff <= limit_ms;  // diff < 0: overflow, far outside anyway
  };
  return distance_ok(check.min_record_timestamp.value()) &&
         distance_ok(check.max_record_timestamp.value());
}

// record_errors lists at most this many records (a batch may hold millions); error_message
// gives the full count.
constexpr size_t kRecordErrorsMax = 100;

// The records of a refused batch that break a per-record rule, by index in the batch, with
// why (Produce v8+ record_errors; the first kRecordErrorsMax). Returns how many break it. Runs
// only on the refusal path.
size_t offending_records(
    const model::RecordBatchView& view,
    const std::function<std::optional<std::string>(const protocol::Record&)>& why,
    std::vector<ProduceResponse::BatchIndexAndErrorMessage>& errors) {
  Result<protocol::BatchRecords> records =
      protocol::BatchRecords::open(view, protocol::ValidateOptions{}.decompressed_bytes_max);
  if (!records.ok()) return 0;  // it was just validated: cannot happen
  protocol::RecordReader reader = records->reader();
  protocol::Record record;
  size_t count = 0;
  for (int32_t index = 0; reader.next(&record); index++) {
    std::optional<std::string> message = why(record);
    if (!message.has_value()) continue;
    if (++count <= kRecordErrorsMax) errors.push_back({index, std::move(message)});
  }
  return count;
}

// INVALID_TIMESTAMP's details: each record outside [now - limit, now + limit].
void explain_timestamps(const model::RecordBatchView& view, int64_t now_ms, int64_t limit_ms,
                        AppendOutput& out) {
  int64_t low = now_ms - limit_ms, high = now_ms + limit_ms;
  size_t count = offending_records(
      view,
      [&](const protocol::Record& record) {
        int64_t timestamp = record.timestamp.value();
        if (timestamp == -1 || (timestamp >= low && timestamp <= high)) {
          return std::optional<std::string>();
        }
        return std::optional<std::string>(fmt::format(
            "timestamp {} is out of range [{}, {}] (message.timestamp.difference.max.ms)",
            timestamp, low, high));
      },
      out.record_errors);
  out.error_message = fmt::format(
      "{} record(s) have a timestamp more than {} ms from the "
      "broker's clock (message.timestamp.difference.max.ms)",
      count, limit_ms);
}

// INVALID_RECORD's details on a compacted topic: each record without a key.
void explain_keyless(const model::RecordBatchView& view, AppendOutput& out) {
  size_t count = offending_records(
      view,
      [](const protocol::Record& record) {
        if (record.key.has_value()) return std::optional<std::string>();
        return std::optional<std::string>("a compacted topic cannot accept a record without a key");
      },
      out.record_errors);
  out.error_message = fmt::format(
      "{} record(s) have no key; a compacted topic (cleanup.policy=compact) needs one", count);
}

// The checks a produced batch passes before anything is appended: request version, size,
// framing and CRC (validate_produce_records fills `check`), offsets, timestamps. ErrorCode::none
// when the batch may go on; otherwise the refusal, explained in `out` for Produce v8+.
ErrorCode check_batch(int16_t version, std::span<const uint8_t> records,
                      const PartitionConfig& config, int64_t now_ms, protocol::BatchCheck& check,
                      AppendOutput& out) {
  auto refuse = [&out](ErrorCode code, std::string message) {
    out.error_message = std::move(message);
    return code;
  };
  if (records.empty()) return refuse(ErrorCode::invalid_record, "the partition has no records");
  if (records.size() > static_cast<size_t>(config.max_message_bytes)) {
    return refuse(ErrorCode::message_too_large,
                  fmt::format("the batch is {} bytes, above max.message.bytes ({})", records.size(),
                              config.max_message_bytes));
  }
  // Produce v0-2 get the v3 rules (a v2 batch there, or a converted legacy set).
  int16_t rules = std::max(version, kProduceVersionBatchesMin);
  check = protocol::validate_produce_records(records, rules, protocol::ValidateOptions{});
  if (!check.ok()) return fault_error(check.fault);
  ASSERT(check.batch.has_value());
  // ValidateOptions{} decodes every record, compressed or not: the facts below are complete.
  ASSERT(check.records_checked);
  const model::RecordBatchView& view = *check.batch;
  if (view.base_offset().value() != 0) {
    return refuse(ErrorCode::invalid_record, "a produced batch must have base offset 0");
  }
  if (view.size_bytes() > config.log.segment_bytes) {
    return refuse(ErrorCode::record_list_too_large,
                  fmt::format("the batch is {} bytes, above segment.bytes ({})", view.size_bytes(),
                              config.log.segment_bytes));
  }
  if (view.is_transactional() && view.producer_id().value() < 0) {
    return refuse(ErrorCode::invalid_record, "a transactional batch needs a producer id");
  }
  if (config.timestamp_type == TimestampType::create_time &&
      config.timestamp_difference_max_ms != std::numeric_limits<int64_t>::max() &&
      !timestamps_within(check, now_ms, config.timestamp_difference_max_ms)) {
    explain_timestamps(view, now_ms, config.timestamp_difference_max_ms, out);
    return ErrorCode::invalid_timestamp;
  }
  // Compacted topics keep the latest record per key: a record without a key has no place
  // there (Kafka: "Compacted topic cannot accept message without key").
  if (config.log.cleanup_compact && !check.all_records_keyed) {
    explain_keyless(view, out);
    return ErrorCode::invalid_record;
  }
  return ErrorCode::none;
}

// Rewrites the timestamps of `batch` (the bytes of `check.batch`) as the topic asks, keeping
// its CRC right, and returns its max timestamp: LogAppendTime stamps the broker's clock;
// CreateTime keeps the producer's, with maxTimestamp set to the highest record's as Kafka does.
TimestampMs stamp_timestamps(std::span<uint8_t> batch, const protocol::BatchCheck& check,
                             const PartitionConfig& config, int64_t now_ms, AppendOutput& out) {
  const model::RecordBatchView& view = *check.batch;
  if (config.timestamp_type == TimestampType::log_append_time) {
    protocol::stamp_log_append_time(batch, TimestampMs(now_ms));
    out.log_append_time = TimestampMs(now_ms);
    return TimestampMs(now_ms);
  }
  if (check.records_checked && check.max_record_timestamp != view.max_timestamp()) {
    model::set_max_timestamp(batch, check.max_record_timestamp);
    model::update_crc(batch);
    return check.max_record_timestamp;
  }
  return view.max_timestamp();
}

producers::ProducerBatch producer_batch_of(const model::RecordBatchView& view) {
  producers::ProducerBatch producer;
  producer.producer_id = view.producer_id();
  producer.epoch = view.producer_epoch();
  producer.first_sequence = view.base_sequence();
  producer.last_sequence =
      producers::last_sequence_of(view.base_sequence(), view.last_offset_delta());
  producer.transactional = view.is_transactional();
  return producer;
}

// The error of a refused idempotent or transactional batch.
ErrorCode sequence_error(producers::SequenceVerdict verdict) {
  switch (verdict) {
    case producers::SequenceVerdict::out_of_order:
      return ErrorCode::out_of_order_sequence_number;
    case producers::SequenceVerdict::invalid_epoch:
      return ErrorCode::invalid_producer_epoch;
    case producers::SequenceVerdict::invalid_txn_state:
      return ErrorCode::invalid_txn_state;
    case producers::SequenceVerdict::append:
    case producers::SequenceVerdict::duplicate:
      break;
  }
  return ErrorCode::unknown_server_error;
}

// The bytes to check and append in `records`: the request's own, or, for a Produce v0-2
// legacy message set, its conversion to one v2 batch (held in `converted`).
ErrorCode records_to_append(const BrokerState& broker, int16_t version, const AppendInput& input,
                            const PartitionConfig& config, std::vector<uint8_t>& converted,
                            std::span<uint8_t>& records) {
  if (input.records_null) return ErrorCode::invalid_record;
  records = input.records;
  if (version >= kProduceVersionBatchesMin || !protocol::legacy::is_legacy_message_set(records)) {
    return ErrorCode::none;
  }
  if (records.size() > static_cast<size_t>(config.max_message_bytes)) {
    return ErrorCode::message_too_large;
  }
  protocol::legacy::ToV2 to_v2 = protocol::legacy::to_v2(records, {});
  if (!to_v2.ok()) return fault_error(to_v2.fault);
  broker.metrics->produce_conversions.add(static_cast<uint64_t>(to_v2.messages));
  converted = std::move(to_v2.batch);
  records = converted;
  return ErrorCode::none;
}

// Checks and appends one partition's batch. Runs on the owning shard.
AppendOutput append_one(const BrokerState& broker, int16_t version, int16_t acks,
                        const AppendInput& input, DurabilityBarrier* barrier) {
  AppendOutput out;
  out.slot = input.slot;
  auto fail = [&out](ErrorCode code) {
    out.error = code;
    return out;
  };
  std::shared_ptr<Partition> partition = broker.partitions->find(input.topic, input.partition);
  if (partition == nullptr) return fail(ErrorCode::unknown_topic_or_partition);
  Status health = partition->health();
  if (!health.ok()) return fail(kafka_error(health));
  storage::Log& log = *partition->log;
  const PartitionConfig& config = partition->config;
  out.log_start_offset = log.log_start_offset();
  int64_t now_ms = broker.partitions->clock().now_ms();
  std::span<uint8_t> records;
  std::vector<uint8_t> converted;  // a legacy set's v2 batch, appended from here
  ErrorCode refused = records_to_append(broker, version, input, config, converted, records);
  if (refused != ErrorCode::none) return fail(refused);
  protocol::BatchCheck check;
  refused = check_batch(version, records, config, now_ms, check, out);
  if (refused != ErrorCode::none) return fail(refused);
  model::RecordBatchView view = *check.batch;

  producers::ProducerBatch producer;
  bool idempotent = view.producer_id().value() >= 0;
  if (idempotent) {
    producer = producer_batch_of(view);
    producers::SequenceCheck sequence = partition->producers.check(producer);
    if (sequence.verdict == producers::SequenceVerdict::duplicate) {
      out.base_offset = sequence.original.first_offset;
      if (config.timestamp_type == TimestampType::log_append_time) {
        out.log_append_time = sequence.original.max_timestamp;
      }
      if (acks == -1) log.wait_durable(sequence.original.last_offset, barrier->callback(out.slot));
      return out;
    }
    if (sequence.verdict != producers::SequenceVerdict::append) {
      out.producer_id = producer.producer_id;
      out.epoch = producer.epoch;
      return fail(sequence_error(sequence.verdict));
    }
  }

  // The batch is good. It is appended from the request frame itself (no copy); the Log
  // stamps its base offset there.
  std::span<uint8_t> batch =
      records.subspan(static_cast<size_t>(view.bytes().data() - records.data()), view.size_bytes());
  TimestampMs max_timestamp = stamp_timestamps(batch, check, config, now_ms, out);
  // validate_produce_records checked the CRC, and every rewrite above recomputed it.
  Result<storage::AppendResult> appended = log.append(batch, storage::Log::Crc::already_verified);
  if (!appended.ok()) {
    spdlog::warn("{}: append failed: {}", log.dir(), appended.status().to_string());
    return fail(kafka_error(appended.status()));
  }
  out.base_offset = appended->base_offset;
  broker.metrics->topic(input.topic)
      .add_in(batch.size(), static_cast<uint64_t>(std::max(view.records_count(), 0)));
  if (idempotent) {
    producer.first_offset = appended->base_offset;
    producer.last_offset = appended->last_offset;
    producer.max_timestamp = max_timestamp;
    partition->producers.record(producer);
  }
  partition->append_times.record(appended->base_offset, now_ms);
  partition->notify_waiters();
  if (acks == -1) log.wait_durable(appended->last_offset, barrier->callback(out.slot));
  return out;
}

asio::awaitable<std::vector<AppendOutput>> append_on_shard(
    const BrokerState* broker, int16_t version, int16_t acks, std::vector<AppendInput> inputs,
    std::shared_ptr<DurabilityBarrier> barrier) {
  std::vector<AppendOutput> outputs;
  outputs.reserve(inputs.size());
  for (const AppendInput& input : inputs) {
    outputs.push_back(append_one(*broker, version, acks, input, barrier.get()));
  }
  co_return outputs;
}

// Whether a partition's records start with a transactional v2 batch (read from the header,
// before any validation: Kafka's hasTransactionalRecords check comes first).
bool has_transactional_batch(const ProduceRequest& request) {
  constexpr size_t kMagicAt = 16, kAttributesAt = 21;
  constexpr uint16_t kTransactionalBit = 0x10;
  for (const auto& topic : request.topic_data) {
    for (const auto& data : topic.partition_data) {
      if (!data.records.inline_bytes.has_value()) continue;
      std::span<const uint8_t> bytes = *data.records.inline_bytes;
      if (bytes.size() < kAttributesAt + 2 || bytes[kMagicAt] != 2) continue;
      uint16_t attributes =
          static_cast<uint16_t>((bytes[kAttributesAt] << 8) | bytes[kAttributesAt + 1]);
      if ((attributes & kTransactionalBit) != 0) return true;
    }
  }
  return false;
}

// Refusals with INVALID_TXN_STATE whose producer the transaction coordinator does not know as
// the id's current one become what Kafka's verification (KIP-890) answers first:
// INVALID_PRODUCER_EPOCH for another epoch, INVALID_PRODUCER_ID_MAPPING for another producer.
asio::awaitable<void> explain_txn_refusals(
    const RequestContext& ctx, const ProduceRequest& request, std::vector<AppendOutput*> refused,
    std::vector<ProduceResponse::PartitionProduceResponse*>& slots) {
  if (refused.empty() || !request.transactional_id.has_value() || ctx.broker->txn == nullptr) {
    co_return;
  }
  const std::string& id = *request.transactional_id;
  std::map<std::pair<ProducerId, ProducerEpoch>, ErrorCode> verified;
  for (AppendOutput* output : refused) {
    auto producer = std::make_pair(output->producer_id, output->epoch);
    if (!verified.contains(producer)) {
      verified[producer] = co_await txn::on_txn_shard(
          ctx, id, txn::verify_producer(ctx.broker->txn, id, producer.first, producer.second));
    }
    ErrorCode answer = verified[producer];
    if (answer == ErrorCode::producer_fenced) {
      slots[output->slot]->error_code = wire(ErrorCode::invalid_producer_epoch);
    } else if (answer == ErrorCode::invalid_producer_id_mapping) {
      slots[output->slot]->error_code = wire(answer);
    }
  }
}

// The response skeleton in request order, the flat list of its partitions (slots), and the
// appends to run, grouped by owning shard. Partitions that fail before any append (bad acks,
// negative index) get their error here.
struct ProducePlan {
  std::vector<ProduceResponse::PartitionProduceResponse*> slots;
  std::map<net::ShardId, std::vector<AppendInput>> per_shard;
};

ProducePlan plan_produce(const RequestContext& ctx, const ProduceRequest& request, bool acks_valid,
                         ProduceResponse& response) {
  const BrokerState& broker = *ctx.broker;
  ProducePlan plan;
  const bool refuse_transactional =
      (!request.transactional_id.has_value() && has_transactional_batch(request)) ||
      (request.transactional_id.has_value() &&
       !ctx.allowed(AclOperation::write, AclResourceType::transactional_id,
                    *request.transactional_id));
  response.responses.resize(request.topic_data.size());
  for (size_t t = 0; t < request.topic_data.size(); t++) {
    const ProduceRequest::TopicProduceData& topic = request.topic_data[t];
    const bool may_write = ctx.allowed(AclOperation::write, AclResourceType::topic, topic.name);
    response.responses[t].name = topic.name;
    response.responses[t].partition_responses.resize(topic.partition_data.size());
    for (size_t p = 0; p < topic.partition_data.size(); p++) {
      const ProduceRequest::PartitionProduceData& data = topic.partition_data[p];
      ProduceResponse::PartitionProduceResponse& out = response.responses[t].partition_responses[p];
      out.index = data.index;
      out.base_offset = -1;
      size_t slot = plan.slots.size();
      plan.slots.push_back(&out);
      if (refuse_transactional) {  // Kafka's first check: the whole request fails
        out.error_code = wire(ErrorCode::transactional_id_authorization_failed);
        continue;
      }
      if (!acks_valid) {
        out.error_code = wire(ErrorCode::invalid_required_acks);
        continue;
      }
      if (!may_write) {
        out.error_code = wire(ErrorCode::topic_authorization_failed);
        continue;
      }
      if (data.index < 0) {
        out.error_code = wire(ErrorCode::unknown_topic_or_partition);
        continue;
      }
      if (is_internal_topic(topic.name)) {  // the broker alone writes them (Kafka's rule)
        out.error_code = wire(ErrorCode::invalid_topic_exception);
        continue;
      }
      AppendInput input;
      input.slot = slot;
      input.topic = topic.name;
      input.partition = PartitionId(data.index);
      input.records_null = data.records.is_null();
      if (data.records.inline_bytes.has_value()) {
        input.records = ctx.writable(*data.records.inline_bytes);
      }
      plan.per_shard[broker.shard_of(topic.name, input.partition)].push_back(std::move(input));
    }
  }
  return plan;
}

// Allowed writes to audited topics (docs/audit.md): the partitions that took the records.
void audit_writes(const RequestContext& ctx, const ProduceResponse& response) {
  if (ctx.broker->audit == nullptr) return;
  for (const ProduceResponse::TopicProduceResponse& topic : response.responses) {
    std::vector<int32_t> partitions;
    for (const ProduceResponse::PartitionProduceResponse& out : topic.partition_responses) {
      if (out.error_code == 0) partitions.push_back(out.index);
    }
    if (partitions.empty()) continue;
    ctx.audit_access(AclOperation::write, topic.name, std::move(partitions));
  }
}

}  // namespace

asio::awaitable<net::Reply> handle_produce(RequestContext ctx) {
  ProduceRequest request;
  if (!ctx.decode(request)) co_return net::Reply::close();
  const BrokerState& broker = *ctx.broker;
  int16_t version = ctx.api_version();
  int16_t acks = request.acks;
  bool acks_valid = acks == -1 || acks == 0 || acks == 1;
  ProduceResponse response;
  ProducePlan plan = plan_produce(ctx, request, acks_valid, response);
  std::vector<ProduceResponse::PartitionProduceResponse*>& slots = plan.slots;

  asio::any_io_executor executor = co_await asio::this_coro::executor;
  auto barrier = std::make_shared<DurabilityBarrier>(executor, slots.size());
  std::vector<asio::awaitable<std::vector<AppendOutput>>> hops;
  for (auto& [shard, inputs] : plan.per_shard) {
    hops.push_back(broker.shards->run_on(
        shard, append_on_shard(&broker, version, acks, std::move(inputs), barrier)));
  }
  std::vector<std::vector<AppendOutput>> per_hop = co_await net::await_all(std::move(hops));
  std::vector<size_t> appended_slots;
  std::vector<AppendOutput*> txn_refused;
  for (std::vector<AppendOutput>& outputs : per_hop) {
    for (AppendOutput& output : outputs) {
      if (output.error == ErrorCode::invalid_txn_state) txn_refused.push_back(&output);
      ProduceResponse::PartitionProduceResponse& out = *slots[output.slot];
      out.error_code = wire(output.error);
      out.base_offset = output.base_offset.value();
      out.log_append_time_ms = output.log_append_time.value();
      out.log_start_offset = output.log_start_offset.value();
      out.error_message = std::move(output.error_message);
      out.record_errors = std::move(output.record_errors);
      if (output.error == ErrorCode::none) appended_slots.push_back(output.slot);
    }
  }
  // Over its producer_byte_rate: the connection is muted for the throttle time, and a client
  // from before KIP-219 gets its response only then (quota_throttle.h).
  int32_t throttle_ms = record_quota_bytes(ctx, quotas::QuotaKey::producer_byte_rate,
                                           static_cast<int64_t>(ctx.frame->size()));
  response.throttle_time_ms = throttle_ms;
  if (version >= kProduceClientThrottleVersion) {
    mute_connection(executor, ctx.broker, std::move(ctx.ordering), throttle_ms);
  } else {
    co_await throttle_delay(ctx.broker, throttle_ms);
  }
  ctx.ordering.release();  // later requests on this connection now append after ours
  co_await explain_txn_refusals(ctx, request, std::move(txn_refused), slots);

  if (acks == -1) {
    co_await barrier->wait();
    for (size_t slot : appended_slots) {
      const Status& durable = barrier->status(slot);
      if (durable.ok()) continue;
      spdlog::warn("produce: not durable, answering KAFKA_STORAGE_ERROR: {}", durable.to_string());
      slots[slot]->error_code = wire(ErrorCode::kafka_storage_error);
      slots[slot]->base_offset = -1;
    }
  }
  for (const ProduceResponse::PartitionProduceResponse* slot : slots) {
    broker.metrics->count_error_code(ProduceRequest::kApiKey, slot->error_code);
  }
  audit_writes(ctx, response);
  if (acks == 0) co_return net::Reply::none();
  co_return respond(ctx, response);
}

}  // namespace cairn::broker
