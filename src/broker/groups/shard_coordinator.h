// ShardCoordinator: the part of the GroupCoordinator (coordinator.h) that lives on one shard —
// that shard's GroupManager, the __consumer_offsets partitions the shard owns (their Partitions
// and logs belong to the PartitionManager, like every topic's; the coordinator appends to them
// and replays them), the group timer (armed for the manager's next deadline) and the
// maintenance timer (offset expiry). The broker's cleaner compacts the logs.
//
// Thread safety: constructed and assigned its partitions on the main thread before the shard
// runs; from then on every member function runs on the shard's thread, except that storage
// callbacks (on flusher threads) are posted back to it (net::await_callback).
#pragma once

#include <asio.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"
#include "base/types.h"
#include "broker/groups/consumer_group_records.h"
#include "broker/groups/coordinator.h"
#include "broker/groups/group_manager.h"
#include "broker/groups/offsets_format.h"
#include "broker/partitions/internal_append.h"
#include "broker/partitions/partition_manager.h"
#include "net/await_callback.h"
#include "net/shard_set.h"
#include "storage/clock.h"
#include "storage/log.h"

namespace cairn::broker::groups {

// One record of __consumer_offsets (offsets_format.h); no value is a tombstone.
using OffsetsRecord = InternalRecord;

class ShardCoordinator {
 public:
  ShardCoordinator(net::ShardId shard, asio::any_io_executor executor,
                   const CoordinatorOptions& options, PartitionManager* partitions);
  ~ShardCoordinator();
  ShardCoordinator(const ShardCoordinator&) = delete;
  ShardCoordinator& operator=(const ShardCoordinator&) = delete;

  // --- main thread, before the shard runs ---
  // Makes this shard the coordinator of the partition's groups; they answer
  // COORDINATOR_LOAD_IN_PROGRESS until load() has replayed it.
  void assign_partition(int32_t partition);

  // --- shard thread ---
  // Replays every assigned partition (the PartitionManager opened their logs). A partition
  // whose log is unusable or does not replay keeps its groups loading, and says so in the log.
  asio::awaitable<void> load();
  void stop();

  GroupManager& manager() { return manager_; }
  int64_t now_ms() const { return clock_.now_ms(); }
  int32_t partition_of(const std::string& group_id) const;
  // Re-arms the group timer for the manager's next deadline; call after every manager call.
  void rearm();

  // Appends `records` to the partition as one batch and waits until it is fsynced. Returns the
  // offset of the first record. Errors: the log's (io_error, no_space, shutting_down), or
  // not_found if the partition's log is not usable.
  // With `producer`: a transactional batch of that producer (TxnOffsetCommit).
  // `on_appended` (if set) runs with the first offset once appended, before the wait.
  asio::awaitable<Result<Offset>> append_durable(int32_t partition,
                                                 std::vector<OffsetsRecord> records,
                                                 std::optional<InternalProducer> producer = {},
                                                 std::function<void(Offset)> on_appended = nullptr);
  // Whether a marker of a newer epoch of the producer already reached the partition (a
  // TxnOffsetCommit of this epoch comes from a fenced zombie).
  bool producer_fenced(int32_t partition, ProducerId producer_id, ProducerEpoch epoch);
  // Whether the transaction coordinator added the partition to (producer, epoch)'s open
  // transaction (AddOffsetsToTxn).
  bool in_transaction(int32_t partition, ProducerId producer_id, ProducerEpoch epoch);
  // Offset expiry (every offsets_retention_check_interval_ms); runs on
  // the maintenance timer, and tests call it directly.
  void run_maintenance();

  // The consumer group protocol's records (KIP-848): brings the group's records in the
  // partition in line with the group as it is now (tombstones for all of them once it is gone
  // or classic) and waits until they, and any earlier write of the group, are durable.
  // `topic_ids` names the topics of a consumer group's assignments; unused for a group that
  // is gone. Errors as append_durable's.
  asio::awaitable<Status> persist_consumer_group(std::string group_id, TopicIdFn topic_ids);
  // The records persist_consumer_group would write, and the group's record image after them.
  struct ConsumerChanges {
    std::vector<OffsetsRecord> records;
    RecordImage image;
  };
  ConsumerChanges consumer_group_changes(const std::string& group_id,
                                         const TopicIdFn& topic_ids) const;
  // The changes were appended (the last of them at `last`).
  void consumer_changes_appended(const std::string& group_id, RecordImage image, Offset last);

  // Appends without waiting (records whose loss in a crash is harmless: expiry tombstones).
  Result<storage::AppendResult> append(int32_t partition, const std::vector<OffsetsRecord>& records,
                                       std::optional<InternalProducer> producer = {});

 private:
  struct OffsetsPartition {
    // Set by load() from the PartitionManager; null until then (or if it has no such
    // partition). Its log is usable while the broker runs: internal topics are never deleted.
    std::shared_ptr<Partition> partition;
  };

  // The assigned partition whose log is usable, or null.
  OffsetsPartition* usable(int32_t id);
  asio::awaitable<Status> wait_durable(int32_t partition, Offset offset);
  asio::awaitable<void> load_partition(int32_t partition);
  Status replay_batches(int32_t partition, std::span<const uint8_t> bytes);
  // `producer`: the record is a transactional offset commit of that producer (pending).
  void apply_record(int32_t partition, Offset offset, std::span<const uint8_t> key,
                    std::optional<std::span<const uint8_t>> value,
                    std::optional<ProducerId> producer);

  void apply_consumer_record(const ConsumerGroupKey& key, std::span<const uint8_t> key_bytes,
                             std::optional<std::span<const uint8_t>> value);
  // End of a partition's replay: its consumer groups are built from their records.
  void restore_consumer_groups(int32_t partition);

  void store_group(const Group& group, std::function<void(ErrorCode)> done);
  asio::awaitable<void> finish_store(int32_t partition, Offset last,
                                     std::function<void(ErrorCode)> done);

  void schedule_maintenance();
  void expire_offsets();

  net::ShardId shard_;
  asio::any_io_executor executor_;
  const CoordinatorOptions& options_;
  PartitionManager* partition_manager_;
  storage::Clock& clock_;
  GroupManager manager_;
  std::map<int32_t, OffsetsPartition> partitions_;
  // The consumer groups' records as the partitions hold them (replayed, then appended), by
  // group id: what a change is diffed against, and what a tombstone must cover.
  struct ConsumerRecords {
    RecordImage image;
    std::optional<Offset> last_appended;  // the group's latest write since the start
  };
  std::map<std::string, ConsumerRecords> consumer_records_;
  asio::steady_timer timer_;
  std::optional<int64_t> armed_deadline_ms_;
  asio::steady_timer maintenance_timer_;
  int64_t last_expiry_ms_ = 0;
  bool stopping_ = false;
};

}  // namespace cairn::broker::groups
