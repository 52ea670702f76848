// GroupCoordinator on real shards and real logs in a temporary directory, with the topic
// registry and PartitionManager owning __consumer_offsets as the server sets them up: offsets
// and group membership survive a restart (clean, and without closing the logs), deletions stay
// deleted, members expire on the shard's own timer, the broker's cleaner shrinks a partition
// without losing what is live, and a data directory from before the topic was registered keeps its
// offsets.
#include "broker/groups/coordinator.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "broker/configs/resolve.h"
#include "broker/groups/shard_coordinator.h"
#include "storage/flusher.h"

namespace cairn::broker::groups {
namespace {

namespace fs = std::filesystem;

class CoordinatorTest : public ::testing::Test {
 protected:
  CoordinatorTest() {
    dir_ = fs::temp_directory_path() /
           ("cairn-groups-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    options_.config.initial_rebalance_delay_ms = 0;
    options_.config.min_session_timeout_ms = 100;
  }
  ~CoordinatorTest() override {
    shutdown(true);
    fs::remove_all(dir_);
  }

  void boot() {
    shards_ = std::make_unique<net::ShardSet>(2);
    auto registry = TopicRegistry::open(dir_ / "meta", storage::posix_io());
    ASSERT_TRUE(registry.ok()) << registry.status().to_string();
    registry_ = std::move(registry).value();
    auto topic = ensure_offsets_topic(storage::posix_io(), *registry_, dir_, partition_count_,
                                      segment_bytes_);
    ASSERT_TRUE(topic.ok()) << topic.status().to_string();
    flusher_ = std::make_unique<storage::Flusher>(1);
    PartitionManagerOptions partition_options;
    partition_options.data_dir = dir_;
    partition_options.shards = shards_.get();
    partition_options.flusher = flusher_.get();
    meta_writer_ = std::make_unique<MetaWriter>();
    partition_options.meta_writer = meta_writer_.get();
    partition_options.cleaner_check_interval = cleaner_check_interval_;
    auto dynamic = configs::DynamicConfigStore::open(dir_ / "meta", storage::posix_io());
    ASSERT_TRUE(dynamic.ok()) << dynamic.status().to_string();
    dynamic_configs_ = std::move(dynamic).value();
    partition_options.resolver = configs::partition_resolver({}, dynamic_configs_.get());
    auto partitions = PartitionManager::open(partition_options, *registry_->snapshot());
    ASSERT_TRUE(partitions.ok()) << partitions.status().to_string();
    partitions_ = std::move(partitions).value();
    coordinator_ = GroupCoordinator::open(*shards_, partitions_.get(), *topic, options_);
    shards_->start();
    coordinator_->start();
    partitions_->start();  // retention and the cleaner, as the server starts them
    // Replay runs on the shards; wait until the groups used here are served.
    for (const char* group : {"g", "other"}) {
      for (int i = 0; i < 1000; ++i) {
        if (describe(group).error != ErrorCode::coordinator_load_in_progress) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
      ASSERT_NE(describe(group).error, ErrorCode::coordinator_load_in_progress);
    }
  }

  // `clean`: stop the coordinator first (logs closed); otherwise the logs are dropped open,
  // as a killed process leaves them.
  void shutdown(bool clean) {
    if (!shards_) return;
    if (clean) {
      coordinator_->stop();
      partitions_->stop();
      shards_->request_stop();
      if (!shards_->wait_stopped(std::chrono::seconds(5))) shards_->stop_now();
    } else {
      shards_->stop_now();
    }
    shards_->join();
    coordinator_.reset();
    if (clean) {
      EXPECT_TRUE(partitions_->close().ok());
    }
    partitions_.reset();  // unclean: the logs are dropped open, as a killed process leaves them
    flusher_.reset();
    meta_writer_.reset();
    shards_.reset();
    registry_.reset();
    dynamic_configs_.reset();
  }

  template <typename T>
  T run(const std::string& group_id, asio::awaitable<T> work) {
    net::ShardId shard = coordinator_->shard_for(group_id);
    return asio::co_spawn(shards_->executor(shard), std::move(work), asio::use_future).get();
  }

  GroupSummary describe(const std::string& group_id) {
    return run(group_id, describe_group(coordinator_.get(), group_id));
  }

  std::vector<ErrorCode> commit(const std::string& group_id, int64_t offset, int32_t partitions,
                                int32_t generation = -1, std::string member = "") {
    CommitRequest request;
    request.group_id = group_id;
    request.generation_id = generation;
    request.member_id = std::move(member);
    for (int32_t p = 0; p < partitions; ++p) {
      request.partitions.push_back({{"orders", PartitionId(p)},
                                    Offset(offset + p),
                                    LeaderEpoch(3),
                                    "meta-" + std::to_string(p)});
    }
    return run(group_id, commit_offsets(coordinator_.get(), std::move(request)));
  }

  FetchResult fetch(const std::string& group_id) {
    return run(group_id, fetch_offsets(coordinator_.get(), group_id, std::nullopt));
  }

  JoinResult join(const std::string& group_id, int32_t session_ms) {
    JoinRequest r;
    r.group_id = group_id;
    r.client_id = "c";
    r.session_timeout_ms = session_ms;
    r.rebalance_timeout_ms = session_ms;
    r.protocol_type = "consumer";
    r.protocols = {{"range", {0, 1, 2}}};
    return run(group_id, join_group(coordinator_.get(), std::move(r)));
  }

  uint64_t offsets_log_bytes() {
    uint64_t total = 0;
    for (const auto& entry : fs::recursive_directory_iterator(dir_)) {
      if (entry.path().extension() == ".log") total += entry.file_size();
    }
    return total;
  }

  fs::path dir_;
  int32_t partition_count_ = 16;
  int32_t segment_bytes_ = 104'857'600;
  std::chrono::milliseconds cleaner_check_interval_{15'000};
  CoordinatorOptions options_;
  std::unique_ptr<net::ShardSet> shards_;
  std::unique_ptr<TopicRegistry> registry_;
  std::unique_ptr<configs::DynamicConfigStore> dynamic_configs_;
  std::unique_ptr<storage::Flusher> flusher_;
  std::unique_ptr<MetaWriter> meta_writer_;
  std::unique_ptr<PartitionManager> partitions_;
  std::unique_ptr<GroupCoordinator> coordinator_;
};

TEST_F(CoordinatorTest, CommittedOffsetsSurviveCleanRestart) {
  boot();
  for (ErrorCode e : commit("g", 100, 3)) EXPECT_EQ(e, ErrorCode::none);
  for (ErrorCode e : commit("g", 200, 2)) EXPECT_EQ(e, ErrorCode::none);
  shutdown(true);
  boot();
  FetchResult fetched = fetch("g");
  ASSERT_EQ(fetched.error, ErrorCode::none);
  ASSERT_EQ(fetched.offsets.size(), 3u);
  EXPECT_EQ(fetched.offsets[0].committed->offset, Offset(200));
  EXPECT_EQ(fetched.offsets[1].committed->offset, Offset(201));
  EXPECT_EQ(fetched.offsets[2].committed->offset, Offset(102));
  EXPECT_EQ(fetched.offsets[2].committed->metadata, "meta-2");
  EXPECT_EQ(fetched.offsets[2].committed->leader_epoch, LeaderEpoch(3));
  EXPECT_EQ(describe("g").state, "Empty");
}

TEST_F(CoordinatorTest, CommittedOffsetsSurviveUncleanStop) {
  boot();
  commit("g", 7, 1);
  commit("other", 9, 1);
  shutdown(false);
  boot();
  FetchResult g = fetch("g");
  ASSERT_EQ(g.offsets.size(), 1u);
  EXPECT_EQ(g.offsets[0].committed->offset, Offset(7));
  FetchResult other = fetch("other");
  ASSERT_EQ(other.offsets.size(), 1u);
  EXPECT_EQ(other.offsets[0].committed->offset, Offset(9));
}

TEST_F(CoordinatorTest, StableGroupSurvivesRestartWithItsGeneration) {
  boot();
  JoinResult joined = join("g", 30'000);
  ASSERT_EQ(joined.error, ErrorCode::none);
  SyncRequest s{
      "g", joined.generation_id, joined.member_id, std::nullopt, {{joined.member_id, {9, 9}}}};
  SyncResult synced = run("g", sync_group(coordinator_.get(), s));
  ASSERT_EQ(synced.error, ErrorCode::none);
  commit("g", 5, 1, joined.generation_id, joined.member_id);
  shutdown(true);
  boot();
  GroupSummary summary = describe("g");
  EXPECT_EQ(summary.state, "Stable");
  ASSERT_EQ(summary.members.size(), 1u);
  EXPECT_EQ(summary.members[0].assignment, (std::vector<uint8_t>{9, 9}));
  HeartbeatRequest hb{"g", joined.generation_id, joined.member_id, std::nullopt};
  EXPECT_EQ(run("g", heartbeat(coordinator_.get(), hb)), ErrorCode::none);
}

TEST_F(CoordinatorTest, DeletedGroupStaysDeletedAfterRestart) {
  boot();
  commit("g", 1, 2);
  EXPECT_EQ(run("g", delete_group(coordinator_.get(), "g")), ErrorCode::none);
  EXPECT_EQ(run("g", delete_group(coordinator_.get(), "g")), ErrorCode::group_id_not_found);
  shutdown(true);
  boot();
  EXPECT_TRUE(fetch("g").offsets.empty());
  EXPECT_EQ(describe("g").state, "Dead");
}

TEST_F(CoordinatorTest, SilentMemberExpiresOnTheShardTimer) {
  boot();
  JoinResult joined = join("g", 200);
  ASSERT_EQ(joined.error, ErrorCode::none);
  SyncRequest s{"g", joined.generation_id, joined.member_id, std::nullopt, {}};
  run("g", sync_group(coordinator_.get(), s));
  EXPECT_EQ(describe("g").state, "Stable");
  // No request reaches the group from here on; only the shard's timer can empty it.
  std::string state;
  for (int i = 0; i < 500 && state != "Empty"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    state = describe("g").state;
  }
  EXPECT_EQ(state, "Empty");
}

// __consumer_offsets is compacted by the broker's cleaner like any compacted topic: with small
// segments the log shrinks, and a restart after a kill replays the live state — the latest
// offsets, a deleted group still deleted.
TEST_F(CoordinatorTest, CleanerShrinksTheOffsetsLogAndReplayKeepsLiveState) {
  segment_bytes_ = 2048;
  cleaner_check_interval_ = std::chrono::milliseconds(20);
  boot();
  commit("gone", 7, 2);
  EXPECT_EQ(run("gone", delete_group(coordinator_.get(), "gone")), ErrorCode::none);
  for (int i = 0; i < 300; ++i) commit("g", i, 4);
  commit("other", 42, 1);
  // A lower bound of what the commits of "g" appended: 300 batches (61-byte header) of four
  // records of at least 40 bytes each.
  const uint64_t written = 300 * (61 + 4 * 40);
  uint64_t now = offsets_log_bytes();
  for (int i = 0; i < 500 && now >= written / 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    now = offsets_log_bytes();
  }
  EXPECT_LT(now, written / 2) << "written at least " << written << ", now " << now;
  shutdown(false);
  boot();
  FetchResult g = fetch("g");
  ASSERT_EQ(g.offsets.size(), 4u);
  EXPECT_EQ(g.offsets[0].committed->offset, Offset(299));
  EXPECT_EQ(g.offsets[3].committed->offset, Offset(302));
  ASSERT_EQ(fetch("other").offsets.size(), 1u);
  EXPECT_TRUE(fetch("gone").offsets.empty());
}

// The group settings come from the broker's Kafka configs through the catalog: its validation
// (finish_broker_config) and its defaults.
TEST(GroupConfigTest, ReadsKafkaNamedSettingsThroughTheCatalog) {
  BrokerConfig broker;
  broker.kafka_configs = {{"group.min.session.timeout.ms", "1000"},
                          {"group.initial.rebalance.delay.ms", "0"},
                          {"offsets.retention.minutes", "60"},
                          {"offsets.topic.num.partitions", "4"},
                          {"log.retention.ms", "5"}};  // not a group setting
  ASSERT_TRUE(configs::finish_broker_config(broker).ok());
  Result<GroupConfig> config = group_config_from(broker.kafka_configs);
  ASSERT_TRUE(config.ok()) << config.status().to_string();
  EXPECT_EQ(config->min_session_timeout_ms, 1000);
  EXPECT_EQ(config->initial_rebalance_delay_ms, 0);
  EXPECT_EQ(config->offsets_retention_ms, 3'600'000);
  EXPECT_EQ(config->offsets_topic_partition_count, 4);
  EXPECT_EQ(config->max_session_timeout_ms, 1'800'000);  // the catalog's default
  EXPECT_EQ(config->max_group_size, 1000u);

  for (auto [name, bad] : {std::pair{"offsets.topic.num.partitions", "0"},
                           std::pair{"group.max.session.timeout.ms", "ten"}}) {
    BrokerConfig refused;
    refused.kafka_configs = {{name, bad}};
    EXPECT_FALSE(configs::finish_broker_config(refused).ok()) << name << "=" << bad;
  }
  broker.kafka_configs["group.max.session.timeout.ms"] = "500";
  ASSERT_TRUE(configs::finish_broker_config(broker).ok());
  EXPECT_FALSE(group_config_from(broker.kafka_configs).ok()) << "min above max";
}

// A data directory from before __consumer_offsets was in the registry: its partition
// directories have no topic_id file. They are adopted (not wiped as strangers), and their
// partition count wins over offsets.topic.num.partitions.
TEST_F(CoordinatorTest, UnregisteredOffsetsDirectoriesAreAdopted) {
  partition_count_ = 4;
  boot();
  for (ErrorCode e : commit("g", 100, 3)) EXPECT_EQ(e, ErrorCode::none);
  shutdown(true);
  fs::remove(dir_ / "meta" / "topics.json");
  for (int p = 0; p < 4; ++p) {
    fs::remove(dir_ / ("__consumer_offsets-" + std::to_string(p)) / "topic_id");
  }
  partition_count_ = 16;
  boot();
  const TopicInfo* topic = registry_->snapshot()->find(kConsumerOffsetsTopic);
  ASSERT_NE(topic, nullptr);
  EXPECT_EQ(topic->partition_count, 4);
  EXPECT_EQ(coordinator_->partition_count(), 4);
  FetchResult fetched = fetch("g");
  ASSERT_EQ(fetched.offsets.size(), 3u);
  EXPECT_EQ(fetched.offsets[2].committed->offset, Offset(102));
}

}  // namespace
}  // namespace cairn::broker::groups
