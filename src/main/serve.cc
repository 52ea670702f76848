// `cairn serve`: runs the broker in the foreground until SIGINT or SIGTERM.
//
// Logs to stderr. Once accepting, it logs "listening on HOST:PORT" with the port actually
// bound (tests pass --listen 127.0.0.1:0 and read it), and writes it to --port-file if given.
#include <pthread.h>
#include <signal.h>

#include <CLI/CLI.hpp>
#include <memory>
#include <string>
#include <thread>

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "broker/meta_file.h"
#include "broker/server.h"
#include "main/commands.h"

namespace cairn::cli {
namespace {

struct ServeOptions {
  std::string listen = "127.0.0.1:9092";
  std::string advertise;
  std::string data_dir = "./data";
  std::string port_file;
  std::string log_level = "info";
  uint32_t shard_count = 0;  // 0: one per core
  int32_t node_id = 0;
  uint32_t frame_bytes_max = 100 * 1024 * 1024;
  uint32_t in_flight_max = 128;
  uint64_t idle_timeout_ms = 10 * 60 * 1000;
};

Result<broker::BrokerConfig> make_config(const ServeOptions& options) {
  broker::BrokerConfig config;
  Result<net::HostPort> listen = net::parse_host_port(options.listen);
  if (!listen.ok()) return listen.status();
  config.listen = *listen;
  if (!options.advertise.empty()) {
    Result<net::HostPort> advertise = net::parse_host_port(options.advertise);
    if (!advertise.ok()) return advertise.status();
    if (advertise->port == 0) return error(StatusCode::invalid_argument, "--advertise port 0");
    config.advertise = *advertise;
  }
  config.data_dir = options.data_dir;
  config.node_id = NodeId(options.node_id);
  uint32_t cores = std::max(1u, std::thread::hardware_concurrency());
  config.shard_count = options.shard_count == 0 ? cores : options.shard_count;
  config.limits.frame_bytes_max = options.frame_bytes_max;
  config.limits.in_flight_max = options.in_flight_max;
  config.limits.idle_timeout = std::chrono::milliseconds(options.idle_timeout_ms);
  return config;
}

void setup_logging(const std::string& level) {
  auto logger = spdlog::stderr_logger_mt("cairn");
  logger->set_pattern("[%Y-%m-%d %H:%M:%S.%e] [%l] %v");
  logger->set_level(spdlog::level::from_str(level));
  logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(logger);
}

int run_serve(const ServeOptions& options) {
  setup_logging(options.log_level);
  Result<broker::BrokerConfig> config = make_config(options);
  if (!config.ok()) {
    spdlog::error("{}", config.status().message());
    return 2;
  }
  // Signals are taken synchronously by this thread only: block them before any shard thread
  // exists so every thread inherits the mask. SIGPIPE is ignored: sendfile() to a closed
  // socket must fail with EPIPE, not kill the broker.
  ::signal(SIGPIPE, SIG_IGN);
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  Result<std::unique_ptr<broker::Server>> server = broker::Server::start(std::move(config).value());
  if (!server.ok()) {
    spdlog::error("cannot start: {}", server.status().to_string());
    return 1;
  }
  net::HostPort bound = (*server)->bound_address();
  spdlog::info("listening on {}:{}", bound.host, bound.port);
  if (!options.port_file.empty()) {
    Status written = broker::write_meta_file(options.port_file, std::to_string(bound.port) + "\n");
    if (!written.ok()) spdlog::error("--port-file: {}", written.to_string());
  }

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  spdlog::info("received {}; shutting down", signal_number == SIGINT ? "SIGINT" : "SIGTERM");
  (*server)->stop();
  server = Result<std::unique_ptr<broker::Server>>(nullptr);
  spdlog::info("stopped");
  return 0;
}

}  // namespace

void add_serve_command(CLI::App& app) {
  auto options = std::make_shared<ServeOptions>();
  CLI::App* serve = app.add_subcommand("serve", "Run the broker in the foreground");
  serve->add_option("--listen", options->listen, "HOST:PORT to accept clients on (port 0: any)")
      ->capture_default_str();
  serve->add_option("--advertise", options->advertise,
                    "HOST:PORT clients are told to connect to (default: the listen address)");
  serve->add_option("--data-dir", options->data_dir, "Directory for logs and metadata")
      ->capture_default_str();
  serve->add_option("--shards", options->shard_count, "Shard threads (default: one per core)")
      ->check(CLI::Range(1u, 1024u));
  serve->add_option("--node-id", options->node_id, "This broker's node id")
      ->capture_default_str()
      ->check(CLI::Range(0, INT32_MAX));
  serve->add_option("--max-frame-bytes", options->frame_bytes_max, "Largest request frame")
      ->capture_default_str()
      ->check(CLI::Range(1024u, 1024u * 1024u * 1024u));
  serve
      ->add_option("--max-in-flight", options->in_flight_max,
                   "Requests per connection read ahead of their replies")
      ->capture_default_str()
      ->check(CLI::Range(1u, 100000u));
  serve
      ->add_option("--idle-timeout-ms", options->idle_timeout_ms,
                   "Close connections idle this long")
      ->capture_default_str()
      ->check(CLI::Range(uint64_t{1}, uint64_t{7} * 24 * 3600 * 1000));
  serve->add_option("--port-file", options->port_file, "Write the bound port to this file");
  serve->add_option("--log-level", options->log_level, "trace|debug|info|warn|error")
      ->capture_default_str()
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}));
  serve->callback([options] { set_exit_code(run_serve(*options)); });
}

}  // namespace cairn::cli
