// Randomized test: thousands of append / read / time lookup / header scan / flush / roll /
// retention / DeleteRecords / config change / clean reopen / power loss / disk full steps
// against an in-memory model, checking every read byte for byte. It prints its seed; set
// CAIRN_SEED=<seed> to replay a failure, CAIRN_STEPS=<n> to run longer.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <random>

#include "storage/log.h"
#include "testing/fake_clock.h"
#include "testing/fault_io.h"
#include "testing/log_helpers.h"

namespace cairn::storage {
namespace {

struct ModelBatch {
  Offset base;
  Offset last;
  TimestampMs max_timestamp;
  std::vector<uint8_t> bytes;
};

uint64_t env_or(const char* name, uint64_t fallback) {
  const char* value = std::getenv(name);
  return value != nullptr ? std::strtoull(value, nullptr, 10) : fallback;
}

class RandomLogTest {
 public:
  explicit RandomLogTest(uint64_t seed) : rng_(seed) {}

  void run(int steps) {
    config_ = random_config();
    reopen();
    for (step_ = 0; step_ < steps && !::testing::Test::HasFatalFailure(); step_++) {
      int op = static_cast<int>(rng_() % 100);
      if (op < 40) {
        append();
      } else if (op < 62) {
        check_read();
      } else if (op < 67) {
        check_time_lookup();
      } else if (op < 70) {
        check_header_scan();
      } else if (op < 75) {
        ASSERT_TRUE(log_->flush().ok());
        durable_ = log_->durable_offset();
        durable_start_ = start_;
      } else if (op < 78) {
        ASSERT_TRUE(log_->roll().ok());
      } else if (op < 83) {
        retention();
      } else if (op < 85) {
        delete_prefix();
      } else if (op < 87) {
        config_ = random_config();
        ASSERT_TRUE(log_->set_config(config_).ok());
      } else if (op < 90) {
        clean_reopen();
      } else if (op < 93) {
        crash();
      } else if (op < 95) {
        disk_full();
      } else {
        clock_.advance_ms(static_cast<int64_t>(rng_() % 5000));
      }
    }
    clean_reopen();
    std::printf("random log: %d steps, %zu batches, %zu segments, %d crashes\n", step_,
                batches_.size(), log_->info().segment_count, crashes_);
  }

 private:
  std::string where() const { return "step " + std::to_string(step_); }
  Offset end() const { return batches_.empty() ? base_ : next_offset_of(batches_.back()); }
  static Offset next_offset_of(const ModelBatch& b) { return Offset(b.last.value() + 1); }

  LogConfig random_config() {
    LogConfig config;
    config.segment_bytes = 1024 + rng_() % 16384;
    config.segment_ms = 1000 + static_cast<int64_t>(rng_() % 60000);
    config.index_interval_bytes = 1 + rng_() % 2048;
    config.retention_bytes = rng_() % 3 == 0 ? -1 : static_cast<int64_t>(rng_() % 60000);
    config.retention_ms = rng_() % 3 == 0 ? -1 : static_cast<int64_t>(rng_() % 200000);
    config.checkpoint_interval_ms = 1 + static_cast<int64_t>(rng_() % 3);
    return config;
  }

  void reopen() {
    log_.reset();
    LogOptions options;
    options.dir = "/d/p-0";
    options.io = &io_;
    options.clock = &clock_;
    options.config = config_;
    auto log = Log::open(options);
    ASSERT_TRUE(log.ok()) << where() << log.status().to_string();
    log_ = std::move(log.value());
    ASSERT_TRUE(log_->health().ok()) << where() << log_->health().to_string();
  }

