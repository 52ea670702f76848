#include "protocol/compression.h"

#include <lz4frame.h>
#include <snappy.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <memory>
#include <string>

#include "base/assert.h"
#include "base/units.h"

namespace cairn::protocol::compression {
namespace {

using model::Compression;

// The chunk size snappy-java uses for its stream framing; ours matches so Java readers that
// size buffers by it are happy.
constexpr size_t kXerialChunkBytes = 32 * KiB;
constexpr int32_t kXerialVersion = 1;
constexpr int32_t kXerialCompatibleVersion = 1;
// First allocation of a growing output buffer, before doubling.
constexpr size_t kInitialOutputBytes = 4 * KiB;
// The zstd window a decoder accepts at least: level 19 with an unknown content size uses
// 2^23, and Java producers stream with an unknown size.
constexpr int kZstdWindowLogFloor = 23;
constexpr int kZstdWindowLogCeiling = 27;
constexpr int kZstdLevel = 3;  // Kafka's and librdkafka's default

Status too_large(const char* codec, size_t limit_bytes) {
  return error(StatusCode::too_large, std::string(codec) + " payload expands beyond " +
                                          std::to_string(limit_bytes) + " bytes");
}

Status corrupt(const char* codec, const std::string& why) {
  return error(StatusCode::corrupt, std::string(codec) + ": " + why);
}

// An output buffer that grows by doubling up to a hard limit and never past it. When it is
// full at the limit, `room()` hands out a one-byte probe instead: a decoder that still writes
// a byte there has more output than the limit allows.
class BoundedOutput {
 public:
  explicit BoundedOutput(size_t limit_bytes) : limit_bytes_(limit_bytes) {}

  // A hint of the final size (a header's claim); growth starts there, capped at the limit.
  void expect(size_t size_bytes) { grow_to(std::min(size_bytes, limit_bytes_)); }

  std::span<uint8_t> room() {
    if (used_ == buffer_.size() && buffer_.size() < limit_bytes_) {
      size_t grown = std::max(buffer_.size() * 2, kInitialOutputBytes);
      grow_to(std::min(grown, limit_bytes_));
    }
    if (used_ < buffer_.size()) return std::span<uint8_t>(buffer_).subspan(used_);
    probing_ = true;
    return std::span<uint8_t>(&probe_, 1);
  }

  // Records that the decoder wrote `size` bytes into the last room(). False when they went
  // into the probe, i.e. the output exceeds the limit.
  [[nodiscard]] bool commit(size_t size) {
    if (probing_) {
      probing_ = false;
      return size == 0;
    }
    ASSERT(used_ + size <= buffer_.size());
    used_ += size;
    return true;
  }

  // Room for exactly `size` more bytes, or an empty span when that would pass the limit.
  std::span<uint8_t> reserve_exact(size_t size) {
    if (size > limit_bytes_ - used_) return {};
    grow_to(used_ + size);
    return std::span<uint8_t>(buffer_).subspan(used_, size);
  }

  size_t used() const { return used_; }
  size_t remaining_bytes() const { return limit_bytes_ - used_; }

  std::vector<uint8_t> finish() && {
    buffer_.resize(used_);
    buffer_.shrink_to_fit();
    return std::move(buffer_);
  }

 private:
  // Grows to exactly `size_bytes` (reserve first: resize alone may over-allocate capacity).
  void grow_to(size_t size_bytes) {
    if (size_bytes <= buffer_.size()) return;
    ASSERT(size_bytes <= limit_bytes_);
    buffer_.reserve(size_bytes);
    buffer_.resize(size_bytes);
  }

  size_t limit_bytes_;
  size_t used_ = 0;
  std::vector<uint8_t> buffer_;
  uint8_t probe_ = 0;
  bool probing_ = false;
};

void store_be32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}

uint32_t load_be32(const uint8_t* p) {
  return (static_cast<uint32_t>(p[0]) << 24) | (static_cast<uint32_t>(p[1]) << 16) |
         (static_cast<uint32_t>(p[2]) << 8) | static_cast<uint32_t>(p[3]);
}

// ---- gzip ------------------------------------------------------------------------------------

Result<std::vector<uint8_t>> gzip_compress(std::span<const uint8_t> input) {
  ASSERT(input.size() <= std::numeric_limits<uInt>::max());
  z_stream zs{};
  // 15 + 16: a 32 KiB window with a gzip (not zlib) wrapper, as Kafka's GZIPOutputStream.
  if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
      Z_OK) {
    return error(StatusCode::internal, "gzip: deflateInit2 failed");
  }
  std::vector<uint8_t> out(deflateBound(&zs, static_cast<uLong>(input.size())));
  zs.next_in = const_cast<Bytef*>(input.data());
  zs.avail_in = static_cast<uInt>(input.size());
  zs.next_out = out.data();
  zs.avail_out = static_cast<uInt>(out.size());
  int rc = deflate(&zs, Z_FINISH);
  size_t written = out.size() - zs.avail_out;
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) return error(StatusCode::internal, "gzip: deflate did not finish");
  out.resize(written);
  return out;
}

