// format.h: the byte layouts of Cairn's partition directory, version 1. The prose is in
// docs/format/log.md; every constant here is described there. Pure functions; any thread.
//
// A partition directory holds, per segment (named by its base offset, 20 digits):
//   <base>.log        Kafka v2 record batches back to back, exactly as served (no header)
//   <base>.index      48-byte IndexHeader, then 8-byte entries {relative offset, position}
//   <base>.timeindex  48-byte IndexHeader, then 12-byte entries {timestamp, relative offset}
// and, per partition:
//   partition.meta    the log start offset (DeleteRecords, retention), replaced by rename
//   clean_shutdown    present only between a clean close and the next open
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "base/status.h"
#include "base/types.h"

namespace cairn::storage::format {

inline constexpr uint16_t kVersion = 1;

inline constexpr uint32_t kIndexMagic = 0x43524958;        // "CRIX"
inline constexpr uint32_t kMetaMagic = 0x4352504d;         // "CRPM"
inline constexpr uint32_t kCleanMarkerMagic = 0x43524353;  // "CRCS"
inline constexpr uint32_t kCleanerCheckpointMagic = 0x43524350;  // "CRCP"
inline constexpr uint32_t kCleanerSwapMagic = 0x43525357;        // "CRSW"

inline constexpr const char* kLogSuffix = ".log";
inline constexpr const char* kOffsetIndexSuffix = ".index";
inline constexpr const char* kTimeIndexSuffix = ".timeindex";
inline constexpr const char* kMetaName = "partition.meta";
inline constexpr const char* kMetaTempName = "partition.meta.tmp";
inline constexpr const char* kCleanMarkerName = "clean_shutdown";
// Log compaction (docs/format/compaction.md): replacement segment files are written as
// <base>.log.cleaned etc., committed by cleaner.swap, and the clean point is kept in
// cleaner.checkpoint. Both small records are replaced by rename from their .tmp.
inline constexpr const char* kCleanedSuffix = ".cleaned";
inline constexpr const char* kCleanerCheckpointName = "cleaner.checkpoint";
inline constexpr const char* kCleanerCheckpointTempName = "cleaner.checkpoint.tmp";
inline constexpr const char* kCleanerSwapName = "cleaner.swap";
inline constexpr const char* kCleanerSwapTempName = "cleaner.swap.tmp";

enum class IndexKind : uint16_t { offset = 1, time = 2 };

// Index header layout (big-endian):
//   0 magic u32 | 4 version u16 | 6 kind u16 | 8 entry_count u32 | 12 entries_crc u32
//  16 log_bytes u64 | 24 next_offset i64 | 32 max_timestamp i64 | 40 header_crc u32
//  44 reserved u32 (zero). header_crc is CRC-32C over bytes [0, 40).
inline constexpr size_t kIndexHeaderBytes = 48;
inline constexpr size_t kIndexHeaderCrcPosition = 40;
inline constexpr size_t kOffsetEntryBytes = 8;
inline constexpr size_t kTimeEntryBytes = 12;
static_assert(kIndexHeaderCrcPosition + 8 == kIndexHeaderBytes);

// What an index header vouches for: the first `log_bytes` of the segment's .log were durable
// when it was written, they end at `next_offset`, their newest batch has `max_timestamp`, and
// the index file's first `entry_count` entries (CRC `entries_crc`) cover them.
struct IndexHeader {
  IndexKind kind = IndexKind::offset;
  uint32_t entry_count = 0;
  uint32_t entries_crc = 0;
  uint64_t log_bytes = 0;
  Offset next_offset;
  TimestampMs max_timestamp{-1};
};

void encode_index_header(const IndexHeader& header, std::span<uint8_t> out);
// Fails (corrupt) on a bad magic, version, kind or header CRC.
Result<IndexHeader> decode_index_header(std::span<const uint8_t> bytes, IndexKind kind);

// partition.meta and clean_shutdown are one small record each (big-endian):
//   0 magic u32 | 4 version u16 | 6 reserved u16 | 8 value i64 | 16 crc u32 (over [0, 16))
// partition.meta's value is the log start offset; clean_shutdown's is the log end offset;
// cleaner.checkpoint's and cleaner.swap's is a clean point (the offset dirty data starts at).
inline constexpr size_t kSmallRecordBytes = 20;
void encode_small_record(uint32_t magic, int64_t value, std::span<uint8_t> out);
Result<int64_t> decode_small_record(uint32_t magic, std::span<const uint8_t> bytes);

// "00000000000000000042" + suffix.
std::string segment_file_name(Offset base_offset, const char* suffix);
// The base offset if `name` is <20 digits><suffix>.
std::optional<Offset> parse_segment_file_name(const std::string& name, const char* suffix);

}  // namespace cairn::storage::format
