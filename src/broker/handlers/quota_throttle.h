// Client quotas on the data path: what Produce and Fetch call to count their bytes against
// the quota that applies (quotas/quota_store.h) and to delay a throttled response
// (quotas/throttle.h). Each is a no-op costing one atomic load while no quota exists.
//
// Throttling follows Kafka. For clients that know KIP-219 (Produce v6+, Fetch v8+) the
// response goes out at once with throttle_time_ms, the client waits that long before its next
// request to this broker, and the broker mutes the connection meanwhile: mute_connection()
// keeps the request's ordering token, so the connection hands no later request to the session
// until the time is up. A Fetch that would throttle such a client answers empty instead (its
// records are not sent, nor counted). Older versions get what Kafka did before KIP-219: the
// response itself waits (throttle_delay, on a timer; the shard keeps serving others) while the
// token is held. Runs on the request's shard.
#pragma once

#include <asio.hpp>
#include <cstdint>
#include <optional>
#include <string_view>

#include "broker/quotas/quota_store.h"
#include "broker/request_context.h"

namespace cairn::broker {

// The quota user of a request: the principal's name without "User:" (ANONYMOUS on
// unauthenticated listeners).
std::string_view quota_user(const RequestContext& ctx);

// Counts `bytes` against the quota for `key` that applies to `ctx`'s user and client-id and
// returns the throttle time in ms (0: no quota, or within it). `keep_if_throttled` false: bytes
// that throttle are not counted (a KIP-219 Fetch then answers without them).
int32_t record_quota_bytes(const RequestContext& ctx, quotas::QuotaKey key, int64_t bytes,
                           bool keep_if_throttled = true);

// The most bytes a Fetch response may carry under the client's consumer_byte_rate, if any.
std::optional<int64_t> fetch_quota_bytes_max(const RequestContext& ctx);

// Waits `throttle_ms` without blocking the shard; returns early once the broker stops.
asio::awaitable<void> throttle_delay(const BrokerState* broker, int32_t throttle_ms);

// The first versions whose clients wait out throttle_time_ms themselves (KIP-219).
inline constexpr int16_t kProduceClientThrottleVersion = 6;
inline constexpr int16_t kFetchClientThrottleVersion = 8;

// Holds `ordering` for `throttle_ms` on `executor` (the request's shard) and then releases it:
// the connection reads on but starts no later request until then. Returns at once.
void mute_connection(const asio::any_io_executor& executor, const BrokerState* broker,
                     net::OrderingToken ordering, int32_t throttle_ms);

}  // namespace cairn::broker
