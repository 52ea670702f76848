#include "main/serve_options.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>
#include <CLI/CLI.hpp>

#include <cstdint>
#include <set>
#include <span>
#include <sstream>

#include "base/assert.h"
#include "broker/configs/config_defs.h"

namespace cairn::cli {

const std::vector<KafkaFlag> kKafkaFlags = {
    {"--num-partitions", "num.partitions",
     "num.partitions: partitions of auto-created topics and of CreateTopics with -1"},
    {"--default-replication-factor", "default.replication.factor",
     "default.replication.factor: one node, so only 1"},
    {"--auto-create-topics", "auto.create.topics.enable",
     "auto.create.topics.enable: create a topic when a client names an unknown one"},
    {"--delete-topic-enable", "delete.topic.enable",
     "delete.topic.enable: false makes DeleteTopics answer TOPIC_DELETION_DISABLED"},
    {"--log-retention-ms", "log.retention.ms",
     "log.retention.ms: default retention.ms of topics (-1: keep; unset: log.retention.hours)"},
    {"--log-retention-bytes", "log.retention.bytes",
     "log.retention.bytes: default retention.bytes per partition (-1: no limit)"},
    {"--log-segment-bytes", "log.segment.bytes", "log.segment.bytes: default segment.bytes"},
    {"--log-roll-ms", "log.roll.ms", "log.roll.ms: default segment.ms (unset: log.roll.hours)"},
    {"--log-cleanup-policy", "log.cleanup.policy", "log.cleanup.policy: default cleanup.policy"},
    {"--message-max-bytes", "message.max.bytes", "message.max.bytes: default max.message.bytes"},
    {"--listeners", "listeners",
     "listeners: named listeners NAME://HOST:PORT,... (instead of --listen)"},
    {"--advertised-listeners", "advertised.listeners",
     "advertised.listeners: what Metadata returns per listener, NAME://HOST:PORT,..."},
    {"--listener-security-protocol-map", "listener.security.protocol.map",
     "listener.security.protocol.map: NAME:PROTOCOL,... (PLAINTEXT, SSL)"},
    {"--ssl-keystore-location", "ssl.keystore.location",
     "ssl.keystore.location: PEM certificate chain (and key) of SSL listeners"},
    {"--ssl-key-location", "ssl.key.location",
     "ssl.key.location: PEM private key, when not in the keystore file"},
    {"--ssl-truststore-location", "ssl.truststore.location",
     "ssl.truststore.location: PEM CA certificates that client certificates chain to"},
    {"--ssl-client-auth", "ssl.client.auth", "ssl.client.auth: none, requested or required (mTLS)"},
    {"--ssl-principal-mapping-rules", "ssl.principal.mapping.rules",
     "ssl.principal.mapping.rules: certificate subject -> principal (RULE:.../.../, DEFAULT)"},
};

namespace {

using broker::configs::ConfigDef;
using broker::configs::ConfigType;

const std::set<std::string> kNotSettings = {"help", "config", "set", "print-config"};

std::string_view metavar(ConfigType type) {
  switch (type) {
    case ConfigType::boolean:
      return "BOOL";
    case ConfigType::int16:
    case ConfigType::int32:
    case ConfigType::int64:
      return "N";
    default:
      return "VALUE";
  }
}

const ConfigDef& broker_def(const char* name) {
  const ConfigDef* def = broker::configs::find_broker_config(name);
  ASSERT(def != nullptr);
  return *def;
}

// A YAML scalar for `value`: plain when yaml-cpp reads it back as the same text, else quoted.
std::string yaml_scalar(const std::string& value) {
  YAML::Emitter out;
  out << value;
  return out.c_str();
}

// `text` as comment lines of at most 100 columns, each starting with `indent` + "# ".
void write_comment(std::ostringstream& out, const std::string& indent, std::string_view text) {
  std::istringstream words{std::string(text)};
  std::string word;
  std::string line;
  while (words >> word) {
    if (!line.empty() && indent.size() + 2 + line.size() + 1 + word.size() > 100) {
      out << indent << "# " << line << "\n";
      line.clear();
    }
    line += (line.empty() ? "" : " ") + word;
  }
  if (!line.empty()) out << indent << "# " << line << "\n";
}

// The current value of a setting: the last one given (flag or file), else its default.
std::string setting_value(const CLI::Option& option) {
  if (option.count() > 0) return option.results().back();
  return option.get_default_str();
}

std::string kafka_default_text(const ConfigDef& def) {
  return def.default_value ? yaml_scalar(std::string(*def.default_value)) : "~";
}

void write_kafka_section(std::ostringstream& out, const broker::configs::ConfigMap& kafka,
                         bool commented) {
  out << "\n# Kafka broker configs, by their server.properties names (docs/configuration.md).\n"
      << "# ~ is unset: the config below it in precedence applies.\n"
      << "kafka:\n";
  for (const ConfigDef& def : broker::configs::broker_config_defs()) {
    if (commented) {
      std::string about = fmt::format(
          "{} ({}, {}{})", def.documentation, broker::configs::type_name(def.type),
          def.support == broker::configs::Support::enforced ? "enforced by Cairn" : "reported only",
          def.read_only ? "" : ", dynamic");
      write_comment(out, "  ", about);
      out << "  #" << def.name << ": " << kafka_default_text(def) << "\n";
      continue;
    }
    auto it = kafka.find(def.name);
    out << "  " << def.name << ": "
        << (it != kafka.end() ? yaml_scalar(it->second) : kafka_default_text(def)) << "\n";
  }
}

std::string markdown_code(std::string_view text) {
  return text.empty() ? "\"\"" : fmt::format("`{}`", text);
}

std::string markdown_cell(std::string_view text) {
  std::string cell;
  for (char c : text) cell += c == '|' ? std::string("\\|") : std::string(1, c);
  return cell;
}

std::string default_cell(const ConfigDef& def) {
  if (!def.default_value) return "null";
  if (*def.default_value == "9223372036854775807") return "Long.MAX (never)";
  return markdown_code(*def.default_value);
}

// The flag's placeholder as given to type_name ("N", "HOST:PORT"), without the validator
// text CLI11 appends to it (":UINT in [1 - 100000]", ":{trace,debug,...}").
std::string metavar_of(const CLI::Option& option) {
  std::string name = option.get_type_name();
  for (size_t colon = name.find(':'); colon != std::string::npos;
       colon = name.find(':', colon + 1)) {
    std::string_view rest = std::string_view(name).substr(colon + 1);
    if (rest.starts_with('{') || rest.find(" in [") != std::string_view::npos) {
      return name.substr(0, colon);
    }
  }
  return name;
}

std::string flags_table(const CLI::App& serve) {
  std::string out = "| flag | default | meaning |\n| --- | --- | --- |\n";
  for (const CLI::Option* option : serve.get_options()) {
    if (option->get_name() == "--help" || option->get_name().empty()) continue;
    std::string flag = option->get_name();
    if (!metavar_of(*option).empty()) flag += " " + metavar_of(*option);
    std::string default_text = option->get_default_str();
    out += fmt::format("| `{}` | {} | {} |\n", flag,
                       default_text.empty() ? "—" : markdown_code(default_text),
                       markdown_cell(option->get_description()));
  }
  return out;
}

// One row per config of `defs`: name, type, default, whether Cairn enforces it, the column
// `fifth` gives (topic: its broker synonyms; broker: whether it is dynamic), notes.
template <typename Fifth>
std::string config_table(std::span<const ConfigDef> defs, std::string_view header, Fifth fifth) {
  std::string out = fmt::format("{}\n| --- | --- | --- | --- | --- | --- |\n", header);
  for (const ConfigDef& def : defs) {
    out +=
        fmt::format("| `{}` | {} | {} | {} | {} | {} |\n", def.name,
                    broker::configs::type_name(def.type), default_cell(def),
                    def.support == broker::configs::Support::enforced ? "**enforced**" : "reported",
                    fifth(def), markdown_cell(def.documentation));
  }
  return out;
}

std::string synonyms_cell(const ConfigDef& def) {
  std::string synonyms;
  for (const broker::configs::BrokerSynonym& synonym : def.synonyms) {
    if (synonym.name.empty()) continue;
    synonyms += (synonyms.empty() ? "" : ", ") + markdown_code(synonym.name);
  }
  return synonyms.empty() ? "—" : synonyms;
}

// The per-connection limits (net::ConnectionLimits) and the partition ceiling.
void add_limit_options(CLI::App& serve, ServeOptions& options) {
  serve
      .add_option("--max-frame-bytes", options.frame_bytes_max,
                  "Largest request (Kafka's socket.request.max.bytes)")
      ->type_name("N")
      ->capture_default_str()
      ->check(CLI::Range(1024u, 1024u * 1024u * 1024u));
  serve
      .add_option("--max-in-flight", options.in_flight_max,
                  "Requests per connection read ahead of their replies")
      ->type_name("N")
      ->capture_default_str()
      ->check(CLI::Range(1u, 100000u));
  serve
      .add_option("--idle-timeout-ms", options.idle_timeout_ms,
                  "Close connections idle this long (Kafka's connections.max.idle.ms)")
      ->type_name("N")
      ->capture_default_str()
      ->check(CLI::Range(uint64_t{1}, uint64_t{7} * 24 * 3600 * 1000));
  serve
      .add_option("--handshake-timeout-ms", options.handshake_timeout_ms,
                  "Close a TLS connection whose handshake takes longer than this")
      ->type_name("N")
      ->capture_default_str()
      ->check(CLI::Range(uint64_t{1}, uint64_t{10} * 60 * 1000));
  serve
      .add_option("--max-partitions-per-shard", options.max_partitions_per_shard,
                  "Partitions each shard may host; creations past this times the shards are "
                  "refused (POLICY_VIOLATION)")
      ->type_name("N")
      ->capture_default_str()
      ->check(CLI::Range(1u, 1000000u));
}

}  // namespace

namespace {

void add_address_options(CLI::App& serve, ServeOptions& options) {
  serve
      .add_option("--listen", options.listen,
                  "Where clients connect, one PLAINTEXT listener (:PORT: every interface; port "
                  "0: any free port); see --listeners for several")
      ->type_name("HOST:PORT")
      ->capture_default_str();
  serve
      .add_option("--admin-listen", options.admin_listen,
                  "Admin HTTP: /metrics, /v1/status/live and /ready (empty: none; port 0: any)")
      ->type_name("HOST:PORT")
      ->capture_default_str();
  serve
      .add_option("--bootstrap-user", options.bootstrap_user,
                  "A SCRAM user created at startup if it has no credential for MECHANISM yet "
                  "(default SCRAM-SHA-256); else from $CAIRN_BOOTSTRAP_USER")
      ->type_name("NAME:PASSWORD[:MECHANISM]");
  serve
      .add_option("--advertise", options.advertise,
                  "What Metadata tells clients to connect to (empty: the listen address)")
      ->type_name("HOST:PORT");
}

}  // namespace

void add_serve_options(CLI::App& serve, ServeOptions& options) {
  add_address_options(serve, options);
  serve
      .add_option("--data-dir", options.data_dir,
                  "Logs (DIR/TOPIC-PARTITION/) and metadata (DIR/meta/); one broker each")
      ->type_name("DIR")
      ->capture_default_str();
  serve
      .add_option("--shards", options.shard_count,
                  "Shard threads, each owning its partitions (0: one per core)")
      ->type_name("N")
      ->capture_default_str()
      ->check(CLI::Range(0u, 1024u));
  serve.add_option("--node-id", options.node_id, "This broker's node id")
      ->type_name("N")
      ->capture_default_str()
      ->check(CLI::Range(0, INT32_MAX));
  add_limit_options(serve, options);
  serve
      .add_option("--lag-alert-tiers", options.lag_alert_tiers,
                  "Consumer lag alert tiers, first match wins: GROUP_PATTERN=TIER:THRESHOLD,... "
                  "(payment-*=critical:5s,*=standard:5m; docs/observability.md)")
      ->type_name("TIERS");
  serve.add_option("--port-file", options.port_file, "Write the bound port to FILE once listening")
      ->type_name("FILE");
  serve.add_option("--log-level", options.log_level, "Log level of stderr (or the journal)")
      ->type_name("LEVEL")
      ->capture_default_str()
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}));
  serve
      .add_option("--config", options.config_file,
                  "The YAML config file (docs/configuration.md); flags given here win")
      ->type_name("FILE");
  serve
      .add_option("--set", options.kafka_settings,
                  "Any Kafka broker config (log.retention.hours=72); repeatable")
      ->type_name("NAME=VALUE")
      ->take_all();  // every --set given, in order
  for (const KafkaFlag& flag : kKafkaFlags) {
    const ConfigDef& def = broker_def(flag.kafka_name);
    serve.add_option(flag.flag, options.kafka_shorthands[flag.kafka_name], flag.help)
        ->type_name(std::string(metavar(def.type)))
        ->default_str(def.default_value ? std::string(*def.default_value) : "");
  }
  serve.add_flag("--print-config", options.print_config,
                 "Print the settings the broker would run with as YAML, and exit");
}

