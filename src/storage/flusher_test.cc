// Tests of durability with a real Flusher: callbacks after fsync, group commit, the
// background (acks=1) flush, the byte threshold, and a failed fsync failing the log for good.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <future>
#include <thread>

#include "storage/flusher.h"
#include "storage/log.h"
#include "testing/fault_io.h"
#include "testing/log_helpers.h"

namespace cairn::storage {
namespace {

using testing::append_copy;
using testing::build_batch_of_size;

std::vector<uint8_t> batch(size_t bytes, uint64_t seed = 1) {
  return build_batch_of_size(bytes, seed, TimestampMs(1000));
}

// Waits (for a liveness property, not a timing one) until `done` holds; fails after 30 s.
template <typename F>
bool eventually(F done) {
  for (int i = 0; i < 30000; i++) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return done();
}

std::unique_ptr<Log> open_log(Io& io, Flusher& flusher, const std::string& dir,
                              LogConfig config = {}) {
  LogOptions options;
  options.dir = dir;
  options.io = &io;
  options.flusher = &flusher;
  options.config = config;
  auto log = Log::open(options);
  EXPECT_TRUE(log.ok()) << log.status().to_string();
  return std::move(log.value());
}

TEST(Flusher, WaitDurableCallsBackOnceTheSyncCoveredTheOffset) {
  testing::FaultIo io;
  Flusher flusher(2);
  auto log = open_log(io, flusher, "/d");
  ASSERT_TRUE(append_copy(*log, batch(1000)).ok());
  auto second = batch(1000, 2);
  auto result = log->append(second);
  ASSERT_TRUE(result.ok());
  std::promise<Status> promise;
  log->wait_durable(result->last_offset, [&](Status s) { promise.set_value(s); });
  Status status = promise.get_future().get();
  EXPECT_TRUE(status.ok()) << status.to_string();
  EXPECT_GT(log->durable_offset(), result->last_offset);
  EXPECT_GE(io.sync_count(), 1u);
  // Already durable: called back inline.
  bool called = false;
  log->wait_durable(result->last_offset, [&](Status s) { called = s.ok(); });
  EXPECT_TRUE(called);
  ASSERT_TRUE(log->close().ok());
}

TEST(Flusher, GroupCommitCoversManyAppendsPerFsync) {
  std::string dir =
      std::filesystem::temp_directory_path() / ("cairn-flusher-test-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  Flusher flusher(2);
  auto log = open_log(posix_io(), flusher, dir);
  std::atomic<int> acked{0};
  std::atomic<int> failed{0};
  const int kAppends = 3000;
  auto bytes = batch(1024);
  for (int i = 0; i < kAppends; i++) {
    auto copy = bytes;
    auto result = log->append(copy);
    ASSERT_TRUE(result.ok());
    log->wait_durable(result->last_offset, [&](Status s) { (s.ok() ? acked : failed)++; });
  }
  ASSERT_TRUE(eventually([&] { return acked.load() + failed.load() == kAppends; }));
  EXPECT_EQ(failed.load(), 0);
  FlushStats stats = log->flush_stats();
  std::printf("group commit: %llu appends, %llu fdatasyncs of the log\n",
              static_cast<unsigned long long>(stats.batches_appended),
              static_cast<unsigned long long>(stats.data_syncs));
  EXPECT_EQ(stats.batches_appended, static_cast<uint64_t>(kAppends));
  EXPECT_LT(stats.data_syncs, stats.batches_appended);  // not one fsync per append
  ASSERT_TRUE(log->close().ok());
  // The Flusher's metrics saw the same: one latency per fdatasync, and the batches of the
  // flush jobs add up to every append (close() may sync once more, with no new batches).
  metrics::Histogram::Snapshot latency = flusher.metrics().fsync_latency_ns.snapshot();
  metrics::Histogram::Snapshot batches = flusher.metrics().batches_per_flush.snapshot();
  EXPECT_GE(latency.count, stats.data_syncs);
  EXPECT_GT(latency.sum, 0u);
  EXPECT_EQ(batches.sum, static_cast<uint64_t>(kAppends));
  EXPECT_LT(batches.count, static_cast<uint64_t>(kAppends));
  std::filesystem::remove_all(dir);
}

TEST(Flusher, DataWithoutWaitersIsFlushedWithinTheInterval) {
  testing::FaultIo io;
  Flusher flusher(1);
  LogConfig config;
  config.flush_interval_ms = 20;
  auto log = open_log(io, flusher, "/d", config);
  ASSERT_TRUE(append_copy(*log, batch(500)).ok());
  EXPECT_TRUE(eventually([&] { return log->durable_offset() == log->log_end_offset(); }));
  ASSERT_TRUE(log->close().ok());
}

TEST(Flusher, FlushBytesTriggersASyncWithoutWaiters) {
  testing::FaultIo io;
  Flusher flusher(1);
  LogConfig config;
  config.flush_interval_ms = 3600 * 1000;
  config.flush_bytes = 8 * 1024;
  auto log = open_log(io, flusher, "/d", config);
  ASSERT_TRUE(append_copy(*log, batch(1000)).ok());
  ASSERT_TRUE(append_copy(*log, batch(10000)).ok());
  EXPECT_TRUE(eventually([&] { return log->durable_offset() == log->log_end_offset(); }));
  ASSERT_TRUE(log->close().ok());
}

TEST(Flusher, FailedFsyncFailsTheLogForGoodAndIsNeverAcknowledged) {
  testing::FaultIo io;
  Flusher flusher(1);
  auto log = open_log(io, flusher, "/d");
  auto first = batch(1000);
  auto r1 = log->append(first);
  ASSERT_TRUE(r1.ok());
  ASSERT_TRUE(log->flush().ok());
  Offset durable = log->durable_offset();
  io.fail_syncs_after(0);
  auto second = batch(1000, 2);
  auto r2 = log->append(second);
  ASSERT_TRUE(r2.ok());
  std::promise<Status> promise;
  log->wait_durable(r2->last_offset, [&](Status s) { promise.set_value(s); });
  EXPECT_EQ(promise.get_future().get().code(), StatusCode::io_error);
  io.clear_sync_failure();  // the disk "recovers": the log must still refuse
  EXPECT_EQ(log->health().code(), StatusCode::io_error);
  EXPECT_EQ(log->durable_offset(), durable);
  auto third = batch(1000, 3);
  EXPECT_EQ(log->append(third).status().code(), StatusCode::io_error);
  bool told = false;
  log->wait_durable(r2->last_offset, [&](Status s) { told = s.code() == StatusCode::io_error; });
  EXPECT_TRUE(told);
  EXPECT_FALSE(log->flush().ok());
  EXPECT_FALSE(log->close().ok());  // and no clean-shutdown marker
  EXPECT_FALSE(*io.exists("/d/clean_shutdown"));
}

}  // namespace
}  // namespace cairn::storage
