// Committed offsets in the GroupManager (commit checks, ordering, OffsetDelete, DeleteGroups,
// expiry of empty groups) and the __consumer_offsets record format (round trips, Kafka's byte
// layout, malformed input, restoring a group from its metadata record).
#include <gtest/gtest.h>

#include "broker/groups/consumer_protocol.h"
#include "broker/groups/group_manager.h"
#include "broker/groups/offsets_format.h"

namespace cairn::broker::groups {
namespace {

constexpr int64_t kStartMs = 1'700'000'000'000;
constexpr int64_t kDayMs = 24LL * 60 * 60 * 1000;

std::vector<uint8_t> subscription(const std::vector<std::string>& topics) {
  std::vector<uint8_t> out = {0, 1, 0, 0, 0, static_cast<uint8_t>(topics.size())};
  for (const std::string& t : topics) {
    out.push_back(0);
    out.push_back(static_cast<uint8_t>(t.size()));
    out.insert(out.end(), t.begin(), t.end());
  }
  out.insert(out.end(), {0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0});  // user data null, no owned
  return out;
}

class GroupOffsetsTest : public ::testing::Test {
 protected:
  GroupOffsetsTest() {
    GroupConfig config;
    config.initial_rebalance_delay_ms = 0;
    manager_ = std::make_unique<GroupManager>(
        config, [this](const std::string& p) { return p + "-" + std::to_string(++ids_); });
  }

  // One member, Stable at generation 1, subscribed to `topics`; returns its member id.
  std::string stable_member(const std::string& group_id, std::vector<std::string> topics,
                            std::string protocol_type = "consumer") {
    JoinRequest r;
    r.group_id = group_id;
    r.client_id = "c";
    r.session_timeout_ms = 10'000;
    r.rebalance_timeout_ms = 10'000;
    r.protocol_type = std::move(protocol_type);
    r.protocols = {{"range", subscription(topics)}};
    std::string member_id;
    manager_->join_group(r, now_, [&](JoinResult j) { member_id = j.member_id; });
    SyncRequest s{group_id, 1, member_id, std::nullopt, {}};
    manager_->sync_group(s, now_, [](SyncResult) {});
    return member_id;
  }

  void commit(const std::string& group_id, std::string topic, int32_t partition, int64_t offset,
              int64_t record_offset = -1) {
    CommittedOffset c;
    c.offset = Offset(offset);
    c.metadata = "m" + std::to_string(offset);
    c.commit_timestamp_ms = now_;
    c.record_offset = Offset(record_offset);
    manager_->apply_offset_commit(group_id, {std::move(topic), PartitionId(partition)}, c, now_);
  }

  int64_t committed(const std::string& group_id, const std::string& topic, int32_t partition) {
    const Group* g = manager_->find_group(group_id);
    if (g == nullptr) return -2;
    auto it = g->offsets.find({topic, PartitionId(partition)});
    return it == g->offsets.end() ? -1 : it->second.offset.value();
  }

