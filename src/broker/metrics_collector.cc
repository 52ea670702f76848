#include "broker/metrics_collector.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <condition_variable>
#include <map>
#include <mutex>
#include <tuple>

#include "broker/groups/coordinator.h"
#include "broker/groups/shard_coordinator.h"
#include "broker/handlers/api_table.h"
#include "broker/partitions/lag_times.h"
#include "broker/partitions/partition_manager.h"
#include "broker/security/audit_log.h"
#include "net/connection_quota.h"

namespace cairn::broker {
namespace {

using metrics::Exposition;
using metrics::Labels;
using metrics::Type;

constexpr double kNanosPerSecond = 1e9;

void collect_requests(const BrokerMetrics& broker_metrics, Exposition& out) {
  std::vector<std::pair<std::string, metrics::Histogram::Snapshot>> used;
  for (const ApiEntry& api : api_table()) {
    metrics::Histogram::Snapshot snapshot = broker_metrics.request_latency(api.api_key)->snapshot();
    if (snapshot.count > 0) used.emplace_back(request_label(api.name), std::move(snapshot));
  }
  out.family("cairn_kafka_request_latency_seconds",
             "Time from the start of a Kafka request's handling to its reply, by API",
             Type::histogram);
  for (const auto& [label, snapshot] : used) {
    out.histogram("cairn_kafka_request_latency_seconds", {{"request", label}}, snapshot,
                  kNanosPerSecond);
  }
  out.family("cairn_kafka_requests_total", "Kafka requests handled, by API", Type::counter);
  for (const auto& [label, snapshot] : used) {
    out.sample("cairn_kafka_requests_total", {{"request", label}}, snapshot.count);
  }
  out.family("cairn_kafka_request_errors_total",
             "Kafka error codes answered, by API and code (whole requests and single partitions)",
             Type::counter);
  for (const ApiEntry& api : api_table()) {
    for (int16_t code = -1; code < BrokerMetrics::kErrorCodeLimit - 1; code++) {
      uint64_t count = broker_metrics.error_count(api.api_key, code);
      if (count == 0) continue;
      out.sample("cairn_kafka_request_errors_total",
                 {{"request", request_label(api.name)}, {"error_code", std::to_string(code)}},
                 count);
    }
  }
}

void collect_topics(const BrokerMetrics& broker_metrics, Exposition& out) {
  auto topics = broker_metrics.topics();
  std::vector<TopicCounters::Totals> totals;
  totals.reserve(topics.size());
  for (const auto& [name, counters] : topics) totals.push_back(counters->totals());
  out.family("cairn_kafka_request_bytes_total",
             "Record batch bytes produced to (request=produce) and fetched from "
             "(request=consume) a topic",
             Type::counter);
  for (size_t i = 0; i < topics.size(); i++) {
    out.sample("cairn_kafka_request_bytes_total",
               {{"topic", topics[i].first}, {"request", "produce"}}, totals[i].bytes_in);
    out.sample("cairn_kafka_request_bytes_total",
               {{"topic", topics[i].first}, {"request", "consume"}}, totals[i].bytes_out);
  }
  out.family("cairn_kafka_records_produced_total", "Records appended to a topic by Produce",
             Type::counter);
  for (size_t i = 0; i < topics.size(); i++) {
    out.sample("cairn_kafka_records_produced_total", {{"topic", topics[i].first}},
               totals[i].records_in);
  }
  out.family("cairn_kafka_records_fetched_total",
             "Records (offsets) of a topic returned by Fetch, from each fetch offset on",
             Type::counter);
  for (size_t i = 0; i < topics.size(); i++) {
    out.sample("cairn_kafka_records_fetched_total", {{"topic", topics[i].first}},
               totals[i].records_out);
  }
}

struct TopicStorage {
  uint64_t size_bytes = 0;
  uint64_t segment_count = 0;
  uint64_t partition_count = 0;
  uint64_t high_watermark_sum = 0;
};

// A committed offset of a consumer group (on the shard that owns the group).
struct CommittedSample {
  std::string group;
  std::string topic;
  int32_t partition = 0;
  int64_t offset = -1;
};

struct ShardSamples {
  std::vector<PartitionSample> partitions;
  std::vector<CommittedSample> committed;
};

// The calling shard's committed offsets. REQUIRES: on a shard thread.
void add_committed(const groups::GroupCoordinator& coordinator, std::vector<CommittedSample>& out) {
  coordinator.local().manager().for_each_group([&out](const groups::Group& group) {
    for (const auto& [key, committed] : group.offsets) {
      out.push_back(CommittedSample{group.group_id, key.topic, key.partition.value(),
                                    committed.offset.value()});
    }
  });
}

// Every shard's partitions and committed offsets, or nullopt if one did not answer in time.
std::optional<ShardSamples> gather_samples(const BrokerState& state,
                                           std::chrono::milliseconds timeout) {
  struct Gather {
    std::mutex mu;
    std::condition_variable answered;
    ShardSamples samples;  // guarded by mu
    uint32_t pending = 0;  // guarded by mu
  };
  auto gather = std::make_shared<Gather>();
  uint32_t shard_count = state.shards->count();
  gather->pending = shard_count;
  PartitionManager* partitions = state.partitions;
  const groups::GroupCoordinator* groups = state.groups;
  for (uint32_t i = 0; i < shard_count; i++) {
    // A post, not a coroutine hop: this thread is no shard. The lambda owns `gather`, so a
    // late answer after the timeout writes into memory that is still alive.
    state.shards->post(net::ShardId(i), [gather, partitions, groups] {
      ShardSamples local{partitions->partition_samples(), {}};
      if (groups != nullptr) add_committed(*groups, local.committed);
      std::lock_guard lock(gather->mu);
      for (PartitionSample& sample : local.partitions) {
        gather->samples.partitions.push_back(std::move(sample));
      }
      for (CommittedSample& sample : local.committed) {
        gather->samples.committed.push_back(std::move(sample));
      }
      gather->pending--;
      gather->answered.notify_all();
    });
  }
  std::unique_lock lock(gather->mu);
  if (!gather->answered.wait_for(lock, timeout, [&] { return gather->pending == 0; })) {
    return std::nullopt;
  }
  return std::move(gather->samples);
}

using PartitionIndex = std::map<std::pair<std::string, int32_t>, const PartitionSample*>;

void write_group_lag(std::vector<CommittedSample> committed, const PartitionIndex& partitions,
                     Exposition& out) {
  std::sort(committed.begin(), committed.end(), [](const auto& a, const auto& b) {
    return std::tie(a.group, a.topic, a.partition) < std::tie(b.group, b.topic, b.partition);
  });
  out.family("kafka_consumergroup_current_offset", "Committed offset of a group on a partition",
             Type::gauge);
  for (const CommittedSample& c : committed) {
    out.sample("kafka_consumergroup_current_offset",
               {{"consumergroup", c.group},
                {"topic", c.topic},
                {"partition", std::to_string(c.partition)}},
               c.offset);
  }
  std::map<std::pair<std::string, std::string>, int64_t> sums;  // (group, topic) -> lag
  out.family("kafka_consumergroup_lag",
             "Records a group is behind on a partition: high watermark minus committed offset",
             Type::gauge);
  for (const CommittedSample& c : committed) {
    auto partition = partitions.find({c.topic, c.partition});
    if (partition == partitions.end()) continue;  // a deleted topic's offsets
    int64_t lag = std::max<int64_t>(0, partition->second->high_watermark.value() - c.offset);
    sums[{c.group, c.topic}] += lag;
    out.sample("kafka_consumergroup_lag",
               {{"consumergroup", c.group},
                {"topic", c.topic},
                {"partition", std::to_string(c.partition)}},
               lag);
  }
  out.family("kafka_consumergroup_lag_sum", "Records a group is behind on a topic, summed",
             Type::gauge);
  for (const auto& [key, lag] : sums) {
    out.sample("kafka_consumergroup_lag_sum", {{"consumergroup", key.first}, {"topic", key.second}},
               lag);
  }
}

// kafka_exporter's names (danielqsj/kafka_exporter), so its dashboards and alerts work: the
// partitions' offsets and each group's committed offset and lag (high watermark minus
// committed offset, never below 0), computed from what the broker holds, without reading
// any log.
void write_lag(const ShardSamples& samples, Exposition& out) {
  std::map<std::pair<std::string, int32_t>, const PartitionSample*> by_partition;
  for (const PartitionSample& sample : samples.partitions) {
    by_partition[{sample.topic, sample.partition.value()}] = &sample;
  }
  out.family("kafka_topic_partition_current_offset", "High watermark of a partition", Type::gauge);
  for (const auto& [key, sample] : by_partition) {
    out.sample("kafka_topic_partition_current_offset",
               {{"topic", key.first}, {"partition", std::to_string(key.second)}},
               sample->high_watermark.value());
  }
  out.family("kafka_topic_partition_oldest_offset", "Log start offset of a partition", Type::gauge);
  for (const auto& [key, sample] : by_partition) {
    out.sample("kafka_topic_partition_oldest_offset",
               {{"topic", key.first}, {"partition", std::to_string(key.second)}},
               sample->log_start_offset.value());
  }
  write_group_lag(samples.committed, by_partition, out);
}

// Each group with a tier (lag_tiers.h): its threshold, and whether its largest lag in
// seconds passes it.
void write_lag_tiers(const std::vector<LagTier>& tiers,
                     const std::map<std::string, double>& lag_seconds_max, Exposition& out) {
  std::vector<std::pair<std::string, const LagTier*>> tiered;
  for (const auto& [group, seconds] : lag_seconds_max) {
    if (const LagTier* tier = lag_tier_for(tiers, group)) tiered.emplace_back(group, tier);
  }
  out.family("cairn_consumergroup_lag_tier_threshold_seconds",
             "Lag in seconds a group's alert tier allows (--lag-alert-tiers)", Type::gauge);
  for (const auto& [group, tier] : tiered) {
    out.sample("cairn_consumergroup_lag_tier_threshold_seconds",
               {{"consumergroup", group}, {"tier", tier->tier}}, tier->threshold_seconds);
  }
  out.family("cairn_consumergroup_lag_tier_breached",
             "1 while a group's largest lag in seconds is above its alert tier's threshold",
             Type::gauge);
  for (const auto& [group, tier] : tiered) {
    bool breached = lag_seconds_max.at(group) > tier->threshold_seconds;
    out.sample("cairn_consumergroup_lag_tier_breached",
               {{"consumergroup", group}, {"tier", tier->tier}}, uint64_t{breached ? 1u : 0u});
  }
}

// Seconds each group's first unconsumed record has waited, per partition (lag_times.h): from
// the partitions' append-time tables on their shards, never the log. Left out of the scrape
// when a shard does not answer in time.
void write_lag_seconds(const BrokerState& state, const ShardSamples& samples,
                       std::chrono::milliseconds timeout, Exposition& out) {
  std::map<std::pair<std::string, int32_t>, Offset> high_watermarks;
  for (const PartitionSample& sample : samples.partitions) {
    high_watermarks[{sample.topic, sample.partition.value()}] = sample.high_watermark;
  }
  std::vector<const CommittedSample*> rows;
  std::vector<LagQuery> queries;
  for (const CommittedSample& c : samples.committed) {
    auto partition = high_watermarks.find({c.topic, c.partition});
    if (partition == high_watermarks.end()) continue;  // a deleted topic's offsets
    rows.push_back(&c);
    queries.push_back(
        LagQuery{c.topic, PartitionId(c.partition), Offset(c.offset), partition->second});
  }
  auto seconds = lag_seconds(*state.partitions, *state.shards, queries, timeout);
  if (!seconds) return;
  out.family("cairn_consumergroup_lag_seconds",
             "Seconds the first record a group has not consumed on a partition has waited since "
             "it was appended (0 when the group is caught up)",
             Type::gauge);
  std::map<std::string, double> lag_seconds_max;  // by group
  for (size_t i = 0; i < rows.size(); i++) {
    if (!(*seconds)[i].has_value()) continue;
    out.sample("cairn_consumergroup_lag_seconds",
               {{"consumergroup", rows[i]->group},
                {"topic", rows[i]->topic},
                {"partition", std::to_string(rows[i]->partition)}},
               *(*seconds)[i]);
    double& group_max = lag_seconds_max[rows[i]->group];
    group_max = std::max(group_max, *(*seconds)[i]);
  }
  write_lag_tiers(state.config.lag_alert_tiers, lag_seconds_max, out);
}

// KIP-227 incremental fetch sessions (partitions/fetch_sessions.h), summed over the shards.
void collect_fetch_session_metrics(const BrokerMetrics& broker_metrics, Exposition& out) {
  out.family("cairn_kafka_fetch_sessions", "Incremental fetch sessions cached now", Type::gauge);
  out.sample("cairn_kafka_fetch_sessions", {}, broker_metrics.fetch_sessions.value());
  out.family("cairn_kafka_fetch_session_partitions",
             "Partitions held by the cached incremental fetch sessions", Type::gauge);
  out.sample("cairn_kafka_fetch_session_partitions", {},
             broker_metrics.fetch_session_partitions.value());
  out.family("cairn_kafka_fetch_session_evictions_total",
             "Incremental fetch sessions evicted to make room for a new one", Type::counter);
  out.sample("cairn_kafka_fetch_session_evictions_total", {},
             broker_metrics.fetch_session_evictions.value());
}

}  // namespace

std::string request_label(std::string_view api_name) {
  std::string label;
  for (size_t i = 0; i < api_name.size(); i++) {
    char c = api_name[i];
    if (std::isupper(static_cast<unsigned char>(c))) {
      if (i > 0) label += '_';
      label += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    } else {
      label += c;
    }
  }
  return label;
}

void collect_request_metrics(const BrokerMetrics& broker_metrics, Exposition& out) {
  collect_requests(broker_metrics, out);
  collect_topics(broker_metrics, out);
  out.family("cairn_rpc_active_connections", "Kafka client connections open now", Type::gauge);
  out.sample("cairn_rpc_active_connections", {{"server", "kafka"}},
             broker_metrics.connections.value());
  out.family("cairn_kafka_message_conversions_total",
             "Records converted between message formats (magic 0/1 and 2) for old clients",
             Type::counter);
  out.sample("cairn_kafka_message_conversions_total", {{"direction", "produce"}},
             broker_metrics.produce_conversions.value());
  out.sample("cairn_kafka_message_conversions_total", {{"direction", "fetch"}},
             broker_metrics.fetch_conversions.value());
  collect_fetch_session_metrics(broker_metrics, out);
  out.family("cairn_authentication_total", "SASL logins by result", Type::counter);
  out.sample("cairn_authentication_total", {{"result", "success"}},
             broker_metrics.sasl_successes.value());
  out.sample("cairn_authentication_total", {{"result", "failure"}},
             broker_metrics.sasl_failures.value());
}

void collect_security_metrics(const BrokerState& state, Exposition& out) {
  if (const net::ConnectionQuota* quota = state.connection_quota.get()) {
    out.family("cairn_connections_refused_total",
               "Client connections closed as accepted: over max.connections or "
               "max.connections.per.ip",
               Type::counter);
    out.sample("cairn_connections_refused_total", {{"reason", "max_connections"}},
               quota->refused_total());
    out.sample("cairn_connections_refused_total", {{"reason", "max_connections_per_ip"}},
               quota->refused_per_ip());
  }
  if (const security::AuditLog* audit = state.audit) {
    out.family("cairn_audit_events_total",
               "Access audit events: written to the audit file, or dropped (queue full)",
               Type::counter);
    out.sample("cairn_audit_events_total", {{"result", "written"}}, audit->written());
    out.sample("cairn_audit_events_total", {{"result", "dropped"}}, audit->dropped());
  }
}

void collect_flush_metrics(const storage::FlushMetrics& flush, Exposition& out) {
  out.family("cairn_storage_fsync_latency_seconds",
             "Duration of each fdatasync of a partition's segment file", Type::histogram);
  out.histogram("cairn_storage_fsync_latency_seconds", {}, flush.fsync_latency_ns.snapshot(),
                kNanosPerSecond);
  out.family("cairn_storage_batches_per_fsync",
             "Record batches made durable by one flush of a partition (group commit)",
             Type::histogram);
  out.histogram("cairn_storage_batches_per_fsync", {}, flush.batches_per_flush.snapshot(), 1);
}

bool collect_partition_metrics(const BrokerState& state, std::chrono::milliseconds timeout,
                               Exposition& out) {
  std::optional<ShardSamples> samples = gather_samples(state, timeout);
  if (!samples) {
    spdlog::warn("/metrics: a shard did not answer within {} ms; storage metrics left out",
                 timeout.count());
    return false;
  }
  std::map<std::string, TopicStorage> topics;
  for (const PartitionSample& sample : samples->partitions) {
    TopicStorage& topic = topics[sample.topic];
    topic.size_bytes += sample.size_bytes;
    topic.segment_count += sample.segment_count;
    topic.partition_count++;
    topic.high_watermark_sum +=
        static_cast<uint64_t>(std::max<int64_t>(0, sample.high_watermark.value()));
  }
  out.family("cairn_storage_log_size_bytes", "Bytes of a topic's segment files, all partitions",
             Type::gauge);
  for (const auto& [name, topic] : topics) {
    out.sample("cairn_storage_log_size_bytes", {{"topic", name}}, topic.size_bytes);
  }
  out.family("cairn_storage_log_segments", "Segments of a topic, all partitions", Type::gauge);
  for (const auto& [name, topic] : topics) {
    out.sample("cairn_storage_log_segments", {{"topic", name}}, topic.segment_count);
  }
  out.family("cairn_kafka_partitions", "Partitions of a topic with an open log", Type::gauge);
  for (const auto& [name, topic] : topics) {
    out.sample("cairn_kafka_partitions", {{"topic", name}}, topic.partition_count);
  }
  out.family("cairn_kafka_topic_high_watermark",
             "A topic's high watermarks (log end offsets), summed over its partitions",
             Type::gauge);
  for (const auto& [name, topic] : topics) {
    out.sample("cairn_kafka_topic_high_watermark", {{"topic", name}}, topic.high_watermark_sum);
  }
  write_lag(*samples, out);
  write_lag_seconds(state, *samples, timeout, out);
  return true;
}

}  // namespace cairn::broker
