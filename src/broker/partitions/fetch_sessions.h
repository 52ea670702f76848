// Incremental fetch sessions (KIP-227): what the broker remembers about a consumer's Fetch so
// that its next Fetch may name only the partitions that changed, and the answer may leave out
// the partitions with nothing new.
//
// A FetchSession holds one client's partitions (fetch offset, max bytes, and what the client
// was last told: high watermark, last stable offset, log start offset) in fetch order, and the
// epoch its next request must carry. A FetchSessionCache holds one shard's sessions, bounded
// by `slots` and by `partitions_max` per session, and decides what each request means
// (begin()): Kafka's FetchManager.newContext, step by step.
//
//   session_id  epoch   meaning                                       answer's session_id
//   0           -1      sessionless full fetch (and every Fetch v0-6)  0
//   0            0      full fetch, create a session if a slot is free new id, or 0
//   N           -1      close session N, sessionless full fetch        0
//   N            0      close session N, full fetch creating a new one new id, or 0
//   N          >0 (E)   incremental: session N's epoch must be E        N (epoch becomes E+1)
//
// Errors of an incremental request (answered at the top level, no partitions, session id 0):
// FETCH_SESSION_ID_NOT_FOUND for an id this cache does not hold, INVALID_FETCH_SESSION_EPOCH
// for the wrong epoch, FETCH_SESSION_TOPIC_ID_ERROR when the request names topics by id
// (v13+) and the session by name, or the other way round. An incremental request that leaves
// the session empty closes it (sessionless answer). One that would grow it past
// `partitions_max` closes it too and answers FETCH_SESSION_ID_NOT_FOUND, which makes every
// client start over with a full fetch (Kafka has no such bound; Cairn bounds memory).
//
// Eviction, when a full fetch finds every slot taken (Kafka's FetchSessionCacheShard.tryEvict
// without followers' privilege): first the least recently used session if it has been idle
// longer than `eviction_ms`; else the smallest session created more than `eviction_ms` ago,
// if the new one has more partitions. Otherwise no session is created (id 0) and the client
// goes on with full fetches. Both are linear scans, done only when the cache is full.
//
// Session ids are random and unique across the broker: shard k of n gives out ids in
// [k * range, (k + 1) * range), range = INT32_MAX / n (as Kafka's cache shards do), so
// shard_of() finds a session's shard from its id.
//
// Thread safety: none. Each shard owns one cache, touched only on that shard's thread; a
// connection uses the cache of the shard it lives on. Sessions are memory only: a restart
// forgets them and clients start over (FETCH_SESSION_ID_NOT_FOUND), as with Kafka.
#pragma once

#include <compare>
#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "broker/broker_metrics.h"
#include "broker/error_code.h"
#include "protocol/reader.h"

namespace cairn::broker {

// Kafka's FetchMetadata constants.
inline constexpr int32_t kInvalidSessionId = 0;
inline constexpr int32_t kInitialSessionEpoch = 0;
inline constexpr int32_t kFinalSessionEpoch = -1;

// The epoch a session expects after `epoch` (Kafka's FetchMetadata.nextEpoch): 1 after the
// initial epoch, and back to 1 after INT32_MAX.
int32_t next_fetch_session_epoch(int32_t epoch);

// One partition of a session: by topic id in sessions of Fetch v13+, by name before.
struct FetchSessionKey {
  protocol::Uuid topic_id{};  // zero in a session by name
  std::string topic;          // empty in a session by topic id
  int32_t partition = 0;
  auto operator<=>(const FetchSessionKey&) const = default;
};

struct FetchSessionPartition {
  FetchSessionKey key;
  int64_t fetch_offset = 0;
  int32_t partition_max_bytes = 0;
  // What the client was last told; -1 before the first answer and after an error, so the
  // partition is answered again once the error is gone.
  int64_t high_watermark = -1;
  int64_t last_stable_offset = -1;
  int64_t log_start_offset = -1;
};

// What one partition's answer says, for deciding whether an incremental answer includes it.
struct FetchSessionAnswer {
  int16_t error_code = 0;
  int64_t high_watermark = -1;
  int64_t last_stable_offset = -1;
  int64_t log_start_offset = -1;
  uint64_t records_bytes = 0;
};

class FetchSession {
 public:
  FetchSession(int32_t id, bool uses_topic_ids, int64_t now_ms)
      : id_(id), uses_topic_ids_(uses_topic_ids), created_ms_(now_ms), last_used_ms_(now_ms) {}
  FetchSession(const FetchSession&) = delete;
  FetchSession& operator=(const FetchSession&) = delete;

  int32_t id() const { return id_; }
  // The epoch the next incremental request must carry.
  int32_t epoch() const { return epoch_; }
  bool uses_topic_ids() const { return uses_topic_ids_; }
  size_t size() const { return index_.size(); }
  // In fetch order: partitions that last returned records come last (Kafka's fairness rule).
  const std::list<FetchSessionPartition>& partitions() const { return order_; }
  const FetchSessionPartition* find(const FetchSessionKey& key) const;

