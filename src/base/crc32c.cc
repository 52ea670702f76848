#include "base/crc32c.h"

#include <array>
#include <cstring>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

namespace cairn::crc32c {
namespace {

constexpr uint32_t kPolynomialReflected = 0x82F63B78;

// tables[k][b]: the CRC of byte b followed by k zero bytes (slicing-by-8).
using Tables = std::array<std::array<uint32_t, 256>, 8>;

constexpr Tables make_tables() {
  Tables tables{};
  for (uint32_t b = 0; b < 256; b++) {
    uint32_t crc = b;
    for (int bit = 0; bit < 8; bit++) crc = (crc >> 1) ^ ((crc & 1) ? kPolynomialReflected : 0);
    tables[0][b] = crc;
  }
  for (uint32_t b = 0; b < 256; b++) {
    for (size_t k = 1; k < 8; k++) {
      uint32_t previous = tables[k - 1][b];
      tables[k][b] = (previous >> 8) ^ tables[0][previous & 0xff];
    }
  }
  return tables;
}

constexpr Tables kTables = make_tables();

#if defined(__x86_64__)
// The crc32 instruction has a latency of three cycles but can start one every cycle, so one
// dependency chain uses a third of it. Long inputs are cut into rounds of three equal blocks
// whose CRCs run as three independent chains; the chains are then joined with the identity
//   crc(c, A || B) = shift(crc(c, A), |B|) ^ crc(0, B)
// on the raw register (no inversion), where shift(x, n) is the register after n zero bytes.
// shift is linear over GF(2), so for a fixed n it is four table lookups, one per byte of x.
struct ShiftTable {
  std::array<std::array<uint32_t, 256>, 4> by_byte;

  uint32_t apply(uint32_t x) const {
    return by_byte[0][x & 0xff] ^ by_byte[1][(x >> 8) & 0xff] ^ by_byte[2][(x >> 16) & 0xff] ^
           by_byte[3][x >> 24];
  }
};

__attribute__((target("sse4.2"))) uint32_t register_after_zeros(uint32_t x, size_t bytes) {
  uint64_t c = x;
  for (size_t i = 0; i < bytes / 8; i++) c = _mm_crc32_u64(c, 0);
  return static_cast<uint32_t>(c);
}

ShiftTable make_shift_table(size_t bytes) {
  std::array<uint32_t, 32> basis{};
  for (size_t bit = 0; bit < 32; bit++) basis[bit] = register_after_zeros(1u << bit, bytes);
  ShiftTable table{};
  for (size_t k = 0; k < 4; k++) {
    for (uint32_t b = 0; b < 256; b++) {
      uint32_t v = 0;
      for (size_t bit = 0; bit < 8; bit++) {
        if ((b >> bit) & 1) v ^= basis[8 * k + bit];
      }
      table.by_byte[k][b] = v;
    }
  }
  return table;
}

constexpr size_t kLongBlock = 4096;
constexpr size_t kShortBlock = 256;

__attribute__((target("sse4.2"))) inline uint64_t load_crc(uint64_t c, const uint8_t* p) {
  uint64_t word;
  std::memcpy(&word, p, 8);
  return _mm_crc32_u64(c, word);
}

// Rounds of three `block`-byte chains while at least 3 * block bytes remain.
template <size_t block>
__attribute__((target("sse4.2"))) uint64_t three_way(uint64_t c, const uint8_t*& p, size_t& size,
                                                     const ShiftTable& shift) {
  while (size >= 3 * block) {
    uint64_t a = c;
    uint64_t b = 0;
    uint64_t d = 0;
    for (size_t i = 0; i < block; i += 8) {
      a = load_crc(a, p + i);
      b = load_crc(b, p + block + i);
      d = load_crc(d, p + 2 * block + i);
    }
    uint32_t ab = shift.apply(static_cast<uint32_t>(a)) ^ static_cast<uint32_t>(b);
    c = shift.apply(ab) ^ static_cast<uint32_t>(d);
    p += 3 * block;
    size -= 3 * block;
  }
  return c;
}

__attribute__((target("sse4.2"))) uint32_t extend_sse42(uint32_t crc, const uint8_t* p,
                                                        size_t size) {
  static const ShiftTable long_shift = make_shift_table(kLongBlock);
  static const ShiftTable short_shift = make_shift_table(kShortBlock);
  uint64_t c = ~crc;
  while (size > 0 && (reinterpret_cast<uintptr_t>(p) & 7) != 0) {
    c = _mm_crc32_u8(static_cast<uint32_t>(c), *p++);
    size--;
  }
  c = three_way<kLongBlock>(c, p, size, long_shift);
  c = three_way<kShortBlock>(c, p, size, short_shift);
  while (size >= 8) {
    c = load_crc(c, p);
    p += 8;
    size -= 8;
  }
  while (size > 0) {
    c = _mm_crc32_u8(static_cast<uint32_t>(c), *p++);
    size--;
  }
  return ~static_cast<uint32_t>(c);
}
#endif

}  // namespace

uint32_t extend_portable(uint32_t crc, const void* data, size_t size) {
  const auto* p = static_cast<const uint8_t*>(data);
  uint32_t c = ~crc;
  while (size >= 8) {
    uint32_t low;
    uint32_t high;
    std::memcpy(&low, p, 4);
    std::memcpy(&high, p + 4, 4);
    low ^= c;  // little-endian host assumed (x86_64, aarch64)
    c = kTables[7][low & 0xff] ^ kTables[6][(low >> 8) & 0xff] ^ kTables[5][(low >> 16) & 0xff] ^
        kTables[4][low >> 24] ^ kTables[3][high & 0xff] ^ kTables[2][(high >> 8) & 0xff] ^
        kTables[1][(high >> 16) & 0xff] ^ kTables[0][high >> 24];
    p += 8;
    size -= 8;
  }
  while (size > 0) {
    c = (c >> 8) ^ kTables[0][(c ^ *p++) & 0xff];
    size--;
  }
  return ~c;
}

bool hardware_available() {
#if defined(__x86_64__)
  static const bool available = __builtin_cpu_supports("sse4.2");
  return available;
#else
  return false;
#endif
}

uint32_t extend(uint32_t crc, const void* data, size_t size) {
#if defined(__x86_64__)
  if (hardware_available()) return extend_sse42(crc, static_cast<const uint8_t*>(data), size);
#endif
  return extend_portable(crc, data, size);
}

}  // namespace cairn::crc32c