bool is_command_line_only(const std::string& flag_name) { return kNotSettings.contains(flag_name); }

bool is_file_setting(const std::string& flag_name) {
  if (is_command_line_only(flag_name)) return false;
  for (const KafkaFlag& flag : kKafkaFlags) {
    if (flag_name == flag.flag + 2) return false;
  }
  return true;
}

namespace {

// listen/advertise describe the one listener of a broker without `listeners`, and advertise
// gives way to advertised.listeners too (serve.cc refuses both forms together).
bool superseded_by_listeners(const std::string& key, const broker::configs::ConfigMap& kafka) {
  if (key == "listen") return kafka.contains("listeners");
  if (key == "advertise")
    return kafka.contains("listeners") || kafka.contains("advertised.listeners");
  return false;
}

}  // namespace

std::string config_yaml(const CLI::App& serve, const broker::configs::ConfigMap& kafka,
                        bool commented, const std::string& data_dir) {
  std::ostringstream out;
  if (commented) {
    out << "# cairn serve --config FILE: every setting at its built-in default, commented out\n"
        << "# (`#name: value`; delete the # to set it). A flag given on the command line wins\n"
        << "# over this file (docs/configuration.md).\n";
  }
  for (const CLI::Option* option : serve.get_options()) {
    std::string key = option->get_single_name();
    if (option->get_name().empty() || !is_file_setting(key)) continue;
    std::string value = yaml_scalar(setting_value(*option));
    if (key == "bootstrap-user" && !commented && !setting_value(*option).empty()) {
      value = "\"<set; not shown>\"";  // holds a password
    }
    if (!commented && superseded_by_listeners(key, kafka)) {
      // Not used, and refused beside `listeners`: keep the output a file the broker accepts.
      out << "#" << key << ": " << value << "  # unused: see listeners\n";
    } else if (!commented) {
      out << key << ": " << value << "\n";
    } else if (key == "data-dir" && !data_dir.empty()) {
      write_comment(out, "", option->get_description());
      out << key << ": " << yaml_scalar(data_dir) << "\n";
    } else {
      write_comment(out, "", option->get_description());
      out << "#" << key << ": " << value << "\n";
    }
  }
  write_kafka_section(out, kafka, commented);
  return out.str();
}

std::string config_doc_table(const CLI::App& serve, const std::string& table) {
  if (table == "flags") return flags_table(serve);
  if (table == "topic") {
    return config_table(broker::configs::topic_config_defs(),
                        "| topic config | type | default | Cairn | broker synonyms | notes |",
                        synonyms_cell);
  }
  if (table == "broker") {
    return config_table(broker::configs::broker_config_defs(),
                        "| broker config | type | default | Cairn | dynamic | notes |",
                        [](const ConfigDef& def) { return def.read_only ? "no" : "yes"; });
  }
  return "";
}

}  // namespace cairn::cli
