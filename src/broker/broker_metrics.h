// BrokerMetrics: the broker's instruments for /metrics — what the request path updates, per
// Kafka API, per topic and per connection. Updates are lock-free (metrics/cells.h): on the
// hot path a request adds two relaxed atomic increments (its latency histogram bucket and
// sum), and each produced or fetched partition two more (bytes and records of its topic). A
// Kafka error adds one. The collector (metrics_collector.h) reads them at scrape time on the
// HTTP thread.
//
// Per-topic counters: a topic's counters are created on first use and kept until the broker
// stops (a deleted topic's totals stay, so a rate() over them never sees a reset); labels are
// per topic, not per partition, which bounds the series count by the topics created since
// the start. Each thread finds a topic's counters through its own cache (a thread_local map),
// so only a topic's first use on a thread takes the mutex.
//
// Thread safety: every method, from any thread. Lives in BrokerState (shared_ptr), so it
// outlives every connection and handler.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "broker/error_code.h"
#include "metrics/cells.h"

namespace cairn::broker {

// Bytes and records of one topic, in (produced) and out (fetched); one cache line per slot.
class TopicCounters {
 public:
  void add_in(uint64_t bytes, uint64_t records) {
    Cell& cell = cells_[metrics::thread_slot()];
    cell.bytes_in.fetch_add(bytes, std::memory_order_relaxed);
    cell.records_in.fetch_add(records, std::memory_order_relaxed);
  }
  void add_out(uint64_t bytes, uint64_t records) {
    Cell& cell = cells_[metrics::thread_slot()];
    cell.bytes_out.fetch_add(bytes, std::memory_order_relaxed);
    cell.records_out.fetch_add(records, std::memory_order_relaxed);
  }
  struct Totals {
    uint64_t bytes_in = 0;
    uint64_t records_in = 0;
    uint64_t bytes_out = 0;
    uint64_t records_out = 0;
  };
  Totals totals() const;

 private:
  struct alignas(metrics::kCacheLineBytes) Cell {
    std::atomic<uint64_t> bytes_in{0};
    std::atomic<uint64_t> records_in{0};
    std::atomic<uint64_t> bytes_out{0};
    std::atomic<uint64_t> records_out{0};
  };
  Cell cells_[metrics::kSlotCount];
};

class BrokerMetrics {
 public:
  // Kafka API keys below this are counted (ApiVersions lists ~70 today); others are ignored.
  static constexpr int16_t kApiKeyLimit = 128;
  // Error codes -1 .. kErrorCodeLimit - 2 are counted by code.
  static constexpr int16_t kErrorCodeLimit = 128;

  BrokerMetrics();
  BrokerMetrics(const BrokerMetrics&) = delete;
  BrokerMetrics& operator=(const BrokerMetrics&) = delete;

  // The request latency histogram of `api_key` (from the frame's arrival at the session to
  // the reply being ready), or null for a key outside [0, kApiKeyLimit).
  metrics::Histogram* request_latency(int16_t api_key) const;
  // One more `code` answered for `api_key` (a whole-request error or one partition's).
  // ErrorCode::none is not counted.
  void count_error(int16_t api_key, ErrorCode code);
  void count_error_code(int16_t api_key, int16_t code);
  uint64_t error_count(int16_t api_key, int16_t code) const;

  TopicCounters& topic(std::string_view name);
  // Every topic that has counters, with its counters, by name.
  std::vector<std::pair<std::string, const TopicCounters*>> topics() const;

  // Kafka connections open now (KafkaSession's constructor and destructor).
  metrics::Gauge connections;
  // Records converted between message formats: legacy (magic 0/1) ones produced with Produce
  // v0-2 and stored as v2, and v2 ones sent to Fetch v0-3 as magic 0/1 (Kafka's
  // ProduceMessageConversionsPerSec and FetchMessageConversionsPerSec).
  metrics::Counter produce_conversions;
  metrics::Counter fetch_conversions;
  // Incremental fetch sessions (KIP-227) cached now, the partitions they hold, and the
  // sessions evicted to make room (Kafka's NumIncrementalFetchSessions,
  // NumIncrementalFetchPartitionsCached, IncrementalFetchSessionEvictionsPerSec).
  metrics::Gauge fetch_sessions;
  metrics::Gauge fetch_session_partitions;
  metrics::Counter fetch_session_evictions;
  // SASL logins (and re-logins) that succeeded and that failed (kafka_session_sasl.cc).
  metrics::Counter sasl_successes;
  metrics::Counter sasl_failures;

 private:
  TopicCounters& topic_slow(std::string_view name);

  std::array<std::unique_ptr<metrics::Histogram>, kApiKeyLimit> latency_;
  std::unique_ptr<std::atomic<uint64_t>[]> errors_;  // [api_key][code + 1]
  const uint64_t id_;                                // tells thread caches apart
  mutable std::mutex topics_mu_;
  std::map<std::string, std::unique_ptr<TopicCounters>, std::less<>> topics_;  // by topics_mu_
};

}  // namespace cairn::broker
