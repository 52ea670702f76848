// Compression codecs of Kafka record batches: gzip, snappy, lz4 and zstd, as the bytes travel
// in a v2 batch after recordsCount (docs/format/record-batch.md, "Compression framing").
//
// Decompression is always bounded: the caller passes `output_bytes_max` and a payload that
// would expand beyond it fails with StatusCode::too_large before the output buffer grows past
// the limit (a decompression bomb costs at most the limit, never more). Each decoder's own
// working memory is bounded too: zlib 32 KiB, lz4 one block (at most 4 MiB), zstd a window
// capped at max(8 MiB, output_bytes_max) rounded up to a power of two. Malformed input fails
// with StatusCode::corrupt; a codec value outside 1..4 with StatusCode::unsupported.
//
// Snappy has two framings in the wild and both are accepted on decompression:
//   * raw snappy (one snappy block; what librdkafka and most non-Java clients send);
//   * the xerial/snappy-java stream framing that the Java client writes:
//       "\x82SNAPPY\0" | version i32 BE | compatible version i32 BE |
//       { chunk length i32 BE | raw snappy block }...
// Compression writes raw snappy unless `SnappyFraming::xerial` is asked for.
// Lz4 is the LZ4 frame format (lz4frame.h), not the raw block format.
//
// Pure functions with no shared state; any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "base/status.h"
#include "model/record_batch_view.h"

namespace cairn::protocol::compression {

enum class SnappyFraming : uint8_t { raw, xerial };

// The xerial magic, 8 bytes: 0x82 'S' 'N' 'A' 'P' 'P' 'Y' 0x00.
inline constexpr uint8_t kXerialMagic[8] = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0};
inline constexpr size_t kXerialHeaderBytes = 16;  // magic + version + compatible version

// True when `input` starts with the xerial magic.
bool is_xerial_snappy(std::span<const uint8_t> input);

// Compresses `input` with `codec` (gzip, snappy, lz4 or zstd). REQUIRES: codec != none.
Result<std::vector<uint8_t>> compress(model::Compression codec, std::span<const uint8_t> input,
                                      SnappyFraming snappy_framing = SnappyFraming::raw);

// Decompresses `input`; fails with too_large rather than produce more than
// `output_bytes_max` bytes. REQUIRES: codec != none.
Result<std::vector<uint8_t>> decompress(model::Compression codec, std::span<const uint8_t> input,
                                        size_t output_bytes_max);

// Codec names as Kafka spells them in configs ("none", "gzip", "snappy", "lz4", "zstd").
const char* codec_name(model::Compression codec);

}  // namespace cairn::protocol::compression
