#include "broker/groups/consumer_protocol.h"

#include "protocol/reader.h"

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

}  // namespace cairn::broker::groups
