// Transactions on real partitions (real shards, real logs in a temporary directory): markers
// end transactions and move the last stable offset, aborts are listed for read_committed, and
// the producer state — open transactions, the aborted list, the epoch a fencing marker set —
// comes back the same after an unclean stop (replay of the log, markers read whole) and after
// a clean one (snapshot).
#include "broker/partitions/transactions.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "broker/partitions/partition_test_harness.h"
#include "protocol/record_batch.h"

namespace cairn::broker {
namespace {

namespace fs = std::filesystem;

struct Snapshot {
  Offset high_watermark{-1};
  Offset last_stable_offset{-1};
  std::vector<producers::AbortedTxn> aborted;
  ProducerEpoch epoch_of_7{-1};
};

class PartitionTransactionsTest : public ::testing::Test, protected PartitionHarness {
 protected:
  PartitionTransactionsTest() {
    dir_ = fs::temp_directory_path() /
           ("cairn-partition-txn-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }
  ~PartitionTransactionsTest() override {
    stop_partitions(true);
    fs::remove_all(dir_);
  }

  void boot() {
    auto resolver = [](const TopicInfo&) -> Result<PartitionConfig> {
      PartitionConfig config;
      config.log.segment_bytes = 4 * 1024;  // several segments: replay crosses them
      return config;
    };
    boot_partitions(dir_, storage::posix_io(), resolver);
  }

  // A transactional batch of `producer` (epoch 0, `records` records from `sequence`), added
  // to its transaction first, as the produce path does.
  static asio::awaitable<Status> txn_batch_on_shard(PartitionManager* manager, int64_t producer,
                                                    int32_t sequence, int32_t records) {
    std::shared_ptr<Partition> p = manager->find("t", PartitionId(0));
    p->producers.allow_transaction(ProducerId(producer), ProducerEpoch(0));
    protocol::BatchOptions options;
    options.producer_id = ProducerId(producer);
    options.producer_epoch = ProducerEpoch(0);
    options.base_sequence = Sequence(sequence);
    options.transactional = true;
    protocol::BatchBuilder builder(options);
    std::string value(200, 'v');
    for (int32_t i = 0; i < records; i++) {
      protocol::RecordInput record;
      record.value =
          protocol::BytesView(reinterpret_cast<const uint8_t*>(value.data()), value.size());
      builder.add(record);
    }
    Result<std::vector<uint8_t>> batch = std::move(builder).build();
    if (!batch.ok()) co_return batch.status();
    producers::ProducerBatch meta{ProducerId(producer), ProducerEpoch(0), Sequence(sequence),
                                  producers::last_sequence_of(Sequence(sequence), records - 1)};
    meta.transactional = true;
    if (p->producers.check(meta).verdict != producers::SequenceVerdict::append) {
      co_return error(StatusCode::invalid_argument, "refused by the producer state");
    }
    Result<storage::AppendResult> appended = p->log->append(*batch);
    if (!appended.ok()) co_return appended.status();
    meta.first_offset = appended->base_offset;
    meta.last_offset = appended->last_offset;
    p->producers.record(meta);
    co_return co_await await_durable(*p->log, appended->last_offset);
  }
  static asio::awaitable<Status> marker_on_shard(PartitionManager* manager, int64_t producer,
                                                 int16_t epoch, bool commit) {
    std::shared_ptr<Partition> p = manager->find("t", PartitionId(0));
    Result<Offset> at =
        append_marker(*p, ProducerId(producer), ProducerEpoch(epoch), commit, TimestampMs(1));
    if (!at.ok()) co_return at.status();
    co_return co_await await_durable(*p->log, *at);
  }
  static asio::awaitable<Snapshot> snapshot_on_shard(PartitionManager* manager) {
    std::shared_ptr<Partition> p = manager->find("t", PartitionId(0));
    Snapshot s{p->high_watermark(), p->last_stable_offset(), p->producers.aborted()};
    if (const auto* entry = p->producers.find(ProducerId(7))) s.epoch_of_7 = entry->epoch;
    co_return s;
  }

  net::ShardId shard() const { return manager_->shard_of("t", PartitionId(0)); }
  Status txn_batch(int64_t producer, int32_t sequence, int32_t records) {
    return run_on(shard(), txn_batch_on_shard(manager_.get(), producer, sequence, records));
  }
  Status marker(int64_t producer, int16_t epoch, bool commit) {
    return run_on(shard(), marker_on_shard(manager_.get(), producer, epoch, commit));
  }
  Snapshot state() { return run_on(shard(), snapshot_on_shard(manager_.get())); }

  fs::path dir_;
};

void expect_same(const Snapshot& a, const Snapshot& b) {
  EXPECT_EQ(a.high_watermark, b.high_watermark);
  EXPECT_EQ(a.last_stable_offset, b.last_stable_offset);
  EXPECT_EQ(a.aborted, b.aborted);
  EXPECT_EQ(a.epoch_of_7, b.epoch_of_7);
}

TEST_F(PartitionTransactionsTest, StateSurvivesUncleanAndCleanStops) {
  boot();
  ASSERT_TRUE(run(manager_->create_topic(registry_.get(), "t", 1, {})).ok());
  // Producer 1: a committed transaction; producer 2: an aborted one spanning segments;
  // producer 7: fenced by a marker of epoch 1 (what InitProducerId's abort writes);
  // producer 3: left open.
  ASSERT_TRUE(txn_batch(1, 0, 3).ok());
  ASSERT_TRUE(txn_batch(2, 0, 10).ok());
  ASSERT_TRUE(txn_batch(2, 10, 10).ok());
  ASSERT_TRUE(marker(1, 0, true).ok());
  ASSERT_TRUE(txn_batch(7, 0, 2).ok());
  ASSERT_TRUE(marker(2, 0, false).ok());
  ASSERT_TRUE(marker(7, 1, false).ok());
  ASSERT_TRUE(txn_batch(3, 0, 4).ok());
  Snapshot before = state();
  EXPECT_EQ(before.high_watermark, Offset(3 + 20 + 1 + 2 + 1 + 1 + 4));
  EXPECT_EQ(before.last_stable_offset, Offset(28));  // producer 3's first record
  ASSERT_EQ(before.aborted.size(), 2u);
  EXPECT_EQ(before.aborted[0].producer_id, ProducerId(2));
  EXPECT_EQ(before.aborted[0].first_offset, Offset(3));
  EXPECT_EQ(before.aborted[0].last_offset, Offset(26));
  EXPECT_EQ(before.aborted[1].producer_id, ProducerId(7));
  EXPECT_EQ(before.epoch_of_7, ProducerEpoch(1));
  // A marker of an older epoch than the fence is refused.
  EXPECT_EQ(marker(7, 0, true).code(), StatusCode::invalid_argument);

  stop_partitions(false);  // like kill -9: no snapshot, the whole log is replayed
  boot();
  expect_same(state(), before);
  stop_partitions(true);  // clean: the snapshot is used
  ASSERT_TRUE(fs::exists(dir_ / "t-0" / "producer_state.snapshot"));
  boot();
  expect_same(state(), before);
  ASSERT_TRUE(marker(3, 0, true).ok());
  EXPECT_EQ(state().last_stable_offset, state().high_watermark);
}

}  // namespace
}  // namespace cairn::broker
