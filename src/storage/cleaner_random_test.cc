// Compaction against a model, and crash injection.
//
// RandomCompaction: random keyed appends (values and tombstones), clock moves, rolls, whole
// and incremental clean runs with small key maps, clean reopens and power losses, checking
// after each step that (1) every record in the log is the one appended at its offset,
// (2) each key's newest appended record is there, unless it is a tombstone that a run removed
// after delete.retention.ms (and then no older record of the key is left), and (3) no
// tombstone went before delete.retention.ms. Prints its seed; CAIRN_SEED / CAIRN_STEPS replay.
//
// CleanerCrash: kills the process (every later Io call fails, then power loss) at each Io
// step of a clean run in turn — every file create, write, fsync, rename, removal and directory
// fsync — and checks that the reopened log is healthy and holds exactly the old or exactly the
// new record set; then kills the recovering open at each of its Io steps too, when the first
// crash left a committed swap to finish. A last pass fails just one Io call and goes on.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <random>

#include "storage/log.h"
#include "testing/fake_clock.h"
#include "testing/fault_io.h"
#include "testing/log_helpers.h"

namespace cairn::storage {
namespace {

using testing::KeyedRecord;
using testing::LogRecord;

const std::string kDir = "/data/compacted-0";

uint64_t env_or(const char* name, uint64_t fallback) {
  const char* value = std::getenv(name);
  return value != nullptr ? std::strtoull(value, nullptr, 10) : fallback;
}

std::unique_ptr<Log> open_log(Io& io, Clock& clock, const LogConfig& config) {
  LogOptions options;
  options.dir = kDir;
  options.io = &io;
  options.clock = &clock;
  options.config = config;
  auto log = Log::open(options);
  EXPECT_TRUE(log.ok()) << log.status().to_string();
  if (!log.ok()) return nullptr;
  EXPECT_TRUE((*log)->health().ok()) << (*log)->health().to_string();
  return std::move(log.value());
}

std::vector<LogRecord> all_records(Log& log) {
  auto read = testing::read_records(log, log.log_start_offset(), log.log_end_offset());
  EXPECT_TRUE(read.ok()) << read.status().to_string();
  return read.ok() ? *read : std::vector<LogRecord>();
}

struct Appended {
  LogRecord record;
  int64_t timestamp_ms;
};

class RandomCompaction {
 public:
  explicit RandomCompaction(uint64_t seed) : rng_(seed) {}

