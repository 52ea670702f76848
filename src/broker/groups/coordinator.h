// GroupCoordinator: the broker's consumer-group service — one GroupManager per shard, which
// makes groups and committed offsets durable in the internal topic __consumer_offsets, and the
// timers. The topic is in the TopicRegistry and its partitions are the PartitionManager's, like
// every topic's (recovery, fsync batching, Fetch); the coordinator is its only writer.
//
// Ownership: a group lives on the shard that owns its __consumer_offsets partition
// (offsets_partition_for(group_id) → broker::shard_of("__consumer_offsets", partition)). All of
// a group's state, its partition's Log and its timers are touched only on that shard, so the
// coordinator takes no locks. Handlers hop there with ShardSet::run_on and call the coroutines
// at the bottom of this header, which must run on the group's shard.
//
// Durability: an OffsetCommit, a generation's assignment (before SyncGroup answers), a group
// emptied, DeleteGroups and OffsetDelete append records to the group's partition and answer
// once the storage layer reports them fsynced (Log::wait_durable). On start every partition is
// replayed to rebuild groups and offsets; until its replay ends, requests for its groups get
// COORDINATOR_LOAD_IN_PROGRESS. The broker's cleaner compacts the topic like any compacted
// topic (partitions/partition_manager.h): it keeps the latest record per key, which replays to
// the same state.
//
// Lifecycle (main thread): ensure_offsets_topic() and PartitionManager::open() first (the logs),
// open() before the shards start, start() after they started (replay begins on each shard),
// stop() before they stop (cancels timers, fails parked requests; blocks until every shard has
// done so); the PartitionManager closes the logs. docs/groups.md describes the behaviour.
#pragma once

#include <asio.hpp>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "broker/configs/broker_configs.h"
#include "broker/groups/group_manager.h"
#include "broker/partitions/internal_append.h"
#include "broker/partitions/partition_manager.h"
#include "broker/startup_progress.h"
#include "broker/topics/topic_registry.h"
#include "net/shard_set.h"

namespace cairn::storage {
class Clock;
}  // namespace cairn::storage

namespace cairn::broker::groups {

class ShardCoordinator;

// The group settings among the broker's Kafka configs (BrokerConfig::kafka_configs after
// configs::finish_broker_config checked them against the catalog, whose defaults fill the
// gaps): group.*.ms, group.max.size, offsets.*, offset.metadata.max.bytes. invalid_argument
// if group.min.session.timeout.ms is above group.max.session.timeout.ms.
Result<GroupConfig> group_config_from(const configs::ConfigMap& kafka_configs);

// Main thread, before PartitionManager::open: makes sure the registry holds __consumer_offsets
// (created durably with `partition_count` partitions of `segment_bytes` segments, compacted). Its
// partition count never changes once it exists: every group's partition depends on it. A data
// directory from before the topic was registered keeps the __consumer_offsets-N directories it has
// (adopted).
Result<TopicInfo> ensure_offsets_topic(storage::Io& io, TopicRegistry& registry,
                                       const std::filesystem::path& data_dir,
                                       int32_t partition_count, int32_t segment_bytes);

struct CoordinatorOptions {
  GroupConfig config;               // offsets_topic_partition_count: set by open() from the topic
  storage::Clock* clock = nullptr;  // null: the system clock
  // Told when a shard has loaded every one of its partitions (GET /v1/status/ready); may be
  // null. Must outlive the coordinator.
  StartupProgress* progress = nullptr;
};

class GroupCoordinator {
 public:
  // `offsets_topic`: what ensure_offsets_topic returned; `partitions` has opened its logs.
  static std::unique_ptr<GroupCoordinator> open(const net::ShardSet& shards,
                                                PartitionManager* partitions,
                                                const TopicInfo& offsets_topic,
                                                CoordinatorOptions options);
  ~GroupCoordinator();
  GroupCoordinator(const GroupCoordinator&) = delete;
  GroupCoordinator& operator=(const GroupCoordinator&) = delete;

  void start();
  void stop();

  const GroupConfig& config() const { return options_.config; }
  int32_t partition_count() const { return options_.config.offsets_topic_partition_count; }
  net::ShardId shard_for(std::string_view group_id) const;
  net::ShardId shard_for_partition(int32_t partition) const;
  uint32_t shard_count() const { return shards_.count(); }
  const net::ShardSet& shards() const { return shards_; }
  // REQUIRES: called on `shard`'s thread.
  ShardCoordinator& local(net::ShardId shard) const;
  // The coordinator of the calling shard. REQUIRES: on a shard thread.
  ShardCoordinator& local() const;

 private:
  GroupCoordinator(const net::ShardSet& shards, CoordinatorOptions options);

