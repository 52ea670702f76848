// The admin API's brokers and topics (admin_api.h): reads from the registry snapshot and the
// shards' partition samples, configs through DescribeConfigs, actions through CreateTopics,
// DeleteTopics, IncrementalAlterConfigs and Produce run in process (kafka_call.h).
#include <atomic>

#include "broker/admin/admin_api.h"
#include "broker/admin/answers.h"
#include "broker/admin/kafka_call.h"
#include "broker/security/listeners.h"
#include "protocol/generated/create_topics.h"
#include "protocol/generated/delete_topics.h"
#include "protocol/generated/describe_configs.h"
#include "protocol/generated/incremental_alter_configs.h"

namespace cairn::broker::admin {
namespace {

using nlohmann::json;

constexpr int8_t kTopicResource = 2;  // DescribeConfigs / IncrementalAlterConfigs resource type
constexpr int16_t kCreateTopicsVersion = 7;
constexpr int16_t kDeleteTopicsVersion = 6;
constexpr int16_t kDescribeConfigsVersion = 4;
constexpr int16_t kIncrementalAlterConfigsVersion = 1;
constexpr size_t kConfigsPerRequestMax = 1000;

json partition_json(const PartitionSample& sample) {
  return {{"partition", sample.partition.value()},
          {"start_offset", sample.log_start_offset.value()},
          {"end_offset", sample.high_watermark.value()},
          {"size_bytes", sample.size_bytes},
          {"segments", sample.segment_count}};
}

// The topic's fields every listing shows; `partitions` holds its samples (a partition whose
// log is not open has none).
json topic_json(const TopicInfo& topic, const std::map<PartitionKey, PartitionSample>& samples) {
  json partitions = json::array();
  uint64_t size_bytes = 0;
  for (int32_t p = 0; p < topic.partition_count; p++) {
    auto sample = samples.find({topic.name, p});
    if (sample == samples.end()) continue;
    size_bytes += sample->second.size_bytes;
    partitions.push_back(partition_json(sample->second));
  }
  return {{"name", topic.name},
          {"topic_id", topic_id_text(topic.topic_id)},
          {"internal", is_internal_topic(topic.name)},
          {"partition_count", topic.partition_count},
          {"size_bytes", size_bytes},
          {"partitions", std::move(partitions)}};
}

// The topic's effective configs (every key, with where its value comes from), or the answer
// saying why not.
Result<json> topic_configs(const BrokerState& state, const AdminOptions& options,
                           const std::string& topic, Answer& failure) {
  protocol::DescribeConfigsRequest request;
  protocol::DescribeConfigsRequest::DescribeConfigsResource resource;
  resource.resource_type = kTopicResource;
  resource.resource_name = topic;
  resource.configuration_keys = std::nullopt;  // all
  request.resources.push_back(std::move(resource));
  Result<protocol::DescribeConfigsResponse> response =
      kafka_call<protocol::DescribeConfigsResponse>(state, request, kDescribeConfigsVersion,
                                                    options.timeout);
  if (!response.ok()) {
    failure = status_answer(response.status());
    return response.status();
  }
  if (response->results.size() != 1) {
    failure = error_answer(500, "DescribeConfigs answered no result");
    return error(StatusCode::internal, "no result");
  }
  const auto& result = response->results[0];
  if (result.error_code != 0) {
    failure = kafka_error_answer(result.error_code, result.error_message);
    return error(StatusCode::invalid_argument, "refused");
  }
  json configs = json::object();
  for (const auto& config : result.configs) {
    configs[config.name] = {{"value", config.value.has_value() ? json(*config.value) : json()},
                            {"source", config_source_name(config.config_source)},
                            {"is_default", config.is_default},
                            {"read_only", config.read_only},
                            {"sensitive", config.is_sensitive}};
  }
  return configs;
}

// `value` as a config value string: strings as they are, numbers and booleans as Kafka
// writes them. nullopt for anything else.
std::optional<std::string> config_value_text(const json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_boolean()) return value.get<bool>() ? "true" : "false";
  if (value.is_number_integer()) return value.dump();
  return std::nullopt;
}

}  // namespace