Result<std::vector<uint8_t>> gzip_decompress(std::span<const uint8_t> input,
                                             size_t output_bytes_max) {
  if (input.size() > std::numeric_limits<uInt>::max()) return corrupt("gzip", "input too big");
  z_stream zs{};
  // 15 + 32: accept a gzip or a zlib wrapper (detected from the first bytes).
  if (inflateInit2(&zs, 15 + 32) != Z_OK) {
    return error(StatusCode::internal, "gzip: inflateInit2 failed");
  }
  std::unique_ptr<z_stream, int (*)(z_stream*)> guard(&zs, inflateEnd);
  zs.next_in = const_cast<Bytef*>(input.data());
  zs.avail_in = static_cast<uInt>(input.size());
  BoundedOutput out(output_bytes_max);
  out.expect(input.size() * 4);
  while (true) {
    std::span<uint8_t> room = out.room();
    zs.next_out = room.data();
    zs.avail_out = static_cast<uInt>(std::min<size_t>(room.size(), UINT32_MAX));
    int rc = inflate(&zs, Z_NO_FLUSH);
    size_t produced = std::min<size_t>(room.size(), UINT32_MAX) - zs.avail_out;
    if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) {
      return corrupt("gzip", zs.msg != nullptr ? zs.msg : "inflate failed");
    }
    if (!out.commit(produced)) return too_large("gzip", output_bytes_max);
    if (rc == Z_STREAM_END) {
      if (zs.avail_in == 0) break;
      // Another gzip member follows (Java's GZIPInputStream reads concatenated members).
      if (inflateReset(&zs) != Z_OK) return corrupt("gzip", "inflateReset failed");
      continue;
    }
    if (rc == Z_BUF_ERROR && zs.avail_in == 0 && zs.avail_out > 0) {
      return corrupt("gzip", "truncated stream");
    }
  }
  return std::move(out).finish();
}

// ---- snappy ----------------------------------------------------------------------------------

Status snappy_raw_into(std::span<const uint8_t> input, BoundedOutput* out, size_t limit_bytes) {
  const char* data = reinterpret_cast<const char*>(input.data());
  size_t length = 0;
  if (!snappy::GetUncompressedLength(data, input.size(), &length)) {
    return corrupt("snappy", "bad length preamble");
  }
  if (length > out->remaining_bytes()) return too_large("snappy", limit_bytes);
  std::span<uint8_t> target = out->reserve_exact(length);
  ASSERT(target.size() == length);
  if (!snappy::RawUncompress(data, input.size(), reinterpret_cast<char*>(target.data()))) {
    return corrupt("snappy", "malformed block");
  }
  bool committed = out->commit(length);
  ASSERT(committed);
  return Status();
}

Result<std::vector<uint8_t>> snappy_decompress(std::span<const uint8_t> input,
                                               size_t output_bytes_max) {
  BoundedOutput out(output_bytes_max);
  if (!is_xerial_snappy(input)) {
    RETURN_IF_ERROR(snappy_raw_into(input, &out, output_bytes_max));
    return std::move(out).finish();
  }
  if (input.size() < kXerialHeaderBytes) return corrupt("snappy", "truncated xerial header");
  // Version and compatible version are not checked: snappy-java has only ever written 1/1,
  // and librdkafka does not check them either.
  std::span<const uint8_t> rest = input.subspan(kXerialHeaderBytes);
  while (!rest.empty()) {
    if (rest.size() < 4) return corrupt("snappy", "truncated xerial chunk length");
    uint32_t chunk_bytes = load_be32(rest.data());
    rest = rest.subspan(4);
    // Negative (as an i32) and oversized lengths both land here (CVE-2023-34455's shape).
    if (chunk_bytes > rest.size()) return corrupt("snappy", "xerial chunk past the end");
    RETURN_IF_ERROR(snappy_raw_into(rest.first(chunk_bytes), &out, output_bytes_max));
    rest = rest.subspan(chunk_bytes);
  }
  return std::move(out).finish();
}

