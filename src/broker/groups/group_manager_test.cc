// GroupManager on a fake clock: every error code of the classic group protocol, generations,
// leader and protocol selection, KIP-394 two-step joins, KIP-345 static members, timers that
// fire with no traffic, and the offset checks. A "clock" here is a number the test moves;
// advance() fires every timer deadline in between, in order, as the shard's timer would.
#include "broker/groups/group_manager.h"

#include <gtest/gtest.h>

#include <memory>

namespace cairn::broker::groups {
namespace {

constexpr int32_t kSessionMs = 10'000;
constexpr int32_t kRebalanceMs = 20'000;

// A JoinGroup or SyncGroup answer slot that fails the test if answered twice. Copies share
// the slot; `->` reaches the answer itself.
template <typename T>
class Answer {
 public:
  bool ready() const { return slot_->value.has_value(); }
  const T* operator->() const {
    EXPECT_TRUE(ready());
    return &*slot_->value;
  }
  std::function<void(T)> callback() const {
    auto slot = slot_;
    return [slot](T result) {
      ++slot->calls;
      EXPECT_EQ(slot->calls, 1) << "answered twice";
      slot->value = std::move(result);
    };
  }

 private:
  struct Slot {
    std::optional<T> value;
    int calls = 0;
  };
  std::shared_ptr<Slot> slot_ = std::make_shared<Slot>();
};

std::vector<uint8_t> bytes(std::string_view s) { return std::vector<uint8_t>(s.begin(), s.end()); }

// ConsumerProtocolSubscription v0 for `topics` (for OffsetDelete's subscription check).
std::vector<uint8_t> subscription(const std::vector<std::string>& topics) {
  std::vector<uint8_t> out = {0, 0};
  out.push_back(0);
  out.push_back(0);
  out.push_back(0);
  out.push_back(static_cast<uint8_t>(topics.size()));
  for (const std::string& t : topics) {
    out.push_back(0);
    out.push_back(static_cast<uint8_t>(t.size()));
    out.insert(out.end(), t.begin(), t.end());
  }
  out.insert(out.end(), {0xff, 0xff, 0xff, 0xff});  // null user data
  return out;
}

class GroupManagerTest : public ::testing::Test {
 protected:
  GroupManagerTest() { make_manager(); }

  void make_manager() {
    manager_ = std::make_unique<GroupManager>(
        config_,
        [this](const std::string& prefix) { return prefix + "-" + std::to_string(++ids_); },
        store_);
  }

  JoinRequest request(std::string member_id = "", std::vector<Protocol> protocols = {}) {
    JoinRequest r;
    r.group_id = "g";
    r.member_id = std::move(member_id);
    r.client_id = "client";
    r.client_host = "/127.0.0.1";
    r.session_timeout_ms = kSessionMs;
    r.rebalance_timeout_ms = kRebalanceMs;
    r.protocol_type = "consumer";
    r.protocols = protocols.empty() ? std::vector<Protocol>{{"range", subscription({"orders"})}}
                                    : std::move(protocols);
    return r;
  }

  Answer<JoinResult> join(JoinRequest r) {
    Answer<JoinResult> answer;
    manager_->join_group(std::move(r), now_, answer.callback());
    return answer;
  }

  Answer<SyncResult> sync(
      const std::string& member_id, int32_t generation,
      std::vector<std::pair<std::string, std::vector<uint8_t>>> assignments = {},
      std::optional<std::string> instance_id = std::nullopt) {
    SyncRequest r;
    r.group_id = "g";
    r.member_id = member_id;
    r.generation_id = generation;
    r.group_instance_id = std::move(instance_id);
    r.assignments = std::move(assignments);
    Answer<SyncResult> answer;
    manager_->sync_group(std::move(r), now_, answer.callback());
    return answer;
  }

  ErrorCode heartbeat(const std::string& member_id, int32_t generation,
                      std::optional<std::string> instance_id = std::nullopt) {
    return manager_->heartbeat({"g", generation, member_id, std::move(instance_id)}, now_);
  }

  // Moves the clock by `ms`, firing each timer at its own deadline.
  void advance(int64_t ms) {
    int64_t target = now_ + ms;
    while (auto next = manager_->next_deadline_ms()) {
      if (*next > target) break;
      now_ = std::max(now_, *next);
      manager_->advance(now_);
    }
    now_ = target;
    manager_->advance(now_);
  }

  // Joins one dynamic member into an empty group the old way (no KIP-394), syncs it, and
  // returns its member id. The group is Stable afterwards.
  std::string join_alone() {
    auto j = join(request());
    EXPECT_TRUE(j.ready());
    EXPECT_EQ(j->error, ErrorCode::none);
    auto s = sync(j->member_id, j->generation_id, {{j->member_id, bytes("all")}});
    EXPECT_TRUE(s.ready());
    return j->member_id;
  }

