// The few bytes of the consumer protocol (protocol_type "consumer") the broker itself reads:
// the topic list of a member's ConsumerProtocolSubscription, which OffsetDelete needs to refuse
// deleting offsets of topics the group still consumes (GROUP_SUBSCRIBED_TO_TOPIC). Everything
// else in member metadata and assignments stays opaque. Pure functions; any thread.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

namespace cairn::broker::groups {

inline constexpr std::string_view kConsumerProtocolType = "consumer";

// Subscription v0+: int16 version, then array<string> topics (int32 count, int16-length
// strings), then fields this parser ignores. nullopt if the bytes are not that shape.
std::optional<std::vector<std::string>> parse_subscription_topics(std::span<const uint8_t> bytes);

// For DescribeGroups of a consumer-protocol group (KIP-848), whose members send no such bytes:
// a Subscription v0 of `topics`, and an Assignment v0 of `partitions` (both without user data),
// the shapes admin tools parse.
std::vector<uint8_t> encode_subscription(const std::vector<std::string>& topics);
std::vector<uint8_t> encode_assignment(const std::map<std::string, std::set<int32_t>>& partitions);

}  // namespace cairn::broker::groups