Result<std::vector<uint8_t>> snappy_compress(std::span<const uint8_t> input,
                                             SnappyFraming framing) {
  const char* data = reinterpret_cast<const char*>(input.data());
  if (framing == SnappyFraming::raw) {
    std::vector<uint8_t> out(snappy::MaxCompressedLength(input.size()));
    size_t written = 0;
    snappy::RawCompress(data, input.size(), reinterpret_cast<char*>(out.data()), &written);
    out.resize(written);
    return out;
  }
  std::vector<uint8_t> out(kXerialHeaderBytes);
  std::memcpy(out.data(), kXerialMagic, sizeof(kXerialMagic));
  store_be32(out.data() + 8, kXerialVersion);
  store_be32(out.data() + 12, kXerialCompatibleVersion);
  for (size_t at = 0; at < input.size(); at += kXerialChunkBytes) {
    size_t chunk = std::min(kXerialChunkBytes, input.size() - at);
    size_t header_at = out.size();
    out.resize(header_at + 4 + snappy::MaxCompressedLength(chunk));
    size_t written = 0;
    snappy::RawCompress(data + at, chunk, reinterpret_cast<char*>(out.data() + header_at + 4),
                        &written);
    ASSERT(written <= std::numeric_limits<int32_t>::max());
    store_be32(out.data() + header_at, static_cast<uint32_t>(written));
    out.resize(header_at + 4 + written);
  }
  return out;
}

// ---- lz4 (frame format) ----------------------------------------------------------------------

LZ4F_preferences_t lz4_preferences() {
  LZ4F_preferences_t prefs;
  std::memset(&prefs, 0, sizeof(prefs));
  // 64 KiB independent blocks, no checksums beyond the frame's: what librdkafka writes and
  // what Kafka's Java KafkaLZ4BlockInputStream reads.
  prefs.frameInfo.blockSizeID = LZ4F_max64KB;
  prefs.frameInfo.blockMode = LZ4F_blockIndependent;
  return prefs;
}

Result<std::vector<uint8_t>> lz4_compress(std::span<const uint8_t> input) {
  LZ4F_preferences_t prefs = lz4_preferences();
  std::vector<uint8_t> out(LZ4F_compressFrameBound(input.size(), &prefs));
  size_t written = LZ4F_compressFrame(out.data(), out.size(), input.data(), input.size(), &prefs);
  if (LZ4F_isError(written)) {
    return error(StatusCode::internal, std::string("lz4: ") + LZ4F_getErrorName(written));
  }
  out.resize(written);
  return out;
}

Result<std::vector<uint8_t>> lz4_decompress(std::span<const uint8_t> input,
                                            size_t output_bytes_max) {
  LZ4F_dctx* raw_context = nullptr;
  if (LZ4F_isError(LZ4F_createDecompressionContext(&raw_context, LZ4F_VERSION))) {
    return error(StatusCode::internal, "lz4: cannot create a decompression context");
  }
  std::unique_ptr<LZ4F_dctx, LZ4F_errorCode_t (*)(LZ4F_dctx*)> context(
      raw_context, LZ4F_freeDecompressionContext);
  BoundedOutput out(output_bytes_max);
  out.expect(input.size() * 4);
  const uint8_t* in = input.data();
  const uint8_t* end = input.data() + input.size();
  if (in == end) return corrupt("lz4", "empty input");
  while (true) {
    std::span<uint8_t> room = out.room();
    size_t produced = room.size();
    size_t consumed = static_cast<size_t>(end - in);
    size_t hint = LZ4F_decompress(context.get(), room.data(), &produced, in, &consumed, nullptr);
    if (LZ4F_isError(hint)) return corrupt("lz4", LZ4F_getErrorName(hint));
    in += consumed;
    bool room_left = produced < room.size();
    if (!out.commit(produced)) return too_large("lz4", output_bytes_max);
    if (hint == 0) {
      if (in == end) break;
      continue;  // another frame follows; the context resets itself after a frame
    }
    if (in == end && room_left) return corrupt("lz4", "truncated frame");
  }
  return std::move(out).finish();
}

// ---- zstd ------------------------------------------------------------------------------------

