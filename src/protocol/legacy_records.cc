#include "protocol/legacy_records.h"

#include <isa-l/crc.h>
#include <xxhash.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <string>

#include "base/assert.h"
#include "protocol/compression.h"

namespace cairn::protocol::legacy {
namespace {

using model::Compression;

constexpr uint8_t kCodecMask = 0x07;
constexpr uint8_t kLogAppendTimeBit = 0x08;
constexpr size_t kMagicAt = 16;  // offset(8) + size(4) + crc(4)

uint32_t load32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}
uint64_t load64(const uint8_t* p) { return (uint64_t{load32(p)} << 32) | load32(p + 4); }
void store32(uint8_t* p, uint32_t v) {
  for (int i = 3; i >= 0; i--, v >>= 8) p[i] = static_cast<uint8_t>(v);
}

// CRC-32 (IEEE, reflected; the same value as zlib's crc32) with ISA-L's carry-less multiply
// code: about 14x zlib's speed here, and the CRC of every message is most of a conversion.
uint32_t crc32_of(BytesView bytes) { return crc32_gzip_refl(0, bytes.data(), bytes.size()); }

struct Message {
  int64_t offset = 0;
  int8_t magic = 0;
  uint8_t attributes = 0;
  int64_t timestamp = -1;
  std::optional<BytesView> key;
  std::optional<BytesView> value;

  uint8_t codec() const { return attributes & kCodecMask; }
};

// Reads the messages of one message set, checking each length against the bytes left.
class MessageReader {
 public:
  MessageReader(BytesView bytes, bool verify_crc)
      : at_(bytes.data()), end_(bytes.data() + bytes.size()), verify_crc_(verify_crc) {}

  // False at the end, or at the first malformed message (then status() says why).
  bool next(Message* message);
  const Status& status() const { return status_; }

 private:
  bool fail(std::string why) {
    status_ = error(StatusCode::corrupt, std::move(why));
    at_ = end_;
    return false;
  }
  // Reads a key or value: length i32, -1 for null.
  bool read_bytes(const uint8_t*& p, const uint8_t* end, std::optional<BytesView>* out);

