// Log compaction rules, one test each: latest record per key, offsets preserved, tombstone
// lifetime, min/max compaction lag, dirty ratio, producers' last batches, the discard hook,
// control batches, reads / index / time lookups across cleaned segments, the bounded key map,
// incremental steps with a read held across the swap, and reopening after a clean.
#include <gtest/gtest.h>

#include <map>

#include "storage/log.h"
#include "testing/fake_clock.h"
#include "testing/fault_io.h"
#include "testing/log_helpers.h"

namespace cairn::storage {
namespace {

using testing::BatchSpec;
using testing::KeyedRecord;
using testing::LogRecord;

const std::string kDir = "/data/compacted-0";
constexpr int64_t kHourMs = 3600 * 1000;

class CleanerTest : public ::testing::Test {
 protected:
  CleanerTest() {
    config_.cleanup_compact = true;
    config_.cleanup_delete = false;
    config_.segment_bytes = 1024;
    config_.index_interval_bytes = 128;
    config_.min_cleanable_dirty_ratio = 0.5;
    config_.delete_retention_ms = kHourMs;
    reopen();
  }

  void reopen() {
    if (log_ != nullptr) ASSERT_TRUE(log_->close().ok());
    log_.reset();
    LogOptions options;
    options.dir = kDir;
    options.io = &io_;
    options.clock = &clock_;
    options.config = config_;
    auto log = Log::open(options);
    ASSERT_TRUE(log.ok()) << log.status().to_string();
    log_ = std::move(log.value());
    ASSERT_TRUE(log_->health().ok());
  }

  // One batch of records; returns its base offset.
  Offset append(const std::vector<KeyedRecord>& records, BatchSpec spec = BatchSpec()) {
    spec.base_timestamp = TimestampMs(clock_.now_ms());
    spec.timestamp_step_ms = 0;
    auto batch = testing::build_keyed_batch(records, spec);
    auto appended = log_->append(batch);
    EXPECT_TRUE(appended.ok()) << appended.status().to_string();
    for (size_t i = 0; i < records.size(); i++) {
      appended_.push_back(LogRecord{Offset(appended->base_offset.value() + static_cast<int64_t>(i)),
                                    records[i].key, records[i].value});
    }
    return appended->base_offset;
  }
  Offset put(const std::string& key, std::optional<std::string> value) {
    return append({KeyedRecord{key, std::move(value)}});
  }

  std::vector<LogRecord> records() {
    auto read = testing::read_records(*log_, log_->log_start_offset(), log_->log_end_offset());
    EXPECT_TRUE(read.ok()) << read.status().to_string();
    return read.ok() ? *read : std::vector<LogRecord>();
  }

  // Every record still in the log is the one appended at its offset.
  void expect_offsets_preserved() {
    std::map<int64_t, LogRecord> by_offset;
    for (const auto& record : appended_) by_offset[record.offset.value()] = record;
    for (const auto& record : records()) {
      ASSERT_EQ(by_offset.count(record.offset.value()), 1u);
      EXPECT_EQ(by_offset[record.offset.value()], record);
    }
  }

  CleanOptions force() {
    CleanOptions options;
    options.force = true;
    return options;
  }

  static BatchSpec transactional(int64_t producer, int32_t sequence) {
    BatchSpec spec;
    spec.producer_id = ProducerId(producer);
    spec.producer_epoch = ProducerEpoch(0);
    spec.base_sequence = Sequence(sequence);
    spec.attributes = model::batch_attributes::kTransactional;
    return spec;
  }
  // A control batch of `producer` whose record key has control type `type` (0 ABORT, 1 COMMIT).
  Offset control(int64_t producer, char type) {
    BatchSpec spec = transactional(producer, -1);
    spec.attributes |= model::batch_attributes::kControl;
    return append({{std::string("\0\0\0", 3) + type, std::string(6, '\0')}}, spec);
  }
  bool has_batch(Offset base_offset) {
    bool found = false;
    EXPECT_TRUE(log_->scan_headers(Offset(0),
                                   [&](const BatchHeader& h) {
                                     found = found || h.base_offset == base_offset;
                                     return true;
                                   })
                    .ok());
    return found;
  }
  // Fresh dirty data in a sealed segment, so that the next run has something to do.
  void dirty_and_roll() {
    for (int i = 0; i < 10; i++) put("filler", "again" + std::to_string(i));
    ASSERT_TRUE(log_->roll().ok());
    ASSERT_TRUE(log_->flush().ok());
  }

  size_t count_key(const std::string& key) {
    size_t n = 0;
    for (const auto& record : records()) n += record.key == key;
    return n;
  }

