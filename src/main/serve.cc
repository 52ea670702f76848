// `cairn serve`: runs the broker in the foreground until SIGINT or SIGTERM.
//
// Logs to stderr. Once accepting, it logs "listening on HOST:PORT" with the port the first
// listener actually bound (tests pass --listen 127.0.0.1:0 and read it), and writes it to
// --port-file if given; each listener also gets a line "listener NAME (PROTOCOL) on HOST:PORT,
// advertising HOST:PORT". SIGHUP reloads the TLS certificate files (Server::reload_tls), and so
// does a change to one of them (looked for every 2 s); SIGHUP also reopens the audit log file.
//
// Configuration (docs/configuration.md), lowest precedence first: built-in defaults, the YAML
// file of --config (top-level keys named like the flags, Kafka broker configs under `kafka:`),
// then the command line: --set NAME=VALUE for any Kafka broker config and the shorthand flags
// (--num-partitions, --log-retention-ms, ...), which beat --set. The flags are defined in
// serve_options.cc; --print-config checks all of it and prints the result without starting.
#include <pthread.h>
#include <signal.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <ctime>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "base/open_files.h"
#include "broker/configs/broker_config_file.h"
#include "broker/meta_file.h"
#include "broker/server.h"
#include "main/admin_http.h"
#include "main/commands.h"
#include "main/serve_options.h"

