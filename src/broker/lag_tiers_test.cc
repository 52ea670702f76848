// parse_lag_tiers / lag_tier_for (lag_tiers.h): the configuration line's entries, units and
// first-match order, and the malformed lines refused with a reason.
#include "broker/lag_tiers.h"

#include <gtest/gtest.h>

namespace cairn::broker {
namespace {

TEST(LagTiers, ParsesEntriesInOrderWithUnits) {
  Result<std::vector<LagTier>> tiers =
      parse_lag_tiers(" payment-*=critical:5s, analytics-*=batch:1h,*=standard:5m, x=fast:250ms");
  ASSERT_TRUE(tiers.ok()) << tiers.status().to_string();
  ASSERT_EQ(tiers->size(), 4u);
  EXPECT_EQ((*tiers)[0].group_pattern, "payment-*");
  EXPECT_EQ((*tiers)[0].tier, "critical");
  EXPECT_DOUBLE_EQ((*tiers)[0].threshold_seconds, 5);
  EXPECT_DOUBLE_EQ((*tiers)[1].threshold_seconds, 3600);
  EXPECT_DOUBLE_EQ((*tiers)[2].threshold_seconds, 300);
  EXPECT_DOUBLE_EQ((*tiers)[3].threshold_seconds, 0.25);
}

TEST(LagTiers, FirstMatchingPatternWinsAndUnmatchedGroupsHaveNone) {
  std::vector<LagTier> tiers = parse_lag_tiers("payment-*=critical:5s,pay*=other:1m").value();
  EXPECT_EQ(lag_tier_for(tiers, "payment-eu")->tier, "critical");
  EXPECT_EQ(lag_tier_for(tiers, "payroll")->tier, "other");
  EXPECT_EQ(lag_tier_for(tiers, "analytics"), nullptr);
  EXPECT_EQ(lag_tier_for({}, "any"), nullptr);
}

TEST(LagTiers, EmptyLineIsNoTiers) {
  EXPECT_TRUE(parse_lag_tiers("").value().empty());
  EXPECT_TRUE(parse_lag_tiers(" , ").value().empty());
}

TEST(LagTiers, MalformedEntriesAreRefusedWithAReason) {
  for (const char* bad : {"critical:5s", "payment-*=critical", "=critical:5s", "p=:5s",
                          "p=critical:5", "p=critical:-5s", "p=critical:0s", "p=critical:5d",
                          "p=critical:s", "p=critical:1e999s", "p=critical:5 s"}) {
    Result<std::vector<LagTier>> tiers = parse_lag_tiers(bad);
    EXPECT_FALSE(tiers.ok()) << bad;
    if (!tiers.ok()) {
      EXPECT_NE(tiers.status().message().find("lag alert tier"), std::string::npos);
    }
  }
}

}  // namespace
}  // namespace cairn::broker