  void append() {
    testing::BatchSpec spec;
    spec.record_count = 1 + static_cast<int32_t>(rng_() % 8);
    spec.value_bytes = rng_() % 3 == 0 ? rng_() % 3000 : rng_() % 200;
    spec.base_timestamp = TimestampMs(clock_.now_ms() - static_cast<int64_t>(rng_() % 300000));
    spec.timestamp_step_ms = static_cast<int64_t>(rng_() % 10);
    spec.seed = rng_();
    auto bytes = testing::build_batch(spec);
    auto result = log_->append(bytes);
    ASSERT_TRUE(result.ok()) << where() << result.status().to_string();
    ASSERT_EQ(result->base_offset, end()) << where();
    auto view = model::RecordBatchView::parse(bytes);
    batches_.push_back({result->base_offset, result->last_offset, view->max_timestamp(), bytes});
  }

  // Index of the batch holding `offset`, or batches_.size().
  size_t batch_index(Offset offset) const {
    size_t lo = 0, hi = batches_.size();
    while (lo < hi) {
      size_t mid = (lo + hi) / 2;
      if (batches_[mid].last < offset)
        lo = mid + 1;
      else
        hi = mid;
    }
    return lo;
  }

  void check_read() {
    int64_t span = end().value() - start_.value();
    Offset offset(start_.value() + static_cast<int64_t>(rng_() % static_cast<uint64_t>(span + 1)));
    uint64_t max_bytes = 1 + rng_() % 20000;
    Offset limit(
        offset.value() +
        static_cast<int64_t>(rng_() % static_cast<uint64_t>(end().value() - offset.value() + 3)));
    auto read = log_->read(offset, max_bytes, limit);
    ASSERT_TRUE(read.ok()) << where() << read.status().to_string();
    std::vector<uint8_t> expected;
    size_t count = 0;
    for (size_t i = batch_index(offset); i < batches_.size(); i++) {
      const ModelBatch& b = batches_[i];
      if (b.last >= limit) break;
      if (count > 0 && expected.size() + b.bytes.size() > max_bytes) break;
      expected.insert(expected.end(), b.bytes.begin(), b.bytes.end());
      count++;
    }
    ASSERT_EQ(read->batch_count, count) << where();
    auto bytes = log_->copy(*read);
    ASSERT_TRUE(bytes.ok()) << where();
    ASSERT_EQ(*bytes, expected) << where();
    if (rng_() % 10 == 0 && start_ > Offset(0)) {
      EXPECT_EQ(log_->read(Offset(start_.value() - 1), 1, limit).status().code(),
                StatusCode::out_of_range)
          << where();
    }
  }

  void check_time_lookup() {
    TimestampMs target(clock_.now_ms() - static_cast<int64_t>(rng_() % 320000));
    std::optional<Offset> expected;
    for (size_t i = batch_index(start_); i < batches_.size(); i++) {
      if (batches_[i].max_timestamp >= target) {
        expected = std::max(batches_[i].base, start_);
        break;
      }
    }
    auto found = log_->offset_for_timestamp(target);
    ASSERT_TRUE(found.ok()) << where();
    ASSERT_EQ(*found, expected) << where();
  }

  void check_header_scan() {
    size_t first = batch_index(start_);
    if (first >= batches_.size()) return;
    size_t from = first + rng_() % (batches_.size() - first);
    size_t at = from;
    ASSERT_TRUE(log_->scan_headers(batches_[from].base,
                                   [&](const BatchHeader& h) {
                                     EXPECT_EQ(h.base_offset, batches_[at].base);
                                     at++;
                                     return at < from + 50;
                                   })
                    .ok());
    EXPECT_EQ(at, std::min(batches_.size(), from + 50)) << where();
  }

  void retention() {
    clock_.advance_ms(static_cast<int64_t>(rng_() % 100000));
    Offset before = log_->log_start_offset();
    auto deleted = log_->apply_retention();
    ASSERT_TRUE(deleted.ok()) << where();
    Offset after = log_->log_start_offset();
    ASSERT_GE(after, before) << where();
    ASSERT_LE(after, end()) << where();
    if (after != before) {
      size_t i = batch_index(after);
      ASSERT_TRUE(i == batches_.size() ? after == end() : batches_[i].base == after) << where();
    }
    start_ = after;
  }