  int ids_ = 0;
  int64_t now_ = kStartMs;
  std::unique_ptr<GroupManager> manager_;
};

TEST_F(GroupOffsetsTest, CommitFromOutsideGroupManagementNeedsNoMembers) {
  EXPECT_EQ(manager_->check_offset_commit("solo", -1, "", std::nullopt, now_), ErrorCode::none);
  EXPECT_EQ(manager_->check_offset_commit("solo", 3, "m", std::nullopt, now_),
            ErrorCode::illegal_generation)
      << "a member of a generation this coordinator does not know";
  commit("solo", "t", 0, 5);
  EXPECT_EQ(manager_->find_group("solo")->state, GroupState::empty);
  EXPECT_EQ(manager_->check_offset_commit("solo", -1, "", std::nullopt, now_), ErrorCode::none);

  std::string member = stable_member("g", {"t"});
  EXPECT_EQ(manager_->check_offset_commit("g", -1, "", std::nullopt, now_),
            ErrorCode::unknown_member_id)
      << "an active group refuses commits from outside";
  EXPECT_EQ(manager_->check_offset_commit("g", 1, member, std::nullopt, now_), ErrorCode::none);
  EXPECT_EQ(manager_->check_offset_commit("g", 2, member, std::nullopt, now_),
            ErrorCode::illegal_generation);
  EXPECT_EQ(manager_->check_offset_commit("g", 1, "ghost", std::nullopt, now_),
            ErrorCode::unknown_member_id);
}

TEST_F(GroupOffsetsTest, CommitDuringRebalancePhases) {
  std::string a = stable_member("g", {"t"});
  std::string b;
  JoinRequest r;
  r.group_id = "g";
  r.client_id = "c";
  r.session_timeout_ms = 10'000;
  r.rebalance_timeout_ms = 10'000;
  r.protocol_type = "consumer";
  r.protocols = {{"range", subscription({"t"})}};
  manager_->join_group(r, now_, [&](JoinResult j) { b = j.member_id; });
  // PreparingRebalance: the old generation may still commit what it consumed.
  EXPECT_EQ(manager_->check_offset_commit("g", 1, a, std::nullopt, now_), ErrorCode::none);
  r.member_id = a;
  manager_->join_group(r, now_, [](JoinResult) {});
  // CompletingRebalance: the new generation has no assignment yet.
  EXPECT_EQ(manager_->check_offset_commit("g", 2, a, std::nullopt, now_),
            ErrorCode::rebalance_in_progress);
}

TEST_F(GroupOffsetsTest, OlderRecordNeverReplacesNewerOne) {
  commit("g", "t", 0, 10, /*record_offset=*/7);
  commit("g", "t", 0, 4, /*record_offset=*/3);
  EXPECT_EQ(committed("g", "t", 0), 10);
  commit("g", "t", 0, 12, /*record_offset=*/8);
  EXPECT_EQ(committed("g", "t", 0), 12);
  manager_->apply_offset_tombstone("g", {"t", PartitionId(0)});
  EXPECT_EQ(committed("g", "t", 0), -1);
}

TEST_F(GroupOffsetsTest, DeleteGroupOnlyWhenEmpty) {
  std::vector<TopicPartitionKey> keys;
  EXPECT_EQ(manager_->delete_group("nope", &keys), ErrorCode::group_id_not_found);
  std::string member = stable_member("g", {"t"});
  commit("g", "t", 0, 1);
  commit("g", "t", 1, 2);
  EXPECT_EQ(manager_->delete_group("g", &keys), ErrorCode::non_empty_group);
  manager_->leave_group("g", {{member, std::nullopt}}, now_);
  EXPECT_EQ(manager_->delete_group("g", &keys), ErrorCode::none);
  EXPECT_EQ(keys.size(), 2u);
  EXPECT_EQ(manager_->find_group("g"), nullptr);
  keys.clear();
  EXPECT_EQ(manager_->delete_group("g", &keys), ErrorCode::group_id_not_found);
}

TEST_F(GroupOffsetsTest, OffsetDeleteRespectsSubscriptions) {
  EXPECT_EQ(manager_->delete_offsets("nope", {{"t", PartitionId(0)}}).error,
            ErrorCode::group_id_not_found);
  stable_member("g", {"orders"});
  commit("g", "orders", 0, 1);
  commit("g", "old-topic", 0, 1);
  OffsetDeleteResult result =
      manager_->delete_offsets("g", {{"orders", PartitionId(0)}, {"old-topic", PartitionId(0)}});
  EXPECT_EQ(result.error, ErrorCode::none);
  ASSERT_EQ(result.partition_errors.size(), 2u);
  EXPECT_EQ(result.partition_errors[0], ErrorCode::group_subscribed_to_topic);
  EXPECT_EQ(result.partition_errors[1], ErrorCode::none);
  ASSERT_EQ(result.deleted.size(), 1u);
  EXPECT_EQ(result.deleted[0].topic, "old-topic");
  EXPECT_EQ(committed("g", "orders", 0), 1);

  stable_member("connect-group", {"x"}, "connect");
  EXPECT_EQ(manager_->delete_offsets("connect-group", {{"x", PartitionId(0)}}).error,
            ErrorCode::non_empty_group);

  commit("idle", "t", 0, 9);
  result = manager_->delete_offsets("idle", {{"t", PartitionId(0)}, {"t", PartitionId(1)}});
  EXPECT_EQ(result.partition_errors[0], ErrorCode::none);
  EXPECT_EQ(result.partition_errors[1], ErrorCode::none);
  EXPECT_EQ(result.deleted.size(), 1u);
}

TEST_F(GroupOffsetsTest, OffsetsOfEmptyGroupExpireAfterRetention) {
  std::string member = stable_member("g", {"t"});
  commit("g", "t", 0, 5);
  commit("solo", "t", 0, 6);
  now_ += 8 * kDayMs;
  EXPECT_TRUE(manager_->expire_offsets(now_).size() == 1) << "only the standalone group";
  EXPECT_EQ(committed("g", "t", 0), 5) << "a group with members keeps its offsets";
  EXPECT_EQ(manager_->find_group("solo"), nullptr);
  manager_->leave_group("g", {{member, std::nullopt}}, now_);
  now_ += 7 * kDayMs - 1;
  EXPECT_TRUE(manager_->expire_offsets(now_).empty());
  now_ += 1;
  auto expired = manager_->expire_offsets(now_);
  ASSERT_EQ(expired.size(), 1u);
  EXPECT_EQ(expired[0].group_id, "g");
  EXPECT_EQ(expired[0].keys.size(), 1u);
  EXPECT_TRUE(expired[0].group_removed);
  EXPECT_EQ(manager_->find_group("g"), nullptr);
}

TEST_F(GroupOffsetsTest, ExplicitRetentionTimeWins) {
  CommittedOffset c;
  c.offset = Offset(1);
  c.commit_timestamp_ms = now_;
  c.expire_timestamp_ms = now_ + 1000;
  manager_->apply_offset_commit("g", {"t", PartitionId(0)}, c, now_);
  EXPECT_TRUE(manager_->expire_offsets(now_ + 999).empty());
  EXPECT_EQ(manager_->expire_offsets(now_ + 1000).size(), 1u);
}

TEST_F(GroupOffsetsTest, DeletedTopicIsForgottenByEveryGroup) {
  commit("a", "gone", 0, 1);
  commit("a", "gone", 1, 2);
  commit("a", "kept", 0, 3);
  commit("b", "gone", 0, 4);
  commit("c", "kept", 0, 5);
  auto deleted = manager_->delete_topic_offsets("gone");
  ASSERT_EQ(deleted.size(), 2u);
  EXPECT_EQ(deleted[0].group_id, "a");
  EXPECT_EQ(deleted[0].keys.size(), 2u);
  EXPECT_EQ(deleted[1].group_id, "b");
  EXPECT_EQ(committed("a", "gone", 0), -1);
  EXPECT_EQ(committed("a", "kept", 0), 3);
  EXPECT_EQ(committed("c", "kept", 0), 5);
}

// ---------------------------------------------------------------------------------------------
// __consumer_offsets records

TEST(OffsetsFormatTest, OffsetCommitKeyHasKafkaLayout) {
  std::vector<uint8_t> key = encode_offset_commit_key("g", {"t", PartitionId(3)});
  std::vector<uint8_t> expected = {0, 1, 0, 1, 'g', 0, 1, 't', 0, 0, 0, 3};
  EXPECT_EQ(key, expected);
  auto decoded = decode_offsets_key(key);
  ASSERT_TRUE(decoded.ok());
  const auto& k = std::get<OffsetCommitKey>(*decoded);
  EXPECT_EQ(k.group_id, "g");
  EXPECT_EQ(k.key.topic, "t");
  EXPECT_EQ(k.key.partition, PartitionId(3));
}

TEST(OffsetsFormatTest, OffsetCommitValueRoundTripsBothVersions) {
  CommittedOffset c;
  c.offset = Offset(42);
  c.leader_epoch = LeaderEpoch(7);
  c.metadata = "consumer-state";
  c.commit_timestamp_ms = kStartMs;
  std::vector<uint8_t> v3 = encode_offset_commit_value(c);
  EXPECT_EQ(v3[1], 3);
  EXPECT_EQ(v3.size(), 2u + 8 + 4 + 2 + c.metadata.size() + 8);
  auto back = decode_offset_commit_value(v3);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->offset, Offset(42));
  EXPECT_EQ(back->leader_epoch, LeaderEpoch(7));
  EXPECT_EQ(back->metadata, "consumer-state");
  EXPECT_EQ(back->commit_timestamp_ms, kStartMs);
  EXPECT_EQ(back->expire_timestamp_ms, -1);

