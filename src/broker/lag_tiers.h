// Consumer-lag alert tiers: which groups may lag how far, in seconds, before the broker says
// so (/metrics, the admin API; docs/observability.md, "Lag alert tiers").
//
// Configured as one line (`--lag-alert-tiers`, the `lag-alert-tiers:` key of cairn.yaml):
//
//   payment-*=critical:5s, analytics-*=batch:1h, *=standard:5m
//
// each entry GROUP_PATTERN=TIER:THRESHOLD; the pattern is a shell glob (`*`, `?`, `[...]`,
// fnmatch(3)); the first entry whose pattern matches a group is its tier; a group no entry
// matches has none. THRESHOLD is a number with a unit, ms, s, m or h. A group breaches its tier
// when the first record it has not consumed, on any of its partitions, has waited longer than
// the threshold (cairn_consumergroup_lag_seconds, partitions/lag_times.h).
//
// Pure values; any thread.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace cairn::broker {

struct LagTier {
  std::string group_pattern;
  std::string tier;
  double threshold_seconds = 0;
};

inline constexpr size_t kLagTiersMax = 100;

// The tiers of the configuration line, in order; invalid_argument saying which entry is wrong.
// An empty line is no tiers.
Result<std::vector<LagTier>> parse_lag_tiers(std::string_view text);

// The first tier whose pattern matches `group`, or null.
const LagTier* lag_tier_for(const std::vector<LagTier>& tiers, const std::string& group);

}  // namespace cairn::broker
