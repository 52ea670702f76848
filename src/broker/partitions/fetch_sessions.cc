#include "broker/partitions/fetch_sessions.h"

#include <limits>

#include "base/assert.h"

namespace cairn::broker {

int32_t next_fetch_session_epoch(int32_t epoch) {
  if (epoch < 0) return kFinalSessionEpoch;  // a closed session stays closed
  if (epoch == std::numeric_limits<int32_t>::max()) return 1;
  return epoch + 1;
}

const FetchSessionPartition* FetchSession::find(const FetchSessionKey& key) const {
  auto it = index_.find(key);
  return it == index_.end() ? nullptr : &*it->second;
}

void FetchSession::add_or_update(const FetchSessionPartition& partition) {
  auto it = index_.find(partition.key);
  if (it == index_.end()) {
    order_.push_back(partition);
    index_.emplace(partition.key, std::prev(order_.end()));
    return;
  }
  FetchSessionPartition& cached = *it->second;
  cached.fetch_offset = partition.fetch_offset;
  cached.partition_max_bytes = partition.partition_max_bytes;
}

bool FetchSession::forget(const FetchSessionKey& key) {
  auto it = index_.find(key);
  if (it == index_.end()) return false;
  order_.erase(it->second);
  index_.erase(it);
  return true;
}

bool FetchSession::must_respond(const FetchSessionKey& key, const FetchSessionAnswer& answer) {
  auto it = index_.find(key);
  if (it == index_.end()) return true;  // forgotten by a later request meanwhile: answer it
  FetchSessionPartition& cached = *it->second;
  bool respond = answer.records_bytes > 0;
  if (cached.high_watermark != answer.high_watermark) {
    respond = true;
    cached.high_watermark = answer.high_watermark;
  }
  if (cached.last_stable_offset != answer.last_stable_offset) {
    respond = true;
    cached.last_stable_offset = answer.last_stable_offset;
  }
  if (cached.log_start_offset != answer.log_start_offset) {
    respond = true;
    cached.log_start_offset = answer.log_start_offset;
  }
  if (answer.error_code != 0) {
    respond = true;
    cached.high_watermark = -1;  // answered again once the error is gone
  }
  if (answer.records_bytes > 0) order_.splice(order_.end(), order_, it->second);
  return respond;
}

FetchSessionCache::FetchSessionCache(FetchSessionCacheOptions options)
    : options_(options), random_(std::random_device{}()) {
  ASSERT(options_.shard_count > 0);
  ASSERT(options_.shard_index < options_.shard_count);
}

std::optional<uint32_t> FetchSessionCache::shard_of(int32_t id, uint32_t shard_count) {
  ASSERT(shard_count > 0);
  if (id <= 0) return std::nullopt;
  int32_t range = std::numeric_limits<int32_t>::max() / static_cast<int32_t>(shard_count);
  auto shard = static_cast<uint32_t>(id / range);
  if (shard >= shard_count) return std::nullopt;
  return shard;
}

int32_t FetchSessionCache::new_session_id() {
  int32_t range = std::numeric_limits<int32_t>::max() / static_cast<int32_t>(options_.shard_count);
  int32_t first = std::max<int32_t>(1, static_cast<int32_t>(options_.shard_index) * range);
  int32_t last = static_cast<int32_t>(options_.shard_index + 1) * range - 1;
  std::uniform_int_distribution<int32_t> pick(first, last);
  while (true) {
    int32_t id = pick(random_);
    if (!sessions_.contains(id)) {
      ASSERT(shard_of(id, options_.shard_count) == options_.shard_index);
      return id;
    }
  }
}

std::shared_ptr<FetchSession> FetchSessionCache::find(int32_t id) const {
  auto it = sessions_.find(id);
  return it == sessions_.end() ? nullptr : it->second;
}

bool FetchSessionCache::remove(int32_t id) {
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return false;
  ASSERT(partition_count_ >= it->second->counted_size_);
  partition_count_ -= it->second->counted_size_;
  if (options_.metrics != nullptr) {
    options_.metrics->fetch_sessions.add(-1);
    options_.metrics->fetch_session_partitions.add(
        -static_cast<int64_t>(it->second->counted_size_));
  }
  it->second->epoch_ = kFinalSessionEpoch;  // for a Fetch of it still in flight
  sessions_.erase(it);
  return true;
}

void FetchSessionCache::touch(FetchSession& session, int64_t now_ms) {
  session.last_used_ms_ = std::max(session.last_used_ms_, now_ms);
  ASSERT(partition_count_ >= session.counted_size_);
  auto delta = static_cast<int64_t>(session.size()) - static_cast<int64_t>(session.counted_size_);
  partition_count_ = partition_count_ - session.counted_size_ + session.size();
  session.counted_size_ = session.size();
  if (options_.metrics != nullptr) options_.metrics->fetch_session_partitions.add(delta);
}

bool FetchSessionCache::try_evict(size_t new_size, int64_t now_ms) {
  const FetchSession* least_recent = nullptr;
  const FetchSession* smallest = nullptr;
  for (const auto& [id, session] : sessions_) {
    if (least_recent == nullptr || session->last_used_ms_ < least_recent->last_used_ms_) {
      least_recent = session.get();
    }
    bool settled = now_ms - session->created_ms_ > options_.eviction_ms;
    if (settled && (smallest == nullptr || session->size() < smallest->size())) {
      smallest = session.get();
    }
  }
  const FetchSession* victim = nullptr;
  if (least_recent != nullptr && now_ms - least_recent->last_used_ms_ > options_.eviction_ms) {
    victim = least_recent;
  } else if (smallest != nullptr && new_size > smallest->size()) {
    victim = smallest;
  }
  if (victim == nullptr) return false;
  remove(victim->id());
  evictions_++;
  if (options_.metrics != nullptr) options_.metrics->fetch_session_evictions.add(1);
  return true;
}

int32_t FetchSessionCache::create(const std::vector<FetchSessionPartition>& partitions,
                                  bool uses_topic_ids, int64_t now_ms) {
  if (partitions.size() > options_.partitions_max || options_.slots == 0) {
    return kInvalidSessionId;
  }
  if (sessions_.size() >= options_.slots && !try_evict(partitions.size(), now_ms)) {
    return kInvalidSessionId;
  }
  ASSERT(sessions_.size() < options_.slots);
  auto session = std::make_shared<FetchSession>(new_session_id(), uses_topic_ids, now_ms);
  for (const FetchSessionPartition& partition : partitions) {
    ASSERT(uses_topic_ids ? partition.key.topic.empty()
                          : partition.key.topic_id == protocol::Uuid{});
    session->add_or_update(partition);
    // What the client was told: the answer's (a later duplicate key replaces an earlier one).
    FetchSessionPartition& cached = *session->index_.find(partition.key)->second;
    cached.high_watermark = partition.high_watermark;
    cached.last_stable_offset = partition.last_stable_offset;
    cached.log_start_offset = partition.log_start_offset;
  }
  int32_t id = session->id();
  sessions_.emplace(id, session);
  if (options_.metrics != nullptr) options_.metrics->fetch_sessions.add(1);
  touch(*session, now_ms);
  return id;
}

FetchSessionContext FetchSessionCache::begin(int32_t session_id, int32_t epoch, bool uses_topic_ids,
                                             const std::vector<FetchSessionPartition>& updates,
                                             const std::vector<FetchSessionKey>& forgotten,
                                             int64_t now_ms) {
  FetchSessionContext context;
  if (epoch == kInitialSessionEpoch || epoch == kFinalSessionEpoch) {
    if (session_id != kInvalidSessionId) remove(session_id);
    context.kind =
        epoch == kFinalSessionEpoch ? FetchSessionKind::sessionless : FetchSessionKind::full;
    return context;
  }
  context.kind = FetchSessionKind::error;
  std::shared_ptr<FetchSession> session = find(session_id);
  if (session == nullptr) {
    context.error = ErrorCode::fetch_session_id_not_found;
    return context;
  }
  if (session->epoch() != epoch) {
    context.error = ErrorCode::invalid_fetch_session_epoch;
    return context;
  }
  if (session->uses_topic_ids() != uses_topic_ids) {
    context.error = ErrorCode::fetch_session_topic_id_error;
    return context;
  }
  for (const FetchSessionPartition& partition : updates) session->add_or_update(partition);
  for (const FetchSessionKey& key : forgotten) session->forget(key);
  // The session changed: an earlier request of it still waiting for data must not answer
  // from it (its answer_epoch no longer matches), even when the session closes below.
  session->epoch_ = next_fetch_session_epoch(session->epoch_);
  if (session->size() == 0) {
    remove(session_id);
    context.kind = FetchSessionKind::sessionless;
    return context;
  }
  if (session->size() > options_.partitions_max) {
    remove(session_id);
    context.error = ErrorCode::fetch_session_id_not_found;
    return context;
  }
  touch(*session, now_ms);
  context.kind = FetchSessionKind::incremental;
  context.answer_epoch = session->epoch_;
  context.session = std::move(session);
  return context;
}

std::vector<std::unique_ptr<FetchSessionCache>> make_fetch_session_caches(uint32_t slots,
                                                                          size_t partitions_max,
                                                                          uint32_t shard_count,
                                                                          BrokerMetrics* metrics) {
  ASSERT(shard_count > 0);
  std::vector<std::unique_ptr<FetchSessionCache>> caches;
  for (uint32_t shard = 0; shard < shard_count; shard++) {
    FetchSessionCacheOptions options;
    options.slots = slots / shard_count + (shard < slots % shard_count ? 1 : 0);
    options.partitions_max = partitions_max;
    options.shard_index = shard;
    options.shard_count = shard_count;
    options.metrics = metrics;
    caches.push_back(std::make_unique<FetchSessionCache>(options));
  }
  return caches;
}

}  // namespace cairn::broker
