// ShardCoordinator: the part of the GroupCoordinator (coordinator.h) that lives on one shard —
// that shard's GroupManager, the __consumer_offsets partitions it owns (their Logs), the group
// timer (armed for the manager's next deadline) and the maintenance timer (offset expiry,
// rewriting the logs' live state).
//
// Thread safety: constructed and opened on the main thread before the shard runs; from then
// on every member function runs on the shard's thread, except that storage callbacks (on
// flusher threads) are posted back to it.
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
#include "broker/groups/coordinator.h"
#include "broker/groups/group_manager.h"
#include "net/shard_set.h"
#include "storage/clock.h"
#include "storage/log.h"

namespace cairn::broker::groups {

// One record of __consumer_offsets (offsets_format.h); no value is a tombstone.
struct OffsetsRecord {
  std::vector<uint8_t> key;
  std::optional<std::vector<uint8_t>> value;
};

class ShardCoordinator {
 public:
  ShardCoordinator(net::ShardId shard, asio::any_io_executor executor,
                   const CoordinatorOptions& options, storage::Flusher* flusher);
  ~ShardCoordinator();
  ShardCoordinator(const ShardCoordinator&) = delete;
  ShardCoordinator& operator=(const ShardCoordinator&) = delete;

  // --- main thread, before the shard runs ---
  // Opens the partition's log in data_dir/__consumer_offsets-<partition>; its groups answer
  // COORDINATOR_LOAD_IN_PROGRESS until load() has replayed it.
  Status open_partition(int32_t partition);

  // --- shard thread ---
  asio::awaitable<void> load();
  void stop();

  GroupManager& manager() { return manager_; }
  int64_t now_ms() const { return clock_.now_ms(); }
  int32_t partition_of(const std::string& group_id) const;
  // Re-arms the group timer for the manager's next deadline; call after every manager call.
  void rearm();

  // Suspends until `start`'s callback is called, then resumes on this shard with its value.
  template <typename T, typename Start>
  asio::awaitable<T> await_callback(Start start) {
    asio::any_io_executor executor = executor_;
    co_return co_await asio::async_initiate<decltype(asio::use_awaitable), void(T)>(
        [executor, &start](auto handler) {
          auto shared = std::make_shared<decltype(handler)>(std::move(handler));
          start(std::function<void(T)>([executor, shared](T value) {
            asio::post(executor, [shared, value = std::move(value)]() mutable {
              std::move (*shared)(std::move(value));
            });
          }));
        },
        asio::use_awaitable);
  }

  // Appends `records` to the partition as one batch and waits until it is fsynced. Returns the
  // offset of the first record. Errors: the log's (io_error, no_space, shutting_down).
  asio::awaitable<Result<Offset>> append_durable(int32_t partition,
                                                 std::vector<OffsetsRecord> records);
  // A deleted group's last GroupMetadata is no longer live (compaction must not rewrite it).
  void forget_stored_metadata(const std::string& group_id) { stored_metadata_.erase(group_id); }
  // Offset expiry (every offsets_retention_check_interval_ms) and compaction checks; runs on
  // the maintenance timer, and tests call it directly.
  void run_maintenance();

  // Appends without waiting (records whose loss in a crash is harmless: expiry tombstones).
  Result<storage::AppendResult> append(int32_t partition,
                                       const std::vector<OffsetsRecord>& records);

 private:
  struct Partition {
    std::unique_ptr<storage::Log> log;
    uint64_t bytes_after_compaction = 0;
    uint32_t appends_in_flight = 0;  // appended, durability not yet reported
    bool compacting = false;
  };

  Partition* partition(int32_t id);
  asio::awaitable<Status> wait_durable(int32_t partition, Offset offset);
  asio::awaitable<void> load_partition(int32_t partition);
  Status replay_batches(std::span<const uint8_t> bytes);
  void apply_record(Offset offset, std::span<const uint8_t> key,
                    std::optional<std::span<const uint8_t>> value);

  void store_group(const Group& group, std::function<void(ErrorCode)> done);
  asio::awaitable<void> finish_store(int32_t partition, Offset last,
                                     std::function<void(ErrorCode)> done);

  void schedule_maintenance();
  void expire_offsets();
  void maybe_compact(int32_t partition);
  asio::awaitable<void> finish_compaction(int32_t partition, Offset new_start, Offset last);

  net::ShardId shard_;
  asio::any_io_executor executor_;
  const CoordinatorOptions& options_;
  storage::Flusher* flusher_;
  storage::Clock& clock_;
  GroupManager manager_;
  std::map<int32_t, Partition> partitions_;
  // The last GroupMetadata value stored per group (what a compaction rewrites).
  std::map<std::string, std::vector<uint8_t>> stored_metadata_;
  asio::steady_timer timer_;
  std::optional<int64_t> armed_deadline_ms_;
  asio::steady_timer maintenance_timer_;
  int64_t last_expiry_ms_ = 0;
  bool stopping_ = false;
};

}  // namespace cairn::broker::groups
