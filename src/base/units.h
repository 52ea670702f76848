// Byte-size units. Names carry units last: segment_bytes_max, not max_segment_size.
#pragma once

#include <cstdint>

namespace cairn {

inline constexpr uint64_t KiB = 1024;
inline constexpr uint64_t MiB = 1024 * KiB;
inline constexpr uint64_t GiB = 1024 * MiB;

}  // namespace cairn
