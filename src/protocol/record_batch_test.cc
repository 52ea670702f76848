#include "protocol/record_batch.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <new>
#include <nlohmann/json.hpp>
#include <string>

#include "base/crc32c.h"
#include "base/varint.h"
#include "protocol/compression.h"

// GCC 12 flags free() inside a replaced operator delete as mismatched; it is not.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

// Tracks the largest single allocation through operator new while `g_tracking` is on, so the
// hostile-length tests can check that nothing is allocated from a length read off the wire.
namespace {
std::atomic<bool> g_tracking{false};
std::atomic<size_t> g_largest_allocation_bytes{0};
}  // namespace

void* operator new(size_t size) {
  if (g_tracking.load(std::memory_order_relaxed)) {
    size_t seen = g_largest_allocation_bytes.load(std::memory_order_relaxed);
    while (size > seen && !g_largest_allocation_bytes.compare_exchange_weak(seen, size)) {
    }
  }
  void* p = std::malloc(size == 0 ? 1 : size);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }

namespace cairn::protocol {
namespace {

namespace layout = model::batch_layout;
using model::Compression;
using model::RecordBatchView;
using Bytes = std::vector<uint8_t>;
using json = nlohmann::json;

constexpr Compression kCodecs[] = {Compression::none, Compression::gzip, Compression::snappy,
                                   Compression::lz4, Compression::zstd};

// ---- helpers ---------------------------------------------------------------------------------

// A record as plain strings, for comparing what was sent with what was read.
struct Plain {
  std::optional<std::string> key;
  std::optional<std::string> value;
  std::vector<std::pair<std::string, std::optional<std::string>>> headers;
  std::optional<int64_t> timestamp;
  bool operator==(const Plain&) const = default;
};

std::ostream& operator<<(std::ostream& out, const Plain& r) {
  out << "{key=" << r.key.value_or("<null>") << " value=" << r.value.value_or("<null>");
  for (const auto& [k, v] : r.headers) out << " " << k << "=" << v.value_or("<null>");
  return out << "}";
}

std::optional<std::string> text(std::optional<BytesView> bytes) {
  if (!bytes) return std::nullopt;
  return std::string(bytes->begin(), bytes->end());
}

Plain plain(const Record& record, bool with_timestamp) {
  Plain out{text(record.key), text(record.value), {}, std::nullopt};
  for (RecordHeader header : record.headers) {
    out.headers.emplace_back(std::string(header.key), text(header.value));
  }
  if (with_timestamp) out.timestamp = record.timestamp.value();
  return out;
}

// Every record of a valid batch, through BatchRecords; `holder` keeps the views alive.
struct ReadBack {
  std::optional<BatchRecords> holder;
  std::vector<Record> records;
};

ReadBack read_all(RecordBatchView batch) {
  ReadBack out;
  auto opened = BatchRecords::open(batch, 64 * MiB);
  EXPECT_TRUE(opened.ok()) << opened.status().to_string();
  if (!opened.ok()) return out;
  out.holder.emplace(std::move(opened).value());
  RecordReader reader = out.holder->reader();
  Record record;
  while (reader.next(&record)) out.records.push_back(record);
  EXPECT_TRUE(reader.status().ok()) << reader.status().to_string();
  return out;
}

std::vector<Plain> read_plain(RecordBatchView batch, bool with_timestamp) {
  ReadBack back = read_all(batch);
  std::vector<Plain> out;
  for (const Record& r : back.records) out.push_back(plain(r, with_timestamp));
  return out;
}

BatchOptions with_codec(Compression codec) {
  BatchOptions options;
  options.compression = codec;
  return options;
}

BatchOptions with_base_timestamp(int64_t timestamp_ms) {
  BatchOptions options;
  options.base_timestamp = TimestampMs(timestamp_ms);
  return options;
}

Bytes build(BatchOptions options, const std::vector<Plain>& records) {
  BatchBuilder builder(options);
  for (const Plain& r : records) {
    std::vector<HeaderInput> headers;
    for (const auto& [k, v] : r.headers) {
      headers.push_back({k, v ? std::optional<BytesView>(bytes_of(*v)) : std::nullopt});
    }
    RecordInput input;
    if (r.key) input.key = bytes_of(*r.key);
    if (r.value) input.value = bytes_of(*r.value);
    input.headers = headers;
    if (r.timestamp) input.timestamp = TimestampMs(*r.timestamp);
    builder.add(input);
  }
  auto batch = std::move(builder).build();
  EXPECT_TRUE(batch.ok()) << batch.status().to_string();
  return batch.ok() ? std::move(batch).value() : Bytes{};
}

RecordBatchView view(const Bytes& bytes) {
  auto parsed = RecordBatchView::parse(bytes);
  EXPECT_TRUE(parsed.ok()) << parsed.status().to_string();
  return *parsed;
}

ValidateOptions log_origin() {
  ValidateOptions options;
  options.origin = BatchOrigin::log;
  return options;
}

std::vector<Plain> sample_records() {
  return {
      {"k1", "v1", {{"h1", "x"}, {"h2", std::nullopt}}, 1000},
      {std::nullopt, "no key", {}, 1003},
      {"tombstone", std::nullopt, {{"why", "deleted"}}, 999},
      {"", "", {{"", ""}}, 1001},
      {"k5", std::string(3000, 'z'), {}, 1002},
  };
}

// ---- captured client batches -----------------------------------------------------------------

#ifndef CAIRN_BATCH_TESTDATA_DIR
#error "CAIRN_BATCH_TESTDATA_DIR must point at src/protocol/testdata/batches"
#endif

Bytes read_file(const std::string& name) {
  std::ifstream in(std::string(CAIRN_BATCH_TESTDATA_DIR) + "/" + name, std::ios::binary);
  EXPECT_TRUE(in.good()) << name;
  return Bytes(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

json manifest() {
  Bytes bytes = read_file("manifest.json");
  return json::parse(bytes.begin(), bytes.end());
}

std::optional<std::string> json_text(const json& v) {
  if (v.is_null()) return std::nullopt;
  return v.get<std::string>();
}

// What a scenario sent, from the manifest (explicit records, or the rule for large ones,
// which must match LARGE_RECORDS in tools/capture_batches/capture.py).
std::vector<Plain> expected_records(const json& scenario) {
  std::vector<Plain> out;
  if (scenario.contains("records_generated")) {
    int count = scenario["records_generated"]["count"].get<int>();
    for (int i = 0; i < count; i++) {
      char key[32];
      char unit[64];
      std::snprintf(key, sizeof(key), "big-%04d", i);
      std::snprintf(unit, sizeof(unit), "payload for record %04d; ", i);
      std::string value;
      for (int j = 0; j < 5; j++) value += unit;
      out.push_back({key, value, {{"n", std::to_string(i)}}, 1700000001000 + i});
    }
    return out;
  }
  for (const json& r : scenario["records"]) {
    Plain p{json_text(r["key"]), json_text(r["value"]), {}, std::nullopt};
    for (const json& h : r["headers"]) p.headers.emplace_back(h[0], json_text(h[1]));
    if (r.contains("timestamp")) p.timestamp = r["timestamp"].get<int64_t>();
    out.push_back(p);
  }
  return out;
}

Compression codec_of(const std::string& name) {
  for (Compression c : kCodecs) {
    if (name == compression::codec_name(c)) return c;
  }
  ADD_FAILURE() << "unknown codec " << name;
  return Compression::none;
}

TEST(CapturedBatches, EveryScenarioValidatesAndReadsBackWhatWasSent) {
  json all = manifest();
  ASSERT_GE(all["scenarios"].size(), 10u);
  for (const auto& [name, scenario] : all["scenarios"].items()) {
    SCOPED_TRACE(name);
    Bytes bytes = read_file(scenario["file"]);
    auto split = split_batches(bytes);
    ASSERT_TRUE(split.ok()) << split.status().to_string();
    EXPECT_TRUE(split->partial.empty());
    ASSERT_FALSE(split->batches.empty());
    std::vector<Plain> expected = expected_records(scenario);
    std::vector<Plain> seen;
    for (RecordBatchView batch : split->batches) {
      BatchCheck check = validate_produce_records(batch.bytes(), 7, ValidateOptions{});
      ASSERT_TRUE(check.ok()) << check.status.to_string();
      EXPECT_TRUE(check.records_checked);
      EXPECT_EQ(batch.max_timestamp(), check.max_record_timestamp);
      EXPECT_EQ(codec_of(scenario["codec"]), batch.compression());
      EXPECT_FALSE(batch.is_control());
      EXPECT_FALSE(batch.is_transactional());
      if (scenario.value("idempotent", false)) {
        EXPECT_EQ(all["producer_id"].get<int64_t>(), batch.producer_id().value());
        EXPECT_EQ(all["producer_epoch"].get<int16_t>(), batch.producer_epoch().value());
        EXPECT_EQ(static_cast<int32_t>(seen.size()), batch.base_sequence().value());
      } else {
        EXPECT_EQ(-1, batch.producer_id().value());
      }
      ReadBack back = read_all(batch);
      const std::vector<Record>& records = back.records;
      ASSERT_EQ(static_cast<size_t>(batch.records_count()), records.size());
      for (size_t i = 0; i < records.size(); i++) {
        EXPECT_EQ(static_cast<int32_t>(i), records[i].offset_delta);
        EXPECT_EQ(batch.base_offset().value() + static_cast<int64_t>(i), records[i].offset.value());
        EXPECT_LE(records[i].timestamp, batch.max_timestamp());
        size_t index = seen.size();
        bool with_timestamp = index < expected.size() && expected[index].timestamp.has_value();
        seen.push_back(plain(records[i], with_timestamp));
      }
    }
    EXPECT_EQ(expected, seen);
  }
}

TEST(CapturedBatches, SplitFileHoldsSeveralBatches) {
  Bytes bytes = read_file("kcat_gzip_split.bin");
  auto split = split_batches(bytes);
  ASSERT_TRUE(split.ok());
  EXPECT_EQ(5u, split->batches.size());  // 43 records at batch.num.messages=10
  // A Produce request carries one batch per partition; five back to back is refused.
  BatchCheck check = validate_produce_records(bytes, 7, ValidateOptions{});
  EXPECT_EQ(BatchFault::invalid_record, check.fault);
}

// Every bit of the CRC field and of the CRC'd range [21, end) matters; the base offset and
// partition leader epoch before it do not (the broker rewrites them without a new CRC).
TEST(CapturedBatches, EveryFlippedBitInTheCrcRangeFailsValidation) {
  for (const char* name : {"kcat_none.bin", "kcat_zstd.bin", "confluent_idempotent_lz4.bin",
                           "kafka_python_gzip.bin", "kcat_snappy.bin"}) {
    SCOPED_TRACE(name);
    Bytes bytes = read_file(name);
    ASSERT_TRUE(validate_produce_records(bytes, 7, ValidateOptions{}).ok());
    size_t failures = 0;
    for (size_t at = layout::kCrc; at < bytes.size(); at++) {
      for (int bit = 0; bit < 8; bit++) {
        bytes[at] ^= static_cast<uint8_t>(1 << bit);
        BatchCheck check = validate_produce_records(bytes, 7, ValidateOptions{});
        bytes[at] ^= static_cast<uint8_t>(1 << bit);
        if (check.fault == BatchFault::corrupt_message) failures++;
      }
    }
    EXPECT_EQ((bytes.size() - layout::kCrc) * 8, failures);
    for (size_t at : {layout::kBaseOffset, layout::kBaseOffset + 7, layout::kPartitionLeaderEpoch,
                      layout::kPartitionLeaderEpoch + 3}) {
      bytes[at] ^= 0x10;
      EXPECT_TRUE(validate_produce_records(bytes, 7, ValidateOptions{}).ok()) << at;
      bytes[at] ^= 0x10;
    }
  }
}

TEST(CapturedBatches, EveryTruncationFails) {
  for (const char* name : {"kcat_none.bin", "kcat_lz4.bin", "confluent_zstd.bin"}) {
    SCOPED_TRACE(name);
    Bytes bytes = read_file(name);
    for (size_t keep = 0; keep < bytes.size(); keep++) {
      BytesView prefix(bytes.data(), keep);
      BatchCheck check = validate_produce_records(prefix, 7, ValidateOptions{});
      ASSERT_FALSE(check.ok()) << keep;
      auto split = split_batches(prefix);
      ASSERT_TRUE(split.ok()) << keep;
      EXPECT_TRUE(split->batches.empty());
      EXPECT_EQ(keep, split->partial.size());
    }
  }
}

// ---- build / parse round trips ---------------------------------------------------------------

TEST(RecordBatch, EveryCodecRoundTrips) {
  for (Compression codec : kCodecs) {
    SCOPED_TRACE(compression::codec_name(codec));
    BatchOptions options;
    options.base_timestamp = TimestampMs(1000);
    options.producer_id = ProducerId(77);
    options.producer_epoch = ProducerEpoch(2);
    options.base_sequence = Sequence(40);
    options.transactional = true;
    options.compression = codec;
    std::vector<Plain> records = sample_records();
    Bytes bytes = build(options, records);
    BatchCheck check = validate_produce_records(bytes, 7, ValidateOptions{});
    ASSERT_TRUE(check.ok()) << check.status.to_string();
    ASSERT_TRUE(check.batch.has_value());
    RecordBatchView batch = *check.batch;
    EXPECT_EQ(codec, batch.compression());
    EXPECT_TRUE(batch.is_transactional());
    EXPECT_EQ(77, batch.producer_id().value());
    EXPECT_EQ(2, batch.producer_epoch().value());
    EXPECT_EQ(40, batch.base_sequence().value());
    EXPECT_EQ(5, batch.records_count());
    EXPECT_EQ(4, batch.last_offset_delta());
    EXPECT_EQ(1003, batch.max_timestamp().value());
    EXPECT_EQ(TimestampMs(1003), check.max_record_timestamp);
    EXPECT_EQ(TimestampMs(999), check.min_record_timestamp);
    EXPECT_FALSE(check.all_records_keyed);  // "no key"
    EXPECT_EQ(records, read_plain(batch, true));
    records.erase(records.begin() + 1);
    BatchCheck keyed = validate_produce_records(build(options, records), 7, ValidateOptions{});
    ASSERT_TRUE(keyed.ok()) << keyed.status.to_string();
    EXPECT_TRUE(keyed.all_records_keyed);
  }
}

TEST(RecordBatch, XerialSnappyBatchFromAJavaProducerReads) {
  // Java producers frame snappy the xerial way; rebuild a batch like theirs by hand.
  std::vector<Plain> records = sample_records();
  Bytes plain_batch = build(with_base_timestamp(1000), records);
  BytesView section = view(plain_batch).records_bytes();
  auto framed =
      compression::compress(Compression::snappy, section, compression::SnappyFraming::xerial);
  ASSERT_TRUE(framed.ok());
  ASSERT_TRUE(compression::is_xerial_snappy(*framed));
  Bytes bytes(plain_batch.begin(), plain_batch.begin() + layout::kHeaderBytes);
  bytes.insert(bytes.end(), framed->begin(), framed->end());
  model::store_i32(bytes.data() + layout::kBatchLength,
                   static_cast<int32_t>(bytes.size() - layout::kLogOverheadBytes));
  model::set_attributes(bytes, static_cast<uint16_t>(Compression::snappy));
  model::update_crc(bytes);
  BatchCheck check = validate_produce_records(bytes, 7, ValidateOptions{});
  ASSERT_TRUE(check.ok()) << check.status.to_string();
  EXPECT_EQ(records, read_plain(view(bytes), true));
}

TEST(RecordBatch, EmptyBatchIsValidInALogButNotFromAClient) {
  Bytes bytes = build(BatchOptions{}, {});
  EXPECT_TRUE(validate_batch(view(bytes), log_origin()).ok());
  BatchCheck check = validate_batch(view(bytes), ValidateOptions{});
  EXPECT_EQ(BatchFault::invalid_record, check.fault);
}

// ---- control batches -------------------------------------------------------------------------

TEST(RecordBatch, ControlBatchesDecode) {
  for (ControlType type : {ControlType::commit, ControlType::abort}) {
    ControlBatchInput input;
    input.base_offset = Offset(500);
    input.timestamp = TimestampMs(123);
    input.producer_id = ProducerId(9);
    input.producer_epoch = ProducerEpoch(4);
    input.type = type;
    input.coordinator_epoch = 17;
    Bytes bytes = build_control_batch(input);
    RecordBatchView batch = view(bytes);
    EXPECT_TRUE(batch.is_control());
    EXPECT_TRUE(batch.is_transactional());
    EXPECT_EQ(-1, batch.base_sequence().value());
    EXPECT_TRUE(validate_batch(batch, log_origin()).ok());
    // Producers may not write control batches.
    EXPECT_EQ(BatchFault::invalid_record, validate_batch(batch, ValidateOptions{}).fault);
    ReadBack back = read_all(batch);
    const std::vector<Record>& records = back.records;
    ASSERT_EQ(1u, records.size());
    EXPECT_EQ(500, records[0].offset.value());
    auto control = decode_control_record(records[0]);
    ASSERT_TRUE(control.ok()) << control.status().to_string();
    EXPECT_EQ(type, control->type);
    EXPECT_EQ(0, control->key_version);
    EXPECT_EQ(17, control->coordinator_epoch);
  }
}

TEST(RecordBatch, ControlRecordWithShortKeyIsInvalid) {
  BatchOptions options;
  options.control = true;
  options.transactional = true;
  Bytes bytes = build(options, {{"ab", "xyz", {}, std::nullopt}});
  BatchCheck check = validate_batch(view(bytes), log_origin());
  EXPECT_EQ(BatchFault::invalid_record, check.fault);
}

// ---- header rules ----------------------------------------------------------------------------

Bytes with_offset_deltas(std::vector<int32_t> deltas) {
  BatchBuilder builder(BatchOptions{});
  for (int32_t delta : deltas) {
    RecordInput input;
    input.value = bytes_of("v");
    input.offset_delta = delta;
    builder.add(input);
  }
  return *std::move(builder).build();
}

TEST(RecordBatch, ProducerOffsetDeltasMustBeZeroToNMinusOne) {
  EXPECT_TRUE(validate_batch(view(with_offset_deltas({0, 1, 2})), ValidateOptions{}).ok());
  for (auto deltas : {std::vector<int32_t>{0, 2, 1}, {1, 2, 3}, {0, 0, 2}, {0, 1, 1}}) {
    Bytes bytes = with_offset_deltas(deltas);
    BatchCheck check = validate_batch(view(bytes), ValidateOptions{});
    EXPECT_EQ(BatchFault::invalid_record, check.fault) << deltas[0] << deltas[1] << deltas[2];
  }
}

TEST(RecordBatch, CompactedBatchWithGapsIsValidOnlyInALog) {
  Bytes bytes = with_offset_deltas({0, 2, 5});
  EXPECT_EQ(5, view(bytes).last_offset_delta());
  EXPECT_TRUE(validate_batch(view(bytes), log_origin()).ok());
  EXPECT_EQ(BatchFault::invalid_record, validate_batch(view(bytes), ValidateOptions{}).fault);
  // Out of order is wrong everywhere.
  Bytes backwards = with_offset_deltas({0, 5, 2});
  EXPECT_EQ(BatchFault::invalid_record, validate_batch(view(backwards), log_origin()).fault);
}

Bytes resealed(Bytes bytes, size_t at, int32_t value) {
  model::store_i32(bytes.data() + at, value);
  model::update_crc(bytes);
  return bytes;
}

TEST(RecordBatch, HeaderCountsMustMatchTheRecords) {
  Bytes bytes = build(BatchOptions{}, sample_records());
  for (int32_t count : {0, 4, 6, -1, INT32_MAX}) {
    Bytes wrong = resealed(bytes, layout::kRecordsCount, count);
    EXPECT_EQ(BatchFault::invalid_record, validate_batch(view(wrong), ValidateOptions{}).fault)
        << count;
    EXPECT_FALSE(validate_batch(view(wrong), log_origin()).ok()) << count;
  }
  Bytes wrong_last = resealed(bytes, layout::kLastOffsetDelta, 7);
  EXPECT_EQ(BatchFault::invalid_record, validate_batch(view(wrong_last), ValidateOptions{}).fault);
}

TEST(RecordBatch, IdempotentBatchNeedsASequence) {
  BatchOptions options;
  options.producer_id = ProducerId(5);
  options.producer_epoch = ProducerEpoch(0);
  options.base_sequence = Sequence(-1);
  Bytes bytes = build(options, sample_records());
  EXPECT_EQ(BatchFault::invalid_record, validate_batch(view(bytes), ValidateOptions{}).fault);
}

TEST(RecordBatch, CodecsFiveToSevenAreUnsupported) {
  Bytes bytes = build(BatchOptions{}, sample_records());
  for (uint16_t codec : {5, 6, 7}) {
    model::set_attributes(bytes, codec);
    model::update_crc(bytes);
    BatchCheck check = validate_produce_records(bytes, 7, ValidateOptions{});
    EXPECT_EQ(BatchFault::unsupported_compression_type, check.fault);
    EXPECT_FALSE(BatchRecords::open(view(bytes), 1 * MiB).ok());
  }
}

TEST(RecordBatch, ZstdNeedsProduceVersionSeven) {
  Bytes bytes = build(with_codec(Compression::zstd), sample_records());
  EXPECT_TRUE(validate_produce_records(bytes, 7, ValidateOptions{}).ok());
  EXPECT_EQ(BatchFault::unsupported_compression_type,
            validate_produce_records(bytes, 6, ValidateOptions{}).fault);
}

TEST(RecordBatch, ProduceRecordsMustBeOneMagicTwoBatch) {
  Bytes bytes = build(BatchOptions{}, sample_records());
  Bytes old_magic = bytes;
  old_magic[layout::kMagic] = 1;
  EXPECT_EQ(BatchFault::invalid_record,
            validate_produce_records(old_magic, 3, ValidateOptions{}).fault);
  Bytes trailing = bytes;
  trailing.push_back(0);
  EXPECT_EQ(BatchFault::invalid_record,
            validate_produce_records(trailing, 3, ValidateOptions{}).fault);
  EXPECT_EQ(BatchFault::invalid_record, validate_produce_records({}, 3, ValidateOptions{}).fault);
  Bytes short_length = resealed(bytes, layout::kBatchLength, 10);
  EXPECT_EQ(BatchFault::corrupt_message,
            validate_produce_records(short_length, 3, ValidateOptions{}).fault);
}

TEST(RecordBatch, CompressedBombIsInvalidWithinTheLimit) {
  std::string big(8 * MiB, 'a');
  Bytes bytes = build(with_codec(Compression::zstd), {{"k", big, {}, 0}});
  EXPECT_LT(bytes.size(), 4 * KiB);
  ValidateOptions options;
  options.decompressed_bytes_max = 1 * MiB;
  BatchCheck check = validate_produce_records(bytes, 7, options);
  EXPECT_EQ(BatchFault::invalid_record, check.fault);
  EXPECT_EQ(StatusCode::too_large, check.status.code());
  options.check_compressed_records = false;  // header checks only
  EXPECT_TRUE(validate_produce_records(bytes, 7, options).ok());
}

TEST(RecordBatch, LogAppendTimeStampingKeepsTheCrcAndOverridesRecordTimestamps) {
  Bytes bytes = build(with_base_timestamp(1000), sample_records());
  stamp_log_append_time(bytes, TimestampMs(99999));
  RecordBatchView batch = view(bytes);
  EXPECT_TRUE(batch.crc_ok());
  EXPECT_TRUE(batch.log_append_time());
  EXPECT_EQ(99999, batch.max_timestamp().value());
  EXPECT_TRUE(validate_batch(batch, log_origin()).ok());
  ReadBack back = read_all(batch);
  EXPECT_EQ(5u, back.records.size());
  for (const Record& r : back.records) EXPECT_EQ(99999, r.timestamp.value());
}

// ---- splitting -------------------------------------------------------------------------------

TEST(BatchSplitter, ReportsATrailingPartialBatchSeparately) {
  Bytes a = build(BatchOptions{}, sample_records());
  Bytes b = build(with_codec(Compression::lz4), sample_records());
  Bytes all = a;
  all.insert(all.end(), b.begin(), b.end());
  all.insert(all.end(), a.begin(), a.begin() + 40);  // a torn third batch
  auto split = split_batches(all);
  ASSERT_TRUE(split.ok());
  ASSERT_EQ(2u, split->batches.size());
  EXPECT_EQ(a.size(), split->batches[0].size_bytes());
  EXPECT_EQ(b.size(), split->batches[1].size_bytes());
  EXPECT_EQ(40u, split->partial.size());
  BatchSplitter splitter(all);
  while (splitter.next()) {
  }
  EXPECT_TRUE(splitter.partial());
  EXPECT_EQ(a.size() + b.size(), splitter.consumed_bytes());
}

TEST(BatchSplitter, MalformedHeadersAreCorruptNotPartial) {
  Bytes a = build(BatchOptions{}, sample_records());
  Bytes bad_length = a;
  model::store_i32(bad_length.data() + layout::kBatchLength, 3);
  EXPECT_EQ(StatusCode::corrupt, split_batches(bad_length).status().code());
  Bytes bad_magic = a;
  bad_magic[layout::kMagic] = 0;
  EXPECT_EQ(StatusCode::corrupt, split_batches(bad_magic).status().code());
  EXPECT_EQ(StatusCode::corrupt, split_batches(a, a.size() - 1).status().code());
  EXPECT_TRUE(split_batches(a, a.size()).ok());
  // A hostile length is just a partial batch: nothing is allocated for it.
  Bytes huge = a;
  model::store_i32(huge.data() + layout::kBatchLength, INT32_MAX);
  auto split = split_batches(huge);
  ASSERT_TRUE(split.ok());
  EXPECT_EQ(huge.size(), split->partial.size());
}

// ---- hostile record framing ------------------------------------------------------------------

void put_varint(Bytes* out, int64_t v) {
  uint8_t buffer[varint::kMaxBytes64];
  size_t n = varint::put_unsigned64(buffer, varint::zigzag_encode64(v));
  out->insert(out->end(), buffer, buffer + n);
}

// A batch whose records section is `records` verbatim, with a correct header and CRC.
Bytes raw_batch(const Bytes& records, int32_t count) {
  Bytes bytes = build(BatchOptions{}, {});
  bytes.insert(bytes.end(), records.begin(), records.end());
  model::store_i32(bytes.data() + layout::kBatchLength,
                   static_cast<int32_t>(bytes.size() - layout::kLogOverheadBytes));
  model::store_i32(bytes.data() + layout::kRecordsCount, count);
  model::store_i32(bytes.data() + layout::kLastOffsetDelta, count - 1);
  model::update_crc(bytes);
  return bytes;
}

// One record: length, then `body` (attributes, timestamp delta, offset delta 0, then `rest`).
Bytes record_with(const Bytes& rest, std::optional<int64_t> length = std::nullopt) {
  Bytes body = {0};
  put_varint(&body, 0);  // timestamp delta
  put_varint(&body, 0);  // offset delta
  body.insert(body.end(), rest.begin(), rest.end());
  Bytes out;
  put_varint(&out, length.value_or(static_cast<int64_t>(body.size())));
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

Bytes varints(std::initializer_list<int64_t> values) {
  Bytes out;
  for (int64_t v : values) put_varint(&out, v);
  return out;
}

TEST(RecordBatch, HostileRecordLengthsFailWithoutAllocating) {
  struct Case {
    const char* name;
    Bytes records;
    const char* expected;
  };
  Bytes one_more_byte = record_with(varints({-1, -1, 0}), 7);
  one_more_byte.push_back(0);
  std::vector<Case> cases = {
      {"key length 2^31-1", record_with(varints({INT32_MAX, -1, 0})), "bad key length"},
      {"key length -5", record_with(varints({-5, -1, 0})), "bad key length"},
      {"value length past end", record_with(varints({-1, 1000, 0})), "bad value length"},
      {"header count 2^31-1", record_with(varints({-1, -1, INT32_MAX})),
       "header count past the end"},
      {"header count -1", record_with(varints({-1, -1, -1})), "bad header count"},
      {"null header key", record_with(varints({-1, -1, 1, -1, -1})), "bad header key length"},
      {"header value length 2^31-1", record_with(varints({-1, -1, 1, 0, INT32_MAX})),
       "bad header value length"},
      {"record length 2^31-1", record_with(varints({-1, -1, 0}), INT32_MAX),
       "record length past the end"},
      {"record length -1", record_with(varints({-1, -1, 0}), -1), "below the minimum"},
      {"record length too small", record_with(varints({-1, -1, 0}), 3), "below the minimum"},
      {"record length covers a byte too many", one_more_byte, "does not match its fields"},
      {"overlong varint", Bytes{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, "varint"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Bytes bytes = raw_batch(c.records, 1);
    g_largest_allocation_bytes = 0;
    g_tracking = true;
    BatchCheck check = validate_produce_records(bytes, 7, ValidateOptions{});
    g_tracking = false;
    EXPECT_EQ(BatchFault::invalid_record, check.fault);
    EXPECT_NE(std::string::npos, check.status.message().find(c.expected))
        << check.status.to_string();
    EXPECT_LT(g_largest_allocation_bytes.load(), size_t{1024});
  }
}

TEST(RecordBatch, WellFormedHandBuiltRecordReads) {
  // The hand encoder agrees with the reader: key "k", null value, one header a=null.
  Bytes rest = varints({1});
  rest.push_back('k');
  Bytes tail = varints({-1, 1, 1});
  rest.insert(rest.end(), tail.begin(), tail.end());
  rest.push_back('a');
  put_varint(&rest, -1);
  Bytes bytes = raw_batch(record_with(rest), 1);
  BatchCheck check = validate_produce_records(bytes, 7, ValidateOptions{});
  ASSERT_TRUE(check.ok()) << check.status.to_string();
  EXPECT_EQ((std::vector<Plain>{{"k", std::nullopt, {{"a", std::nullopt}}, std::nullopt}}),
            read_plain(view(bytes), false));
}

TEST(RecordBatch, BytesAfterTheLastRecordAreInvalid) {
  Bytes records = record_with(varints({-1, -1, 0}));
  records.push_back(0);
  EXPECT_EQ(BatchFault::invalid_record,
            validate_produce_records(raw_batch(records, 1), 7, ValidateOptions{}).fault);
}

}  // namespace
}  // namespace cairn::protocol
