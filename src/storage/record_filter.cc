#include "storage/record_filter.h"

#include "base/assert.h"
#include "base/varint.h"

namespace cairn::storage {

namespace {

Status bad(const char* why) { return error(StatusCode::corrupt, std::string("record: ") + why); }

// Skips a varint-length-prefixed field; returns its bytes, or nullopt for length -1.
bool read_field(const uint8_t** p, const uint8_t* end,
                std::optional<std::span<const uint8_t>>* field) {
  auto length = varint::get_signed32(p, end);
  if (!length || *length < -1) return false;
  if (*length == -1) {
    *field = std::nullopt;
    return true;
  }
  if (static_cast<size_t>(end - *p) < static_cast<size_t>(*length)) return false;
  *field = std::span<const uint8_t>(*p, static_cast<size_t>(*length));
  *p += *length;
  return true;
}

}  // namespace

Status walk_records(std::span<const uint8_t> records, int32_t count,
                    const std::function<void(const RecordRef&)>& visit) {
  const uint8_t* p = records.data();
  const uint8_t* end = p + records.size();
  for (int32_t i = 0; i < count; i++) {
    const uint8_t* start = p;
    auto length = varint::get_signed32(&p, end);
    if (!length || *length < 1 || static_cast<size_t>(end - p) < static_cast<size_t>(*length)) {
      return bad("length");
    }
    const uint8_t* record_end = p + *length;
    p++;  // attributes
    RecordRef ref;
    auto timestamp_delta = varint::get_signed64(&p, record_end);
    auto offset_delta = varint::get_signed32(&p, record_end);
    if (!timestamp_delta || !offset_delta || *offset_delta < 0) return bad("deltas");
    ref.timestamp_delta = *timestamp_delta;
    ref.offset_delta = *offset_delta;
    if (!read_field(&p, record_end, &ref.key) || !read_field(&p, record_end, &ref.value)) {
      return bad("key or value");
    }
    ref.tombstone = !ref.value.has_value();
    ref.bytes = std::span<const uint8_t>(start, static_cast<size_t>(record_end - start));
    p = record_end;  // headers are not needed
    visit(ref);
  }
  if (p != end) return bad("bytes after the last record");
  return Status();
}

bool is_transaction_marker(model::RecordBatchView batch) {
  constexpr size_t kControlKeyBytes = 4;  // version i16 | type i16
  constexpr uint8_t kAbort = 0;
  constexpr uint8_t kCommit = 1;
  if (!batch.is_control() || batch.compression() != model::Compression::none ||
      batch.records_count() != 1) {
    return false;
  }
  bool marker = false;
  Status walked = walk_records(batch.records_bytes(), 1, [&](const RecordRef& record) {
    if (!record.key.has_value() || record.key->size() < kControlKeyBytes) return;
    std::span<const uint8_t> key = *record.key;
    marker = key[2] == 0 && (key[3] == kAbort || key[3] == kCommit);
  });
  return walked.ok() && marker;
}

Result<std::vector<uint8_t>> rebuild_batch(model::RecordBatchView batch,
                                           std::span<const uint8_t> records,
                                           const std::vector<uint8_t>& keep,
                                           const Compressor& compress) {
  using namespace model::batch_layout;
  ASSERT(keep.size() == static_cast<size_t>(batch.records_count()));
  std::vector<uint8_t> kept;
  kept.reserve(records.size());
  int32_t kept_count = 0;
  size_t index = 0;
  Status walked = walk_records(records, batch.records_count(), [&](const RecordRef& record) {
    if (keep[index++] != 0) {
      kept.insert(kept.end(), record.bytes.begin(), record.bytes.end());
      kept_count++;
    }
  });
  RETURN_IF_ERROR(walked);
  if (batch.compression() != model::Compression::none && kept_count > 0) {
    if (!compress) return error(StatusCode::unsupported, "no compressor for a compressed batch");
    auto compressed = compress(batch.compression(), kept, batch.records_bytes());
    if (!compressed.ok()) return compressed.status();
    kept = std::move(compressed.value());
  }
  std::vector<uint8_t> out(batch.bytes().begin(), batch.bytes().begin() + kHeaderBytes);
  out.insert(out.end(), kept.begin(), kept.end());
  if (out.size() - kLogOverheadBytes > INT32_MAX) return error(StatusCode::too_large, "batch");
  model::store_i32(out.data() + kBatchLength, static_cast<int32_t>(out.size() - kLogOverheadBytes));
  model::store_i32(out.data() + kRecordsCount, kept_count);
  if (kept_count == 0) {
    // An empty batch carries no payload to decompress: mark it uncompressed.
    model::set_attributes(out, batch.attributes() & ~model::batch_attributes::kCompressionMask);
  }
  model::update_crc(out);
  ASSERT(out.size() <= batch.size_bytes() || batch.compression() != model::Compression::none);
  return out;
}

}  // namespace cairn::storage
