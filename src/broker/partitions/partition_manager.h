// PartitionManager: every partition this broker hosts, each owned by one shard (shard_map.h).
//
// Per shard it keeps the map topic -> partition -> Partition (its storage::Log, idempotent
// producer state, waiting Fetches; partition.h), a retention timer that calls
// Log::apply_retention on that shard's logs every retention_check_interval, and (unless
// cleaner_enabled is false) a cleaner loop that compacts the shard's cleanup.policy=compact
// logs (docs/compaction.md) in steps of cleaner_step_bytes, yielding to the event loop between
// steps. A partition lives
// in DATA_DIR/<topic>-<partition>/ (Kafka's layout) beside a `topic_id` file naming the topic
// incarnation it belongs to; a directory whose topic_id does not match the registry (left by
// a deleted topic of the same name) is wiped before use.
//
// Threads:
// - open() and close() run on the main thread while no shard runs (before start / after join).
// - find() and local_partitions() run on the shard that owns the partitions (ASSERTed).
// - The awaitable operations run on any shard: they hop to each owning shard (ShardSet::run_on)
//   and resume on the caller's shard. They take their arguments by value. What they write to
//   disk outside a Log (topics.json, a partition's directory and topic_id file, removing a
//   deleted partition) runs on the MetaWriter's thread, so a slow disk never stalls a shard.
//
// Using it from a handler (admin APIs, auto-creation):
//
//   PartitionManager& pm = *ctx.broker->partitions;
//   Result<TopicInfo> t = co_await pm.create_topic(*ctx.broker->topics, name, 3, configs);
//   Status s = co_await pm.delete_topic(name, id);             // after TopicRegistry::remove
//   Status s = co_await pm.create_partitions(info, old_count); // after set_partition_count
//   Status s = co_await pm.apply_config(info);                 // after set_configs
//   Result<Offset> low = co_await pm.delete_records("t", PartitionId(0), Offset(42));
//   Result<PartitionOffsets> o = co_await pm.offsets("t", PartitionId(0));
//
// Errors: not_found (no such partition here), out_of_range (DeleteRecords past the high
// watermark), invalid_argument (a topic config that does not parse), io_error / no_space /
// fenced / corrupt from storage (KAFKA_STORAGE_ERROR at the wire edge: kafka_error in
// error_code.h).
#pragma once

#include <asio.hpp>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "base/types.h"
#include "broker/meta_writer.h"
#include "broker/partitions/cleaner_stats.h"
#include "broker/partitions/partition.h"
#include "broker/partitions/partition_config.h"
#include "broker/topics/topic_registry.h"
#include "net/shard_set.h"
#include "storage/clock.h"
#include "storage/flusher.h"
#include "storage/io.h"

