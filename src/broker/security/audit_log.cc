#include "broker/security/audit_log.h"

#include <spdlog/spdlog.h>
#include <chrono>
#include <nlohmann/json.hpp>
#include <span>

#include "base/assert.h"

namespace cairn::broker::security {

namespace {

// "2026-12-08T01:30:00.123Z"
std::string utc_time(int64_t time_ms) {
  time_t seconds = static_cast<time_t>(time_ms / 1000);
  struct tm parts {};
  gmtime_r(&seconds, &parts);
  char text[40];
  size_t n = strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &parts);
  snprintf(text + n, sizeof text - n, ".%03dZ", static_cast<int>(time_ms % 1000));
  return text;
}

const char* type_name(AuditEvent::Type type) {
  switch (type) {
    case AuditEvent::Type::authentication:
      return "authentication";
    case AuditEvent::Type::authorization:
      return "authorization";
    case AuditEvent::Type::access:
      return "access";
  }
  return "unknown";
}

const char* result_name(const AuditEvent& event) {
  if (event.type == AuditEvent::Type::authentication) {
    return event.allowed ? "success" : "failure";
  }
  return event.allowed ? "allowed" : "denied";
}

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// How far back open() looks for a torn tail: far more than one batch of events normally is.
constexpr uint64_t kTailScanBytes = 4 * 1024 * 1024;

// The length of `file`'s contents without a torn tail: up to the last newline before the
// first NUL byte in the last kTailScanBytes (JSON lines never hold one; a torn page reads as
// zeros), or up to the last newline.
Result<uint64_t> intact_size(storage::File& file, uint64_t size_bytes) {
  uint64_t start = size_bytes > kTailScanBytes ? size_bytes - kTailScanBytes : 0;
  std::vector<uint8_t> tail(size_bytes - start);
  Result<size_t> read = file.read_at(start, tail);
  if (!read.ok()) return read.status();
  tail.resize(read.value());
  size_t end = tail.size();
  for (size_t i = 0; i < tail.size(); i++) {
    if (tail[i] == 0) {
      end = i;
      break;
    }
  }
  while (end > 0 && tail[end - 1] != '\n') end--;
  if (end == 0 && start > 0) return size_bytes;  // no newline in the window: leave it be
  return start + end;
}

}  // namespace

