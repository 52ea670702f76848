#include "broker/audit_topic.h"

#include <spdlog/spdlog.h>

#include <string>
#include <vector>

#include "broker/handlers/immutable.h"
#include "broker/partitions/internal_append.h"
#include "broker/partitions/partition_manager.h"

namespace cairn::broker {

Result<TopicInfo> ensure_audit_topic(storage::Io& io, TopicRegistry& registry,
                                     const std::filesystem::path& data_dir, int64_t retention_ms) {
  std::optional<TopicInfo> topic;
  if (const TopicInfo* found = registry.snapshot()->find(kAuditTopic)) topic = *found;
  if (!topic.has_value()) {
    TopicConfigs configs{{std::string(kImmutableConfig), "true"},
                         {"cleanup.policy", "delete"},
                         {"retention.ms", std::to_string(retention_ms)}};
    Result<TopicInfo> created = registry.create(std::string(kAuditTopic), 1, std::move(configs));
    if (!created.ok()) return created.status();
    topic = std::move(created).value();
    spdlog::info("created {} (immutable, retention.ms {})", kAuditTopic, retention_ms);
  }
  RETURN_IF_ERROR(adopt_partition_dirs(io, data_dir, *topic));
  return *topic;
}

namespace {

// On the partition's shard.
void append_events(const BrokerState* broker, const std::vector<std::string>& lines) {
  std::shared_ptr<Partition> partition = broker->partitions->find(kAuditTopic, PartitionId(0));
  if (partition == nullptr || !partition->usable()) {
    spdlog::warn("{}: not open; {} audit event(s) are in the file only", kAuditTopic, lines.size());
    return;
  }
  std::vector<InternalRecord> records;
  records.reserve(lines.size());
  for (const std::string& line : lines) {
    records.push_back(InternalRecord{{}, std::vector<uint8_t>(line.begin(), line.end())});
  }
  TimestampMs now(broker->partitions->clock().now_ms());
  Result<storage::AppendResult> appended = append_internal(*partition, records, now);
  if (!appended.ok()) {
    spdlog::warn("{}: {} audit event(s) are in the file only: {}", kAuditTopic, lines.size(),
                 appended.status().to_string());
  }
}

}  // namespace

security::AuditLog::Sink audit_topic_sink(const BrokerState* broker) {
  return [broker](std::vector<std::string> lines) {
    net::ShardId owner = broker->shard_of(kAuditTopic, PartitionId(0));
    broker->shards->post(owner,
                         [broker, lines = std::move(lines)] { append_events(broker, lines); });
  };
}

}  // namespace cairn::broker
