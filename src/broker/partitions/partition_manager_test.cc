// PartitionManager on real shards and real logs in a temporary directory (its config resolver
// is a seam: the server installs the catalog's, configs/resolve.h; here a stand-in reads
// max.message.bytes): topics get their logs on the owning shards, data survives a
// clean stop and an unclean one, DeleteRecords and topic deletion change what is on disk, a
// config change reaches every partition, a stale directory of another incarnation is wiped
// while an adopted id-less one (internal topics from an older data directory) is kept, a
// gathered hop to every shard (net::await_all) returns every shard's answer in order, the
// cleaner loop compacts what it should, and producer state is snapshotted after rolls.
#include "broker/partitions/partition_manager.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <stdexcept>
#include <thread>

#include "broker/partitions/partition_test_harness.h"
#include "net/await_callback.h"

namespace cairn::broker {
namespace {

namespace fs = std::filesystem;

class PartitionManagerTest : public ::testing::Test, protected PartitionHarness {
 protected:
  PartitionManagerTest() {
    dir_ = fs::temp_directory_path() /
           ("cairn-partitions-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }
  ~PartitionManagerTest() override {
    shutdown(true);
    fs::remove_all(dir_);
  }

  void boot() {
    auto resolver = [](const TopicInfo& topic) -> Result<PartitionConfig> {
      PartitionConfig config;
      config.log.segment_bytes = 16 * 1024;
      auto it = topic.configs.find("max.message.bytes");
      if (it != topic.configs.end()) config.max_message_bytes = std::stoi(it->second);
      return config;
    };
    boot_partitions(dir_, storage::posix_io(), resolver);
  }
  void shutdown(bool clean) { stop_partitions(clean); }

  // Every topic compacted, 1 KiB segments, the cleaner checking every 20 ms; loops started.
  void boot_compacting() {
    auto resolver = [](const TopicInfo&) -> Result<PartitionConfig> {
      PartitionConfig config;
      config.log.segment_bytes = 1024;
      config.log.cleanup_compact = true;
      config.log.cleanup_delete = false;
      return config;
    };
    boot_partitions(dir_, storage::posix_io(), resolver, [](PartitionManagerOptions& options) {
      options.cleaner_check_interval = std::chrono::milliseconds(20);
    });
    manager_->start();
  }

  TopicInfo create(const std::string& name, int32_t partitions, TopicConfigs configs = {}) {
    Result<TopicInfo> topic =
        run(manager_->create_topic(registry_.get(), name, partitions, std::move(configs)));
    EXPECT_TRUE(topic.ok()) << topic.status().to_string();
    return topic.ok() ? *topic : TopicInfo();
  }

  PartitionOffsets offsets(const std::string& topic, int32_t partition) {
    Result<PartitionOffsets> result = run(manager_->offsets(topic, PartitionId(partition)));
    EXPECT_TRUE(result.ok()) << result.status().to_string();
    return result.ok() ? *result : PartitionOffsets{Offset(-1), Offset(-1), Offset(-1)};
  }

  static asio::awaitable<int32_t> max_message_bytes_on_shard(PartitionManager* manager,
                                                             std::string topic, PartitionId id) {
    std::shared_ptr<Partition> partition = manager->find(topic, id);
    co_return partition == nullptr ? -1 : partition->config.max_message_bytes;
  }
  int32_t max_message_bytes(const std::string& topic, int32_t partition) {
    PartitionId id(partition);
    return run_on(manager_->shard_of(topic, id),
                  max_message_bytes_on_shard(manager_.get(), topic, id));
  }

  fs::path dir_;
};

TEST_F(PartitionManagerTest, CreatedTopicHasEmptyLogsOnItsShards) {
  boot();
  TopicInfo topic = create("orders", 4);
  EXPECT_EQ(topic.partition_count, 4);
  for (int32_t p = 0; p < 4; p++) {
    EXPECT_TRUE(fs::exists(dir_ / ("orders-" + std::to_string(p)) / "topic_id")) << p;
    PartitionOffsets o = offsets("orders", p);
    EXPECT_EQ(o.log_start_offset, Offset(0));
    EXPECT_EQ(o.high_watermark, Offset(0));
  }
  Result<PartitionOffsets> missing = run(manager_->offsets("orders", PartitionId(4)));
  EXPECT_EQ(missing.status().code(), StatusCode::not_found);
}

TEST_F(PartitionManagerTest, AppendedDataSurvivesCleanAndUncleanStops) {
  boot();
  create("ledger", 2);
  ASSERT_TRUE(append("ledger", 0, 5).ok());
  ASSERT_TRUE(append("ledger", 1, 2).ok());
  shutdown(true);
  boot();
  EXPECT_EQ(offsets("ledger", 0).high_watermark, Offset(5));
  ASSERT_TRUE(append("ledger", 0, 3).ok());
  shutdown(false);
  boot();
  EXPECT_EQ(offsets("ledger", 0).high_watermark, Offset(8));
  EXPECT_EQ(offsets("ledger", 1).high_watermark, Offset(2));
}

TEST_F(PartitionManagerTest, DeleteRecordsMovesTheStartAndRefusesPastTheEnd) {
  boot();
  create("audit", 1);  // 16 KiB segments (the resolver above)
  ASSERT_TRUE(append("audit", 0, 10).ok());
  Result<Offset> low = run(manager_->delete_records("audit", PartitionId(0), Offset(4)));
  ASSERT_TRUE(low.ok()) << low.status().to_string();
  EXPECT_EQ(*low, Offset(4));
  EXPECT_EQ(offsets("audit", 0).log_start_offset, Offset(4));
  Result<Offset> past = run(manager_->delete_records("audit", PartitionId(0), Offset(11)));
  EXPECT_EQ(past.status().code(), StatusCode::out_of_range);
  Result<Offset> lower = run(manager_->delete_records("audit", PartitionId(0), Offset(2)));
  ASSERT_TRUE(lower.ok());
  EXPECT_EQ(*lower, Offset(4)) << "a lower offset changes nothing";
  shutdown(false);
  boot();
  EXPECT_EQ(offsets("audit", 0).log_start_offset, Offset(4));
}

TEST_F(PartitionManagerTest, DeletedTopicLeavesNothingBehind) {
  boot();
  create("temp", 2);
  ASSERT_TRUE(append("temp", 1, 1).ok());
  protocol::Uuid id = registry_->snapshot()->find("temp")->topic_id;
  ASSERT_TRUE(registry_->remove("temp").ok());
  ASSERT_TRUE(run(manager_->delete_topic("temp", id)).ok());
  EXPECT_FALSE(fs::exists(dir_ / "temp-0"));
  EXPECT_FALSE(fs::exists(dir_ / "temp-1"));
  EXPECT_EQ(run(manager_->offsets("temp", PartitionId(1))).status().code(), StatusCode::not_found);
  // A new incarnation starts empty.
  create("temp", 2);
  EXPECT_EQ(offsets("temp", 1).high_watermark, Offset(0));
}

// A deletion that arrives after the name was created again (a producer auto-created it) takes
// only its own incarnation: the new one keeps its logs and files.
TEST_F(PartitionManagerTest, LateDeletionLeavesTheNewIncarnationAlone) {
  boot();
  create("reborn", 2);
  ASSERT_TRUE(append("reborn", 0, 2).ok());
  protocol::Uuid old_id = registry_->snapshot()->find("reborn")->topic_id;
  ASSERT_TRUE(registry_->remove("reborn").ok());
  create("reborn", 2);  // retires the old incarnation's partitions as it reserves its own
  ASSERT_TRUE(append("reborn", 0, 3).ok());
  ASSERT_TRUE(run(manager_->delete_topic("reborn", old_id)).ok());
  EXPECT_EQ(offsets("reborn", 0).high_watermark, Offset(3));
  EXPECT_TRUE(fs::exists(dir_ / "reborn-0" / "topic_id"));
  EXPECT_TRUE(fs::exists(dir_ / "reborn-1" / "topic_id"));
  ASSERT_TRUE(append("reborn", 1, 1).ok());
  shutdown(true);
  boot();
  EXPECT_EQ(offsets("reborn", 0).high_watermark, Offset(3));
  EXPECT_EQ(offsets("reborn", 1).high_watermark, Offset(1));
}

// Two CreatePartitions racing over the same new partitions: the second finds them reserved
// and opens nothing; every partition ends up with one working log.
TEST_F(PartitionManagerTest, ConcurrentCreationOfTheSamePartitionsOpensThemOnce) {
  boot();
  create("grown", 1);
  Result<TopicInfo> grown = registry_->set_partition_count("grown", 6);
  ASSERT_TRUE(grown.ok());
  auto first =
      asio::co_spawn(shards_->executor(net::ShardId(0)),
                     optional_of(manager_->create_partitions(*grown, 1)), asio::use_future);
  auto second =
      asio::co_spawn(shards_->executor(net::ShardId(1)),
                     optional_of(manager_->create_partitions(*grown, 1)), asio::use_future);
  EXPECT_TRUE(first.get()->ok());
  EXPECT_TRUE(second.get()->ok());
  for (int32_t p = 0; p < 6; p++) {
    ASSERT_TRUE(append("grown", p, 2).ok()) << p;
    EXPECT_EQ(offsets("grown", p).high_watermark, Offset(2)) << p;
  }
  shutdown(true);
  boot();
  for (int32_t p = 0; p < 6; p++) EXPECT_EQ(offsets("grown", p).high_watermark, Offset(2)) << p;
}

TEST_F(PartitionManagerTest, ConfigChangeReachesEveryPartition) {
  boot();
  TopicInfo topic = create("sized", 3);
  for (int32_t p = 0; p < 3; p++) EXPECT_EQ(max_message_bytes("sized", p), 1048588);
  Result<TopicInfo> changed = registry_->set_configs("sized", {{"max.message.bytes", "2048"}});
  ASSERT_TRUE(changed.ok());
  ASSERT_TRUE(run(manager_->apply_config(*changed)).ok());
  for (int32_t p = 0; p < 3; p++) EXPECT_EQ(max_message_bytes("sized", p), 2048);
}

TEST_F(PartitionManagerTest, StaleDirectoryIsWipedAdoptedOneIsKept) {
  boot();
  create("kept", 1);
  ASSERT_TRUE(append("kept", 0, 3).ok());
  shutdown(true);
  // kept-0 loses its topic_id (an older data directory); stale-0 belongs to a topic id the
  // registry does not know.
  fs::remove(dir_ / "kept-0" / "topic_id");
  fs::create_directories(dir_ / "stale-0");
  std::ofstream(dir_ / "stale-0" / "topic_id") << "00000000000000000000000000000000\n";
  std::ofstream(dir_ / "stale-0" / "left-by-the-old-incarnation") << "old bytes";
  {
    auto registry = TopicRegistry::open(dir_ / "meta", storage::posix_io());
    ASSERT_TRUE(registry.ok());
    const TopicInfo* kept = (*registry)->snapshot()->find("kept");
    ASSERT_NE(kept, nullptr);
    ASSERT_TRUE(adopt_partition_dirs(storage::posix_io(), dir_, *kept).ok());
    ASSERT_TRUE((*registry)->create("stale", 1, {}).ok());
  }
  boot();
  EXPECT_EQ(offsets("kept", 0).high_watermark, Offset(3));
  EXPECT_EQ(offsets("stale", 0).high_watermark, Offset(0));
  EXPECT_FALSE(fs::exists(dir_ / "stale-0" / "left-by-the-old-incarnation"));
}

// net::await_all runs hops to every shard at once and returns their answers in order.
asio::awaitable<uint32_t> shard_here() { co_return net::ShardSet::current()->value(); }

asio::awaitable<std::vector<uint32_t>> gather_shards(const net::ShardSet* shards) {
  std::vector<asio::awaitable<uint32_t>> hops;
  for (uint32_t i = 0; i < 6; i++) {
    hops.push_back(shards->run_on(net::ShardId(i % 2), shard_here()));
  }
  co_return co_await net::await_all(std::move(hops));
}

asio::awaitable<int> throw_on_the_writer(MetaWriter* writer) {
  co_return co_await writer->run([]() -> int { throw std::runtime_error("disk on fire"); });
}

// An exception on the writer thread reaches the coroutine that asked (the connection closes),
// instead of ending the process.
TEST_F(PartitionManagerTest, MetaWriterExceptionsReachTheCaller) {
  boot();
  auto future = asio::co_spawn(shards_->executor(net::ShardId(0)),
                               throw_on_the_writer(meta_writer_.get()), asio::use_future);
  EXPECT_THROW(future.get(), std::runtime_error);
  create("still-works", 1);
}

// Compaction wiring: the shard's cleaner loop compacts a cleanup.policy=compact topic in
// steps (keeping the latest record per key, offsets intact, compressed batches recompressed
// with their own codec through protocol::compression) and leaves a delete topic alone.
static asio::awaitable<Status> append_keyed_on_shard(PartitionManager* manager, std::string topic,
                                                     int count) {
  std::shared_ptr<Partition> partition = manager->find(topic, PartitionId(0));
  if (partition == nullptr || !partition->usable()) co_return error(StatusCode::not_found, "");
  Offset last(-1);
  constexpr model::Compression kCodecs[] = {model::Compression::none, model::Compression::gzip,
                                            model::Compression::snappy, model::Compression::lz4,
                                            model::Compression::zstd};
  for (int i = 0; i < count; i++) {
    protocol::BatchOptions options;
    options.compression = kCodecs[i % 5];
    protocol::BatchBuilder builder(options);
    // Two records a batch: the first key repeats (compacted away), the second is unique.
    std::string key = "key-" + std::to_string(i % 5);
    std::string value = "value-" + std::to_string(i);
    std::string unique = "unique-" + std::to_string(i);
    protocol::RecordInput record;
    record.key = protocol::bytes_of(key);
    record.value = protocol::bytes_of(value);
    builder.add(record);
    record.key = protocol::bytes_of(unique);
    builder.add(record);
    Result<std::vector<uint8_t>> batch = std::move(builder).build();
    if (!batch.ok()) co_return batch.status();
    Result<storage::AppendResult> appended = partition->log->append(*batch);
    if (!appended.ok()) co_return appended.status();
    last = appended->last_offset;
  }
  Status rolled = partition->log->roll();
  if (!rolled.ok()) co_return rolled;
  co_return co_await await_flushed(*partition->log);
}

static asio::awaitable<uint64_t> cleaner_runs_on_shard(PartitionManager* manager,
                                                       std::string topic) {
  std::shared_ptr<Partition> partition = manager->find(topic, PartitionId(0));
  co_return partition == nullptr ? 0 : partition->log->cleaner_stats().runs;
}

// key -> (value, offset) of every record in partition 0, decoded through protocol.
using KeyedRecords = std::multimap<std::string, std::pair<std::string, int64_t>>;
static asio::awaitable<std::optional<KeyedRecords>> records_on_shard(PartitionManager* manager,
                                                                     std::string topic) {
  std::shared_ptr<Partition> partition = manager->find(topic, PartitionId(0));
  storage::Log& log = *partition->log;
  Result<storage::ReadResult> read = log.read(Offset(0), 1 << 24, log.log_end_offset());
  if (!read.ok()) co_return std::nullopt;
  Result<std::vector<uint8_t>> bytes = log.copy(*read);
  if (!bytes.ok()) co_return std::nullopt;
  Result<protocol::SplitBatches> batches = protocol::split_batches(*bytes);
  if (!batches.ok()) co_return std::nullopt;
  KeyedRecords records;
  for (const model::RecordBatchView& batch : batches->batches) {
    protocol::ValidateOptions validate;
    validate.origin = protocol::BatchOrigin::log;
    if (!protocol::validate_batch(batch, validate).ok()) co_return std::nullopt;
    Result<protocol::BatchRecords> opened = protocol::BatchRecords::open(batch, 1 << 24);
    if (!opened.ok()) co_return std::nullopt;
    protocol::RecordReader reader = opened->reader();
    protocol::Record record;
    while (reader.next(&record)) {
      records.emplace(std::string(record.key->begin(), record.key->end()),
                      std::make_pair(std::string(record.value->begin(), record.value->end()),
                                     record.offset.value()));
    }
    if (!reader.status().ok()) co_return std::nullopt;
  }
  co_return records;
}

TEST_F(PartitionManagerTest, CleanerLoopCompactsCompactedTopicsOnly) {
  auto resolver = [](const TopicInfo& topic) -> Result<PartitionConfig> {
    PartitionConfig config;
    config.log.segment_bytes = 1024;
    auto it = topic.configs.find("cleanup.policy");
    if (it != topic.configs.end() && it->second == "compact") {
      config.log.cleanup_compact = true;
      config.log.cleanup_delete = false;
    }
    return config;
  };
  boot_partitions(dir_, storage::posix_io(), resolver, [](PartitionManagerOptions& options) {
    options.cleaner_check_interval = std::chrono::milliseconds(20);
    options.cleaner_step_bytes = 512;  // many steps, each yielding to the shard
  });
  manager_->start();  // the retention and cleaner loops, as the server starts them
  create("table", 1, {{"cleanup.policy", "compact"}});
  create("stream", 1);
  for (const char* topic : {"table", "stream"}) {
    net::ShardId shard = manager_->shard_of(topic, PartitionId(0));
    ASSERT_TRUE(run_on(shard, append_keyed_on_shard(manager_.get(), topic, 100)).ok());
  }
  net::ShardId table_shard = manager_->shard_of("table", PartitionId(0));
  uint64_t runs = 0;
  for (int i = 0; i < 500 && runs == 0; i++) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    runs = run_on(table_shard, cleaner_runs_on_shard(manager_.get(), "table"));
  }
  EXPECT_GE(runs, 1u);
  net::ShardId stream_shard = manager_->shard_of("stream", PartitionId(0));
  EXPECT_EQ(0u, run_on(stream_shard, cleaner_runs_on_shard(manager_.get(), "stream")));
  EXPECT_EQ(Offset(200), offsets("table", 0).high_watermark);
  std::optional<KeyedRecords> records =
      run_on(table_shard, records_on_shard(manager_.get(), "table"));
  ASSERT_TRUE(records.has_value());
  for (int k = 0; k < 5; k++) {
    // Only the latest of the repeated key stays: batch 95 + k, record 0, offset 2 * (95 + k).
    std::string key = "key-" + std::to_string(k);
    ASSERT_EQ(1u, records->count(key)) << key;
    EXPECT_EQ("value-" + std::to_string(95 + k), records->find(key)->second.first);
    EXPECT_EQ(2 * (95 + k), records->find(key)->second.second);
  }
  for (int i = 0; i < 100; i++) {
    auto it = records->find("unique-" + std::to_string(i));
    ASSERT_NE(it, records->end()) << i;
    EXPECT_EQ(2 * i + 1, it->second.second);
  }
  // The compacted data survives a clean stop and reopen.
  shutdown(true);
  boot();
  EXPECT_EQ(Offset(200), offsets("table", 0).high_watermark);
}

static asio::awaitable<CleanerShardStats> cleaner_stats_on_shard(PartitionManager* manager) {
  co_return manager->cleaner_stats();
}

// The shard's cleaner counters move with the runs, and outlive a deleted topic's logs.
TEST_F(PartitionManagerTest, CleanerStatsMoveAndOutliveADeletedTopic) {
  boot_compacting();
  create("table", 1);
  net::ShardId shard = manager_->shard_of("table", PartitionId(0));
  CleanerShardStats before = run_on(shard, cleaner_stats_on_shard(manager_.get()));
  EXPECT_EQ(before.runs, 0u);
  EXPECT_EQ(before.compacted_logs, 1u);
  ASSERT_TRUE(run_on(shard, append_keyed_on_shard(manager_.get(), "table", 100)).ok());
  CleanerShardStats after;
  for (int i = 0; i < 500 && after.runs == 0; i++) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    after = run_on(shard, cleaner_stats_on_shard(manager_.get()));
  }
  EXPECT_GE(after.runs, 1u);
  EXPECT_GT(after.bytes_read, 0u);
  EXPECT_GT(after.bytes_written, 0u);
  EXPECT_GE(after.records_removed, 95u);  // each repeated key's older values
  EXPECT_GT(after.last_run_ms, 0);
  EXPECT_EQ(after.uncleanable_logs, 0u);