Result<std::vector<uint8_t>> zstd_compress(std::span<const uint8_t> input) {
  std::vector<uint8_t> out(ZSTD_compressBound(input.size()));
  size_t written = ZSTD_compress(out.data(), out.size(), input.data(), input.size(), kZstdLevel);
  if (ZSTD_isError(written)) {
    return error(StatusCode::internal, std::string("zstd: ") + ZSTD_getErrorName(written));
  }
  out.resize(written);
  return out;
}

int zstd_window_log_max(size_t output_bytes_max) {
  int log = kZstdWindowLogFloor;
  while (log < kZstdWindowLogCeiling && (size_t{1} << log) < output_bytes_max) log++;
  return log;
}

Result<std::vector<uint8_t>> zstd_decompress(std::span<const uint8_t> input,
                                             size_t output_bytes_max) {
  std::unique_ptr<ZSTD_DCtx, size_t (*)(ZSTD_DCtx*)> context(ZSTD_createDCtx(), ZSTD_freeDCtx);
  if (context == nullptr) return error(StatusCode::internal, "zstd: cannot create a context");
  size_t rc = ZSTD_DCtx_setParameter(context.get(), ZSTD_d_windowLogMax,
                                     zstd_window_log_max(output_bytes_max));
  ASSERT(!ZSTD_isError(rc));
  BoundedOutput out(output_bytes_max);
  unsigned long long claimed = ZSTD_getFrameContentSize(input.data(), input.size());
  if (claimed != ZSTD_CONTENTSIZE_UNKNOWN && claimed != ZSTD_CONTENTSIZE_ERROR) {
    if (claimed > output_bytes_max) return too_large("zstd", output_bytes_max);
    out.expect(static_cast<size_t>(claimed));
  } else {
    out.expect(input.size() * 4);
  }
  ZSTD_inBuffer in{input.data(), input.size(), 0};
  while (true) {
    std::span<uint8_t> room = out.room();
    ZSTD_outBuffer target{room.data(), room.size(), 0};
    size_t hint = ZSTD_decompressStream(context.get(), &target, &in);
    if (ZSTD_isError(hint)) {
      if (ZSTD_getErrorCode(hint) == ZSTD_error_frameParameter_windowTooLarge) {
        return error(StatusCode::too_large, "zstd: frame window larger than allowed");
      }
      return corrupt("zstd", ZSTD_getErrorName(hint));
    }
    bool room_left = target.pos < target.size;
    if (!out.commit(target.pos)) return too_large("zstd", output_bytes_max);
    if (hint == 0 && in.pos == in.size) break;
    if (hint != 0 && in.pos == in.size && room_left) return corrupt("zstd", "truncated frame");
  }
  return std::move(out).finish();
}

}  // namespace

bool is_xerial_snappy(std::span<const uint8_t> input) {
  return input.size() >= sizeof(kXerialMagic) &&
         std::memcmp(input.data(), kXerialMagic, sizeof(kXerialMagic)) == 0;
}

const char* codec_name(Compression codec) {
  switch (codec) {
    case Compression::none:
      return "none";
    case Compression::gzip:
      return "gzip";
    case Compression::snappy:
      return "snappy";
    case Compression::lz4:
      return "lz4";
    case Compression::zstd:
      return "zstd";
  }
  return "unknown";
}

Result<std::vector<uint8_t>> compress(Compression codec, std::span<const uint8_t> input,
                                      SnappyFraming snappy_framing) {
  switch (codec) {
    case Compression::gzip:
      return gzip_compress(input);
    case Compression::snappy:
      return snappy_compress(input, snappy_framing);
    case Compression::lz4:
      return lz4_compress(input);
    case Compression::zstd:
      return zstd_compress(input);
    case Compression::none:
      break;
  }
  return error(StatusCode::unsupported,
               "compression codec " + std::to_string(static_cast<int>(codec)));
}

Result<std::vector<uint8_t>> decompress(Compression codec, std::span<const uint8_t> input,
                                        size_t output_bytes_max) {
  switch (codec) {
    case Compression::gzip:
      return gzip_decompress(input, output_bytes_max);
    case Compression::snappy:
      return snappy_decompress(input, output_bytes_max);
    case Compression::lz4:
      return lz4_decompress(input, output_bytes_max);
    case Compression::zstd:
      return zstd_decompress(input, output_bytes_max);
    case Compression::none:
      break;
  }
  return error(StatusCode::unsupported,
               "compression codec " + std::to_string(static_cast<int>(codec)));
}

}  // namespace cairn::protocol::compression
