// __cairn_audit: the internal topic the access audit log (security/audit_log.h) also writes to
// when audit.log.topic.enable is set. One partition, created at startup with
// cairn.immutable=true (docs/immutable-topics.md) and retention.ms from
// audit.log.topic.retention.ms, so nobody, super users included, can delete or shorten it
// before its events age out. Only the broker writes it; clients with READ on it consume it.
#pragma once

#include <cstdint>
#include <filesystem>

#include "base/status.h"
#include "broker/broker_state.h"
#include "broker/security/audit_log.h"
#include "storage/io.h"

namespace cairn::broker {

// Creates __cairn_audit if the registry has no such topic (an existing one keeps its configs)
// and adopts its partition directory. Startup, before the PartitionManager opens.
Result<TopicInfo> ensure_audit_topic(storage::Io& io, TopicRegistry& registry,
                                     const std::filesystem::path& data_dir, int64_t retention_ms);

// The sink that appends each batch of events, as records whose value is the event's JSON, to
// __cairn_audit-0 on the shard that owns it. `broker` outlives the AuditLog's thread.
security::AuditLog::Sink audit_topic_sink(const BrokerState* broker);

}  // namespace cairn::broker