  c.expire_timestamp_ms = kStartMs + 5;
  std::vector<uint8_t> v1 = encode_offset_commit_value(c);
  EXPECT_EQ(v1[1], 1);
  back = decode_offset_commit_value(v1);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->expire_timestamp_ms, kStartMs + 5);
  EXPECT_EQ(back->leader_epoch, LeaderEpoch(-1)) << "v1 has no leader epoch";
}

TEST(OffsetsFormatTest, GroupMetadataRoundTripsIntoARestorableGroup) {
  Group g;
  g.group_id = "g";
  g.protocol_type = "consumer";
  g.generation_id = 9;
  g.protocol_name = "range";
  g.leader_id = "m1";
  Member m1;
  m1.member_id = "m1";
  m1.group_instance_id = "i1";
  m1.client_id = "c1";
  m1.client_host = "/10.0.0.1";
  m1.session_timeout_ms = 6000;
  m1.rebalance_timeout_ms = 30000;
  m1.protocols = {{"roundrobin", {9}}, {"range", {1, 2}}};
  m1.assignment = {3, 4};
  g.members.emplace("m1", m1);
  std::vector<uint8_t> value = encode_group_metadata_value(g, kStartMs);
  auto key = decode_offsets_key(encode_group_metadata_key("g"));
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(std::get<GroupMetadataKey>(*key).group_id, "g");
  auto back = decode_group_metadata_value("g", value);
  ASSERT_TRUE(back.ok()) << back.status().to_string();
  EXPECT_EQ(back->generation_id, 9);
  EXPECT_EQ(back->protocol_name, "range");
  EXPECT_EQ(back->state, GroupState::stable);
  EXPECT_EQ(back->state_timestamp_ms, kStartMs);
  const Member& m = back->members.at("m1");
  EXPECT_EQ(m.group_instance_id, "i1");
  EXPECT_EQ(m.client_host, "/10.0.0.1");
  EXPECT_EQ(m.rebalance_timeout_ms, 30000);
  ASSERT_EQ(m.protocols.size(), 1u);
  EXPECT_EQ(m.protocols[0].metadata, (std::vector<uint8_t>{1, 2}));
  EXPECT_EQ(m.assignment, (std::vector<uint8_t>{3, 4}));

  // Restored, the member keeps its generation: heartbeats succeed, silence expires it.
  GroupConfig config;
  GroupManager manager(config, [](const std::string& p) { return p + "-new"; });
  manager.restore_group(std::move(back).value(), kStartMs);
  EXPECT_EQ(manager.heartbeat({"g", 9, "m1", "i1"}, kStartMs + 5000), ErrorCode::none);
  EXPECT_EQ(manager.heartbeat({"g", 9, "m0", "i1"}, kStartMs + 5000),
            ErrorCode::fenced_instance_id);
  manager.advance(kStartMs + 5000 + 6000);
  EXPECT_EQ(manager.find_group("g")->state, GroupState::empty);
}

