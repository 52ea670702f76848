// GroupManager: the classic-protocol group coordinator's state machine for the groups one
// shard owns — JoinGroup, SyncGroup, Heartbeat, LeaveGroup, the checks OffsetCommit needs, the
// committed offsets themselves, DescribeGroups/ListGroups/DeleteGroups/OffsetDelete, and the
// timers (session expiry, rebalance and initial-delay timeouts, KIP-394 pending members).
//
// Plain C++, no I/O and no clock of its own: every call takes `now_ms`, and the owner drives
// the timers — it asks next_deadline_ms() after each call, arms one timer for it, and calls
// advance(now_ms) when it fires. So a silent member expires on the broker's own timer even when
// nobody else talks to the group, and tests run the whole machine on a fake clock.
//
// JoinGroup and SyncGroup answer through callbacks because their answers wait for other
// members (see JoinCallback in group.h); every callback is called exactly once. Durability is
// the owner's job: the manager calls `store_group` when a generation's assignment must be
// persisted before SyncGroup answers, and is told about durable offset commits through
// apply_offset_commit (which replay of __consumer_offsets uses as well).
//
// Behaviour follows Kafka's GroupCoordinator (2.x classic protocol); docs/groups.md states it
// for users. Thread safety: one shard; not thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "broker/error_code.h"
#include "broker/groups/group.h"
#include "broker/groups/group_config.h"

namespace cairn::broker::groups {

struct JoinRequest {
  std::string group_id;
  std::string member_id;  // "" on a member's first join
  std::optional<std::string> group_instance_id;
  std::string client_id;
  std::string client_host;
  int32_t session_timeout_ms = 0;
  // JoinGroup v0 has none: callers pass the session timeout (never -1).
  int32_t rebalance_timeout_ms = 0;
  std::string protocol_type;
  std::vector<Protocol> protocols;
  // JoinGroup v4+ (KIP-394): a first join gets MEMBER_ID_REQUIRED and a member id to rejoin
  // with, so a client that times out cannot leave orphan members behind.
  bool require_known_member_id = false;
  // JoinGroup v9+ (KIP-814): the member understands skip_assignment. A static leader that
  // rejoins a Stable group without it is answered as a follower would be (no members, the
  // old leader id), so it does not compute an assignment that nobody asked for.
  bool supports_skip_assignment = false;
};

struct SyncRequest {
  std::string group_id;
  int32_t generation_id = -1;
  std::string member_id;
  std::optional<std::string> group_instance_id;
  // The leader's assignment: member id -> bytes. Empty from followers.
  std::vector<std::pair<std::string, std::vector<uint8_t>>> assignments;
  // SyncGroup v5+ (KIP-559): the protocol type and name the member believes the group uses;
  // INCONSISTENT_GROUP_PROTOCOL when they differ from the group's. nullopt: not checked.
  std::optional<std::string> protocol_type;
  std::optional<std::string> protocol_name;
};

struct HeartbeatRequest {
  std::string group_id;
  int32_t generation_id = -1;
  std::string member_id;
  std::optional<std::string> group_instance_id;
};

struct LeaveMember {
  std::string member_id;  // "" with an instance id: leave by instance id (LeaveGroup v3+)
  std::optional<std::string> group_instance_id;
};

struct LeaveResult {
  ErrorCode error = ErrorCode::none;     // the whole request
  std::vector<ErrorCode> member_errors;  // one per LeaveMember, in order
};

struct OffsetDeleteResult {
  ErrorCode error = ErrorCode::none;
  std::vector<ErrorCode> partition_errors;  // one per requested partition, in order
  std::vector<TopicPartitionKey> deleted;   // the keys that need tombstones
};

// Persists `group` (its GroupMetadata record) and calls `done` with the result once it is
// durable (or failed). May call `done` before returning.
using StoreGroupFn = std::function<void(const Group& group, std::function<void(ErrorCode)> done)>;
// A fresh member id: `prefix` (client id, or group instance id) + "-" + something unique.
using MemberIdFn = std::function<std::string(const std::string& prefix)>;
MemberIdFn random_member_ids();

class GroupManager {
 public:
  GroupManager(GroupConfig config, MemberIdFn member_ids, StoreGroupFn store_group = nullptr);
  GroupManager(const GroupManager&) = delete;
  GroupManager& operator=(const GroupManager&) = delete;

  const GroupConfig& config() const { return config_; }

