// TopicRegistry: which topics exist, with how many partitions and which config overrides.
//
// Ownership rule (the one piece of broker state every shard reads):
// - Readers on any shard call snapshot() and get an immutable TopicTable. A snapshot never
//   changes; holding it is safe for as long as the caller likes (a request keeps the one it
//   started with). Taking one is an atomic shared_ptr load: no lock on the data path.
// - Writers (create, remove, set_partition_count, set_configs: admin requests and
//   auto-creation, all rare) may run on any shard. They serialize on one mutex, persist the new
//   table durably (meta/topics.json, replaced atomically) and only then publish it, so a
//   topic that any reader can see survives a crash. They block the calling shard for an fsync;
//   that is acceptable for admin operations and is why they must not be used per record.
// - The registry only records metadata. Creating or deleting a partition's log on its owning
//   shard (broker/shard_map.h) is the caller's job, after the registry call succeeds.
//
// File format (docs/format/meta.md): JSON {"format": 1, "topics": [{"name", "topic_id" (32
// hex chars), "partitions", "configs": {key: value}}]}.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "base/status.h"
#include "protocol/reader.h"
#include "storage/io.h"

namespace cairn::broker {

using TopicConfigs = std::map<std::string, std::string, std::less<>>;

struct TopicInfo {
  std::string name;
  protocol::Uuid topic_id{};
  int32_t partition_count = 0;
  TopicConfigs configs;  // topic-level overrides only; defaults live in the broker config

  bool operator==(const TopicInfo&) const = default;
};

// An immutable view of every topic at one moment.
class TopicTable {
 public:
  TopicTable() = default;
  TopicTable(std::map<std::string, TopicInfo, std::less<>> topics, uint64_t version)
      : topics_(std::move(topics)), version_(version) {}

  const TopicInfo* find(std::string_view name) const {
    auto it = topics_.find(name);
    return it == topics_.end() ? nullptr : &it->second;
  }
  // By topic id (KIP-516): a scan, for the requests that name topics by id (Metadata v12,
  // Fetch v13+, DeleteTopics v6). nullptr for the zero id.
  const TopicInfo* find_id(const protocol::Uuid& topic_id) const {
    if (topic_id == protocol::Uuid{}) return nullptr;
    for (const auto& [name, topic] : topics_) {
      if (topic.topic_id == topic_id) return &topic;
    }
    return nullptr;
  }
  const std::map<std::string, TopicInfo, std::less<>>& topics() const { return topics_; }
  // Increases with every published change (starts at 0 for an empty, new registry).
  uint64_t version() const { return version_; }

 private:
  std::map<std::string, TopicInfo, std::less<>> topics_;
  uint64_t version_ = 0;
};

inline constexpr size_t kTopicNameCharsMax = 249;
inline constexpr int32_t kPartitionCountMax = 100'000;
inline constexpr size_t kTopicCountMax = 100'000;

// Internal topics: logs the broker writes itself, kept in the registry and opened by the
// PartitionManager like any other topic, so they share its recovery, retention, fsync batching
// and Fetch. Clients may read them; Produce, DeleteTopics, CreatePartitions and DeleteRecords
// refuse them. __consumer_offsets holds consumer groups (broker/groups); __transaction_state
// holds transactions (broker/txn); __cairn_audit holds the access audit log
// (security/audit_log.h), when audit.log.topic.enable is set.
inline constexpr std::string_view kConsumerOffsetsTopic = "__consumer_offsets";
inline constexpr std::string_view kTransactionStateTopic = "__transaction_state";
inline constexpr std::string_view kAuditTopic = "__cairn_audit";
constexpr bool is_internal_topic(std::string_view name) {
  return name == kConsumerOffsetsTopic || name == kTransactionStateTopic || name == kAuditTopic;
}

// Kafka's rule: 1..249 characters from [a-zA-Z0-9._-], and not "." or "..".
Status validate_topic_name(std::string_view name);

class TopicRegistry {
 public:
  // Loads `meta_dir`/topics.json (absent: no topics) through `io`, which it then writes
  // through too (it must outlive the registry). A malformed file is an error (corrupt).
  static Result<std::unique_ptr<TopicRegistry>> open(const std::filesystem::path& meta_dir,
                                                     storage::Io& io);

  std::shared_ptr<const TopicTable> snapshot() const { return table_.load(); }

  // Errors: invalid_argument (name, partition count), already_exists, too_large (topic
  // count), io_error / no_space (nothing changed).
  Result<TopicInfo> create(std::string name, int32_t partition_count, TopicConfigs configs);
  // Errors: not_found, io_error / no_space.
  Status remove(std::string_view name);
  // Increases the partition count. Errors: not_found, invalid_argument (not an increase).
  Result<TopicInfo> set_partition_count(std::string_view name, int32_t partition_count);
  // Replaces the topic's config overrides. Errors: not_found.
  Result<TopicInfo> set_configs(std::string_view name, TopicConfigs configs);

 private:
  using Topics = std::map<std::string, TopicInfo, std::less<>>;
  TopicRegistry(storage::Io& io, std::filesystem::path path,
                std::shared_ptr<const TopicTable> table);
  // REQUIRES: write_mutex_ held. Persists `topics`, then publishes them.
  Status commit(Topics topics);

  storage::Io& io_;
  std::filesystem::path path_;
  std::mutex write_mutex_;
  std::atomic<std::shared_ptr<const TopicTable>> table_;
};

}  // namespace cairn::broker
