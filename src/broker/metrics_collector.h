// The broker's /metrics families, written at scrape time on the HTTP thread: request counts,
// latencies and errors per Kafka API, bytes and records per topic, connections, fsyncs, and
// each topic's storage (asked of every shard, see partition_samples). docs/observability.md
// lists every family with its meaning; names follow Redpanda's public metrics, `cairn_` first.
//
// Consumer lag: kafka_exporter's names (kafka_consumergroup_lag, ...), computed from the
// coordinator's committed offsets and the high watermarks, never by reading a log.
//
// Thread safety: any thread but a shard's (it waits for the shards). REQUIRES: the shards
// run (between Server::start and Server::stop).
#pragma once

#include <chrono>
#include <string>

#include "broker/broker_state.h"
#include "metrics/exposition.h"
#include "storage/flusher.h"

namespace cairn::broker {

// "ApiVersions" -> "api_versions": the `request` label value of a Kafka API.
std::string request_label(std::string_view api_name);

// Writes the request, topic and connection families from `metrics`.
void collect_request_metrics(const BrokerMetrics& metrics, metrics::Exposition& out);
// Writes the connection-limit and audit-log families (when those exist).
void collect_security_metrics(const BrokerState& state, metrics::Exposition& out);
// Writes the fsync families.
void collect_flush_metrics(const storage::FlushMetrics& flush, metrics::Exposition& out);
// Hops to every shard for its partitions' sizes and offsets and its groups' committed
// offsets, and writes the per-topic storage families and kafka_exporter's offset and
// consumer-lag gauges (per partition). A shard that does not answer within `timeout` (stuck on a
// disk) leaves them out of this scrape rather than report a partial total; false then.
bool collect_partition_metrics(const BrokerState& state, std::chrono::milliseconds timeout,
                               metrics::Exposition& out);

}  // namespace cairn::broker
