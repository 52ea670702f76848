// The consumer group protocol's records in __consumer_offsets (consumer_group_records.h): Kafka's
// byte layout, a group that goes through its records comes back the same (epochs, members,
// target and current assignments, revocations in flight), and damaged records fail cleanly.
#include "broker/groups/consumer_group_records.h"

#include <gtest/gtest.h>

#include "broker/groups/group_manager.h"
#include "broker/groups/offsets_format.h"

namespace cairn::broker::groups {
namespace {

constexpr int32_t kRebalanceMs = 30'000;

TopicPartitions tp(const std::string& topic, std::set<int32_t> partitions) {
  return {{topic, std::move(partitions)}};
}

protocol::Uuid id_of(uint8_t n) {
  protocol::Uuid id{};
  id[15] = n;
  return id;
}

std::optional<protocol::Uuid> topic_id(const std::string& topic) {
  if (topic == "t") return id_of(1);
  if (topic == "u") return id_of(2);
  return std::nullopt;
}

GroupConfig config() {
  GroupConfig c;
  c.consumer_session_timeout_ms = 45'000;
  c.consumer_heartbeat_interval_ms = 5'000;
  return c;
}

std::optional<int32_t> counts(const std::string& topic) {
  if (topic == "t") return 6;
  if (topic == "u") return 2;
  return std::nullopt;
}

ConsumerHeartbeatResult join(GroupManager& manager, const std::string& member_id,
                             std::optional<std::string> instance_id = std::nullopt) {
  ConsumerHeartbeat request;
  request.group_id = "g";
  request.member_id = member_id;
  request.member_epoch = 0;
  request.instance_id = std::move(instance_id);
  request.rack_id = "rack-1";
  request.client_id = "client-" + member_id;
  request.client_host = "/127.0.0.1";
  request.rebalance_timeout_ms = kRebalanceMs;
  request.subscribed_topic_names = std::vector<std::string>{"t", "u"};
  request.server_assignor = "range";
  request.owned = TopicPartitions{};
  return manager.consumer_heartbeat(std::move(request), counts, 1'000);
}

ConsumerHeartbeatResult beat(GroupManager& manager, const std::string& member_id, int32_t epoch,
                             TopicPartitions owned) {
  ConsumerHeartbeat request;
  request.group_id = "g";
  request.member_id = member_id;
  request.member_epoch = epoch;
  request.owned = std::move(owned);
  return manager.consumer_heartbeat(std::move(request), counts, 2'000);
}

TEST(ConsumerGroupRecordsTest, KeysAndValuesHaveKafkasLayout) {
  EXPECT_EQ(encode_consumer_group_key({ConsumerRecordType::member_metadata, "g", "m"}),
            (std::vector<uint8_t>{0, 5, 0, 1, 'g', 0, 1, 'm'}));
  EXPECT_EQ(encode_consumer_group_key({ConsumerRecordType::group_metadata, "g", ""}),
            (std::vector<uint8_t>{0, 3, 0, 1, 'g'}));
  ConsumerGroupImage image;
  image.group_epoch = 7;
  image.assignment_epoch = 7;
  RecordImage records = encode_consumer_group("g", image, topic_id);
  ASSERT_EQ(records.size(), 3u);  // metadata, partition metadata, target assignment metadata
  // Version 0, epoch int32, no tagged fields.
  EXPECT_EQ(records.at({0, 3, 0, 1, 'g'}), (std::vector<uint8_t>{0, 0, 0, 0, 0, 7, 0}));
  EXPECT_EQ(records.at({0, 6, 0, 1, 'g'}), (std::vector<uint8_t>{0, 0, 0, 0, 0, 7, 0}));
  // Version 0, epoch, empty compact array (count + 1 = 1), no tagged fields.
  EXPECT_EQ(records.at({0, 4, 0, 1, 'g'}), (std::vector<uint8_t>{0, 0, 0, 0, 0, 7, 1, 0}));
  auto key = decode_offsets_key(encode_consumer_group_key(
      {ConsumerRecordType::current_member_assignment, "group", "member"}));
  ASSERT_TRUE(key.ok());
  const auto& consumer = std::get<ConsumerGroupKey>(*key);
  EXPECT_EQ(consumer.type, ConsumerRecordType::current_member_assignment);
  EXPECT_EQ(consumer.group_id, "group");
  EXPECT_EQ(consumer.member_id, "member");
}

TEST(ConsumerGroupRecordsTest, GroupMidRevocationComesBackTheSame) {
  GroupManager manager(config(), [](const std::string&) { return "x"; });
  ASSERT_EQ(join(manager, "a", "instance-a").member_epoch, 1);
  ASSERT_EQ(join(manager, "b").member_epoch, 2);  // its partitions: still a's (unreleased)
  const TopicPartitions everything = merged(tp("t", {0, 1, 2, 3, 4, 5}), tp("u", {0, 1}));
  ASSERT_EQ(beat(manager, "a", 1, everything).error, ErrorCode::none);
  // a has not revoked yet: it is in UnrevokedPartitions with partitions pending revocation.
  ConsumerGroupImage before = manager.find_group("g")->consumer->image();
  ASSERT_EQ(before.members.size(), 2u);
  ASSERT_EQ(before.members[0].state, MemberState::unrevoked_partitions);
  ASSERT_FALSE(before.members[0].pending_revocation.empty());

  RecordImage records = encode_consumer_group("g", before, topic_id);
  Result<ConsumerGroupImage> decoded = decode_consumer_group("g", records);
  ASSERT_TRUE(decoded.ok()) << decoded.status().to_string();
  EXPECT_EQ(decoded->group_epoch, before.group_epoch);
  EXPECT_EQ(decoded->assignment_epoch, before.assignment_epoch);
  EXPECT_EQ(decoded->partition_counts, before.partition_counts);
  EXPECT_EQ(decoded->target, before.target);
  ASSERT_EQ(decoded->members.size(), before.members.size());
  for (size_t i = 0; i < before.members.size(); ++i) {
    const ConsumerMember& b = before.members[i];
    const ConsumerMember& d = decoded->members[i];
    EXPECT_EQ(d.member_id, b.member_id);
    EXPECT_EQ(d.instance_id, b.instance_id);
    EXPECT_EQ(d.rack_id, b.rack_id);
    EXPECT_EQ(d.client_id, b.client_id);
    EXPECT_EQ(d.client_host, b.client_host);
    EXPECT_EQ(d.subscribed_topic_names, b.subscribed_topic_names);
    EXPECT_EQ(d.server_assignor, b.server_assignor);
    EXPECT_EQ(d.rebalance_timeout_ms, b.rebalance_timeout_ms);
    EXPECT_EQ(d.member_epoch, b.member_epoch);
    EXPECT_EQ(d.previous_member_epoch, b.previous_member_epoch);
    EXPECT_EQ(d.state, b.state);
    EXPECT_EQ(d.assigned, b.assigned);
    EXPECT_EQ(d.pending_revocation, b.pending_revocation);
  }
  // Encoding the decoded group gives the same bytes.
  EXPECT_EQ(encode_consumer_group("g", *decoded, topic_id), records);

  // A restored group carries on: a acknowledges the revocation with its epoch, b gets the rest.
  GroupManager restored(config(), [](const std::string&) { return "x"; });
  restored.restore_consumer_group("g", std::move(decoded).value(), 5'000);
  const TopicPartitions kept = before.members[0].assigned;
  ConsumerHeartbeatResult a = beat(restored, "a", 1, kept);
  EXPECT_EQ(a.error, ErrorCode::none);
  EXPECT_EQ(a.member_epoch, 2);
  ConsumerHeartbeatResult b = beat(restored, "b", 2, {});
  EXPECT_EQ(b.error, ErrorCode::none);
  EXPECT_EQ(b.member_epoch, 2);
  EXPECT_EQ(b.assignment, before.target.at("b"));
  EXPECT_EQ(std::string(restored.find_group("g")->consumer->assignor()), "range");
}

TEST(ConsumerGroupRecordsTest, PartitionsOfUnknownTopicIdsAreLeftOut) {
  ConsumerGroupImage image;
  image.group_epoch = 3;
  image.assignment_epoch = 3;
  image.partition_counts = {{"t", 6}};
  ConsumerMember m;
  m.member_id = "m";
  m.member_epoch = 3;
  m.subscribed_topic_names = {"t"};
  m.assigned = tp("t", {0, 1});
  m.assigned["gone"] = {0};  // a deleted topic: no id to write
  image.members.push_back(m);
  image.target["m"] = tp("t", {0, 1});
  Result<ConsumerGroupImage> decoded =
      decode_consumer_group("g", encode_consumer_group("g", image, topic_id));
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->members.at(0).assigned, tp("t", {0, 1}));
}

TEST(ConsumerGroupRecordsTest, WithoutGroupMetadataThereIsNoGroup) {
  ConsumerGroupImage image;
  RecordImage records = encode_consumer_group("g", image, topic_id);
  records.erase(encode_consumer_group_key({ConsumerRecordType::group_metadata, "g", ""}));
  EXPECT_EQ(decode_consumer_group("g", records).status().code(), StatusCode::not_found);
}

TEST(ConsumerGroupRecordsTest, TruncatedOrHostileValuesFailWithoutCrashing) {
  GroupManager manager(config(), [](const std::string&) { return "x"; });
  join(manager, "a", "instance-a");
  RecordImage records =
      encode_consumer_group("g", manager.find_group("g")->consumer->image(), topic_id);
  for (const auto& [key, value] : records) {
    for (size_t size = 0; size < value.size(); ++size) {
      RecordImage damaged = records;
      damaged[key] = std::vector<uint8_t>(value.begin(), value.begin() + size);
      EXPECT_FALSE(decode_consumer_group("g", damaged).ok()) << size;
    }
  }
  // An unknown value version.
  RecordImage other = records;
  other.begin()->second[1] = 9;
  EXPECT_EQ(decode_consumer_group("g", other).status().code(), StatusCode::unsupported);
  // A topic count far beyond the bytes present fails before allocating.
  RecordImage huge = records;
  huge[encode_consumer_group_key({ConsumerRecordType::target_assignment_member, "g", "a"})] = {
      0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f, 0};
  EXPECT_FALSE(decode_consumer_group("g", huge).ok());
}

}  // namespace
}  // namespace cairn::broker::groups
