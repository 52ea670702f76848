// storage_bench: the storage engine against the disk it runs on, in one bounded run.
//  1. raw: sequential write(2) of N-byte chunks + fdatasync after each, on a plain file
//  2. durable append: Log::append + wait_durable (group-committed fdatasync by a Flusher) for
//     16 KiB / 64 KiB / 1 MiB batches across 1 and 16 partitions, one appending thread (a
//     shard) keeping a window of unacknowledged batches per partition, as acks=all producers do
//  3. read from the page cache: Log::read + copy (buffers) and Log::read + sendfile(2)
//  4. open time of a big log after a clean stop and after a kill (no power loss)
// Prints a Markdown section ("## Storage engine") to stdout. Plain timed main, no framework.
#include <fcntl.h>
#include <sys/sendfile.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

#include "storage/flusher.h"
#include "storage/log.h"
#include "testing/batch_builder.h"

namespace {

using namespace cairn;
using namespace cairn::storage;
using Clock = std::chrono::steady_clock;

void check(const Status& status, const char* what) {
  if (status.ok()) return;
  std::fprintf(stderr, "storage_bench: %s: %s\n", what, status.to_string().c_str());
  std::abort();
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

struct Options {
  std::string dir = "build/storage-bench-data";
  double seconds_per_case = 3.0;
  uint64_t open_test_bytes = 10ull << 30;
};

// write + fdatasync per chunk, for `seconds`. MB/s (10^6 B).
double raw_write_sync(const std::string& dir, size_t chunk_bytes, double seconds) {
  std::string path = dir + "/raw.bin";
  int fd = ::open(path.c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644);
  if (fd < 0) std::abort();
  std::vector<uint8_t> chunk(chunk_bytes, 0x5a);
  uint64_t written = 0;
  auto start = Clock::now();
  while (seconds_since(start) < seconds) {
    if (::write(fd, chunk.data(), chunk.size()) != static_cast<ssize_t>(chunk.size())) std::abort();
    if (::fdatasync(fd) != 0) std::abort();
    written += chunk.size();
  }
  double elapsed = seconds_since(start);
  ::close(fd);
  ::unlink(path.c_str());
  return static_cast<double>(written) / elapsed / 1e6;
}

// The disk's streaming ceiling: 1 MiB writes, one fdatasync per 64 MiB. MB/s.
double raw_streaming(const std::string& dir, double seconds) {
  std::string path = dir + "/raw-stream.bin";
  int fd = ::open(path.c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644);
  if (fd < 0) std::abort();
  std::vector<uint8_t> chunk(1 << 20, 0x5a);
  uint64_t written = 0;
  auto start = Clock::now();
  while (seconds_since(start) < seconds) {
    for (int i = 0; i < 64; i++) {
      if (::write(fd, chunk.data(), chunk.size()) != static_cast<ssize_t>(chunk.size())) {
        std::abort();
      }
    }
    if (::fdatasync(fd) != 0) std::abort();
    written += 64ull << 20;
  }
  double elapsed = seconds_since(start);
  ::close(fd);
  ::unlink(path.c_str());
  return static_cast<double>(written) / elapsed / 1e6;
}

struct AppendFigures {
  double mb_per_s = 0;
  double batches_per_fsync = 0;
};

// One thread appends round-robin to `partitions` logs, at most `window` unacknowledged
// batches per partition; acknowledgements come from flusher threads.
AppendFigures durable_append(const std::string& dir, Flusher& flusher, size_t batch_bytes,
                             int partitions, double seconds) {
  std::vector<std::unique_ptr<Log>> logs;
  LogConfig config;
  config.segment_bytes = 256 << 20;
  for (int p = 0; p < partitions; p++) {
    LogOptions options;
    options.dir = dir + "/append-" + std::to_string(p);
    options.config = config;
    options.flusher = &flusher;
    auto log = Log::open(options);
    check(log.status(), "open");
    logs.push_back(std::move(log.value()));
  }
  auto batch = testing::build_batch_of_size(batch_bytes, 1, TimestampMs(0));
  const int window = batch_bytes >= (1 << 20) ? 4 : 16;
  std::mutex mu;
  std::condition_variable acked;
  std::vector<int> in_flight(static_cast<size_t>(partitions), 0);
  std::atomic<uint64_t> acked_bytes{0};
  auto start = Clock::now();
  while (seconds_since(start) < seconds) {
    bool any = false;
    for (int p = 0; p < partitions; p++) {
      {
        std::lock_guard lock(mu);
        if (in_flight[static_cast<size_t>(p)] >= window) continue;
        in_flight[static_cast<size_t>(p)]++;
      }
      any = true;
      auto result = logs[static_cast<size_t>(p)]->append(batch);
      check(result.status(), "append");
      logs[static_cast<size_t>(p)]->wait_durable(result->last_offset, [&, p](Status s) {
        check(s, "wait_durable");
        acked_bytes += batch.size();
        std::lock_guard lock(mu);
        in_flight[static_cast<size_t>(p)]--;
        acked.notify_one();
      });
    }
    if (!any) {
      std::unique_lock lock(mu);
      acked.wait_for(lock, std::chrono::milliseconds(1));
    }
  }
  double elapsed = seconds_since(start);
  uint64_t bytes = acked_bytes.load();
  AppendFigures figures;
  figures.mb_per_s = static_cast<double>(bytes) / elapsed / 1e6;
  uint64_t batches = 0, syncs = 0;
  for (auto& log : logs) {
    FlushStats stats = log->flush_stats();
    batches += stats.batches_appended;
    syncs += stats.data_syncs;
    check(log->close(), "close");
  }
  figures.batches_per_fsync = syncs == 0 ? 0 : static_cast<double>(batches) / syncs;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return figures;
}

struct ReadFigures {
  double copy_mb_per_s = 0;
  double sendfile_mb_per_s = 0;
};

ReadFigures read_from_cache(const std::string& dir) {
  LogOptions options;
  options.dir = dir + "/read";
  options.config.segment_bytes = 256 << 20;
  auto log = Log::open(options);
  if (!log.ok()) std::abort();
  auto batch = testing::build_batch_of_size(64 << 10, 2, TimestampMs(0));
  const uint64_t total = 1ull << 30;
  for (uint64_t written = 0; written < total; written += batch.size()) {
    if (!(*log)->append(batch).ok()) std::abort();
  }
  if (!(*log)->flush().ok()) std::abort();
  Offset end = (*log)->log_end_offset();
  ReadFigures figures;
  uint64_t bytes = 0;
  auto start = Clock::now();
  for (Offset next(0); next < end;) {
    auto read = (*log)->read(next, 1 << 20, end);
    auto copy = (*log)->copy(*read);
    if (!copy.ok()) std::abort();
    bytes += copy->size();
    next = read->next_offset;
  }
  figures.copy_mb_per_s = static_cast<double>(bytes) / seconds_since(start) / 1e6;
  int null_fd = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  bytes = 0;
  start = Clock::now();
  for (Offset next(0); next < end;) {
    auto read = (*log)->read(next, 1 << 20, end);
    for (const FileRange& range : read->ranges) {
      off_t position = static_cast<off_t>(range.position);
      size_t left = range.size_bytes;
      while (left > 0) {
        ssize_t n = ::sendfile(null_fd, range.fd(), &position, left);
        if (n <= 0) std::abort();
        left -= static_cast<size_t>(n);
      }
      bytes += range.size_bytes;
    }
    next = read->next_offset;
  }
  figures.sendfile_mb_per_s = static_cast<double>(bytes) / seconds_since(start) / 1e6;
  ::close(null_fd);
  (void)(*log)->close();
  log->reset();
  std::filesystem::remove_all(options.dir);
  return figures;
}

struct OpenFigures {
  double gib = 0;
  size_t segments = 0;
  double clean_open_ms = 0;
  double unclean_open_ms = 0;
  uint64_t unclean_scanned_bytes = 0;
  double write_seconds = 0;
};

OpenFigures open_times(const std::string& dir, uint64_t bytes) {
  OpenFigures figures;
  LogOptions options;
  options.dir = dir + "/open";
  auto batch = testing::build_batch_of_size(1 << 20, 3, TimestampMs(0));
  auto start = Clock::now();
  {
    auto log = Log::open(options);
    if (!log.ok()) std::abort();
    for (uint64_t written = 0; written < bytes; written += batch.size()) {
      if (!(*log)->append(batch).ok()) std::abort();
      if ((written >> 30) != ((written + batch.size()) >> 30) && !(*log)->flush().ok()) {
        std::abort();
      }
    }
    figures.gib = static_cast<double>((*log)->info().size_bytes) / (1ull << 30);
    figures.segments = (*log)->info().segment_count;
    if (!(*log)->close().ok()) std::abort();
  }
  figures.write_seconds = seconds_since(start);
  start = Clock::now();
  auto log = Log::open(options);
  figures.clean_open_ms = seconds_since(start) * 1e3;
  if (!log.ok() || !(*log)->info().opened_clean) std::abort();
  // A kill -9: 64 MiB appended since the last flush, no close.
  if (!(*log)->flush().ok()) std::abort();
  for (int i = 0; i < 64; i++) {
    if (!(*log)->append(batch).ok()) std::abort();
  }
  log->reset();
  start = Clock::now();
  auto reopened = Log::open(options);
  figures.unclean_open_ms = seconds_since(start) * 1e3;
  if (!reopened.ok() || (*reopened)->info().opened_clean) std::abort();
  figures.unclean_scanned_bytes = (*reopened)->info().recovery_scanned_bytes;
  (void)(*reopened)->close();
  reopened->reset();
  std::filesystem::remove_all(options.dir);
  return figures;
}

void print_section(const double raw[3], double ceiling, const AppendFigures durable[3][2],
                   const ReadFigures& reads, const OpenFigures& open) {
  const char* names[] = {"16 KiB", "64 KiB", "1 MiB"};
  std::printf("## Storage engine\n\n");
  std::printf(
      "*Written by `bench/storage/run.sh` (bench/storage/storage_bench.cc, release "
      "build). MB/s are 10^6 B/s.*\n\n");
  std::printf("### Durable append vs the raw disk\n\n");
  std::printf(
      "Two raw references, measured on the same file system in the same run: "
      "*raw per batch* is `write(2)` of one batch-sized chunk then `fdatasync(2)`, in a "
      "loop (what a store that syncs each request alone gets); *raw streaming* is 1 MiB "
      "writes with one `fdatasync(2)` per 64 MiB (the disk's sequential ceiling with "
      "syncing): %.0f MB/s. Durable append: `Log::append` + `wait_durable`, one "
      "appending thread (a shard), up to 16 (1 MiB: 4) unacknowledged batches per "
      "partition, a Flusher with 4 threads; bytes counted when acknowledged durable. "
      "Ratios are against raw streaming.\n\n",
      ceiling);
  std::printf(
      "| batch | raw per batch | durable, 1 partition | ratio | batches/fsync "
      "| durable, 16 partitions | ratio | batches/fsync |\n");
  std::printf("| --- | --- | --- | --- | --- | --- | --- | --- |\n");
  for (int i = 0; i < 3; i++) {
    std::printf("| %s | %.0f MB/s | %.0f MB/s | %.0f%% | %.1f | %.0f MB/s | %.0f%% | %.1f |\n",
                names[i], raw[i], durable[i][0].mb_per_s, 100 * durable[i][0].mb_per_s / ceiling,
                durable[i][0].batches_per_fsync, durable[i][1].mb_per_s,
                100 * durable[i][1].mb_per_s / ceiling, durable[i][1].batches_per_fsync);
  }
  std::printf("\nGoal: durable append >= 70%% of raw for 64 KiB batches.\n\n");
  std::printf("### Reads from the page cache\n\n");
  std::printf(
      "1 GiB of 64 KiB batches, reads of up to 1 MiB: `Log::read` + `Log::copy` "
      "(buffer, every CRC checked) %.0f MB/s; `Log::read` + `sendfile(2)` to /dev/null "
      "%.0f MB/s.\n\n",
      reads.copy_mb_per_s, reads.sendfile_mb_per_s);
  std::printf("### Opening a big log\n\n");
  std::printf(
      "%.1f GiB in %zu segments (1 GiB each, written in %.0f s): open after a clean "
      "stop %.1f ms; open after a kill with 64 MiB unflushed %.1f ms (%.1f MiB "
      "validated).\n",
      open.gib, open.segments, open.write_seconds, open.clean_open_ms, open.unclean_open_ms,
      static_cast<double>(open.unclean_scanned_bytes) / (1 << 20));
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--dir") options.dir = argv[i + 1];
    if (flag == "--seconds") options.seconds_per_case = std::atof(argv[i + 1]);
    if (flag == "--open-gib")
      options.open_test_bytes = std::strtoull(argv[i + 1], nullptr, 10) << 30;
  }
  std::filesystem::remove_all(options.dir);
  std::filesystem::create_directories(options.dir);
  const size_t sizes[] = {16 << 10, 64 << 10, 1 << 20};
  const char* names[] = {"16 KiB", "64 KiB", "1 MiB"};
  double raw[3];
  for (int i = 0; i < 3; i++) {
    raw[i] = raw_write_sync(options.dir, sizes[i], options.seconds_per_case);
    std::fprintf(stderr, "raw %s: %.0f MB/s\n", names[i], raw[i]);
  }
  double ceiling = raw_streaming(options.dir, options.seconds_per_case);
  std::fprintf(stderr, "raw streaming: %.0f MB/s\n", ceiling);
  AppendFigures durable[3][2];
  {
    Flusher flusher(4);
    for (int i = 0; i < 3; i++) {
      for (int j = 0; j < 2; j++) {
        durable[i][j] = durable_append(options.dir, flusher, sizes[i], j == 0 ? 1 : 16,
                                       options.seconds_per_case);
        std::fprintf(stderr, "durable %s x%d: %.0f MB/s\n", names[i], j == 0 ? 1 : 16,
                     durable[i][j].mb_per_s);
      }
    }
  }
  ReadFigures reads = read_from_cache(options.dir);
  std::fprintf(stderr, "read copy %.0f MB/s sendfile %.0f MB/s\n", reads.copy_mb_per_s,
               reads.sendfile_mb_per_s);
  OpenFigures open = open_times(options.dir, options.open_test_bytes);
  std::filesystem::remove_all(options.dir);

  print_section(raw, ceiling, durable, reads, open);
  return 0;
}
