// What the broker persists outside the logs — the topic registry, a
// partition's directory and topic_id, producer-state snapshots, topic deletion — goes through
// the same storage::Io as the logs, so testing::FaultIo reaches it: after a power loss a
// created topic (and its acknowledged data), a deletion and a config change are all still
// there; a failed fsync (EIO) or a full disk (ENOSPC) during creation leaves no half-created
// topic behind and the next attempt works; a producer snapshot written at a clean stop is read
// back through the Io, and a damaged one falls back to the log. (Dynamic broker configs: the
// same in configs/resolve_test.cc.)
#include <gtest/gtest.h>

#include <algorithm>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "broker/partitions/partition_test_harness.h"
#include "testing/fault_io.h"

namespace cairn::broker {
namespace {

const std::filesystem::path kDataDir = "/data";

// FaultIo, recording the order of removals, and listing directories in reverse name order
// (readdir promises no order; FaultIo's is sorted, which would put topic_id last by luck).
class RecordingIo final : public storage::Io {
 public:
  explicit RecordingIo(storage::Io& io) : io_(io) {}
  Result<std::shared_ptr<storage::File>> open(const std::string& path,
                                              storage::OpenMode mode) override {
    return io_.open(path, mode);
  }
  Result<std::vector<std::string>> list_dir(const std::string& dir) override {
    Result<std::vector<std::string>> names = io_.list_dir(dir);
    if (names.ok()) std::sort(names->rbegin(), names->rend());
    return names;
  }
  Status make_dirs(const std::string& dir) override { return io_.make_dirs(dir); }
  Status remove(const std::string& path) override {
    std::lock_guard lock(mu_);
    removed_.push_back(path);
    return io_.remove(path);
  }
  Status remove_dir(const std::string& dir) override { return io_.remove_dir(dir); }
  Status rename(const std::string& source, const std::string& target) override {
    return io_.rename(source, target);
  }
  Status sync_dir(const std::string& dir) override { return io_.sync_dir(dir); }
  Result<bool> exists(const std::string& path) override { return io_.exists(path); }

  std::vector<std::string> removed_under(const std::string& dir) {
    std::lock_guard lock(mu_);
    std::vector<std::string> out;
    for (const std::string& path : removed_) {
      if (path.starts_with(dir + "/")) out.push_back(path.substr(dir.size() + 1));
    }
    return out;
  }

 private:
  storage::Io& io_;
  std::mutex mu_;
  std::vector<std::string> removed_;
};

class PartitionFaultsTest : public ::testing::Test, protected PartitionHarness {
 protected:
  ~PartitionFaultsTest() override { stop(/*clean=*/true); }

  void boot() {
    boot_partitions(kDataDir, recording_, [](const TopicInfo&) -> Result<PartitionConfig> {
      PartitionConfig config;
      config.log.segment_bytes = 64 * 1024;
      return config;
    });
  }
  void stop(bool clean) { stop_partitions(clean); }

  // The process and the machine die: only what was synced is left.
  void power_loss() {
    stop(/*clean=*/false);
    io_.power_loss(/*seed=*/7, /*torn=*/true);
  }

  Result<TopicInfo> create(const std::string& name, int32_t partitions) {
    return run_on(net::ShardId(0), manager_->create_topic(registry_.get(), name, partitions, {}));
  }

  Offset high_watermark(const std::string& topic) {
    Result<PartitionOffsets> offsets = run_on(net::ShardId(0),
                                              manager_->offsets(topic, PartitionId(0)));
    return offsets.ok() ? offsets->high_watermark : Offset(-1);
  }

  static asio::awaitable<size_t> producers_on_shard(PartitionManager* manager,
                                                    std::string topic) {
    std::shared_ptr<Partition> partition = manager->find(topic, PartitionId(0));
    co_return partition == nullptr ? 0 : partition->producers.size();
  }
  size_t producers(const std::string& topic) {
    return run_on(manager_->shard_of(topic, PartitionId(0)),
                  producers_on_shard(manager_.get(), topic));
  }

  bool dir_exists(const std::string& name) {
    Result<bool> present = io_.exists((kDataDir / name).string());
    return present.ok() && *present;
  }

