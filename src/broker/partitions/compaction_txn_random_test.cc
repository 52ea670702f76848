// Transactions and compaction against a model, with crashes.
//
// A partition as the broker runs it — a Log over a FaultIo, its producer state, markers from
// append_marker, cleaning with partition_clean_options, recovery with rebuild_producer_state —
// takes random keyed writes: plain ones and tombstones, and transactional ones from three
// producers whose transactions commit or abort; the clock moves and segments roll. Cleaning
// runs whole, in steps with writes between them, or is killed midway (power loss; sometimes
// fsyncs fail first, so the kill lands near the swap's commit point). A clean stop saves the
// producer snapshot; a crash leaves the previous one. After each step, over the read_committed
// view of the log (batches below the last stable offset, without the records of the aborted
// transactions Fetch would list, dropped the way Kafka's consumer does):
//   (1) every visible record is a committed record, written at its offset;
//   (2) each key's newest visible record is its newest committed record below the LSO, or,
//       for a tombstone, gone only once delete.retention.ms has passed;
//   (3) the LSO and the first offset of each open transaction are the model's;
//   (4) every listed aborted transaction still has its marker in the log, and every
//       transactional batch in the log has a marker of its producer after it or belongs to
//       the producer's open transaction;
//   (5) a read_committed Fetch of any range gets the aborts that overlap it, whether they
//       come from the per-segment index files (written after rolls, like the broker's
//       retention loop does, and rewritten after cleaner runs) or from memory.
// Every write of a producer is accepted in sequence, after crashes too (its last data batch
// survives compaction). Prints its seed; CAIRN_SEED / CAIRN_STEPS replay a run.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "broker/partitions/compaction.h"
#include "broker/partitions/producer_recovery.h"
#include "broker/partitions/transactions.h"
#include "protocol/record_batch.h"
#include "testing/fake_clock.h"
#include "testing/fault_io.h"

namespace cairn::broker {
namespace {

const std::string kDir = "/data/t-0";
constexpr int64_t kProducers = 3;  // producer ids 1..3
constexpr int kKeys = 12;

uint64_t env_or(const char* name, uint64_t fallback) {
  const char* value = std::getenv(name);
  return value != nullptr ? std::strtoull(value, nullptr, 10) : fallback;
}

struct Written {
  std::string key;
  std::optional<std::string> value;  // nullopt: a tombstone
  int64_t timestamp_ms = 0;
  int64_t producer = -1;  // -1: a plain write
  bool committed = false;
  bool aborted = false;
  int64_t marker = -1;  // the offset of the marker that ended its transaction
};

struct Transaction {
  bool open = false;
  Offset first_offset{-1};
  std::vector<int64_t> offsets;
  int32_t next_sequence = 0;
};

// What a read_committed consumer of the whole log sees, in offset order.
struct Visible {
  int64_t offset;
  std::string key;
  std::optional<std::string> value;
};

class CompactionTransactionsRandom {
 public:
  explicit CompactionTransactionsRandom(uint64_t seed) : rng_(seed) {}

