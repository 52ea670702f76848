// Builders of valid Kafka v2 record batches for tests and benchmarks: real records (varint
// framing, uncompressed), a correct CRC-32C, chosen timestamps and producer fields. The base
// offset is left 0 for the Log to stamp. Pure functions; any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/types.h"

namespace cairn::testing {

struct BatchSpec {
  int32_t record_count = 1;
  size_t value_bytes = 100;  // per record
  TimestampMs base_timestamp{1'700'000'000'000};
  int64_t timestamp_step_ms = 1;  // record i has base_timestamp + i * step
  ProducerId producer_id{-1};
  ProducerEpoch producer_epoch{-1};
  Sequence base_sequence{-1};
  uint16_t attributes = 0;
  uint64_t seed = 0;  // value bytes are a function of (seed, record index)
};

std::vector<uint8_t> build_batch(const BatchSpec& spec);

// A record with a key and a value, either of which may be null (a null value is a tombstone).
struct KeyedRecord {
  std::optional<std::string> key;
  std::optional<std::string> value;
};

// A batch of `records` (at least one) with the header fields of `spec` (its record_count,
// value_bytes and seed are ignored), record i at offset delta i and timestamp
// base_timestamp + i * timestamp_step_ms. For compaction tests.
std::vector<uint8_t> build_keyed_batch(const std::vector<KeyedRecord>& records,
                                       const BatchSpec& spec);

// A batch of about `total_bytes` (at least the header plus one record).
std::vector<uint8_t> build_batch_of_size(size_t total_bytes, uint64_t seed, TimestampMs timestamp);

}  // namespace cairn::testing
