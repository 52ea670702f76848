#include "protocol/compression.h"

#include <gtest/gtest.h>
#include <snappy.h>
#include <zstd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <new>
#include <random>
#include <string>

#include "base/units.h"

// GCC 12 flags free() inside a replaced operator delete as mismatched; it is not.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

// Tracks the largest single allocation made through operator new while `g_tracking` is on,
// so the bomb tests can check that the output buffer never grows past the limit.
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

namespace cairn::protocol::compression {
namespace {

using model::Compression;

constexpr Compression kCodecs[] = {Compression::gzip, Compression::snappy, Compression::lz4,
                                   Compression::zstd};

// Half text (compressible), half pseudo-random (not), so every codec emits literals and matches.
std::vector<uint8_t> sample(size_t size, uint32_t seed) {
  std::vector<uint8_t> out(size);
  std::mt19937 random(seed);
  const std::string text = "the quick brown fox jumps over the lazy dog; key=value; ";
  for (size_t i = 0; i < size; i++) {
    out[i] = (i / 512) % 2 == 0 ? static_cast<uint8_t>(text[i % text.size()])
                                : static_cast<uint8_t>(random());
  }
  return out;
}

void put_be32(std::vector<uint8_t>* out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out->push_back(static_cast<uint8_t>(v >> shift));
}

std::vector<uint8_t> xerial_header() {
  std::vector<uint8_t> out(kXerialMagic, kXerialMagic + sizeof(kXerialMagic));
  put_be32(&out, 1);  // version
  put_be32(&out, 1);  // compatible version
  return out;
}

// A xerial stream framed by hand (not through compress()), the way snappy-java writes it.
std::vector<uint8_t> xerial_by_hand(const std::vector<std::vector<uint8_t>>& chunks) {
  std::vector<uint8_t> out = xerial_header();
  for (const auto& chunk : chunks) {
    std::string compressed;
    snappy::Compress(reinterpret_cast<const char*>(chunk.data()), chunk.size(), &compressed);
    put_be32(&out, static_cast<uint32_t>(compressed.size()));
    out.insert(out.end(), compressed.begin(), compressed.end());
  }
  return out;
}

TEST(Compression, EveryCodecRoundTripsEverySize) {
  for (Compression codec : kCodecs) {
    for (size_t size : {size_t{0}, size_t{1}, size_t{100}, size_t{70000}, size_t{300000}}) {
      SCOPED_TRACE(std::string(codec_name(codec)) + " " + std::to_string(size));
      std::vector<uint8_t> input = sample(size, static_cast<uint32_t>(size));
      auto compressed = compress(codec, input);
      ASSERT_TRUE(compressed.ok()) << compressed.status().to_string();
      auto output = decompress(codec, *compressed, size);
      ASSERT_TRUE(output.ok()) << output.status().to_string();
      EXPECT_EQ(input, *output);
    }
  }
}

TEST(Compression, XerialFramedByHandDecompresses) {
  std::vector<uint8_t> a = sample(32 * KiB, 1);
  std::vector<uint8_t> b = sample(5000, 2);
  std::vector<uint8_t> framed = xerial_by_hand({a, b});
  ASSERT_TRUE(is_xerial_snappy(framed));
  auto output = decompress(Compression::snappy, framed, 1 * MiB);
  ASSERT_TRUE(output.ok()) << output.status().to_string();
  std::vector<uint8_t> expected = a;
  expected.insert(expected.end(), b.begin(), b.end());
  EXPECT_EQ(expected, *output);
}

TEST(Compression, XerialHeaderWithoutChunksIsEmpty) {
  auto output = decompress(Compression::snappy, xerial_header(), 1 * MiB);
  ASSERT_TRUE(output.ok()) << output.status().to_string();
  EXPECT_TRUE(output->empty());
}

TEST(Compression, SnappyCompressWritesRawUnlessXerialIsAsked) {
  std::vector<uint8_t> input = sample(100000, 3);
  auto raw = compress(Compression::snappy, input);
  auto xerial = compress(Compression::snappy, input, SnappyFraming::xerial);
  ASSERT_TRUE(raw.ok());
  ASSERT_TRUE(xerial.ok());
  EXPECT_FALSE(is_xerial_snappy(*raw));
  EXPECT_TRUE(is_xerial_snappy(*xerial));
  // The raw form is one snappy block that the reference library reads directly.
  std::string direct;
  ASSERT_TRUE(snappy::Uncompress(reinterpret_cast<const char*>(raw->data()), raw->size(), &direct));
  EXPECT_EQ(std::string(input.begin(), input.end()), direct);
  auto output = decompress(Compression::snappy, *xerial, input.size());
  ASSERT_TRUE(output.ok()) << output.status().to_string();
  EXPECT_EQ(input, *output);
}

TEST(Compression, XerialHostileChunkLengthsFailCleanly) {
  for (uint32_t length : {0x7fffffffu, 0xffffffffu, 0x80000000u, 1000u, 0u}) {
    SCOPED_TRACE(length);
    std::vector<uint8_t> framed = xerial_header();
    put_be32(&framed, length);
    framed.push_back(0x10);  // a few bytes of "chunk"
    framed.push_back(0x00);
    auto output = decompress(Compression::snappy, framed, 1 * MiB);
    ASSERT_FALSE(output.ok());
    EXPECT_EQ(StatusCode::corrupt, output.status().code());
  }
  std::vector<uint8_t> short_length = xerial_header();
  short_length.push_back(0);
  short_length.push_back(1);
  auto output = decompress(Compression::snappy, short_length, 1 * MiB);
  ASSERT_FALSE(output.ok());
  EXPECT_EQ(StatusCode::corrupt, output.status().code());
}

TEST(Compression, SnappyLengthPreambleOverTheLimitFailsBeforeAllocating) {
  // A raw snappy block claiming 2^32-1 bytes of output in its varint preamble.
  std::vector<uint8_t> hostile = {0xff, 0xff, 0xff, 0xff, 0x0f, 0x00};
  g_largest_allocation_bytes = 0;
  g_tracking = true;
  auto output = decompress(Compression::snappy, hostile, 1 * MiB);
  g_tracking = false;
  ASSERT_FALSE(output.ok());
  EXPECT_EQ(StatusCode::too_large, output.status().code());
  EXPECT_LT(g_largest_allocation_bytes.load(), size_t{64 * KiB});
}

// A zstd frame without a content size, the way a streaming (Java) producer writes it.
std::vector<uint8_t> zstd_without_content_size(const std::vector<uint8_t>& input) {
  ZSTD_CCtx* context = ZSTD_createCCtx();
  ZSTD_CCtx_setParameter(context, ZSTD_c_contentSizeFlag, 0);
  std::vector<uint8_t> out(ZSTD_compressBound(input.size()));
  size_t written = ZSTD_compress2(context, out.data(), out.size(), input.data(), input.size());
  ZSTD_freeCCtx(context);
  EXPECT_FALSE(ZSTD_isError(written));
  out.resize(written);
  EXPECT_EQ(ZSTD_CONTENTSIZE_UNKNOWN, ZSTD_getFrameContentSize(out.data(), out.size()));
  return out;
}

TEST(Compression, DecompressionBombsStopAtTheLimit) {
  const std::vector<uint8_t> zeros(64 * MiB, 0);
  const size_t limit_bytes = 1 * MiB;
  std::vector<std::pair<std::string, std::pair<Compression, std::vector<uint8_t>>>> bombs;
  for (Compression codec : kCodecs) {
    auto compressed = compress(codec, zeros);
    ASSERT_TRUE(compressed.ok());
    bombs.push_back({codec_name(codec), {codec, std::move(compressed).value()}});
  }
  auto xerial = compress(Compression::snappy, zeros, SnappyFraming::xerial);
  ASSERT_TRUE(xerial.ok());
  bombs.push_back({"xerial", {Compression::snappy, std::move(xerial).value()}});
  bombs.push_back({"zstd-streamed", {Compression::zstd, zstd_without_content_size(zeros)}});
  for (const auto& [name, bomb] : bombs) {
    SCOPED_TRACE(name + " (" + std::to_string(bomb.second.size()) + " bytes compressed)");
    g_largest_allocation_bytes = 0;
    g_tracking = true;
    auto output = decompress(bomb.first, bomb.second, limit_bytes);
    g_tracking = false;
    ASSERT_FALSE(output.ok());
    EXPECT_EQ(StatusCode::too_large, output.status().code());
    EXPECT_LE(g_largest_allocation_bytes.load(), limit_bytes);
    EXPECT_GT(g_largest_allocation_bytes.load(), size_t{0});  // the tracker saw the buffer
  }
}

TEST(Compression, OutputOfExactlyTheLimitFits) {
  std::vector<uint8_t> input = sample(50000, 4);
  for (Compression codec : kCodecs) {
    SCOPED_TRACE(codec_name(codec));
    auto compressed = compress(codec, input);
    ASSERT_TRUE(compressed.ok());
    auto fits = decompress(codec, *compressed, input.size());
    ASSERT_TRUE(fits.ok()) << fits.status().to_string();
    EXPECT_EQ(input, *fits);
    auto too_big = decompress(codec, *compressed, input.size() - 1);
    ASSERT_FALSE(too_big.ok());
    EXPECT_EQ(StatusCode::too_large, too_big.status().code());
  }
  std::vector<uint8_t> streamed = zstd_without_content_size(input);
  EXPECT_TRUE(decompress(Compression::zstd, streamed, input.size()).ok());
  EXPECT_EQ(StatusCode::too_large,
            decompress(Compression::zstd, streamed, input.size() - 1).status().code());
}

TEST(Compression, TruncatedPayloadsFail) {
  std::vector<uint8_t> input = sample(20000, 5);
  for (Compression codec : kCodecs) {
    auto compressed = compress(codec, input);
    ASSERT_TRUE(compressed.ok());
    for (size_t keep : {size_t{0}, size_t{1}, compressed->size() / 2, compressed->size() - 1}) {
      SCOPED_TRACE(std::string(codec_name(codec)) + " keep " + std::to_string(keep));
      std::vector<uint8_t> cut(compressed->begin(), compressed->begin() + keep);
      auto output = decompress(codec, cut, 1 * MiB);
      ASSERT_FALSE(output.ok());
      EXPECT_EQ(StatusCode::corrupt, output.status().code()) << output.status().to_string();
    }
  }
}

TEST(Compression, GarbageFailsCleanly) {
  std::mt19937 random(6);
  for (Compression codec : kCodecs) {
    for (int round = 0; round < 50; round++) {
      std::vector<uint8_t> garbage(1 + random() % 300);
      for (auto& byte : garbage) byte = static_cast<uint8_t>(random());
      auto output = decompress(codec, garbage, 64 * KiB);
      if (output.ok()) continue;  // vanishingly rare, but garbage may be a valid raw snappy
      EXPECT_TRUE(output.status().code() == StatusCode::corrupt ||
                  output.status().code() == StatusCode::too_large)
          << output.status().to_string();
    }
  }
}

TEST(Compression, GzipReadsConcatenatedMembers) {
  std::vector<uint8_t> a = sample(3000, 7);
  std::vector<uint8_t> b = sample(4000, 8);
  auto first = compress(Compression::gzip, a);
  auto second = compress(Compression::gzip, b);
  ASSERT_TRUE(first.ok() && second.ok());
  std::vector<uint8_t> both = *first;
  both.insert(both.end(), second->begin(), second->end());
  auto output = decompress(Compression::gzip, both, 1 * MiB);
  ASSERT_TRUE(output.ok()) << output.status().to_string();
  std::vector<uint8_t> expected = a;
  expected.insert(expected.end(), b.begin(), b.end());
  EXPECT_EQ(expected, *output);
  // Gzip framing: magic 1f 8b, deflate.
  EXPECT_EQ(0x1f, (*first)[0]);
  EXPECT_EQ(0x8b, (*first)[1]);
}

TEST(Compression, Lz4WritesTheFrameFormat) {
  auto compressed = compress(Compression::lz4, sample(1000, 9));
  ASSERT_TRUE(compressed.ok());
  // LZ4 frame magic 0x184D2204, little-endian.
  const uint8_t magic[] = {0x04, 0x22, 0x4d, 0x18};
  EXPECT_EQ(0, std::memcmp(magic, compressed->data(), 4));
}

TEST(Compression, UnknownCodecIsUnsupported) {
  std::vector<uint8_t> input = {1, 2, 3};
  for (int codec : {0, 5, 6, 7}) {
    auto output = decompress(static_cast<Compression>(codec), input, 1 * MiB);
    ASSERT_FALSE(output.ok());
    EXPECT_EQ(StatusCode::unsupported, output.status().code());
  }
  EXPECT_EQ(StatusCode::unsupported, compress(Compression::none, input).status().code());
}

}  // namespace
}  // namespace cairn::protocol::compression
