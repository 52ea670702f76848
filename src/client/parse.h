// Parsers for the CLI's small argument languages (unit-tested in parse_test.cc):
// durations ("10s", "500ms", "2m", "1h", plain number = seconds), partition lists ("0,2,5"),
// and consume offset specifications (rpk's -o):
//   start | end | N (exact offset) | +N (N after the start) | -N (N before the end)
//   | @T (first record with timestamp >= T ms; @-DURATION: that long ago)
//   optionally followed by ":END" to stop before END (exclusive), where END is `end` (the
//   high watermark when consuming starts), an offset N, or @T; ":end" alone means start:end.
// Pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "client/record.h"

namespace cairn::client {

Result<int64_t> parse_duration_ms(std::string_view text);

Result<std::vector<int32_t>> parse_partition_list(std::string_view text);

struct OffsetBound {
  enum class Kind { start, end, exact, after_start, before_end, timestamp };
  Kind kind = Kind::start;
  int64_t value = 0;  // the N of exact/+N/-N, or the timestamp in ms
};

struct OffsetSpec {
  OffsetBound from;
  std::optional<OffsetBound> until;  // exclusive
};

// `now_ms` resolves relative timestamps (@-1h).
Result<OffsetSpec> parse_offset_spec(std::string_view text, int64_t now_ms);

// The concrete offset a bound names in a partition with `marks`; `time_offset` is the answer
// of a by-time lookup for timestamp bounds (-1: no record that recent, meaning the end).
// Clamped into [low_offset, high_offset].
int64_t resolve_offset(const OffsetBound& bound, const Watermarks& marks, int64_t time_offset);

}  // namespace cairn::client
