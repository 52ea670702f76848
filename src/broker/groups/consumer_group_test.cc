// The consumer group protocol (KIP-848) on a fake clock: the assignors, and GroupManager's
// ConsumerGroupHeartbeat — epochs, revocation before reassignment, fencing, static members,
// session expiry, and how consumer groups coexist with classic ones.
#include <gtest/gtest.h>

#include "broker/groups/assignor.h"
#include "broker/groups/consumer_group.h"
#include "broker/groups/group_manager.h"

namespace cairn::broker::groups {
namespace {

constexpr int32_t kRebalanceMs = 30'000;

TopicPartitions tp(const std::string& topic, std::set<int32_t> partitions) {
  return {{topic, std::move(partitions)}};
}

// ---------------------------------------------------------------------------------------------
// Assignors

TEST(AssignorTest, UniformSplitsEvenlyAndIsDeterministic) {
  AssignorInput input;
  input.members = {{"a", {"t"}}, {"b", {"t"}}, {"c", {"t"}}};
  input.partition_counts = {{"t", 7}};
  GroupAssignment result = assign_uniform(input);
  EXPECT_EQ(result["a"], tp("t", {0, 3, 6}));
  EXPECT_EQ(result["b"], tp("t", {1, 4}));
  EXPECT_EQ(result["c"], tp("t", {2, 5}));
  EXPECT_EQ(assign_uniform(input), result);
}

TEST(AssignorTest, UniformKeepsPreviousPartitionsAsFarAsBalanceAllows) {
  AssignorInput input;
  input.members = {{"a", {"t"}}, {"b", {"t"}}, {"c", {"t"}}};
  input.partition_counts = {{"t", 6}};
  input.previous = {{"a", tp("t", {0, 1, 2})}, {"b", tp("t", {3, 4, 5})}};
  GroupAssignment result = assign_uniform(input);
  EXPECT_EQ(result["a"], tp("t", {0, 1}));
  EXPECT_EQ(result["b"], tp("t", {3, 4}));
  EXPECT_EQ(result["c"], tp("t", {2, 5}));
}

TEST(AssignorTest, UniformGivesEachTopicOnlyToItsSubscribers) {
  AssignorInput input;
  input.members = {{"a", {"x"}}, {"b", {"x", "y"}}};
  input.partition_counts = {{"x", 2}, {"y", 2}, {"unsubscribed", 3}};
  GroupAssignment result = assign_uniform(input);
  EXPECT_EQ(partition_count(result["a"]) + partition_count(result["b"]), 4u);
  EXPECT_FALSE(result["a"].contains("y"));
  EXPECT_EQ(result["b"]["y"], (std::set<int32_t>{0, 1}));
}

TEST(AssignorTest, RangeGivesConsecutivePartitionsExtraToTheFirst) {
  AssignorInput input;
  input.members = {{"b", {"t"}}, {"a", {"t"}}};
  input.partition_counts = {{"t", 5}};
  GroupAssignment result = assign_range(input);
  EXPECT_EQ(result["a"], tp("t", {0, 1, 2}));
  EXPECT_EQ(result["b"], tp("t", {3, 4}));
}

// ---------------------------------------------------------------------------------------------
// The state machine, through GroupManager

class ConsumerGroupTest : public ::testing::Test {
 protected:
  ConsumerGroupTest() : manager_(config(), [](const std::string&) { return "generated"; }) {}

  static GroupConfig config() {
    GroupConfig c;
    c.consumer_session_timeout_ms = 45'000;
    c.consumer_heartbeat_interval_ms = 5'000;
    return c;
  }

  PartitionCountFn counts() {
    return [this](const std::string& topic) -> std::optional<int32_t> {
      auto it = topics_.find(topic);
      if (it == topics_.end()) return std::nullopt;
      return it->second;
    };
  }

  ConsumerHeartbeatResult send(ConsumerHeartbeat request) {
    request.group_id = "g";
    return manager_.consumer_heartbeat(std::move(request), counts(), now_ms_);
  }