  void run(int steps) {
    config_.cleanup_compact = true;
    config_.cleanup_delete = false;
    config_.segment_bytes = 1024 + rng_() % 4096;
    config_.index_interval_bytes = 64 + rng_() % 512;
    config_.min_cleanable_dirty_ratio = static_cast<double>(rng_() % 80) / 100;
    config_.delete_retention_ms = 1000 + static_cast<int64_t>(rng_() % 20'000);
    config_.min_compaction_lag_ms = rng_() % 3 == 0 ? 2000 : 0;
    log_ = open_log(io_, clock_, config_);
    ASSERT_NE(log_, nullptr);
    for (int step = 0; step < steps && !::testing::Test::HasFatalFailure(); step++) {
      int op = static_cast<int>(rng_() % 100);
      if (op < 55) {
        append();
      } else if (op < 65) {
        clock_.advance_ms(static_cast<int64_t>(rng_() % 3000));
      } else if (op < 72) {
        ASSERT_TRUE(log_->roll().ok());
      } else if (op < 84) {
        clean();
      } else if (op < 90) {
        clean_incrementally();
      } else if (op < 95) {
        reopen(/*crash=*/false);
      } else {
        reopen(/*crash=*/true);
      }
      check();
    }
    add_stats();
    std::printf("runs %llu, records removed %llu, tombstones expired %d\n",
                static_cast<unsigned long long>(runs_),
                static_cast<unsigned long long>(records_removed_), tombstones_expired());
  }

 private:
  // Keys whose newest record, a tombstone, is gone from the log.
  int tombstones_expired() {
    std::map<std::string, bool> present;
    for (const auto& record : all_records(*log_)) present[*record.key] = true;
    std::map<std::string, Appended> newest;
    for (const auto& [offset, appended] : appended_) newest[*appended.record.key] = appended;
    int count = 0;
    for (const auto& [key, appended] : newest) count += present.count(key) == 0;
    return count;
  }

  void append() {
    std::vector<KeyedRecord> records(1 + rng_() % 4);
    for (auto& record : records) {
      record.key = "key" + std::to_string(rng_() % 40);
      if (rng_() % 8 != 0) record.value = "value" + std::to_string(rng_() % 1000);
    }
    testing::BatchSpec spec;
    spec.base_timestamp = TimestampMs(clock_.now_ms());
    spec.timestamp_step_ms = 0;
    auto batch = testing::build_keyed_batch(records, spec);
    auto appended = log_->append(batch);
    ASSERT_TRUE(appended.ok()) << appended.status().to_string();
    for (size_t i = 0; i < records.size(); i++) {
      Offset offset(appended->base_offset.value() + static_cast<int64_t>(i));
      appended_[offset.value()] =
          Appended{LogRecord{offset, records[i].key, records[i].value}, clock_.now_ms()};
    }
  }

  CleanOptions options() {
    CleanOptions options;
    options.force = rng_() % 2 == 0;
    if (rng_() % 3 == 0) options.key_map_bytes = 64 * 24;
    return options;
  }

  void clean() {
    ASSERT_TRUE(log_->flush().ok());
    auto cleaned = log_->clean(options());
    ASSERT_TRUE(cleaned.ok()) << cleaned.status().to_string();
  }

  void clean_incrementally() {
    ASSERT_TRUE(log_->flush().ok());
    auto started = log_->start_clean(options());
    ASSERT_TRUE(started.ok()) << started.status().to_string();
    while (log_->cleaning()) {
      auto more = log_->clean_step(1 + rng_() % 2048);
      ASSERT_TRUE(more.ok()) << more.status().to_string();
      check();  // reads between steps see the old set
      if (rng_() % 4 == 0) append();
    }
  }

  void add_stats() {
    runs_ += log_->cleaner_stats().runs;
    records_removed_ += log_->cleaner_stats().records_removed;
  }

  void reopen(bool crash) {
    ASSERT_TRUE(log_->flush().ok());  // the model holds durable data only
    add_stats();
    if (crash) {
      log_.reset();
      io_.power_loss(rng_(), /*torn=*/true);
    } else {
      ASSERT_TRUE(log_->close().ok());
      log_.reset();
    }
    log_ = open_log(io_, clock_, config_);
    ASSERT_NE(log_, nullptr);
  }

  void check() {
    auto records = all_records(*log_);
    std::map<std::string, LogRecord> newest_in_log;
    for (const auto& record : records) {
      auto it = appended_.find(record.offset.value());
      ASSERT_NE(it, appended_.end()) << record.offset.value();
      ASSERT_EQ(it->second.record, record) << "offset " << record.offset.value();
      newest_in_log[*record.key] = record;
    }
    std::map<std::string, Appended> newest_appended;
    for (const auto& [offset, appended] : appended_) {
      newest_appended[*appended.record.key] = appended;
    }
    for (const auto& [key, appended] : newest_appended) {
      auto it = newest_in_log.find(key);
      if (it != newest_in_log.end()) {
        ASSERT_EQ(it->second, appended.record) << key << ": an older record outlived the newest";
        continue;
      }
      ASSERT_FALSE(appended.record.value.has_value()) << key << ": newest value lost";
      ASSERT_GE(clock_.now_ms() - appended.timestamp_ms, config_.delete_retention_ms)
          << key << ": tombstone removed before delete.retention.ms";
    }
  }

  std::mt19937_64 rng_;
  testing::FaultIo io_;
  testing::FakeClock clock_;
  LogConfig config_;
  std::unique_ptr<Log> log_;
  std::map<int64_t, Appended> appended_;
  uint64_t runs_ = 0;
  uint64_t records_removed_ = 0;
};

TEST(RandomCompaction, MatchesTheModel) {
  uint64_t seed = env_or("CAIRN_SEED", std::random_device()());
  int steps = static_cast<int>(env_or("CAIRN_STEPS", 1500));
  std::printf("RandomCompaction seed %llu steps %d\n", static_cast<unsigned long long>(seed),
              steps);
  for (uint64_t round = 0; round < 4 && !::testing::Test::HasFatalFailure(); round++) {
    RandomCompaction(seed + round).run(steps);
  }
}

// An Io that counts the calls that change something and, once armed, fails the n-th one and
// (mode kill) every one after it, as if the process had died there.
class CrashIo final : public Io {
 public:
  enum class Mode { kill, fail_once };
  explicit CrashIo(Io& target) : target_(target) {}

