#include "broker/topics/topic_registry.h"

#include <nlohmann/json.hpp>
#include <random>

#include "base/assert.h"
#include "broker/meta_file.h"

namespace cairn::broker {
namespace {

constexpr int kFormatVersion = 1;
constexpr size_t kTopicsFileBytesMax = 64 * 1024 * 1024;

std::string uuid_to_hex(const protocol::Uuid& id) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (uint8_t b : id) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 0x0f]);
  }
  return out;
}

bool uuid_from_hex(std::string_view hex, protocol::Uuid& out) {
  if (hex.size() != 32) return false;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  for (size_t i = 0; i < 16; i++) {
    int high = nibble(hex[2 * i]);
    int low = nibble(hex[2 * i + 1]);
    if (high < 0 || low < 0) return false;
    out[i] = static_cast<uint8_t>((high << 4) | low);
  }
  return true;
}

// A random v4 UUID that is neither all zeros nor Kafka's reserved METADATA_TOPIC_ID (0..01).
protocol::Uuid random_topic_id() {
  std::random_device random;
  protocol::Uuid id;
  for (auto& b : id) b = static_cast<uint8_t>(random());
  id[6] = static_cast<uint8_t>((id[6] & 0x0f) | 0x40);
  id[8] = static_cast<uint8_t>((id[8] & 0x3f) | 0x80);
  return id;
}

std::string encode_topics(const std::map<std::string, TopicInfo, std::less<>>& topics) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& [name, topic] : topics) {
    nlohmann::json configs = nlohmann::json::object();
    for (const auto& [key, value] : topic.configs) configs[key] = value;
    list.push_back({{"name", topic.name},
                    {"topic_id", uuid_to_hex(topic.topic_id)},
                    {"partitions", topic.partition_count},
                    {"configs", configs}});
  }
  nlohmann::json document = {{"format", kFormatVersion}, {"topics", list}};
  return document.dump(1) + "\n";
}

Result<TopicInfo> decode_topic(const nlohmann::json& entry) {
  if (!entry.is_object() || !entry.contains("name") || !entry["name"].is_string() ||
      !entry.contains("topic_id") || !entry["topic_id"].is_string() ||
      !entry.contains("partitions") || !entry["partitions"].is_number_integer() ||
      !entry.contains("configs") || !entry["configs"].is_object()) {
    return error(StatusCode::corrupt, "malformed topic entry");
  }
  TopicInfo topic;
  topic.name = entry["name"].get<std::string>();
  RETURN_IF_ERROR(validate_topic_name(topic.name));
  if (!uuid_from_hex(entry["topic_id"].get<std::string>(), topic.topic_id)) {
    return error(StatusCode::corrupt, "malformed topic_id for " + topic.name);
  }
  int64_t partitions = entry["partitions"].get<int64_t>();
  if (partitions < 1 || partitions > kPartitionCountMax) {
    return error(StatusCode::corrupt, "bad partition count for " + topic.name);
  }
  topic.partition_count = static_cast<int32_t>(partitions);
  for (const auto& [key, value] : entry["configs"].items()) {
    if (!value.is_string()) return error(StatusCode::corrupt, "non-string config " + key);
    topic.configs[key] = value.get<std::string>();
  }
  return topic;
}

Result<std::map<std::string, TopicInfo, std::less<>>> decode_topics(const std::string& text) {
  nlohmann::json document = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (document.is_discarded() || !document.is_object()) {
    return error(StatusCode::corrupt, "not a JSON object");
  }
  if (!document.contains("format") || document["format"] != kFormatVersion) {
    return error(StatusCode::corrupt, "unknown format (expected 1)");
  }
  if (!document.contains("topics") || !document["topics"].is_array()) {
    return error(StatusCode::corrupt, "missing topics array");
  }
  std::map<std::string, TopicInfo, std::less<>> topics;
  for (const auto& entry : document["topics"]) {
    Result<TopicInfo> topic = decode_topic(entry);
    if (!topic.ok()) return error(StatusCode::corrupt, topic.status().message());
    std::string name = topic->name;
    if (!topics.emplace(name, std::move(topic).value()).second) {
      return error(StatusCode::corrupt, "duplicate topic " + name);
    }
  }
  return topics;
}

}  // namespace