  const uint8_t* at_;
  const uint8_t* end_;
  bool verify_crc_;
  Status status_;
};

bool MessageReader::read_bytes(const uint8_t*& p, const uint8_t* end,
                               std::optional<BytesView>* out) {
  if (end - p < 4) return fail("message truncated before a length");
  auto length = static_cast<int32_t>(load32(p));
  p += 4;
  if (length == -1) {
    out->reset();
    return true;
  }
  if (length < 0 || length > end - p) {
    return fail("key or value length " + std::to_string(length) + " outside the message");
  }
  *out = BytesView(p, static_cast<size_t>(length));
  p += length;
  return true;
}

bool MessageReader::next(Message* message) {
  if (at_ == end_) return false;
  if (static_cast<size_t>(end_ - at_) < kLogOverheadBytes) return fail("message set truncated");
  message->offset = static_cast<int64_t>(load64(at_));
  auto size = static_cast<int32_t>(load32(at_ + 8));
  const uint8_t* body = at_ + kLogOverheadBytes;
  if (size < static_cast<int32_t>(kMinMessageSizeV0)) {
    return fail("message size " + std::to_string(size) + " below the minimum");
  }
  if (size > end_ - body) return fail("message truncated: size " + std::to_string(size));
  const uint8_t* end = body + size;
  message->magic = static_cast<int8_t>(body[4]);
  if (message->magic != kMagicV0 && message->magic != kMagicV1) {
    return fail("message magic " + std::to_string(message->magic) + " in a message set");
  }
  if (message->magic == kMagicV1 && size < static_cast<int32_t>(kMinMessageSizeV1)) {
    return fail("magic 1 message size " + std::to_string(size) + " below the minimum");
  }
  if (verify_crc_ && crc32_of(BytesView(body + 4, end)) != load32(body)) {
    return fail("message CRC mismatch at offset " + std::to_string(message->offset));
  }
  message->attributes = body[5];
  const uint8_t* p = body + 6;
  message->timestamp = -1;
  if (message->magic == kMagicV1) {
    message->timestamp = static_cast<int64_t>(load64(p));
    p += 8;
  }
  if (!read_bytes(p, end, &message->key) || !read_bytes(p, end, &message->value)) return false;
  if (p != end) return fail("message has bytes after its value");
  at_ = end;
  return true;
}

// The LZ4 frame descriptor's size (flags, block descriptor, optional content size and
// dictionary id; the header checksum follows it), or nullopt when `frame` does not start with
// a whole LZ4 frame header.
std::optional<size_t> lz4_descriptor_bytes(BytesView frame) {
  constexpr size_t kDescriptorAt = 4;
  if (frame.size() < kDescriptorAt + 3 || load32(frame.data()) != 0x04224D18U) return std::nullopt;
  uint8_t flags = frame[kDescriptorAt];
  size_t descriptor = 2 + ((flags & 0x08) != 0 ? 8 : 0) + ((flags & 0x01) != 0 ? 4 : 0);
  if (frame.size() <= kDescriptorAt + descriptor) return std::nullopt;
  return descriptor;
}

// Kafka 0.8-0.9 (and clients writing magic 0 for them) computed the LZ4 frame header checksum
// over the frame magic too. Returns a copy with the standard checksum, or nullopt when the
// bytes are not an LZ4 frame header at all.
std::optional<std::vector<uint8_t>> with_standard_lz4_checksum(BytesView frame) {
  std::optional<size_t> descriptor = lz4_descriptor_bytes(frame);
  if (!descriptor.has_value()) return std::nullopt;
  std::vector<uint8_t> copy(frame.begin(), frame.end());
  XXH32_hash_t hash = XXH32(copy.data() + 4, *descriptor, 0);
  copy[4 + *descriptor] = static_cast<uint8_t>((hash >> 8) & 0xff);
  return copy;
}

// The header checksum as Kafka 0.8 computed it (over the frame magic too), for magic 0 output.
void set_kafka08_lz4_checksum(std::vector<uint8_t>& frame) {
  std::optional<size_t> descriptor = lz4_descriptor_bytes(frame);
  if (!descriptor.has_value()) return;
  XXH32_hash_t hash = XXH32(frame.data(), 4 + *descriptor, 0);
  frame[4 + *descriptor] = static_cast<uint8_t>((hash >> 8) & 0xff);
}

Result<std::vector<uint8_t>> decompress_wrapper(const Message& wrapper, size_t limit) {
  auto codec = static_cast<Compression>(wrapper.codec());
  Result<std::vector<uint8_t>> inner = compression::decompress(codec, *wrapper.value, limit);
  if (inner.ok() || codec != Compression::lz4 || wrapper.magic != kMagicV0) return inner;
  std::optional<std::vector<uint8_t>> repaired = with_standard_lz4_checksum(*wrapper.value);
  if (!repaired.has_value()) return inner;
  return compression::decompress(codec, *repaired, limit);
}

ToV2 fault(BatchFault kind, StatusCode code, std::string why) {
  ToV2 out;
  out.fault = kind;
  out.status = error(code, std::move(why));
  return out;
}
ToV2 corrupt(std::string why) {
  return fault(BatchFault::corrupt_message, StatusCode::corrupt, std::move(why));
}

// What to_v2 gathers before building: the records, and the decompressed buffers they view.
struct Gathered {
  std::vector<RecordInput> records;
  std::vector<std::vector<uint8_t>> buffers;
  Compression codec = Compression::none;
  size_t decompressed_left = 0;
  int8_t magic = -1;
};

// Each record gathered costs memory beyond its bytes (a RecordInput, its encoding in the
// builder): charged against the decompression budget, so many tiny inner messages cannot
// cost more than the budget's order of magnitude.
constexpr size_t kRecordCostBytes = sizeof(RecordInput) + 16;

bool charge_record(Gathered& into) {
  if (into.decompressed_left < kRecordCostBytes) return false;
  into.decompressed_left -= kRecordCostBytes;
  return true;
}

RecordInput record_of(const Message& message, int64_t timestamp) {
  RecordInput record;
  record.key = message.key;
  record.value = message.value;
  record.timestamp = TimestampMs(timestamp);
  return record;
}

// Adds a wrapper's inner messages; a fault, or none.
ToV2 gather_wrapper(const Message& wrapper, const ToV2Options& options, Gathered& into) {
  if (!wrapper.value.has_value()) return corrupt("compressed message without a value");
  Result<std::vector<uint8_t>> inner = decompress_wrapper(wrapper, into.decompressed_left);
  if (!inner.ok()) {
    return corrupt("compressed message does not decompress: " + inner.status().message());
  }
  into.decompressed_left -= inner->size();
  into.buffers.push_back(std::move(inner).value());
  MessageReader reader(into.buffers.back(), options.verify_crc);
  Message message;
  int64_t inner_count = 0;
  // Inner offsets are not checked: the log assigns offsets anyway, and Kafka (since 2.6)
  // accepts the wrong relative offsets some old clients wrote.
  while (reader.next(&message)) {
    if (message.magic != wrapper.magic) return corrupt("inner message of another magic");
    if (message.codec() != 0) return corrupt("compressed message inside a compressed message");
    if (!charge_record(into)) return corrupt("compressed messages hold too many records");
    inner_count++;
    into.records.push_back(record_of(message, message.timestamp));
  }
  if (!reader.status().ok()) return corrupt("inner " + reader.status().message());
  if (inner_count == 0) return corrupt("compressed message with no messages inside");
  into.codec = static_cast<Compression>(wrapper.codec());
  return ToV2{};
}

}  // namespace

