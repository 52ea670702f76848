// Fault-injection tests on testing::FaultIo: power loss at any point (every offset reported
// durable reads back byte-identical, nothing past a torn tail is served), ENOSPC, corrupt
// data in the middle of the log (fences the partition), and how much an open reads.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <random>

#include "storage/flusher.h"
#include "storage/log.h"
#include "testing/fake_clock.h"
#include "testing/fault_io.h"
#include "testing/log_helpers.h"

namespace cairn::storage {
namespace {

using testing::append_copy;
using testing::BatchSpec;
using testing::build_batch;
using testing::read_batches;

const std::string kDir = "/data/t-0";

std::unique_ptr<Log> open_log(Io& io, Clock& clock, LogConfig config) {
  LogOptions options;
  options.dir = kDir;
  options.io = &io;
  options.clock = &clock;
  options.config = config;
  auto log = Log::open(options);
  EXPECT_TRUE(log.ok()) << log.status().to_string();
  return log.ok() ? std::move(log.value()) : nullptr;
}

std::vector<uint8_t> random_batch(std::mt19937_64& rng) {
  BatchSpec spec;
  spec.record_count = 1 + static_cast<int32_t>(rng() % 5);
  spec.value_bytes = 1 + rng() % 700;
  spec.seed = rng();
  return build_batch(spec);
}

// Every batch in `model` below `durable` must read back identical; whatever else the log
// serves must be a prefix of `model` (never bytes that were not appended).
void check_against_model(Log& log, const std::vector<std::vector<uint8_t>>& model, Offset durable,
                         const std::string& context) {
  ASSERT_TRUE(log.health().ok()) << context << " " << log.health().to_string();
  ASSERT_GE(log.log_end_offset(), durable) << context;
  auto read = read_batches(log, Offset(0), log.log_end_offset(), 64 * 1024);
  ASSERT_TRUE(read.ok()) << context << " " << read.status().to_string();
  ASSERT_LE(read->size(), model.size()) << context;
  for (size_t i = 0; i < read->size(); i++) ASSERT_EQ((*read)[i], model[i]) << context << i;
  size_t complete = 0;
  for (const auto& batch : model) {
    auto view = model::RecordBatchView::parse(batch);
    if (view->last_offset() >= durable) break;
    complete++;
  }
  ASSERT_GE(read->size(), complete) << context << " lost durable batches";
}

TEST(PowerLoss, DurableOffsetsSurviveAtAnyPoint) {
  int torn_tails_cut = 0;
  int unsynced_lost = 0;
  for (uint64_t trial = 0; trial < 150; trial++) {
    std::mt19937_64 rng(trial);
    testing::FaultIo io;
    testing::FakeClock clock;
    LogConfig config;
    config.segment_bytes = 2048 + rng() % 8192;
    config.index_interval_bytes = 64 + rng() % 1024;
    config.checkpoint_interval_ms = 1;
    std::vector<std::vector<uint8_t>> model;
    Offset durable(0);
    auto log = open_log(io, clock, config);
    int steps = 5 + static_cast<int>(rng() % 120);
    for (int step = 0; step < steps; step++) {
      auto bytes = append_copy(*log, random_batch(rng));
      ASSERT_TRUE(bytes.ok());
      model.push_back(*bytes);
      if (rng() % 8 == 0) {
        ASSERT_TRUE(log->flush().ok());
        durable = log->durable_offset();
        ASSERT_EQ(durable, log->log_end_offset());
      }
    }
    io.power_loss(rng(), /*torn=*/rng() % 4 != 0);
    log.reset();
    log = open_log(io, clock, config);
    ASSERT_NE(log, nullptr);
    std::string context = "trial " + std::to_string(trial);
    check_against_model(*log, model, durable, context);
    EXPECT_FALSE(log->info().opened_clean);
    torn_tails_cut += log->info().recovery_truncated_bytes > 0;
    // The recovered log takes appends and survives a second crash.
    size_t kept = read_batches(*log, Offset(0), log->log_end_offset(), 1 << 20)->size();
    unsynced_lost += kept < model.size();
    model.resize(kept);
    auto more = append_copy(*log, random_batch(rng));
    ASSERT_TRUE(more.ok());
    model.push_back(*more);
    ASSERT_TRUE(log->flush().ok());
    durable = log->durable_offset();
    io.power_loss(rng(), true);
    log.reset();
    log = open_log(io, clock, config);
    check_against_model(*log, model, durable, context + " second crash");
  }
  // The trials must have exercised what they claim to.
  EXPECT_GT(torn_tails_cut, 10);
  EXPECT_GT(unsynced_lost, 10);
}

TEST(PowerLoss, UncleanOpenScansOnlyTheUnflushedTail) {
  testing::FaultIo io;
  testing::FakeClock clock;
  LogConfig config;
  config.segment_bytes = 16 * 1024;
  std::mt19937_64 rng(7);
  auto log = open_log(io, clock, config);
  for (int i = 0; i < 600; i++) ASSERT_TRUE(append_copy(*log, random_batch(rng)).ok());
  ASSERT_TRUE(log->flush().ok());
  for (int i = 0; i < 5; i++) ASSERT_TRUE(append_copy(*log, random_batch(rng)).ok());
  uint64_t total = log->info().size_bytes;
  io.power_loss(1, /*torn=*/false);
  log.reset();
  io.reset_counters();
  log = open_log(io, clock, config);
  LogInfo info = log->info();
  EXPECT_FALSE(info.opened_clean);
  EXPECT_GT(total, 20 * config.segment_bytes);
  // Sealed segments were vouched for by their index headers; at most the active one is read.
  EXPECT_LE(info.recovery_scanned_bytes, config.segment_bytes);
  EXPECT_LE(io.bytes_read(), 2 * config.segment_bytes + info.segment_count * 200);
}

TEST(NoSpace, AppendsFailCleanlyReadsGoOnAndAppendsResume) {
  testing::FaultIo io;
  testing::FakeClock clock;
  LogConfig config;
  config.segment_bytes = 8 * 1024;
  std::mt19937_64 rng(3);
  auto log = open_log(io, clock, config);
  std::vector<std::vector<uint8_t>> model;
  for (int i = 0; i < 20; i++) model.push_back(*append_copy(*log, random_batch(rng)));
  io.set_capacity_bytes(io.used_bytes() + 300);
  int failures = 0;
  for (int i = 0; i < 40; i++) {
    auto bytes = append_copy(*log, random_batch(rng));
    if (bytes.ok()) {
      model.push_back(*bytes);
    } else {
      EXPECT_EQ(bytes.status().code(), StatusCode::no_space);
      failures++;
    }
  }
  EXPECT_GT(failures, 30);
  EXPECT_TRUE(log->health().ok());
  check_against_model(*log, model, Offset(0), "while full");
  EXPECT_TRUE(log->flush().ok());
  io.set_capacity_bytes(UINT64_MAX);
  for (int i = 0; i < 20; i++) model.push_back(*append_copy(*log, random_batch(rng)));
  check_against_model(*log, model, Offset(0), "after space returned");
  ASSERT_TRUE(log->close().ok());
  log = open_log(io, clock, config);
  EXPECT_TRUE(log->info().opened_clean);
  check_against_model(*log, model, log->log_end_offset(), "reopened");
}

// A write that ran out of space leaves part of a batch past the end. A flush must not make
// those bytes durable: after a power loss they could join the unsynced tail of the batch
// written over them into a valid-looking batch nobody acknowledged (found by the random log
// test, seed 439308685: the two batches shared their last byte).
TEST(NoSpace, BytesOfAFailedAppendNeverBecomeDurable) {
  testing::FaultIo io;
  testing::FakeClock clock;
  std::mt19937_64 rng(5);
  auto log = open_log(io, clock, LogConfig{});
  std::vector<std::vector<uint8_t>> model;
  for (int i = 0; i < 3; i++) model.push_back(*append_copy(*log, random_batch(rng)));
  ASSERT_TRUE(log->flush().ok());
  BatchSpec big;
  big.value_bytes = 2000;
  auto failed = build_batch(big);
  io.set_capacity_bytes(io.used_bytes() + failed.size() - 1);  // all but its last byte
  EXPECT_EQ(append_copy(*log, failed).status().code(), StatusCode::no_space);
  io.set_capacity_bytes(UINT64_MAX);
  BatchSpec small;  // written over the start of the failed one; the flush syncs the file
  small.value_bytes = 10;
  model.push_back(*append_copy(*log, build_batch(small)));
  ASSERT_TRUE(log->flush().ok());
  io.power_loss(rng(), /*torn=*/false);
  log = open_log(io, clock, LogConfig{});
  EXPECT_EQ(log->info().recovery_truncated_bytes, 0u) << "the failed batch's bytes were durable";
  check_against_model(*log, model, log->log_end_offset(), "after power loss");
  EXPECT_EQ(read_batches(*log, Offset(0), log->log_end_offset(), 64 * 1024)->size(), 4u);
}

TEST(PowerLoss, AcknowledgedByTheFlusherSurvivesAPowerLossMidFlush) {
  for (uint64_t trial = 0; trial < 20; trial++) {
    std::mt19937_64 rng(1000 + trial);
    testing::FaultIo io;
    testing::FakeClock clock;
    LogConfig config;
    config.segment_bytes = 4096 + rng() % 16384;
    config.checkpoint_interval_ms = 1;
    std::vector<std::vector<uint8_t>> model;
    std::mutex mu;
    Offset acknowledged(0);  // every offset below it was acknowledged durable
    {
      Flusher flusher(2);
      LogOptions options;
      options.dir = kDir;
      options.io = &io;
      options.clock = &clock;
      options.config = config;
      options.flusher = &flusher;
      auto log = Log::open(options);
      ASSERT_TRUE(log.ok());
      int appends = 50 + static_cast<int>(rng() % 400);
      for (int i = 0; i < appends; i++) {
        auto bytes = random_batch(rng);
        auto result = (*log)->append(bytes);
        ASSERT_TRUE(result.ok());
        model.push_back(bytes);
        Offset next(result->last_offset.value() + 1);
        (*log)->wait_durable(result->last_offset, [&, next](Status s) {
          if (!s.ok()) return;
          std::lock_guard lock(mu);
          acknowledged = std::max(acknowledged, next);
        });
      }
      io.power_loss(rng(), /*torn=*/true);  // while the flusher may be mid-job
      log->reset();
    }
    auto log = open_log(io, clock, config);
    ASSERT_NE(log, nullptr);
    check_against_model(*log, model, acknowledged, "trial " + std::to_string(trial));
    std::printf("trial %llu: %zu batches appended, %lld offsets acknowledged, %lld recovered\n",
                static_cast<unsigned long long>(trial), model.size(),
                static_cast<long long>(acknowledged.value()),
                static_cast<long long>(log->log_end_offset().value()));
  }
}

class Corruption : public ::testing::Test {
 protected:
  void SetUp() override {
    config_.segment_bytes = 4096;
    std::mt19937_64 rng(11);
    auto log = open_log(io_, clock_, config_);
    for (int i = 0; i < 60; i++) ASSERT_TRUE(append_copy(*log, random_batch(rng)).ok());
    ASSERT_GT(log->info().segment_count, 4u);
    ASSERT_TRUE(log->close().ok());
  }
  std::string first_segment(const char* suffix) {
    return kDir + "/" + format::segment_file_name(Offset(0), suffix);
  }
  testing::FaultIo io_;
  testing::FakeClock clock_;
  LogConfig config_;
};

TEST_F(Corruption, FlippedPayloadBitInASealedSegmentFencesOnRead) {
  io_.corrupt(first_segment(".log"), 200, 0x01);
  auto log = open_log(io_, clock_, config_);
  ASSERT_TRUE(log->health().ok());  // a clean open does not read the data
  auto read = read_batches(*log, Offset(0), log->log_end_offset(), 1 << 20);
  EXPECT_EQ(read.status().code(), StatusCode::fenced);
  EXPECT_EQ(log->health().code(), StatusCode::fenced);
  EXPECT_EQ(log->read(Offset(0), 1, Offset(10)).status().code(), StatusCode::fenced);
  auto batch = testing::build_batch({});
  EXPECT_EQ(log->append(batch).status().code(), StatusCode::fenced);
}

TEST_F(Corruption, BadBatchBeforeTheRecoveryPointFencesOnOpenInsteadOfTruncating) {
  io_.remove(kDir + "/clean_shutdown");           // an unclean stop ...
  io_.remove(first_segment(".index"));            // ... that lost the first index ...
  io_.corrupt(first_segment(".log"), 400, 0x40);  // ... over a rotten batch (CRC'd bytes)
  uint64_t before = io_.contents(first_segment(".log")).size();
  auto log = open_log(io_, clock_, config_);
  ASSERT_NE(log, nullptr);
  EXPECT_EQ(log->health().code(), StatusCode::fenced)
      << log->info().recovery_scanned_bytes << " " << log->info().opened_clean << " "
      << log->info().recovery_truncated_bytes;
  EXPECT_EQ(log->read(Offset(0), 1, Offset(10)).status().code(), StatusCode::fenced);
  EXPECT_EQ(io_.contents(first_segment(".log")).size(), before);  // history kept
  ASSERT_FALSE(log->close().ok());
}

TEST_F(Corruption, BrokenBatchHeaderFoundByAReadFences) {
  // Batch length of the first batch: bytes 8..11.
  io_.corrupt(first_segment(".log"), 9, 0x7f);
  auto log = open_log(io_, clock_, config_);
  auto read = log->read(Offset(0), 1 << 20, log->log_end_offset());
  EXPECT_EQ(read.status().code(), StatusCode::fenced);
}

TEST_F(Corruption, CorruptIndexIsRebuiltFromTheData) {
  io_.corrupt(first_segment(".index"), format::kIndexHeaderBytes + 3, 0x01);
  auto log = open_log(io_, clock_, config_);
  auto read = read_batches(*log, Offset(0), log->log_end_offset(), 1 << 20);
  ASSERT_TRUE(read.ok()) << read.status().to_string();
  EXPECT_EQ(read->size(), 60u);
  EXPECT_TRUE(log->health().ok());
}

}  // namespace
}  // namespace cairn::storage