Answer list_brokers(const BrokerState& state) {
  json listeners = json::array();
  for (const ListenerEndpoint& listener : state.listeners) {
    listeners.push_back(
        {{"name", listener.name},
         {"security_protocol", std::string(security::security_protocol_name(listener.protocol))},
         {"host", listener.advertised.host},
         {"port", listener.advertised.port}});
  }
  json broker = {{"node_id", state.node_id.value()},
                 {"listeners", std::move(listeners)},
                 {"shards", state.shards->count()},
                 {"data_dir", state.config.data_dir.string()}};
  return Answer{200, {{"brokers", json::array({std::move(broker)})}}};
}

Answer describe_cluster(const BrokerState& state) {
  std::shared_ptr<const TopicTable> topics = state.topics->snapshot();
  int64_t partition_count = 0;
  for (const auto& [name, topic] : topics->topics()) partition_count += topic.partition_count;
  return Answer{200,
                {{"cluster_id", state.cluster_id},
                 {"controller_id", state.node_id.value()},
                 {"broker_count", 1},
                 {"topic_count", topics->topics().size()},
                 {"partition_count", partition_count}}};
}

Answer list_topics(const BrokerState& state, const AdminOptions& options) {
  std::shared_ptr<const TopicTable> topics = state.topics->snapshot();
  auto samples = gather_partitions(state, options.timeout);
  if (!samples) return error_answer(504, "a shard did not answer in time");
  json list = json::array();
  for (const auto& [name, topic] : topics->topics()) list.push_back(topic_json(topic, *samples));
  return Answer{200, {{"topics", std::move(list)}}};
}

Answer describe_topic(const BrokerState& state, const AdminOptions& options,
                      const std::string& topic) {
  std::shared_ptr<const TopicTable> topics = state.topics->snapshot();
  const TopicInfo* info = topics->find(topic);
  if (info == nullptr) return error_answer(404, "no topic '" + topic + "'");
  auto samples = gather_partitions(state, options.timeout);
  if (!samples) return error_answer(504, "a shard did not answer in time");
  json body = topic_json(*info, *samples);
  Answer failure;
  Result<json> configs = topic_configs(state, options, topic, failure);
  if (!configs.ok()) return failure;
  body["configs"] = std::move(configs).value();
  return Answer{200, std::move(body)};
}

Answer create_topic(const BrokerState& state, const AdminOptions& options,
                    const std::string& body) {
  Result<json> parsed = parse_object(body);
  if (!parsed.ok()) return error_answer(400, parsed.status().message());
  const json& input = *parsed;
  if (!input.contains("name") || !input["name"].is_string()) {
    return error_answer(400, "\"name\" (a string) is required");
  }
  protocol::CreateTopicsRequest::CreatableTopic topic;
  topic.name = input["name"].get<std::string>();
  topic.num_partitions = -1;      // the broker's num.partitions
  topic.replication_factor = -1;  // the broker's default
  if (input.contains("partitions")) {
    const json& partitions = input["partitions"];
    if (!partitions.is_number_integer() || partitions.get<int64_t>() < 1 ||
        partitions.get<int64_t>() > kPartitionCountMax) {
      return error_answer(
          400, "\"partitions\" must be an integer from 1 to " + std::to_string(kPartitionCountMax));
    }
    topic.num_partitions = partitions.get<int32_t>();
  }
  if (input.contains("replication_factor")) {
    const json& factor = input["replication_factor"];
    if (!factor.is_number_integer() || factor.get<int64_t>() < -1 ||
        factor.get<int64_t>() > INT16_MAX) {
      return error_answer(400, "\"replication_factor\" must be an integer");
    }
    topic.replication_factor = factor.get<int16_t>();
  }
  if (input.contains("configs")) {
    const json& configs = input["configs"];
    if (!configs.is_object() || configs.size() > kConfigsPerRequestMax) {
      return error_answer(400, "\"configs\" must be an object of config names to values");
    }
    for (const auto& [name, value] : configs.items()) {
      std::optional<std::string> text = config_value_text(value);
      if (!text) return error_answer(400, "config '" + name + "' needs a string value");
      topic.configs.push_back({name, *text});
    }
  }
  Result<bool> validate_only = optional_flag(input, "validate_only");
  if (!validate_only.ok()) return error_answer(400, validate_only.status().message());
  protocol::CreateTopicsRequest request;
  request.timeout_ms = static_cast<int32_t>(options.timeout.count());
  request.validate_only = *validate_only;
  request.topics.push_back(std::move(topic));
  auto response = kafka_call<protocol::CreateTopicsResponse>(state, request, kCreateTopicsVersion,
                                                             options.timeout);
  if (!response.ok()) return status_answer(response.status());
  if (response->topics.size() != 1) return error_answer(500, "CreateTopics answered no topic");
  const auto& result = response->topics[0];
  if (result.error_code != 0) return kafka_error_answer(result.error_code, result.error_message);
  return Answer{request.validate_only ? 200 : 201,
                {{"name", result.name},
                 {"topic_id", topic_id_text(result.topic_id)},
                 {"partition_count", result.num_partitions},
                 {"validate_only", request.validate_only}}};
}