bool is_legacy_message_set(BytesView records) {
  return records.size() > kMagicAt && (records[kMagicAt] == 0 || records[kMagicAt] == 1);
}

ToV2 to_v2(BytesView message_set, const ToV2Options& options) {
  Gathered gathered;
  gathered.decompressed_left = options.decompressed_bytes_max;
  MessageReader reader(message_set, options.verify_crc);
  Message message;
  while (reader.next(&message)) {
    gathered.magic = std::max(gathered.magic, message.magic);
    uint8_t codec = message.codec();
    if (codec > static_cast<uint8_t>(Compression::lz4)) {
      return fault(BatchFault::unsupported_compression_type, StatusCode::unsupported,
                   "compression codec " + std::to_string(codec) + " in a magic " +
                       std::to_string(message.magic) + " message");
    }
    if (codec == 0) {
      gathered.records.push_back(record_of(message, message.timestamp));
      continue;
    }
    ToV2 wrapped = gather_wrapper(message, options, gathered);
    if (!wrapped.ok()) return wrapped;
  }
  if (!reader.status().ok()) return corrupt(reader.status().message());
  if (gathered.records.empty()) return corrupt("no messages");
  if (gathered.records.size() > static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
    return corrupt("too many messages");
  }
  BatchOptions batch_options;
  batch_options.base_timestamp = *gathered.records.front().timestamp;
  batch_options.compression = gathered.codec;
  BatchBuilder builder(batch_options);
  for (const RecordInput& record : gathered.records) builder.add(record);
  Result<std::vector<uint8_t>> built = std::move(builder).build();
  if (!built.ok()) return corrupt("cannot build the converted batch: " + built.status().message());
  ToV2 out;
  out.batch = std::move(built).value();
  out.messages = static_cast<int32_t>(gathered.records.size());
  out.magic = gathered.magic;
  return out;
}

void append_message(std::vector<uint8_t>& out, int8_t magic, const MessageInput& message) {
  ASSERT(magic == kMagicV0 || magic == kMagicV1);
  auto length = [](const std::optional<BytesView>& b) { return b.has_value() ? b->size() : 0; };
  size_t size = (magic == kMagicV1 ? kMinMessageSizeV1 : kMinMessageSizeV0) + length(message.key) +
                length(message.value);
  ASSERT(size <= static_cast<size_t>(std::numeric_limits<int32_t>::max()));
  size_t start = out.size();
  out.resize(start + kLogOverheadBytes + size);  // one growth; every byte written below
  uint8_t* p = out.data() + start;
  store32(p, static_cast<uint32_t>(static_cast<uint64_t>(message.offset) >> 32));
  store32(p + 4, static_cast<uint32_t>(message.offset));
  store32(p + 8, static_cast<uint32_t>(size));
  uint8_t* body = p + kLogOverheadBytes;  // crc, then what it covers
  uint8_t* at = body + 4;
  *at++ = static_cast<uint8_t>(magic);
  *at++ = magic == kMagicV1 && message.log_append_time ? kLogAppendTimeBit : 0;
  if (magic == kMagicV1) {
    store32(at, static_cast<uint32_t>(static_cast<uint64_t>(message.timestamp) >> 32));
    store32(at + 4, static_cast<uint32_t>(message.timestamp));
    at += 8;
  }
  for (const std::optional<BytesView>* field : {&message.key, &message.value}) {
    store32(at, field->has_value() ? static_cast<uint32_t>((*field)->size()) : 0xffffffffU);
    at += 4;
    if (field->has_value() && !(*field)->empty()) {
      std::memcpy(at, (*field)->data(), (*field)->size());
      at += (*field)->size();
    }
  }
  ASSERT(at == body + size);
  store32(body, crc32_of(BytesView(body + 4, at)));
}

