#include "client/cluster.h"

#include <fmt/format.h>

#include <algorithm>

namespace cairn::client {

namespace {

TopicMetadata convert_topic(const rd_kafka_metadata_topic_t& source) {
  TopicMetadata topic;
  topic.name = source.topic;
  topic.status = kafka_status(source.err, fmt::format("topic '{}'", source.topic));
  if (source.err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
    topic.status =
        error(StatusCode::not_found, fmt::format("topic '{}' does not exist", source.topic));
  }
  for (int i = 0; i < source.partition_cnt; i++) {
    const rd_kafka_metadata_partition_t& p = source.partitions[i];
    PartitionMetadata partition;
    partition.id = p.id;
    partition.leader = p.leader;
    partition.replicas.assign(p.replicas, p.replicas + p.replica_cnt);
    partition.in_sync_replicas.assign(p.isrs, p.isrs + p.isr_cnt);
    partition.status =
        kafka_status(p.err, fmt::format("topic '{}' partition {}", source.topic, p.id));
    topic.partitions.push_back(std::move(partition));
  }
  std::sort(topic.partitions.begin(), topic.partitions.end(),
            [](const auto& a, const auto& b) { return a.id < b.id; });
  return topic;
}

}  // namespace

Result<ClusterMetadata> query_metadata(const KafkaHandle& handle, const std::string* topic) {
  rd_kafka_topic_t* rkt = nullptr;
  if (topic != nullptr) {
    rkt = rd_kafka_topic_new(handle.get(), topic->c_str(), nullptr);
    if (rkt == nullptr) {
      return kafka_status(rd_kafka_last_error(), fmt::format("topic '{}'", *topic));
    }
  }
  const rd_kafka_metadata_t* metadata = nullptr;
  rd_kafka_resp_err_t err = rd_kafka_metadata(handle.get(), topic == nullptr ? 1 : 0, rkt,
                                              &metadata, handle.timeout_ms());
  if (rkt != nullptr) rd_kafka_topic_destroy(rkt);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return handle.explain(kafka_status(err, "fetching cluster metadata"));
  }
  ClusterMetadata cluster;
  for (int i = 0; i < metadata->broker_cnt; i++) {
    const auto& b = metadata->brokers[i];
    cluster.brokers.push_back({b.id, b.host, b.port});
  }
  for (int i = 0; i < metadata->topic_cnt; i++) {
    cluster.topics.push_back(convert_topic(metadata->topics[i]));
  }
  rd_kafka_metadata_destroy(metadata);
  std::sort(cluster.brokers.begin(), cluster.brokers.end(),
            [](const auto& a, const auto& b) { return a.id < b.id; });
  std::sort(cluster.topics.begin(), cluster.topics.end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });
  return cluster;
}

Result<TopicMetadata> describe_topic(const KafkaHandle& handle, const std::string& topic) {
  auto cluster = query_metadata(handle, &topic);
  if (!cluster.ok()) return cluster.status();
  for (TopicMetadata& t : cluster->topics) {
    if (t.name != topic) continue;
    if (!t.status.ok()) return t.status;
    if (t.partitions.empty()) {
      return error(StatusCode::not_found, fmt::format("topic '{}' does not exist", topic));
    }
    return std::move(t);
  }
  return error(StatusCode::not_found, fmt::format("topic '{}' does not exist", topic));
}

Result<Watermarks> query_watermarks(const KafkaHandle& handle, const std::string& topic,
                                    int32_t partition) {
  Watermarks marks;
  rd_kafka_resp_err_t err =
      rd_kafka_query_watermark_offsets(handle.get(), topic.c_str(), partition, &marks.low_offset,
                                       &marks.high_offset, handle.timeout_ms());
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return handle.explain(kafka_status(
        err, fmt::format("listing offsets of topic '{}' partition {}", topic, partition)));
  }
  return marks;
}

Result<std::vector<int64_t>> offsets_for_time(const KafkaHandle& handle, const std::string& topic,
                                              const std::vector<int32_t>& partitions,
                                              int64_t timestamp_ms) {
  rd_kafka_topic_partition_list_t* list =
      rd_kafka_topic_partition_list_new(static_cast<int>(partitions.size()));
  for (int32_t partition : partitions) {
    rd_kafka_topic_partition_list_add(list, topic.c_str(), partition)->offset = timestamp_ms;
  }
  rd_kafka_resp_err_t err = rd_kafka_offsets_for_times(handle.get(), list, handle.timeout_ms());
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    rd_kafka_topic_partition_list_destroy(list);
    return handle.explain(
        kafka_status(err, fmt::format("looking up offsets by time in topic '{}'", topic)));
  }
  std::vector<int64_t> offsets;
  Status first_error;
  for (int32_t partition : partitions) {
    const rd_kafka_topic_partition_t* tp =
        rd_kafka_topic_partition_list_find(list, topic.c_str(), partition);
    if (tp == nullptr) {
      offsets.push_back(-1);
      continue;
    }
    if (tp->err != RD_KAFKA_RESP_ERR_NO_ERROR && first_error.ok()) {
      first_error = kafka_status(
          tp->err, fmt::format("offset by time of topic '{}' partition {}", topic, partition));
    }
    offsets.push_back(tp->offset);
  }
  rd_kafka_topic_partition_list_destroy(list);
  if (!first_error.ok()) return first_error;
  return offsets;
}

}  // namespace cairn::client
