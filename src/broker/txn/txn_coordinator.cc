#include "broker/txn/txn_coordinator.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <future>
#include <limits>
#include <map>
#include <set>

#include "base/assert.h"
#include "broker/configs/resolve.h"
#include "broker/groups/group_config.h"
#include "broker/partitions/internal_append.h"
#include "broker/partitions/log_await.h"
#include "broker/partitions/transactions.h"
#include "broker/shard_map.h"
#include "net/await_callback.h"
#include "protocol/record_batch.h"

namespace cairn::broker::txn {
namespace {

constexpr uint64_t kReplayReadBytes = 1 << 20;
constexpr size_t kDecompressedBytesMax = 64 << 20;
// An epoch this high gets a fresh producer id instead of a bump (Kafka's rule).
constexpr int16_t kEpochBumpMax = std::numeric_limits<int16_t>::max() - 1;

TopicConfigs txn_topic_configs(int32_t segment_bytes) {
  return TopicConfigs{{"cleanup.policy", "compact"},
                      {"segment.bytes", std::to_string(segment_bytes)}};
}

}  // namespace

Result<TxnConfig> txn_config_from(const configs::ConfigMap& kafka_configs) {
  auto value = [&kafka_configs](std::string_view name) {
    return configs::parse_long(configs::broker_config_value(kafka_configs, name));
  };
  TxnConfig config;
  config.partition_count = static_cast<int32_t>(value("transaction.state.log.num.partitions"));
  config.segment_bytes = static_cast<int32_t>(value("transaction.state.log.segment.bytes"));
  config.max_timeout_ms = static_cast<int32_t>(value("transaction.max.timeout.ms"));
  config.id_expiration_ms = value("transactional.id.expiration.ms");
  config.abort_check_interval_ms =
      value("transaction.abort.timed.out.transaction.cleanup.interval.ms");
  config.expiration_check_interval_ms =
      value("transaction.remove.expired.transaction.cleanup.interval.ms");
  return config;
}

Result<TopicInfo> ensure_txn_topic(storage::Io& io, TopicRegistry& registry,
                                   const std::filesystem::path& data_dir, int32_t partition_count,
                                   int32_t segment_bytes) {
  std::optional<TopicInfo> topic;
  if (const TopicInfo* found = registry.snapshot()->find(kTransactionStateTopic)) topic = *found;
  if (topic.has_value() && topic->partition_count != partition_count) {
    spdlog::info(
        "{} has {} partitions; keeping them (transaction.state.log.num.partitions {} "
        "applies only to a new data directory)",
        kTransactionStateTopic, topic->partition_count, partition_count);
  }
  if (!topic.has_value()) {
    Result<TopicInfo> created = registry.create(std::string(kTransactionStateTopic),
                                                partition_count, txn_topic_configs(segment_bytes));
    if (!created.ok()) return created.status();
    topic = std::move(created).value();
  }
  RETURN_IF_ERROR(adopt_partition_dirs(io, data_dir, *topic));
  return *topic;
}

// ---------------------------------------------------------------------------------------------
// Markers and KIP-890 permissions, on the shards that own the transaction's partitions

namespace {

asio::awaitable<Status> markers_on_shard(const TxnCoordinator* coordinator,
                                         std::vector<TxnPartition> partitions,
                                         ProducerId producer_id, ProducerEpoch epoch, bool commit) {
  const TxnCoordinatorDeps& deps = coordinator->deps();
  TimestampMs now(deps.partitions->clock().now_ms());
  std::vector<std::pair<std::shared_ptr<Partition>, Offset>> written;
  for (const TxnPartition& tp : partitions) {
    std::shared_ptr<Partition> partition =
        deps.partitions->find(tp.topic, PartitionId(tp.partition));
    if (partition == nullptr || partition->deleted) {
      // Deleted since it joined the transaction: nothing to mark (Kafka skips it too).
      continue;
    }
    Status health = partition->health();
    if (!health.ok()) co_return health;  // completion is retried later
    Result<Offset> at = append_marker(*partition, producer_id, epoch, commit, now);
    if (at.status().code() == StatusCode::invalid_argument) {
      spdlog::warn("{}-{}: no {} marker for producer {} epoch {}: {}", tp.topic, tp.partition,
                   commit ? "COMMIT" : "ABORT", producer_id.value(), epoch.value(),
                   at.status().message());
      continue;
    }
    if (!at.ok()) co_return at.status();
    if (tp.topic == kConsumerOffsetsTopic && deps.groups != nullptr) {
      groups::complete_txn_offsets(deps.groups, tp.partition, producer_id, commit);
    }
    written.emplace_back(std::move(partition), *at);
  }
  for (auto& [partition, offset] : written) {
    if (!partition->usable()) continue;  // deleted meanwhile: nothing left to mark
    Status durable = co_await await_durable(*partition->log, offset);
    if (!durable.ok()) co_return durable;
  }
  co_return Status();
}

asio::awaitable<Status> allow_on_shard(const TxnCoordinator* coordinator,
                                       std::vector<TxnPartition> partitions, ProducerId producer_id,
                                       ProducerEpoch epoch) {
  for (const TxnPartition& tp : partitions) {
    std::shared_ptr<Partition> partition =
        coordinator->deps().partitions->find(tp.topic, PartitionId(tp.partition));
    if (partition != nullptr) partition->producers.allow_transaction(producer_id, epoch);
  }
  co_return Status();
}

std::map<net::ShardId, std::vector<TxnPartition>> by_shard(const TxnCoordinator* coordinator,
                                                           const std::set<TxnPartition>& set) {
  std::map<net::ShardId, std::vector<TxnPartition>> out;
  for (const TxnPartition& tp : set) {
    out[coordinator->deps().partitions->shard_of(tp.topic, PartitionId(tp.partition))].push_back(
        tp);
  }
  return out;
}

// Writes the markers of (producer_id, epoch) to every partition of `partitions` (all shards at
// once) and waits until they are durable. The first error, if any.
asio::awaitable<Status> write_markers(const TxnCoordinator* coordinator,
                                      std::set<TxnPartition> partitions, ProducerId producer_id,
                                      ProducerEpoch epoch, bool commit) {
  std::vector<asio::awaitable<Status>> hops;
  for (auto& [shard, list] : by_shard(coordinator, partitions)) {
    hops.push_back(coordinator->deps().shards->run_on(
        shard, markers_on_shard(coordinator, std::move(list), producer_id, epoch, commit)));
  }
  std::vector<Status> results = co_await net::await_all(std::move(hops));
  for (const Status& status : results) {
    if (!status.ok()) co_return status;
  }
  co_return Status();
}

asio::awaitable<void> allow_partitions(const TxnCoordinator* coordinator,
                                       std::set<TxnPartition> partitions, ProducerId producer_id,
                                       ProducerEpoch epoch) {
  std::vector<asio::awaitable<Status>> hops;
  for (auto& [shard, list] : by_shard(coordinator, partitions)) {
    hops.push_back(coordinator->deps().shards->run_on(
        shard, allow_on_shard(coordinator, std::move(list), producer_id, epoch)));
  }
  co_await net::await_all(std::move(hops));
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// TxnShard: the ids of one shard

class TxnShard {
 public:
  TxnShard(const TxnCoordinator* owner, asio::any_io_executor executor)
      : owner_(owner),
        executor_(std::move(executor)),
        clock_(owner->deps().clock != nullptr ? *owner->deps().clock : storage::system_clock()),
        timer_(executor_) {}

  void assign(int32_t partition) {
    partitions_[partition];
    loading_.insert(partition);
  }
  asio::awaitable<void> load();
  void stop() {
    stopping_ = true;
    timer_.cancel();
  }

  asio::awaitable<InitResult> init(InitRequest request);
  asio::awaitable<ErrorCode> add(AddRequest request);
  asio::awaitable<ErrorCode> end(EndRequest request);
  ListResult list() const;
  ErrorCode verify(const std::string& id, ProducerId producer_id, ProducerEpoch epoch) const;
  DescribeResult describe(const std::string& id) const;

 private:
  // Marks an id busy for the life of an operation (CONCURRENT_TRANSACTIONS for others). The
  // set is shared: a frame abandoned at shutdown may be destroyed after the TxnShard.
  using BusySet = std::shared_ptr<std::set<std::string>>;
  class Busy {
   public:
    Busy(TxnShard* shard, std::string id) : set_(shard->busy_), id_(std::move(id)) {
      set_->insert(id_);
    }
    ~Busy() { set_->erase(id_); }
    Busy(const Busy&) = delete;
    Busy& operator=(const Busy&) = delete;

   private:
    BusySet set_;
    std::string id_;
  };
  bool busy(const std::string& id) const { return busy_->contains(id); }

  int64_t now_ms() const { return clock_.now_ms(); }
  // The checks every request of a known producer passes; `found` is set when none fails.
  ErrorCode check(const std::string& id, ProducerId producer_id, ProducerEpoch epoch,
                  TxnMetadata** found);
  asio::awaitable<void> load_partition(int32_t id);
  Status replay(std::span<const uint8_t> bytes);
  // Appends `next` to its partition, waits until durable, then makes it the id's state.
  asio::awaitable<Status> persist(TxnMetadata next);
  // Prepare* -> markers -> Complete*. The id must be busy (the caller's Busy).
  asio::awaitable<Status> complete(std::string id);
  // Aborts the id's open transaction with its epoch bumped (fences the old producer).
  asio::awaitable<Status> fence_and_abort(std::string id);
  asio::awaitable<void> background(std::string id, bool fence);
  // Before a new epoch: completes a prepared transaction, aborts (fencing) an open one.
  asio::awaitable<Status> settle(std::string id);
  void schedule_tick();
  void tick();
  void expire_ids();

  const TxnCoordinator* owner_;
  asio::any_io_executor executor_;
  storage::Clock& clock_;
  std::map<std::string, TxnMetadata> txns_;
  BusySet busy_ = std::make_shared<std::set<std::string>>();
  std::map<int32_t, std::shared_ptr<Partition>> partitions_;
  std::set<int32_t> loading_;
  asio::steady_timer timer_;
  int64_t last_expiration_ms_ = 0;
  bool stopping_ = false;
};

asio::awaitable<void> TxnShard::load() {
  last_expiration_ms_ = now_ms();
  for (auto& [id, partition] : partitions_) {
    partition = owner_->deps().partitions->find(kTransactionStateTopic, PartitionId(id));
    Status health = partition == nullptr ? error(StatusCode::not_found, "no such partition")
                                         : partition->health();
    if (!health.ok()) {
      spdlog::error("{}-{}: cannot serve its transactional ids: {}", kTransactionStateTopic, id,
                    health.to_string());
      continue;
    }
    co_await load_partition(id);
  }
  // Finish what a crash interrupted (spawned first: nothing may start a new transaction of
  // the id before), and let open transactions go on (or time out).
  std::vector<TxnMetadata> ongoing;
  for (const auto& [id, metadata] : txns_) {
    if (metadata.state == TxnState::prepare_commit || metadata.state == TxnState::prepare_abort ||
        metadata.state == TxnState::prepare_epoch_fence) {
      asio::co_spawn(executor_, background(id, false), asio::detached);
    } else if (metadata.state == TxnState::ongoing) {
      ongoing.push_back(metadata);
    }
  }
  for (const TxnMetadata& metadata : ongoing) {
    co_await allow_partitions(owner_, metadata.partitions, metadata.producer_id, metadata.epoch);
  }
  schedule_tick();
}

asio::awaitable<void> TxnShard::load_partition(int32_t id) {
  std::shared_ptr<Partition> partition = partitions_.at(id);
  storage::Log& log = *partition->log;
  Offset offset = log.log_start_offset();
  const Offset end = log.log_end_offset();
  while (offset < end && !stopping_) {
    Result<storage::ReadResult> read = log.read(offset, kReplayReadBytes, end);
    Result<std::vector<uint8_t>> bytes =
        read.ok() ? log.copy(*read) : Result<std::vector<uint8_t>>(read.status());
    Status replayed = bytes.ok() ? replay(*bytes) : bytes.status();
    if (!replayed.ok()) {
      // Serving these ids from a partial replay could resurrect fenced producers: they keep
      // answering COORDINATOR_LOAD_IN_PROGRESS until an operator steps in.
      spdlog::error("{}-{}: replay stopped at offset {}: {}", kTransactionStateTopic, id,
                    offset.value(), replayed.to_string());
      co_return;
    }
    if (read->empty()) break;
    offset = read->next_offset;
    co_await asio::post(executor_, asio::use_awaitable);
  }
  if (stopping_) co_return;
  loading_.erase(id);
  spdlog::info("{}-{}: loaded up to offset {}", kTransactionStateTopic, id, end.value());
}

Status TxnShard::replay(std::span<const uint8_t> bytes) {
  protocol::BatchSplitter splitter(bytes);
  while (std::optional<model::RecordBatchView> batch = splitter.next()) {
    if (batch->is_control()) continue;
    Result<protocol::BatchRecords> records =
        protocol::BatchRecords::open(*batch, kDecompressedBytesMax);
    if (!records.ok()) return records.status();
    protocol::RecordReader reader = records->reader();
    protocol::Record record;
    while (reader.next(&record)) {
      if (!record.key.has_value()) continue;
      Result<std::string> key = decode_txn_key(*record.key);
      if (!key.ok()) {
        spdlog::warn("{}: skipping record at offset {}: {}", kTransactionStateTopic,
                     record.offset.value(), key.status().to_string());
        continue;
      }
      if (!record.value.has_value()) {
        txns_.erase(*key);
        continue;
      }
      Result<TxnMetadata> value = decode_txn_value(*key, *record.value);
      if (!value.ok()) {
        spdlog::warn("{}: skipping state of '{}' at offset {}: {}", kTransactionStateTopic, *key,
                     record.offset.value(), value.status().to_string());
        continue;
      }
      txns_[*key] = std::move(value).value();
    }
    RETURN_IF_ERROR(reader.status());
  }
  return splitter.status();
}

asio::awaitable<Status> TxnShard::persist(TxnMetadata next) {
  next.last_update_ms = now_ms();
  auto it = partitions_.find(owner_->partition_of(next.transactional_id));
  if (it == partitions_.end() || it->second == nullptr || !it->second->usable()) {
    co_return error(StatusCode::not_found, "its __transaction_state partition is unavailable");
  }
  std::shared_ptr<Partition> partition = it->second;  // held across the suspension
  std::vector<InternalRecord> records(1);
  records[0].key = encode_txn_key(next.transactional_id);
  records[0].value = encode_txn_value(next);
  Result<storage::AppendResult> appended =
      append_internal(*partition, records, TimestampMs(now_ms()));
  if (!appended.ok()) co_return appended.status();
  Status durable = co_await await_durable(*partition->log, appended->last_offset);
  if (!durable.ok()) co_return durable;
  std::string id = next.transactional_id;
  txns_[id] = std::move(next);
  co_return Status();
}

asio::awaitable<Status> TxnShard::complete(std::string id) {
  auto it = txns_.find(id);
  if (it == txns_.end()) co_return Status();
  TxnMetadata next = it->second;
  if (next.state != TxnState::prepare_commit && next.state != TxnState::prepare_abort &&
      next.state != TxnState::prepare_epoch_fence) {
    co_return Status();  // completed meanwhile
  }
  bool commit = next.state == TxnState::prepare_commit;
  Status written =
      co_await write_markers(owner_, next.partitions, next.producer_id, next.epoch, commit);
  if (!written.ok()) {
    spdlog::warn("transactional id '{}': markers not written ({}); retrying later", id,
                 written.to_string());
    co_return written;
  }
  next.state = commit ? TxnState::complete_commit : TxnState::complete_abort;
  next.partitions.clear();
  next.start_ms = -1;
  co_return co_await persist(std::move(next));
}

asio::awaitable<Status> TxnShard::fence_and_abort(std::string id) {
  auto it = txns_.find(id);
  if (it == txns_.end() || it->second.state != TxnState::ongoing) co_return Status();
  TxnMetadata next = it->second;
  next.epoch = ProducerEpoch(static_cast<int16_t>(next.epoch.value() + 1));
  next.state = TxnState::prepare_abort;
  Status stored = co_await persist(std::move(next));
  if (!stored.ok()) co_return stored;
  co_return co_await complete(id);
}

asio::awaitable<Status> TxnShard::settle(std::string id) {
  switch (txns_.at(id).state) {
    case TxnState::prepare_commit:
    case TxnState::prepare_abort:
    case TxnState::prepare_epoch_fence:
      co_return co_await complete(id);
    case TxnState::ongoing:
      co_return co_await fence_and_abort(id);
    default:
      co_return Status();
  }
}

asio::awaitable<void> TxnShard::background(std::string id, bool fence) {
  if (busy(id) || stopping_) co_return;
  Busy guard(this, id);
  if (fence) {
    spdlog::info("transactional id '{}': transaction timed out; aborting it", id);
    co_await fence_and_abort(id);
  } else {
    co_await complete(id);
  }
}

void TxnShard::schedule_tick() {
  if (stopping_) return;
  // Both checks ride one timer, at the shorter of their intervals (checking timeouts more
  // often than asked costs a walk over the ids).
  const TxnConfig& config = owner_->config();
  timer_.expires_after(std::chrono::milliseconds(
      std::min(config.abort_check_interval_ms, config.expiration_check_interval_ms)));
  timer_.async_wait([this](std::error_code error) {
    if (error || stopping_) return;
    tick();
    schedule_tick();
  });
}

void TxnShard::tick() {
  int64_t now = now_ms();
  for (const auto& [id, metadata] : txns_) {
    if (busy(id)) continue;
    bool prepared = metadata.state == TxnState::prepare_commit ||
                    metadata.state == TxnState::prepare_abort ||
                    metadata.state == TxnState::prepare_epoch_fence;
    bool timed_out = metadata.state == TxnState::ongoing && metadata.start_ms >= 0 &&
                     now - metadata.start_ms > metadata.timeout_ms;
    if (prepared || timed_out) {
      asio::co_spawn(executor_, background(id, timed_out), asio::detached);
    }
  }
  if (now - last_expiration_ms_ >= owner_->config().expiration_check_interval_ms) {
    last_expiration_ms_ = now;
    expire_ids();
  }
}

void TxnShard::expire_ids() {
  int64_t now = now_ms();
  std::map<int32_t, std::vector<InternalRecord>> tombstones;
  for (auto it = txns_.begin(); it != txns_.end();) {
    const TxnMetadata& m = it->second;
    bool idle = m.state == TxnState::empty || m.state == TxnState::complete_commit ||
                m.state == TxnState::complete_abort;
    if (!idle || busy(it->first) || now - m.last_update_ms < owner_->config().id_expiration_ms) {
      ++it;
      continue;
    }
    spdlog::info("transactional id '{}' expired", it->first);
    tombstones[owner_->partition_of(it->first)].push_back({encode_txn_key(it->first), {}});
    it = txns_.erase(it);
  }
  for (auto& [id, records] : tombstones) {
    auto found = partitions_.find(id);
    if (found == partitions_.end() || found->second == nullptr) continue;
    // Lost in a crash, the id comes back on replay and simply expires again.
    Result<storage::AppendResult> appended =
        append_internal(*found->second, records, TimestampMs(now));
    if (!appended.ok()) {
      spdlog::warn("{}-{}: expiry tombstones: {}", kTransactionStateTopic, id,
                   appended.status().to_string());
    }
  }
}

ErrorCode TxnShard::check(const std::string& id, ProducerId producer_id, ProducerEpoch epoch,
                          TxnMetadata** found) {
  int32_t partition = owner_->partition_of(id);
  if (!partitions_.contains(partition)) return ErrorCode::not_coordinator;
  if (loading_.contains(partition)) return ErrorCode::coordinator_load_in_progress;
  auto it = txns_.find(id);
  if (it == txns_.end() || it->second.producer_id != producer_id) {
    return ErrorCode::invalid_producer_id_mapping;
  }
  if (it->second.epoch != epoch) return ErrorCode::producer_fenced;
  if (busy(id)) return ErrorCode::concurrent_transactions;
  *found = &it->second;
  return ErrorCode::none;
}

asio::awaitable<InitResult> TxnShard::init(InitRequest request) {
  const std::string& id = request.transactional_id;
  int32_t partition = owner_->partition_of(id);
  if (!partitions_.contains(partition)) co_return InitResult{ErrorCode::not_coordinator};
  if (loading_.contains(partition)) co_return InitResult{ErrorCode::coordinator_load_in_progress};
  if (request.timeout_ms <= 0 || request.timeout_ms > owner_->config().max_timeout_ms) {
    co_return InitResult{ErrorCode::invalid_transaction_timeout};
  }
  if (busy(id)) co_return InitResult{ErrorCode::concurrent_transactions};
  Busy guard(this, id);
  auto it = txns_.find(id);
  if (it != txns_.end()) {
    const TxnMetadata& current = it->second;
    // KIP-360: a producer recovering with its id and epoch must still own them; a retry whose
    // first answer was lost (it still names the epoch before the bump) gets the same answer.
    if (request.producer_id.value() >= 0) {
      if (request.producer_id != current.producer_id) {
        co_return InitResult{ErrorCode::producer_fenced};
      }
      if (request.epoch == current.last_epoch && current.state == TxnState::empty) {
        co_return InitResult{ErrorCode::none, current.producer_id, current.epoch};
      }
      if (request.epoch != current.epoch) co_return InitResult{ErrorCode::producer_fenced};
    }
    Status settled = co_await settle(id);
    if (!settled.ok()) co_return InitResult{ErrorCode::concurrent_transactions};
  }
  TxnMetadata next;
  it = txns_.find(id);
  if (it != txns_.end()) next = it->second;
  next.transactional_id = id;
  next.timeout_ms = request.timeout_ms;
  next.state = TxnState::empty;
  next.partitions.clear();
  next.start_ms = -1;
  // Only a KIP-360 recovery may be retried with the epoch it named; a new producer's bump
  // leaves nothing to retry (a zombie naming the old epoch is fenced).
  next.last_epoch = request.producer_id.value() >= 0 ? request.epoch : ProducerEpoch(-1);
  if (it == txns_.end() || next.epoch.value() >= kEpochBumpMax) {
    producers::ProducerIdAllocator* ids = owner_->deps().producer_ids;
    Result<ProducerId> allocated =
        co_await owner_->deps().meta_writer->run([ids] { return ids->allocate(); });
    if (!allocated.ok()) {
      spdlog::error("InitProducerId '{}': {}", id, allocated.status().to_string());
      co_return InitResult{ErrorCode::coordinator_not_available};
    }
    next.producer_id = *allocated;
    next.epoch = ProducerEpoch(0);
    next.last_epoch = ProducerEpoch(-1);
  } else {
    next.epoch = ProducerEpoch(static_cast<int16_t>(next.epoch.value() + 1));
  }
  ProducerId producer_id = next.producer_id;
  ProducerEpoch epoch = next.epoch;
  Status stored = co_await persist(std::move(next));
  if (!stored.ok()) {
    spdlog::warn("InitProducerId '{}': {}", id, stored.to_string());
    co_return InitResult{ErrorCode::coordinator_not_available};
  }
  co_return InitResult{ErrorCode::none, producer_id, epoch};
}

asio::awaitable<ErrorCode> TxnShard::add(AddRequest request) {
  const std::string& id = request.transactional_id;
  TxnMetadata* current = nullptr;
  ErrorCode refused = check(id, request.producer_id, request.epoch, &current);
  if (refused != ErrorCode::none) co_return refused;
  if (current->state == TxnState::prepare_commit || current->state == TxnState::prepare_abort ||
      current->state == TxnState::prepare_epoch_fence) {
    co_return ErrorCode::concurrent_transactions;
  }
  if (current->state == TxnState::dead) co_return ErrorCode::invalid_txn_state;
  TxnMetadata next = *current;
  if (next.state != TxnState::ongoing) {
    next.state = TxnState::ongoing;
    next.partitions.clear();
    next.start_ms = now_ms();
  }
  std::set<TxnPartition> requested(request.partitions.begin(), request.partitions.end());
  bool grows = false;
  for (const TxnPartition& tp : requested) grows |= !next.partitions.contains(tp);
  Busy guard(this, id);
  if (grows || current->state != TxnState::ongoing) {
    next.partitions.insert(requested.begin(), requested.end());
    Status stored = co_await persist(std::move(next));
    if (!stored.ok()) {
      spdlog::warn("AddPartitionsToTxn '{}': {}", id, stored.to_string());
      co_return ErrorCode::coordinator_not_available;
    }
  }
  // The partitions accept the producer's transactional batches from now on (KIP-890); a
  // retried request grants them again (a partition created meanwhile gets it too).
  co_await allow_partitions(owner_, std::move(requested), request.producer_id, request.epoch);
  co_return ErrorCode::none;
}

asio::awaitable<ErrorCode> TxnShard::end(EndRequest request) {
  const std::string& id = request.transactional_id;
  TxnMetadata* current = nullptr;
  ErrorCode refused = check(id, request.producer_id, request.epoch, &current);
  if (refused != ErrorCode::none) co_return refused;
  switch (current->state) {
    case TxnState::ongoing:
      break;
    case TxnState::complete_commit:  // a retried EndTxn whose answer was lost
      co_return request.commit ? ErrorCode::none : ErrorCode::invalid_txn_state;
    case TxnState::complete_abort:
      co_return request.commit ? ErrorCode::invalid_txn_state : ErrorCode::none;
    case TxnState::prepare_commit:
      co_return request.commit ? ErrorCode::concurrent_transactions : ErrorCode::invalid_txn_state;
    case TxnState::prepare_abort:
      co_return request.commit ? ErrorCode::invalid_txn_state : ErrorCode::concurrent_transactions;
    default:
      co_return ErrorCode::invalid_txn_state;
  }
  Busy guard(this, id);
  TxnMetadata next = *current;
  next.state = request.commit ? TxnState::prepare_commit : TxnState::prepare_abort;
  Status stored = co_await persist(std::move(next));
  if (!stored.ok()) {
    spdlog::warn("EndTxn '{}': {}", id, stored.to_string());
    co_return ErrorCode::coordinator_not_available;
  }
  // Decided: whatever happens to the markers now, the outcome stands (a failure is retried).
  co_await complete(id);
  co_return ErrorCode::none;
}

ListResult TxnShard::list() const {
  ListResult result;
  if (!loading_.empty()) {
    result.error = ErrorCode::coordinator_load_in_progress;  // and no list, as Kafka answers
    return result;
  }
  for (const auto& [id, metadata] : txns_) {
    if (metadata.state != TxnState::dead) result.txns.push_back(metadata);
  }
  return result;
}

ErrorCode TxnShard::verify(const std::string& id, ProducerId producer_id,
                           ProducerEpoch epoch) const {
  if (!partitions_.contains(owner_->partition_of(id))) return ErrorCode::not_coordinator;
  if (loading_.contains(owner_->partition_of(id))) return ErrorCode::coordinator_load_in_progress;
  auto it = txns_.find(id);
  if (it == txns_.end() || it->second.producer_id != producer_id) {
    return ErrorCode::invalid_producer_id_mapping;
  }
  return it->second.epoch == epoch ? ErrorCode::none : ErrorCode::producer_fenced;
}

DescribeResult TxnShard::describe(const std::string& id) const {
  DescribeResult result;
  if (!partitions_.contains(owner_->partition_of(id))) {
    result.error = ErrorCode::not_coordinator;
    return result;
  }
  if (loading_.contains(owner_->partition_of(id))) {
    result.error = ErrorCode::coordinator_load_in_progress;
    return result;
  }
  auto it = txns_.find(id);
  if (it == txns_.end() || it->second.state == TxnState::dead) {
    result.error = ErrorCode::transactional_id_not_found;
    return result;
  }
  result.metadata = it->second;
  return result;
}

// ---------------------------------------------------------------------------------------------
// TxnCoordinator

TxnCoordinator::TxnCoordinator(TxnCoordinatorDeps deps, TxnConfig config)
    : deps_(deps), config_(config) {}

TxnCoordinator::~TxnCoordinator() { locals_.clear(); }

std::unique_ptr<TxnCoordinator> TxnCoordinator::open(TxnCoordinatorDeps deps,
                                                     const TopicInfo& topic, TxnConfig config) {
  ASSERT(topic.name == kTransactionStateTopic && topic.partition_count >= 1);
  config.partition_count = topic.partition_count;
  std::unique_ptr<TxnCoordinator> coordinator(new TxnCoordinator(deps, config));
  const net::ShardSet& shards = *deps.shards;
  for (uint32_t s = 0; s < shards.count(); s++) {
    coordinator->locals_.push_back(
        std::make_unique<TxnShard>(coordinator.get(), shards.executor(net::ShardId(s))));
  }
  for (int32_t p = 0; p < config.partition_count; p++) {
    net::ShardId shard = broker::shard_of(kTransactionStateTopic, PartitionId(p), shards.count());
    coordinator->locals_[shard.value()]->assign(p);
  }
  return coordinator;
}

void TxnCoordinator::start() {
  ASSERT(!started_);
  started_ = true;
  std::vector<std::future<void>> loaded;
  for (uint32_t s = 0; s < locals_.size(); s++) {
    TxnShard* local = locals_[s].get();
    loaded.push_back(
        asio::co_spawn(deps_.shards->executor(net::ShardId(s)), local->load(), asio::use_future));
  }
  for (std::future<void>& done : loaded) done.get();
}

void TxnCoordinator::stop() {
  if (!started_ || stopped_) return;
  stopped_ = true;
  std::vector<std::future<void>> done;
  for (uint32_t s = 0; s < locals_.size(); s++) {
    auto promise = std::make_shared<std::promise<void>>();
    done.push_back(promise->get_future());
    TxnShard* local = locals_[s].get();
    deps_.shards->post(net::ShardId(s), [local, promise] {
      local->stop();
      promise->set_value();
    });
  }
  for (auto& future : done) future.wait();
}

int32_t TxnCoordinator::partition_of(std::string_view transactional_id) const {
  return groups::offsets_partition_for(transactional_id, config_.partition_count);
}

net::ShardId TxnCoordinator::shard_for(std::string_view transactional_id) const {
  return broker::shard_of(kTransactionStateTopic, PartitionId(partition_of(transactional_id)),
                          deps_.shards->count());
}

TxnShard& TxnCoordinator::local() const {
  std::optional<net::ShardId> shard = net::ShardSet::current();
  ASSERT(shard.has_value());
  return *locals_[shard->value()];
}

asio::awaitable<InitResult> init_producer_id(const TxnCoordinator* coordinator,
                                             InitRequest request) {
  co_return co_await coordinator->local().init(std::move(request));
}

asio::awaitable<ErrorCode> add_partitions(const TxnCoordinator* coordinator, AddRequest request) {
  co_return co_await coordinator->local().add(std::move(request));
}

asio::awaitable<ErrorCode> end_txn(const TxnCoordinator* coordinator, EndRequest request) {
  co_return co_await coordinator->local().end(std::move(request));
}

asio::awaitable<ErrorCode> verify_producer(const TxnCoordinator* coordinator,
                                           std::string transactional_id, ProducerId producer_id,
                                           ProducerEpoch epoch) {
  co_return coordinator->local().verify(transactional_id, producer_id, epoch);
}

asio::awaitable<ListResult> list_local_txns(const TxnCoordinator* coordinator) {
  co_return coordinator->local().list();
}

asio::awaitable<DescribeResult> describe_txn(const TxnCoordinator* coordinator,
                                             std::string transactional_id) {
  co_return coordinator->local().describe(transactional_id);
}

}  // namespace cairn::broker::txn
