// The settings of `cairn serve`, defined once: the flags of `cairn serve`, the top-level keys of
// its YAML file, `cairn config defaults` (the shipped /etc/cairn/cairn.yaml), `cairn serve
// --print-config` and the flag table of docs/configuration.md (`cairn config docs flags`) all
// come from add_serve_options and the broker config catalog (broker/configs/config_defs.h).
// Main thread, at startup.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "broker/configs/broker_configs.h"

namespace CLI {
class App;
}

namespace cairn::cli {

struct ServeOptions {
  std::string listen = "127.0.0.1:9092";
  std::string admin_listen = "127.0.0.1:9644";  // "": no admin HTTP server
  std::string advertise;
  std::string bootstrap_user;  // "": $CAIRN_BOOTSTRAP_USER, if set
  std::string data_dir = "./data";
  std::string port_file;
  std::string log_level = "info";
  uint32_t shard_count = 0;  // 0: one per core
  int32_t node_id = 0;
  uint32_t frame_bytes_max = 100 * 1024 * 1024;
  uint32_t in_flight_max = 128;
  uint64_t idle_timeout_ms = 10 * 60 * 1000;
  uint32_t max_partitions_per_shard = 5000;
  uint64_t handshake_timeout_ms = 10 * 1000;
  std::string lag_alert_tiers;  // broker/lag_tiers.h
  std::string config_file;
  bool print_config = false;
  std::vector<std::string> kafka_settings;              // --set NAME=VALUE
  std::map<std::string, std::string> kafka_shorthands;  // Kafka name -> value of its flag
};

// Shorthand flags for the Kafka broker configs set most often; each is --set NAME=VALUE.
struct KafkaFlag {
  const char* flag;
  const char* kafka_name;
  const char* help;
};
extern const std::vector<KafkaFlag> kKafkaFlags;

// Adds every flag of `cairn serve` to `command`, storing into `options` (which must outlive it).
void add_serve_options(CLI::App& command, ServeOptions& options);

// --help, --config, --set and --print-config: flags that are never a key of the YAML file.
bool is_command_line_only(const std::string& flag_name);

// The flags that are settings (a top-level key of the YAML file): every flag but --help,
// --config, --set, --print-config and the Kafka shorthands, which the `kafka:` section holds.
bool is_file_setting(const std::string& flag_name);

// The YAML file text. Commented (`cairn config defaults`): every setting and every Kafka
// broker config as a comment at its built-in default, except `data_dir` when not empty. Not
// commented (`--print-config`): the values `serve` holds after parsing, and `kafka` (validated
// static Kafka configs) with every other broker config at its default.
std::string config_yaml(const CLI::App& serve, const broker::configs::ConfigMap& kafka,
                        bool commented, const std::string& data_dir);

// A Markdown table for docs/configuration.md: "flags", "topic" or "broker"; "" when unknown.
std::string config_doc_table(const CLI::App& serve, const std::string& table);

}  // namespace cairn::cli