std::string audit_event_json(const AuditEvent& event) {
  nlohmann::ordered_json json;
  json["time"] = utc_time(event.time_ms);
  json["type"] = type_name(event.type);
  json["result"] = result_name(event);
  json["principal"] = event.principal;
  json["listener"] = event.listener;
  json["client"] = event.client;
  if (event.type == AuditEvent::Type::authentication) {
    json["mechanism"] = event.mechanism;
    if (!event.allowed) json["reason"] = event.reason;
  } else {
    json["client_id"] = event.client_id;
    json["api"] = event.api;
    json["operation"] = event.operation;
    json["resource_type"] = event.resource_type;
    json["resource"] = event.resource;
    if (event.type == AuditEvent::Type::access) json["partitions"] = event.partitions;
  }
  // Names and client ids come from clients: replace invalid UTF-8 rather than throw.
  return json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Result<AuditLog::Appender> AuditLog::open_appender(storage::Io& io,
                                                   const std::filesystem::path& file) {
  auto fail = [&file](const Status& status) {
    return error(status.code(), "cannot open " + file.string() + ": " + status.message());
  };
  std::string directory = file.has_parent_path() ? file.parent_path().string() : ".";
  Status made = io.make_dirs(directory);
  if (!made.ok()) return fail(made);
  Result<bool> existed = io.exists(file.string());
  if (!existed.ok()) return fail(existed.status());
  Result<std::shared_ptr<storage::File>> opened =
      io.open(file.string(), storage::OpenMode::create_read_write);
  if (!opened.ok()) return fail(opened.status());
  Appender appender{std::move(opened).value(), 0};
  Result<uint64_t> size = appender.file->size_bytes();
  if (!size.ok()) return fail(size.status());
  Result<uint64_t> intact = intact_size(*appender.file, size.value());
  if (!intact.ok()) return fail(intact.status());
  if (intact.value() < size.value()) {
    spdlog::warn("audit log {}: cutting a torn tail of {} bytes a crash left", file.string(),
                 size.value() - intact.value());
    Status cut = appender.file->truncate(intact.value());
    if (cut.ok()) cut = appender.file->sync();
    if (!cut.ok()) return fail(cut);
  }
  appender.size_bytes = intact.value();
  if (!existed.value()) {  // make the new file's name durable
    Status synced = io.sync_dir(directory);
    if (!synced.ok()) return fail(synced);
  }
  return appender;
}

Result<std::unique_ptr<AuditLog>> AuditLog::open(storage::Io& io,
                                                 const std::filesystem::path& file) {
  Result<Appender> appender = open_appender(io, file);
  if (!appender.ok()) return appender.status();
  return std::unique_ptr<AuditLog>(new AuditLog(io, file, std::move(appender).value()));
}

AuditLog::AuditLog(storage::Io& io, std::filesystem::path file, Appender appender)
    : io_(io), path_(std::move(file)), appender_(std::move(appender)) {
  thread_ = std::thread([this] { run(); });
}

AuditLog::~AuditLog() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void AuditLog::record(AuditEvent event) {
  if (event.time_ms == 0) event.time_ms = now_ms();
  for (std::string* field : {&event.principal, &event.listener, &event.client, &event.client_id,
                             &event.mechanism, &event.reason, &event.resource}) {
    if (field->size() > kFieldBytesMax) {
      field->resize(kFieldBytesMax);
      *field += "...";  // marks the cut (a cut UTF-8 sequence is replaced when written)
    }
  }
  if (event.partitions.size() > kFieldBytesMax) event.partitions.resize(kFieldBytesMax);
  {
    std::lock_guard lock(mutex_);
    if (queue_.size() >= kQueueMax) {
      if (dropped_++ % 10'000 == 0) {
        spdlog::warn("audit log: queue full ({} events), dropping events", kQueueMax);
      }
      return;
    }
    queue_.push_back(std::move(event));
    recorded_++;
  }
  wake_.notify_one();
}

void AuditLog::set_sink(Sink sink) {
  std::lock_guard lock(mutex_);
  sink_ = std::move(sink);
}

void AuditLog::reopen() {
  {
    std::lock_guard lock(mutex_);
    reopen_ = true;
  }
  wake_.notify_one();
}

void AuditLog::flush() {
  std::unique_lock lock(mutex_);
  uint64_t target = recorded_;
  written_.wait(lock, [&] { return done_ >= target; });
}

uint64_t AuditLog::written() const {
  std::lock_guard lock(mutex_);
  return written_count_;
}

uint64_t AuditLog::dropped() const {
  std::lock_guard lock(mutex_);
  return dropped_;
}

void AuditLog::run() {
  std::unique_lock lock(mutex_);
  while (true) {
    wake_.wait(lock, [&] { return stop_ || reopen_ || !queue_.empty(); });
    if (reopen_) {
      reopen_ = false;
      lock.unlock();
      Result<Appender> appender = open_appender(io_, path_);
      if (appender.ok()) {
        appender_ = std::move(appender).value();
        spdlog::info("audit log: reopened {}", path_.string());
      } else {
        spdlog::error("audit log: {}; still writing the old file", appender.status().message());
      }
      lock.lock();
    }
    if (queue_.empty()) {
      if (stop_) return;
      continue;
    }
    std::deque<AuditEvent> batch;
    if (queue_.size() <= kBatchMax) {
      batch.swap(queue_);
    } else {
      auto end = queue_.begin() + static_cast<std::ptrdiff_t>(kBatchMax);
      batch.assign(std::make_move_iterator(queue_.begin()), std::make_move_iterator(end));
      queue_.erase(queue_.begin(), end);
    }
    lock.unlock();
    write_batch(batch);
    lock.lock();
    done_ += batch.size();
    written_.notify_all();
  }
}

void AuditLog::write_batch(std::deque<AuditEvent>& batch) {
  std::vector<std::string> lines;
  lines.reserve(batch.size());
  std::string bytes;
  for (const AuditEvent& event : batch) {
    lines.push_back(audit_event_json(event));
    bytes += lines.back();
    bytes += '\n';
  }
  std::span<const uint8_t> data(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  Status status = appender_.file->write_at(appender_.size_bytes, data);
  if (status.ok()) status = appender_.file->sync();
  bool ok = status.ok();
  if (ok) {
    appender_.size_bytes += bytes.size();
  } else {  // cut whatever part of this batch reached the file; the next one goes there
    spdlog::error("audit log: cannot write {}: {}", path_.string(), status.message());
    (void)appender_.file->truncate(appender_.size_bytes);
  }
  Sink sink;
  {
    std::lock_guard lock(mutex_);
    (ok ? written_count_ : dropped_) += batch.size();
    sink = sink_;
  }
  if (ok && sink) sink(std::move(lines));  // the file first: a refused batch stays out
}

}  // namespace cairn::broker::security
