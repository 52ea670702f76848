// ConsumerGroup: one group of the consumer group protocol (KIP-848, ConsumerGroupHeartbeat) —
// its members, the group epoch, the target assignment and its epoch, and each member's
// reconciliation towards its target. The broker computes assignments itself (assignor.h);
// members only heartbeat.
//
// Epochs, as in the KIP:
//   group epoch       bumped when membership or a subscription (or a subscribed topic's
//                     partition count) changes;
//   assignment epoch  the group epoch the target assignment was computed for; here the target
//                     is recomputed at once, so after every heartbeat both are equal;
//   member epoch      the assignment epoch the member has caught up with.
//
// Reconciliation of one member, on each of its heartbeats (and when others release partitions):
//
//   Stable --target changed--> member keeps (owned ∩ target)
//     | some owned partitions are not in the target:
//     |   UnrevokedPartitions: the member is told its assignment without them; its epoch stays
//     |   until a heartbeat's owned partitions (`topic_partitions`) no longer include them,
//     |   then they are released and it moves on as below;
//     | none to revoke: it gets the target partitions nobody else still owns, and the new epoch;
//     |   UnreleasedPartitions while some are still held by a member that has not revoked them.
//   A partition is therefore never owned by two members at once.
//
// Plain C++, no I/O, no clock: every call takes `now_ms` (tests use a fake clock). The owner
// persists image() after each change and builds the group from it again after a restart
// (docs/groups.md). Error codes are Kafka's.
// Thread safety: owned by a Group of one GroupManager, on that manager's shard.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "broker/error_code.h"
#include "broker/groups/assignor.h"
#include "broker/groups/group_config.h"

namespace cairn::broker::groups {

inline constexpr int32_t kJoinMemberEpoch = 0;
inline constexpr int32_t kLeaveMemberEpoch = -1;
inline constexpr int32_t kLeaveStaticMemberEpoch = -2;
// The first OffsetCommit version whose generation field carries a member epoch (KIP-848).
inline constexpr int16_t kConsumerOffsetCommitVersionMin = 9;

// The partition count of a topic, or nullopt if there is no such topic.
using PartitionCountFn = std::function<std::optional<int32_t>(const std::string& topic)>;

enum class MemberState : uint8_t { stable, unrevoked_partitions, unreleased_partitions };

struct ConsumerMember {
  std::string member_id;
  std::optional<std::string> instance_id;
  std::optional<std::string> rack_id;
  std::string client_id;
  std::string client_host;
  int32_t rebalance_timeout_ms = 0;
  std::vector<std::string> subscribed_topic_names;  // sorted, unique
  std::optional<std::string> server_assignor;
  int32_t member_epoch = 0;
  int32_t previous_member_epoch = -1;
  MemberState state = MemberState::stable;
  TopicPartitions assigned;            // owned and usable by the member
  TopicPartitions pending_revocation;  // owned until the member acknowledges their revocation
  int64_t session_deadline_ms = 0;
  std::optional<int64_t> revocation_deadline_ms;  // while UnrevokedPartitions
  // A static member that left with epoch -2: it keeps its place (instance id, partitions,
  // epoch) until its session times out or a new incarnation joins with the instance id.
  bool static_left = false;

  bool is_static() const { return instance_id.has_value(); }
};

// A ConsumerGroupHeartbeat, decoded; topic ids already resolved to names.
struct ConsumerHeartbeat {
  std::string group_id;
  std::string member_id;
  int32_t member_epoch = 0;
  std::optional<std::string> instance_id;
  std::optional<std::string> rack_id;
  int32_t rebalance_timeout_ms = -1;
  std::optional<std::vector<std::string>> subscribed_topic_names;  // nullopt: unchanged
  std::optional<std::string> server_assignor;                      // nullopt: unchanged
  std::optional<TopicPartitions> owned;                            // nullopt: unchanged
  std::string client_id;
  std::string client_host;
};

struct ConsumerHeartbeatResult {
  ErrorCode error = ErrorCode::none;
  std::string error_message;
  std::string member_id;
  int32_t member_epoch = 0;
  int32_t heartbeat_interval_ms = 0;
  std::optional<TopicPartitions> assignment;  // nullopt: unchanged since the last answer
};

// What of a group is persisted (consumer_group_records.h writes it as Kafka's records): all but
// the timers (a restored member's session starts at the restore) and a static member's having
// left with -2 (it must come back or time out).
struct ConsumerGroupImage {
  int32_t group_epoch = 0;
  std::map<std::string, int32_t> partition_counts;  // what the target assignment was made from
  int32_t assignment_epoch = 0;
  GroupAssignment target;               // by member id
  std::vector<ConsumerMember> members;  // in member id order
};

// Kafka's checks of a ConsumerGroupHeartbeat before anything else: INVALID_REQUEST (with
// `message`) for a malformed one, UNSUPPORTED_ASSIGNOR for a server assignor that is not
// among `assignors` (group.consumer.assignors).
ErrorCode validate_heartbeat(const ConsumerHeartbeat& request,
                             const std::vector<std::string>& assignors, std::string* message);

class ConsumerGroup {
 public:
  ConsumerGroup(std::string group_id, const GroupConfig& config);
  // A group as it was persisted (replay of __consumer_offsets). Every member's session starts
  // at `now_ms`; a partition claimed by two members (a corrupt image) stays with the first.
  ConsumerGroup(std::string group_id, const GroupConfig& config, ConsumerGroupImage image,
                int64_t now_ms);
  ConsumerGroupImage image() const;