  testing::FaultIo io_;
  RecordingIo recording_{io_};
};

TEST_F(PartitionFaultsTest, CreatedTopicAndItsDataSurvivePowerLoss) {
  boot();
  Result<TopicInfo> created = create("ledger", 3);
  ASSERT_TRUE(created.ok()) << created.status().to_string();
  ASSERT_TRUE(append("ledger", 0, 4).ok());
  power_loss();
  boot();
  const TopicInfo* topic = registry_->snapshot()->find("ledger");
  ASSERT_NE(topic, nullptr);
  EXPECT_EQ(topic->partition_count, 3);
  EXPECT_EQ(topic->topic_id, created->topic_id);
  EXPECT_EQ(high_watermark("ledger"), Offset(4));
  EXPECT_TRUE(dir_exists("ledger-2"));
}

TEST_F(PartitionFaultsTest, DeletionSurvivesPowerLoss) {
  boot();
  ASSERT_TRUE(create("scratch", 2).ok());
  ASSERT_TRUE(append("scratch", 0, 2).ok());
  protocol::Uuid id = registry_->snapshot()->find("scratch")->topic_id;
  ASSERT_TRUE(registry_->remove("scratch").ok());
  ASSERT_TRUE(run_on(net::ShardId(1), manager_->delete_topic("scratch", id)).ok());
  power_loss();
  boot();
  EXPECT_EQ(registry_->snapshot()->find("scratch"), nullptr);
  EXPECT_FALSE(dir_exists("scratch-0"));
  EXPECT_FALSE(dir_exists("scratch-1"));
}

// A crash in the middle of a deletion must not leave segments without their topic_id (an
// id-less directory could otherwise be taken for an empty one): the id goes last.
TEST_F(PartitionFaultsTest, DeletionRemovesTheTopicIdLast) {
  boot();
  ASSERT_TRUE(create("doomed", 1).ok());
  ASSERT_TRUE(append("doomed", 0, 3).ok());
  protocol::Uuid id = registry_->snapshot()->find("doomed")->topic_id;
  ASSERT_TRUE(registry_->remove("doomed").ok());
  ASSERT_TRUE(run_on(net::ShardId(0), manager_->delete_topic("doomed", id)).ok());
  std::vector<std::string> removed = recording_.removed_under((kDataDir / "doomed-0").string());
  ASSERT_GE(removed.size(), 2u);
  EXPECT_EQ(removed.back(), "topic_id");
  EXPECT_FALSE(dir_exists("doomed-0"));
}

TEST_F(PartitionFaultsTest, ConfigChangesSurvivePowerLoss) {
  boot();
  ASSERT_TRUE(create("tuned", 1).ok());
  ASSERT_TRUE(registry_->set_configs("tuned", {{"retention.ms", "60000"}}).ok());
  power_loss();
  boot();
  const TopicInfo* topic = registry_->snapshot()->find("tuned");
  ASSERT_NE(topic, nullptr);
  EXPECT_EQ(topic->configs, (TopicConfigs{{"retention.ms", "60000"}}));
}

TEST_F(PartitionFaultsTest, FailedFsyncLeavesNoHalfCreatedTopic) {
  boot();
  io_.fail_syncs_after(0);
  Result<TopicInfo> failed = create("orders", 2);
  EXPECT_EQ(failed.status().code(), StatusCode::io_error);
  EXPECT_EQ(registry_->snapshot()->find("orders"), nullptr);
  io_.clear_sync_failure();
  power_loss();
  boot();
  EXPECT_EQ(registry_->snapshot()->find("orders"), nullptr);
  ASSERT_TRUE(create("orders", 2).ok());
  ASSERT_TRUE(append("orders", 0, 1).ok());
  EXPECT_EQ(high_watermark("orders"), Offset(1));
}

TEST_F(PartitionFaultsTest, FullDiskLeavesNoHalfCreatedTopic) {
  boot();
  io_.set_capacity_bytes(io_.used_bytes());
  Result<TopicInfo> failed = create("orders", 2);
  EXPECT_EQ(failed.status().code(), StatusCode::no_space);
  EXPECT_EQ(registry_->snapshot()->find("orders"), nullptr);
  io_.set_capacity_bytes(UINT64_MAX);
  ASSERT_TRUE(create("orders", 2).ok());
  ASSERT_TRUE(append("orders", 0, 3).ok());
  power_loss();
  boot();
  EXPECT_EQ(high_watermark("orders"), Offset(3));
}

TEST_F(PartitionFaultsTest, ProducerSnapshotGoesThroughTheIo) {
  boot();
  ASSERT_TRUE(create("payments", 1).ok());
  ASSERT_TRUE(append("payments", 0, 3, /*producer=*/7).ok());
  stop(/*clean=*/true);
  boot();  // producer 7 rebuilt from the log's batch headers
  EXPECT_EQ(producers("payments"), 1u);
  stop(/*clean=*/true);  // now the snapshot is written, through the Io
  const std::string snapshot = (kDataDir / "payments-0" / "producer_state.snapshot").string();
  EXPECT_FALSE(io_.contents(snapshot).empty());
  io_.power_loss(/*seed=*/3, /*torn=*/true);  // it was synced: it stays
  EXPECT_FALSE(io_.contents(snapshot).empty());
  boot();
  EXPECT_EQ(producers("payments"), 1u);
  stop(/*clean=*/false);
  io_.set_contents(snapshot, {0xde, 0xad, 0xbe, 0xef});  // damaged: replay the log instead
  boot();
  EXPECT_EQ(producers("payments"), 1u);
  EXPECT_EQ(high_watermark("payments"), Offset(3));
}

}  // namespace
}  // namespace cairn::broker
