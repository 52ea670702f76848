// Small helpers for tests that drive a storage::Log: append a built batch and keep its stamped
// bytes, read everything back as bytes. Shard-thread rules of Log apply.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "model/record_batch_view.h"
#include "storage/log.h"
#include "storage/record_filter.h"
#include "testing/batch_builder.h"

namespace cairn::testing {

// Appends `batch` and returns the stamped bytes (what a read must return), or the error.
inline Result<std::vector<uint8_t>> append_copy(storage::Log& log, std::vector<uint8_t> batch) {
  auto result = log.append(batch);
  if (!result.ok()) return result.status();
  return batch;
}

// Reads [from, end) batch by batch through read() + copy() with `max_bytes` per read.
inline Result<std::vector<std::vector<uint8_t>>> read_batches(storage::Log& log, Offset from,
                                                              Offset end, uint64_t max_bytes) {
  std::vector<std::vector<uint8_t>> batches;
  Offset next = from;
  while (next < end) {
    auto read = log.read(next, max_bytes, end);
    if (!read.ok()) return read.status();
    if (read->empty()) break;
    auto bytes = log.copy(*read);
    if (!bytes.ok()) return bytes.status();
    for (size_t at = 0; at < bytes->size();) {
      auto view = model::RecordBatchView::parse(std::span(*bytes).subspan(at));
      if (!view.ok()) return view.status();
      batches.emplace_back(view->bytes().begin(), view->bytes().end());
      at += view->size_bytes();
    }
    next = read->next_offset;
  }
  return batches;
}

// One record as a compaction test sees it.
struct LogRecord {
  Offset offset;
  std::optional<std::string> key;
  std::optional<std::string> value;
  bool operator==(const LogRecord&) const = default;
};

// Every record of the (uncompressed) batches in [from, end), in offset order.
inline Result<std::vector<LogRecord>> read_records(storage::Log& log, Offset from, Offset end) {
  auto batches = read_batches(log, from, end, 1 << 20);
  if (!batches.ok()) return batches.status();
  std::vector<LogRecord> records;
  auto text = [](const std::optional<std::span<const uint8_t>>& bytes) {
    return bytes ? std::optional<std::string>(std::string(bytes->begin(), bytes->end()))
                 : std::nullopt;
  };
  for (const auto& batch : *batches) {
    auto view = model::RecordBatchView::parse(batch);
    if (!view.ok()) return view.status();
    Status status = storage::walk_records(
        view->records_bytes(), view->records_count(), [&](const storage::RecordRef& record) {
          records.push_back(LogRecord{Offset(view->base_offset().value() + record.offset_delta),
                                      text(record.key), text(record.value)});
        });
    if (!status.ok()) return status;
  }
  return records;
}

}  // namespace cairn::testing
