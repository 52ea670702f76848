// Group: one consumer group's state (classic protocol) — members, generation, selected
// protocol, leader, timers, and its committed offsets. Plain data with small invariant-keeping
// helpers; the rules for moving between states live in GroupManager (group_manager.h).
//
// States and the transitions this code allows (as Kafka's GroupMetadata does):
//
//        +--------------------------------------------------------------+
//        v                                                              |
//     Empty --first join--> PreparingRebalance --join done--> CompletingRebalance
//        ^                    ^   |  ^                            |  (leader's SyncGroup)
//        |  join done,        |   |  +---- member join/leave -----+  v
//        +--no members left---+   |  +---- member join/leave ------ Stable
//                                 v
//   Dead: any state, when the group is deleted or its last offsets expire; a Dead group is
//   removed from its manager at once.
//
// Error codes here are Kafka's: the group coordinator's contract *is* the Kafka protocol's
// (ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID, ...), so there is no separate internal error space.
// Times are wall-clock milliseconds since the Unix epoch (`now_ms`), as Kafka's coordinator
// uses. Thread safety: a Group belongs to one GroupManager and is touched only on its shard.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/assert.h"
#include "base/types.h"
#include "broker/error_code.h"
#include "broker/groups/consumer_group.h"

namespace cairn::broker::groups {

enum class GroupState : uint8_t {
  empty,
  preparing_rebalance,
  completing_rebalance,
  stable,
  dead,
};

// Kafka's names ("Empty", "PreparingRebalance", "CompletingRebalance", "Stable", "Dead"), as
// DescribeGroups and ListGroups v4 return them.
const char* group_state_name(GroupState state);
std::optional<GroupState> parse_group_state(std::string_view name);

// One protocol a member supports: its name ("range", "roundrobin", "cooperative-sticky") and
// the member's metadata for it (opaque to the broker).
struct Protocol {
  std::string name;
  std::vector<uint8_t> metadata;
  bool operator==(const Protocol&) const = default;
};

// A member as the leader sees it in its JoinGroup response.
struct JoinedMember {
  std::string member_id;
  std::optional<std::string> group_instance_id;
  std::vector<uint8_t> metadata;  // for the selected protocol
};

struct JoinResult {
  ErrorCode error = ErrorCode::none;
  int32_t generation_id = -1;
  std::string protocol_type;
  std::string protocol_name;
  std::string leader_id;
  std::string member_id;
  std::vector<JoinedMember> members;  // non-empty only for the leader
  // KIP-814: a static leader rejoined a Stable group with unchanged protocols; it gets the
  // members so it knows their subscriptions, but must not assign (JoinGroup v9+ tells it so).
  bool skip_assignment = false;
};

struct SyncResult {
  ErrorCode error = ErrorCode::none;
  std::vector<uint8_t> assignment;
};

// Called exactly once per JoinGroup / SyncGroup, maybe before join_group/sync_group returns,
// maybe later from another request or a timer. A callback must not call back into the
// GroupManager synchronously (the shard glue posts the completion to the shard's executor).
using JoinCallback = std::function<void(JoinResult)>;
using SyncCallback = std::function<void(SyncResult)>;

struct Member {
  std::string member_id;
  std::optional<std::string> group_instance_id;
  std::string client_id;
  std::string client_host;
  int32_t session_timeout_ms = 0;
  int32_t rebalance_timeout_ms = 0;
  std::string protocol_type;
  std::vector<Protocol> protocols;  // in the member's order of preference; never empty
  std::vector<uint8_t> assignment;  // from the leader's SyncGroup of the current generation

  JoinCallback awaiting_join;  // set while its JoinGroup waits for the rebalance
  SyncCallback awaiting_sync;  // set while its SyncGroup waits for the leader's
  // A member added by this rebalance that has not yet received its JoinGroup response. It may
  // expire while waiting (after new_member_join_timeout_ms), unlike a rejoining member.
  bool is_new = false;
  // When the member expires unless it heartbeats (or is kept alive by a waiting request).
  int64_t session_deadline_ms = 0;

