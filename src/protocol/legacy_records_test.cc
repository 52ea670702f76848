#include "protocol/legacy_records.h"

#include <gtest/gtest.h>
#include <xxhash.h>
#include <zlib.h>

#include <string>

#include "protocol/compression.h"

namespace cairn::protocol::legacy {
namespace {

using model::Compression;
using Bytes = std::vector<uint8_t>;

// A record as plain strings, for comparing what went in with what came out.
struct Plain {
  std::optional<std::string> key;
  std::optional<std::string> value;
  int64_t timestamp = -1;
  bool operator==(const Plain&) const = default;
};

std::optional<BytesView> view(const std::optional<std::string>& s) {
  if (!s) return std::nullopt;
  return bytes_of(*s);
}
std::optional<std::string> text(std::optional<BytesView> b) {
  if (!b) return std::nullopt;
  return std::string(reinterpret_cast<const char*>(b->data()), b->size());
}

const std::vector<Plain> kRecords = {{"k1", "v1", 1700000000001},
                                     {std::nullopt, "v2", 1700000000005},
                                     {"k3", std::nullopt, 1700000000003}};

// The records at `magic` (timestamps dropped at magic 0), offsets `first`.. in order.
Bytes plain_set(int8_t magic, const std::vector<Plain>& records, int64_t first = 0) {
  Bytes out;
  for (const Plain& r : records) {
    append_message(out, magic, MessageInput{first++, view(r.key), view(r.value), r.timestamp});
  }
  return out;
}

Bytes wrapped_set(int8_t magic, Compression codec, const std::vector<Plain>& records) {
  Bytes inner = plain_set(magic, records);
  Bytes out;
  EXPECT_TRUE(append_wrapper(out, magic, codec, static_cast<int64_t>(records.size()) - 1,
                             records.back().timestamp, false, inner)
                  .ok());
  return out;
}

// The records of a v2 batch that must pass a Produce request's checks.
std::vector<Plain> read_v2(const Bytes& batch) {
  BatchCheck check = validate_produce_records(batch, 3, ValidateOptions{});
  EXPECT_TRUE(check.ok()) << check.status.to_string();
  std::vector<Plain> out;
  if (!check.ok()) return out;
  Result<BatchRecords> records = BatchRecords::open(*check.batch, 1 * MiB);
  EXPECT_TRUE(records.ok());
  RecordReader reader = records->reader();
  Record record;
  while (reader.next(&record)) {
    out.push_back(Plain{text(record.key), text(record.value), record.timestamp.value()});
  }
  return out;
}

std::vector<Plain> without_timestamps(std::vector<Plain> records) {
  for (Plain& r : records) r.timestamp = -1;
  return records;
}

TEST(LegacyToV2, PlainMessagesOfBothMagics) {
  ToV2 v0 = to_v2(plain_set(kMagicV0, kRecords), {});
  ASSERT_TRUE(v0.ok()) << v0.status.to_string();
  EXPECT_EQ(v0.messages, 3);
  EXPECT_EQ(v0.magic, 0);
  EXPECT_EQ(read_v2(v0.batch), without_timestamps(kRecords));  // magic 0: NO_TIMESTAMP

  ToV2 v1 = to_v2(plain_set(kMagicV1, kRecords), {});
  ASSERT_TRUE(v1.ok()) << v1.status.to_string();
  EXPECT_EQ(read_v2(v1.batch), kRecords);
  model::RecordBatchView view = *model::RecordBatchView::parse(v1.batch);
  EXPECT_EQ(view.max_timestamp().value(), 1700000000005);
  EXPECT_EQ(view.producer_id().value(), -1);
  EXPECT_EQ(view.compression(), Compression::none);
}

TEST(LegacyToV2, WrappersKeepTheirCodec) {
  for (int8_t magic : {kMagicV0, kMagicV1}) {
    for (Compression codec : {Compression::gzip, Compression::snappy, Compression::lz4}) {
      SCOPED_TRACE(std::to_string(magic) + " " + compression::codec_name(codec));
      ToV2 out = to_v2(wrapped_set(magic, codec, kRecords), {});
      ASSERT_TRUE(out.ok()) << out.status.to_string();
      EXPECT_EQ(out.messages, 3);
      EXPECT_EQ(model::RecordBatchView::parse(out.batch)->compression(), codec);
      EXPECT_EQ(read_v2(out.batch), magic == 0 ? without_timestamps(kRecords) : kRecords);
    }
  }
}

TEST(LegacyToV2, SeveralWrappersAndPlainMessagesMakeOneBatch) {
  Bytes set = plain_set(kMagicV1, {kRecords[0]});
  Bytes wrapped = wrapped_set(kMagicV1, Compression::gzip, {kRecords[1], kRecords[2]});
  set.insert(set.end(), wrapped.begin(), wrapped.end());
  ToV2 out = to_v2(set, {});
  ASSERT_TRUE(out.ok()) << out.status.to_string();
  EXPECT_EQ(read_v2(out.batch), kRecords);
}

TEST(LegacyToV2, RawSnappyWrapperFromNonJavaClients) {
  Bytes inner = plain_set(kMagicV1, kRecords);
  Bytes compressed = *compression::compress(Compression::snappy, inner);  // raw framing
  Bytes set;
  append_message(set, kMagicV1, MessageInput{2, std::nullopt, BytesView(compressed), 5});
  set[17] |= 2;  // attributes: snappy, then the CRC again
  uint32_t crc = static_cast<uint32_t>(crc32(0, set.data() + 16, set.size() - 16));
  for (int i = 0; i < 4; i++) set[12 + i] = static_cast<uint8_t>(crc >> (24 - 8 * i));
  ToV2 out = to_v2(set, {});
  ASSERT_TRUE(out.ok()) << out.status.to_string();
  EXPECT_EQ(read_v2(out.batch), kRecords);
}

// Kafka 0.8 clients computed the LZ4 frame header checksum over the frame magic as well.
TEST(LegacyToV2, Magic0Lz4WithTheOldHeaderChecksum) {
  Bytes inner = plain_set(kMagicV0, kRecords);
  Bytes frame = *compression::compress(Compression::lz4, inner);
  uint8_t flags = frame[4];
  size_t descriptor = 2 + ((flags & 0x08) ? 8 : 0) + ((flags & 0x01) ? 4 : 0);
  frame[4 + descriptor] = static_cast<uint8_t>((XXH32(frame.data(), 4 + descriptor, 0) >> 8));
  ASSERT_FALSE(compression::decompress(Compression::lz4, frame, 1 * MiB).ok());
  Bytes set;
  append_message(set, kMagicV0, MessageInput{0, std::nullopt, BytesView(frame)});
  set[17] |= 3;
  uint32_t crc = static_cast<uint32_t>(crc32(0, set.data() + 16, set.size() - 16));
  for (int i = 0; i < 4; i++) set[12 + i] = static_cast<uint8_t>(crc >> (24 - 8 * i));
  ToV2 out = to_v2(set, {});
  ASSERT_TRUE(out.ok()) << out.status.to_string();
  EXPECT_EQ(read_v2(out.batch), without_timestamps(kRecords));
}

void expect_fault(const Bytes& set, BatchFault expected, const std::string& why) {
  ToV2 out = to_v2(set, ToV2Options{true, 64 * KiB});
  EXPECT_EQ(out.fault, expected) << why << ": " << out.status.to_string();
  EXPECT_TRUE(out.batch.empty());
}

// Rewrites the CRC of the message at `at` after a test changed its bytes.
void fix_crc(Bytes& set, size_t at = 0) {
  uint32_t size = (uint32_t{set[at + 8]} << 24) | (uint32_t{set[at + 9]} << 16) |
                  (uint32_t{set[at + 10]} << 8) | set[at + 11];
  uint32_t crc = static_cast<uint32_t>(crc32(0, set.data() + at + 16, size - 4));
  for (int i = 0; i < 4; i++) set[at + 12 + i] = static_cast<uint8_t>(crc >> (24 - 8 * i));
}

TEST(LegacyToV2, BadInputIsRefusedWithKafkasErrors) {
  const BatchFault corrupt = BatchFault::corrupt_message;
  Bytes good = plain_set(kMagicV1, kRecords);
  Bytes bad = good;
  bad[36] ^= 1;  // a byte of the first value
  expect_fault(bad, corrupt, "CRC mismatch");
  expect_fault(Bytes(good.begin(), good.end() - 1), corrupt, "truncated last message");
  expect_fault(Bytes(good.begin(), good.begin() + 5), corrupt, "truncated header");
  expect_fault({}, corrupt, "empty");
  bad = good;
  bad[8] = 0x7f;  // size far past the end
  expect_fault(bad, corrupt, "hostile size");
  bad = good;
  bad[16 + 2 + 8 + 3] = 0x50;  // key length 0x50: past the message
  fix_crc(bad);
  expect_fault(bad, corrupt, "hostile key length");
  bad = good;
  bad[16] = 2;  // magic 2 inside a message set
  fix_crc(bad);
  expect_fault(bad, corrupt, "magic 2");
  bad = good;
  bad[17] = 4;  // zstd: not in magic 0/1
  fix_crc(bad);
  expect_fault(bad, BatchFault::unsupported_compression_type, "zstd");

  Bytes nested_inner = wrapped_set(kMagicV1, Compression::gzip, kRecords);
  Bytes nested;
  ASSERT_TRUE(append_wrapper(nested, kMagicV1, Compression::gzip, 0, 1, false, nested_inner).ok());
  expect_fault(nested, corrupt, "nested compression");

  Bytes mixed;
  ASSERT_TRUE(
      append_wrapper(mixed, kMagicV1, Compression::gzip, 2, 1, false, plain_set(kMagicV0, kRecords))
          .ok());
  expect_fault(mixed, corrupt, "inner magic differs");

  // Wrong magic 1 inner offsets are accepted, as Kafka does since 2.6 (the log assigns them).
  Bytes gaps = plain_set(kMagicV1, {kRecords[0]});
  Bytes second = plain_set(kMagicV1, {kRecords[1]}, 2);
  gaps.insert(gaps.end(), second.begin(), second.end());
  Bytes gapped;
  ASSERT_TRUE(append_wrapper(gapped, kMagicV1, Compression::gzip, 2, 1, false, gaps).ok());
  EXPECT_EQ(to_v2(gapped, {}).messages, 2);

  // Many tiny inner messages are charged more than their bytes: 64 KiB of budget.
  std::vector<Plain> tiny(2000, Plain{std::nullopt, std::nullopt, 1});
  expect_fault(wrapped_set(kMagicV1, Compression::gzip, tiny), corrupt, "too many records");

  Bytes empty;
  ASSERT_TRUE(append_wrapper(empty, kMagicV1, Compression::gzip, 0, 1, false, {}).ok());
  expect_fault(empty, corrupt, "wrapper with nothing inside");

  Bytes garbage = plain_set(kMagicV1, {{std::nullopt, "not gzip at all", 1}});
  garbage[17] |= 1;
  fix_crc(garbage);
  expect_fault(garbage, corrupt, "wrapper that does not decompress");

  Bytes null_value = plain_set(kMagicV1, {{std::nullopt, std::nullopt, 1}});
  null_value[17] |= 1;
  fix_crc(null_value);
  expect_fault(null_value, corrupt, "wrapper without a value");

  // 1 MiB of one repeated message compresses to a few KiB; the limit here is 64 KiB.
  std::vector<Plain> many(20000, Plain{"k", std::string(40, 'x'), 1});
  expect_fault(wrapped_set(kMagicV1, Compression::gzip, many), corrupt, "decompression bomb");
}

// ---- v2 to legacy ------------------------------------------------------------------------

Bytes v2_batch(int64_t base_offset, Compression codec, const std::vector<Plain>& records,
               bool log_append_time = false) {
  BatchOptions options;
  options.base_offset = Offset(base_offset);
  options.base_timestamp = TimestampMs(records.front().timestamp);
  options.compression = codec;
  BatchBuilder builder(options);
  HeaderInput header{"h", bytes_of("dropped")};
  for (const Plain& r : records) {
    builder.add(RecordInput{view(r.key), view(r.value), std::span(&header, 1),
                            TimestampMs(r.timestamp), std::nullopt});
  }
  Bytes batch = *std::move(builder).build();
  if (log_append_time) stamp_log_append_time(batch, TimestampMs(1800000000000));
  return batch;
}

struct Outer {
  int64_t offset;
  uint8_t attributes;
};
// The offsets and attributes of a message set's top-level messages.
std::vector<Outer> outer_messages(const Bytes& set) {
  std::vector<Outer> out;
  for (size_t at = 0; at + 12 <= set.size();) {
    int64_t offset = 0;
    for (int i = 0; i < 8; i++) offset = (offset << 8) | set[at + i];
    uint32_t size = (uint32_t{set[at + 8]} << 24) | (uint32_t{set[at + 9]} << 16) |
                    (uint32_t{set[at + 10]} << 8) | set[at + 11];
    out.push_back(Outer{offset, set[at + 17]});
    at += 12 + size;
  }
  return out;
}

TEST(LegacyFromV2, PlainBatchesBecomeMessagesWithTheirOffsets) {
  Bytes batch = v2_batch(100, Compression::none, kRecords);
  for (int8_t magic : {kMagicV0, kMagicV1}) {
    Result<FromV2> out = from_v2(batch, magic, Offset(101), 1 * MiB, true, 1 * MiB);
    ASSERT_TRUE(out.ok()) << out.status().to_string();
    EXPECT_EQ(out->messages, 2);
    std::vector<Outer> outer = outer_messages(out->bytes);
    ASSERT_EQ(outer.size(), 2u);
    EXPECT_EQ(outer[0].offset, 101);
    EXPECT_EQ(outer[1].offset, 102);
    // Converting back (as a producer's set) gives the same records, headers left out.
    ToV2 back = to_v2(out->bytes, {});
    ASSERT_TRUE(back.ok()) << back.status.to_string();
    std::vector<Plain> expected(kRecords.begin() + 1, kRecords.end());
    EXPECT_EQ(read_v2(back.batch), magic == 0 ? without_timestamps(expected) : expected);
  }
}

TEST(LegacyFromV2, CompressedBatchesBecomeOneWrapperOfTheSameCodec) {
  for (int8_t magic : {kMagicV0, kMagicV1}) {
    for (Compression codec : {Compression::gzip, Compression::snappy, Compression::lz4}) {
      SCOPED_TRACE(std::to_string(magic) + " " + compression::codec_name(codec));
      Bytes batch = v2_batch(40, codec, kRecords);
      Result<FromV2> out = from_v2(batch, magic, Offset(41), 1 * MiB, true, 1 * MiB);
      ASSERT_TRUE(out.ok()) << out.status().to_string();
      std::vector<Outer> outer = outer_messages(out->bytes);
      ASSERT_EQ(outer.size(), 1u);
      EXPECT_EQ(outer[0].offset, 42);  // the wrapper carries its last inner offset
      EXPECT_EQ(outer[0].attributes & 7, static_cast<int>(codec));
      if (codec == Compression::lz4 && magic == kMagicV0) {
        // Kafka 0.8's header checksum, which a standard LZ4 decoder refuses.
        BytesView value(out->bytes.data() + 26, out->bytes.size() - 26);
        EXPECT_FALSE(compression::decompress(codec, value, 1 * MiB).ok());
      }
      ToV2 back = to_v2(out->bytes, {});  // magic 1: relative inner offsets 0..n-1
      ASSERT_TRUE(back.ok()) << back.status.to_string();
      std::vector<Plain> expected(kRecords.begin() + 1, kRecords.end());
      EXPECT_EQ(read_v2(back.batch), magic == 0 ? without_timestamps(expected) : expected);
    }
  }
}

TEST(LegacyFromV2, LogAppendTimeIsMarkedAtMagic1) {
  Bytes batch = v2_batch(0, Compression::none, kRecords, true);
  Result<FromV2> out = from_v2(batch, kMagicV1, Offset(0), 1 * MiB, true, 1 * MiB);
  ASSERT_TRUE(out.ok());
  for (const Outer& o : outer_messages(out->bytes)) EXPECT_EQ(o.attributes, 0x08);
  ToV2 back = to_v2(out->bytes, {});
  ASSERT_TRUE(back.ok());
  for (const Plain& r : read_v2(back.batch)) EXPECT_EQ(r.timestamp, 1800000000000);
}

TEST(LegacyFromV2, ControlBatchesAreLeftOutAndZstdRefused) {
  Bytes log = v2_batch(0, Compression::none, kRecords);
  Bytes marker = build_control_batch(
      ControlBatchInput{Offset(3), -1, TimestampMs(5), ProducerId(7), ProducerEpoch(0)});
  log.insert(log.end(), marker.begin(), marker.end());
  Result<FromV2> out = from_v2(log, kMagicV1, Offset(0), 1 * MiB, true, 1 * MiB);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->messages, 3);
  EXPECT_EQ(outer_messages(out->bytes).size(), 3u);

