// Read-only cluster queries any client handle can make: Metadata, watermarks (ListOffsets
// earliest/latest) and offsets for a timestamp (ListOffsets by time). Each call blocks the
// calling thread for at most the handle's timeout. Same threading rule as KafkaHandle.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "client/kafka_handle.h"
#include "client/record.h"

namespace cairn::client {

struct BrokerMetadata {
  int32_t id = -1;
  std::string host;
  int port = 0;
};

struct PartitionMetadata {
  int32_t id = -1;
  int32_t leader = -1;
  std::vector<int32_t> replicas;
  std::vector<int32_t> in_sync_replicas;
  Status status;  // the partition's error in the Metadata response
};

struct TopicMetadata {
  std::string name;
  std::vector<PartitionMetadata> partitions;  // sorted by id
  Status status;                              // e.g. not_found for an unknown topic
};

struct ClusterMetadata {
  std::vector<BrokerMetadata> brokers;
  std::vector<TopicMetadata> topics;  // sorted by name
};

// Metadata for every topic (topic == nullptr) or for one topic. Never creates topics.
Result<ClusterMetadata> query_metadata(const KafkaHandle& handle, const std::string* topic);

// Metadata of one existing topic; not_found when the cluster does not have it.
Result<TopicMetadata> describe_topic(const KafkaHandle& handle, const std::string& topic);

Result<Watermarks> query_watermarks(const KafkaHandle& handle, const std::string& topic,
                                    int32_t partition);

// For each partition, the first offset whose timestamp is >= timestamp_ms, or -1 when no record
// is that recent (callers then use the high watermark).
Result<std::vector<int64_t>> offsets_for_time(const KafkaHandle& handle, const std::string& topic,
                                              const std::vector<int32_t>& partitions,
                                              int64_t timestamp_ms);

}  // namespace cairn::client