  bool is_static() const { return group_instance_id.has_value(); }
  bool is_awaiting_join() const { return static_cast<bool>(awaiting_join); }
  bool is_awaiting_sync() const { return static_cast<bool>(awaiting_sync); }
  // Whether the member's session deadline applies now. A rejoining member whose JoinGroup, or
  // a member whose SyncGroup, is parked on the coordinator cannot heartbeat, so it is kept.
  bool session_applies() const {
    if (is_new) return true;
    return !is_awaiting_join() && !is_awaiting_sync();
  }
  // The metadata for `protocol`; REQUIRES: the member supports it.
  const std::vector<uint8_t>& metadata_for(const std::string& protocol) const;
  bool supports(const std::string& protocol) const;
};

// The key of a committed offset.
struct TopicPartitionKey {
  std::string topic;
  PartitionId partition{0};
  auto operator<=>(const TopicPartitionKey&) const = default;
};

struct CommittedOffset {
  Offset offset{-1};
  LeaderEpoch leader_epoch{-1};
  std::string metadata;
  int64_t commit_timestamp_ms = 0;
  // Explicit expiry from an OffsetCommit v2-v4 retention_time; -1: by the group's emptiness.
  int64_t expire_timestamp_ms = -1;
  // The position of the record that set it in the group's __consumer_offsets partition (-1
  // when unknown); a record never replaces a newer one.
  Offset record_offset{-1};
};

struct Group {
  std::string group_id;
  GroupState state = GroupState::empty;
  int32_t generation_id = 0;
  std::string protocol_type;                 // kept while Empty so ListGroups can say "consumer"
  std::optional<std::string> protocol_name;  // set in CompletingRebalance and Stable
  std::optional<std::string> leader_id;
  // When the group entered its current state; Empty groups expire their offsets from here.
  int64_t state_timestamp_ms = 0;

  std::map<std::string, Member> members;              // by member id
  std::map<std::string, std::string> static_members;  // group instance id -> member id
  std::map<std::string, int64_t> pending_members;     // KIP-394: member id -> deadline

  // PreparingRebalance timer: the join phase ends at join_deadline_ms at the latest.
  int64_t join_deadline_ms = 0;
  // Group-initial delay (group.initial.rebalance.delay.ms): while set, the join phase waits
  // for the deadline even if everybody has joined, and may be extended by
  // initial_delay_remaining_ms when new members keep arriving.
  bool in_initial_delay = false;
  bool new_member_added = false;
  int64_t initial_delay_remaining_ms = 0;
  // True while the leader's assignment is being stored; later SyncGroups wait with the rest.
  bool storing_assignment = false;

  std::map<TopicPartitionKey, CommittedOffset> offsets;

  // The deadline under which the manager's timer queue holds this group (nullopt: none).
  std::optional<int64_t> scheduled_deadline_ms;

  // Set while the group speaks the consumer group protocol (KIP-848, consumer_group.h); the
  // classic fields above then stay unused, except `state`: Empty while the consumer group has
  // no members and Stable otherwise, so the offset rules (expiry, DeleteGroups, commits from
  // admin tools) treat both kinds alike. Its own state is ConsumerGroup::state_name().
  std::unique_ptr<ConsumerGroup> consumer;

  bool is(GroupState s) const { return state == s; }
  bool has_member(const std::string& member_id) const { return members.contains(member_id); }
  bool has_members() const { return !members.empty() || (consumer && !consumer->empty()); }
  bool is_consumer_protocol() const { return consumer != nullptr; }
  bool is_pending(const std::string& member_id) const {
    return pending_members.contains(member_id);
  }
  bool is_leader(const std::string& member_id) const {
    return leader_id.has_value() && *leader_id == member_id;
  }
  // KIP-345: a request naming `instance_id` with a member id other than the one the instance
  // id is bound to comes from a fenced (older) instance.
  bool is_static_member_fenced(const std::string& member_id,
                               const std::optional<std::string>& instance_id) const;
  std::optional<std::string> static_member_id(const std::string& instance_id) const;

  // The largest rebalance timeout among members (Kafka waits that long for everyone to join).
  int32_t rebalance_timeout_ms() const;
  // Whether a member of `protocol_type` offering `protocols` may join: into an empty group
  // anything non-empty, else the same type and at least one protocol every member supports.
  bool supports_protocols(const std::string& type, const std::vector<Protocol>& protocols) const;
  // The protocol every member supports that most members prefer. REQUIRES: has_members()
  // and such a protocol exists (joins are refused otherwise).
  std::string select_protocol() const;
  bool all_members_joined() const;

  // REQUIRES: no member with this id. The first member of a leaderless group leads it.
  Member& add_member(Member member);
  // REQUIRES: has_member(member_id). Drops its static binding; a leaving leader is replaced by
  // the first remaining member (or none).
  void remove_member(const std::string& member_id);
  // KIP-345: rebinds `instance_id` from `old_member_id` to `new_member_id`, keeping the
  // member's place (leadership, assignment). Returns the member under its new id.
  Member& replace_static_member(const std::string& instance_id, const std::string& old_member_id,
                                const std::string& new_member_id);
  void transition_to(GroupState next, int64_t now_ms);
};

}  // namespace cairn::broker::groups