  void arm(int64_t calls_before_failure, Mode mode) {
    left_ = calls_before_failure;
    mode_ = mode;
    tripped_ = false;
  }
  void disarm() { left_ = -1; }
  bool tripped() const { return tripped_; }

  // ok, or the injected failure.
  Status step(const char* what) {
    if (mode_ == Mode::kill && tripped_) return error(StatusCode::io_error, "dead");
    if (left_ < 0) return Status();
    if (left_-- > 0) return Status();
    tripped_ = true;
    left_ = -1;
    return error(StatusCode::io_error, std::string("injected failure: ") + what);
  }

  Result<std::shared_ptr<File>> open(const std::string& path, OpenMode mode) override;
  Result<std::vector<std::string>> list_dir(const std::string& dir) override {
    return target_.list_dir(dir);
  }
  Status make_dirs(const std::string& dir) override {
    RETURN_IF_ERROR(step("make_dirs"));
    return target_.make_dirs(dir);
  }
  Status remove(const std::string& path) override {
    RETURN_IF_ERROR(step("remove"));
    return target_.remove(path);
  }
  Status remove_dir(const std::string& dir) override {
    RETURN_IF_ERROR(step("remove_dir"));
    return target_.remove_dir(dir);
  }
  Status rename(const std::string& source, const std::string& target) override {
    RETURN_IF_ERROR(step("rename"));
    return target_.rename(source, target);
  }
  Status sync_dir(const std::string& dir) override {
    RETURN_IF_ERROR(step("sync_dir"));
    return target_.sync_dir(dir);
  }
  Result<bool> exists(const std::string& path) override { return target_.exists(path); }

 private:
  Io& target_;
  int64_t left_ = -1;
  Mode mode_ = Mode::kill;
  bool tripped_ = false;
};

class CrashFile final : public File {
 public:
  CrashFile(CrashIo& io, std::shared_ptr<File> file) : io_(io), file_(std::move(file)) {}
  Result<size_t> read_at(uint64_t position, std::span<uint8_t> out) override {
    return file_->read_at(position, out);
  }
  Status write_at(uint64_t position, std::span<const uint8_t> data) override {
    RETURN_IF_ERROR(io_.step("write"));
    return file_->write_at(position, data);
  }
  Status sync() override {
    RETURN_IF_ERROR(io_.step("fsync"));
    return file_->sync();
  }
  Result<uint64_t> size_bytes() override { return file_->size_bytes(); }
  Status truncate(uint64_t size_bytes) override {
    RETURN_IF_ERROR(io_.step("truncate"));
    return file_->truncate(size_bytes);
  }
  int fd() const override { return file_->fd(); }

