// The broker's startup configuration (from `cairn serve` flags and the YAML file given with
// --config, see docs/configuration.md). Read-only once the server starts; any thread.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/types.h"
#include "broker/lag_tiers.h"
#include "net/connection_quota.h"
#include "net/frame.h"
#include "net/listener.h"
#include "net/tls_settings.h"

namespace cairn::broker {

// Kafka's security protocols (listener.security.protocol.map).
enum class SecurityProtocol : uint8_t { plaintext, ssl, sasl_plaintext, sasl_ssl };
inline bool uses_tls(SecurityProtocol p) {
  return p == SecurityProtocol::ssl || p == SecurityProtocol::sasl_ssl;
}
inline bool uses_sasl(SecurityProtocol p) {
  return p == SecurityProtocol::sasl_plaintext || p == SecurityProtocol::sasl_ssl;
}

// One named listener (Kafka's `listeners` entry NAME://HOST:PORT).
struct ListenerConfig {
  std::string name;  // upper case: "PLAINTEXT", "SSL", "INTERNAL"
  SecurityProtocol protocol = SecurityProtocol::plaintext;
  net::HostPort address;                    // what to bind; port 0: any free port
  std::optional<net::HostPort> advertised;  // from advertised.listeners; else derived at bind
};

struct BrokerConfig {
  // --listen / --advertise: the one PLAINTEXT listener used when `listeners` is not set.
  net::HostPort listen{"127.0.0.1", 9092};
  // What Metadata tells clients to connect to. Default: the listen host and the bound port.
  std::optional<net::HostPort> advertise;
  // Filled by configs::finish_broker_config from `listeners`, `advertised.listeners` and
  // `listener.security.protocol.map`, or from listen/advertise when `listeners` is unset.
  // Never empty once finished; names unique.
  std::vector<ListenerConfig> listeners;
  // The ssl.* configs, used by every SSL listener.
  net::TlsSettings tls;
  std::string principal_mapping_rules = "DEFAULT";  // ssl.principal.mapping.rules
  // SASL on SASL_PLAINTEXT / SASL_SSL listeners (docs/security.md): sasl.enabled.mechanisms
  // (names, in order), connections.max.reauth.ms, connection.failed.authentication.delay.ms.
  std::vector<std::string> sasl_mechanisms = {"SCRAM-SHA-256", "SCRAM-SHA-512"};
  int64_t connections_max_reauth_ms = 0;
  int32_t failed_authentication_delay_ms = 100;
  // --bootstrap-user / bootstrap-user: / CAIRN_BOOTSTRAP_USER, "NAME:PASSWORD[:MECHANISM]": a
  // SCRAM user created at startup when it has no credential for that mechanism yet.
  std::string bootstrap_user;
  // Authorization (docs/security.md): authorizer.enabled turns the ACL checks on; super.users
  // (Kafka's "User:a;User:b") pass every check; allow.everyone.if.no.acl.found decides for a
  // resource that no ACL names.
  bool authorizer_enabled = false;
  std::vector<std::string> super_users;
  bool allow_everyone_if_no_acl_found = false;
  // The access audit log (docs/audit.md): audit.log.enabled; audit.log.file (empty:
  // DATA_DIR/audit.log); audit.log.topic.enable writes each event to __cairn_audit too,
  // created immutable with retention audit.log.topic.retention.ms.
  bool audit_log_enabled = false;
  std::filesystem::path audit_log_file;
  bool audit_log_topic = false;
  int64_t audit_log_topic_retention_ms = 7LL * 24 * 3600 * 1000;
  // max.connections, max.connections.per.ip, max.connections.per.ip.overrides.
  net::ConnectionQuotaLimits connection_quota;
  std::filesystem::path data_dir = "./data";
  NodeId node_id{0};
  uint32_t shard_count = 1;
  net::ConnectionLimits limits;
  // The most partitions each shard may host (all topics', internal ones included): the
  // broker's ceiling is this times shard_count (PartitionManager::admit_partitions).
  uint32_t max_partitions_per_shard = 5000;
  // Consumer-lag alert tiers (lag_tiers.h), from --lag-alert-tiers; empty: none.
  std::vector<LagTier> lag_alert_tiers;

  // Kafka broker configs set in the config file (`kafka:` section) or by flags, by their Kafka
  // names ("log.retention.ms" -> "86400000"): the STATIC_BROKER_CONFIG layer. Validated and
  // normalized by configs::finish_broker_config (broker/configs/broker_configs.h), which also
  // fills the typed fields below from it. Dynamic broker configs (AlterConfigs on the BROKER
  // resource) live in configs::DynamicConfigStore, not here.
  std::map<std::string, std::string, std::less<>> kafka_configs;
  // auto.create.topics.enable: Metadata/Produce for an unknown topic creates it.
  bool auto_create_topics_enable = true;
  // num.partitions: partitions of an auto-created topic, and of CreateTopics with -1.
  int32_t num_partitions = 1;
  // default.replication.factor: what CreateTopics with -1 reports (one node: only 1 is legal).
  int16_t default_replication_factor = 1;
  // delete.topic.enable: false makes DeleteTopics answer TOPIC_DELETION_DISABLED.
  bool delete_topic_enable = true;
  // max.incremental.fetch.session.cache.slots: fetch sessions (KIP-227) the broker keeps, split
  // between the shards (partitions/fetch_sessions.h).
  uint32_t max_incremental_fetch_session_cache_slots = 1000;
};

}  // namespace cairn::broker