  // Adds `partition`, or updates its fetch offset and max bytes (what the client was told
  // stays). Also what a full fetch fills a new session with.
  void add_or_update(const FetchSessionPartition& partition);
  // False when the session did not hold `key`.
  bool forget(const FetchSessionKey& key);

  // Whether an incremental answer must include the partition of `key` (Kafka's
  // CachedPartition.maybeUpdateResponseData): records, an error, or a high watermark, last
  // stable offset or log start offset the client has not been told. Remembers what it tells.
  // A partition with records moves to the end of the fetch order.
  // REQUIRES: the session holds `key`.
  bool must_respond(const FetchSessionKey& key, const FetchSessionAnswer& answer);

 private:
  friend class FetchSessionCache;

  const int32_t id_;
  const bool uses_topic_ids_;
  int32_t epoch_ = 1;  // next_fetch_session_epoch(kInitialSessionEpoch)
  const int64_t created_ms_;
  int64_t last_used_ms_;
  size_t counted_size_ = 0;  // what the cache counts for it in the partitions gauge
  std::list<FetchSessionPartition> order_;
  std::map<FetchSessionKey, std::list<FetchSessionPartition>::iterator> index_;
};

enum class FetchSessionKind : uint8_t {
  sessionless,  // answer everything, session id 0
  full,         // answer everything, then try to create a session (create())
  incremental,  // read the session's partitions, answer those with something to say
  error,        // answer `error` alone
};

struct FetchSessionContext {
  FetchSessionKind kind = FetchSessionKind::sessionless;
  ErrorCode error = ErrorCode::none;
  // incremental: the session, and the epoch it must still have when the answer is made (a
  // later request of the same session would have moved it on: INVALID_FETCH_SESSION_EPOCH).
  std::shared_ptr<FetchSession> session;
  int32_t answer_epoch = 0;
};

struct FetchSessionCacheOptions {
  uint32_t slots = 1000;  // sessions this cache may hold
  size_t partitions_max = 100'000;
  int64_t eviction_ms = 120'000;  // Kafka's MIN_INCREMENTAL_FETCH_SESSION_EVICTION_MS
  uint32_t shard_index = 0;
  uint32_t shard_count = 1;
  BrokerMetrics* metrics = nullptr;  // sessions, cached partitions, evictions; may be null
};

class FetchSessionCache {
 public:
  explicit FetchSessionCache(FetchSessionCacheOptions options);
  FetchSessionCache(const FetchSessionCache&) = delete;
  FetchSessionCache& operator=(const FetchSessionCache&) = delete;

  // What a request with this session id and epoch means; an incremental one is applied to
  // its session here (`updates` added or updated, `forgotten` removed, epoch moved on).
  // `uses_topic_ids`: the request is Fetch v13+. A full request closes the session it names
  // if this cache holds it (the caller closes one held by another shard).
  FetchSessionContext begin(int32_t session_id, int32_t epoch, bool uses_topic_ids,
                            const std::vector<FetchSessionPartition>& updates,
                            const std::vector<FetchSessionKey>& forgotten, int64_t now_ms);

  // A new session holding `partitions` (a later duplicate key updates the earlier one), if
  // a slot is free or eviction frees one; its id, else kInvalidSessionId. Also
  // kInvalidSessionId for more than partitions_max partitions.
  int32_t create(const std::vector<FetchSessionPartition>& partitions, bool uses_topic_ids,
                 int64_t now_ms);
  std::shared_ptr<FetchSession> find(int32_t id) const;
  // Closes the session: a Fetch of it still in flight then answers
  // INVALID_FETCH_SESSION_EPOCH (its epoch is final).
  bool remove(int32_t id);

  size_t size() const { return sessions_.size(); }
  size_t partitions_max() const { return options_.partitions_max; }
  size_t partition_count() const { return partition_count_; }
  uint64_t evictions() const { return evictions_; }

  // The shard whose cache gives out `id`, or nullopt for an id no shard gives out.
  static std::optional<uint32_t> shard_of(int32_t id, uint32_t shard_count);

 private:
  bool try_evict(size_t new_size, int64_t now_ms);
  void touch(FetchSession& session, int64_t now_ms);
  int32_t new_session_id();

  FetchSessionCacheOptions options_;
  std::map<int32_t, std::shared_ptr<FetchSession>> sessions_;
  size_t partition_count_ = 0;
  uint64_t evictions_ = 0;
  std::mt19937 random_;
};

// One cache per shard, `slots` split between them as evenly as they go (shard k gets one more
// while k < slots % shard_count), so the broker holds at most `slots` sessions.
std::vector<std::unique_ptr<FetchSessionCache>> make_fetch_session_caches(uint32_t slots,
                                                                          size_t partitions_max,
                                                                          uint32_t shard_count,
                                                                          BrokerMetrics* metrics);

}  // namespace cairn::broker