  // --- loading (COORDINATOR_LOAD_IN_PROGRESS) ---
  // Requests for groups of a loading __consumer_offsets partition are refused with
  // COORDINATOR_LOAD_IN_PROGRESS until set_loading(partition, false).
  void set_loading(int32_t offsets_partition, bool loading);
  bool is_loading(const std::string& group_id) const;
  bool any_loading() const { return !loading_partitions_.empty(); }
  bool is_partition_loading(int32_t partition) const {
    return loading_partitions_.contains(partition);
  }
  // Replay: a group's GroupMetadata record (Stable with members, or Empty) and tombstone.
  void restore_group(Group group, int64_t now_ms);
  void restore_group_tombstone(const std::string& group_id);

  // --- membership ---
  void join_group(JoinRequest request, int64_t now_ms, JoinCallback callback);
  void sync_group(SyncRequest request, int64_t now_ms, SyncCallback callback);
  ErrorCode heartbeat(const HeartbeatRequest& request, int64_t now_ms);
  LeaveResult leave_group(const std::string& group_id, const std::vector<LeaveMember>& leaving,
                          int64_t now_ms);

  // --- the consumer group protocol (KIP-848; group_manager_consumer.cc) ---
  // A ConsumerGroupHeartbeat: join (epoch 0), heartbeat, or leave (-1; static members -2).
  // An empty classic group becomes a consumer group; a classic group with members answers
  // GROUP_ID_NOT_FOUND. `counts` gives the partition counts of subscribed topics.
  ConsumerHeartbeatResult consumer_heartbeat(ConsumerHeartbeat request,
                                             const PartitionCountFn& counts, int64_t now_ms);
  // Replay: a consumer group as its records left it. A classic group of that id (Empty: its
  // committed offsets) becomes a consumer group, as on a first join.
  void restore_consumer_group(const std::string& group_id, ConsumerGroupImage image,
                              int64_t now_ms);

  // --- committed offsets ---
  // Whether an OffsetCommit from (generation, member, instance) may commit now. Generation -1
  // with member "" is a commit from outside group management (admin tools, manual-assign
  // consumers): accepted for a group with no members, or no group at all.
  // `api_version`: the OffsetCommit's; a member of a consumer-protocol group (KIP-848) must
  // commit with v9+ (UNSUPPORTED_VERSION otherwise, as Kafka 4.0 answers). Transactional
  // commits pass kAnyCommitVersion: they are not held to it.
  static constexpr int16_t kAnyCommitVersion = INT16_MAX;
  ErrorCode check_offset_commit(const std::string& group_id, int32_t generation_id,
                                const std::string& member_id,
                                const std::optional<std::string>& instance_id, int64_t now_ms,
                                int16_t api_version = kAnyCommitVersion);
  // OffsetFetch v9 (KIP-848): a fetch naming a member (member id set, or epoch >= 0) of a
  // consumer-protocol group must come from a current member with its current epoch
  // (UNKNOWN_MEMBER_ID, STALE_MEMBER_EPOCH); other fetches, and classic groups, are not checked.
  ErrorCode check_offset_fetch(const std::string& group_id,
                               const std::optional<std::string>& member_id,
                               int32_t member_epoch) const;
  // A commit record is durable (or was replayed): remember it, creating the group (Empty) if
  // needed. A record older than the one already applied for its key is ignored.
  void apply_offset_commit(const std::string& group_id, const TopicPartitionKey& key,
                           CommittedOffset committed, int64_t now_ms);
  // --- transactional offsets (TxnOffsetCommit) ---
  // A transactional commit of `producer_id` was appended to __consumer_offsets partition
  // `partition` (or replayed): it stays pending — invisible to OffsetFetch — until the
  // producer's transaction marker lands on that partition.
  void add_pending_txn_offset(int32_t partition, ProducerId producer_id,
                              const std::string& group_id, const TopicPartitionKey& key,
                              CommittedOffset committed);
  // The producer's marker landed on `partition`: its pending offsets there become committed,
  // or are dropped.
  void complete_txn_offsets(int32_t partition, ProducerId producer_id, bool commit, int64_t now_ms);
  // Whether a transaction holds a pending offset for the key (OffsetFetch require_stable).
  bool has_pending_txn_offset(const std::string& group_id, const TopicPartitionKey& key) const;

  // A tombstone for one committed offset (replay of OffsetDelete, DeleteGroups or expiry).
  void apply_offset_tombstone(const std::string& group_id, const TopicPartitionKey& key);
  OffsetDeleteResult delete_offsets(const std::string& group_id,
                                    const std::vector<TopicPartitionKey>& keys);
  // Deletes the committed offsets of groups that have been Empty for offsets_retention_ms
  // (or whose explicit expiry passed), and the groups left empty without offsets. Returns, per
  // group, the deleted keys and whether the group itself went away (both need tombstones).
  struct Expired {
    std::string group_id;
    std::vector<TopicPartitionKey> keys;
    bool group_removed = false;
  };
  std::vector<Expired> expire_offsets(int64_t now_ms);
  // A topic was deleted: every group forgets its committed offsets for it (Kafka does the
  // same, so a topic created again under that name starts from the reset policy). Returns,
  // per group that had any, the deleted keys (they need tombstones).
  std::vector<Expired> delete_topic_offsets(const std::string& topic);