  // REQUIRES: validate_heartbeat(request) == none, and a non-empty member id (the manager
  // assigns one to a first join without).
  ConsumerHeartbeatResult heartbeat(const ConsumerHeartbeat& request,
                                    const PartitionCountFn& counts, int64_t now_ms);
  // Removes the members whose session or revocation deadline passed. The target assignment is
  // recomputed from the partition counts last seen (the next heartbeat refreshes them).
  void expire(int64_t now_ms);
  std::optional<int64_t> next_deadline_ms() const;
  // OffsetCommit v9+ (and OffsetFetch v9) from a member: its member epoch is sent as the
  // generation id. UNKNOWN_MEMBER_ID or STALE_MEMBER_EPOCH, as Kafka answers.
  ErrorCode check_commit(const std::string& member_id, int32_t member_epoch) const;

  const std::string& group_id() const { return group_id_; }
  int32_t group_epoch() const { return group_epoch_; }
  int32_t assignment_epoch() const { return assignment_epoch_; }
  const std::string& assignor() const { return assignor_; }
  const std::map<std::string, ConsumerMember>& members() const { return members_; }
  const TopicPartitions& target_of(const std::string& member_id) const;
  bool empty() const { return members_.empty(); }
  // Kafka's names: "Empty", "Assigning", "Reconciling", "Stable".
  const char* state_name() const;
  // Every subscribed topic name of every member.
  std::vector<std::string> subscribed_topics() const;

 private:
  // `created`: set when a new member was added (which moves the group epoch).
  ConsumerHeartbeatResult join(const ConsumerHeartbeat& request, bool* created);
  ConsumerHeartbeatResult leave(const ConsumerHeartbeat& request, const PartitionCountFn& counts);
  // The member a heartbeat or leave comes from; nullptr with `refused` set (UNKNOWN_MEMBER_ID,
  // FENCED_INSTANCE_ID) if it is not one.
  ConsumerMember* find_sender(const ConsumerHeartbeat& request, ConsumerHeartbeatResult* refused);
  ErrorCode check_epoch(const ConsumerMember& member, const ConsumerHeartbeat& request) const;
  // Returns whether the subscription or assignor changed.
  bool update_member(ConsumerMember& member, const ConsumerHeartbeat& request, int64_t now_ms);
  void remove_member(const std::string& member_id);
  // By value: the old id may live in the member that moves.
  void replace_static_member(std::string old_member_id, std::string new_member_id);
  // Bumps the group epoch if the subscribed topics' partition counts changed, then recomputes
  // the target assignment if the group epoch moved past it.
  void refresh_target(const PartitionCountFn& counts);
  // The assignor most members ask for (ties: the first by name), else the default.
  std::string chosen_assignor() const;
  void reconcile(ConsumerMember& member, const std::optional<TopicPartitions>& owned,
                 int64_t now_ms);
  void set_ownership(ConsumerMember& member, TopicPartitions assigned, TopicPartitions pending);
  bool owned_by_other(const std::string& member_id, const std::string& topic,
                      int32_t partition) const;

  std::string group_id_;
  const GroupConfig& config_;
  int32_t group_epoch_ = 0;
  int32_t assignment_epoch_ = 0;
  std::string assignor_;  // the one the target assignment was computed with
  std::map<std::string, ConsumerMember> members_;               // by member id
  std::map<std::string, std::string> static_members_;           // instance id -> member id
  GroupAssignment target_;                                      // by member id
  std::map<std::string, int32_t> subscribed_partition_counts_;  // what the target was made from
  // Who owns each partition (assigned or pending revocation): member id by (topic, partition).
  std::map<std::pair<std::string, int32_t>, std::string> owners_;
};

}  // namespace cairn::broker::groups
