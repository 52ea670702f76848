// Unit tests of Log: append, reads (offset, time, headers), roll, retention, DeleteRecords,
// clean reopen. Most run on testing::FaultIo; one on the real file system.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

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

class LogTest : public ::testing::Test {
 protected:
  std::unique_ptr<Log> open_log(LogConfig config = {}) {
    LogOptions options;
    options.dir = "/data/topic-0";
    options.config = config;
    options.io = &io_;
    options.clock = &clock_;
    auto log = Log::open(options);
    EXPECT_TRUE(log.ok()) << log.status().to_string();
    return log.ok() ? std::move(log.value()) : nullptr;
  }
  std::vector<uint8_t> batch(int records, size_t value_bytes, int64_t timestamp = 1000) {
    BatchSpec spec;
    spec.record_count = records;
    spec.value_bytes = value_bytes;
    spec.base_timestamp = TimestampMs(timestamp);
    spec.seed = seed_++;
    return build_batch(spec);
  }

  testing::FaultIo io_;
  testing::FakeClock clock_;
  uint64_t seed_ = 1;
};

// The POSIX file keeps no path of its own (memory per partition) but its errors still name
// the file.
TEST(PosixIo, FileErrorsNameTheFile) {
  std::string dir = ::testing::TempDir() + "cairn-posix-io-" + std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  std::string path = dir + "/segment.log";
  auto created = posix_io().open(path, OpenMode::create_truncate);
  ASSERT_TRUE(created.ok()) << created.status().to_string();
  auto file = posix_io().open(path, OpenMode::read_only);
  ASSERT_TRUE(file.ok()) << file.status().to_string();
  uint8_t byte = 1;
  Status status = (*file)->write_at(0, std::span<const uint8_t>(&byte, 1));
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.message().find("pwrite " + std::filesystem::canonical(path).string()),
            std::string::npos)
      << status.message();
  std::filesystem::remove_all(dir);
}

TEST_F(LogTest, AppendAssignsOffsetsAndReadsReturnTheStampedBytes) {
  auto log = open_log();
  std::vector<std::vector<uint8_t>> written;
  for (int i = 0; i < 5; i++) {
    auto bytes = append_copy(*log, batch(3, 50));
    ASSERT_TRUE(bytes.ok());
    written.push_back(*bytes);
  }
  EXPECT_EQ(log->log_end_offset(), Offset(15));
  EXPECT_EQ(log->log_start_offset(), Offset(0));
  auto read = read_batches(*log, Offset(0), log->log_end_offset(), 1 << 20);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(*read, written);
  auto view = model::RecordBatchView::parse((*read)[2]);
  EXPECT_EQ(view->base_offset(), Offset(6));
  EXPECT_TRUE(view->crc_ok());
}

TEST_F(LogTest, AppendRejectsBadBatches) {
  auto log = open_log();
  auto good = batch(1, 10);
  auto bad_crc = good;
  bad_crc.back() ^= 1;
  EXPECT_EQ(log->append(bad_crc).status().code(), StatusCode::corrupt);
  auto extra = good;
  extra.push_back(0);
  EXPECT_EQ(log->append(extra).status().code(), StatusCode::invalid_argument);
  std::vector<uint8_t> tiny(10);
  EXPECT_FALSE(log->append(tiny).ok());
  EXPECT_EQ(log->log_end_offset(), Offset(0));
  EXPECT_TRUE(log->append(good).ok());
}

TEST_F(LogTest, ReadReturnsWholeBatchesWithinMaxBytesButAlwaysTheFirst) {
  auto log = open_log();
  for (int i = 0; i < 4; i++) ASSERT_TRUE(append_copy(*log, batch(2, 1000)).ok());
  auto one = log->read(Offset(0), 10, log->log_end_offset());  // KIP-74: first batch whole
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->batch_count, 1u);
  EXPECT_GT(one->size_bytes, 10u);
  auto two = log->read(Offset(0), one->size_bytes * 2 + 1, log->log_end_offset());
  EXPECT_EQ(two->batch_count, 2u);
  EXPECT_EQ(two->ranges.size(), 1u);  // adjacent batches merge into one range
  EXPECT_EQ(two->next_offset, Offset(4));
  auto middle = log->read(Offset(3), 1 << 20, log->log_end_offset());  // inside batch [2,3]
  EXPECT_EQ(middle->first_offset, Offset(2));
  EXPECT_EQ(middle->batch_count, 3u);
}