 private:
  CrashIo& io_;
  std::shared_ptr<File> file_;
};

Result<std::shared_ptr<File>> CrashIo::open(const std::string& path, OpenMode mode) {
  RETURN_IF_ERROR(step("open"));
  auto file = target_.open(path, mode);
  if (!file.ok()) return file.status();
  return std::shared_ptr<File>(std::make_shared<CrashFile>(*this, std::move(file.value())));
}

LogConfig crash_config() {
  LogConfig config;
  config.cleanup_compact = true;
  config.cleanup_delete = false;
  config.segment_bytes = 1024;
  config.index_interval_bytes = 100;
  config.delete_retention_ms = 0;  // tombstones covered by an earlier run go at once
  return config;
}

// Two clean runs' worth of history: the crash hits the second run, which also removes a
// tombstone (so a mix of old and new segments could resurrect an older value).
std::unique_ptr<Log> prepare(Io& io, testing::FakeClock& clock) {
  auto log = open_log(io, clock, crash_config());
  if (log == nullptr) return nullptr;
  std::mt19937_64 rng(42);
  auto put = [&](int count) {
    for (int i = 0; i < count; i++) {
      std::vector<KeyedRecord> records(1 + rng() % 3);
      for (auto& record : records) {
        record.key = "key" + std::to_string(rng() % 12);
        if (rng() % 6 != 0) record.value = "value" + std::to_string(i);
      }
      testing::BatchSpec spec;
      spec.base_timestamp = TimestampMs(clock.now_ms());
      auto batch = testing::build_keyed_batch(records, spec);
      EXPECT_TRUE(log->append(batch).ok());
    }
    EXPECT_TRUE(log->roll().ok());
    EXPECT_TRUE(log->flush().ok());
  };
  put(40);
  CleanOptions force;
  force.force = true;
  EXPECT_TRUE(log->clean(force).ok());
  clock.advance_ms(1000);
  put(40);
  return log;
}

CleanOptions crash_clean_options() {
  CleanOptions options;
  options.force = true;
  return options;
}

void expect_no_leftovers(testing::FaultIo& io) {
  auto names = io.list_dir(kDir);
  ASSERT_TRUE(names.ok());
  for (const auto& name : *names) {
    EXPECT_EQ(name.find(".cleaned"), std::string::npos) << name;
    EXPECT_EQ(name.find("cleaner.swap"), std::string::npos) << name;
  }
}

TEST(CleanerCrash, EveryIoStepLeavesTheOldOrTheNewSet) {
  // The reference: old and new record sets without a crash.
  std::vector<LogRecord> old_set;
  std::vector<LogRecord> new_set;
  {
    testing::FaultIo io;
    testing::FakeClock clock;
    auto log = prepare(io, clock);
    old_set = all_records(*log);
    ASSERT_TRUE(log->clean(crash_clean_options()).ok());
    new_set = all_records(*log);
    ASSERT_LT(new_set.size(), old_set.size());
  }
  int crashes = 0;
  int old_seen = 0;
  int new_seen = 0;
  for (int64_t point = 0; point < 10'000; point++) {
    testing::FaultIo io;
    testing::FakeClock clock;
    CrashIo crash_io(io);
    auto log = prepare(crash_io, clock);
    ASSERT_NE(log, nullptr);
    crash_io.arm(point, CrashIo::Mode::kill);
    auto started = log->start_clean(crash_clean_options());
    while (started.ok() && *started && log->cleaning()) {
      if (!log->clean_step(100).ok()) break;
    }
    if (!crash_io.tripped()) {
      EXPECT_EQ(all_records(*log), new_set);
      break;  // the run finished before this point: every step was covered
    }
    crashes++;
    log.reset();
    io.power_loss(static_cast<uint64_t>(point), /*torn=*/point % 2 == 0);
    auto reopened = open_log(io, clock, crash_config());
    ASSERT_NE(reopened, nullptr) << "crash point " << point;
    auto records = all_records(*reopened);
    bool is_old = records == old_set;
    bool is_new = records == new_set;
    ASSERT_TRUE(is_old || is_new) << "crash point " << point << ": a mix of old and new";
    old_seen += is_old;
    new_seen += is_new;
    expect_no_leftovers(io);
    // And the log cleans again from there to the same result.
    ASSERT_TRUE(reopened->clean(crash_clean_options()).ok());
    ASSERT_EQ(all_records(*reopened), new_set) << "crash point " << point;
  }
  std::printf("crash points %d: old set %d, new set %d\n", crashes, old_seen, new_seen);
  EXPECT_GT(crashes, 20);
  EXPECT_GT(old_seen, 0);
  EXPECT_GT(new_seen, 0);
}

// Crashes the clean at `point`, then the open that recovers at `recovery_point` (if the first
// crash left a committed swap to finish), then opens for good. Returns the open log, or null
// when the clean finished before `point`; *swap_pending says whether there was a swap to
// finish.
std::unique_ptr<Log> crash_twice(testing::FaultIo& io, testing::FakeClock& clock, int64_t point,
                                 int64_t recovery_point, bool* swap_pending, bool* recovery_done) {
  CrashIo crash_io(io);
  auto log = prepare(crash_io, clock);
  crash_io.arm(point, CrashIo::Mode::kill);
  EXPECT_TRUE(log->clean(crash_clean_options()).ok() || crash_io.tripped());
  if (!crash_io.tripped()) return nullptr;
  log.reset();
  io.power_loss(static_cast<uint64_t>(point), /*torn=*/false);
  *swap_pending = *io.exists(kDir + "/" + format::kCleanerSwapName);
  *recovery_done = true;
  if (*swap_pending) {
    CrashIo recovery_io(io);
    recovery_io.arm(recovery_point, CrashIo::Mode::kill);
    LogOptions options;
    options.dir = kDir;
    options.io = &recovery_io;
    options.clock = &clock;
    options.config = crash_config();
    {
      auto recovering = Log::open(options);  // dropped before the power loss
    }
    *recovery_done = !recovery_io.tripped();
    io.power_loss(static_cast<uint64_t>(recovery_point), /*torn=*/false);
  }
  return open_log(io, clock, crash_config());
}

TEST(CleanerCrash, ACrashDuringRecoveryStillFinishesTheSwap) {
  std::vector<LogRecord> new_set;
  {
    testing::FaultIo io;
    testing::FakeClock clock;
    auto log = prepare(io, clock);
    ASSERT_TRUE(log->clean(crash_clean_options()).ok());
    new_set = all_records(*log);
  }
  int double_crashes = 0;
  for (int64_t point = 0; point < 10'000; point++) {
    bool swap_pending = false;
    bool clean_finished = true;
    for (int64_t recovery_point = 0; recovery_point < 1000; recovery_point++) {
      testing::FaultIo io;
      testing::FakeClock clock;
      bool recovery_done = false;
      auto log = crash_twice(io, clock, point, recovery_point, &swap_pending, &recovery_done);
      if (log == nullptr && !recovery_done) {
        clean_finished = true;
        break;
      }
      clean_finished = false;
      ASSERT_NE(log, nullptr) << point << "/" << recovery_point;
      if (!swap_pending) break;  // covered by EveryIoStepLeavesTheOldOrTheNewSet
      ASSERT_EQ(all_records(*log), new_set) << "crash " << point << ", then " << recovery_point;
      expect_no_leftovers(io);
      if (recovery_done) break;
      double_crashes++;
    }
    if (clean_finished) break;
  }
  std::printf("crashes during recovery: %d\n", double_crashes);
  EXPECT_GT(double_crashes, 5);
}

TEST(CleanerCrash, OneFailedIoCallAbortsTheRunOrFailsTheLogUntilReopen) {
  std::vector<LogRecord> old_set;
  std::vector<LogRecord> new_set;
  {
    testing::FaultIo io;
    testing::FakeClock clock;
    auto log = prepare(io, clock);
    old_set = all_records(*log);
    ASSERT_TRUE(log->clean(crash_clean_options()).ok());
    new_set = all_records(*log);
  }
  for (int64_t point = 0; point < 10'000; point++) {
    testing::FaultIo io;
    testing::FakeClock clock;
    CrashIo crash_io(io);
    auto log = prepare(crash_io, clock);
    SCOPED_TRACE("failed call " + std::to_string(point));
    crash_io.arm(point, CrashIo::Mode::fail_once);
    auto cleaned = log->clean(crash_clean_options());
    if (!crash_io.tripped()) break;
    ASSERT_FALSE(cleaned.ok()) << point;
    ASSERT_FALSE(log->cleaning());
    if (log->health().ok()) {
      // Failed before the commit point: the run was dropped, the old set serves on, and the
      // next run succeeds.
      ASSERT_EQ(all_records(*log), old_set) << point;
      expect_no_leftovers(io);
      ASSERT_TRUE(log->clean(crash_clean_options()).ok()) << point;
      ASSERT_EQ(all_records(*log), new_set) << point;
      continue;
    }
    // Failed at or after it: the log refuses service until reopened, and the reopen finishes
    // the swap (or rolls it back when the commit rename itself failed).
    ASSERT_EQ(log->health().code(), StatusCode::io_error);
    log.reset();
    auto reopened = open_log(io, clock, crash_config());
    ASSERT_NE(reopened, nullptr);
    auto records = all_records(*reopened);
    ASSERT_TRUE(records == new_set || records == old_set) << point;
    expect_no_leftovers(io);
  }
}

}  // namespace
}  // namespace cairn::storage
