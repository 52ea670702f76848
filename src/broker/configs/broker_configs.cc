#include "broker/configs/broker_configs.h"

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "base/assert.h"
#include "broker/configs/config_defs.h"
#include "broker/meta_file.h"
#include "broker/security/listeners.h"
#include "broker/security/principal.h"

namespace cairn::broker::configs {
namespace {

constexpr int kFormatVersion = 1;
constexpr size_t kFileBytesMax = 4 * 1024 * 1024;

nlohmann::json to_json(const ConfigMap& configs) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [name, value] : configs) out[name] = value;
  return out;
}

Result<ConfigMap> from_json(const nlohmann::json& object, const std::filesystem::path& path) {
  if (!object.is_object()) return error(StatusCode::corrupt, path.string() + ": not an object");
  ConfigMap configs;
  for (const auto& [name, value] : object.items()) {
    if (!value.is_string()) {
      return error(StatusCode::corrupt, path.string() + ": non-string value for " + name);
    }
    const ConfigDef* def = find_broker_config(name);
    if (def == nullptr || def->read_only) {
      spdlog::warn("{}: dropping {} (not a dynamic broker config)", path.string(), name);
      continue;
    }
    Result<std::string> normalized = validate_value(*def, value.get<std::string>());
    if (!normalized.ok()) {
      spdlog::warn("{}: dropping {}: {}", path.string(), name, normalized.status().message());
      continue;
    }
    configs[name] = std::move(normalized).value();
  }
  return configs;
}

std::string optional_value(const ConfigMap& configs, std::string_view name) {
  auto it = configs.find(name);
  return it == configs.end() ? "" : it->second;
}

// `listeners` (else the one PLAINTEXT listener of --listen/--advertise), then
// `advertised.listeners`.
Status finish_listeners(BrokerConfig& config) {
  const ConfigMap& configs = config.kafka_configs;
  std::string listeners = optional_value(configs, "listeners");
  if (listeners.empty()) {
    config.listeners = {
        ListenerConfig{"PLAINTEXT", SecurityProtocol::plaintext, config.listen, config.advertise}};
  } else {
    Result<std::vector<ListenerConfig>> parsed = security::parse_listeners(
        listeners, broker_config_value(configs, "listener.security.protocol.map"));
    if (!parsed.ok()) return parsed.status();
    config.listeners = std::move(parsed).value();
  }
  std::string advertised = optional_value(configs, "advertised.listeners");
  RETURN_IF_ERROR(security::apply_advertised_listeners(advertised, config.listeners));
  return Status::ok_status();
}

// The ssl.* configs. An SSL listener needs a certificate; mTLS needs a truststore; the
// mapping rules must parse.
Status finish_tls(BrokerConfig& config) {
  const ConfigMap& configs = config.kafka_configs;
  net::TlsSettings& tls = config.tls;
  tls.certificate_chain_path = optional_value(configs, "ssl.keystore.location");
  tls.private_key_path = optional_value(configs, "ssl.key.location");
  tls.ca_path = optional_value(configs, "ssl.truststore.location");
  tls.crl_path = optional_value(configs, "ssl.crl.location");
  std::string client_auth = broker_config_value(configs, "ssl.client.auth");
  tls.client_auth = client_auth == "required"    ? net::ClientAuth::required
                    : client_auth == "requested" ? net::ClientAuth::requested
                                                 : net::ClientAuth::none;
  std::string versions = broker_config_value(configs, "ssl.enabled.protocols");
  tls.tls12_enabled = versions.find("TLSv1.2") != std::string::npos;
  tls.tls13_enabled = versions.find("TLSv1.3") != std::string::npos;
  config.principal_mapping_rules = broker_config_value(configs, "ssl.principal.mapping.rules");
  Result<security::PrincipalMapper> mapper =
      security::PrincipalMapper::parse(config.principal_mapping_rules);
  if (!mapper.ok()) return mapper.status();
  for (const ListenerConfig& listener : config.listeners) {
    if (!uses_tls(listener.protocol)) continue;
    if (tls.certificate_chain_path.empty()) {
      return error(StatusCode::invalid_argument,
                   "listener " + listener.name + " is SSL but ssl.keystore.location is not set");
    }
    if (tls.client_auth != net::ClientAuth::none && tls.ca_path.empty()) {
      return error(StatusCode::invalid_argument,
                   "ssl.client.auth=" + client_auth + " needs ssl.truststore.location");
    }
    if (!tls.crl_path.empty() && tls.client_auth == net::ClientAuth::none) {
      return error(StatusCode::invalid_argument,
                   "ssl.crl.location needs ssl.client.auth=requested or required");
    }
  }
  return Status::ok_status();
}

}  // namespace

std::string broker_config_value(const ConfigMap& configs, std::string_view name) {
  auto it = configs.find(name);
  if (it != configs.end()) return it->second;
  const ConfigDef* def = find_broker_config(name);
  ASSERT(def != nullptr);
  ASSERT(def->default_value.has_value());
  return std::string(*def->default_value);
}