Status append_wrapper(std::vector<uint8_t>& out, int8_t magic, Compression codec,
                      int64_t wrapper_offset, int64_t timestamp, bool log_append_time,
                      BytesView inner) {
  ASSERT(codec == Compression::gzip || codec == Compression::snappy || codec == Compression::lz4);
  Result<std::vector<uint8_t>> compressed =
      compression::compress(codec, inner, compression::SnappyFraming::xerial);
  if (!compressed.ok()) return compressed.status();
  // Magic 0 readers of Kafka 0.9 check the LZ4 header checksum the 0.8 way (Kafka writes it
  // so at magic 0); later readers recompute or ignore it there.
  if (codec == Compression::lz4 && magic == kMagicV0) set_kafka08_lz4_checksum(*compressed);
  size_t start = out.size();
  MessageInput wrapper;
  wrapper.offset = wrapper_offset;
  wrapper.value = BytesView(*compressed);
  wrapper.timestamp = timestamp;
  wrapper.log_append_time = log_append_time;
  append_message(out, magic, wrapper);
  // The codec lives in the attributes, which the CRC covers: set it, then redo the CRC.
  constexpr size_t kCrcAt = kLogOverheadBytes, kAttributesAt = kMagicAt + 1;
  out[start + kAttributesAt] |= static_cast<uint8_t>(codec);
  store32(out.data() + start + kCrcAt,
          crc32_of(BytesView(out.data() + start + kMagicAt, out.data() + out.size())));
  return Status();
}

namespace {

// The messages of one v2 batch's records at or past `from`, appended to `out`.
Status convert_batch(const model::RecordBatchView& batch, int8_t magic, Offset from,
                     size_t decompressed_bytes_max, std::vector<uint8_t>& out, int32_t& count) {
  Result<BatchRecords> records = BatchRecords::open(batch, decompressed_bytes_max);
  if (!records.ok()) return records.status();
  Compression codec = batch.compression();
  bool log_append_time = batch.log_append_time();
  std::vector<uint8_t> inner;
  std::vector<uint8_t>& target = codec == Compression::none ? out : inner;
  RecordReader reader = records->reader();
  Record record;
  int64_t first = -1, last = -1, max_timestamp = -1;
  while (reader.next(&record)) {
    if (record.offset < from) continue;
    if (first < 0) first = record.offset.value();
    last = record.offset.value();
    max_timestamp = std::max(max_timestamp, record.timestamp.value());
    MessageInput message;
    // Inner offsets at magic 1 are relative to the wrapper's first record.
    bool relative = codec != Compression::none && magic == kMagicV1;
    message.offset = relative ? last - first : last;
    message.key = record.key;
    message.value = record.value;
    message.timestamp = record.timestamp.value();
    message.log_append_time = log_append_time;
    append_message(target, magic, message);
    count++;
  }
  if (!reader.status().ok()) return reader.status();
  if (codec == Compression::none || first < 0) return Status();
  return append_wrapper(out, magic, codec, last, max_timestamp, log_append_time, inner);
}

}  // namespace

Result<FromV2> from_v2(BytesView batches, int8_t magic, Offset from, size_t max_bytes,
                       bool first_may_exceed, size_t decompressed_bytes_max) {
  ASSERT(magic == kMagicV0 || magic == kMagicV1);
  FromV2 out;
  BatchSplitter splitter(batches);
  while (std::optional<model::RecordBatchView> batch = splitter.next()) {
    if (batch->is_control() || batch->last_offset() < from) continue;
    if (!batch->crc_ok()) {
      return error(
          StatusCode::corrupt,
          "batch at offset " + std::to_string(batch->base_offset().value()) + " fails its CRC");
    }
    if (batch->compression() == Compression::zstd) {
      if (!out.bytes.empty()) break;  // send what came before it; the next fetch fails
      return error(StatusCode::unsupported,
                   "zstd batches cannot be sent as magic " + std::to_string(magic) + " messages");
    }
    // Converted in place at the end of the output, and taken back if it does not fit.
    size_t before = out.bytes.size();
    int32_t count = 0;
    Status converted = convert_batch(*batch, magic, from, decompressed_bytes_max, out.bytes, count);
    if (!converted.ok()) return converted;
    bool first = before == 0 && first_may_exceed;
    if (!first && out.bytes.size() > max_bytes) {
      out.bytes.resize(before);
      break;
    }
    out.messages += count;
  }
  if (!splitter.status().ok()) return splitter.status();
  return out;
}

}  // namespace cairn::protocol::legacy