TEST_F(LogTest, ReadNeverPassesMaxOffset) {
  auto log = open_log();
  for (int i = 0; i < 4; i++) ASSERT_TRUE(append_copy(*log, batch(2, 10)).ok());
  auto read = log->read(Offset(0), 1 << 20, Offset(4));
  EXPECT_EQ(read->batch_count, 2u);
  EXPECT_EQ(read->next_offset, Offset(4));
  auto none = log->read(Offset(4), 1 << 20, Offset(4));
  EXPECT_TRUE(none->empty());
  auto partial = log->read(Offset(0), 1 << 20, Offset(3));  // batch [2,3] is not all visible
  EXPECT_EQ(partial->batch_count, 1u);
  EXPECT_EQ(log->read(Offset(9), 1, Offset(100)).status().code(), StatusCode::out_of_range);
  EXPECT_TRUE(log->read(Offset(8), 1, Offset(100))->empty());
}

TEST_F(LogTest, RollsBySizeAndReadsAcrossSegments) {
  LogConfig config;
  config.segment_bytes = 4096;
  config.index_interval_bytes = 512;
  auto log = open_log(config);
  std::vector<std::vector<uint8_t>> written;
  for (int i = 0; i < 100; i++) written.push_back(*append_copy(*log, batch(1, 200)));
  EXPECT_GT(log->info().segment_count, 5u);
  for (uint64_t max_bytes : {1ull, 1000ull, 5000ull, 1ull << 20}) {
    auto read = read_batches(*log, Offset(0), log->log_end_offset(), max_bytes);
    ASSERT_TRUE(read.ok());
    EXPECT_EQ(*read, written) << max_bytes;
  }
  for (int64_t offset = 0; offset < 100; offset += 7) {
    auto read = log->read(Offset(offset), 1, log->log_end_offset());
    EXPECT_EQ(read->first_offset, Offset(offset));
  }
}

TEST_F(LogTest, RollsByAge) {
  LogConfig config;
  config.segment_ms = 1000;
  auto log = open_log(config);
  ASSERT_TRUE(append_copy(*log, batch(1, 10)).ok());
  ASSERT_TRUE(append_copy(*log, batch(1, 10)).ok());
  EXPECT_EQ(log->info().segment_count, 1u);
  clock_.advance_ms(1000);
  ASSERT_TRUE(append_copy(*log, batch(1, 10)).ok());
  EXPECT_EQ(log->info().segment_count, 2u);
}

TEST_F(LogTest, OffsetForTimestampFindsTheFirstBatchReachingIt) {
  LogConfig config;
  config.segment_bytes = 2048;
  config.index_interval_bytes = 256;
  auto log = open_log(config);
  for (int i = 0; i < 50; i++) ASSERT_TRUE(append_copy(*log, batch(2, 100, 1000 + i * 10)).ok());
  // Batch i holds timestamps 1000 + 10i and 1001 + 10i, offsets 2i and 2i+1.
  EXPECT_EQ(*log->offset_for_timestamp(TimestampMs(0)), Offset(0));
  EXPECT_EQ(*log->offset_for_timestamp(TimestampMs(1001)), Offset(0));
  EXPECT_EQ(*log->offset_for_timestamp(TimestampMs(1002)), Offset(2));
  EXPECT_EQ(*log->offset_for_timestamp(TimestampMs(1250)), Offset(50));
  EXPECT_EQ(*log->offset_for_timestamp(TimestampMs(1491)), Offset(98));
  EXPECT_FALSE(log->offset_for_timestamp(TimestampMs(1492))->has_value());
}

TEST_F(LogTest, ScanHeadersVisitsProducerFieldsInOrder) {
  auto log = open_log();
  for (int i = 0; i < 5; i++) {
    BatchSpec spec;
    spec.record_count = 2;
    spec.producer_id = ProducerId(7);
    spec.producer_epoch = ProducerEpoch(1);
    spec.base_sequence = Sequence(i * 2);
    ASSERT_TRUE(append_copy(*log, build_batch(spec)).ok());
  }
  std::vector<int32_t> sequences;
  ASSERT_TRUE(log->scan_headers(Offset(3),
                                [&](const BatchHeader& h) {
                                  EXPECT_EQ(h.producer_id, ProducerId(7));
                                  EXPECT_EQ(h.last_offset_delta, 1);
                                  sequences.push_back(h.base_sequence.value());
                                  return true;
                                })
                  .ok());
  EXPECT_EQ(sequences, (std::vector<int32_t>{2, 4, 6, 8}));
}

TEST_F(LogTest, RetentionBytesDeletesWholeOldSegments) {
  LogConfig config;
  config.segment_bytes = 4096;
  config.retention_bytes = 10000;
  config.retention_ms = -1;
  auto log = open_log(config);
  for (int i = 0; i < 100; i++) ASSERT_TRUE(append_copy(*log, batch(1, 300)).ok());
  ASSERT_TRUE(log->flush().ok());  // retention waits for segments to be durable
  uint64_t before = log->info().size_bytes;
  auto deleted = log->apply_retention();
  ASSERT_TRUE(deleted.ok());
  EXPECT_GT(*deleted, 0u);
  EXPECT_GE(log->info().size_bytes, 10000u);
  EXPECT_LT(log->info().size_bytes, before);
  EXPECT_GT(log->log_start_offset(), Offset(0));
  EXPECT_EQ(log->read(Offset(0), 1, log->log_end_offset()).status().code(),
            StatusCode::out_of_range);
  auto read = read_batches(*log, log->log_start_offset(), log->log_end_offset(), 1 << 20);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(static_cast<int64_t>(read->size()),
            log->log_end_offset().value() - log->log_start_offset().value());
}

