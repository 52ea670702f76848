// Client quotas on the data path: what Produce and Fetch call to count their bytes against
// the quota that applies (quotas/quota_store.h) and to delay a throttled response
// (quotas/throttle.h). Each is a no-op costing one atomic load while no quota exists.
//
// Cairn throttles as Kafka did before KIP-219: the response waits for the throttle time (on a
// timer; the shard keeps serving others) and carries it in throttle_time_ms. Produce holds the
// connection's ordering token while it waits, so a pipelining producer's next request is not
// read meanwhile (Kafka mutes the channel the same way). Runs on the request's shard.
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
// returns the throttle time in ms (0: no quota, or within it).
int32_t record_quota_bytes(const RequestContext& ctx, quotas::QuotaKey key, int64_t bytes);

// The most bytes a Fetch response may carry under the client's consumer_byte_rate, if any.
std::optional<int64_t> fetch_quota_bytes_max(const RequestContext& ctx);

// Waits `throttle_ms` without blocking the shard; returns early once the broker stops.
asio::awaitable<void> throttle_delay(const BrokerState* broker, int32_t throttle_ms);

}  // namespace cairn::broker