  testing::FaultIo io_;
  testing::FakeClock clock_;
  LogConfig config_;
  std::unique_ptr<Log> log_;
  std::vector<LogRecord> appended_;
};

TEST_F(CleanerTest, KeepsLatestPerKeyAndPreservesOffsets) {
  for (int round = 0; round < 20; round++) {
    for (int key = 0; key < 5; key++) {
      put("k" + std::to_string(key), "v" + std::to_string(round) + "-" + std::to_string(key));
    }
  }
  ASSERT_TRUE(log_->roll().ok());
  ASSERT_TRUE(log_->flush().ok());
  Offset end = log_->log_end_offset();
  size_t before = log_->info().size_bytes;
  auto cleaned = log_->clean(force());
  ASSERT_TRUE(cleaned.ok()) << cleaned.status().to_string();
  EXPECT_TRUE(*cleaned);
  EXPECT_EQ(log_->log_end_offset(), end);
  EXPECT_LT(log_->info().size_bytes, before);
  std::map<std::string, std::string> latest;
  for (const auto& record : records()) latest[*record.key] = *record.value;
  for (int key = 0; key < 5; key++) {
    EXPECT_EQ(latest["k" + std::to_string(key)], "v19-" + std::to_string(key));
  }
  // Only the last batch of each segment may keep an older record of a key (as an empty batch,
  // so no record), so each key appears once.
  for (int key = 0; key < 5; key++) EXPECT_EQ(count_key("k" + std::to_string(key)), 1u);
  expect_offsets_preserved();
  EXPECT_EQ(log_->cleaner_stats().runs, 1u);
  EXPECT_EQ(log_->cleaner_stats().records_removed, 95u);
  EXPECT_EQ(log_->cleaner_stats().clean_point, end);
  EXPECT_GT(log_->cleaner_stats().bytes_read, 0u);
  EXPECT_GT(log_->cleaner_stats().bytes_written, 0u);
}

TEST_F(CleanerTest, ActiveSegmentIsNeverCleaned) {
  for (int i = 0; i < 3; i++) put("k", "v" + std::to_string(i));
  ASSERT_TRUE(log_->flush().ok());
  auto cleaned = log_->clean(force());
  ASSERT_TRUE(cleaned.ok());
  EXPECT_FALSE(*cleaned);
  EXPECT_EQ(count_key("k"), 3u);
}

TEST_F(CleanerTest, UpperBoundStopsAtTheLastStableOffset) {
  for (int i = 0; i < 60; i++) put("k" + std::to_string(i % 3), "v" + std::to_string(i));
  ASSERT_TRUE(log_->roll().ok());
  ASSERT_TRUE(log_->flush().ok());
  CleanOptions options = force();
  options.upper_bound = Offset(30);
  ASSERT_TRUE(log_->clean(options).ok());
  // Nothing at or past offset 30 was touched: every record from there on is still there.
  size_t from_30 = 0;
  for (const auto& record : records()) from_30 += record.offset.value() >= 30;
  EXPECT_EQ(from_30, 30u);
  EXPECT_LE(log_->cleaner_stats().clean_point, Offset(30));
  expect_offsets_preserved();
}

TEST_F(CleanerTest, TombstoneOutlivesDeleteRetentionAfterItWasCovered) {
  for (int i = 0; i < 10; i++) put("doomed", "v" + std::to_string(i));
  put("doomed", std::nullopt);
  for (int i = 0; i < 30; i++) put("other", "x" + std::to_string(i));
  ASSERT_TRUE(log_->roll().ok());
  ASSERT_TRUE(log_->flush().ok());
  ASSERT_TRUE(log_->clean(force()).ok());
  // First run: older values go, the tombstone stays (no run had covered it before).
  auto after_first = records();
  ASSERT_EQ(count_key("doomed"), 1u);
  for (const auto& record : after_first) {
    if (record.key == "doomed") EXPECT_FALSE(record.value.has_value());
  }
  // Still within delete.retention.ms: a second run keeps it.
  put("other", "y");
  ASSERT_TRUE(log_->roll().ok());
  ASSERT_TRUE(log_->flush().ok());
  ASSERT_TRUE(log_->clean(force()).ok());
  EXPECT_EQ(count_key("doomed"), 1u);
  // Past it: gone.
  clock_.advance_ms(kHourMs + 1);
  put("other", "z");
  ASSERT_TRUE(log_->roll().ok());
  ASSERT_TRUE(log_->flush().ok());
  ASSERT_TRUE(log_->clean(force()).ok());
  EXPECT_EQ(count_key("doomed"), 0u);
  expect_offsets_preserved();
}

TEST_F(CleanerTest, MinCompactionLagProtectsYoungSegments) {
  config_.min_compaction_lag_ms = kHourMs;
  ASSERT_TRUE(log_->set_config(config_).ok());
  for (int i = 0; i < 40; i++) put("k", "v" + std::to_string(i));
  ASSERT_TRUE(log_->roll().ok());
  ASSERT_TRUE(log_->flush().ok());
  auto cleaned = log_->clean(force());
  ASSERT_TRUE(cleaned.ok());
  EXPECT_FALSE(*cleaned);
  EXPECT_EQ(count_key("k"), 40u);
  clock_.advance_ms(kHourMs);
  cleaned = log_->clean(force());
  ASSERT_TRUE(cleaned.ok());
  EXPECT_TRUE(*cleaned);
  EXPECT_EQ(count_key("k"), 1u);
}

TEST_F(CleanerTest, DirtyRatioGatesARunAndMaxLagForcesIt) {
  for (int i = 0; i < 40; i++) put("k" + std::to_string(i % 4), "v" + std::to_string(i));
  ASSERT_TRUE(log_->roll().ok());
  ASSERT_TRUE(log_->flush().ok());
  auto cleaned = log_->clean(CleanOptions());  // all dirty: ratio 1
  ASSERT_TRUE(cleaned.ok());
  EXPECT_TRUE(*cleaned);
  EXPECT_DOUBLE_EQ(log_->cleaner_stats().dirty_ratio, 1.0);
  // A little new data: the dirty share stays under 0.5.
  put("k0", "new");
  ASSERT_TRUE(log_->roll().ok());
  ASSERT_TRUE(log_->flush().ok());
  cleaned = log_->clean(CleanOptions());
  ASSERT_TRUE(cleaned.ok());
  EXPECT_FALSE(*cleaned);
  EXPECT_GT(log_->cleaner_stats().dirty_ratio, 0.0);
  EXPECT_LT(log_->cleaner_stats().dirty_ratio, 0.5);
  // max.compaction.lag.ms passed for the dirty data: cleaned whatever the ratio.
  config_.max_compaction_lag_ms = kHourMs;
  ASSERT_TRUE(log_->set_config(config_).ok());
  clock_.advance_ms(kHourMs);
  cleaned = log_->clean(CleanOptions());
  ASSERT_TRUE(cleaned.ok());
  EXPECT_TRUE(*cleaned);
  EXPECT_EQ(count_key("k0"), 1u);
}

TEST_F(CleanerTest, PolicyWithoutCompactNeverCleans) {
  config_.cleanup_compact = false;
  config_.cleanup_delete = true;
  ASSERT_TRUE(log_->set_config(config_).ok());
  for (int i = 0; i < 40; i++) put("k", "v");
  ASSERT_TRUE(log_->roll().ok());
  ASSERT_TRUE(log_->flush().ok());
  auto cleaned = log_->clean(force());
  ASSERT_TRUE(cleaned.ok());
  EXPECT_FALSE(*cleaned);
}

TEST_F(CleanerTest, RetentionAppliesOnlyWithDeletePolicy) {
  config_.retention_ms = 1000;
  ASSERT_TRUE(log_->set_config(config_).ok());
  for (int i = 0; i < 40; i++) put("k", "v");
  ASSERT_TRUE(log_->roll().ok());
  ASSERT_TRUE(log_->flush().ok());
  clock_.advance_ms(10'000);
  auto deleted = log_->apply_retention();
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(*deleted, 0u);  // compact only
  config_.cleanup_delete = true;  // compact,delete
  ASSERT_TRUE(log_->set_config(config_).ok());
  deleted = log_->apply_retention();
  ASSERT_TRUE(deleted.ok());
  EXPECT_GT(*deleted, 0u);
}

TEST_F(CleanerTest, ConfigValidation) {
  LogConfig bad = config_;
  bad.cleanup_compact = bad.cleanup_delete = false;
  EXPECT_FALSE(validate(bad).ok());
  bad = config_;
  bad.min_cleanable_dirty_ratio = 1.5;
  EXPECT_FALSE(validate(bad).ok());
  bad = config_;
  bad.min_compaction_lag_ms = 10;
  bad.max_compaction_lag_ms = 5;
  EXPECT_FALSE(validate(bad).ok());
  bad = config_;
  bad.delete_retention_ms = -1;
  EXPECT_FALSE(validate(bad).ok());
}

TEST_F(CleanerTest, LastBatchOfEachProducerKeepsItsHeader) {
  BatchSpec producer;
  producer.producer_id = ProducerId(7);
  producer.producer_epoch = ProducerEpoch(0);
  producer.base_sequence = Sequence(0);
  Offset first = append({{"k", "p0"}, {"j", "p0"}}, producer);
  producer.base_sequence = Sequence(2);
  Offset last = append({{"k", "p1"}, {"j", "p1"}}, producer);
  for (int i = 0; i < 40; i++) put(i % 2 == 0 ? "k" : "j", "later" + std::to_string(i));
  ASSERT_TRUE(log_->roll().ok());
  ASSERT_TRUE(log_->flush().ok());
  ASSERT_TRUE(log_->clean(force()).ok());
  std::vector<Offset> seen;
  for (const auto& record : records()) seen.push_back(record.offset);
  auto has = [&](Offset o) { return std::find(seen.begin(), seen.end(), o) != seen.end(); };
  EXPECT_FALSE(has(first));  // superseded
  EXPECT_FALSE(has(last));   // superseded too: its records go, its header stays
  bool first_header = false;
  bool last_header_empty = false;
  ASSERT_TRUE(log_->scan_headers(Offset(0), [&](const BatchHeader& h) {
                    if (h.base_offset == first) first_header = true;
                    if (h.producer_id == ProducerId(7) && h.base_sequence == Sequence(2)) {
                      last_header_empty = h.records_count == 0 && h.base_offset == last &&
                                          h.last_offset_delta == 1;
                    }
                    return true;
                  }).ok());
  EXPECT_FALSE(first_header);
  EXPECT_TRUE(last_header_empty);  // what the producer-state rebuild needs
}

TEST_F(CleanerTest, DiscardHookDropsAbortedBatchesAndControlBatchesStay) {
  BatchSpec transactional;
  transactional.producer_id = ProducerId(3);
  transactional.producer_epoch = ProducerEpoch(0);
  transactional.base_sequence = Sequence(0);
  transactional.attributes = model::batch_attributes::kTransactional;
  Offset aborted = append({{"a", "aborted"}}, transactional);
  BatchSpec marker = transactional;
  marker.base_sequence = Sequence(-1);
  marker.attributes |= model::batch_attributes::kControl;
  Offset control = append({{"\0\0\0\0", "\0\0\0\0\0\0"}}, marker);
  put("a", "plain");
  BatchSpec other = transactional;
  other.producer_id = ProducerId(4);
  Offset aborted_again = append({{"b", "gone"}}, other);
  other.base_sequence = Sequence(1);
  append({{"c", "kept-last"}}, other);
  BatchSpec lone = transactional;
  lone.producer_id = ProducerId(5);
  Offset aborted_last = append({{"d", "aborted, its producer's last"}}, lone);
  for (int i = 0; i < 30; i++) put("filler", std::to_string(i));
  ASSERT_TRUE(log_->roll().ok());
  ASSERT_TRUE(log_->flush().ok());
  CleanOptions options = force();
  options.discard = [&](const BatchHeader& h) {
    return h.base_offset == aborted || h.base_offset == aborted_again ||
           h.base_offset == aborted_last;
  };
  ASSERT_TRUE(log_->clean(options).ok());
  std::map<int64_t, LogRecord> by_offset;
  for (const auto& record : records()) by_offset[record.offset.value()] = record;
  EXPECT_EQ(by_offset.count(aborted.value()), 0u);
  EXPECT_EQ(by_offset.count(aborted_again.value()), 0u);
  EXPECT_EQ(by_offset.count(aborted_last.value()), 0u);
  EXPECT_EQ(by_offset.count(control.value()), 1u);
  // Aborted batches go, except that a producer's last data batch stays as an empty batch (its
  // sequence numbers are what idempotent dedupe needs), even when a marker follows it.
  int headers_at_aborted = 0;
  int empty_batches_kept = 0;
  ASSERT_TRUE(log_->scan_headers(Offset(0),
                                 [&](const BatchHeader& h) {
                                   headers_at_aborted += h.base_offset == aborted_again;
                                   if (h.base_offset == aborted_last || h.base_offset == aborted) {
                                     empty_batches_kept += h.records_count == 0;
                                   }
                                   return true;
                                 })
                  .ok());
  EXPECT_EQ(headers_at_aborted, 0);
  EXPECT_EQ(empty_batches_kept, 2);
  expect_offsets_preserved();
}

// A transactional producer's last batch is its marker: its last data batch still keeps its
// header (sequences for dedupe after a replay), and the marker stays whole (its epoch).
TEST_F(CleanerTest, ProducersLastDataBatchStaysWhenAMarkerFollowsIt) {
  BatchSpec p7 = transactional(7, 0);
  Offset older = append({{"k", "first"}}, p7);
  control(7, '\1');
  p7.base_sequence = Sequence(1);
  Offset last_data = append({{"k", "second"}, {"j", "second"}}, p7);
  Offset last_marker = control(7, '\1');
  put("k", "plain");
  put("j", "plain");
  for (int i = 0; i < 30; i++) put("filler", std::to_string(i));
  ASSERT_TRUE(log_->roll().ok());
  ASSERT_TRUE(log_->flush().ok());
  clock_.advance_ms(2 * kHourMs);
  ASSERT_TRUE(log_->clean(force()).ok());
  EXPECT_FALSE(has_batch(older));
  EXPECT_EQ(count_key("k"), 1u);  // only the plain one
  bool last_data_empty = false;
  ASSERT_TRUE(log_->scan_headers(Offset(0),
                                 [&](const BatchHeader& h) {
                                   if (h.base_offset == last_data) {
                                     last_data_empty = h.records_count == 0 &&
                                                       h.base_sequence == Sequence(1) &&
                                                       h.last_offset_delta == 1;
                                   }
                                   return true;
                                 })
                  .ok());
  EXPECT_TRUE(last_data_empty);
  EXPECT_TRUE(has_batch(last_marker));
}

// A producer's last batch, emptied by a run, goes in a later run once the producer has written
// a newer batch: empty batches do not pile up.
TEST_F(CleanerTest, EmptiedBatchGoesOnceItIsNoLongerItsProducersLast) {
  BatchSpec p8;
  p8.producer_id = ProducerId(8);
  p8.producer_epoch = ProducerEpoch(0);
  p8.base_sequence = Sequence(0);
  Offset emptied = append({{"k", "old"}}, p8);
  put("k", "new");
  for (int i = 0; i < 30; i++) put("filler", std::to_string(i));
  ASSERT_TRUE(log_->roll().ok());
  ASSERT_TRUE(log_->flush().ok());
  ASSERT_TRUE(log_->clean(force()).ok());
  EXPECT_TRUE(has_batch(emptied));  // its producer's last: the header stays
  EXPECT_EQ(count_key("k"), 1u);
  p8.base_sequence = Sequence(1);
  append({{"z", "newer"}}, p8);
  dirty_and_roll();
  ASSERT_TRUE(log_->clean(force()).ok());
  EXPECT_FALSE(has_batch(emptied));
  expect_offsets_preserved();
}

// Kafka's marker removal (KIP-98): an ABORT marker stays while its transaction has data in
// the log (the first run discards the data and keeps it), then until delete.retention.ms has
// passed like a tombstone's; the hook hears of it. A marker that is its producer's last batch
// and a control batch of another type stay.
TEST_F(CleanerTest, AbortMarkerGoesOnceItsDataIsGoneAndItAged) {
  BatchSpec p3 = transactional(3, 0);
  Offset aborted = append({{"a", "aborted"}}, p3);
  Offset abort = control(3, '\0');
  put("a", "plain");
  p3.base_sequence = Sequence(1);
  append({{"b", "committed"}}, p3);
  Offset last_commit = control(3, '\1');  // producer 3's last batch
  BatchSpec p9 = transactional(9, 0);
  Offset other_type = control(9, '\5');  // not a transaction marker
  p9.attributes = 0;
  append({{"c", "idempotent"}}, p9);
  for (int i = 0; i < 30; i++) put("filler", std::to_string(i));
  ASSERT_TRUE(log_->roll().ok());
  ASSERT_TRUE(log_->flush().ok());
  CleanOptions options = force();
  options.discard = [&](const BatchHeader& h) { return h.base_offset == aborted; };
  std::vector<Offset> removed;
  options.marker_removed = [&](const BatchHeader& h) { removed.push_back(h.base_offset); };

  ASSERT_TRUE(log_->clean(options).ok());
  EXPECT_FALSE(has_batch(aborted));
  EXPECT_TRUE(has_batch(abort));  // the run met its data
  dirty_and_roll();
  ASSERT_TRUE(log_->clean(options).ok());
  EXPECT_TRUE(has_batch(abort));  // no data left, but younger than delete.retention.ms
  EXPECT_TRUE(removed.empty());
  clock_.advance_ms(kHourMs);
  dirty_and_roll();
  ASSERT_TRUE(log_->clean(options).ok());
  EXPECT_FALSE(has_batch(abort));
  EXPECT_EQ(removed, std::vector<Offset>{abort});
  EXPECT_EQ(log_->cleaner_stats().markers_removed, 1u);
  EXPECT_TRUE(has_batch(last_commit));
  EXPECT_TRUE(has_batch(other_type));
  expect_offsets_preserved();
}

// A COMMIT marker stays while any batch of its transaction does (a record that is still its
// key's latest), and goes in the run after the one that removed its last superseded batch.
TEST_F(CleanerTest, CommitMarkerStaysWhileItsTransactionHasData) {
  BatchSpec p4 = transactional(4, 0);
  Offset superseded = append({{"k", "old"}}, p4);
  Offset first_commit = control(4, '\1');
  p4.base_sequence = Sequence(1);
  append({{"j", "still the latest"}}, p4);
  Offset second_commit = control(4, '\1');
  p4.base_sequence = Sequence(2);
  append({{"m", "latest too"}}, p4);
  Offset last_commit = control(4, '\1');
  put("k", "new");
  for (int i = 0; i < 30; i++) put("filler", std::to_string(i));
  ASSERT_TRUE(log_->roll().ok());
  ASSERT_TRUE(log_->flush().ok());
  clock_.advance_ms(2 * kHourMs);  // time is not what holds the markers back here
  std::vector<Offset> removed;
  CleanOptions options = force();
  options.marker_removed = [&](const BatchHeader& h) { removed.push_back(h.base_offset); };

  ASSERT_TRUE(log_->clean(options).ok());
  EXPECT_FALSE(has_batch(superseded));
  EXPECT_TRUE(has_batch(first_commit));  // the run met its data
  for (int run = 0; run < 3; run++) {
    dirty_and_roll();
    ASSERT_TRUE(log_->clean(options).ok());
  }
  EXPECT_FALSE(has_batch(first_commit));
  EXPECT_TRUE(has_batch(second_commit));  // "j" is still there
  EXPECT_TRUE(has_batch(last_commit));
  EXPECT_EQ(removed, std::vector<Offset>{first_commit});
  expect_offsets_preserved();
}

TEST_F(CleanerTest, ReadsIndexesAndTimeLookupsWorkAcrossCleanedSegments) {
  for (int i = 0; i < 300; i++) {
    put("k" + std::to_string(i % 7), "value-" + std::to_string(i));
    clock_.advance_ms(10);
  }
  ASSERT_TRUE(log_->roll().ok());
  ASSERT_TRUE(log_->flush().ok());
  ASSERT_TRUE(log_->clean(force()).ok());
  auto survivors = records();
  ASSERT_FALSE(survivors.empty());
  // A read at any offset returns the first surviving record at or after it.
  for (int64_t offset = 0; offset < log_->log_end_offset().value(); offset++) {
    auto got = testing::read_records(*log_, Offset(offset), log_->log_end_offset());
    ASSERT_TRUE(got.ok());
    auto expected = std::find_if(survivors.begin(), survivors.end(),
                                 [&](const LogRecord& r) { return r.offset.value() >= offset; });
    if (expected == survivors.end()) continue;
    // The batch holding `offset` may start before it (an emptied batch has no record).
    auto first = std::find_if(got->begin(), got->end(),
                              [&](const LogRecord& r) { return r.offset.value() >= offset; });
    ASSERT_NE(first, got->end()) << offset;
    EXPECT_EQ(*first, *expected) << offset;
  }
  // Time lookups land on a batch whose max timestamp reaches the target.
  int64_t start_ms = clock_.now_ms() - 300 * 10;
  auto found = log_->offset_for_timestamp(TimestampMs(start_ms + 2990));
  ASSERT_TRUE(found.ok());
  ASSERT_TRUE(found->has_value());
  EXPECT_LE(found->value(), Offset(299));
  auto none = log_->offset_for_timestamp(TimestampMs(clock_.now_ms() + 1));
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
}

TEST_F(CleanerTest, BoundedKeyMapCleansThePrefixThatFits) {
  for (int i = 0; i < 400; i++) put("k" + std::to_string(i % 200), "v" + std::to_string(i));
  ASSERT_TRUE(log_->roll().ok());
  ASSERT_TRUE(log_->flush().ok());
  CleanOptions options = force();
  options.key_map_bytes = 64 * 24;  // 48 keys
  ASSERT_TRUE(log_->clean(options).ok());
  Offset first_point = log_->cleaner_stats().clean_point;
  EXPECT_GT(first_point, Offset(0));
  EXPECT_LT(first_point, Offset(400));
  expect_offsets_preserved();
  int runs = 1;
  while (log_->cleaner_stats().clean_point < Offset(400) && runs < 100) {
    ASSERT_TRUE(log_->clean(options).ok());
    runs++;
  }
  EXPECT_EQ(log_->cleaner_stats().clean_point, Offset(400));
  // Keys whose both versions ended up in one run's range are deduplicated; every key's latest
  // value is there.
  std::map<std::string, std::string> latest;
  for (const auto& record : records()) latest[*record.key] = *record.value;
  for (int i = 200; i < 400; i++) {
    EXPECT_EQ(latest["k" + std::to_string(i % 200)], "v" + std::to_string(i));
  }
  expect_offsets_preserved();
}

TEST_F(CleanerTest, IncrementalStepsKeepReadsWorkingAcrossTheSwap) {
  for (int i = 0; i < 200; i++) put("k" + std::to_string(i % 10), "v" + std::to_string(i));
  ASSERT_TRUE(log_->roll().ok());
  ASSERT_TRUE(log_->flush().ok());
  auto before = records();
  auto held = log_->read(Offset(0), 1 << 20, log_->log_end_offset());  // keeps old files
  ASSERT_TRUE(held.ok());
  auto started = log_->start_clean(force());
  ASSERT_TRUE(started.ok());
  ASSERT_TRUE(*started);
  int steps = 0;
  while (true) {
    auto more = log_->clean_step(256);
    ASSERT_TRUE(more.ok()) << more.status().to_string();
    steps++;
    // Between steps, appends and reads go on.
    EXPECT_EQ(records().size() >= 10, true);
    if (!*more) break;
  }
  EXPECT_GT(steps, 10);
  auto old_bytes = log_->copy(*held);  // from the replaced files
  ASSERT_TRUE(old_bytes.ok()) << old_bytes.status().to_string();
  EXPECT_EQ(old_bytes->size(), held->size_bytes);
  EXPECT_LT(records().size(), before.size());
  expect_offsets_preserved();
}

TEST_F(CleanerTest, RetentionDuringARunAbortsIt) {
  config_.cleanup_delete = true;
  config_.retention_ms = 1000;
  ASSERT_TRUE(log_->set_config(config_).ok());
  for (int i = 0; i < 100; i++) put("k" + std::to_string(i % 3), "v");
  ASSERT_TRUE(log_->roll().ok());
  ASSERT_TRUE(log_->flush().ok());
  ASSERT_TRUE(*log_->start_clean(force()));
  ASSERT_TRUE(log_->clean_step(100).ok());
  clock_.advance_ms(10'000);
  ASSERT_TRUE(log_->apply_retention().ok());
  EXPECT_FALSE(log_->cleaning());
  EXPECT_EQ(log_->cleaner_stats().runs_aborted, 1u);
  auto names = io_.list_dir(kDir);
  ASSERT_TRUE(names.ok());
  for (const auto& name : *names) EXPECT_EQ(name.find(".cleaned"), std::string::npos);
}

// What the broker's metrics read: each check records the dirty ratio and the age of the
// oldest dirty batch; a failed run counts and marks the log until a run commits.
TEST_F(CleanerTest, StatsRecordChecksRunsAndFailures) {
  int64_t first_write_ms = clock_.now_ms();
  for (int i = 0; i < 40; i++) put("k" + std::to_string(i % 4), "v" + std::to_string(i));
  ASSERT_TRUE(log_->roll().ok());
  ASSERT_TRUE(log_->flush().ok());
  clock_.advance_ms(5000);
  io_.fail_syncs_after(0);
  EXPECT_FALSE(log_->clean(force()).ok());
  const CleanerStats& stats = log_->cleaner_stats();
  EXPECT_EQ(stats.last_check_ms, clock_.now_ms());
  EXPECT_EQ(stats.dirty_ratio, 1.0);  // nothing was ever cleaned
  EXPECT_EQ(stats.dirty_since_ms, first_write_ms);
  EXPECT_EQ(stats.runs_failed, 1u);
  EXPECT_EQ(stats.runs_aborted, 1u);
  EXPECT_TRUE(stats.last_run_failed);
  EXPECT_GT(stats.bytes_read, 0u);
  EXPECT_EQ(stats.runs, 0u);

  io_.clear_sync_failure();
  clock_.advance_ms(1000);
  ASSERT_TRUE(log_->start_clean(force()).ok());
  clock_.advance_ms(250);
  while (*log_->clean_step(64)) clock_.advance_ms(1);
  EXPECT_EQ(stats.runs, 1u);
  EXPECT_FALSE(stats.last_run_failed);
  EXPECT_EQ(stats.last_run_ms, clock_.now_ms());
  EXPECT_GE(stats.last_run_duration_ms, 250);
  EXPECT_EQ(stats.records_removed, 36u);
  EXPECT_GT(stats.bytes_written, 0u);

  // Checked again with nothing new: clean, and nothing dirty.
  ASSERT_FALSE(*log_->start_clean(force()));
  EXPECT_EQ(stats.dirty_ratio, 0.0);
  EXPECT_EQ(stats.dirty_since_ms, -1);
}

TEST_F(CleanerTest, ReopenAfterCleanKeepsTheCleanPointAndTheData) {
  for (int i = 0; i < 100; i++) put("k" + std::to_string(i % 4), "v" + std::to_string(i));
  ASSERT_TRUE(log_->roll().ok());
  ASSERT_TRUE(log_->flush().ok());
  ASSERT_TRUE(log_->clean(force()).ok());
  auto cleaned = records();
  Offset point = log_->cleaner_stats().clean_point;
  reopen();
  EXPECT_EQ(records(), cleaned);
  EXPECT_EQ(log_->cleaner_stats().clean_point, point);
  // And after a crash (no clean shutdown) too: the cleaned segments are adopted or rescanned.
  log_.reset();
  io_.power_loss(1, /*torn=*/false);
  reopen();
  EXPECT_EQ(records(), cleaned);
  EXPECT_EQ(log_->cleaner_stats().clean_point, point);
}

TEST_F(CleanerTest, RescanOfACleanedSegmentAcceptsOffsetGaps) {
  for (int i = 0; i < 100; i++) put("k" + std::to_string(i % 4), "v" + std::to_string(i));
  ASSERT_TRUE(log_->roll().ok());
  ASSERT_TRUE(log_->flush().ok());
  ASSERT_TRUE(log_->clean(force()).ok());
  auto cleaned = records();
  ASSERT_TRUE(log_->close().ok());
  log_.reset();
  // Damage every index header: open must validate the .log files batch by batch.
  auto names = io_.list_dir(kDir);
  ASSERT_TRUE(names.ok());
  for (const auto& name : *names) {
    if (name.ends_with(".index")) io_.corrupt(kDir + "/" + name, 0, 0xff);
  }
  reopen();
  EXPECT_GT(log_->info().recovery_scanned_bytes, 0u);
  EXPECT_EQ(records(), cleaned);
}

TEST_F(CleanerTest, CompressedBatchesGoThroughTheCallersCodec) {
  BatchSpec spec;
  spec.attributes = static_cast<uint16_t>(model::Compression::gzip);
  int decompressed = 0;
  int compressed = 0;
  // A stand-in codec: the "compressed" payload is the plain records section.
  CleanOptions options = force();
  options.decompress = [&](model::Compression, std::span<const uint8_t> payload) {
    decompressed++;
    return Result<std::vector<uint8_t>>(std::vector<uint8_t>(payload.begin(), payload.end()));
  };
  options.compress = [&](model::Compression codec, std::span<const uint8_t> records,
                         std::span<const uint8_t>) {
    EXPECT_EQ(codec, model::Compression::gzip);
    compressed++;
    return Result<std::vector<uint8_t>>(std::vector<uint8_t>(records.begin(), records.end()));
  };
  for (int i = 0; i < 30; i++) {
    append({{"a", "v" + std::to_string(i)}, {"b" + std::to_string(i), "w"}}, spec);
  }
  ASSERT_TRUE(log_->roll().ok());
  ASSERT_TRUE(log_->flush().ok());
  ASSERT_TRUE(log_->clean(options).ok());
  EXPECT_GT(decompressed, 0);
  EXPECT_GT(compressed, 0);  // batches keep their "b" record, not the superseded "a"
  EXPECT_EQ(count_key("a"), 1u);
  expect_offsets_preserved();
}

TEST_F(CleanerTest, CompressedBatchesWithoutACodecAreKeptWhole) {
  BatchSpec spec;
  spec.attributes = static_cast<uint16_t>(model::Compression::zstd);
  for (int i = 0; i < 30; i++) append({{"a", "v" + std::to_string(i)}}, spec);
  ASSERT_TRUE(log_->roll().ok());
  ASSERT_TRUE(log_->flush().ok());
  ASSERT_TRUE(log_->clean(force()).ok());
  EXPECT_EQ(log_->cleaner_stats().records_removed, 0u);
}

TEST_F(CleanerTest, TombstonesAfterAnUnreadableBatchStay) {
  BatchSpec opaque;
  opaque.attributes = static_cast<uint16_t>(model::Compression::zstd);  // no codec given
  append({{"k", "old"}}, opaque);
  put("k", std::nullopt);
  for (int i = 0; i < 30; i++) put("filler", std::to_string(i));
  ASSERT_TRUE(log_->roll().ok());
  ASSERT_TRUE(log_->flush().ok());
  ASSERT_TRUE(log_->clean(force()).ok());
  clock_.advance_ms(kHourMs + 1);
  put("filler", "more");
  ASSERT_TRUE(log_->roll().ok());
  ASSERT_TRUE(log_->flush().ok());
  ASSERT_TRUE(log_->clean(force()).ok());
  // The tombstone is past delete.retention.ms, but the run could not see inside the batch
  // holding "old": removing the tombstone would bring "old" back.
  size_t tombstones = 0;
  for (const auto& record : records()) tombstones += record.key == "k" && !record.value;
  EXPECT_EQ(tombstones, 1u);
}

TEST(KeyMap, HoldsLatestOffsetsUpToItsBound) {
  KeyMap map(1000 * 24);
  size_t room = map.room();
  EXPECT_GE(room, 100u);
  std::string key = "key";
  for (size_t i = 0; i < room; i++) {
    std::string k = key + std::to_string(i);
    map.put(hash_key(std::span(reinterpret_cast<const uint8_t*>(k.data()), k.size())),
            Offset(static_cast<int64_t>(i)));
  }
  EXPECT_EQ(map.room(), 0u);
  std::string k = key + "7";
  auto h = hash_key(std::span(reinterpret_cast<const uint8_t*>(k.data()), k.size()));
  map.put(h, Offset(5000));  // an existing key needs no room
  EXPECT_EQ(map.get(h), Offset(5000));
  std::string missing = "absent";
  EXPECT_FALSE(
      map.get(hash_key(std::span(reinterpret_cast<const uint8_t*>(missing.data()), missing.size())))
          .has_value());
}

}  // namespace
}  // namespace cairn::storage
