// The few bytes of the consumer protocol (protocol_type "consumer") the broker itself reads:
// the topic list of a member's ConsumerProtocolSubscription, which OffsetDelete needs to refuse
// deleting offsets of topics the group still consumes (GROUP_SUBSCRIBED_TO_TOPIC). Everything
// else in member metadata and assignments stays opaque. Pure functions; any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace cairn::broker::groups {

inline constexpr std::string_view kConsumerProtocolType = "consumer";

// Subscription v0+: int16 version, then array<string> topics (int32 count, int16-length
// strings), then fields this parser ignores. nullopt if the bytes are not that shape.
std::optional<std::vector<std::string>> parse_subscription_topics(std::span<const uint8_t> bytes);

}  // namespace cairn::broker::groups