  // --- admin ---
  const Group* find_group(const std::string& group_id) const;
  template <typename F>
  void for_each_group(F&& visit) const {
    for (const auto& [id, group] : groups_) visit(*group);
  }
  // DeleteGroups: GROUP_ID_NOT_FOUND, NON_EMPTY_GROUP, or none — then the group is gone and
  // `deleted_keys` lists the offsets that need tombstones.
  ErrorCode delete_group(const std::string& group_id, std::vector<TopicPartitionKey>* deleted_keys);
  size_t group_count() const { return groups_.size(); }

  // The coordinator is going away (broker shutdown): every parked JoinGroup and SyncGroup is
  // answered with `error` (NOT_COORDINATOR: clients look for the coordinator again). The
  // groups themselves stay as they are; nothing is persisted.
  void fail_waiting_requests(ErrorCode error);

  // --- timers ---
  std::optional<int64_t> next_deadline_ms() const;
  // Fires every timer due at `now_ms`: session and pending-member expiry, join-phase ends.
  void advance(int64_t now_ms);

 private:
  Group* group(const std::string& group_id);
  Group& get_or_create(const std::string& group_id, int64_t now_ms);
  void remove_group(const std::string& group_id);

  void join_new_member(Group& group, JoinRequest request, int64_t now_ms, JoinCallback callback);
  void join_static_new_member(Group& group, JoinRequest request, std::string new_member_id,
                              int64_t now_ms, JoinCallback callback);
  void join_known_member(Group& group, JoinRequest request, int64_t now_ms, JoinCallback callback);
  void add_member_and_rebalance(Group& group, const JoinRequest& request, std::string member_id,
                                int64_t now_ms, JoinCallback callback);
  void update_member_and_rebalance(Group& group, Member& member, const JoinRequest& request,
                                   int64_t now_ms, JoinCallback callback);
  void update_static_member_and_rebalance(Group& group, const JoinRequest& request,
                                          const std::string& old_member_id,
                                          std::string new_member_id, int64_t now_ms,
                                          JoinCallback callback);
  JoinResult current_generation_result(const Group& group, const std::string& member_id,
                                       bool with_members) const;

  void sync_as_leader(Group& group, SyncRequest request, int64_t now_ms);
  void finish_assignment_store(const std::string& group_id, int32_t generation_id, ErrorCode error);
  void reset_and_propagate_error(Group& group, ErrorCode error);

  void maybe_prepare_rebalance(Group& group, int64_t now_ms);
  void prepare_rebalance(Group& group, int64_t now_ms);
  void maybe_complete_join(Group& group, int64_t now_ms);
  void complete_join(Group& group, int64_t now_ms);
  void join_deadline_passed(Group& group, int64_t now_ms);
  void remove_member_and_update(Group& group, const std::string& member_id, int64_t now_ms);
  void expire_members(Group& group, int64_t now_ms);
  void store_empty_group(Group& group);
  // Keeps a consumer-protocol group's classic `state` (Empty or Stable) in step with it.
  void sync_consumer_state(Group& group, int64_t now_ms);
  void remove_if_unused(const std::string& group_id);
  static void refresh_session(Member& member, int64_t now_ms) {
    member.session_deadline_ms = now_ms + member.session_timeout_ms;
  }

  // Timer queue: each group sits under its earliest deadline. Every public call ends by
  // rescheduling the group it touched.
  std::optional<int64_t> earliest_deadline(const Group& group) const;
  void reschedule(const std::string& group_id);

  GroupConfig config_;
  MemberIdFn member_ids_;
  StoreGroupFn store_group_;
  std::map<std::string, std::unique_ptr<Group>> groups_;
  std::set<std::pair<int64_t, std::string>> deadlines_;
  std::set<int32_t> loading_partitions_;
  struct PendingOffset {
    std::string group_id;
    TopicPartitionKey key;
    CommittedOffset committed;
  };
  // By (__consumer_offsets partition, producer id).
  std::map<std::pair<int32_t, int64_t>, std::vector<PendingOffset>> pending_txn_;
  // The latest `now_ms` seen; used when an asynchronous store completes.
  int64_t last_now_ms_ = 0;
};

}  // namespace cairn::broker::groups
