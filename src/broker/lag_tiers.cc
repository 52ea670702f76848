#include "broker/lag_tiers.h"

#include <fnmatch.h>

#include <charconv>
#include <cmath>

namespace cairn::broker {
namespace {

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// "5s", "250ms", "5m", "1h" -> seconds; nullopt if malformed or not positive.
std::optional<double> parse_threshold(std::string_view text) {
  struct Unit {
    std::string_view suffix;
    double seconds;
  };
  // "ms" before "m" and "s", since both are its suffixes' tails.
  static constexpr Unit kUnits[] = {{"ms", 0.001}, {"s", 1}, {"m", 60}, {"h", 3600}};
  for (const Unit& unit : kUnits) {
    if (!text.ends_with(unit.suffix)) continue;
    std::string_view number = text.substr(0, text.size() - unit.suffix.size());
    if (number.empty()) return std::nullopt;
    double value = 0;
    auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
    if (ec != std::errc() || end != number.data() + number.size()) return std::nullopt;
    if (!std::isfinite(value) || value <= 0) return std::nullopt;
    return value * unit.seconds;
  }
  return std::nullopt;
}

Result<LagTier> parse_entry(std::string_view entry) {
  size_t equals = entry.rfind('=');
  size_t colon = entry.rfind(':');
  if (equals == std::string_view::npos || colon == std::string_view::npos || colon < equals) {
    return error(StatusCode::invalid_argument,
                 "lag alert tier '" + std::string(entry) + "' is not GROUP_PATTERN=TIER:THRESHOLD");
  }
  LagTier tier;
  tier.group_pattern = std::string(trim(entry.substr(0, equals)));
  tier.tier = std::string(trim(entry.substr(equals + 1, colon - equals - 1)));
  std::optional<double> threshold = parse_threshold(trim(entry.substr(colon + 1)));
  if (tier.group_pattern.empty() || tier.tier.empty()) {
    return error(StatusCode::invalid_argument,
                 "lag alert tier '" + std::string(entry) + "' needs a group pattern and a name");
  }
  if (!threshold) {
    return error(StatusCode::invalid_argument,
                 "lag alert tier '" + std::string(entry) +
                     "': the threshold must be a positive number with ms, s, m or h");
  }
  tier.threshold_seconds = *threshold;
  return tier;
}

}  // namespace

Result<std::vector<LagTier>> parse_lag_tiers(std::string_view text) {
  std::vector<LagTier> tiers;
  while (!trim(text).empty()) {
    size_t comma = text.find(',');
    std::string_view entry = trim(text.substr(0, comma));
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    if (entry.empty()) continue;
    if (tiers.size() == kLagTiersMax) {
      return error(StatusCode::invalid_argument,
                   "more than " + std::to_string(kLagTiersMax) + " lag alert tiers");
    }
    Result<LagTier> tier = parse_entry(entry);
    if (!tier.ok()) return tier.status();
    tiers.push_back(std::move(tier).value());
  }
  return tiers;
}

const LagTier* lag_tier_for(const std::vector<LagTier>& tiers, const std::string& group) {
  for (const LagTier& tier : tiers) {
    if (fnmatch(tier.group_pattern.c_str(), group.c_str(), 0) == 0) return &tier;
  }
  return nullptr;
}

}  // namespace cairn::broker
