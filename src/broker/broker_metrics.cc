#include "broker/broker_metrics.h"

#include <unordered_map>

#include "base/assert.h"

namespace cairn::broker {
namespace {

std::atomic<uint64_t> g_next_metrics_id{1};

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

// The calling thread's topic -> counters map for one BrokerMetrics (by id, never by address:
// a new instance may reuse a destroyed one's). A thread serving another instance (tests run
// several brokers in one process) starts over.
struct TopicCache {
  uint64_t owner = 0;
  std::unordered_map<std::string, TopicCounters*, StringHash, std::equal_to<>> topics;
};
thread_local TopicCache t_topic_cache;

// Bounds the per-thread cache; a broker with more topics than this pays a mutex on misses.
constexpr size_t kTopicCacheMax = 100'000;

}  // namespace

TopicCounters::Totals TopicCounters::totals() const {
  Totals totals;
  for (const Cell& cell : cells_) {
    totals.bytes_in += cell.bytes_in.load(std::memory_order_relaxed);
    totals.records_in += cell.records_in.load(std::memory_order_relaxed);
    totals.bytes_out += cell.bytes_out.load(std::memory_order_relaxed);
    totals.records_out += cell.records_out.load(std::memory_order_relaxed);
  }
  return totals;
}

BrokerMetrics::BrokerMetrics()
    : errors_(std::make_unique<std::atomic<uint64_t>[]>(kApiKeyLimit * kErrorCodeLimit)),
      id_(g_next_metrics_id.fetch_add(1)) {
  for (auto& histogram : latency_) {
    histogram = std::make_unique<metrics::Histogram>(metrics::latency_bounds_ns());
  }
  for (size_t i = 0; i < size_t{kApiKeyLimit} * kErrorCodeLimit; i++) errors_[i].store(0);
}

metrics::Histogram* BrokerMetrics::request_latency(int16_t api_key) const {
  if (api_key < 0 || api_key >= kApiKeyLimit) return nullptr;
  return latency_[static_cast<size_t>(api_key)].get();
}

void BrokerMetrics::count_error(int16_t api_key, ErrorCode code) {
  count_error_code(api_key, wire(code));
}

void BrokerMetrics::count_error_code(int16_t api_key, int16_t code) {
  if (code == 0 || api_key < 0 || api_key >= kApiKeyLimit) return;
  if (code < -1 || code >= kErrorCodeLimit - 1) return;
  size_t index = static_cast<size_t>(api_key) * kErrorCodeLimit + static_cast<size_t>(code + 1);
  errors_[index].fetch_add(1, std::memory_order_relaxed);
}

uint64_t BrokerMetrics::error_count(int16_t api_key, int16_t code) const {
  if (api_key < 0 || api_key >= kApiKeyLimit) return 0;
  if (code < -1 || code >= kErrorCodeLimit - 1) return 0;
  size_t index = static_cast<size_t>(api_key) * kErrorCodeLimit + static_cast<size_t>(code + 1);
  return errors_[index].load(std::memory_order_relaxed);
}

TopicCounters& BrokerMetrics::topic(std::string_view name) {
  TopicCache& cache = t_topic_cache;
  if (cache.owner != id_) {
    cache.topics.clear();
    cache.owner = id_;
  }
  auto it = cache.topics.find(name);
  if (it != cache.topics.end()) [[likely]] {
    return *it->second;
  }
  TopicCounters& counters = topic_slow(name);
  if (cache.topics.size() < kTopicCacheMax) cache.topics.emplace(std::string(name), &counters);
  return counters;
}

TopicCounters& BrokerMetrics::topic_slow(std::string_view name) {
  std::lock_guard lock(topics_mu_);
  auto it = topics_.find(name);
  if (it == topics_.end()) {
    it = topics_.emplace(std::string(name), std::make_unique<TopicCounters>()).first;
  }
  return *it->second;
}

std::vector<std::pair<std::string, const TopicCounters*>> BrokerMetrics::topics() const {
  std::lock_guard lock(topics_mu_);
  std::vector<std::pair<std::string, const TopicCounters*>> out;
  out.reserve(topics_.size());
  for (const auto& [name, counters] : topics_) out.emplace_back(name, counters.get());
  return out;
}

}  // namespace cairn::broker