  void run(int steps) {
    config_.cleanup_compact = true;
    config_.cleanup_delete = false;
    config_.segment_bytes = 1024 + rng_() % 3072;
    config_.index_interval_bytes = 64 + rng_() % 512;
    config_.min_cleanable_dirty_ratio = static_cast<double>(rng_() % 60) / 100;
    config_.delete_retention_ms = 1000 + static_cast<int64_t>(rng_() % 10'000);
    open();
    for (int step = 0; step < steps && !::testing::Test::HasFatalFailure(); step++) {
      int op = static_cast<int>(rng_() % 100);
      if (op < 60) {
        write();
      } else if (op < 68) {
        clock_.advance_ms(static_cast<int64_t>(rng_() % 3000));
      } else if (op < 72) {
        ASSERT_TRUE(partition_.log->roll().ok());
      } else if (op < 76) {
        index_sealed();  // the retention loop's work after a roll
      } else if (op < 84) {
        clean();
      } else if (op < 90) {
        clean_in_steps();
      } else if (op < 94) {
        crash_while_cleaning();
      } else if (op < 97) {
        reopen(/*crash=*/false);
      } else {
        reopen(/*crash=*/true);
      }
      check();
    }
    std::printf("markers removed %llu, records removed %llu, crashes %d\n",
                static_cast<unsigned long long>(markers_removed_),
                static_cast<unsigned long long>(records_removed_), crashes_);
  }

 private:
  // ---- writes ----
  void write() {
    int kind = static_cast<int>(rng_() % 10);
    int64_t producer = 1 + static_cast<int64_t>(rng_() % kProducers);
    Transaction& txn = txns_[producer];
    if (kind < 4) {
      append_records(-1);
    } else if (kind < 8 || !txn.open) {
      append_records(producer);
    } else {
      end_transaction(producer, /*commit=*/rng_() % 2 == 0);
    }
  }

  // One batch of 1..3 records: plain (producer -1) or in `producer`'s transaction.
  void append_records(int64_t producer) {
    std::vector<Written> records(1 + rng_() % 3);
    for (Written& record : records) {
      record.key = "key" + std::to_string(rng_() % kKeys);
      if (rng_() % 6 != 0) record.value = "value" + std::to_string(next_value_++);
      record.timestamp_ms = clock_.now_ms();
      record.producer = producer;
      record.committed = producer < 0;
    }
    constexpr model::Compression kCodecs[] = {model::Compression::none, model::Compression::none,
                                              model::Compression::gzip, model::Compression::zstd};
    protocol::BatchOptions options;
    options.base_timestamp = TimestampMs(clock_.now_ms());
    options.compression = kCodecs[rng_() % 4];
    producers::ProducerBatch meta;
    if (producer >= 0) {
      Transaction& txn = txns_[producer];
      if (!txn.open) partition_.producers.allow_transaction(ProducerId(producer), ProducerEpoch(0));
      options.producer_id = ProducerId(producer);
      options.producer_epoch = ProducerEpoch(0);
      options.base_sequence = Sequence(txn.next_sequence);
      options.transactional = true;
      meta = {ProducerId(producer), ProducerEpoch(0), Sequence(txn.next_sequence),
              producers::last_sequence_of(Sequence(txn.next_sequence),
                                          static_cast<int32_t>(records.size()) - 1)};
      meta.transactional = true;
      producers::SequenceCheck check = partition_.producers.check(meta);
      ASSERT_EQ(check.verdict, producers::SequenceVerdict::append)
          << "producer " << producer << " sequence " << txn.next_sequence;
    }
    protocol::BatchBuilder builder(options);
    for (const Written& record : records) {
      protocol::RecordInput input;
      input.key = protocol::bytes_of(record.key);
      if (record.value.has_value()) input.value = protocol::bytes_of(*record.value);
      builder.add(input);
    }
    Result<std::vector<uint8_t>> batch = std::move(builder).build();
    ASSERT_TRUE(batch.ok());
    Result<storage::AppendResult> appended = partition_.log->append(*batch);
    ASSERT_TRUE(appended.ok()) << appended.status().to_string();
    ASSERT_TRUE(partition_.log->flush().ok());  // the model holds durable data only
    for (size_t i = 0; i < records.size(); i++) {
      written_[appended->base_offset.value() + static_cast<int64_t>(i)] = records[i];
    }
    if (producer < 0) return;
    meta.first_offset = appended->base_offset;
    meta.last_offset = appended->last_offset;
    partition_.producers.record(meta);
    Transaction& txn = txns_[producer];
    if (!txn.open) txn.first_offset = appended->base_offset;
    txn.open = true;
    txn.next_sequence += static_cast<int32_t>(records.size());
    for (size_t i = 0; i < records.size(); i++) {
      txn.offsets.push_back(appended->base_offset.value() + static_cast<int64_t>(i));
    }
  }

  void end_transaction(int64_t producer, bool commit) {
    Transaction& txn = txns_[producer];
    Result<Offset> marker = append_marker(partition_, ProducerId(producer), ProducerEpoch(0),
                                          commit, TimestampMs(clock_.now_ms()));
    ASSERT_TRUE(marker.ok()) << marker.status().to_string();
    ASSERT_TRUE(partition_.log->flush().ok());
    for (int64_t offset : txn.offsets) {
      (commit ? written_[offset].committed : written_[offset].aborted) = true;
      written_[offset].marker = marker->value();
    }
    txn.open = false;
    txn.offsets.clear();
    txn.first_offset = Offset(-1);
  }

  // ---- cleaning, stops and crashes ----
  storage::CleanOptions clean_options() {
    uint64_t key_map_bytes = rng_() % 3 == 0 ? 64 * 24 : 1 << 20;
    Result<storage::CleanOptions> options = partition_clean_options(partition_, key_map_bytes);
    EXPECT_TRUE(options.ok()) << options.status().to_string();
    options->force = rng_() % 2 == 0;
    return *options;
  }

  void clean() {
    Result<bool> cleaned = partition_.log->clean(clean_options());
    ASSERT_TRUE(cleaned.ok()) << cleaned.status().to_string();
    after_clean();
  }

  // What the broker does after a run: index files lose the markers it dropped. Sometimes
  // later (checks in between see the entries filtered out).
  void after_clean() {
    if (rng_() % 4 == 0) return;
    Status rewritten = rewrite_removed_markers(io_, partition_);
    ASSERT_TRUE(rewritten.ok()) << rewritten.to_string();
  }

  void index_sealed() {
    Status indexed = index_sealed_segments(io_, partition_);
    ASSERT_TRUE(indexed.ok()) << indexed.to_string();
  }

  void clean_in_steps() {
    Result<bool> started = partition_.log->start_clean(clean_options());
    ASSERT_TRUE(started.ok()) << started.status().to_string();
    while (partition_.log->cleaning()) {
      Result<bool> more = partition_.log->clean_step(1 + rng_() % 2048);
      ASSERT_TRUE(more.ok()) << more.status().to_string();
      check();  // reads between steps see the old segments
      if (rng_() % 3 == 0) write();
      if (rng_() % 8 == 0) index_sealed();  // waits: the run is not over
      if (::testing::Test::HasFatalFailure()) return;
    }
    after_clean();
  }

  // A run killed after a few steps; with failing fsyncs first, maybe right at its commit.
  void crash_while_cleaning() {
    Result<bool> started = partition_.log->start_clean(clean_options());
    ASSERT_TRUE(started.ok()) << started.status().to_string();
    if (rng_() % 2 == 0) io_.fail_syncs_after(static_cast<int64_t>(rng_() % 8));
    for (int steps = static_cast<int>(rng_() % 6); steps > 0 && partition_.log->cleaning();
         steps--) {
      (void)partition_.log->clean_step(1 + rng_() % 4096);  // may fail: the syncs do
    }
    crash();
  }

  void crash() {
    add_stats();
    crashes_++;
    partition_.log.reset();
    io_.power_loss(rng_(), /*torn=*/true);
    io_.clear_sync_failure();
    open();
  }

  void reopen(bool crash_instead) {
    if (crash_instead) return crash();
    add_stats();
    ASSERT_TRUE(partition_.log->close().ok());
    ASSERT_TRUE(save_producer_snapshot(io_, partition_).ok());
    partition_.log.reset();
    open();
  }

  void open() {
    storage::LogOptions options;
    options.dir = kDir;
    options.io = &io_;
    options.clock = &clock_;
    options.config = config_;
    Result<std::unique_ptr<storage::Log>> log = storage::Log::open(options);
    ASSERT_TRUE(log.ok()) << log.status().to_string();
    partition_.log = std::move(log).value();
    ASSERT_TRUE(partition_.log->health().ok()) << partition_.log->health().to_string();
    partition_.producers.clear();
    Status rebuilt = rebuild_producer_state(io_, partition_);
    ASSERT_TRUE(rebuilt.ok()) << rebuilt.to_string();
  }

  void add_stats() {
    if (partition_.log == nullptr) return;
    markers_removed_ += partition_.log->cleaner_stats().markers_removed;
    records_removed_ += partition_.log->cleaner_stats().records_removed;
  }

  // ---- the checks ----
  Offset model_lso() const {
    Offset lso = partition_.log->log_end_offset();
    for (const auto& [producer, txn] : txns_) {
      if (txn.open) lso = std::min(lso, txn.first_offset);
    }
    return lso;
  }

  // Every batch of the log, whole (control ones included), in offset order.
  std::vector<uint8_t> read_log(Offset upper) {
    storage::Log& log = *partition_.log;
    Result<storage::ReadResult> read = log.read(log.log_start_offset(), 1 << 30, upper);
    EXPECT_TRUE(read.ok()) << read.status().to_string();
    if (!read.ok()) return {};
    Result<std::vector<uint8_t>> bytes = log.copy(*read);
    EXPECT_TRUE(bytes.ok()) << bytes.status().to_string();
    return bytes.ok() ? std::move(bytes).value() : std::vector<uint8_t>();
  }

  // Kafka's consumer, read_committed, over the whole log below the LSO.
  std::vector<Visible> read_committed(Offset lso) {
    Result<std::vector<producers::AbortedTxn>> listed =
        aborted_between(partition_, partition_.log->log_start_offset(), lso);
    EXPECT_TRUE(listed.ok()) << listed.status().to_string();
    std::vector<producers::AbortedTxn> aborted =
        listed.ok() ? std::move(listed).value() : std::vector<producers::AbortedTxn>();
    std::sort(aborted.begin(), aborted.end(),
              [](const auto& a, const auto& b) { return a.first_offset < b.first_offset; });
    std::vector<uint8_t> bytes = read_log(lso);
    Result<protocol::SplitBatches> batches = protocol::split_batches(bytes);
    EXPECT_TRUE(batches.ok());
    std::vector<Visible> visible;
    std::set<int64_t> skipping;
    size_t next = 0;
    for (const model::RecordBatchView& batch : batches->batches) {
      while (next < aborted.size() && aborted[next].first_offset <= batch.last_offset()) {
        skipping.insert(aborted[next++].producer_id.value());
      }
      if (batch.is_control()) {
        Result<TxnMarker> marker = decode_marker_batch(batch);
        EXPECT_TRUE(marker.ok()) << "a marker lost its record";
        if (marker.ok() && !marker->commit) skipping.erase(batch.producer_id().value());
        continue;
      }
      if (batch.is_transactional() && skipping.contains(batch.producer_id().value())) continue;
      Result<protocol::BatchRecords> opened = protocol::BatchRecords::open(batch, 1 << 24);
      EXPECT_TRUE(opened.ok());
      if (!opened.ok()) continue;
      protocol::RecordReader reader = opened->reader();
      protocol::Record record;
      while (reader.next(&record)) {
        Visible out{record.offset.value(), std::string(record.key->begin(), record.key->end()),
                    std::nullopt};
        if (record.value.has_value()) {
          out.value = std::string(record.value->begin(), record.value->end());
        }
        visible.push_back(std::move(out));
      }
    }
    return visible;
  }

  void check() {
    if (::testing::Test::HasFatalFailure()) return;
    Offset lso = model_lso();
    ASSERT_EQ(partition_.last_stable_offset(), lso);
    for (const auto& [producer, txn] : txns_) {
      const producers::ProducerStateTable::Entry* entry =
          partition_.producers.find(ProducerId(producer));
      Offset first = entry == nullptr ? Offset(-1) : entry->txn_first_offset;
      ASSERT_EQ(first, txn.first_offset) << "producer " << producer;
    }
    check_visible(read_committed(lso), lso);
    check_markers();
    check_aborted_range(lso);
  }

  // (5) A Fetch of any range gets exactly the listed aborts that overlap it, whether they come
  // from index files, memory or both.
  void check_aborted_range(Offset lso) {
    int64_t start = partition_.log->log_start_offset().value();
    if (lso.value() <= start) return;
    auto pick = [&](int64_t low, int64_t high) {
      return low + static_cast<int64_t>(rng_() % static_cast<uint64_t>(high - low + 1));
    };
    Offset from(pick(start, lso.value()));
    Offset upper(pick(from.value(), lso.value()));
    Result<std::vector<producers::AbortedTxn>> all = all_aborted(partition_);
    Result<std::vector<producers::AbortedTxn>> got = aborted_between(partition_, from, upper);
    ASSERT_TRUE(all.ok() && got.ok());
    std::vector<producers::AbortedTxn> want;
    for (const producers::AbortedTxn& a : *all) {
      if (a.last_offset >= from && a.first_offset < upper) want.push_back(a);
    }
    ASSERT_EQ(*got, want) << "aborts of [" << from.value() << ", " << upper.value() << ")";
  }

  void check_visible(const std::vector<Visible>& visible, Offset lso) {
    std::map<std::string, const Visible*> newest_visible;
    for (const Visible& record : visible) {
      auto it = written_.find(record.offset);
      ASSERT_NE(it, written_.end()) << record.offset;
      ASSERT_TRUE(it->second.committed) << "offset " << record.offset << " is not committed";
      ASSERT_EQ(it->second.key, record.key);
      ASSERT_EQ(it->second.value, record.value);
      newest_visible[record.key] = &record;
    }
    std::map<std::string, std::pair<int64_t, const Written*>> newest_committed;
    for (const auto& [offset, written] : written_) {
      if (offset < lso.value() && written.committed) {
        newest_committed[written.key] = {offset, &written};
      }
    }
    for (const auto& [key, newest] : newest_committed) {
      auto it = newest_visible.find(key);
      if (it != newest_visible.end()) {
        ASSERT_EQ(it->second->offset, newest.first) << key << ": not its newest committed record";
        continue;
      }
      ASSERT_FALSE(newest.second->value.has_value()) << key << ": newest value lost";
      ASSERT_GE(clock_.now_ms() - newest.second->timestamp_ms, config_.delete_retention_ms)
          << key << ": tombstone removed before delete.retention.ms";
    }
  }

  void check_markers() {
    std::set<std::pair<int64_t, int64_t>> markers;  // (producer, offset)
    std::vector<std::pair<int64_t, int64_t>> transactional;
    auto visit = [&](const storage::BatchHeader& h) {
      std::pair<int64_t, int64_t> batch(h.producer_id.value(), h.base_offset.value());
      if (h.is_control()) markers.insert(batch);
      if (!h.is_control() && h.is_transactional()) transactional.push_back(batch);
      return true;
    };
    ASSERT_TRUE(partition_.log->scan_headers(Offset(0), visit).ok());
    Result<std::vector<producers::AbortedTxn>> listed = all_aborted(partition_);
    ASSERT_TRUE(listed.ok()) << listed.status().to_string();
    for (const producers::AbortedTxn& aborted : *listed) {
      ASSERT_TRUE(markers.contains({aborted.producer_id.value(), aborted.last_offset.value()}))
          << "aborted transaction listed without its marker at " << aborted.last_offset.value();
    }
    for (const auto& [producer, offset] : transactional) {
      const Written& first = written_.at(offset);  // an emptied batch keeps its base offset
      if (first.marker < 0) {
        ASSERT_TRUE(txns_[producer].open) << offset;
        continue;
      }
      ASSERT_TRUE(markers.contains({producer, first.marker}))
          << "transactional batch at " << offset << " lost its marker at " << first.marker;
    }
  }

  std::mt19937_64 rng_;
  testing::FaultIo io_;
  testing::FakeClock clock_;
  storage::LogConfig config_;
  Partition partition_;
  std::map<int64_t, Written> written_;  // offset -> record
  std::map<int64_t, Transaction> txns_;
  uint64_t next_value_ = 0;
  uint64_t markers_removed_ = 0;
  uint64_t records_removed_ = 0;
  int crashes_ = 0;
};

TEST(CompactionTransactionsRandom, ReadCommittedViewMatchesTheModel) {
  uint64_t seed = env_or("CAIRN_SEED", std::random_device{}());
  int steps = static_cast<int>(env_or("CAIRN_STEPS", 1500));
  std::printf("CAIRN_SEED=%llu CAIRN_STEPS=%d\n", static_cast<unsigned long long>(seed), steps);
  for (int round = 0; round < 3 && !::testing::Test::HasFatalFailure(); round++) {
    CompactionTransactionsRandom test(seed + static_cast<uint64_t>(round));
    test.run(steps);
  }
}

}  // namespace
}  // namespace cairn::broker