  ConsumerHeartbeatResult join(const std::string& member_id,
                               std::optional<std::string> instance_id = std::nullopt,
                               std::vector<std::string> topics = {"t"}) {
    ConsumerHeartbeat request;
    request.member_id = member_id;
    request.member_epoch = 0;
    request.instance_id = std::move(instance_id);
    request.rebalance_timeout_ms = kRebalanceMs;
    request.subscribed_topic_names = std::move(topics);
    request.owned = TopicPartitions{};
    return send(std::move(request));
  }

  ConsumerHeartbeatResult beat(const std::string& member_id, int32_t epoch,
                               std::optional<TopicPartitions> owned) {
    ConsumerHeartbeat request;
    request.member_id = member_id;
    request.member_epoch = epoch;
    request.owned = std::move(owned);
    return send(std::move(request));
  }

  const ConsumerGroup& group() {
    const Group* g = manager_.find_group("g");
    EXPECT_NE(g, nullptr);
    EXPECT_TRUE(g->is_consumer_protocol());
    return *g->consumer;
  }

  ConsumerHeartbeatResult leave_static(const std::string& member_id,
                                       const std::string& instance_id) {
    ConsumerHeartbeat request;
    request.member_id = member_id;
    request.member_epoch = kLeaveStaticMemberEpoch;
    request.instance_id = instance_id;
    return send(std::move(request));
  }

  // a (epoch 1, everything) and b (joined at epoch 2) settle: a is told to revoke half, then
  // acknowledges, then b gets that half.
  void split_between_a_and_b() {
    ASSERT_EQ(beat("a", 1, tp("t", {0, 1, 2, 3, 4, 5})).assignment, tp("t", {0, 1, 2}));
    ASSERT_EQ(beat("a", 1, tp("t", {0, 1, 2})).member_epoch, 2);
    ASSERT_EQ(beat("b", 2, TopicPartitions{}).assignment, tp("t", {3, 4, 5}));
  }

  void advance_to(int64_t now_ms) {
    now_ms_ = now_ms;
    manager_.advance(now_ms);
  }