  protocol::Uuid id = registry_->snapshot()->find("table")->topic_id;
  ASSERT_TRUE(registry_->remove("table").ok());
  ASSERT_TRUE(run(manager_->delete_topic("table", id)).ok());
  CleanerShardStats deleted = run_on(shard, cleaner_stats_on_shard(manager_.get()));
  EXPECT_EQ(deleted.compacted_logs, 0u);
  EXPECT_GE(deleted.runs, after.runs);
  EXPECT_GE(deleted.records_removed, after.records_removed);
}

TEST_F(PartitionManagerTest, GatheredHopsAnswerInOrder) {
  boot();
  std::vector<uint32_t> answers = run_on(net::ShardId(1), gather_shards(shards_.get()));
  EXPECT_EQ(answers, (std::vector<uint32_t>{0, 1, 0, 1, 0, 1}));
}

// Both internal topics are compacted by the same loop as user topics: their coordinators
// replay the latest record per key.
TEST_F(PartitionManagerTest, CleanerLoopCompactsBothInternalTopics) {
  boot_compacting();
  for (std::string topic :
       {std::string(kTransactionStateTopic), std::string(kConsumerOffsetsTopic)}) {
    create(topic, 1);
    ASSERT_TRUE(run_on(manager_->shard_of(topic, PartitionId(0)),
                       append_keyed_on_shard(manager_.get(), topic, 100))
                    .ok());
  }
  for (std::string topic :
       {std::string(kTransactionStateTopic), std::string(kConsumerOffsetsTopic)}) {
    net::ShardId shard = manager_->shard_of(topic, PartitionId(0));
    uint64_t runs = 0;
    for (int i = 0; i < 500 && runs == 0; i++) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      runs = run_on(shard, cleaner_runs_on_shard(manager_.get(), topic));
    }
    EXPECT_GE(runs, 1u) << topic;
    std::optional<KeyedRecords> records = run_on(shard, records_on_shard(manager_.get(), topic));
    ASSERT_TRUE(records.has_value()) << topic;
    EXPECT_EQ(1u, records->count("key-0")) << topic;
  }
}

// One-record batches of idempotent producer 7 (sequences from `first`), remembered in the
// partition's producer state as the Produce path does.
asio::awaitable<Status> append_idempotent(PartitionManager* manager, std::string topic, int first,
                                          int count) {
  std::shared_ptr<Partition> partition = manager->find(topic, PartitionId(0));
  if (partition == nullptr || !partition->usable()) co_return error(StatusCode::not_found, "");
  Offset last(-1);
  for (int i = first; i < first + count; i++) {
    protocol::BatchOptions options;
    options.producer_id = ProducerId(7);
    options.producer_epoch = ProducerEpoch(0);
    options.base_sequence = Sequence(i);
    protocol::BatchBuilder builder(options);
    protocol::RecordInput record;
    const std::string value(200, 'v');
    record.value = protocol::BytesView(reinterpret_cast<const uint8_t*>(value.data()), 200);
    builder.add(record);
    Result<std::vector<uint8_t>> batch = std::move(builder).build();
    if (!batch.ok()) co_return batch.status();
    Result<storage::AppendResult> appended = partition->log->append(*batch);
    if (!appended.ok()) co_return appended.status();
    partition->producers.record({ProducerId(7), ProducerEpoch(0), Sequence(i), Sequence(i),
                                 appended->base_offset, appended->last_offset, TimestampMs(0)});
    last = appended->last_offset;
  }
  co_return co_await await_durable(*partition->log, last);
}

asio::awaitable<producers::SequenceVerdict> verdict_on_shard(PartitionManager* manager,
                                                             std::string topic, int sequence) {
  std::shared_ptr<Partition> partition = manager->find(topic, PartitionId(0));
  producers::ProducerBatch batch{ProducerId(7), ProducerEpoch(0), Sequence(sequence),
                                 Sequence(sequence)};
  co_return partition->producers.check(batch).verdict;
}

// After a roll the retention loop snapshots the producer state (Kafka does at every roll), so a
// crash does not cost a replay of the whole log: the snapshot is there without a clean stop,
// covers what was written before it, and recovery builds the same state from it.
TEST_F(PartitionManagerTest, ProducerStateIsSnapshottedAfterARollAndServesRecovery) {
  auto resolver = [](const TopicInfo&) -> Result<PartitionConfig> {
    PartitionConfig config;
    config.log.segment_bytes = 1024;
    return config;
  };
  auto with_loops = [](PartitionManagerOptions& options) {
    options.retention_check_interval = std::chrono::milliseconds(20);
  };
  boot_partitions(dir_, storage::posix_io(), resolver, with_loops);
  manager_->start();
  create("ledger", 1);
  net::ShardId shard = manager_->shard_of("ledger", PartitionId(0));
  ASSERT_TRUE(run_on(shard, append_idempotent(manager_.get(), "ledger", 0, 20)).ok());
  const fs::path snapshot = dir_ / "ledger-0" / "producer_state.snapshot";
  for (int i = 0; i < 500 && !fs::exists(snapshot); i++) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(fs::exists(snapshot));
  std::ifstream in(snapshot, std::ios::binary);
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), {});
  producers::ProducerStateTable saved;
  Result<Offset> valid_up_to = saved.decode(bytes);
  ASSERT_TRUE(valid_up_to.ok()) << valid_up_to.status().to_string();
  EXPECT_GT(valid_up_to->value(), 0);
  ASSERT_NE(saved.find(ProducerId(7)), nullptr);
  EXPECT_EQ(saved.find(ProducerId(7))->batches.back().last_sequence.value(),
            valid_up_to->value() - 1);  // one record per batch, sequence = offset
  ASSERT_TRUE(run_on(shard, append_idempotent(manager_.get(), "ledger", 20, 5)).ok());
  shutdown(false);  // a crash: no snapshot at close
  boot_partitions(dir_, storage::posix_io(), resolver, with_loops);
  shard = manager_->shard_of("ledger", PartitionId(0));
  EXPECT_EQ(producers::SequenceVerdict::duplicate,
            run_on(shard, verdict_on_shard(manager_.get(), "ledger", 24)));
  EXPECT_EQ(producers::SequenceVerdict::append,
            run_on(shard, verdict_on_shard(manager_.get(), "ledger", 25)));
}

}  // namespace
}  // namespace cairn::broker
