// max.connections and max.connections.per.ip: slots, overrides, release, and the parser.
#include "net/connection_quota.h"

#include <gtest/gtest.h>

#include <vector>

namespace cairn::net {
namespace {

asio::ip::address ip(const char* text) { return asio::ip::make_address(text); }

TEST(ConnectionQuota, PerIpCapThenTotalCap) {
  auto quota = std::make_shared<ConnectionQuota>(ConnectionQuotaLimits{3, 2, {}});
  std::vector<std::shared_ptr<void>> held;
  held.push_back(quota->try_acquire(ip("10.0.0.1")));
  held.push_back(quota->try_acquire(ip("10.0.0.1")));
  EXPECT_NE(held[0], nullptr);
  EXPECT_NE(held[1], nullptr);
  EXPECT_EQ(quota->try_acquire(ip("10.0.0.1")), nullptr);  // per IP
  EXPECT_EQ(quota->refused_per_ip(), 1u);
  // The IPv4-mapped spelling of the same address counts as the same client.
  EXPECT_EQ(quota->try_acquire(ip("::ffff:10.0.0.1")), nullptr);
  held.push_back(quota->try_acquire(ip("10.0.0.2")));
  EXPECT_NE(held[2], nullptr);
  EXPECT_EQ(quota->try_acquire(ip("10.0.0.3")), nullptr);  // total
  EXPECT_EQ(quota->refused_total(), 1u);
  EXPECT_EQ(quota->open(), 3u);
  held.erase(held.begin());  // a connection from 10.0.0.1 closes
  EXPECT_EQ(quota->open(), 2u);
  EXPECT_NE(quota->try_acquire(ip("10.0.0.3")), nullptr);  // released at once again
  EXPECT_EQ(quota->open(), 2u);
}

TEST(ConnectionQuota, OverridesRaiseOrLowerOneAddress) {
  auto overrides = parse_per_ip_overrides("127.0.0.1:5,[::1]:0");
  ASSERT_TRUE(overrides.ok()) << overrides.status().to_string();
  auto quota = std::make_shared<ConnectionQuota>(
      ConnectionQuotaLimits{100, 1, std::move(overrides).value()});
  std::vector<std::shared_ptr<void>> held;
  for (int i = 0; i < 5; i++) {
    held.push_back(quota->try_acquire(ip("127.0.0.1")));
    EXPECT_NE(held.back(), nullptr) << i;
  }
  EXPECT_EQ(quota->try_acquire(ip("127.0.0.1")), nullptr);
  EXPECT_EQ(quota->try_acquire(ip("::1")), nullptr);  // 0: refused altogether
  held.push_back(quota->try_acquire(ip("10.1.1.1")));
  EXPECT_NE(held.back(), nullptr);
  EXPECT_EQ(quota->try_acquire(ip("10.1.1.1")), nullptr);  // the default of 1
}

TEST(ConnectionQuota, SlotsOutliveTheirOwner) {
  std::shared_ptr<void> slot;
  {
    auto quota = std::make_shared<ConnectionQuota>(ConnectionQuotaLimits{1, 1, {}});
    slot = quota->try_acquire(ip("10.0.0.1"));
  }
  slot.reset();  // frees into the quota it kept alive
}

TEST(ConnectionQuota, OverridesParser) {
  EXPECT_TRUE(parse_per_ip_overrides("").ok());
  auto parsed = parse_per_ip_overrides("10.0.0.1:3,::ffff:10.0.0.2:4");
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->at("10.0.0.1"), 3u);
  EXPECT_EQ(parsed->at("10.0.0.2"), 4u);
  EXPECT_FALSE(parse_per_ip_overrides("10.0.0.1").ok());
  EXPECT_FALSE(parse_per_ip_overrides("10.0.0.1:x").ok());
  EXPECT_FALSE(parse_per_ip_overrides("10.0.0.1:-1").ok());
  EXPECT_FALSE(parse_per_ip_overrides("host.example:3").ok());
  EXPECT_FALSE(parse_per_ip_overrides("10.0.0.1:3,,10.0.0.2:1").ok());  // an empty entry
}

}  // namespace
}  // namespace cairn::net
