// The workload runner: drives one Driver through one Workload `run_count` times and returns the
// measurements as JSON (schema in bench/README.md).
//
// Measurement rules, after the OpenMessaging Benchmark:
// - Open loop with intended send times: in fixed-rate workloads message i is due at
//   t0 + i / rate and its latency is measured from that time, so a stalled broker cannot hide
//   its stall by slowing the sender (no coordinated omission). The lag of the actual send
//   behind the intended time is reported as send delay.
// - A warm-up period is excluded from every figure.
// - Throughput counts acknowledged bytes only (payload bytes, decimal MB = 10^6 B).
// - Broker CPU and RSS come from /proc for broker_pid over the measured window.
// Main thread only.
#pragma once

#include <sys/types.h>

#include <nlohmann/json.hpp>

#include "driver.h"
#include "workload.h"

namespace cairn::bench {

struct RunOptions {
  pid_t broker_pid = 0;
  std::string topic_prefix = "bench";
};

// Fails only when the workload cannot run at all (topic creation, connection); a run that
// measured something returns its JSON even if some messages failed (they are counted).
Result<nlohmann::json> run_workload(Driver& driver, const Workload& workload,
                                    const RunOptions& options);

// The workload's settings as JSON (stored with the results; `cairn-bench describe`).
nlohmann::json workload_json(const Workload& workload);

// Creates a 1-partition topic, produces one message and waits for its acknowledgement:
// whether the system under test can take produce requests at all (gives up after 20 s).
Status probe_produce(Driver& driver, const std::string& topic);

}  // namespace cairn::bench