  std::map<std::string, int32_t> topics_{{"t", 6}};
  int64_t now_ms_ = 1'000;
  GroupManager manager_;
};

TEST_F(ConsumerGroupTest, FirstMemberGetsEveryPartitionAndEpochOne) {
  ConsumerHeartbeatResult a = join("a");
  ASSERT_EQ(a.error, ErrorCode::none);
  EXPECT_EQ(a.member_id, "a");
  EXPECT_EQ(a.member_epoch, 1);
  EXPECT_EQ(a.heartbeat_interval_ms, 5'000);
  EXPECT_EQ(a.assignment, tp("t", {0, 1, 2, 3, 4, 5}));
  EXPECT_STREQ(group().state_name(), "Stable");
}

TEST_F(ConsumerGroupTest, EmptyMemberIdIsAssignedByTheBroker) {
  ConsumerHeartbeatResult a = join("");
  ASSERT_EQ(a.error, ErrorCode::none);
  EXPECT_EQ(a.member_id, "generated");
}

TEST_F(ConsumerGroupTest, RevocationComesBeforeReassignment) {
  join("a");
  ConsumerHeartbeatResult b = join("b");
  // b joins at epoch 2 but may not take a's partitions until a has given them up.
  EXPECT_EQ(b.member_epoch, 2);
  EXPECT_EQ(b.assignment, TopicPartitions{});
  EXPECT_STREQ(group().state_name(), "Reconciling");

  // a learns what it keeps; its epoch stays until it acknowledges.
  ConsumerHeartbeatResult a = beat("a", 1, tp("t", {0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(a.member_epoch, 1);
  EXPECT_EQ(a.assignment, tp("t", {0, 1, 2}));
  b = beat("b", 2, TopicPartitions{});
  EXPECT_EQ(b.assignment, TopicPartitions{});  // still owned by a

  // a still claims them: nothing moves. Then it acknowledges and moves to epoch 2.
  a = beat("a", 1, tp("t", {0, 1, 2, 3}));
  EXPECT_EQ(a.member_epoch, 1);
  a = beat("a", 1, tp("t", {0, 1, 2}));
  EXPECT_EQ(a.member_epoch, 2);
  b = beat("b", 2, TopicPartitions{});
  EXPECT_EQ(b.assignment, tp("t", {3, 4, 5}));
  EXPECT_STREQ(group().state_name(), "Stable");
}

TEST_F(ConsumerGroupTest, LeaveHandsPartitionsToTheOthers) {
  join("a");
  join("b");
  split_between_a_and_b();
  ConsumerHeartbeatResult left = beat("b", -1, std::nullopt);
  EXPECT_EQ(left.member_epoch, -1);
  ConsumerHeartbeatResult a = beat("a", 2, tp("t", {0, 1, 2}));
  EXPECT_EQ(a.member_epoch, 3);
  EXPECT_EQ(a.assignment, tp("t", {0, 1, 2, 3, 4, 5}));
}

TEST_F(ConsumerGroupTest, StaleOrFutureEpochIsFenced) {
  join("a");
  join("b");  // group epoch 2, a still at 1
  EXPECT_EQ(beat("a", 5, std::nullopt).error, ErrorCode::fenced_member_epoch);
  split_between_a_and_b();  // a is at epoch 2 now
  // Its previous epoch is still fine (a lost answer) as long as it claims nothing new...
  EXPECT_EQ(beat("a", 1, tp("t", {0, 1})).error, ErrorCode::none);
  // ...but not with partitions it no longer has.
  EXPECT_EQ(beat("a", 1, tp("t", {5})).error, ErrorCode::fenced_member_epoch);
  // A join needs a subscription.
  EXPECT_EQ(beat("a", 0, std::nullopt).error, ErrorCode::invalid_request);
  EXPECT_EQ(beat("nobody", 2, std::nullopt).error, ErrorCode::unknown_member_id);
}

TEST_F(ConsumerGroupTest, StaticMemberRejoinsWithItsAssignment) {
  join("a", "instance-a");
  join("b");
  split_between_a_and_b();
  ConsumerHeartbeatResult left = beat("a", -2, std::nullopt);
  // A leave with -2 needs the instance id.
  EXPECT_EQ(left.error, ErrorCode::invalid_request);
  EXPECT_EQ(leave_static("a", "instance-a").member_epoch, -2);
  EXPECT_EQ(group().group_epoch(), 2);  // no rebalance

  // The restarted process gets the same partitions at the same epoch, without a rebalance.
  ConsumerHeartbeatResult again = join("a2", "instance-a");
  ASSERT_EQ(again.error, ErrorCode::none);
  EXPECT_EQ(again.member_epoch, 2);
  EXPECT_EQ(again.assignment, tp("t", {0, 1, 2}));
  EXPECT_EQ(group().group_epoch(), 2);
  EXPECT_FALSE(group().members().contains("a"));
  // A second process with the same instance id is refused while a2 is active.
  EXPECT_EQ(join("a3", "instance-a").error, ErrorCode::unreleased_instance_id);
}

TEST_F(ConsumerGroupTest, StaticMemberThatHeartbeatsAgainAfterLeavingKeepsItsInstanceId) {
  join("a", "instance-a");
  leave_static("a", "instance-a");
  EXPECT_EQ(beat("a", 1, std::nullopt).error, ErrorCode::none);
  EXPECT_EQ(join("a2", "instance-a").error, ErrorCode::unreleased_instance_id);
}

TEST_F(ConsumerGroupTest, MemberCannotTakeALeftStaticMembersPlace) {
  join("a", "instance-a");
  join("b");
  leave_static("a", "instance-a");
  // b is a member already: it cannot also become instance-a (the broker must not abort).
  EXPECT_EQ(join("b", "instance-a").error, ErrorCode::invalid_request);
  EXPECT_TRUE(group().members().contains("a"));
  EXPECT_TRUE(group().members().contains("b"));
  EXPECT_EQ(join("a2", "instance-a").error, ErrorCode::none);
}

TEST_F(ConsumerGroupTest, StaticMemberThatStaysAwayIsRemovedAfterItsSession) {
  join("a", "instance-a");
  leave_static("a", "instance-a");
  advance_to(now_ms_ + 45'000);
  EXPECT_TRUE(group().empty());
  EXPECT_STREQ(group().state_name(), "Empty");
}

TEST_F(ConsumerGroupTest, SilentMemberExpiresAndOthersTakeOver) {
  join("a");
  join("b");
  split_between_a_and_b();
  now_ms_ += 40'000;
  beat("a", 2, tp("t", {0, 1, 2}));  // a keeps heartbeating, b does not
  advance_to(1'000 + 45'000);
  EXPECT_FALSE(group().members().contains("b"));
  EXPECT_EQ(beat("a", 2, tp("t", {0, 1, 2})).assignment, tp("t", {0, 1, 2, 3, 4, 5}));
}

TEST_F(ConsumerGroupTest, MemberThatNeverRevokesIsRemovedAfterItsRebalanceTimeout) {
  join("a");
  join("b");
  beat("a", 1, tp("t", {0, 1, 2, 3, 4, 5}));  // told to revoke 3-5
  for (int64_t t = 5'000; t <= kRebalanceMs; t += 5'000) {
    now_ms_ = 1'000 + t;
    beat("b", 2, TopicPartitions{});  // b stays alive; a keeps silent
  }
  advance_to(1'000 + kRebalanceMs + 1);
  EXPECT_FALSE(group().members().contains("a"));
  ConsumerHeartbeatResult b = beat("b", 2, TopicPartitions{});
  EXPECT_EQ(b.member_epoch, 3);
  EXPECT_EQ(b.assignment, tp("t", {0, 1, 2, 3, 4, 5}));
}

TEST_F(ConsumerGroupTest, RequestErrors) {
  EXPECT_EQ(beat("a", 3, std::nullopt).error, ErrorCode::unknown_member_id);
  ConsumerHeartbeat bad;
  bad.member_id = "a";
  bad.member_epoch = 0;
  bad.rebalance_timeout_ms = kRebalanceMs;
  bad.owned = TopicPartitions{};
  EXPECT_EQ(send(bad).error, ErrorCode::invalid_request);  // no subscription
  bad.subscribed_topic_names = std::vector<std::string>{"t"};
  bad.server_assignor = "sticky";
  EXPECT_EQ(send(bad).error, ErrorCode::unsupported_assignor);
  bad.server_assignor = "range";
  EXPECT_EQ(send(bad).error, ErrorCode::none);
  EXPECT_EQ(group().assignor(), "range");
}

TEST_F(ConsumerGroupTest, NewTopicPartitionsBumpTheGroupEpoch) {
  join("a", std::nullopt, {"t", "later"});
  EXPECT_EQ(group().group_epoch(), 1);
  topics_["later"] = 2;
  ConsumerHeartbeatResult a = beat("a", 1, tp("t", {0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(a.member_epoch, 2);
  EXPECT_EQ(a.assignment->at("later"), (std::set<int32_t>{0, 1}));
}

TEST_F(ConsumerGroupTest, OffsetCommitUsesTheMemberEpoch) {
  join("a");
  EXPECT_EQ(manager_.check_offset_commit("g", 1, "a", std::nullopt, now_ms_), ErrorCode::none);
  EXPECT_EQ(manager_.check_offset_commit("g", 0, "a", std::nullopt, now_ms_),
            ErrorCode::stale_member_epoch);
  EXPECT_EQ(manager_.check_offset_commit("g", 1, "x", std::nullopt, now_ms_),
            ErrorCode::unknown_member_id);
  EXPECT_EQ(manager_.check_offset_commit("g", -1, "", std::nullopt, now_ms_),
            ErrorCode::unknown_member_id);  // the group has members
}

TEST(ConsumerGroupAssignorsTest, OnlyConfiguredAssignorsAndTheFirstIsTheDefault) {
  GroupConfig config;
  config.consumer_assignors = {"range"};
  GroupManager manager(config, [](const std::string&) { return "generated"; });
  auto counts = [](const std::string&) -> std::optional<int32_t> { return 4; };
  ConsumerHeartbeat request;
  request.group_id = "g";
  request.member_id = "a";
  request.rebalance_timeout_ms = kRebalanceMs;
  request.subscribed_topic_names = std::vector<std::string>{"t"};
  request.owned = TopicPartitions{};
  request.server_assignor = "uniform";  // known to Cairn, but not configured
  EXPECT_EQ(manager.consumer_heartbeat(request, counts, 0).error, ErrorCode::unsupported_assignor);
  request.server_assignor.reset();
  ASSERT_EQ(manager.consumer_heartbeat(request, counts, 0).error, ErrorCode::none);
  EXPECT_EQ(manager.find_group("g")->consumer->assignor(), "range");
}

TEST_F(ConsumerGroupTest, OffsetCommitBelowV9FromAMemberIsUnsupported) {
  join("a");
  EXPECT_EQ(manager_.check_offset_commit("g", 1, "a", std::nullopt, now_ms_, 8),
            ErrorCode::unsupported_version);
  EXPECT_EQ(manager_.check_offset_commit("g", 1, "a", std::nullopt, now_ms_, 9), ErrorCode::none);
  // Membership is checked first, as Kafka does.
  EXPECT_EQ(manager_.check_offset_commit("g", 1, "x", std::nullopt, now_ms_, 8),
            ErrorCode::unknown_member_id);
  beat("a", kLeaveMemberEpoch, std::nullopt);
  EXPECT_EQ(manager_.check_offset_commit("g", -1, "", std::nullopt, now_ms_, 2), ErrorCode::none);
}

TEST_F(ConsumerGroupTest, OffsetFetchNamingAMemberIsChecked) {
  join("a");
  EXPECT_EQ(manager_.check_offset_fetch("g", "a", 1), ErrorCode::none);
  EXPECT_EQ(manager_.check_offset_fetch("g", "a", 2), ErrorCode::stale_member_epoch);
  EXPECT_EQ(manager_.check_offset_fetch("g", "x", 1), ErrorCode::unknown_member_id);
  EXPECT_EQ(manager_.check_offset_fetch("g", std::nullopt, -1), ErrorCode::none);
  EXPECT_EQ(manager_.check_offset_fetch("other", "x", 3), ErrorCode::none);  // no such group
}

TEST_F(ConsumerGroupTest, EmptyClassicGroupConvertsAndKeepsItsOffsets) {
  manager_.apply_offset_commit("g", {"t", PartitionId(0)}, CommittedOffset{Offset(42)}, now_ms_);
  ASSERT_EQ(join("a").error, ErrorCode::none);
  const Group* g = manager_.find_group("g");
  EXPECT_TRUE(g->is_consumer_protocol());
  EXPECT_EQ(g->offsets.at({"t", PartitionId(0)}).offset, Offset(42));
}

TEST_F(ConsumerGroupTest, ClassicAndConsumerMembersDoNotMix) {
  JoinRequest classic;
  classic.group_id = "g";
  classic.client_id = "c";
  classic.session_timeout_ms = 10'000;
  classic.rebalance_timeout_ms = 10'000;
  classic.protocol_type = "consumer";
  classic.protocols = {{"range", {1}}};
  std::optional<JoinResult> joined;
  manager_.join_group(classic, now_ms_, [&joined](JoinResult r) { joined = std::move(r); });
  EXPECT_EQ(join("a").error, ErrorCode::group_id_not_found);

  // And the other way round: a consumer group with members refuses a classic JoinGroup.
  ConsumerHeartbeat other;
  other.group_id = "h";
  other.member_id = "a";
  other.member_epoch = 0;
  other.rebalance_timeout_ms = kRebalanceMs;
  other.subscribed_topic_names = std::vector<std::string>{"t"};
  other.owned = TopicPartitions{};
  ASSERT_EQ(manager_.consumer_heartbeat(other, counts(), now_ms_).error, ErrorCode::none);
  classic.group_id = "h";
  std::optional<JoinResult> refused;
  manager_.join_group(classic, now_ms_, [&refused](JoinResult r) { refused = std::move(r); });
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->error, ErrorCode::inconsistent_group_protocol);
  manager_.fail_waiting_requests(ErrorCode::not_coordinator);
}

}  // namespace
}  // namespace cairn::broker::groups
