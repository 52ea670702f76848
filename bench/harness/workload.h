// Workload: one benchmark scenario, read from a YAML file in bench/workloads/ (after the
// OpenMessaging Benchmark's workload files; the fields are listed in bench/README.md).
//
// parse_workload() validates everything up front (unknown keys, ranges, a rate where the kind
// needs one) so that a typo fails the run before any broker is started. A `quick:` block holds
// overrides applied when the harness runs with --quick (development runs of a few seconds).
// Plain values: any thread.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace cairn::bench {

enum class WorkloadKind {
  max_rate_produce,    // produce as fast as acks come back; report acknowledged bytes/s
  fixed_rate_latency,  // produce on a fixed schedule; end-to-end latency from intended time
  catch_up,            // build a backlog, then time a consumer reading it from the start
  many_partitions,     // many partitions at a low rate: broker memory and CPU
};

enum class Acks { all, leader };  // Kafka acks=all (-1) and acks=1

enum class Partitioning {
  sticky,       // the client picks (librdkafka's sticky partitioner; peers: round robin)
  round_robin,  // the harness spreads messages over every partition in turn
};

// `transactional: {commit_interval_ms: 100}`: the Kafka producer gets a transactional.id and
// commits a transaction every commit_interval_ms (Kafka only, so `systems: [cairn]`).
struct TransactionSettings {
  uint32_t commit_interval_ms = 100;
};

struct Workload {
  std::string name;
  std::string description;
  WorkloadKind kind = WorkloadKind::max_rate_produce;
  uint32_t message_bytes = 1024;
  uint32_t partition_count = 1;
  Acks acks = Acks::all;
  Partitioning partitioning = Partitioning::sticky;
  // 0 means "as fast as possible"; required > 0 for fixed_rate_latency and many_partitions.
  uint64_t rate_bytes_per_second = 0;
  double duration_seconds = 5;
  double warmup_seconds = 1;
  double settle_seconds = 2;  // many_partitions: idle time before the memory reading
  uint32_t run_count = 3;
  uint64_t backlog_bytes = 0;  // catch_up only
  uint32_t in_flight_max = 4096;
  // Which of the run's system variants take part: "cairn", "peer_default", "peer_durable".
  std::vector<std::string> systems;
  // librdkafka properties for the Kafka driver's producer and consumer.
  std::map<std::string, std::string> kafka_producer;
  std::map<std::string, std::string> kafka_consumer;
  // max_rate_produce: only messages of committed transactions count. catch_up: the backlog is
  // written in transactions.
  std::optional<TransactionSettings> transactional;
  // The name of the workload this one is measured against (its reference: same settings but
  // one). bench/run.py alternates their runs, so that both see the same machine, and the docs
  // show the ratio of the two.
  std::string compare_with;

  double messages_per_second() const {
    return static_cast<double>(rate_bytes_per_second) / static_cast<double>(message_bytes);
  }
};

const char* workload_kind_name(WorkloadKind kind);

// Parses "4096", "1KiB", "64MiB", "2GiB" (binary) and "20MB", "1GB", "500KB" (decimal).
Result<uint64_t> parse_byte_size(std::string_view text);

// Parses a workload from YAML text; `quick` applies the file's `quick:` overrides.
Result<Workload> parse_workload(std::string_view yaml_text, bool quick);
Result<Workload> load_workload_file(const std::string& path, bool quick);

}  // namespace cairn::bench