  const net::ShardSet& shards_;
  CoordinatorOptions options_;
  std::vector<std::unique_ptr<ShardCoordinator>> locals_;
  bool started_ = false;
  bool stopped_ = false;
};

// What the handlers exchange with the coordinator (values: they cross shards).
struct CommitPartition {
  TopicPartitionKey key;
  Offset offset{0};
  LeaderEpoch leader_epoch{-1};
  std::string metadata;
  ErrorCode error = ErrorCode::none;  // preset by the handler (unknown topic, ...): skipped
};
struct CommitRequest {
  std::string group_id;
  int32_t generation_id = -1;
  std::string member_id;
  std::optional<std::string> group_instance_id;
  int64_t retention_time_ms = -1;  // OffsetCommit v2-4; -1: the broker's retention
  std::vector<CommitPartition> partitions;
  // OffsetCommit's version (members of consumer-protocol groups need v9+); TxnOffsetCommit
  // leaves it: transactional commits are not held to it.
  int16_t api_version = GroupManager::kAnyCommitVersion;
  // TxnOffsetCommit: the offsets belong to this producer's transaction and stay pending until
  // its marker. Generation -1 with member "" (v0-2) skips the membership checks.
  std::optional<InternalProducer> producer;
};

struct FetchedOffset {
  TopicPartitionKey key;
  std::optional<CommittedOffset> committed;  // nullopt: nothing committed
  // UNSTABLE_OFFSET_COMMIT when asked for stable offsets while a transaction holds one.
  ErrorCode error = ErrorCode::none;
};
struct FetchResult {
  ErrorCode error = ErrorCode::none;
  std::vector<FetchedOffset> offsets;
};

struct MemberSummary {
  std::string member_id;
  std::optional<std::string> group_instance_id;
  std::string client_id;
  std::string client_host;
  std::vector<uint8_t> metadata;    // Stable groups only, for the selected protocol
  std::vector<uint8_t> assignment;  // Stable groups only
};
struct GroupSummary {
  ErrorCode error = ErrorCode::none;
  std::string group_id;
  std::string state;  // Kafka's name; "Dead" for an unknown group
  std::string protocol_type;
  std::string protocol_name;  // Stable groups only
  std::vector<MemberSummary> members;
};
struct GroupListing {
  std::string group_id;
  std::string protocol_type;
  std::string state;
  std::string group_type;  // "classic" or "consumer" (KIP-848), ListGroups v5's names
};

// ConsumerGroupDescribe's view of a consumer-protocol group (KIP-848).
struct ConsumerMemberSummary {
  std::string member_id;
  std::optional<std::string> instance_id;
  std::optional<std::string> rack_id;
  int32_t member_epoch = 0;
  std::string client_id;
  std::string client_host;
  std::vector<std::string> subscribed_topic_names;
  TopicPartitions assignment;
  TopicPartitions target_assignment;
};
struct ConsumerGroupSummary {
  ErrorCode error = ErrorCode::none;
  std::string error_message;
  std::string group_id;
  std::string state;
  int32_t group_epoch = 0;
  int32_t assignment_epoch = 0;
  std::string assignor;
  std::vector<ConsumerMemberSummary> members;
};
struct ListResult {
  ErrorCode error = ErrorCode::none;
  std::vector<GroupListing> groups;
};

// --- coroutines that run on the group's shard (take everything by value) ---
asio::awaitable<JoinResult> join_group(const GroupCoordinator* coordinator, JoinRequest request);
asio::awaitable<SyncResult> sync_group(const GroupCoordinator* coordinator, SyncRequest request);
asio::awaitable<ErrorCode> heartbeat(const GroupCoordinator* coordinator, HeartbeatRequest request);
asio::awaitable<LeaveResult> leave_group(const GroupCoordinator* coordinator, std::string group_id,
                                         std::vector<LeaveMember> leaving);
// One error per partition, in order.
asio::awaitable<std::vector<ErrorCode>> commit_offsets(const GroupCoordinator* coordinator,
                                                       CommitRequest request);
// `keys` nullopt: every committed offset of the group. `require_stable` (OffsetFetch v7+):
// a key a pending transactional commit holds answers UNSTABLE_OFFSET_COMMIT.
// `member_id`/`member_epoch`: OffsetFetch v9's (GroupManager::check_offset_fetch).
asio::awaitable<FetchResult> fetch_offsets(const GroupCoordinator* coordinator,
                                           std::string group_id,
                                           std::optional<std::vector<TopicPartitionKey>> keys,
                                           bool require_stable = false,
                                           std::optional<std::string> member_id = std::nullopt,
                                           int32_t member_epoch = -1);
asio::awaitable<GroupSummary> describe_group(const GroupCoordinator* coordinator,
                                             std::string group_id);
asio::awaitable<ErrorCode> delete_group(const GroupCoordinator* coordinator, std::string group_id);
asio::awaitable<OffsetDeleteResult> delete_offsets(const GroupCoordinator* coordinator,
                                                   std::string group_id,
                                                   std::vector<TopicPartitionKey> keys);
// ConsumerGroupHeartbeat (KIP-848). `topics`: the registry snapshot the subscriptions are
// resolved against (partition counts).
asio::awaitable<ConsumerHeartbeatResult> consumer_heartbeat(
    const GroupCoordinator* coordinator, ConsumerHeartbeat request,
    std::shared_ptr<const TopicTable> topics);
// ConsumerGroupDescribe: GROUP_ID_NOT_FOUND for an unknown or classic group.
asio::awaitable<ConsumerGroupSummary> describe_consumer_group(const GroupCoordinator* coordinator,
                                                              std::string group_id);
// DescribeGroups' view of a consumer-protocol group: protocol type "consumer", the assignor as
// protocol name, each member's subscription and assignment in the classic consumer protocol's
// bytes (so admin tools that only speak DescribeGroups show them).
GroupSummary classic_summary_of_consumer_group(const Group& group);

// The groups of the calling shard (ListGroups runs it on every shard).
asio::awaitable<ListResult> list_local_groups(const GroupCoordinator* coordinator);

// On the shard of __consumer_offsets partition `partition`, right after the transaction
// coordinator appended a marker of `producer_id` there: its pending offsets of that partition's
// groups become committed (or are dropped).
void complete_txn_offsets(const GroupCoordinator* coordinator, int32_t partition,
                          ProducerId producer_id, bool commit);

// --- from any shard ---
// After DeleteTopics: every group, on every shard, forgets its committed offsets of `topic`
// (tombstones written and fsynced). Resumes on the caller's shard.
asio::awaitable<void> forget_topic(const GroupCoordinator* coordinator, std::string topic);

}  // namespace cairn::broker::groups
