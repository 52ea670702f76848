// Immutable topics (`cairn.immutable=true`, docs/immutable-topics.md): append-only for every
// principal, super users included, like object-lock compliance mode. While the topic holds a
// record that has not aged out of its retention:
//
//   DeleteRecords                                   refused (POLICY_VIOLATION)
//   DeleteTopics                                    refused (POLICY_VIOLATION)
//   cairn.immutable unset or false                  refused
//   retention.ms / retention.bytes lowered          refused (raising is allowed; -1 is the top)
//   cleanup.policy other than delete                refused whenever the topic is immutable
//
// "Aged out" is judged with the topic's current retention.ms, which can only have grown since
// a record was written, so the lock never ends early. Making a topic immutable (CreateTopics or
// AlterConfigs) pins retention.ms and retention.bytes as topic overrides, so a later change of
// the broker defaults cannot shorten them. Records still leave by retention, as before.
// Helpers for the admin handlers; any shard.
#pragma once

#include <asio.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "broker/broker_state.h"
#include "broker/configs/resolve.h"

namespace cairn::broker {

inline constexpr std::string_view kImmutableConfig = "cairn.immutable";

// Whether a topic with `overrides` is immutable.
bool is_immutable(const configs::ConfigMap& overrides);

// Until when (ms since the epoch) `topic`'s records are locked: its newest record's time plus
// retention.ms (INT64_MAX for retention -1), or nullopt when it holds no record. Hops to every
// partition's shard.
asio::awaitable<std::optional<int64_t>> immutable_lock_until(const BrokerState* broker,
                                                             TopicInfo topic);
// Whether a lock that ends at `until` still holds now.
bool still_locked(const BrokerState& broker, const std::optional<int64_t>& until);

// For a change of a topic's overrides from `current` to `next` (AlterConfigs; CreateTopics with
// an empty `current`): the reason it is refused, or "" when allowed. `locked`: whether the
// topic's records are locked now (only asked for when `current` is immutable). When allowed
// and `next` is immutable, pins retention.ms and retention.bytes in `next`.
std::string check_immutable_change(const configs::Layers& layers, const configs::ConfigMap& current,
                                   configs::ConfigMap& next, bool locked);

}  // namespace cairn::broker