TEST(OffsetsFormatTest, EveryTruncationOfARecordIsRefusedNotMisread) {
  Group g;
  g.group_id = "g";
  g.protocol_type = "consumer";
  g.generation_id = 1;
  g.protocol_name = "range";
  g.leader_id = "m";
  Member m;
  m.member_id = "m";
  m.session_timeout_ms = 6000;
  m.protocols = {{"range", {1}}};
  g.members.emplace("m", m);
  std::vector<uint8_t> value = encode_group_metadata_value(g, kStartMs);
  for (size_t size = 0; size < value.size(); ++size) {
    auto r = decode_group_metadata_value("g", std::span(value).first(size));
    EXPECT_FALSE(r.ok()) << size;
  }
  std::vector<uint8_t> key = encode_offset_commit_key("group", {"topic", PartitionId(1)});
  for (size_t size = 0; size < key.size(); ++size) {
    EXPECT_FALSE(decode_offsets_key(std::span(key).first(size)).ok()) << size;
  }
  CommittedOffset c;
  std::vector<uint8_t> commit_value = encode_offset_commit_value(c);
  for (size_t size = 0; size < commit_value.size(); ++size) {
    EXPECT_FALSE(decode_offset_commit_value(std::span(commit_value).first(size)).ok()) << size;
  }
  std::vector<uint8_t> unknown_version = {0, 9, 0, 0};
  EXPECT_EQ(decode_offsets_key(unknown_version).status().code(), StatusCode::unsupported);
  // A member count far beyond the bytes present fails before allocating.
  std::vector<uint8_t> huge = {0, 3, 0, 0, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff,
                               0, 0, 0, 0, 0, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff};
  EXPECT_FALSE(decode_group_metadata_value("g", huge).ok());
}

TEST(ConsumerProtocolTest, SubscriptionTopicsParse) {
  auto topics = parse_subscription_topics(subscription({"a", "bb"}));
  ASSERT_TRUE(topics.has_value());
  EXPECT_EQ(*topics, (std::vector<std::string>{"a", "bb"}));
  std::vector<uint8_t> garbage = {0, 0, 0x7f, 0, 0, 0};
  EXPECT_FALSE(parse_subscription_topics(garbage).has_value());
  EXPECT_FALSE(parse_subscription_topics({}).has_value());
}

}  // namespace
}  // namespace cairn::broker::groups
