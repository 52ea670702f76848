#include "broker/handlers/quota_throttle.h"

#include <algorithm>
#include <chrono>

#include "broker/partitions/partition_manager.h"
#include "broker/quotas/throttle.h"

namespace cairn::broker {

namespace {

constexpr std::string_view kUserPrefix = "User:";
constexpr std::string_view kAnonymousUser = "ANONYMOUS";
// A throttled response checks this often whether the broker is stopping.
constexpr std::chrono::milliseconds kStopCheckInterval{100};

int64_t steady_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string_view client_id_of(const RequestContext& ctx) {
  if (!ctx.header.client_id) return {};
  return *ctx.header.client_id;
}

}  // namespace

std::string_view quota_user(const RequestContext& ctx) {
  if (ctx.identity == nullptr) return kAnonymousUser;
  std::string_view principal = ctx.identity->principal;
  if (principal.starts_with(kUserPrefix)) principal.remove_prefix(kUserPrefix.size());
  return principal;
}

int32_t record_quota_bytes(const RequestContext& ctx, quotas::QuotaKey key, int64_t bytes,
                           bool keep_if_throttled) {
  const BrokerState& broker = *ctx.broker;
  if (broker.client_quotas == nullptr || broker.client_quotas->empty()) return 0;
  std::optional<quotas::EffectiveQuota> quota =
      broker.client_quotas->resolve(key, quota_user(ctx), client_id_of(ctx));
  if (!quota) return 0;
  int64_t throttle =
      broker.quota_throttles->record(key, *quota, bytes, steady_now_ms(), keep_if_throttled);
  ASSERT(throttle >= 0 && throttle <= quotas::kThrottleMsMax);
  return static_cast<int32_t>(throttle);
}

std::optional<int64_t> fetch_quota_bytes_max(const RequestContext& ctx) {
  const BrokerState& broker = *ctx.broker;
  if (broker.client_quotas == nullptr || broker.client_quotas->empty()) return std::nullopt;
  std::optional<quotas::EffectiveQuota> quota = broker.client_quotas->resolve(
      quotas::QuotaKey::consumer_byte_rate, quota_user(ctx), client_id_of(ctx));
  if (!quota) return std::nullopt;
  return quotas::fetch_bytes_max(quota->bytes_per_second);
}

asio::awaitable<void> throttle_delay(const BrokerState* broker, int32_t throttle_ms) {
  if (throttle_ms <= 0) co_return;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(throttle_ms);
  asio::steady_timer timer(co_await asio::this_coro::executor);
  while (std::chrono::steady_clock::now() < deadline) {
    if (broker->partitions != nullptr && broker->partitions->stopping()) co_return;
    timer.expires_at(std::min(deadline, std::chrono::steady_clock::now() + kStopCheckInterval));
    asio::error_code ignored;  // a cancelled wait just ends the delay sooner
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
  }
}

namespace {

asio::awaitable<void> hold_muted(const BrokerState* broker, net::OrderingToken ordering,
                                 int32_t throttle_ms) {
  co_await throttle_delay(broker, throttle_ms);
  ordering.release();
}

}  // namespace

void mute_connection(const asio::any_io_executor& executor, const BrokerState* broker,
                     net::OrderingToken ordering, int32_t throttle_ms) {
  if (throttle_ms <= 0) return;  // `ordering` goes now
  asio::co_spawn(executor, hold_muted(broker, std::move(ordering), throttle_ms), asio::detached);
}

}  // namespace cairn::broker
