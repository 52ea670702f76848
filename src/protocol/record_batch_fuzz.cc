// libFuzzer target for the record batch codec: arbitrary bytes -> split into batches ->
// validate -> iterate records (decompressing, bounded at 1 MiB) -> rebuild -> compare.
//
// Each input runs three ways, so that captured batches (testdata/batches/*.bin, copied into
// the corpus) are useful seeds as they are:
//   1. as given, CRC checked, client rules (what a Produce request gets);
//   2. CRC checking off, log rules (reaches the record parser behind the CRC);
//   3. every batch's CRC recomputed first, then checked, client rules.
//
// Invariants (each checked with ASSERT, so a violation is a crash the fuzzer reports):
//   - no crash, out-of-bounds access or undefined behaviour (ASan + UBSan);
//   - splitting accounts for every byte: the batches are contiguous from the start, and what
//     follows them is either a reported partial batch, or nothing, or a corrupt status;
//   - no allocation beyond the limit: a decompressed records section is at most 1 MiB, and
//     libFuzzer's -rss_limit_mb / -malloc_limit_mb catch anything else;
//   - a batch that validates with its records checked iterates exactly recordsCount records,
//     and opening it again for iteration succeeds;
//   - rebuilding a validated batch's records with BatchBuilder (uncompressed) gives a batch
//     that validates under log rules and reads back to the same keys, values, headers,
//     offset deltas and timestamp deltas;
//   - validation is deterministic (the same verdict twice).
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "base/assert.h"
#include "base/units.h"
#include "model/record_batch_view.h"
#include "protocol/record_batch.h"

namespace cairn::protocol {
namespace {

constexpr size_t kDecompressedBytesMax = 1 * MiB;

bool same_bytes(std::optional<BytesView> a, std::optional<BytesView> b) {
  if (a.has_value() != b.has_value()) return false;
  if (!a) return true;
  return a->size() == b->size() &&
         (a->empty() || std::memcmp(a->data(), b->data(), a->size()) == 0);
}

std::vector<Record> read_records(const BatchRecords& records) {
  std::vector<Record> out;
  RecordReader reader = records.reader();
  Record record;
  while (reader.next(&record)) out.push_back(record);
  ASSERT(reader.status().ok());
  return out;
}

// Rebuilds `records` into a fresh uncompressed batch and checks it reads back the same.
void check_rebuild(model::RecordBatchView batch, const std::vector<Record>& records) {
  BatchOptions options;
  options.base_offset = batch.base_offset();
  options.base_timestamp = batch.base_timestamp();
  options.producer_id = batch.producer_id();
  options.producer_epoch = batch.producer_epoch();
  options.base_sequence = batch.base_sequence();
  options.transactional = batch.is_transactional();
  options.control = batch.is_control();
  BatchBuilder builder(options);
  for (const Record& record : records) {
    std::vector<HeaderInput> headers;
    for (RecordHeader header : record.headers) headers.push_back({header.key, header.value});
    RecordInput input;
    input.key = record.key;
    input.value = record.value;
    input.headers = headers;
    input.timestamp =
        TimestampMs(static_cast<int64_t>(static_cast<uint64_t>(batch.base_timestamp().value()) +
                                         static_cast<uint64_t>(record.timestamp_delta)));
    input.offset_delta = record.offset_delta;
    builder.add(input);
  }
  auto rebuilt = std::move(builder).build();
  ASSERT(rebuilt.ok());
  auto view = model::RecordBatchView::parse(*rebuilt);
  ASSERT(view.ok());
  ValidateOptions options_log;
  options_log.origin = BatchOrigin::log;
  BatchCheck check = validate_batch(*view, options_log);
  ASSERT(check.ok());
  auto reopened = BatchRecords::open(*view, kDecompressedBytesMax);
  ASSERT(reopened.ok());
  std::vector<Record> again = read_records(*reopened);
  ASSERT(again.size() == records.size());
  for (size_t i = 0; i < records.size(); i++) {
    ASSERT(again[i].offset_delta == records[i].offset_delta);
    ASSERT(again[i].timestamp_delta == records[i].timestamp_delta);
    ASSERT(same_bytes(again[i].key, records[i].key));
    ASSERT(same_bytes(again[i].value, records[i].value));
    ASSERT(again[i].headers.size() == records[i].headers.size());
    auto a = again[i].headers.begin();
    auto b = records[i].headers.begin();
    for (int32_t h = 0; h < records[i].headers.size(); h++, ++a, ++b) {
      ASSERT((*a).key == (*b).key);
      ASSERT(same_bytes((*a).value, (*b).value));
    }
  }
}

void check_batch(model::RecordBatchView batch, const ValidateOptions& options) {
  BatchCheck check = validate_batch(batch, options);
  BatchCheck again = validate_batch(batch, options);
  ASSERT(check.fault == again.fault);
  ASSERT(check.ok() == check.status.ok());
  if (!check.ok() || !check.records_checked) {
    // Iterating an unvalidated batch must still be safe; its errors are ordinary statuses.
    auto records = BatchRecords::open(batch, kDecompressedBytesMax);
    if (records.ok()) {
      ASSERT(records->records_bytes().size() <=
             std::max(kDecompressedBytesMax, batch.records_bytes().size()));
      RecordReader reader = records->reader();
      Record record;
      while (reader.next(&record)) {
      }
    }
    return;
  }
  auto records = BatchRecords::open(batch, options.decompressed_bytes_max);
  ASSERT(records.ok());
  std::vector<Record> all = read_records(*records);
  ASSERT(static_cast<int64_t>(all.size()) == batch.records_count());
  if (batch.compression() != model::Compression::none) {
    ASSERT(records->records_bytes().size() <= kDecompressedBytesMax);
  }
  check_rebuild(batch, all);
}

void run(BytesView input, const ValidateOptions& options) {
  BatchSplitter splitter(input);
  size_t expected_at = 0;
  while (auto batch = splitter.next()) {
    ASSERT(batch->bytes().data() == input.data() + expected_at);
    expected_at += batch->size_bytes();
    check_batch(*batch, options);
  }
  ASSERT(splitter.consumed_bytes() == expected_at);
  ASSERT(splitter.rest().data() == input.data() + expected_at ||
         (splitter.rest().empty() && expected_at == input.size()));
  if (splitter.partial()) ASSERT(splitter.status().ok() && !splitter.rest().empty());
  if (splitter.status().ok() && !splitter.partial()) ASSERT(expected_at == input.size());
  // The Produce path sees the same bytes as one partition's records field.
  BatchCheck produce = validate_produce_records(input, 7, options);
  ASSERT(produce.ok() == produce.status.ok());
}

}  // namespace
}  // namespace cairn::protocol

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cairn::protocol;
  using cairn::MiB;
  BytesView input(data, size);
  ValidateOptions client;
  client.decompressed_bytes_max = 1 * MiB;
  run(input, client);

  ValidateOptions unchecked;
  unchecked.origin = BatchOrigin::log;
  unchecked.verify_crc = false;
  unchecked.decompressed_bytes_max = 1 * MiB;
  run(input, unchecked);

  // Recompute each batch's CRC so the checked path gets past it too.
  std::vector<uint8_t> fixed(data, data + size);
  BatchSplitter splitter{BytesView(fixed)};
  size_t at = 0;
  while (auto batch = splitter.next()) {
    cairn::model::update_crc(std::span<uint8_t>(fixed.data() + at, batch->size_bytes()));
    at += batch->size_bytes();
  }
  run(BytesView(fixed), client);
  return 0;
}
