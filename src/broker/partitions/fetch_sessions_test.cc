// The fetch session cache (KIP-227) without a broker: what each session id and epoch means,
// incremental updates and forgotten partitions, what an incremental answer must include, the
// errors, the bounds, eviction, and session ids per shard.
#include "broker/partitions/fetch_sessions.h"

#include <gtest/gtest.h>

#include <limits>

namespace cairn::broker {
namespace {

FetchSessionKey by_name(const std::string& topic, int32_t partition) {
  return FetchSessionKey{protocol::Uuid{}, topic, partition};
}

FetchSessionPartition wanted(const std::string& topic, int32_t partition, int64_t offset) {
  return FetchSessionPartition{by_name(topic, partition), offset, 1024};
}

// n partitions of "t", each told high watermark 10.
std::vector<FetchSessionPartition> partitions_of_t(int n) {
  std::vector<FetchSessionPartition> partitions;
  for (int p = 0; p < n; p++) {
    FetchSessionPartition partition = wanted("t", p, 0);
    partition.high_watermark = 10;
    partition.last_stable_offset = 10;
    partition.log_start_offset = 0;
    partitions.push_back(partition);
  }
  return partitions;
}

FetchSessionAnswer unchanged() { return FetchSessionAnswer{0, 10, 10, 0, 0}; }

TEST(FetchSessions, NextEpochWrapsToOne) {
  EXPECT_EQ(1, next_fetch_session_epoch(kInitialSessionEpoch));
  EXPECT_EQ(8, next_fetch_session_epoch(7));
  EXPECT_EQ(1, next_fetch_session_epoch(std::numeric_limits<int32_t>::max()));
  EXPECT_EQ(kFinalSessionEpoch, next_fetch_session_epoch(kFinalSessionEpoch));
}

TEST(FetchSessions, EpochsZeroAndMinusOneAreFullFetches) {
  FetchSessionCache cache({});
  EXPECT_EQ(FetchSessionKind::full, cache.begin(0, 0, false, {}, {}, 0).kind);
  EXPECT_EQ(FetchSessionKind::sessionless, cache.begin(0, -1, false, {}, {}, 0).kind);
  int32_t id = cache.create(partitions_of_t(2), false, 0);
  ASSERT_NE(kInvalidSessionId, id);
  EXPECT_EQ(1u, cache.size());
  EXPECT_EQ(2u, cache.partition_count());
  // A full fetch naming the session closes it; epoch 0 asks for a new one, -1 does not.
  EXPECT_EQ(FetchSessionKind::sessionless, cache.begin(id, -1, false, {}, {}, 0).kind);
  EXPECT_EQ(0u, cache.size());
  EXPECT_EQ(0u, cache.partition_count());
  id = cache.create(partitions_of_t(2), false, 0);
  EXPECT_EQ(FetchSessionKind::full, cache.begin(id, 0, false, {}, {}, 0).kind);
  EXPECT_EQ(nullptr, cache.find(id));
}

TEST(FetchSessions, IncrementalAddsUpdatesAndForgets) {
  FetchSessionCache cache({});
  int32_t id = cache.create(partitions_of_t(3), false, 0);
  FetchSessionContext context =
      cache.begin(id, 1, false, {wanted("t", 1, 42), wanted("u", 0, 7)}, {by_name("t", 2)}, 5);
  ASSERT_EQ(FetchSessionKind::incremental, context.kind);
  EXPECT_EQ(2, context.answer_epoch);
  const FetchSession& session = *context.session;
  EXPECT_EQ(2, session.epoch());
  ASSERT_EQ(3u, session.size());
  EXPECT_EQ(0, session.find(by_name("t", 0))->fetch_offset);  // not mentioned: kept
  EXPECT_EQ(42, session.find(by_name("t", 1))->fetch_offset);
  EXPECT_EQ(10, session.find(by_name("t", 1))->high_watermark);  // what the client was told
  EXPECT_EQ(7, session.find(by_name("u", 0))->fetch_offset);
  EXPECT_EQ(nullptr, session.find(by_name("t", 2)));
  EXPECT_EQ(3u, cache.partition_count());
  // Forgetting a partition the session does not hold changes nothing.
  EXPECT_EQ(FetchSessionKind::incremental,
            cache.begin(id, 2, false, {}, {by_name("nope", 0)}, 6).kind);
  EXPECT_EQ(3u, session.size());
}

TEST(FetchSessions, IncrementalErrors) {
  FetchSessionCache cache({});
  int32_t id = cache.create(partitions_of_t(1), false, 0);
  EXPECT_EQ(ErrorCode::fetch_session_id_not_found, cache.begin(id + 1, 1, false, {}, {}, 0).error);
  EXPECT_EQ(ErrorCode::fetch_session_id_not_found, cache.begin(0, 1, false, {}, {}, 0).error);
  EXPECT_EQ(ErrorCode::invalid_fetch_session_epoch, cache.begin(id, 2, false, {}, {}, 0).error);
  EXPECT_EQ(ErrorCode::invalid_fetch_session_epoch, cache.begin(id, -2, false, {}, {}, 0).error);
  // A session by name asked for with topic ids (v13+), and the other way round.
  EXPECT_EQ(ErrorCode::fetch_session_topic_id_error, cache.begin(id, 1, true, {}, {}, 0).error);
  int32_t by_id = cache.create({}, true, 0);
  EXPECT_EQ(ErrorCode::fetch_session_topic_id_error, cache.begin(by_id, 1, false, {}, {}, 0).error);
  // None of the errors moved the epoch on.
  EXPECT_EQ(FetchSessionKind::incremental, cache.begin(id, 1, false, {}, {}, 0).kind);
  EXPECT_EQ(ErrorCode::invalid_fetch_session_epoch, cache.begin(id, 1, false, {}, {}, 0).error);
}

TEST(FetchSessions, ForgettingEveryPartitionClosesTheSession) {
  FetchSessionCache cache({});
  int32_t id = cache.create(partitions_of_t(1), false, 0);
  FetchSessionContext context = cache.begin(id, 1, false, {}, {by_name("t", 0)}, 0);
  EXPECT_EQ(FetchSessionKind::sessionless, context.kind);
  EXPECT_EQ(0u, cache.size());
  EXPECT_EQ(ErrorCode::fetch_session_id_not_found, cache.begin(id, 2, false, {}, {}, 0).error);
}

TEST(FetchSessions, ClosingRequestMovesTheEpochOfAWaitingOne) {
  // Request A (epoch 1) waits for data; the client's next request (epoch 2) forgets every
  // partition, which closes the session. A must not answer from the emptied session.
  FetchSessionCache cache({});
  int32_t id = cache.create(partitions_of_t(2), false, 0);
  FetchSessionContext waiting = cache.begin(id, 1, false, {}, {}, 0);
  ASSERT_EQ(FetchSessionKind::incremental, waiting.kind);
  FetchSessionContext closing =
      cache.begin(id, 2, false, {}, {by_name("t", 0), by_name("t", 1)}, 0);
  EXPECT_EQ(FetchSessionKind::sessionless, closing.kind);
  EXPECT_NE(waiting.answer_epoch, waiting.session->epoch());
  // Should it look anyway, a partition the session no longer holds is simply answered.
  EXPECT_TRUE(waiting.session->must_respond(by_name("t", 0), unchanged()));
}

TEST(FetchSessions, MustRespondOnlyWhenSomethingChanged) {
  FetchSessionCache cache({});
  int32_t id = cache.create(partitions_of_t(5), false, 0);
  std::shared_ptr<FetchSession> session = cache.find(id);
  // Each told high watermark 10, last stable offset 10, log start 0. Answers are {error,
  // high watermark, last stable offset, log start offset, record bytes}.
  EXPECT_FALSE(session->must_respond(by_name("t", 0), unchanged()));
  EXPECT_TRUE(session->must_respond(by_name("t", 0), {0, 10, 10, 0, 100}));  // records
  EXPECT_TRUE(session->must_respond(by_name("t", 1), {0, 11, 10, 0, 0}));
  EXPECT_FALSE(session->must_respond(by_name("t", 1), {0, 11, 10, 0, 0}));  // told now
  EXPECT_TRUE(session->must_respond(by_name("t", 2), {0, 10, 9, 0, 0}));
  EXPECT_TRUE(session->must_respond(by_name("t", 3), {0, 10, 10, 3, 0}));
  // An error is always answered, and so is the partition once the error is gone.
  EXPECT_TRUE(session->must_respond(by_name("t", 4), {1, 10, 10, 0, 0}));
  EXPECT_TRUE(session->must_respond(by_name("t", 4), {1, 10, 10, 0, 0}));
  EXPECT_TRUE(session->must_respond(by_name("t", 4), unchanged()));
  EXPECT_FALSE(session->must_respond(by_name("t", 4), unchanged()));
}

TEST(FetchSessions, PartitionsWithRecordsMoveToTheEnd) {
  FetchSessionCache cache({});
  int32_t id = cache.create(partitions_of_t(3), false, 0);
  std::shared_ptr<FetchSession> session = cache.find(id);
  session->must_respond(by_name("t", 0), {0, 10, 10, 0, 1});
  std::vector<int32_t> order;
  for (const FetchSessionPartition& partition : session->partitions()) {
    order.push_back(partition.key.partition);
  }
  EXPECT_EQ((std::vector<int32_t>{1, 2, 0}), order);
}

TEST(FetchSessions, PartitionsPerSessionAreBounded) {
  FetchSessionCache cache(FetchSessionCacheOptions{.partitions_max = 2});
  EXPECT_EQ(kInvalidSessionId, cache.create(partitions_of_t(3), false, 0));
  int32_t id = cache.create(partitions_of_t(2), false, 0);
  ASSERT_NE(kInvalidSessionId, id);
  // Growing past the bound closes the session; the client starts over with a full fetch.
  EXPECT_EQ(ErrorCode::fetch_session_id_not_found,
            cache.begin(id, 1, false, {wanted("u", 0, 0)}, {}, 0).error);
  EXPECT_EQ(0u, cache.size());
  EXPECT_EQ(0u, cache.partition_count());
}

TEST(FetchSessions, NoSlotsMeansNoSessions) {
  FetchSessionCache cache(FetchSessionCacheOptions{.slots = 0});
  EXPECT_EQ(kInvalidSessionId, cache.create(partitions_of_t(1), false, 0));
}

TEST(FetchSessions, EvictsTheStaleSessionFirst) {
  FetchSessionCache cache(FetchSessionCacheOptions{.slots = 2, .eviction_ms = 100});
  int32_t old_big = cache.create(partitions_of_t(10), false, 0);
  int32_t recent_small = cache.create(partitions_of_t(1), false, 0);
  ASSERT_EQ(FetchSessionKind::incremental, cache.begin(recent_small, 1, false, {}, {}, 150).kind);
  // old_big was last used at 0: idle for longer than eviction_ms, it goes, whatever its size.
  int32_t id = cache.create(partitions_of_t(1), false, 160);
  EXPECT_NE(kInvalidSessionId, id);
  EXPECT_EQ(nullptr, cache.find(old_big));
  EXPECT_NE(nullptr, cache.find(recent_small));
  EXPECT_EQ(1u, cache.evictions());
}

TEST(FetchSessions, LargerSessionEvictsSmallerSettledOne) {
  FetchSessionCache cache(FetchSessionCacheOptions{.slots = 2, .eviction_ms = 100});
  int32_t small = cache.create(partitions_of_t(2), false, 0);
  int32_t large = cache.create(partitions_of_t(5), false, 0);
  // Both in use; neither idle. Too young to be evicted for a larger one yet.
  cache.begin(small, 1, false, {}, {}, 90);
  cache.begin(large, 1, false, {}, {}, 90);
  EXPECT_EQ(kInvalidSessionId, cache.create(partitions_of_t(3), false, 95));
  // Created more than eviction_ms ago: a larger new session evicts the smallest one; one of
  // the same size does not.
  EXPECT_EQ(kInvalidSessionId, cache.create(partitions_of_t(2), false, 150));
  int32_t id = cache.create(partitions_of_t(3), false, 150);
  EXPECT_NE(kInvalidSessionId, id);
  EXPECT_EQ(nullptr, cache.find(small));
  EXPECT_NE(nullptr, cache.find(large));
  EXPECT_EQ(1u, cache.evictions());
  EXPECT_EQ(8u, cache.partition_count());
}

TEST(FetchSessions, SessionIdsNameTheirShard) {
  std::vector<std::unique_ptr<FetchSessionCache>> caches =
      make_fetch_session_caches(5, 100, 3, nullptr);
  ASSERT_EQ(3u, caches.size());
  for (uint32_t shard = 0; shard < 3; shard++) {
    for (int i = 0; i < 2 - (shard == 2 ? 1 : 0); i++) {  // 5 slots: 2, 2, 1
      int32_t id = caches[shard]->create(partitions_of_t(1), false, 0);
      ASSERT_GT(id, 0);
      EXPECT_EQ(shard, FetchSessionCache::shard_of(id, 3));
    }
    EXPECT_EQ(kInvalidSessionId, caches[shard]->create(partitions_of_t(1), false, 0));
  }
  EXPECT_EQ(std::nullopt, FetchSessionCache::shard_of(0, 3));
  EXPECT_EQ(std::nullopt, FetchSessionCache::shard_of(-5, 3));
  EXPECT_EQ(std::nullopt, FetchSessionCache::shard_of(std::numeric_limits<int32_t>::max(), 3));
}

TEST(FetchSessions, MetricsCountSessionsPartitionsAndEvictions) {
  BrokerMetrics metrics;
  {
    FetchSessionCache cache(
        FetchSessionCacheOptions{.slots = 1, .eviction_ms = 10, .metrics = &metrics});
    int32_t id = cache.create(partitions_of_t(3), false, 0);
    cache.begin(id, 1, false, {wanted("u", 0, 0)}, {}, 1);
    EXPECT_EQ(1, metrics.fetch_sessions.value());
    EXPECT_EQ(4, metrics.fetch_session_partitions.value());
    cache.create(partitions_of_t(1), false, 100);  // evicts the idle one
    EXPECT_EQ(1, metrics.fetch_sessions.value());
    EXPECT_EQ(1, metrics.fetch_session_partitions.value());
    EXPECT_EQ(1u, metrics.fetch_session_evictions.value());
  }
}

}  // namespace
}  // namespace cairn::broker
