// BrokerState: what every handler may read about this broker, on any shard.
//
// Built once by the Server before the first connection is accepted and immutable from then on,
// except `topics`, `dynamic_configs` and `metrics`, which are internally synchronized (see
// topics/topic_registry.h for their snapshot rule). It outlives every connection and handler
// coroutine (the Server destroys it after the shards have stopped). Handlers receive it as
// `const BrokerState*`.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/assert.h"
#include "base/types.h"
#include "broker/broker_metrics.h"
#include "broker/config.h"
#include "broker/partitions/fetch_sessions.h"
#include "broker/shard_map.h"
#include "broker/topics/topic_registry.h"
#include "net/listener.h"
#include "net/shard_set.h"

namespace cairn::broker {

namespace groups {
class GroupCoordinator;
}
namespace txn {
class TxnCoordinator;
}

class PartitionManager;
namespace security {
class ScramStore;
class Authorizer;
class AuditLog;
}  // namespace security

class MetaWriter;
namespace producers {
class ProducerIdAllocator;
}

namespace configs {
class DynamicConfigStore;
}
namespace quotas {
class QuotaStore;
class ThrottleTracker;
}  // namespace quotas

// A listener as clients see it.
struct ListenerEndpoint {
  std::string name;  // "PLAINTEXT", "SSL", ...
  SecurityProtocol protocol = SecurityProtocol::plaintext;
  net::HostPort bound;       // the address actually bound (the real port for port 0)
  net::HostPort advertised;  // what Metadata and FindCoordinator return on this listener
};

struct BrokerState {
  BrokerConfig config;
  NodeId node_id;
  // Indexed by net::ConnectionInfo::listener; never empty once the server runs.
  std::vector<ListenerEndpoint> listeners;
  std::string cluster_id;
  TopicRegistry* topics = nullptr;
  // Dynamic broker configs (AlterConfigs on BROKER); internally synchronized like `topics`.
  configs::DynamicConfigStore* dynamic_configs = nullptr;
  const net::ShardSet* shards = nullptr;
  // Consumer groups and committed offsets (groups/coordinator.h); null when not running.
  const groups::GroupCoordinator* groups = nullptr;
  // Transactional ids and their transactions (txn/txn_coordinator.h); null when not running.
  const txn::TxnCoordinator* txn = nullptr;
  // Every partition's log and producer state, per owning shard (partitions/partition_manager.h).
  PartitionManager* partitions = nullptr;
  // Producer ids for InitProducerId, unique across restarts; internally synchronized.
  producers::ProducerIdAllocator* producer_ids = nullptr;
  // SCRAM credentials (security/scram_store.h): lookups from any thread; changes on the
  // MetaWriter.
  security::ScramStore* scram = nullptr;
  // ACLs and the checks against them (security/authorizer.h): checks from any thread; changes
  // on the MetaWriter. Never null once the server runs (with authorizer.enabled false every
  // check passes).
  security::Authorizer* authorizer = nullptr;
  // The thread that writes metadata files (meta_writer.h): every write to `topics`,
  // `dynamic_configs` and `producer_ids` from a handler goes through it, never on a shard.
  MetaWriter* meta_writer = nullptr;
  // What /metrics reports about requests, topics and connections (lock-free updates).
  std::shared_ptr<BrokerMetrics> metrics = std::make_shared<BrokerMetrics>();
  // Each shard's incremental fetch sessions (KIP-227), by shard index, each touched only on
  // its own shard; they count into `metrics`, so they come after it. Empty: every Fetch is
  // answered sessionless.
  std::vector<std::unique_ptr<FetchSessionCache>> fetch_sessions;
  // Client quotas (quotas/quota_store.h): reads from any thread, changes on the MetaWriter;
  // and the byte rates measured against them (quotas/throttle.h), internally synchronized.
  quotas::QuotaStore* client_quotas = nullptr;
  quotas::ThrottleTracker* quota_throttles = nullptr;
  // The access audit log (security/audit_log.h): events from any thread. Null while
  // audit.log.enabled is false.
  security::AuditLog* audit = nullptr;
  // max.connections and max.connections.per.ip, shared by every listener; null: no caps.
  std::shared_ptr<net::ConnectionQuota> connection_quota;

  // Where a client that came in on listener `listener` should connect: Kafka advertises, to
  // each connection, the broker's address on the listener that connection used.
  const net::HostPort& advertised_for(uint32_t listener) const {
    ASSERT(listener < listeners.size());
    return listeners[listener].advertised;
  }

  // The shard that owns `partition` of `topic` (its log, its producer state).
  net::ShardId shard_of(std::string_view topic, PartitionId partition) const {
    return broker::shard_of(topic, partition, shards->count());
  }
};

}  // namespace cairn::broker
