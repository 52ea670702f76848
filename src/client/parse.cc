#include "client/parse.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

namespace cairn::client {

namespace {

std::optional<int64_t> parse_int(std::string_view text) {
  int64_t value = 0;
  if (text.empty()) return std::nullopt;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

Result<OffsetBound> parse_bound(std::string_view text, int64_t now_ms, bool is_end) {
  using Kind = OffsetBound::Kind;
  auto bad = [&]() {
    return error(StatusCode::invalid_argument,
                 fmt::format("offset '{}' is not start, end, N, +N, -N or @timestamp", text));
  };
  if (text == "start" || text == "beginning" || text == "oldest") return OffsetBound{Kind::start};
  if (text == "end" || text == "newest") return OffsetBound{Kind::end};
  if (text.empty()) return bad();
  if (text[0] == '@') {
    std::string_view time = text.substr(1);
    if (!time.empty() && time[0] == '-') {
      auto ago = parse_duration_ms(time.substr(1));
      if (!ago.ok()) return bad();
      return OffsetBound{Kind::timestamp, now_ms - *ago};
    }
    auto ms = parse_int(time);
    if (!ms || *ms < 0) return bad();
    return OffsetBound{Kind::timestamp, *ms};
  }
  if (!is_end && (text[0] == '+' || text[0] == '-')) {
    auto n = parse_int(text.substr(1));
    if (!n || *n < 0) return bad();
    return OffsetBound{text[0] == '+' ? Kind::after_start : Kind::before_end, *n};
  }
  auto n = parse_int(text);
  if (!n || *n < 0) return bad();
  return OffsetBound{Kind::exact, *n};
}

}  // namespace

Result<int64_t> parse_duration_ms(std::string_view text) {
  static constexpr std::pair<std::string_view, int64_t> kUnits[] = {
      {"ms", 1}, {"s", 1000}, {"m", 60'000}, {"h", 3'600'000}, {"d", 86'400'000}};
  for (const auto& [suffix, scale] : kUnits) {
    if (text.size() > suffix.size() && text.ends_with(suffix)) {
      std::string_view number = text.substr(0, text.size() - suffix.size());
      // "5m" must not be read as "5" + "m" of "ms": only accept a plain number before the unit.
      auto n = parse_int(number);
      if (n && *n >= 0) return *n * scale;
    }
  }
  auto seconds = parse_int(text);
  if (seconds && *seconds >= 0) return *seconds * 1000;
  return error(StatusCode::invalid_argument,
               fmt::format("duration '{}' is not a number with a unit (ms, s, m, h, d)", text));
}

Result<std::vector<int32_t>> parse_partition_list(std::string_view text) {
  std::vector<int32_t> partitions;
  while (!text.empty()) {
    size_t comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    auto n = parse_int(item);
    if (!n || *n < 0 || *n > INT32_MAX) {
      return error(StatusCode::invalid_argument,
                   fmt::format("partition '{}' is not a partition number", item));
    }
    partitions.push_back(static_cast<int32_t>(*n));
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  if (partitions.empty()) return error(StatusCode::invalid_argument, "empty partition list");
  std::sort(partitions.begin(), partitions.end());
  partitions.erase(std::unique(partitions.begin(), partitions.end()), partitions.end());
  return partitions;
}

Result<OffsetSpec> parse_offset_spec(std::string_view text, int64_t now_ms) {
  OffsetSpec spec;
  size_t colon = text.find(':');
  std::string_view from = text.substr(0, colon);
  if (colon != std::string_view::npos && from.empty()) from = "start";
  auto bound = parse_bound(from, now_ms, false);
  if (!bound.ok()) return bound.status();
  spec.from = *bound;
  if (colon != std::string_view::npos) {
    auto until = parse_bound(text.substr(colon + 1), now_ms, true);
    if (!until.ok()) return until.status();
    if (until->kind == OffsetBound::Kind::start) {
      return error(StatusCode::invalid_argument, "an offset range cannot end at 'start'");
    }
    spec.until = *until;
  }
  return spec;
}

int64_t resolve_offset(const OffsetBound& bound, const Watermarks& marks, int64_t time_offset) {
  using Kind = OffsetBound::Kind;
  int64_t offset = 0;
  switch (bound.kind) {
    case Kind::start:
      offset = marks.low_offset;
      break;
    case Kind::end:
      offset = marks.high_offset;
      break;
    case Kind::exact:
      offset = bound.value;
      break;
    case Kind::after_start:
      offset = marks.low_offset + bound.value;
      break;
    case Kind::before_end:
      offset = marks.high_offset - bound.value;
      break;
    case Kind::timestamp:
      offset = time_offset < 0 ? marks.high_offset : time_offset;
      break;
  }
  return std::clamp(offset, marks.low_offset, std::max(marks.low_offset, marks.high_offset));
}

}  // namespace cairn::client