  Result<FromV2> zstd = from_v2(v2_batch(0, Compression::zstd, kRecords), kMagicV1, Offset(0),
                                1 * MiB, true, 1 * MiB);
  ASSERT_FALSE(zstd.ok());
  EXPECT_EQ(zstd.status().code(), StatusCode::unsupported);
  // After convertible data, a zstd batch ends the output instead.
  Bytes mixed = v2_batch(0, Compression::none, kRecords);
  Bytes tail = v2_batch(3, Compression::zstd, kRecords);
  mixed.insert(mixed.end(), tail.begin(), tail.end());
  Result<FromV2> before = from_v2(mixed, kMagicV1, Offset(0), 1 * MiB, true, 1 * MiB);
  ASSERT_TRUE(before.ok());
  EXPECT_EQ(before->messages, 3);
}

TEST(LegacyFromV2, StopsAtMaxBytesAfterTheFirstBatch) {
  Bytes log = v2_batch(0, Compression::none, kRecords);
  Bytes second = v2_batch(3, Compression::none, kRecords);
  log.insert(log.end(), second.begin(), second.end());
  Result<FromV2> out = from_v2(log, kMagicV0, Offset(0), 10, true, 1 * MiB);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->messages, 3);  // the first batch whole, though past 10 bytes
  Result<FromV2> all = from_v2(log, kMagicV0, Offset(0), 1 * MiB, true, 1 * MiB);
  EXPECT_EQ(all->messages, 6);
  // Past another partition's data, even the first batch must fit.
  Result<FromV2> none = from_v2(log, kMagicV0, Offset(0), 10, false, 1 * MiB);
  EXPECT_EQ(none->messages, 0);
  EXPECT_TRUE(none->bytes.empty());
}

}  // namespace
}  // namespace cairn::protocol::legacy
