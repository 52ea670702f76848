// Transactions on real partitions (real shards, real logs in a temporary directory): markers
// end transactions and move the last stable offset, aborts are listed for read_committed, and
// the producer state — open transactions, the aborted list, the epoch a fencing marker set —
// comes back the same after an unclean stop (replay of the log, markers read whole) and after
// a clean one (snapshot). On a compacted topic the cleaner drops aborted data and then the
// markers, and the aborted list follows, in memory and after a stop with a stale snapshot.
#include "broker/partitions/transactions.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <thread>

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
  // With a `key_prefix`, record i has key key_prefix + i (else no key).
  static asio::awaitable<Status> txn_batch_on_shard(PartitionManager* manager, int64_t producer,
                                                    int32_t sequence, int32_t records,
                                                    std::string key_prefix = "") {
    std::shared_ptr<Partition> p = manager->find("t", PartitionId(0));
    p->producers.allow_transaction(ProducerId(producer), ProducerEpoch(0));
    protocol::BatchOptions options;
    options.producer_id = ProducerId(producer);
    options.producer_epoch = ProducerEpoch(0);
    options.base_sequence = Sequence(sequence);
    options.transactional = true;
    protocol::BatchBuilder builder(options);
    std::string value(200, 'v');
    std::vector<std::string> keys;
    for (int32_t i = 0; i < records; i++) keys.push_back(key_prefix + std::to_string(i));
    for (int32_t i = 0; i < records; i++) {
      protocol::RecordInput record;
      record.value =
          protocol::BytesView(reinterpret_cast<const uint8_t*>(value.data()), value.size());
      if (!key_prefix.empty()) record.key = protocol::bytes_of(keys[static_cast<size_t>(i)]);
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
    Result<std::vector<producers::AbortedTxn>> aborted = all_aborted(*p);
    EXPECT_TRUE(aborted.ok()) << aborted.status().to_string();
    Snapshot s{p->high_watermark(), p->last_stable_offset(),
               aborted.ok() ? *aborted : std::vector<producers::AbortedTxn>()};
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

// A compacted "t": 4 KiB segments (the scenario below fits in the first, so no marker is its
// segment's last batch, which would keep it), the cleaner loop every 10 ms,
// delete.retention.ms from retention_ms_ (read at every open).
class CompactedTransactionsTest : public PartitionTransactionsTest {
 protected:
  void boot_compacted() {
    std::atomic<int64_t>* retention_ms = &retention_ms_;
    auto resolver = [retention_ms](const TopicInfo&) -> Result<PartitionConfig> {
      PartitionConfig config;
      config.log.segment_bytes = 4096;
      config.log.cleanup_compact = true;
      config.log.cleanup_delete = false;
      config.log.min_cleanable_dirty_ratio = 0;
      config.log.delete_retention_ms = retention_ms->load();
      return config;
    };
    boot_partitions(dir_, storage::posix_io(), resolver, [](PartitionManagerOptions& options) {
      options.cleaner_check_interval = std::chrono::milliseconds(10);
    });
    manager_->start();
  }

  static asio::awaitable<Offset> marker_at_on_shard(PartitionManager* manager, int64_t producer,
                                                    bool commit) {
    std::shared_ptr<Partition> p = manager->find("t", PartitionId(0));
    TimestampMs now(manager->clock().now_ms());
    Result<Offset> at = append_marker(*p, ProducerId(producer), ProducerEpoch(0), commit, now);
    if (!at.ok() || !(co_await await_durable(*p->log, *at)).ok()) co_return Offset(-1);
    co_return *at;
  }
  // Plain keyed records (one per batch), then a roll: everything so far is cleanable.
  static asio::awaitable<Status> plain_on_shard(PartitionManager* manager,
                                                std::vector<std::string> keys, std::string value) {
    std::shared_ptr<Partition> p = manager->find("t", PartitionId(0));
    for (const std::string& key : keys) {
      protocol::BatchBuilder builder(protocol::BatchOptions{});
      protocol::RecordInput record;
      record.key = protocol::bytes_of(key);
      record.value = protocol::bytes_of(value);
      builder.add(record);
      Result<std::vector<uint8_t>> batch = std::move(builder).build();
      if (!batch.ok()) co_return batch.status();
      Result<storage::AppendResult> appended = p->log->append(*batch);
      if (!appended.ok()) co_return appended.status();
    }
    Status rolled = p->log->roll();
    if (!rolled.ok()) co_return rolled;
    co_return co_await await_flushed(*p->log);
  }
  static asio::awaitable<bool> has_batch_on_shard(PartitionManager* manager, Offset offset) {
    std::shared_ptr<Partition> p = manager->find("t", PartitionId(0));
    bool found = false;
    Status scanned = p->log->scan_headers(offset, [&](const storage::BatchHeader& h) {
      found = h.base_offset == offset;
      return false;
    });
    co_return scanned.ok() && found;
  }

  // key -> value as a consumer of the whole partition sees it: read_committed (below the LSO,
  // and as Kafka's consumer does: a producer listed in an aborted transaction starting at or
  // below a batch is skipped until its ABORT marker) or everything.
  struct View {
    std::map<std::string, std::string> values;
    std::multiset<std::string> keys;  // every keyed record, repeats included
  };
  static asio::awaitable<View> view_on_shard(PartitionManager* manager, bool read_committed) {
    std::shared_ptr<Partition> p = manager->find("t", PartitionId(0));
    Offset upper = read_committed ? p->last_stable_offset() : p->high_watermark();
    std::vector<producers::AbortedTxn> aborted;
    if (read_committed) {
      Result<std::vector<producers::AbortedTxn>> listed = aborted_between(*p, Offset(0), upper);
      EXPECT_TRUE(listed.ok()) << listed.status().to_string();
      if (listed.ok()) aborted = *listed;
    }
    std::sort(aborted.begin(), aborted.end(),
              [](const auto& a, const auto& b) { return a.first_offset < b.first_offset; });
    Result<storage::ReadResult> read = p->log->read(p->log->log_start_offset(), 1 << 24, upper);
    Result<std::vector<uint8_t>> bytes =
        read.ok() ? p->log->copy(*read) : Result<std::vector<uint8_t>>(read.status());
    View view;
    if (!bytes.ok()) co_return view;
    Result<protocol::SplitBatches> batches = protocol::split_batches(*bytes);
    std::set<int64_t> skipping;
    size_t next_aborted = 0;
    for (const model::RecordBatchView& batch : batches->batches) {
      while (next_aborted < aborted.size() &&
             aborted[next_aborted].first_offset <= batch.last_offset()) {
        skipping.insert(aborted[next_aborted++].producer_id.value());
      }
      if (batch.is_control()) {
        Result<TxnMarker> marker = decode_marker_batch(batch);
        if (marker.ok() && !marker->commit) skipping.erase(batch.producer_id().value());
        continue;
      }
      if (batch.is_transactional() && skipping.contains(batch.producer_id().value())) continue;
      Result<protocol::BatchRecords> opened = protocol::BatchRecords::open(batch, 1 << 24);
      protocol::RecordReader reader = opened->reader();
      protocol::Record record;
      while (reader.next(&record)) {
        std::string key(record.key->begin(), record.key->end());
        view.values[key] = std::string(record.value->begin(), record.value->end());
        view.keys.insert(key);
      }
    }
    co_return view;
  }
  static asio::awaitable<size_t> aborted_count_on_shard(PartitionManager* manager) {
    Result<std::vector<producers::AbortedTxn>> aborted =
        all_aborted(*manager->find("t", PartitionId(0)));
    co_return aborted.ok() ? aborted->size() : SIZE_MAX;
  }

  Offset marker_at(int64_t producer, bool commit) {
    return run_on(shard(), marker_at_on_shard(manager_.get(), producer, commit));
  }
  Status plain(std::vector<std::string> keys, const std::string& value) {
    return run_on(shard(), plain_on_shard(manager_.get(), std::move(keys), value));
  }
  bool has_batch(Offset offset) {
    return run_on(shard(), has_batch_on_shard(manager_.get(), offset));
  }
  View view(bool read_committed) {
    return run_on(shard(), view_on_shard(manager_.get(), read_committed));
  }
  size_t aborted_count() { return run_on(shard(), aborted_count_on_shard(manager_.get())); }
  // Polls (feeding the cleaner fresh dirty data) until `done`, for up to ~5 s.
  bool clean_until(const std::function<bool()>& done) {
    for (int i = 0; i < 500; i++) {
      if (done()) return true;
      EXPECT_TRUE(plain({"filler"}, "again " + std::to_string(i)).ok());
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return done();
  }

  std::atomic<int64_t> retention_ms_{24 * 3600 * 1000};
};

// Producer 1 aborts a transaction on a0..a2 and later commits d0; producer 2 commits b0, b1
// (later overwritten by plain records) and later c0. The cleaner first drops the aborted
// records and the overwritten ones while delete.retention.ms holds the markers; then, with
// the retention at 0, the ABORT and the first COMMIT (their transactions have no data left)
// while each producer's last marker stays. A read_committed view never changes, and the
// aborted list follows the markers: in memory (the cleaner's hook) and after an unclean stop
// whose snapshot still lists the removed ABORT — kept, it would hide producer 1's d0.
TEST_F(CompactedTransactionsTest, CleanerRemovesMarkersAfterTheirDataAndTheAbortedListFollows) {
  boot_compacted();
  ASSERT_TRUE(run(manager_->create_topic(registry_.get(), "t", 1, {})).ok());
  ASSERT_TRUE(run_on(shard(), txn_batch_on_shard(manager_.get(), 1, 0, 3, "a")).ok());
  Offset abort = marker_at(1, false);
  ASSERT_TRUE(run_on(shard(), txn_batch_on_shard(manager_.get(), 2, 0, 2, "b")).ok());
  Offset first_commit = marker_at(2, true);
  ASSERT_TRUE(plain({"b0", "b1"}, "plain").ok());
  ASSERT_TRUE(run_on(shard(), txn_batch_on_shard(manager_.get(), 1, 3, 1, "d")).ok());
  Offset last_of_1 = marker_at(1, true);
  ASSERT_TRUE(run_on(shard(), txn_batch_on_shard(manager_.get(), 2, 2, 1, "c")).ok());
  Offset last_of_2 = marker_at(2, true);
  ASSERT_TRUE(plain({"filler"}, "first").ok());
  for (Offset o : {abort, first_commit, last_of_1, last_of_2}) ASSERT_GE(o.value(), 0);
  View expected = view(/*read_committed=*/true);
  EXPECT_EQ(expected.values.count("a0"), 0u);
  EXPECT_EQ(expected.values["b0"], "plain");
  EXPECT_EQ(expected.values.count("d0"), 1u);
  EXPECT_EQ(expected.values.count("c0"), 1u);
  auto data_cleaned = [&] {
    View all = view(/*read_committed=*/false);
    return all.keys.count("a0") == 0 && all.keys.count("b0") == 1;
  };
  ASSERT_TRUE(clean_until(data_cleaned));
  EXPECT_TRUE(has_batch(abort));  // delete.retention.ms (a day) holds it
  EXPECT_TRUE(has_batch(first_commit));
  EXPECT_EQ(aborted_count(), 1u);
  stop_partitions(true);  // the snapshot lists the abort

  retention_ms_ = 0;
  boot_compacted();
  ASSERT_TRUE(clean_until([&] { return !has_batch(abort) && !has_batch(first_commit); }));
  EXPECT_TRUE(has_batch(last_of_1));  // each producer's last batch stays
  EXPECT_TRUE(has_batch(last_of_2));
  EXPECT_EQ(aborted_count(), 0u);  // the hook dropped it with its marker
  auto same_view = [&] {
    View now = view(/*read_committed=*/true);
    now.values.erase("filler");
    View before = expected;
    before.values.erase("filler");
    EXPECT_EQ(now.values, before.values);
    EXPECT_EQ(state().last_stable_offset, state().high_watermark);
  };
  same_view();
  stop_partitions(false);  // unclean: the snapshot on disk still lists the removed abort
  boot_compacted();
  EXPECT_EQ(aborted_count(), 0u);
  same_view();
  stop_partitions(true);
  boot_compacted();
  EXPECT_EQ(aborted_count(), 0u);
  same_view();
}

// Aborts move to the per-segment index files as segments seal (the retention loop's work,
// every 10 ms here): memory keeps only the active segment's, Fetch still sees all of them,
// and they come back the same after a kill (the snapshot's files plus a replay), after a clean
// stop, and after a damaged index file (the whole log replayed, the files written again);
// DeleteRecords takes the files of the segments it deletes.
class TxnIndexFilesTest : public CompactedTransactionsTest {  // its view(), not its boot
 protected:
  void boot_indexing() {
    auto resolver = [](const TopicInfo&) -> Result<PartitionConfig> {
      PartitionConfig config;
      config.log.segment_bytes = 4 * 1024;
      config.log.retention_ms = -1;  // the records' timestamps are old
      return config;
    };
    boot_partitions(dir_, storage::posix_io(), resolver, [](PartitionManagerOptions& options) {
      options.retention_check_interval = std::chrono::milliseconds(10);
    });
    manager_->start();
  }

  struct Memory {
    size_t in_memory = 0;
    bool only_active = true;  // every in-memory abort's marker is in the active segment
  };
  static asio::awaitable<Memory> memory_on_shard(PartitionManager* manager) {
    std::shared_ptr<Partition> p = manager->find("t", PartitionId(0));
    Memory memory{p->producers.aborted().size(), true};
    for (const producers::AbortedTxn& a : p->producers.aborted()) {
      if (a.last_offset < p->log->active_segment_base()) memory.only_active = false;
    }
    co_return memory;
  }
  Memory memory() { return run_on(shard(), memory_on_shard(manager_.get())); }

  std::vector<fs::path> index_files() const {
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(dir_ / "t-0")) {
      if (entry.path().extension() == ".txnindex") files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    return files;
  }

  // Transactions of producers 100.., 5 keyed records each ("k<i>-<n>"); every third aborts.
  void write_transactions(int count) {
    for (int i = 0; i < count; i++) {
      int64_t producer = 100 + i;
      std::string keys = "k" + std::to_string(i) + "-";
      ASSERT_TRUE(run_on(shard(), txn_batch_on_shard(manager_.get(), producer, 0, 5, keys)).ok());
      ASSERT_TRUE(marker(producer, 0, /*commit=*/i % 3 != 0).ok());
    }
  }

  bool wait_until(const std::function<bool()>& done) {
    for (int i = 0; i < 500 && !done(); i++) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return done();
  }
};

TEST_F(TxnIndexFilesTest, AbortsLiveInPerSegmentFilesAndSurviveStops) {
  boot_indexing();
  ASSERT_TRUE(run(manager_->create_topic(registry_.get(), "t", 1, {})).ok());
  write_transactions(30);  // ~1.2 KiB a transaction: 3 per 4 KiB segment
  ASSERT_TRUE(wait_until([&] { return memory().only_active; }));
  Snapshot before = state();
  ASSERT_EQ(before.aborted.size(), 10u);
  EXPECT_LE(memory().in_memory, 2u);
  EXPECT_GE(index_files().size(), 5u);
  View committed = view(/*read_committed=*/true);
  for (int i = 0; i < 30; i++) {
    std::string key = "k" + std::to_string(i) + "-0";
    EXPECT_EQ(committed.values.count(key), i % 3 != 0 ? 1u : 0u) << key;
  }

  stop_partitions(false);  // kill: the last snapshot and its files, then a replay
  boot_indexing();
  expect_same(state(), before);
  EXPECT_EQ(view(true).values, committed.values);
  stop_partitions(true);
  boot_indexing();
  expect_same(state(), before);

  // A damaged file: the snapshot is dropped, the whole log replayed, the files rewritten.
  stop_partitions(true);
  std::vector<fs::path> files = index_files();
  ASSERT_FALSE(files.empty());
  {
    std::fstream damaged(files[files.size() / 2], std::ios::in | std::ios::out | std::ios::binary);
    damaged.seekp(20);
    damaged.put('\x7f');
  }
  boot_indexing();
  expect_same(state(), before);
  EXPECT_EQ(view(true).values, committed.values);
  EXPECT_EQ(index_files().size(), files.size());

  // DeleteRecords up to the end: every sealed segment goes, and its file with it.
  Offset end = state().high_watermark;
  ASSERT_TRUE(run_on(shard(), manager_->delete_records("t", PartitionId(0), end)).ok());
  EXPECT_TRUE(index_files().empty());
  EXPECT_TRUE(state().aborted.empty());
}

}  // namespace
}  // namespace cairn::broker
