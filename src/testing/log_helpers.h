// Small helpers for tests that drive a storage::Log: append a built batch and keep its stamped
// bytes, read everything back as bytes. Shard-thread rules of Log apply.
#pragma once

#include <map>
#include <vector>

#include "model/record_batch_view.h"
#include "storage/log.h"
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

}  // namespace cairn::testing