namespace cairn::cli {
namespace {

// The Kafka broker configs: the file's `kafka:` section, then --set, then the shorthands
// (given on the command line or as top-level keys of the file).
Result<std::map<std::string, std::string, std::less<>>> kafka_configs(
    const ServeOptions& options, const broker::configs::ConfigMap& from_file,
    const CLI::App& serve) {
  std::map<std::string, std::string, std::less<>> configs = from_file;
  for (const std::string& setting : options.kafka_settings) {
    size_t equals = setting.find('=');
    if (equals == std::string::npos || equals == 0) {
      return error(StatusCode::invalid_argument, "--set " + setting + ": expected NAME=VALUE");
    }
    configs[setting.substr(0, equals)] = setting.substr(equals + 1);
  }
  for (const KafkaFlag& flag : kKafkaFlags) {
    if (serve.get_option(flag.flag)->count() == 0) continue;
    configs[flag.kafka_name] = options.kafka_shorthands.at(flag.kafka_name);
  }
  return configs;
}

// Applies the file's top-level settings to the flags the command line did not give, through
// the flags' own parsing and checks.
Status apply_file_settings(CLI::App& serve, const broker::configs::ConfigFile& file) {
  for (const auto& [key, value] : file.settings) {
    CLI::Option* option = serve.get_option_no_throw("--" + key);
    if (option == nullptr || is_command_line_only(key)) {
      return error(StatusCode::invalid_argument,
                   "unknown setting '" + key +
                       "' (settings are `cairn serve` flags without "
                       "'--'; Kafka broker configs go under `kafka:`)");
    }
    if (option->count() > 0) continue;  // the command line wins
    try {
      option->clear();
      option->add_result(value);
      option->run_callback();
    } catch (const CLI::Error& e) {  // CLI11 reports conversion and range errors by exception
      return error(StatusCode::invalid_argument, key + ": " + e.what());
    }
  }
  return Status::ok_status();
}

// --listen/--advertise describe the one PLAINTEXT listener of a broker without `listeners`;
// giving both forms is a mistake worth stopping for.
Status check_listener_settings(const broker::BrokerConfig& config, const CLI::App& serve) {
  bool listen_given = serve.get_option("--listen")->count() > 0;
  // An empty --advertise (what --print-config writes for "unset") is no advertise.
  bool advertise_given = config.advertise.has_value();
  if (config.kafka_configs.contains("listeners") && (listen_given || advertise_given)) {
    return error(StatusCode::invalid_argument,
                 "listeners is set: drop --listen/--advertise (listen:/advertise: in the file) "
                 "and use listeners/advertised.listeners");
  }
  if (config.kafka_configs.contains("advertised.listeners") && advertise_given) {
    return error(StatusCode::invalid_argument,
                 "both --advertise and advertised.listeners are set; keep one");
  }
  return Status::ok_status();
}

Result<broker::BrokerConfig> make_config(const ServeOptions& options,
                                         const broker::configs::ConfigMap& kafka_from_file,
                                         const CLI::App& serve) {
  broker::BrokerConfig config;
  Result<std::map<std::string, std::string, std::less<>>> kafka =
      kafka_configs(options, kafka_from_file, serve);
  if (!kafka.ok()) return kafka.status();
  config.kafka_configs = std::move(kafka).value();
  // ":9092" listens on every interface, as Kafka's `listeners=PLAINTEXT://:9092` does.
  std::string listen_text = options.listen;
  if (listen_text.starts_with(':')) listen_text = "0.0.0.0" + listen_text;
  Result<net::HostPort> listen = net::parse_host_port(listen_text);
  if (!listen.ok()) return listen.status();
  config.listen = *listen;
  if (!options.advertise.empty()) {
    Result<net::HostPort> advertise = net::parse_host_port(options.advertise);
    if (!advertise.ok()) return advertise.status();
    if (advertise->port == 0) return error(StatusCode::invalid_argument, "--advertise port 0");
    config.advertise = *advertise;
  }
  config.data_dir = options.data_dir;
  config.bootstrap_user = options.bootstrap_user;
  if (const char* env = std::getenv("CAIRN_BOOTSTRAP_USER"); config.bootstrap_user.empty() && env) {
    config.bootstrap_user = env;
  }
  config.node_id = NodeId(options.node_id);
  uint32_t cores = std::max(1u, std::thread::hardware_concurrency());
  config.shard_count = options.shard_count == 0 ? cores : options.shard_count;
  config.limits.frame_bytes_max = options.frame_bytes_max;
  config.limits.in_flight_max = options.in_flight_max;
  config.limits.idle_timeout = std::chrono::milliseconds(options.idle_timeout_ms);
  config.max_partitions_per_shard = options.max_partitions_per_shard;
  config.limits.handshake_timeout = std::chrono::milliseconds(options.handshake_timeout_ms);
  Result<std::vector<broker::LagTier>> tiers = broker::parse_lag_tiers(options.lag_alert_tiers);
  if (!tiers.ok())
    return error(StatusCode::invalid_argument, "--lag-alert-tiers: " + tiers.status().message());
  config.lag_alert_tiers = std::move(tiers).value();
  RETURN_IF_ERROR(check_listener_settings(config, serve));
  RETURN_IF_ERROR(broker::configs::finish_broker_config(config));
  return config;
}

// How often the TLS files are checked for changes (besides SIGHUP).
constexpr std::chrono::seconds kTlsFilesPollInterval{2};

// Waits for SIGINT or SIGTERM and returns it. Meanwhile SIGHUP reloads the TLS files, and so
// does a change to one of them, noticed within kTlsFilesPollInterval.
int wait_for_stop(broker::Server& server, const sigset_t& signals) {
  timespec poll_interval{kTlsFilesPollInterval.count(), 0};
  while (true) {
    int signal_number = sigtimedwait(&signals, nullptr, &poll_interval);
    if (signal_number == SIGINT || signal_number == SIGTERM) return signal_number;
    if (signal_number == SIGHUP) {
      server.reopen_audit_log();  // after logrotate moved it (docs/audit.md)
      Status reloaded = server.reload_tls();
      if (reloaded.ok()) {
        spdlog::info("received SIGHUP; TLS certificates reloaded (new connections use them)");
      } else {
        spdlog::error("received SIGHUP; TLS reload failed, keeping the current certificates: {}",
                      reloaded.message());
      }
      continue;
    }
    // A timeout (EAGAIN) or an interruption (EINTR): look at the files.
    Result<bool> changed = server.reload_tls_if_changed();
    if (!changed.ok()) {
      spdlog::error("TLS files changed; TLS reload failed, keeping the current certificates: {}",
                    changed.status().message());
    } else if (*changed) {
      spdlog::info("TLS files changed; TLS certificates reloaded (new connections use them)");
    }
  }
}

void setup_logging(const std::string& level) {
  auto logger = spdlog::stderr_logger_mt("cairn");
  logger->set_pattern("[%Y-%m-%d %H:%M:%S.%e] [%l] %v");
  logger->set_level(spdlog::level::from_str(level));
  logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(logger);
}

// Server::start's on_listening hook: starts the admin HTTP server of --admin-listen into
// `admin` (none when the flag is empty).
std::function<Status()> admin_starter(const ServeOptions& options,
                                      const broker::StartupProgress& progress,
                                      std::unique_ptr<AdminHttp>& admin) {
  return [&options, &progress, &admin]() -> Status {
    if (options.admin_listen.empty()) return Status();
    Result<std::unique_ptr<AdminHttp>> started = AdminHttp::start(options.admin_listen, &progress);
    if (!started.ok()) return started.status();
    admin = std::move(started).value();
    spdlog::info("admin http on {}", admin->bound_address());
    return Status();
  };
}

// Every partition holds a few files: take all the descriptors the hard limit allows.
void raise_open_files_limit() {
  uint64_t soft = open_files::limit();
  uint64_t raised = open_files::raise_limit();
  if (raised != soft) {
    spdlog::info("open files limit raised from {} to {} (the hard limit)", soft, raised);
  } else {
    spdlog::info("open files limit {}", raised);
  }
}

int run_serve(ServeOptions& options, CLI::App& serve) {
  broker::configs::ConfigFile file;
  Status loaded;
  if (!options.config_file.empty()) {
    Result<broker::configs::ConfigFile> read =
        broker::configs::load_config_file(options.config_file);
    if (read.ok()) {
      file = std::move(read).value();
      loaded = apply_file_settings(serve, file);
    } else {
      loaded = read.status();
    }
  }
  setup_logging(options.log_level);
  if (!loaded.ok()) {
    spdlog::error("--config {}: {}", options.config_file, loaded.message());
    return 2;
  }
  Result<broker::BrokerConfig> config = make_config(options, file.kafka, serve);
  if (!config.ok()) {
    spdlog::error("{}", config.status().message());
    return 2;
  }
  if (options.print_config) {  // checked like a start, but touches nothing
    fmt::print("{}", config_yaml(serve, config->kafka_configs, false, ""));
    return 0;
  }
  // Signals are taken synchronously by this thread only: block them before any shard thread
  // exists so every thread inherits the mask. SIGPIPE is ignored: sendfile() to a closed
  // socket must fail with EPIPE, not kill the broker.
  ::signal(SIGPIPE, SIG_IGN);
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGHUP);  // reload the TLS files
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  raise_open_files_limit();