  GroupState state() const {
    const Group* g = manager_->find_group("g");
    return g == nullptr ? GroupState::dead : g->state;
  }
  int32_t generation() const { return manager_->find_group("g")->generation_id; }

  GroupConfig config_ = [] {
    GroupConfig c;
    c.initial_rebalance_delay_ms = 0;
    return c;
  }();
  StoreGroupFn store_;
  int ids_ = 0;
  int64_t now_ = 1'700'000'000'000;
  std::unique_ptr<GroupManager> manager_;
};

// ---------------------------------------------------------------------------------------------
// Joining

TEST_F(GroupManagerTest, FirstMemberOfEmptyGroupLeadsGenerationOne) {
  auto j = join(request());
  ASSERT_TRUE(j.ready());
  EXPECT_EQ(j->error, ErrorCode::none);
  EXPECT_EQ(j->generation_id, 1);
  EXPECT_EQ(j->member_id, "client-1");
  EXPECT_EQ(j->leader_id, "client-1");
  EXPECT_EQ(j->protocol_name, "range");
  ASSERT_EQ(j->members.size(), 1u);
  EXPECT_EQ(j->members[0].metadata, subscription({"orders"}));
  EXPECT_EQ(state(), GroupState::completing_rebalance);
  auto s = sync(j->member_id, 1, {{j->member_id, bytes("p0")}});
  ASSERT_TRUE(s.ready());
  EXPECT_EQ(s->error, ErrorCode::none);
  EXPECT_EQ(s->assignment, bytes("p0"));
  EXPECT_EQ(state(), GroupState::stable);
}

TEST_F(GroupManagerTest, MemberIdRequiredThenSecondJoinWithThatId) {
  JoinRequest first = request();
  first.require_known_member_id = true;
  auto j1 = join(first);
  ASSERT_TRUE(j1.ready());
  EXPECT_EQ(j1->error, ErrorCode::member_id_required);
  EXPECT_EQ(j1->member_id, "client-1");
  EXPECT_EQ(manager_->find_group("g")->members.size(), 0u);

  JoinRequest second = request("client-1");
  second.require_known_member_id = true;
  auto j2 = join(second);
  ASSERT_TRUE(j2.ready());
  EXPECT_EQ(j2->error, ErrorCode::none);
  EXPECT_EQ(j2->member_id, "client-1");
  EXPECT_EQ(j2->generation_id, 1);
}

TEST_F(GroupManagerTest, PendingMemberThatNeverReturnsExpiresAfterSessionTimeout) {
  std::string a = join_alone();
  JoinRequest r = request();
  r.require_known_member_id = true;
  auto pending = join(r);
  ASSERT_EQ(pending->error, ErrorCode::member_id_required);
  EXPECT_EQ(state(), GroupState::stable);  // a pending member does not start a rebalance
  // Keep A alive past B's session timeout.
  for (int i = 0; i < 4; ++i) {
    advance(kSessionMs / 3);
    EXPECT_EQ(heartbeat(a, 1), ErrorCode::none);
  }
  EXPECT_FALSE(manager_->find_group("g")->is_pending(pending->member_id));
  auto late = join(request(pending->member_id));
  ASSERT_TRUE(late.ready());
  EXPECT_EQ(late->error, ErrorCode::unknown_member_id);
}

TEST_F(GroupManagerTest, JoinPhaseWaitsForPendingMember) {
  std::string a = join_alone();
  JoinRequest r = request();
  r.require_known_member_id = true;
  auto b_first = join(r);
  ASSERT_EQ(b_first->error, ErrorCode::member_id_required);
  auto c = join(request());  // an old client: joins at once and starts a rebalance
  EXPECT_FALSE(c.ready());
  auto a_rejoin = join(request(a));
  EXPECT_FALSE(a_rejoin.ready()) << "B holds a member id and has not joined yet";
  JoinRequest b_second = request(b_first->member_id);
  b_second.require_known_member_id = true;
  auto b = join(b_second);
  ASSERT_TRUE(a_rejoin.ready());
  ASSERT_TRUE(b.ready());
  ASSERT_TRUE(c.ready());
  EXPECT_EQ(a_rejoin->generation_id, 2);
  EXPECT_EQ(a_rejoin->members.size(), 3u);
  EXPECT_EQ(b->members.size(), 0u);
  EXPECT_EQ(c->members.size(), 0u);
}

TEST_F(GroupManagerTest, SessionTimeoutOutsideConfiguredRangeIsRefused) {
  JoinRequest low = request();
  low.session_timeout_ms = config_.min_session_timeout_ms - 1;
  EXPECT_EQ(join(low)->error, ErrorCode::invalid_session_timeout);
  JoinRequest high = request();
  high.session_timeout_ms = config_.max_session_timeout_ms + 1;
  EXPECT_EQ(join(high)->error, ErrorCode::invalid_session_timeout);
  EXPECT_EQ(manager_->find_group("g"), nullptr) << "a refused first join leaves no group";
}

TEST_F(GroupManagerTest, EmptyGroupIdIsInvalid) {
  JoinRequest r = request();
  r.group_id = "";
  EXPECT_EQ(join(r)->error, ErrorCode::invalid_group_id);
}

TEST_F(GroupManagerTest, InconsistentProtocolTypeOrNoCommonProtocolIsRefused) {
  join_alone();
  JoinRequest other_type = request();
  other_type.protocol_type = "connect";
  EXPECT_EQ(join(other_type)->error, ErrorCode::inconsistent_group_protocol);
  EXPECT_EQ(join(request("", {{"roundrobin", {}}}))->error, ErrorCode::inconsistent_group_protocol);
  JoinRequest none = request();
  none.group_id = "fresh";
  none.protocols.clear();
  EXPECT_EQ(join(none)->error, ErrorCode::inconsistent_group_protocol);
}

TEST_F(GroupManagerTest, JoinWithMemberIdOfUnknownGroupOrMemberIsUnknownMember) {
  EXPECT_EQ(join(request("ghost"))->error, ErrorCode::unknown_member_id);
  join_alone();
  EXPECT_EQ(join(request("ghost"))->error, ErrorCode::unknown_member_id);
}

TEST_F(GroupManagerTest, SecondMemberRebalancesBumpsGenerationAndLeaderGetsAllMembers) {
  std::string a = join_alone();
  auto b = join(request());
  EXPECT_FALSE(b.ready());
  EXPECT_EQ(state(), GroupState::preparing_rebalance);
  EXPECT_EQ(heartbeat(a, 1), ErrorCode::rebalance_in_progress);
  auto a2 = join(request(a));
  ASSERT_TRUE(a2.ready());
  ASSERT_TRUE(b.ready());
  EXPECT_EQ(a2->generation_id, 2);
  EXPECT_EQ(b->generation_id, 2);
  EXPECT_EQ(a2->leader_id, a);
  EXPECT_EQ(b->leader_id, a);
  EXPECT_EQ(a2->members.size(), 2u);
  EXPECT_TRUE(b->members.empty());

  auto follower = sync(b->member_id, 2);
  EXPECT_FALSE(follower.ready()) << "followers wait for the leader's assignment";
  auto leader = sync(a, 2, {{a, bytes("p0,p1")}, {b->member_id, bytes("p2")}});
  ASSERT_TRUE(leader.ready());
  ASSERT_TRUE(follower.ready());
  EXPECT_EQ(leader->assignment, bytes("p0,p1"));
  EXPECT_EQ(follower->assignment, bytes("p2"));
  EXPECT_EQ(state(), GroupState::stable);
}

TEST_F(GroupManagerTest, MemberLeftOutOfAssignmentGetsEmptyBytes) {
  std::string a = join_alone();
  auto b = join(request());
  auto a2 = join(request(a));
  auto follower = sync(b->member_id, 2);
  auto leader = sync(a, 2, {{a, bytes("all")}, {"not-a-member", bytes("x")}});
  ASSERT_TRUE(follower.ready());
  EXPECT_EQ(follower->error, ErrorCode::none);
  EXPECT_TRUE(follower->assignment.empty());
  EXPECT_EQ(leader->assignment, bytes("all"));
}

TEST_F(GroupManagerTest, SyncGroupErrors) {
  EXPECT_EQ(sync("x", 1)->error, ErrorCode::unknown_member_id);  // no such group
  std::string a = join_alone();
  EXPECT_EQ(sync("x", 1)->error, ErrorCode::unknown_member_id);
  EXPECT_EQ(sync(a, 7)->error, ErrorCode::illegal_generation);
  auto b = join(request());  // PreparingRebalance
  EXPECT_EQ(sync(a, 1)->error, ErrorCode::rebalance_in_progress);
  // In Stable a late SyncGroup just returns the member's assignment.
  join(request(a));
  sync(a, 2, {{a, bytes("A")}, {b->member_id, bytes("B")}});
  auto again = sync(b->member_id, 2);
  ASSERT_TRUE(again.ready());
  EXPECT_EQ(again->assignment, bytes("B"));
}

TEST_F(GroupManagerTest, SyncGroupNamingAnotherProtocolIsInconsistent) {
  std::string a = join_alone();
  auto sync_named = [&](std::optional<std::string> type, std::optional<std::string> name,
                        int32_t generation) {
    SyncRequest r;
    r.group_id = "g";
    r.member_id = a;
    r.generation_id = generation;
    r.protocol_type = std::move(type);
    r.protocol_name = std::move(name);
    Answer<SyncResult> answer;
    manager_->sync_group(std::move(r), now_, answer.callback());
    EXPECT_TRUE(answer.ready());
    return answer->error;
  };
  EXPECT_EQ(sync_named("connect", "range", 1), ErrorCode::inconsistent_group_protocol);
  EXPECT_EQ(sync_named("consumer", "roundrobin", 1), ErrorCode::inconsistent_group_protocol);
  EXPECT_EQ(sync_named("connect", "range", 2), ErrorCode::illegal_generation) << "checked first";
  EXPECT_EQ(sync_named("consumer", "range", 1), ErrorCode::none);
  EXPECT_EQ(sync_named(std::nullopt, std::nullopt, 1), ErrorCode::none) << "before v5";
}

TEST_F(GroupManagerTest, HeartbeatErrors) {
  EXPECT_EQ(heartbeat("x", 1), ErrorCode::unknown_member_id);
  auto j = join(request());
  EXPECT_EQ(heartbeat(j->member_id, 1), ErrorCode::none) << "CompletingRebalance accepts";
  sync(j->member_id, 1, {});
  EXPECT_EQ(heartbeat(j->member_id, 1), ErrorCode::none);
  EXPECT_EQ(heartbeat(j->member_id, 0), ErrorCode::illegal_generation);
  EXPECT_EQ(heartbeat("x", 1), ErrorCode::unknown_member_id);
}

TEST_F(GroupManagerTest, SilentMemberExpiresOnTimerAlone) {
  std::string a = join_alone();
  auto b = join(request());
  join(request(a));
  sync(a, 2, {});
  sync(b->member_id, 2);
  ASSERT_EQ(state(), GroupState::stable);
  // A heartbeats, B is silent: nothing but the timer removes B.
  advance(kSessionMs / 2);
  EXPECT_EQ(heartbeat(a, 2), ErrorCode::none);
  advance(kSessionMs / 2 + 1);
  EXPECT_FALSE(manager_->find_group("g")->has_member(b->member_id));
  EXPECT_EQ(state(), GroupState::preparing_rebalance);
  EXPECT_EQ(heartbeat(a, 2), ErrorCode::rebalance_in_progress);
  auto a3 = join(request(a));
  ASSERT_TRUE(a3.ready());
  EXPECT_EQ(a3->generation_id, 3);
  EXPECT_EQ(a3->members.size(), 1u);
}

TEST_F(GroupManagerTest, OnlyMemberGoingSilentEmptiesGroupWithNoOtherTraffic) {
  join_alone();
  advance(kSessionMs + 1);
  EXPECT_EQ(state(), GroupState::empty);
  EXPECT_EQ(generation(), 2);
  EXPECT_FALSE(manager_->next_deadline_ms().has_value());
}

TEST_F(GroupManagerTest, MemberThatDoesNotRejoinIsDroppedAtRebalanceTimeout) {
  std::string a = join_alone();
  auto b = join(request());
  join(request(a));
  sync(a, 2, {});
  sync(b->member_id, 2);
  auto c = join(request());  // rebalance to generation 3
  auto a3 = join(request(a));
  EXPECT_FALSE(a3.ready());
  // B keeps heartbeating (and is told to rejoin) but never does.
  for (int64_t t = 0; t < kRebalanceMs; t += kSessionMs / 3) {
    EXPECT_EQ(heartbeat(b->member_id, 2), ErrorCode::rebalance_in_progress);
    advance(kSessionMs / 3);
  }
  ASSERT_TRUE(a3.ready());
  ASSERT_TRUE(c.ready());
  EXPECT_EQ(a3->generation_id, 3);
  EXPECT_EQ(a3->members.size(), 2u);
  EXPECT_EQ(heartbeat(b->member_id, 2), ErrorCode::unknown_member_id);
}

TEST_F(GroupManagerTest, LeaveGroupRebalancesAndLastLeaverEmptiesGroup) {
  std::string a = join_alone();
  auto b = join(request());
  join(request(a));
  sync(a, 2, {});
  sync(b->member_id, 2);
  LeaveResult left = manager_->leave_group("g", {{b->member_id, std::nullopt}}, now_);
  EXPECT_EQ(left.error, ErrorCode::none);
  ASSERT_EQ(left.member_errors.size(), 1u);
  EXPECT_EQ(left.member_errors[0], ErrorCode::none);
  EXPECT_EQ(state(), GroupState::preparing_rebalance);
  auto a3 = join(request(a));
  ASSERT_TRUE(a3.ready());
  sync(a, 3, {});
  left = manager_->leave_group("g", {{a, std::nullopt}, {"ghost", std::nullopt}}, now_);
  EXPECT_EQ(left.member_errors[0], ErrorCode::none);
  EXPECT_EQ(left.member_errors[1], ErrorCode::unknown_member_id);
  EXPECT_EQ(state(), GroupState::empty);
  EXPECT_EQ(generation(), 4);
  left = manager_->leave_group("nope", {{a, std::nullopt}}, now_);
  EXPECT_EQ(left.member_errors[0], ErrorCode::unknown_member_id);
}

TEST_F(GroupManagerTest, LeaderLeavingHandsLeadershipToRemainingMember) {
  std::string a = join_alone();
  auto b = join(request());
  join(request(a));
  sync(a, 2, {});
  sync(b->member_id, 2);
  manager_->leave_group("g", {{a, std::nullopt}}, now_);
  auto b3 = join(request(b->member_id));
  ASSERT_TRUE(b3.ready());
  EXPECT_EQ(b3->leader_id, b->member_id);
  EXPECT_EQ(b3->members.size(), 1u);
}

TEST_F(GroupManagerTest, ProtocolChosenIsCommonAndMostPreferred) {
  auto a = join(request("", {{"range", {}}, {"roundrobin", {}}}));
  sync(a->member_id, 1, {});
  auto b = join(request("", {{"range", {}}, {"roundrobin", {}}}));
  auto c = join(request("", {{"roundrobin", {}}, {"range", {}}}));
  auto a2 = join(request(a->member_id, {{"range", {}}, {"roundrobin", {}}}));
  ASSERT_TRUE(a2.ready());
  EXPECT_EQ(a2->protocol_name, "range");  // two votes against one
  sync(a->member_id, 2, {});
  // A member that only speaks roundrobin forces it: range is no longer common.
  auto d = join(request("", {{"cooperative-sticky", {}}, {"roundrobin", {}}}));
  join(request(a->member_id, {{"range", {}}, {"roundrobin", {}}}));
  join(request(b->member_id, {{"range", {}}, {"roundrobin", {}}}));
  auto c3 = join(request(c->member_id, {{"roundrobin", {}}, {"range", {}}}));
  ASSERT_TRUE(d.ready());
  EXPECT_EQ(d->protocol_name, "roundrobin");
  EXPECT_EQ(c3->generation_id, 3);
}

TEST_F(GroupManagerTest, DuplicateJoinAnswersTheOlderRequestAndKeepsTheNewer) {
  std::string a = join_alone();
  auto b = join(request());
  auto a_first = join(request(a));
  EXPECT_TRUE(a_first.ready()) << "A and B joined: generation 2";
  auto c = join(request());
  auto a_twice = join(request(a));
  auto a_again = join(request(a));
  ASSERT_TRUE(a_twice.ready());
  EXPECT_EQ(a_twice->error, ErrorCode::rebalance_in_progress);
  EXPECT_FALSE(a_again.ready());
  join(request(b->member_id));
  ASSERT_TRUE(a_again.ready());
  EXPECT_EQ(a_again->generation_id, 3);
}

TEST_F(GroupManagerTest, RejoinDuringCompletingRebalanceWithSameMetadataGetsSameAnswer) {
  std::string a = join_alone();
  auto b = join(request());
  join(request(a));
  ASSERT_EQ(state(), GroupState::completing_rebalance);
  auto again = join(request(b->member_id));
  ASSERT_TRUE(again.ready());
  EXPECT_EQ(again->generation_id, 2);
  EXPECT_EQ(state(), GroupState::completing_rebalance);
  // New metadata starts a new rebalance instead; a waiting SyncGroup is told so.
  auto waiting = sync(b->member_id, 2);
  auto changed = join(request(a, {{"range", subscription({"orders", "payments"})}}));
  ASSERT_TRUE(waiting.ready());
  EXPECT_EQ(waiting->error, ErrorCode::rebalance_in_progress);
  EXPECT_EQ(state(), GroupState::preparing_rebalance);
  EXPECT_FALSE(changed.ready());
}

TEST_F(GroupManagerTest, StableLeaderRejoiningRebalancesFollowerDoesNot) {
  std::string a = join_alone();
  auto b = join(request());
  join(request(a));
  sync(a, 2, {});
  sync(b->member_id, 2);
  auto follower = join(request(b->member_id));
  ASSERT_TRUE(follower.ready());
  EXPECT_EQ(follower->generation_id, 2);
  EXPECT_EQ(state(), GroupState::stable);
  auto leader = join(request(a));
  EXPECT_FALSE(leader.ready());
  EXPECT_EQ(state(), GroupState::preparing_rebalance);
}

TEST_F(GroupManagerTest, GroupMaxSizeIsEnforced) {
  config_.max_group_size = 2;
  make_manager();
  std::string a = join_alone();
  auto b = join(request());
  auto c = join(request());
  ASSERT_TRUE(c.ready());
  EXPECT_EQ(c->error, ErrorCode::group_max_size_reached);
  EXPECT_FALSE(b.ready());
}

TEST_F(GroupManagerTest, NewMemberStuckInALongRebalanceIsDroppedAfterJoinTimeout) {
  config_.new_member_join_timeout_ms = 15'000;
  make_manager();
  std::string a = join_alone();
  // A asks for a long rebalance timeout, then a new member B arrives; A never rejoins but
  // keeps heartbeating, so the join phase runs until A's rebalance timeout.
  JoinRequest slow = request(a);
  slow.rebalance_timeout_ms = 60'000;
  auto a_again = join(slow);
  ASSERT_TRUE(a_again.ready()) << "alone in Stable: a follower-less leader rebalances at once";
  sync(a, 2, {});
  auto b = join(request());
  EXPECT_FALSE(b.ready());
  for (int i = 0; i < 6; ++i) {
    advance(3'000);
    heartbeat(a, 2);
  }
  // B waited longer than new_member_join_timeout_ms: it is told UNKNOWN_MEMBER_ID (a live
  // client joins again) and is no longer part of the rebalance.
  ASSERT_TRUE(b.ready());
  EXPECT_EQ(b->error, ErrorCode::unknown_member_id);
  EXPECT_FALSE(manager_->find_group("g")->has_member(b->member_id));
}

TEST_F(GroupManagerTest, LeaderLeavingDuringCompletingRebalanceRestartsIt) {
  std::string a = join_alone();
  auto b = join(request());
  join(request(a));
  ASSERT_EQ(state(), GroupState::completing_rebalance);
  auto waiting = sync(b->member_id, 2);
  manager_->leave_group("g", {{a, std::nullopt}}, now_);
  ASSERT_TRUE(waiting.ready());
  EXPECT_EQ(waiting->error, ErrorCode::rebalance_in_progress);
  EXPECT_EQ(state(), GroupState::preparing_rebalance);
  auto b3 = join(request(b->member_id));
  ASSERT_TRUE(b3.ready());
  EXPECT_EQ(b3->leader_id, b->member_id);
  EXPECT_EQ(b3->generation_id, 3);
}

TEST_F(GroupManagerTest, MemberInCompletingRebalanceThatNeverSyncsExpires) {
  std::string a = join_alone();
  auto b = join(request());
  join(request(a));
  auto leader = sync(a, 2, {});  // waits for nothing: the leader's sync completes the phase
  ASSERT_TRUE(leader.ready());
  // B got its JoinGroup answer but never sends SyncGroup or heartbeats.
  for (int i = 0; i < 4; ++i) {
    advance(kSessionMs / 3);
    heartbeat(a, 2);
  }
  EXPECT_FALSE(manager_->find_group("g")->has_member(b->member_id));
}

TEST_F(GroupManagerTest, ShutdownAnswersEveryParkedRequest) {
  std::string a = join_alone();
  auto b = join(request());
  EXPECT_FALSE(b.ready());
  manager_->fail_waiting_requests(ErrorCode::not_coordinator);
  ASSERT_TRUE(b.ready());
  EXPECT_EQ(b->error, ErrorCode::not_coordinator);
}

// ---------------------------------------------------------------------------------------------
// Initial rebalance delay

TEST_F(GroupManagerTest, InitialDelayGathersMembersArrivingTogether) {
  config_.initial_rebalance_delay_ms = 3'000;
  make_manager();
  auto a = join(request());
  EXPECT_FALSE(a.ready());
  advance(1'000);
  auto b = join(request());
  advance(2'000);  // first delay over, but B arrived: wait another delay
  EXPECT_FALSE(a.ready());
  advance(1'000);
  auto c = join(request());
  advance(2'000);
  EXPECT_FALSE(a.ready()) << "still within the rebalance timeout and members still arriving";
  advance(3'000);
  ASSERT_TRUE(a.ready());
  ASSERT_TRUE(b.ready());
  ASSERT_TRUE(c.ready());
  EXPECT_EQ(a->generation_id, 1);
  EXPECT_EQ(a->members.size(), 3u);
}

TEST_F(GroupManagerTest, InitialDelayEndsWhenNobodyElseArrives) {
  config_.initial_rebalance_delay_ms = 3'000;
  make_manager();
  auto a = join(request());
  advance(2'999);
  EXPECT_FALSE(a.ready());
  advance(1);
  ASSERT_TRUE(a.ready());
  EXPECT_EQ(a->generation_id, 1);
}

// ---------------------------------------------------------------------------------------------
// Static membership (KIP-345)

class StaticMembershipTest : public GroupManagerTest {
 protected:
  JoinRequest static_request(const std::string& instance, std::string member_id = "") {
    JoinRequest r = request(std::move(member_id));
    r.group_instance_id = instance;
    return r;
  }
  // Two static members, Stable at generation 2 with assignments "A" and "B".
  void form_group() {
    auto a = join(static_request("i-a"));
    sync(a->member_id, 1, {});
    auto b = join(static_request("i-b"));
    auto a2 = join(static_request("i-a", a->member_id));
    ASSERT_TRUE(b.ready());
    a_ = a->member_id;
    b_ = b->member_id;
    sync(b_, 2, {}, "i-b");
    auto s = sync(a_, 2, {{a_, bytes("A")}, {b_, bytes("B")}}, "i-a");
    ASSERT_EQ(s->error, ErrorCode::none);
    ASSERT_EQ(state(), GroupState::stable);
  }
  std::string a_, b_;
};

TEST_F(StaticMembershipTest, RestartWithinSessionTimeoutKeepsGenerationAndAssignment) {
  form_group();
  // B's process restarts: it joins with its instance id and no member id.
  auto b_again = join(static_request("i-b"));
  ASSERT_TRUE(b_again.ready());
  EXPECT_EQ(b_again->error, ErrorCode::none);
  EXPECT_NE(b_again->member_id, b_);
  EXPECT_EQ(b_again->generation_id, 2);
  EXPECT_TRUE(b_again->members.empty());
  EXPECT_FALSE(b_again->skip_assignment) << "a follower assigns nothing anyway";
  EXPECT_EQ(state(), GroupState::stable) << "no rebalance";
  auto s = sync(b_again->member_id, 2, {}, "i-b");
  ASSERT_TRUE(s.ready());
  EXPECT_EQ(s->assignment, bytes("B"));
  EXPECT_EQ(heartbeat(a_, 2, "i-a"), ErrorCode::none);
  // The old incarnation is fenced everywhere.
  EXPECT_EQ(heartbeat(b_, 2, "i-b"), ErrorCode::fenced_instance_id);
  EXPECT_EQ(sync(b_, 2, {}, "i-b")->error, ErrorCode::fenced_instance_id);
  EXPECT_EQ(join(static_request("i-b", b_))->error, ErrorCode::fenced_instance_id);
  EXPECT_EQ(manager_->check_offset_commit("g", 2, b_, "i-b", now_), ErrorCode::fenced_instance_id);
  LeaveResult left = manager_->leave_group("g", {{b_, "i-b"}}, now_);
  EXPECT_EQ(left.member_errors[0], ErrorCode::fenced_instance_id);
}

TEST_F(StaticMembershipTest, RestartedLeaderGetsTheMemberList) {
  form_group();
  JoinRequest v9 = static_request("i-a");
  v9.supports_skip_assignment = true;
  auto a_again = join(v9);
  ASSERT_TRUE(a_again.ready());
  EXPECT_EQ(a_again->leader_id, a_again->member_id);
  EXPECT_EQ(a_again->members.size(), 2u);
  EXPECT_TRUE(a_again->skip_assignment) << "KIP-814: it must not assign again";
  EXPECT_EQ(state(), GroupState::stable);
  // Its SyncGroup in Stable returns what it had, whatever it sends.
  auto s = sync(a_again->member_id, 2, {{a_again->member_id, bytes("other")}}, "i-a");
  EXPECT_EQ(s->assignment, bytes("A"));
}

TEST_F(StaticMembershipTest, RestartedLeaderBeforeKip814IsAnsweredAsAFollower) {
  form_group();
  auto a_again = join(static_request("i-a"));  // JoinGroup v5-8: no skip_assignment
  ASSERT_TRUE(a_again.ready());
  EXPECT_EQ(a_again->leader_id, a_) << "the old leader id: the client sees it is not the leader";
  EXPECT_TRUE(a_again->members.empty());
  EXPECT_FALSE(a_again->skip_assignment);
  EXPECT_EQ(state(), GroupState::stable);
  EXPECT_EQ(sync(a_again->member_id, 2, {}, "i-a")->assignment, bytes("A"));
}

TEST_F(StaticMembershipTest, StaticMemberThatStaysAwayExpiresAndGroupRebalances) {
  form_group();
  advance(kSessionMs / 2);
  EXPECT_EQ(heartbeat(a_, 2, "i-a"), ErrorCode::none);
  advance(kSessionMs / 2 + 1);
  EXPECT_FALSE(manager_->find_group("g")->has_member(b_));
  EXPECT_EQ(state(), GroupState::preparing_rebalance);
  // Back after expiry: a new member, with a rebalance.
  auto b_late = join(static_request("i-b"));
  auto a3 = join(static_request("i-a", a_));
  ASSERT_TRUE(b_late.ready());
  EXPECT_EQ(a3->generation_id, 3);
}

TEST_F(StaticMembershipTest, ReplacingMemberWaitingInJoinFencesTheOldRequest) {
  form_group();
  auto c = join(request());  // rebalance
  auto b_waiting = join(static_request("i-b", b_));
  EXPECT_FALSE(b_waiting.ready());
  auto b_new = join(static_request("i-b"));
  ASSERT_TRUE(b_waiting.ready());
  EXPECT_EQ(b_waiting->error, ErrorCode::fenced_instance_id);
  EXPECT_FALSE(b_new.ready());
  join(static_request("i-a", a_));
  ASSERT_TRUE(b_new.ready());
  EXPECT_EQ(b_new->generation_id, 3);
  ASSERT_TRUE(c.ready());
}

TEST_F(StaticMembershipTest, LeaveByInstanceIdRemovesTheBoundMember) {
  form_group();
  LeaveResult left = manager_->leave_group("g", {{"", "i-b"}, {"", "i-unknown"}}, now_);
  EXPECT_EQ(left.member_errors[0], ErrorCode::none);
  EXPECT_EQ(left.member_errors[1], ErrorCode::unknown_member_id);
  EXPECT_FALSE(manager_->find_group("g")->has_member(b_));
}

// ---------------------------------------------------------------------------------------------
// Storing the assignment

TEST_F(GroupManagerTest, SyncAnswersWaitForTheAssignmentToBeStored) {
  std::vector<std::function<void(ErrorCode)>> stores;
  store_ = [&stores](const Group&, std::function<void(ErrorCode)> done) {
    stores.push_back(std::move(done));
  };
  make_manager();
  auto a = join(request());
  auto s = sync(a->member_id, 1, {{a->member_id, bytes("x")}});
  EXPECT_FALSE(s.ready());
  ASSERT_EQ(stores.size(), 1u);
  stores[0](ErrorCode::none);
  ASSERT_TRUE(s.ready());
  EXPECT_EQ(s->assignment, bytes("x"));
  EXPECT_EQ(state(), GroupState::stable);
}

TEST_F(GroupManagerTest, FailedAssignmentStoreFailsSyncsAndRebalances) {
  std::vector<std::function<void(ErrorCode)>> stores;
  store_ = [&stores](const Group&, std::function<void(ErrorCode)> done) {
    stores.push_back(std::move(done));
  };
  make_manager();
  auto a = join(request());
  auto s = sync(a->member_id, 1, {{a->member_id, bytes("x")}});
  stores.back()(ErrorCode::not_coordinator);
  ASSERT_TRUE(s.ready());
  EXPECT_EQ(s->error, ErrorCode::not_coordinator);
  EXPECT_EQ(state(), GroupState::preparing_rebalance);
}

// ---------------------------------------------------------------------------------------------
// Loading

TEST_F(GroupManagerTest, GroupsOfLoadingPartitionAnswerLoadInProgress) {
  std::string a = join_alone();
  int32_t partition = offsets_partition_for("g", config_.offsets_topic_partition_count);
  manager_->set_loading(partition, true);
  EXPECT_EQ(join(request())->error, ErrorCode::coordinator_load_in_progress);
  EXPECT_EQ(sync(a, 1)->error, ErrorCode::coordinator_load_in_progress);
  EXPECT_EQ(heartbeat(a, 1), ErrorCode::coordinator_load_in_progress);
  EXPECT_EQ(manager_->check_offset_commit("g", 1, a, std::nullopt, now_),
            ErrorCode::coordinator_load_in_progress);
  EXPECT_EQ(manager_->leave_group("g", {{a, std::nullopt}}, now_).error,
            ErrorCode::coordinator_load_in_progress);
  std::vector<TopicPartitionKey> keys;
  EXPECT_EQ(manager_->delete_group("g", &keys), ErrorCode::coordinator_load_in_progress);
  EXPECT_EQ(manager_->delete_offsets("g", {}).error, ErrorCode::coordinator_load_in_progress);
  // A group on another partition is served.
  std::string other = "g2";
  ASSERT_NE(offsets_partition_for(other, config_.offsets_topic_partition_count), partition);
  EXPECT_EQ(manager_->check_offset_commit(other, -1, "", std::nullopt, now_), ErrorCode::none);
  manager_->set_loading(partition, false);
  EXPECT_EQ(heartbeat(a, 1), ErrorCode::none);
}

TEST(OffsetsPartitionTest, MatchesKafkaHashing) {
  // Java: "abc".hashCode() == 96354; "polygenelubricants".hashCode() == Integer.MIN_VALUE,
  // which Kafka's Utils.abs maps to 0.
  EXPECT_EQ(java_string_hash("abc"), 96354);
  EXPECT_EQ(offsets_partition_for("abc", 50), 96354 % 50);
  EXPECT_EQ(java_string_hash("polygenelubricants"), INT32_MIN);
  EXPECT_EQ(offsets_partition_for("polygenelubricants", 16), 0);
  int32_t negative = java_string_hash("my-group");
  ASSERT_LT(negative, 0);
  EXPECT_EQ(negative, -1906497762);
  EXPECT_EQ(offsets_partition_for("my-group", 50), 1906497762 % 50);
}

}  // namespace
}  // namespace cairn::broker::groups
