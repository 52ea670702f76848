#include "broker/topics/topic_registry.h"

#include <gtest/gtest.h>

#include "broker/meta_file.h"

namespace cairn::broker {
namespace {

class TopicRegistryTest : public ::testing::Test {
 protected:
  TopicRegistryTest() {
    char pattern[] = "/tmp/cairn_topics_test_XXXXXX";
    dir_ = mkdtemp(pattern);
  }
  ~TopicRegistryTest() override { std::filesystem::remove_all(dir_); }
  std::unique_ptr<TopicRegistry> open() {
    auto registry = TopicRegistry::open(dir_, storage::posix_io());
    EXPECT_TRUE(registry.ok()) << registry.status().to_string();
    return registry.ok() ? std::move(registry).value() : nullptr;
  }

  std::filesystem::path dir_;
};

TEST_F(TopicRegistryTest, EmptyWhenNoFile) {
  auto registry = open();
  EXPECT_TRUE(registry->snapshot()->topics().empty());
  EXPECT_EQ(0u, registry->snapshot()->version());
}

TEST_F(TopicRegistryTest, CreatedTopicsSurviveReopen) {
  TopicInfo created;
  {
    auto registry = open();
    auto topic = registry->create("orders", 3, {{"cleanup.policy", "compact"}});
    ASSERT_TRUE(topic.ok()) << topic.status().to_string();
    created = *topic;
    ASSERT_TRUE(registry->create("audit", 1, {}).ok());
  }
  auto registry = open();
  auto snapshot = registry->snapshot();
  ASSERT_EQ(2u, snapshot->topics().size());
  const TopicInfo* orders = snapshot->find("orders");
  ASSERT_NE(nullptr, orders);
  EXPECT_EQ(created, *orders);
  EXPECT_EQ(3, orders->partition_count);
  EXPECT_EQ("compact", orders->configs.at("cleanup.policy"));
}

TEST_F(TopicRegistryTest, SnapshotsAreImmutable) {
  auto registry = open();
  auto before = registry->snapshot();
  ASSERT_TRUE(registry->create("t", 1, {}).ok());
  EXPECT_EQ(nullptr, before->find("t"));
  EXPECT_NE(nullptr, registry->snapshot()->find("t"));
  EXPECT_GT(registry->snapshot()->version(), before->version());
}

TEST_F(TopicRegistryTest, DuplicateAndInvalidCreatesAreRefused) {
  auto registry = open();
  ASSERT_TRUE(registry->create("t", 1, {}).ok());
  EXPECT_EQ(StatusCode::already_exists, registry->create("t", 2, {}).status().code());
  EXPECT_EQ(StatusCode::invalid_argument, registry->create("bad name", 1, {}).status().code());
  EXPECT_EQ(StatusCode::invalid_argument, registry->create("t2", 0, {}).status().code());
  EXPECT_EQ(StatusCode::invalid_argument,
            registry->create("t3", kPartitionCountMax + 1, {}).status().code());
}

TEST_F(TopicRegistryTest, PartitionCountOnlyGrows) {
  auto registry = open();
  ASSERT_TRUE(registry->create("t", 2, {}).ok());
  EXPECT_FALSE(registry->set_partition_count("t", 2).ok());
  EXPECT_FALSE(registry->set_partition_count("t", 1).ok());
  ASSERT_TRUE(registry->set_partition_count("t", 5).ok());
  EXPECT_EQ(5, open()->snapshot()->find("t")->partition_count);
  EXPECT_EQ(StatusCode::not_found, registry->set_partition_count("x", 5).status().code());
}

TEST_F(TopicRegistryTest, RemoveAndSetConfigs) {
  auto registry = open();
  ASSERT_TRUE(registry->create("t", 1, {}).ok());
  ASSERT_TRUE(registry->set_configs("t", {{"retention.ms", "1000"}}).ok());
  EXPECT_EQ("1000", open()->snapshot()->find("t")->configs.at("retention.ms"));
  ASSERT_TRUE(registry->remove("t").ok());
  EXPECT_EQ(StatusCode::not_found, registry->remove("t").code());
  EXPECT_TRUE(open()->snapshot()->topics().empty());
}

TEST_F(TopicRegistryTest, CorruptFileIsAnError) {
  for (const char* text :
       {"{", "[]", R"({"format": 2, "topics": []})", R"({"format": 1, "topics": [{"name": "a"}]})",
        R"({"format": 1, "topics": [{"name": "a b", "topic_id": )"
        R"("00000000000000000000000000000000", "partitions": 1, )"
        R"("configs": {}}]})"}) {
    ASSERT_TRUE(write_meta_file(storage::posix_io(), dir_ / "topics.json", text).ok());
    auto registry = TopicRegistry::open(dir_, storage::posix_io());
    EXPECT_EQ(StatusCode::corrupt, registry.status().code()) << text;
  }
}

TEST(TopicName, KafkaRules) {
  EXPECT_TRUE(validate_topic_name("orders.v1_a-b").ok());
  EXPECT_FALSE(validate_topic_name("").ok());
  EXPECT_FALSE(validate_topic_name(".").ok());
  EXPECT_FALSE(validate_topic_name("..").ok());
  EXPECT_FALSE(validate_topic_name("a/b").ok());
  EXPECT_FALSE(validate_topic_name(std::string(250, 'a')).ok());
  EXPECT_TRUE(validate_topic_name(std::string(249, 'a')).ok());
}

}  // namespace
}  // namespace cairn::broker
