#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "broker/meta_file.h"
#include "broker/quotas/quota_store.h"
#include "broker/quotas/throttle.h"

namespace cairn::broker::quotas {
namespace {

QuotaEntity entity(EntityPart user, EntityPart client_id) {
  return QuotaEntity{std::move(user), std::move(client_id)};
}

EntityPart named(std::string name) { return EntityPart::named(std::move(name)); }
EntityPart any() { return EntityPart::default_name(); }
EntityPart none() { return EntityPart::absent(); }

constexpr QuotaKey kProduce = QuotaKey::producer_byte_rate;
constexpr QuotaKey kFetch = QuotaKey::consumer_byte_rate;

// All eight entity shapes, each with a distinct producer rate (its precedence rank).
QuotaMap all_eight() {
  QuotaMap quotas;
  quotas[entity(named("alice"), named("app"))][kProduce] = 1;
  quotas[entity(named("alice"), any())][kProduce] = 2;
  quotas[entity(named("alice"), none())][kProduce] = 3;
  quotas[entity(any(), named("app"))][kProduce] = 4;
  quotas[entity(any(), any())][kProduce] = 5;
  quotas[entity(any(), none())][kProduce] = 6;
  quotas[entity(none(), named("app"))][kProduce] = 7;
  quotas[entity(none(), any())][kProduce] = 8;
  return quotas;
}

TEST(QuotaPrecedence, EachLevelWinsOverTheLaterOnes) {
  QuotaMap quotas = all_eight();
  for (double rank = 1; rank <= 8; rank++) {
    auto found = resolve_quota(quotas, kProduce, "alice", "app");
    ASSERT_TRUE(found.has_value());
    EXPECT_EQ(found->bytes_per_second, rank);
    // Remove the winner: the next level takes over.
    for (auto it = quotas.begin(); it != quotas.end(); ++it) {
      if (it->second[kProduce] == rank) {
        quotas.erase(it);
        break;
      }
    }
  }
  EXPECT_FALSE(resolve_quota(quotas, kProduce, "alice", "app").has_value());
}

TEST(QuotaPrecedence, OtherNamesFallToDefaults) {
  QuotaMap quotas = all_eight();
  EXPECT_EQ(resolve_quota(quotas, kProduce, "alice", "other")->bytes_per_second, 2);
  EXPECT_EQ(resolve_quota(quotas, kProduce, "bob", "app")->bytes_per_second, 4);
  EXPECT_EQ(resolve_quota(quotas, kProduce, "bob", "other")->bytes_per_second, 5);
}

TEST(QuotaPrecedence, PerKeyResolution) {
  QuotaMap quotas;
  quotas[entity(named("alice"), none())][kProduce] = 100;
  quotas[entity(none(), named("app"))][kFetch] = 200;
  EXPECT_EQ(resolve_quota(quotas, kProduce, "alice", "app")->bytes_per_second, 100);
  EXPECT_EQ(resolve_quota(quotas, kFetch, "alice", "app")->bytes_per_second, 200);
  EXPECT_FALSE(resolve_quota(quotas, kFetch, "alice", "other").has_value());
}

TEST(QuotaPrecedence, DefaultQuotasAreCountedPerName) {
  QuotaMap quotas;
  quotas[entity(none(), any())][kProduce] = 10;
  auto a = resolve_quota(quotas, kProduce, "ANONYMOUS", "a");
  auto b = resolve_quota(quotas, kProduce, "ANONYMOUS", "b");
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->account, entity(none(), named("a")));
  EXPECT_EQ(b->account, entity(none(), named("b")));
  quotas.clear();
  quotas[entity(named("alice"), none())][kProduce] = 10;
  // A user quota is shared by all that user's client-ids.
  EXPECT_EQ(resolve_quota(quotas, kProduce, "alice", "a")->account,
            resolve_quota(quotas, kProduce, "alice", "b")->account);
}

TEST(ThrottleMath, WithinQuotaIsNotThrottled) {
  // 10 KB/s over a 10.5 s span: 105,000 bytes is exactly the quota.
  EXPECT_EQ(throttle_ms(105000, 10500, 10000), 0);
  EXPECT_EQ(throttle_ms(0, 10000, 1), 0);
}

TEST(ThrottleMath, OverQuotaWaitsUntilTheRateFallsBack) {
  // 210,000 bytes at 10 KB/s need 21 s; 10.5 s have passed: wait 10.5 s. Kafka's formula
  // (rate - Q) / Q * span gives the same: (20000 - 10000) / 10000 * 10500.
  EXPECT_EQ(throttle_ms(210000, 10500, 10000), 10500);
  EXPECT_EQ(throttle_ms(110000, 10000, 10000), 1000);
}

TEST(ThrottleMath, CappedAtTheWholeWindow) {
  EXPECT_EQ(throttle_ms(int64_t{1} << 40, 10000, 1), kThrottleMsMax);
  EXPECT_EQ(fetch_bytes_max(1000), 10000);  // 10 s worth: one response alone never throttles
  EXPECT_EQ(fetch_bytes_max(1e300), INT32_MAX);
}

TEST(ByteRateWindow, ForgetsSamplesOlderThanTheWindow) {
  ByteRateWindow window(100000);
  window.record(500, 100000);
  window.record(300, 105500);
  EXPECT_EQ(window.bytes(105500), 800);
  EXPECT_EQ(window.span_ms(105500), 10500);
  EXPECT_EQ(window.bytes(110999), 800);  // second 100 is still the oldest live sample
  EXPECT_EQ(window.bytes(111000), 300);
  EXPECT_EQ(window.bytes(116000), 0);
  window.record(7, 111000);  // second 111 reuses second 100's slot: its bytes are gone
  EXPECT_EQ(window.bytes(111000), 307);
}

TEST(ThrottleTracker, SustainedOverQuotaIsThrottledAndIdleAccountsAreForgotten) {
  ThrottleTracker tracker;
  EffectiveQuota quota{1000, entity(none(), named("a"))};
  int64_t throttle = 0;
  // 20 requests of 1,000 bytes at t = 0: 20,000 bytes against 1,000 B/s over 10 s.
  for (int i = 0; i < 20; i++) throttle = tracker.record(kProduce, quota, 1000, 50000);
  EXPECT_EQ(throttle, 10000);
  EffectiveQuota other{1000, entity(none(), named("b"))};
  EXPECT_EQ(tracker.record(kProduce, other, 1000, 50000), 0);  // its own account
  EXPECT_EQ(tracker.account_count(), 2u);
  // 12 s later both are idle and forgotten; a new one is counted from zero.
  EffectiveQuota third{1000, entity(none(), named("c"))};
  EXPECT_EQ(tracker.record(kProduce, third, 10, 62500), 0);
  EXPECT_EQ(tracker.account_count(), 1u);
}

// A KIP-219 Fetch that would throttle sends nothing, so its bytes are not counted (Kafka's
// unrecord); one within the quota is counted as usual.
TEST(ThrottleTracker, BytesThatThrottleCanBeTakenBack) {
  ThrottleTracker tracker;
  EffectiveQuota quota{1000, entity(none(), named("reader"))};
  EXPECT_EQ(tracker.record(kProduce, quota, 10000, 50000, /*keep_if_throttled=*/false), 0);
  // 10,000 more would double the rate: throttled, and not counted.
  EXPECT_EQ(tracker.record(kProduce, quota, 10000, 50000, false), 10000);
  EXPECT_EQ(tracker.record(kProduce, quota, 10000, 50000, false), 10000);
  // So 1 byte more is only just over: had they been kept, this would be 30 s (capped 11 s).
  EXPECT_EQ(tracker.record(kProduce, quota, 1000, 50000, true), 1000);
  EXPECT_EQ(tracker.record(kProduce, quota, 1, 50000, true), 1001);
}

TEST(ThrottleTracker, ManyAccountsShareTheOverflow) {
  ThrottleTracker tracker;
  for (size_t i = 0; i < kAccountsMax + 50; i++) {
    EffectiveQuota quota{1e12, entity(none(), named(std::to_string(i)))};
    tracker.record(kProduce, quota, 1, 1000);
  }
  EXPECT_EQ(tracker.account_count(), kAccountsMax + 1);
}

class QuotaStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/cairn-quotas-XXXXXX";
    dir_ = mkdtemp(pattern);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(QuotaStoreTest, ChangesSurviveReopen) {
  auto store = QuotaStore::open(dir_, storage::posix_io());
  ASSERT_TRUE(store.ok());
  EXPECT_TRUE((*store)->empty());
  std::vector<QuotaStore::Change> changes = {
      {entity(named("alice"), any()), kProduce, 1024},
      {entity(none(), named("app")), kFetch, 2048},
      {entity(none(), named("app")), kProduce, 4096},
      {entity(none(), named("app")), kProduce, std::nullopt},
  };
  ASSERT_TRUE((*store)->apply(changes).ok());
  EXPECT_FALSE((*store)->empty());
  auto reopened = QuotaStore::open(dir_, storage::posix_io());
  ASSERT_TRUE(reopened.ok());
  QuotaMap expected;
  expected[entity(named("alice"), any())][kProduce] = 1024;
  expected[entity(none(), named("app"))][kFetch] = 2048;
  EXPECT_EQ((*reopened)->snapshot(), expected);
  EXPECT_EQ((*reopened)->resolve(kFetch, "bob", "app")->bytes_per_second, 2048);
  // Removing the last value removes the entity.
  ASSERT_TRUE((*reopened)
                  ->apply({{entity(none(), named("app")), kFetch, std::nullopt},
                           {entity(named("alice"), any()), kProduce, std::nullopt}})
                  .ok());
  EXPECT_TRUE((*reopened)->empty());
}

TEST_F(QuotaStoreTest, CorruptFileStopsTheBroker) {
  for (std::string text : {"{", R"({"version": 2, "quotas": []})",
                           R"({"version": 1, "quotas": [{"entity": {}, "values": {}}]})",
                           R"({"version":1,"quotas":[{"entity":{"user":"a"},)"
                           R"("values":{"request_percentage":5}}]})",
                           R"({"version":1,"quotas":[{"entity":{"user":"a"},)"
                           R"("values":{"producer_byte_rate":-5}}]})"}) {
    ASSERT_TRUE(write_meta_file(storage::posix_io(), dir_ / "quotas.json", text).ok());
    auto store = QuotaStore::open(dir_, storage::posix_io());
    EXPECT_FALSE(store.ok()) << text;
  }
}

TEST(QuotaFile, EncodeDecodeRoundTrip) {
  QuotaMap quotas = all_eight();
  quotas[entity(any(), none())][kFetch] = 123456789;
  auto decoded = decode_quotas(encode_quotas(quotas));
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(*decoded, quotas);
}

}  // namespace
}  // namespace cairn::broker::quotas
