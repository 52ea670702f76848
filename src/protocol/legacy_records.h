// Message format v0 and v1 (magic 0 and 1): the "message sets" of Kafka before 0.11. Cairn
// stores only v2 batches, so legacy message sets are converted on the way in (Produce v0-2)
// and v2 batches are converted back on the way out (Fetch v0-3). Layout and the rules applied:
// docs/format/legacy-message-sets.md.
//
//   message := offset i64 | size i32 | crc u32 | magic i8 | attributes i8
//              | timestamp i64 (magic 1 only) | key bytes | value bytes
//   bytes   := length i32 (-1: null) | that many bytes
//
// `size` counts from crc to the end; crc is CRC-32 (IEEE, zlib's crc32) of magic..end.
// Attributes: bits 0-2 the codec (0 none, 1 gzip, 2 snappy, 3 lz4), bit 3 the timestamp type
// (LogAppendTime; magic 1 only). A compressed message (a "wrapper") has a value holding the
// compressed bytes of an inner message set of uncompressed messages of the wrapper's magic.
// Inner offsets at magic 1 are relative (0..n-1 from a producer), and the wrapper carries the
// absolute offset of its last inner message; at magic 0 they are absolute.
//
// Pure functions over borrowed bytes: any thread. Every length read off the wire is checked
// against the bytes left before it is used, and decompression is bounded by the caller.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "base/status.h"
#include "base/types.h"
#include "base/units.h"
#include "protocol/record_batch.h"

namespace cairn::protocol::legacy {

inline constexpr int8_t kMagicV0 = 0;
inline constexpr int8_t kMagicV1 = 1;
// offset + size: the bytes in front of what `size` counts.
inline constexpr size_t kLogOverheadBytes = 12;
// crc + magic + attributes + key length + value length (+ timestamp at magic 1).
inline constexpr size_t kMinMessageSizeV0 = 14;
inline constexpr size_t kMinMessageSizeV1 = 22;

// Whether a Produce `records` field holds a legacy message set: its first message's magic
// byte (at the same place as a v2 batch's) is 0 or 1.
bool is_legacy_message_set(BytesView records);

struct ToV2Options {
  // Off only in fuzzers, to reach the parser behind the CRC.
  bool verify_crc = true;
  // Limit on the wrappers' decompressed inner message sets together; each record is also
  // charged a fixed cost for the memory it takes while the batch is built.
  size_t decompressed_bytes_max = 32 * MiB;
};

struct [[nodiscard]] ToV2 {
  BatchFault fault = BatchFault::none;
  Status status;
  // One v2 batch: base offset 0, no producer id, the codec of the (last) wrapper or none,
  // CreateTime (or LogAppendTime when a magic 1 wrapper said so, with its timestamp).
  std::vector<uint8_t> batch;
  int32_t messages = 0;
  int8_t magic = -1;  // the highest magic seen

  bool ok() const { return fault == BatchFault::none; }
};

// Converts a Produce v0-2 `records` field (one or more messages, each plain or a wrapper) to
// one v2 batch, with Kafka's checks: CRC, framing, magic 0/1, codec 0-3 (4 is zstd, which
// magic 0/1 cannot carry: unsupported_compression_type), wrappers with a value, inner messages
// uncompressed and of the wrapper's magic. Faults are
// corrupt_message (framing, CRC, nested compression, a wrapper that does not decompress or
// holds nothing, more records than the decompression budget allows). Inner offsets are not
// checked (Kafka since 2.6 accepts wrong ones from old clients). Magic 0 messages carry no
// timestamp: their records get -1 (NO_TIMESTAMP), as in Kafka.
ToV2 to_v2(BytesView message_set, const ToV2Options& options);

struct FromV2 {
  std::vector<uint8_t> bytes;  // messages of the asked magic
  int32_t messages = 0;        // records written (inner messages counted one by one)
};

// Converts whole v2 batches (as a log read returns them) to messages of `magic` for the
// records at or past `from`: plain messages for an uncompressed batch, one wrapper of the same
// codec for a compressed one (snappy in the xerial framing older Java clients expect; lz4 at
// magic 0 with Kafka 0.8's header checksum, which Kafka 0.9's readers check). Control
// batches are left out, and so are record headers (the old formats have no place for them).
// Stops before a batch that would take the output past `max_bytes`, except that the first
// batch converted goes whole when `first_may_exceed` (KIP-74: a big record still gets out).
// A zstd batch (Fetch before v10 cannot carry it) ends the output there, or, when it comes
// first, fails with unsupported (Kafka answers UNSUPPORTED_COMPRESSION_TYPE). A batch that
// does not decompress fails with corrupt/too_large. CRCs are the caller's to check (the
// broker reads with Log::copy, which does).
Result<FromV2> from_v2(BytesView batches, int8_t magic, Offset from, size_t max_bytes,
                       bool first_may_exceed, size_t decompressed_bytes_max);

// ---- building (tests, fuzz seeds and the bench) ------------------------------------------------

struct MessageInput {
  int64_t offset = 0;
  std::optional<BytesView> key;
  std::optional<BytesView> value;
  int64_t timestamp = -1;  // magic 1 only
  bool log_append_time = false;
};

// Appends one uncompressed message to `out`.
void append_message(std::vector<uint8_t>& out, int8_t magic, const MessageInput& message);

// Appends one wrapper holding `inner` (an uncompressed message set) compressed with `codec`.
Status append_wrapper(std::vector<uint8_t>& out, int8_t magic, model::Compression codec,
                      int64_t wrapper_offset, int64_t timestamp, bool log_append_time,
                      BytesView inner);

}  // namespace cairn::protocol::legacy