  void delete_prefix() {
    int64_t span = end().value() - start_.value();
    Offset offset(start_.value() + static_cast<int64_t>(rng_() % static_cast<uint64_t>(span + 1)));
    ASSERT_TRUE(log_->delete_prefix(offset).ok()) << where();
    start_ = offset;
    ASSERT_EQ(log_->log_start_offset(), start_);
  }

  void check_everything(const std::string& context) {
    ASSERT_EQ(log_->log_end_offset(), end()) << context;
    auto read = testing::read_batches(*log_, log_->log_start_offset(), end(), 1 + rng_() % 50000);
    ASSERT_TRUE(read.ok()) << context << read.status().to_string();
    size_t first = batch_index(log_->log_start_offset());
    ASSERT_EQ(read->size(), batches_.size() - first) << context;
    for (size_t i = 0; i < read->size(); i++) {
      ASSERT_EQ((*read)[i], batches_[first + i].bytes) << context << " batch " << i;
    }
  }

  void clean_reopen() {
    ASSERT_TRUE(log_->close().ok()) << where();
    reopen();
    ASSERT_TRUE(log_->info().opened_clean) << where();
    ASSERT_EQ(log_->log_start_offset(), start_) << where();
    durable_ = end();
    durable_start_ = start_;
    check_everything(where() + " clean reopen");
  }

  void crash() {
    crashes_++;
    io_.power_loss(rng_(), rng_() % 2 == 0);
    reopen();
    Offset recovered = log_->log_end_offset();
    ASSERT_GE(recovered, durable_) << where();
    ASSERT_LE(recovered, end()) << where();
    size_t keep = batch_index(recovered);
    ASSERT_TRUE(keep == batches_.size() || batches_[keep].base == recovered) << where();
    batches_.resize(keep);
    if (batches_.empty()) base_ = recovered;
    Offset start = log_->log_start_offset();
    ASSERT_GE(start, std::min(durable_start_, recovered)) << where();
    ASSERT_LE(start, std::max(start_, recovered)) << where();
    start_ = start;
    check_everything(where() + " after crash");
    durable_ = log_->durable_offset();
    ASSERT_EQ(durable_, recovered) << where();
    durable_start_ = start_;
  }

  void disk_full() {
    io_.set_capacity_bytes(io_.used_bytes() + rng_() % 3000);
    for (int i = 0; i < 5; i++) {
      testing::BatchSpec spec;
      spec.value_bytes = rng_() % 1500;
      spec.base_timestamp = TimestampMs(clock_.now_ms());
      spec.seed = rng_();
      auto bytes = testing::build_batch(spec);
      auto result = log_->append(bytes);
      if (!result.ok()) {
        ASSERT_EQ(result.status().code(), StatusCode::no_space) << where();
        continue;
      }
      batches_.push_back({result->base_offset, result->last_offset,
                          model::RecordBatchView::parse(bytes)->max_timestamp(), bytes});
    }
    ASSERT_TRUE(log_->health().ok()) << where();
    check_read();
    io_.set_capacity_bytes(UINT64_MAX);
  }

  std::mt19937_64 rng_;
  testing::FaultIo io_;
  testing::FakeClock clock_;
  LogConfig config_;
  std::unique_ptr<Log> log_;
  std::vector<ModelBatch> batches_;  // every batch from the first segment on
  Offset base_;                      // end() when batches_ is empty
  Offset start_;
  Offset durable_;
  Offset durable_start_;
  int step_ = 0;
  int crashes_ = 0;
};

TEST(LogRandom, ThousandsOfStepsAgainstAModel) {
  uint64_t seed = env_or("CAIRN_SEED", std::random_device()());
  int steps = static_cast<int>(env_or("CAIRN_STEPS", 50000));
  std::printf("log_random_test: CAIRN_SEED=%llu\n", static_cast<unsigned long long>(seed));
  RecordProperty("seed", std::to_string(seed));
  RandomLogTest test(seed);
  test.run(steps);
}

}  // namespace
}  // namespace cairn::storage