namespace cairn::broker {

// How a topic's configuration becomes the PartitionConfig its partitions enforce: the server
// installs configs::partition_resolver (the config catalog). Called on the main thread (open)
// and on shard threads (create, apply_config); must be thread-safe.
using ConfigResolver = std::function<Result<PartitionConfig>(const TopicInfo& topic)>;

struct PartitionManagerOptions {
  std::filesystem::path data_dir;
  ConfigResolver resolver;  // required
  const net::ShardSet* shards = nullptr;
  // Where registry writes and partition directories are created and deleted (required once
  // the shards run: create_topic, create_partitions, delete_topic).
  MetaWriter* meta_writer = nullptr;
  storage::Flusher* flusher = nullptr;
  storage::Clock* clock = nullptr;  // null: the system clock
  // Every file the manager and its logs touch (segments, topic_id, producer snapshots,
  // directories). null: storage::posix_io(); the fault tests pass a testing::FaultIo.
  storage::Io* io = nullptr;
  // log.retention.check.interval.ms (Kafka's default: 5 minutes).
  std::chrono::milliseconds retention_check_interval{300'000};
  // Compaction, per shard (the server sets them from the log.cleaner.* broker configs,
  // configs::set_cleaner_options): whether the cleaner loops run at all, how often a shard
  // looks for logs to clean, the bytes one step may read before the shard yields, the bytes
  // the shard's cleaner may read and write per second (0: unthrottled) and its key table per
  // run.
  bool cleaner_enabled = true;
  std::chrono::milliseconds cleaner_check_interval{15'000};
  uint64_t cleaner_step_bytes = 512 << 10;
  uint64_t cleaner_bytes_per_second = 0;
  uint64_t cleaner_key_map_bytes = 16 << 20;
  // The broker hosts at most this many partitions (every topic's, internal ones included)
  // per shard: creations past it are refused (admit_partitions). 0: no ceiling but the open
  // files limit.
  uint64_t max_partitions_per_shard = 0;
  // Descriptors kept free for connections and the event loops: a creation that would leave
  // fewer is refused, and at startup a log that would is not opened (that partition answers
  // KAFKA_STORAGE_ERROR; the others serve).
  uint64_t open_files_reserve = 256;
};

// Descriptors one partition holds per segment: its .log, .index and .timeindex.
inline constexpr uint64_t kFilesPerSegment = 3;

// Main thread, before PartitionManager::open: writes `topic`'s id into every existing
// DATA_DIR/<topic>-<partition> directory that has no topic_id file, so that open() keeps its
// log instead of wiping it as another incarnation's. For data directories from before an
// internal topic was in the registry (__consumer_offsets); never for user topics, whose
// id-less directories may be half-deleted ones.
Status adopt_partition_dirs(storage::Io& io, const std::filesystem::path& data_dir,
                            const TopicInfo& topic);

struct PartitionOffsets {
  Offset log_start_offset;
  Offset high_watermark;  // = log end offset (partition.h)
  Offset last_stable_offset;
};

// One partition's numbers at one moment (PartitionManager::partition_samples).
struct PartitionSample {
  std::string topic;
  PartitionId partition;
  uint64_t size_bytes = 0;  // every segment's .log bytes
  size_t segment_count = 0;
  Offset log_start_offset{-1};
  Offset high_watermark{-1};
};

class PartitionManager {
 public:
  // Main thread, before the shards run: opens (recovering if needed) the log of every
  // partition of every topic in `topics` and rebuilds its producer state. A partition whose
  // log cannot be opened stays present with its error (KAFKA_STORAGE_ERROR to clients); only
  // errors that make the whole data directory unusable fail open().
  static Result<std::unique_ptr<PartitionManager>> open(PartitionManagerOptions options,
                                                        const TopicTable& topics);
  ~PartitionManager();
  PartitionManager(const PartitionManager&) = delete;
  PartitionManager& operator=(const PartitionManager&) = delete;

  // Main thread, once the shards run: starts the retention timers and the cleaner loops.
  void start();
  // Any thread, when the broker begins to stop (before ShardSet::request_stop): ends the
  // retention timers and wakes every waiting Fetch so the shards can drain.
  void stop();
  bool stopping() const { return stopping_.load(); }
  // Main thread, after the shards have joined: closes every log cleanly (fsync, clean-stop
  // marker) and saves producer-state snapshots. Returns the first error. Idempotent.
  Status close();

  // ---- any shard ----
  // Whether `added` more partitions fit: at most max_partitions in all (counted from
  // `topics`), and open files for their first segments with open_files_reserve to spare.
  // too_large (POLICY_VIOLATION) saying which limit and how to raise it. Checked before
  // anything is created; a rough bound (concurrent creations may both pass).
  Status admit_partitions(const TopicTable& topics, int64_t added) const;
  // Registers the topic (TopicRegistry::create, durable) and creates its partitions' logs,
  // after admit_partitions.
  // already_exists from the registry is returned as is (the logs are the creator's job).
  asio::awaitable<Result<TopicInfo>> create_topic(TopicRegistry* registry, std::string name,
                                                  int32_t partition_count, TopicConfigs configs);
  // Creates empty logs for partitions [first_partition, topic.partition_count) on their
  // owning shards (for a new topic: 0; after CreatePartitions: the old count). Partitions
  // that already exist are left alone.
  asio::awaitable<Status> create_partitions(TopicInfo topic, int32_t first_partition);
  // Closes and deletes every log of incarnation `topic_id` of `topic` (call after
  // TopicRegistry::remove); a newer incarnation of the name is left alone. Fetches waiting on
  // it wake up and see UNKNOWN_TOPIC_OR_PARTITION.
  asio::awaitable<Status> delete_topic(std::string topic, protocol::Uuid topic_id);
  // Re-resolves the topic's config (resolve(topic)) and applies it to every partition's log
  // (Log::set_config) and produce checks. After a change of broker-wide defaults, call it for
  // every topic.
  asio::awaitable<Status> apply_config(TopicInfo topic);
  // DeleteRecords: moves the log start offset up to `offset` (Offset(-1): the high watermark)
  // and waits until that is durable. Returns the new log start offset (the low watermark).
  // An offset below the current start changes nothing. out_of_range if above the high
  // watermark or below -1.
  asio::awaitable<Result<Offset>> delete_records(std::string topic, PartitionId partition,
                                                 Offset offset);
  asio::awaitable<Result<PartitionOffsets>> offsets(std::string topic, PartitionId partition);

  // ---- the owning shard only ----
  // The partition, or null if this broker has no such partition (or partition < 0).
  // REQUIRES: the calling thread is the partition's owning shard.
  std::shared_ptr<Partition> find(std::string_view topic, PartitionId partition) const;
  // The cleaner's counters and gauges on the calling shard (cleaner_stats.h); a metrics
  // endpoint hops to each shard for its copy. REQUIRES: the calling thread is a shard.
  CleanerShardStats cleaner_stats() const;
  // Size and offsets of every partition with an open log on the calling shard, for /metrics
  // (the metrics collector hops to each shard for its list). REQUIRES: on a shard thread.
  std::vector<PartitionSample> partition_samples() const;

  // ---- any thread ----
  net::ShardId shard_of(std::string_view topic, PartitionId partition) const;
  // The config `topic` resolves to now (options.resolver). invalid_argument if it does not.
  Result<PartitionConfig> resolve(const TopicInfo& topic) const;
  storage::Clock& clock() const { return *clock_; }
  // When this PartitionManager was created (ms since the epoch): the broker's start, for
  // records appended before it (lag_times.h).
  int64_t started_ms() const { return started_ms_; }
  const std::filesystem::path& data_dir() const { return options_.data_dir; }

 private:
  struct ShardPartitions;
  explicit PartitionManager(PartitionManagerOptions options);

  ShardPartitions& shard_state(net::ShardId shard) const;
  ShardPartitions& local() const;
  std::filesystem::path partition_dir(std::string_view topic, PartitionId partition) const;
  // Opens (creating or wiping a stale directory first) one partition's log on the calling
  // thread (the main thread in open(), the MetaWriter's later), and rebuilds its producer
  // state. The partition is then handed to its shard.
  // One left unopened at startup for want of open files: present, with its error.
  std::shared_ptr<Partition> unopened_partition(const TopicInfo& topic, PartitionId partition,
                                                const PartitionConfig& config, uint64_t in_use,
                                                uint64_t limit);
  std::shared_ptr<Partition> open_partition(const TopicInfo& topic, PartitionId partition,
                                            const PartitionConfig& config);
  // Reserves (with a being_created placeholder) the partitions of `partitions` this shard does
  // not hold in `topic`'s incarnation, retiring an older incarnation's; returns them.
  static asio::awaitable<std::vector<int32_t>> reserve_on_shard(PartitionManager* self,
                                                                TopicInfo topic,
                                                                std::vector<int32_t> partitions);
  struct InstallResult {
    Status status;
    std::vector<std::filesystem::path> orphaned;  // opened, but deleted meanwhile
  };
  // Installs partitions opened on the MetaWriter in place of their placeholders.
  static asio::awaitable<InstallResult> install_on_shard(
      PartitionManager* self, std::vector<std::shared_ptr<Partition>> partitions);
  // Retires incarnation `topic_id` of the topic's partitions here; returns their directories.
  static asio::awaitable<std::vector<std::filesystem::path>> delete_on_shard(
      PartitionManager* self, std::string topic, protocol::Uuid topic_id);
  // On the MetaWriter: removes those of `dirs` whose topic_id file names `topic_id`.
  asio::awaitable<Status> remove_incarnation_dirs(std::vector<std::filesystem::path> dirs,
                                                  protocol::Uuid topic_id);
  // Marks a partition deleted, drops its log (like a crash) and wakes its Fetches.
  void retire(Partition& partition);
  static asio::awaitable<Status> config_on_shard(PartitionManager* self, std::string topic,
                                                 PartitionConfig config);
  // What a hop returns: ShardSet::run_on needs a default-constructible result.
  template <typename T>
  struct HopResult {
    Status status;
    T value{};
  };
  static asio::awaitable<HopResult<Offset>> delete_records_on_shard(PartitionManager* self,
                                                                    std::string topic,
                                                                    PartitionId partition,
                                                                    Offset offset);
  static asio::awaitable<HopResult<PartitionOffsets>> offsets_on_shard(PartitionManager* self,
                                                                       std::string topic,
                                                                       PartitionId partition);
  static asio::awaitable<void> retention_loop(PartitionManager* self, net::ShardId shard);
  static asio::awaitable<void> cleaner_loop(PartitionManager* self, net::ShardId shard);
  static asio::awaitable<void> clean_partition(PartitionManager* self, net::ShardId shard,
                                               std::shared_ptr<Partition> partition);
  static asio::awaitable<void> run_clean(PartitionManager* self, net::ShardId shard,
                                         std::shared_ptr<Partition> partition);
  static asio::awaitable<void> index_after_roll(PartitionManager* self,
                                                std::shared_ptr<Partition> partition);
  static asio::awaitable<void> rewrite_txn_index(PartitionManager* self,
                                                 std::shared_ptr<Partition> partition);
  // Retention or DeleteRecords deleted segments: their producers, aborts and index files go.
  void forget_deleted_segments(Partition& partition);

  PartitionManagerOptions options_;
  storage::Clock* clock_;
  int64_t started_ms_ = 0;
  storage::Io* io_;
  std::vector<std::unique_ptr<ShardPartitions>> shards_;
  std::atomic<bool> stopping_{false};
  bool closed_ = false;
};

}  // namespace cairn::broker