  // The admin server starts once the Kafka port is bound, before recovery (Server::start).
  broker::StartupProgress progress;
  std::unique_ptr<AdminHttp> admin;
  Result<std::unique_ptr<broker::Server>> server = broker::Server::start(
      std::move(config).value(), &progress, admin_starter(options, progress, admin));
  if (!server.ok()) {
    spdlog::error("cannot start: {}", server.status().to_string());
    return 1;
  }
  if (admin != nullptr) admin->attach(server->get());
  net::HostPort bound = (*server)->bound_address();
  spdlog::info("listening on {}:{}", bound.host, bound.port);
  if (!options.port_file.empty()) {
    Status written = broker::write_meta_file(storage::posix_io(), options.port_file,
                                             std::to_string(bound.port) + "\n");
    if (!written.ok()) spdlog::error("--port-file: {}", written.to_string());
  }

  int signal_number = wait_for_stop(**server, stop_signals);
  spdlog::info("received {}; shutting down", signal_number == SIGINT ? "SIGINT" : "SIGTERM");
  // Not ready from now on; the broker's metrics leave before its shards stop.
  progress.stopping();
  if (admin != nullptr) admin->detach();
  (*server)->stop();
  server = Result<std::unique_ptr<broker::Server>>(nullptr);
  admin.reset();
  spdlog::info("stopped");
  return 0;
}

}  // namespace

void add_serve_command(CLI::App& app) {
  auto options = std::make_shared<ServeOptions>();
  CLI::App* serve = app.add_subcommand("serve", "Run the broker in the foreground");
  add_serve_options(*serve, *options);
  serve->callback([options, serve] { set_exit_code(run_serve(*options, *serve)); });
}

}  // namespace cairn::cli
