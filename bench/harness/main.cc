// cairn-bench: the benchmark harness's command line. bench/run.py (what `make bench` runs)
// starts each system and calls it once per workload; it can also be used by hand:
//
//   cairn-bench run --system kafka --address 127.0.0.1:9092 --workload bench/workloads/x.yaml
//               [--quick] [--broker-pid PID] [--label TEXT] [--out results.json]
//   cairn-bench probe --system kafka --address 127.0.0.1:9092
//   cairn-bench describe --workload bench/workloads/x.yaml [--quick]
//
// --system kafka --address mock runs librdkafka's in-process mock cluster instead of a broker
// (harness development only: it is not a real broker and its figures mean little).
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>

#include "driver.h"
#include "runner.h"

namespace cairn::bench {

Result<std::unique_ptr<Driver>> make_driver(const std::string& system, const std::string& address) {
  if (system == "kafka") return make_kafka_driver(address);
  if (system == "redis") return make_redis_driver(address);
  if (system == "nats") return make_nats_driver(address);
  return error(StatusCode::invalid_argument,
               "unknown system '" + system + "' (kafka, redis, nats)");
}

namespace {

struct Arguments {
  std::string system;
  std::string address;
  std::string workload_path;
  std::string label;
  std::string out_path;
  bool quick = false;
  double duration_scale = 1.0;
  uint64_t backlog_bytes = 0;
  uint32_t run_count = 0;  // 0: the workload file's
  int broker_pid = 0;
};

int write_json(const nlohmann::json& result, const std::string& path) {
  const std::string text = result.dump(2) + "\n";
  if (path.empty() || path == "-") {
    std::cout << text;
    return 0;
  }
  std::ofstream out(path);
  out << text;
  return out ? 0 : 1;
}

// The workload file with the command line's adjustments (shorter runs to fit a time budget,
// a smaller backlog to fit the disk, fewer runs to alternate them with another workload's).
Result<Workload> load_adjusted(const Arguments& args) {
  auto workload = load_workload_file(args.workload_path, args.quick);
  if (!workload.ok()) return workload;
  ASSERT(args.duration_scale > 0);
  workload->duration_seconds *= args.duration_scale;
  workload->warmup_seconds *= args.duration_scale;
  if (args.backlog_bytes > 0 && workload->kind == WorkloadKind::catch_up) {
    workload->backlog_bytes = std::max<uint64_t>(args.backlog_bytes, workload->message_bytes);
  }
  if (args.run_count > 0) workload->run_count = args.run_count;
  return workload;
}

int command_describe(const Arguments& args) {
  auto workload = load_adjusted(args);
  if (!workload.ok()) {
    std::fprintf(stderr, "cairn-bench: %s\n", workload.status().to_string().c_str());
    return 2;
  }
  return write_json(workload_json(*workload), "-");
}

int command_run(const Arguments& args) {
  auto workload = load_adjusted(args);
  if (!workload.ok()) {
    std::fprintf(stderr, "cairn-bench: %s\n", workload.status().to_string().c_str());
    return 2;
  }
  nlohmann::json result = {
      {"label", args.label}, {"quick", args.quick}, {"workload_file", args.workload_path}};
  auto driver = make_driver(args.system, args.address);
  if (!driver.ok()) {
    result["status"] = "error";
    result["error"] = driver.status().to_string();
  } else {
    RunOptions options;
    options.broker_pid = args.broker_pid;
    auto measured = run_workload(**driver, *workload, options);
    if (measured.ok()) {
      result.update(*measured);
      result["status"] = "ok";
    } else {
      result["status"] = "error";
      result["error"] = measured.status().to_string();
    }
  }
  if (result["status"] != "ok") {
    std::fprintf(stderr, "cairn-bench: %s\n", result["error"].get<std::string>().c_str());
  }
  return write_json(result, args.out_path) == 0 && result["status"] == "ok" ? 0 : 1;
}

int command_probe(const Arguments& args) {
  auto driver = make_driver(args.system, args.address);
  Status status = driver.ok() ? probe_produce(**driver, "bench-probe-" + std::to_string(getpid()))
                              : driver.status();
  if (!status.ok()) {
    std::fprintf(stderr, "cairn-bench: probe: %s\n", status.to_string().c_str());
    return 1;
  }
  std::printf("ok\n");
  return 0;
}

}  // namespace
}  // namespace cairn::bench

int main(int argc, char** argv) {
  using cairn::bench::Arguments;
  Arguments args;
  CLI::App app{"cairn-bench: Kafka / Redis Streams / NATS JetStream benchmark harness"};
  app.require_subcommand(1);
  auto add_target = [&args](CLI::App* command) {
    command->add_option("--system", args.system, "kafka, redis or nats")->required();
    command->add_option("--address", args.address, "host:port of the system (kafka: or mock)")
        ->required();
  };
  CLI::App* run = app.add_subcommand("run", "run one workload file against one system");
  add_target(run);
  auto add_workload = [&args](CLI::App* command) {
    command->add_option("--workload", args.workload_path, "workload YAML file")->required();
    command->add_flag("--quick", args.quick, "apply the workload's quick: overrides");
    command->add_option("--duration-scale", args.duration_scale, "multiply durations by this")
        ->check(CLI::Range(0.05, 10.0));
    command->add_option("--backlog-bytes", args.backlog_bytes, "override catch-up backlog");
    command->add_option("--runs", args.run_count, "override the number of runs")
        ->check(CLI::Range(1, 20));
  };
  add_workload(run);
  run->add_option("--broker-pid", args.broker_pid, "pid of the broker, for CPU and RSS");
  run->add_option("--label", args.label, "label stored in the results");
  run->add_option("--out", args.out_path, "results JSON file (default stdout)");
  CLI::App* probe = app.add_subcommand("probe", "produce one message and wait for its ack");
  add_target(probe);
  CLI::App* describe = app.add_subcommand("describe", "print a workload file's settings as JSON");
  add_workload(describe);
  CLI11_PARSE(app, argc, argv);
  if (run->parsed()) return cairn::bench::command_run(args);
  if (describe->parsed()) return cairn::bench::command_describe(args);
  return cairn::bench::command_probe(args);
}