Status finish_broker_config(BrokerConfig& config) {
  for (auto& [name, value] : config.kafka_configs) {
    const ConfigDef* def = find_broker_config(name);
    if (def == nullptr) {
      return error(StatusCode::invalid_argument,
                   "unknown Kafka broker config '" + name + "' (docs/configuration.md lists them)");
    }
    Result<std::string> normalized = validate_value(*def, value);
    if (!normalized.ok()) return normalized.status();
    value = std::move(normalized).value();
  }
  auto value = [&config](std::string_view name) {
    return broker_config_value(config.kafka_configs, name);
  };
  config.auto_create_topics_enable = parse_bool(value("auto.create.topics.enable"));
  config.delete_topic_enable = parse_bool(value("delete.topic.enable"));
  config.num_partitions = static_cast<int32_t>(parse_long(value("num.partitions")));
  config.max_incremental_fetch_session_cache_slots =
      static_cast<uint32_t>(parse_long(value("max.incremental.fetch.session.cache.slots")));
  config.default_replication_factor =
      static_cast<int16_t>(parse_long(value("default.replication.factor")));
  config.connections_max_reauth_ms = parse_long(value("connections.max.reauth.ms"));
  config.failed_authentication_delay_ms =
      static_cast<int32_t>(parse_long(value("connection.failed.authentication.delay.ms")));
  config.sasl_mechanisms.clear();
  std::string mechanisms = value("sasl.enabled.mechanisms");
  for (std::string_view rest = mechanisms; !rest.empty();) {
    size_t comma = rest.find(',');
    config.sasl_mechanisms.emplace_back(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
  }
  config.authorizer_enabled = parse_bool(value("authorizer.enabled"));
  config.allow_everyone_if_no_acl_found = parse_bool(value("allow.everyone.if.no.acl.found"));
  config.super_users.clear();
  std::string super_users = value("super.users");
  for (std::string_view rest = super_users; !rest.empty();) {
    size_t semicolon = rest.find(';');
    std::string_view item = rest.substr(0, semicolon);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (!item.empty()) config.super_users.emplace_back(item);
    rest = semicolon == std::string_view::npos ? std::string_view() : rest.substr(semicolon + 1);
  }
  config.audit_log_enabled = parse_bool(value("audit.log.enabled"));
  config.audit_log_file = value("audit.log.file");
  config.audit_log_topic = parse_bool(value("audit.log.topic.enable"));
  config.audit_log_topic_retention_ms = parse_long(value("audit.log.topic.retention.ms"));
  config.connection_quota.total_max = static_cast<uint32_t>(parse_long(value("max.connections")));
  config.connection_quota.per_ip_max =
      static_cast<uint32_t>(parse_long(value("max.connections.per.ip")));
  auto overrides = net::parse_per_ip_overrides(value("max.connections.per.ip.overrides"));
  RETURN_IF_ERROR(overrides.status());
  config.connection_quota.per_ip_overrides = std::move(overrides).value();
  RETURN_IF_ERROR(finish_listeners(config));
  return finish_tls(config);
}

DynamicConfigStore::DynamicConfigStore(storage::Io& io, std::filesystem::path path,
                                       std::shared_ptr<const DynamicBrokerConfigs> table)
    : io_(io), path_(std::move(path)), table_(std::move(table)) {}

Result<std::unique_ptr<DynamicConfigStore>> DynamicConfigStore::open(
    const std::filesystem::path& meta_dir, storage::Io& io) {
  std::filesystem::path path = meta_dir / "broker_configs.json";
  Result<std::optional<std::string>> text = read_meta_file(io, path, kFileBytesMax);
  if (!text.ok()) return text.status();
  auto table = std::make_shared<DynamicBrokerConfigs>();
  if (text->has_value()) {
    nlohmann::json document = nlohmann::json::parse(**text, nullptr, false);
    if (document.is_discarded() || !document.is_object() || !document.contains("format") ||
        document["format"] != kFormatVersion || !document.contains("broker") ||
        !document.contains("cluster_default")) {
      return error(StatusCode::corrupt, path.string() + ": malformed (expected format 1)");
    }
    Result<ConfigMap> broker = from_json(document["broker"], path);
    if (!broker.ok()) return broker.status();
    Result<ConfigMap> cluster_default = from_json(document["cluster_default"], path);
    if (!cluster_default.ok()) return cluster_default.status();
    table->broker = std::move(broker).value();
    table->cluster_default = std::move(cluster_default).value();
  }
  return std::unique_ptr<DynamicConfigStore>(
      new DynamicConfigStore(io, std::move(path), std::move(table)));
}

Status DynamicConfigStore::replace(bool cluster_default, ConfigMap configs) {
  std::lock_guard lock(write_mutex_);
  auto next = std::make_shared<DynamicBrokerConfigs>(*table_.load());
  (cluster_default ? next->cluster_default : next->broker) = std::move(configs);
  nlohmann::json document = {{"format", kFormatVersion},
                             {"broker", to_json(next->broker)},
                             {"cluster_default", to_json(next->cluster_default)}};
  RETURN_IF_ERROR(write_meta_file(io_, path_, document.dump(1) + "\n"));
  table_.store(std::move(next));
  return Status::ok_status();
}

}  // namespace cairn::broker::configs