Status validate_topic_name(std::string_view name) {
  if (name.empty()) return error(StatusCode::invalid_argument, "empty topic name");
  if (name.size() > kTopicNameCharsMax) {
    return error(StatusCode::invalid_argument, "topic name longer than 249 characters");
  }
  if (name == "." || name == "..") {
    return error(StatusCode::invalid_argument, "topic name cannot be '.' or '..'");
  }
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) {
      return error(StatusCode::invalid_argument,
                   "topic name may contain only ASCII letters, digits, '.', '_' and '-'");
    }
  }
  return Status::ok_status();
}

TopicRegistry::TopicRegistry(storage::Io& io, std::filesystem::path path,
                             std::shared_ptr<const TopicTable> table)
    : io_(io), path_(std::move(path)), table_(std::move(table)) {}

Result<std::unique_ptr<TopicRegistry>> TopicRegistry::open(const std::filesystem::path& meta_dir,
                                                           storage::Io& io) {
  std::filesystem::path path = meta_dir / "topics.json";
  Result<std::optional<std::string>> text = read_meta_file(io, path, kTopicsFileBytesMax);
  if (!text.ok()) return text.status();
  auto table = std::make_shared<const TopicTable>();
  if (text->has_value()) {
    Result<Topics> topics = decode_topics(**text);
    if (!topics.ok()) {
      return error(StatusCode::corrupt, path.string() + ": " + topics.status().message());
    }
    table = std::make_shared<const TopicTable>(std::move(topics).value(), 1);
  }
  return std::unique_ptr<TopicRegistry>(new TopicRegistry(io, path, std::move(table)));
}

Status TopicRegistry::commit(Topics topics) {
  RETURN_IF_ERROR(write_meta_file(io_, path_, encode_topics(topics)));
  uint64_t version = table_.load()->version() + 1;
  table_.store(std::make_shared<const TopicTable>(std::move(topics), version));
  return Status::ok_status();
}

Result<TopicInfo> TopicRegistry::create(std::string name, int32_t partition_count,
                                        TopicConfigs configs) {
  RETURN_IF_ERROR(validate_topic_name(name));
  if (partition_count < 1 || partition_count > kPartitionCountMax) {
    return error(StatusCode::invalid_argument,
                 "partition count must be 1.." + std::to_string(kPartitionCountMax));
  }
  std::lock_guard lock(write_mutex_);
  Topics topics = table_.load()->topics();
  if (topics.count(name) != 0) {
    return error(StatusCode::already_exists, "topic " + name + " already exists");
  }
  if (topics.size() >= kTopicCountMax) {
    return error(StatusCode::too_large, "too many topics");
  }
  TopicInfo topic{name, random_topic_id(), partition_count, std::move(configs)};
  topics.emplace(name, topic);
  RETURN_IF_ERROR(commit(std::move(topics)));
  return topic;
}

Status TopicRegistry::remove(std::string_view name) {
  std::lock_guard lock(write_mutex_);
  Topics topics = table_.load()->topics();
  auto it = topics.find(name);
  if (it == topics.end()) {
    return error(StatusCode::not_found, "topic " + std::string(name) + " does not exist");
  }
  topics.erase(it);
  return commit(std::move(topics));
}

Result<TopicInfo> TopicRegistry::set_partition_count(std::string_view name,
                                                     int32_t partition_count) {
  std::lock_guard lock(write_mutex_);
  Topics topics = table_.load()->topics();
  auto it = topics.find(name);
  if (it == topics.end()) {
    return error(StatusCode::not_found, "topic " + std::string(name) + " does not exist");
  }
  if (partition_count <= it->second.partition_count || partition_count > kPartitionCountMax) {
    return error(
        StatusCode::invalid_argument,
        "partition count can only grow (now " + std::to_string(it->second.partition_count) + ")");
  }
  it->second.partition_count = partition_count;
  TopicInfo topic = it->second;
  RETURN_IF_ERROR(commit(std::move(topics)));
  return topic;
}

Result<TopicInfo> TopicRegistry::set_configs(std::string_view name, TopicConfigs configs) {
  std::lock_guard lock(write_mutex_);
  Topics topics = table_.load()->topics();
  auto it = topics.find(name);
  if (it == topics.end()) {
    return error(StatusCode::not_found, "topic " + std::string(name) + " does not exist");
  }
  it->second.configs = std::move(configs);
  TopicInfo topic = it->second;
  RETURN_IF_ERROR(commit(std::move(topics)));
  return topic;
}

}  // namespace cairn::broker
