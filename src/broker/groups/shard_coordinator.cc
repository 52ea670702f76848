#include "broker/groups/shard_coordinator.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

#include "broker/groups/offsets_format.h"
#include "broker/partitions/log_await.h"
#include "broker/partitions/transactions.h"
#include "protocol/record_batch.h"

namespace cairn::broker::groups {

namespace {

constexpr uint64_t kReplayReadBytes = 1 << 20;
constexpr size_t kDecompressedBytesMax = 64 << 20;
constexpr int64_t kMaintenanceIntervalMs = 30'000;
}  // namespace

ShardCoordinator::ShardCoordinator(net::ShardId shard, asio::any_io_executor executor,
                                   const CoordinatorOptions& options, PartitionManager* partitions)
    : shard_(shard),
      executor_(executor),
      options_(options),
      partition_manager_(partitions),
      clock_(options.clock != nullptr ? *options.clock : storage::system_clock()),
      manager_(options.config, random_member_ids(),
               [this](const Group& group, std::function<void(ErrorCode)> done) {
                 store_group(group, std::move(done));
               }),
      timer_(executor),
      maintenance_timer_(executor) {}

ShardCoordinator::~ShardCoordinator() = default;

int32_t ShardCoordinator::partition_of(const std::string& group_id) const {
  return offsets_partition_for(group_id, options_.config.offsets_topic_partition_count);
}

ShardCoordinator::OffsetsPartition* ShardCoordinator::usable(int32_t id) {
  auto it = partitions_.find(id);
  if (it == partitions_.end() || it->second.partition == nullptr) return nullptr;
  return it->second.partition->usable() ? &it->second : nullptr;
}

void ShardCoordinator::assign_partition(int32_t id) {
  ASSERT(!partitions_.contains(id));
  partitions_[id];
  manager_.set_loading(id, true);
}

// ---------------------------------------------------------------------------------------------
// Loading

asio::awaitable<void> ShardCoordinator::load() {
  for (auto& [id, p] : partitions_) {
    p.partition = partition_manager_->find(kOffsetsTopic, PartitionId(id));
    Status health = p.partition == nullptr ? error(StatusCode::not_found, "no such partition")
                                           : p.partition->health();
    if (!health.ok()) {
      // Its groups keep answering COORDINATOR_LOAD_IN_PROGRESS: serving them without their
      // stored offsets would hand out wrong positions.
      spdlog::error("{}-{}: cannot serve its groups: {}", kOffsetsTopic, id, health.to_string());
      continue;
    }
    co_await load_partition(id);
  }
  if (!stopping_ && !manager_.any_loading() && options_.progress != nullptr) {
    options_.progress->group_shard_loaded();
  }
  schedule_maintenance();
}

asio::awaitable<void> ShardCoordinator::load_partition(int32_t id) {
  // Hold the partition across the suspensions below.
  std::shared_ptr<Partition> partition = partitions_.at(id).partition;
  storage::Log& log = *partition->log;
  Offset offset = log.log_start_offset();
  size_t batches = 0;
  // Up to the end as it is when the replay catches up, not as it was when it began: the
  // transaction coordinator may append markers meanwhile, and they must be replayed too.
  while (offset < log.log_end_offset() && !stopping_) {
    const Offset end = log.log_end_offset();
    Result<storage::ReadResult> read = log.read(offset, kReplayReadBytes, end);
    Result<std::vector<uint8_t>> bytes =
        read.ok() ? log.copy(*read) : Result<std::vector<uint8_t>>(read.status());
    Status replayed = bytes.ok() ? replay_batches(id, *bytes) : bytes.status();
    if (!replayed.ok()) {
      // Serving this partition's groups from a partial replay could hand out stale offsets:
      // its groups keep answering COORDINATOR_LOAD_IN_PROGRESS until an operator steps in.
      spdlog::error("{}-{}: replay stopped at offset {}: {}", kOffsetsTopic, id, offset.value(),
                    replayed.to_string());
      co_return;
    }
    if (read->empty()) break;
    batches += read->batch_count;
    offset = read->next_offset;
    // Let the shard serve other work between chunks.
    co_await asio::post(executor_, asio::use_awaitable);
  }
  if (stopping_) co_return;
  restore_consumer_groups(id);
  manager_.set_loading(id, false);
  spdlog::info("{}-{}: loaded {} batches up to offset {}", kOffsetsTopic, id, batches,
               offset.value());
  rearm();
}

Status ShardCoordinator::replay_batches(int32_t id, std::span<const uint8_t> bytes) {
  protocol::BatchSplitter splitter(bytes);
  while (std::optional<model::RecordBatchView> batch = splitter.next()) {
    if (batch->is_control()) {
      // A transaction's marker: its pending offset commits here become committed, or go.
      Result<TxnMarker> marker = decode_marker_batch(*batch);
      if (marker.ok()) {
        manager_.complete_txn_offsets(id, batch->producer_id(), marker->commit, now_ms());
      }
      continue;
    }
    std::optional<ProducerId> producer;
    if (batch->is_transactional()) producer = batch->producer_id();
    Result<protocol::BatchRecords> records =
        protocol::BatchRecords::open(*batch, kDecompressedBytesMax);
    if (!records.ok()) return records.status();
    protocol::RecordReader reader = records->reader();
    protocol::Record record;
    while (reader.next(&record)) {
      if (!record.key.has_value()) continue;  // not one of ours; Kafka skips these too
      apply_record(id, record.offset, *record.key, record.value, producer);
    }
    RETURN_IF_ERROR(reader.status());
  }
  RETURN_IF_ERROR(splitter.status());
  return Status();
}

void ShardCoordinator::apply_record(int32_t partition, Offset offset,
                                    std::span<const uint8_t> key_bytes,
                                    std::optional<std::span<const uint8_t>> value,
                                    std::optional<ProducerId> producer) {
  Result<OffsetsRecordKey> key = decode_offsets_key(key_bytes);
  if (!key.ok()) {
    spdlog::warn("{}: skipping record at offset {}: {}", kOffsetsTopic, offset.value(),
                 key.status().to_string());
    return;
  }
  if (const auto* commit = std::get_if<OffsetCommitKey>(&*key)) {
    if (!value.has_value()) return manager_.apply_offset_tombstone(commit->group_id, commit->key);
    Result<CommittedOffset> committed = decode_offset_commit_value(*value);
    if (!committed.ok()) {
      spdlog::warn("{}: skipping offset commit at offset {}: {}", kOffsetsTopic, offset.value(),
                   committed.status().to_string());
      return;
    }
    committed->record_offset = offset;
    if (producer.has_value()) {
      return manager_.add_pending_txn_offset(partition, *producer, commit->group_id, commit->key,
                                             std::move(*committed));
    }
    return manager_.apply_offset_commit(commit->group_id, commit->key, std::move(*committed),
                                        now_ms());
  }
  if (const auto* consumer = std::get_if<ConsumerGroupKey>(&*key)) {
    return apply_consumer_record(*consumer, key_bytes, value);
  }
  const std::string& group_id = std::get<GroupMetadataKey>(*key).group_id;
  if (!value.has_value()) {
    return manager_.restore_group_tombstone(group_id);
  }
  Result<Group> group = decode_group_metadata_value(group_id, *value);
  if (!group.ok()) {
    spdlog::warn("{}: skipping group metadata of '{}' at offset {}: {}", kOffsetsTopic, group_id,
                 offset.value(), group.status().to_string());
    return;
  }
  manager_.restore_group(std::move(group).value(), now_ms());
}

// ---------------------------------------------------------------------------------------------
// Appends

Result<storage::AppendResult> ShardCoordinator::append(int32_t id,
                                                       const std::vector<OffsetsRecord>& records,
                                                       std::optional<InternalProducer> producer) {
  ASSERT(!records.empty());
  OffsetsPartition* p = usable(id);
  if (p == nullptr) {
    return error(StatusCode::not_found,
                 std::string(kOffsetsTopic) + "-" + std::to_string(id) + " is not available");
  }
  return append_internal(*p->partition, records, TimestampMs(now_ms()), producer);
}

bool ShardCoordinator::producer_fenced(int32_t id, ProducerId producer_id, ProducerEpoch epoch) {
  OffsetsPartition* p = usable(id);
  return p != nullptr && !p->partition->producers.marker_allowed(producer_id, epoch);
}

bool ShardCoordinator::in_transaction(int32_t id, ProducerId producer_id, ProducerEpoch epoch) {
  OffsetsPartition* p = usable(id);
  return p != nullptr && p->partition->producers.transaction_allowed(producer_id, epoch);
}

asio::awaitable<Status> ShardCoordinator::wait_durable(int32_t id, Offset offset) {
  std::shared_ptr<Partition> partition = partitions_.at(id).partition;
  if (partition == nullptr || !partition->usable()) {
    co_return error(StatusCode::shutting_down, "partition closed");
  }
  co_return co_await await_durable(*partition->log, offset);
}

asio::awaitable<Result<Offset>> ShardCoordinator::append_durable(
    int32_t id, std::vector<OffsetsRecord> records, std::optional<InternalProducer> producer,
    std::function<void(Offset)> on_appended) {
  Result<storage::AppendResult> appended = append(id, records, producer);
  if (!appended.ok()) co_return appended.status();
  if (on_appended) on_appended(appended->base_offset);
  Status durable = co_await wait_durable(id, appended->last_offset);
  if (!durable.ok()) co_return durable;
  co_return appended->base_offset;
}

// The manager's StoreGroupFn: a GroupMetadata record, answered once durable. A group that was
// a consumer group gets its consumer records' tombstones in the same batch, before it: replay
// must not meet them after the classic record.
void ShardCoordinator::store_group(const Group& group, std::function<void(ErrorCode)> done) {
  int32_t id = partition_of(group.group_id);
  ASSERT(!group.is_consumer_protocol());
  ConsumerChanges changes = consumer_group_changes(group.group_id, nullptr);
  std::vector<OffsetsRecord> records = std::move(changes.records);
  records.push_back(
      {encode_group_metadata_key(group.group_id), encode_group_metadata_value(group, now_ms())});
  Result<storage::AppendResult> appended = append(id, records);
  if (!appended.ok()) {
    spdlog::warn("{}-{}: storing group '{}' failed: {}", kOffsetsTopic, id, group.group_id,
                 appended.status().to_string());
    return done(ErrorCode::coordinator_not_available);
  }
  consumer_changes_appended(group.group_id, {}, appended->last_offset);
  asio::co_spawn(executor_, finish_store(id, appended->last_offset, std::move(done)),
                 asio::detached);
}

asio::awaitable<void> ShardCoordinator::finish_store(int32_t id, Offset last,
                                                     std::function<void(ErrorCode)> done) {
  Status durable = co_await wait_durable(id, last);
  done(durable.ok() ? ErrorCode::none : ErrorCode::coordinator_not_available);
  rearm();
}

// ---------------------------------------------------------------------------------------------
// The consumer group protocol's records

void ShardCoordinator::apply_consumer_record(const ConsumerGroupKey& key,
                                             std::span<const uint8_t> key_bytes,
                                             std::optional<std::span<const uint8_t>> value) {
  std::vector<uint8_t> key_copy(key_bytes.begin(), key_bytes.end());
  if (value.has_value()) {
    consumer_records_[key.group_id].image[std::move(key_copy)].assign(value->begin(), value->end());
    return;
  }
  auto it = consumer_records_.find(key.group_id);
  if (it == consumer_records_.end()) return;
  it->second.image.erase(key_copy);
  if (it->second.image.empty()) consumer_records_.erase(it);
}

void ShardCoordinator::restore_consumer_groups(int32_t partition) {
  for (const auto& [group_id, records] : consumer_records_) {
    if (partition_of(group_id) != partition) continue;
    Result<ConsumerGroupImage> image = decode_consumer_group(group_id, records.image);
    if (!image.ok()) {
      // not_found: records of a member left behind without their group; nothing to serve.
      if (image.status().code() != StatusCode::not_found) {
        spdlog::warn("{}-{}: consumer group '{}' not restored: {}", kOffsetsTopic, partition,
                     group_id, image.status().to_string());
      }
      continue;
    }
    manager_.restore_consumer_group(group_id, std::move(image).value(), now_ms());
  }
}

ShardCoordinator::ConsumerChanges ShardCoordinator::consumer_group_changes(
    const std::string& group_id, const TopicIdFn& topic_ids) const {
  ConsumerChanges changes;
  const Group* group = manager_.find_group(group_id);
  if (group != nullptr && group->is_consumer_protocol()) {
    ASSERT(topic_ids != nullptr);
    changes.image = encode_consumer_group(group_id, group->consumer->image(), topic_ids);
  }
  static const RecordImage kNone;
  auto it = consumer_records_.find(group_id);
  const RecordImage& before = it == consumer_records_.end() ? kNone : it->second.image;
  for (const auto& [key, value] : before) {
    if (!changes.image.contains(key)) changes.records.push_back({key, std::nullopt});
  }
  for (const auto& [key, value] : changes.image) {
    auto old = before.find(key);
    if (old == before.end() || old->second != value) changes.records.push_back({key, value});
  }
  return changes;
}

void ShardCoordinator::consumer_changes_appended(const std::string& group_id, RecordImage image,
                                                 Offset last) {
  if (image.empty()) {
    consumer_records_.erase(group_id);
    return;
  }
  ConsumerRecords& records = consumer_records_[group_id];
  records.image = std::move(image);
  records.last_appended = last;
}

asio::awaitable<Status> ShardCoordinator::persist_consumer_group(std::string group_id,
                                                                 TopicIdFn topic_ids) {
  const int32_t id = partition_of(group_id);
  // While the partition replays, the group is not rebuilt yet (restore runs at the end of the
  // load): a diff now would tombstone every record the replay just read. Nothing was changed.
  if (manager_.is_loading(group_id)) co_return Status();
  ConsumerChanges changes = consumer_group_changes(group_id, topic_ids);
  std::optional<Offset> wait_for;
  if (!changes.records.empty()) {
    Result<storage::AppendResult> appended = append(id, changes.records);
    if (!appended.ok()) co_return appended.status();
    consumer_changes_appended(group_id, std::move(changes.image), appended->last_offset);
    wait_for = appended->last_offset;
  } else if (auto it = consumer_records_.find(group_id); it != consumer_records_.end()) {
    // Nothing new, but what this answer repeats may still be on its way to the disk.
    wait_for = it->second.last_appended;
  }
  if (!wait_for.has_value()) co_return Status();
  co_return co_await wait_durable(id, *wait_for);
}

// ---------------------------------------------------------------------------------------------
// Timers

void ShardCoordinator::rearm() {
  if (stopping_) return;
  std::optional<int64_t> next = manager_.next_deadline_ms();
  if (!next.has_value()) return;
  if (armed_deadline_ms_.has_value() && *armed_deadline_ms_ <= *next) return;
  armed_deadline_ms_ = *next;
  // +1: fire just after the deadline, so advance() finds it due.
  int64_t delay_ms = std::max<int64_t>(0, *next - now_ms()) + 1;
  timer_.expires_after(std::chrono::milliseconds(delay_ms));
  timer_.async_wait([this](std::error_code error) {
    if (error || stopping_) return;  // re-armed earlier (cancelled), or stopping
    armed_deadline_ms_.reset();
    manager_.advance(now_ms());
    rearm();
  });
}

void ShardCoordinator::schedule_maintenance() {
  if (stopping_) return;
  maintenance_timer_.expires_after(std::chrono::milliseconds(kMaintenanceIntervalMs));
  maintenance_timer_.async_wait([this](std::error_code error) {
    if (error || stopping_) return;
    run_maintenance();
    schedule_maintenance();
  });
}

void ShardCoordinator::run_maintenance() {
  if (now_ms() - last_expiry_ms_ >= options_.config.offsets_retention_check_interval_ms) {
    last_expiry_ms_ = now_ms();
    expire_offsets();
  }
}

void ShardCoordinator::expire_offsets() {
  std::map<int32_t, std::vector<OffsetsRecord>> tombstones;
  std::map<int32_t, std::vector<std::string>> removed_consumer;  // groups whose records go
  for (GroupManager::Expired& expired : manager_.expire_offsets(now_ms())) {
    std::vector<OffsetsRecord>& records = tombstones[partition_of(expired.group_id)];
    for (const TopicPartitionKey& key : expired.keys) {
      records.push_back({encode_offset_commit_key(expired.group_id, key), std::nullopt});
    }
    if (expired.group_removed) {
      records.push_back({encode_group_metadata_key(expired.group_id), std::nullopt});
      ConsumerChanges consumer = consumer_group_changes(expired.group_id, nullptr);
      records.insert(records.end(), consumer.records.begin(), consumer.records.end());
      if (!consumer.records.empty())
        removed_consumer[partition_of(expired.group_id)].push_back(expired.group_id);
    }
  }
  for (auto& [id, records] : tombstones) {
    if (records.empty()) continue;
    // Lost in a crash, a tombstone is simply written again by the next expiry run.
    Result<storage::AppendResult> appended = append(id, records);
    if (!appended.ok()) {
      spdlog::warn("{}-{}: expiry tombstones: {}", kOffsetsTopic, id,
                   appended.status().to_string());
      continue;
    }
    for (const std::string& group_id : removed_consumer[id]) {
      consumer_changes_appended(group_id, {}, appended->last_offset);
    }
  }
}

void ShardCoordinator::stop() {
  stopping_ = true;
  timer_.cancel();
  maintenance_timer_.cancel();
  // Parked JoinGroups and SyncGroups would otherwise keep their connections' shards busy.
  manager_.fail_waiting_requests(ErrorCode::not_coordinator);
  // The logs stay open: the PartitionManager closes them with every other log.
}

}  // namespace cairn::broker::groups
