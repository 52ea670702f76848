// The YAML broker config file of `cairn serve --config FILE` (docs/configuration.md).
//
//   listen: 0.0.0.0:9092          # any `cairn serve` flag, named without its "--"
//   data-dir: /var/lib/cairn
//   kafka:                        # Kafka broker configs, by their server.properties names
//     num.partitions: 3
//     log.retention.hours: 72
//
// This file only parses: top-level scalars become `settings` (main applies them to the flags
// the command line did not give), the `kafka:` mapping becomes `kafka` (BrokerConfig::
// kafka_configs, validated by finish_broker_config). Called once at startup; any thread.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "broker/configs/broker_configs.h"

namespace cairn::broker::configs {

struct ConfigFile {
  // Top-level keys other than `kafka`, in file order, values as written.
  std::vector<std::pair<std::string, std::string>> settings;
  // The `kafka:` mapping (not yet validated).
  ConfigMap kafka;
};

inline constexpr size_t kConfigFileBytesMax = 1024 * 1024;

// Errors: not_found (no such file), invalid_argument (not YAML, not a mapping of scalars, a
// key given twice; the message names the line), too_large.
Result<ConfigFile> load_config_file(const std::filesystem::path& path);
Result<ConfigFile> parse_config_file(std::string_view text);

}  // namespace cairn::broker::configs