TEST_F(LogTest, RetentionTimeUsesTheNewestTimestampOfASegment) {
  LogConfig config;
  config.segment_bytes = 2048;
  config.retention_ms = 60'000;
  auto log = open_log(config);
  int64_t now = clock_.now_ms();
  for (int i = 0; i < 20; i++) ASSERT_TRUE(append_copy(*log, batch(1, 300, now - 120'000)).ok());
  for (int i = 0; i < 20; i++) ASSERT_TRUE(append_copy(*log, batch(1, 300, now)).ok());
  ASSERT_TRUE(log->flush().ok());
  auto deleted = log->apply_retention();
  ASSERT_TRUE(deleted.ok());
  EXPECT_GT(*deleted, 0u);
  // Every remaining batch but those sharing a segment with a new one is new.
  EXPECT_LE(log->log_start_offset(), Offset(20));
  EXPECT_GE(log->log_start_offset(), Offset(14));
}

TEST_F(LogTest, DeletePrefixMovesTheStartAndSurvivesReopen) {
  LogConfig config;
  config.segment_bytes = 2048;
  {
    auto log = open_log(config);
    for (int i = 0; i < 30; i++) ASSERT_TRUE(append_copy(*log, batch(1, 300)).ok());
    ASSERT_TRUE(log->flush().ok());
    ASSERT_TRUE(log->delete_prefix(Offset(17)).ok());
    EXPECT_EQ(log->log_start_offset(), Offset(17));
    EXPECT_EQ(log->read(Offset(16), 1, Offset(30)).status().code(), StatusCode::out_of_range);
    EXPECT_TRUE(log->read(Offset(17), 1, Offset(30)).ok());
    EXPECT_EQ(log->delete_prefix(Offset(31)).code(), StatusCode::out_of_range);
    ASSERT_TRUE(log->flush().ok());
  }  // no close: the start offset must come back from partition.meta
  io_.power_loss(1, false);
  auto log = open_log(config);
  EXPECT_EQ(log->log_start_offset(), Offset(17));
  EXPECT_EQ(log->log_end_offset(), Offset(30));
}

TEST_F(LogTest, CleanReopenReadsOnlyHeadersNotData) {
  LogConfig config;
  config.segment_bytes = 64 * 1024;
  {
    auto log = open_log(config);
    for (int i = 0; i < 400; i++) ASSERT_TRUE(append_copy(*log, batch(4, 1000)).ok());
    ASSERT_TRUE(log->close().ok());
  }
  uint64_t segments = 0;
  auto names = io_.list_dir("/data/topic-0");
  for (const auto& name : *names) {
    segments += name.ends_with(".log");
  }
  ASSERT_GT(segments, 20u);
  io_.reset_counters();
  auto log = open_log(config);
  EXPECT_TRUE(log->info().opened_clean);
  EXPECT_EQ(log->info().recovery_scanned_bytes, 0u);
  // Two 48-byte index headers per segment and two 20-byte records: O(segments), not O(data).
  EXPECT_LE(io_.bytes_read(), segments * 2 * format::kIndexHeaderBytes + 40);
  EXPECT_EQ(log->log_end_offset(), Offset(1600));
  auto read = read_batches(*log, Offset(0), log->log_end_offset(), 1 << 20);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->size(), 400u);
}

TEST_F(LogTest, WorksOnTheRealFileSystemWithFileDescriptors) {
  std::string dir =
      std::filesystem::temp_directory_path() / ("cairn-log-test-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::vector<uint8_t> written;
  {
    LogOptions options;
    options.dir = dir;
    auto log = Log::open(options);
    ASSERT_TRUE(log.ok()) << log.status().to_string();
    written = *append_copy(**log, batch(3, 500));
    ASSERT_TRUE((*log)->close().ok());
  }
  LogOptions options;
  options.dir = dir;
  auto log = Log::open(options);
  ASSERT_TRUE(log.ok());
  EXPECT_TRUE((*log)->info().opened_clean);
  auto read = (*log)->read(Offset(0), 1 << 20, (*log)->log_end_offset());
  ASSERT_EQ(read->ranges.size(), 1u);
  std::vector<uint8_t> bytes(read->ranges[0].size_bytes);
  ASSERT_EQ(::pread(read->ranges[0].fd(), bytes.data(), bytes.size(),
                    static_cast<off_t>(read->ranges[0].position)),
            static_cast<ssize_t>(bytes.size()));
  EXPECT_EQ(bytes, written);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace cairn::storage