Answer delete_topic(const BrokerState& state, const AdminOptions& options,
                    const std::string& topic) {
  protocol::DeleteTopicsRequest request;
  request.timeout_ms = static_cast<int32_t>(options.timeout.count());
  protocol::DeleteTopicsRequest::DeleteTopicState target;
  target.name = topic;
  request.topics.push_back(std::move(target));
  auto response = kafka_call<protocol::DeleteTopicsResponse>(state, request, kDeleteTopicsVersion,
                                                             options.timeout);
  if (!response.ok()) return status_answer(response.status());
  if (response->responses.size() != 1) return error_answer(500, "DeleteTopics answered no topic");
  const auto& result = response->responses[0];
  if (result.error_code != 0) return kafka_error_answer(result.error_code, result.error_message);
  return Answer{200, {{"deleted", topic}}};
}

Answer alter_topic_configs(const BrokerState& state, const AdminOptions& options,
                           const std::string& topic, const std::string& body) {
  Result<json> parsed = parse_object(body);
  if (!parsed.ok()) return error_answer(400, parsed.status().message());
  const json& input = *parsed;
  protocol::IncrementalAlterConfigsRequest::AlterConfigsResource resource;
  resource.resource_type = kTopicResource;
  resource.resource_name = topic;
  const json set = input.value("set", json::object());
  const json remove = input.value("delete", json::array());
  if (!set.is_object() || !remove.is_array() || set.size() + remove.size() == 0 ||
      set.size() + remove.size() > kConfigsPerRequestMax) {
    return error_answer(400,
                        "give \"set\" (an object of config values) and/or \"delete\" "
                        "(an array of config names)");
  }
  for (const auto& [name, value] : set.items()) {
    std::optional<std::string> text = config_value_text(value);
    if (!text) return error_answer(400, "config '" + name + "' needs a string value");
    resource.configs.push_back({name, /*SET*/ 0, *text});
  }
  for (const json& name : remove) {
    if (!name.is_string()) return error_answer(400, "\"delete\" must list config names");
    resource.configs.push_back({name.get<std::string>(), /*DELETE*/ 1, std::nullopt});
  }
  Result<bool> validate_only = optional_flag(input, "validate_only");
  if (!validate_only.ok()) return error_answer(400, validate_only.status().message());
  protocol::IncrementalAlterConfigsRequest request;
  request.validate_only = *validate_only;
  request.resources.push_back(std::move(resource));
  auto response = kafka_call<protocol::IncrementalAlterConfigsResponse>(
      state, request, kIncrementalAlterConfigsVersion, options.timeout);
  if (!response.ok()) return status_answer(response.status());
  if (response->responses.size() != 1) return error_answer(500, "no answer for the topic");
  const auto& result = response->responses[0];
  if (result.error_code != 0) return kafka_error_answer(result.error_code, result.error_message);
  return describe_topic(state, options, topic);
}

}  // namespace cairn::broker::admin
