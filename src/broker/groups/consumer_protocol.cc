#include "broker/groups/consumer_protocol.h"

#include "protocol/reader.h"
#include "protocol/writer.h"

namespace cairn::broker::groups {

std::optional<std::vector<std::string>> parse_subscription_topics(std::span<const uint8_t> bytes) {
  protocol::Reader reader(bytes);
  int16_t version = reader.read_int16();
  if (!reader.ok() || version < 0) return std::nullopt;
  // Each topic name takes at least its int16 length.
  int32_t count = reader.read_array_count(2);
  if (!reader.ok() || count < 0) return std::nullopt;
  std::vector<std::string> topics;
  topics.reserve(static_cast<size_t>(count));
  for (int32_t i = 0; i < count; ++i) topics.push_back(reader.read_string());
  if (!reader.ok()) return std::nullopt;
  return topics;
}

std::vector<uint8_t> encode_subscription(const std::vector<std::string>& topics) {
  protocol::Writer writer;
  writer.write_int16(0);
  writer.write_int32(static_cast<int32_t>(topics.size()));
  for (const std::string& topic : topics) writer.write_string(topic);
  writer.write_int32(-1);  // no user data
  return writer.buffer();
}

std::vector<uint8_t> encode_assignment(const std::map<std::string, std::set<int32_t>>& partitions) {
  protocol::Writer writer;
  writer.write_int16(0);
  writer.write_int32(static_cast<int32_t>(partitions.size()));
  for (const auto& [topic, set] : partitions) {
    writer.write_string(topic);
    writer.write_int32(static_cast<int32_t>(set.size()));
    for (int32_t partition : set) writer.write_int32(partition);
  }
  writer.write_int32(-1);  // no user data
  return writer.buffer();
}

}  // namespace cairn::broker::groups
