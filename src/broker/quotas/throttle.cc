#include "broker/quotas/throttle.h"

#include <functional>

#include <algorithm>
#include <cmath>

#include "base/assert.h"

namespace cairn::broker::quotas {

namespace {

int64_t second_of(int64_t ms) { return ms / kSampleMs; }

}  // namespace

ByteRateWindow::ByteRateWindow(int64_t now_ms) : last_record_ms_(now_ms) { slot_second_.fill(-1); }

void ByteRateWindow::record(int64_t bytes, int64_t now_ms) {
  ASSERT(bytes >= 0);
  // Shards race to the tracker's lock with clocks read a moment apart: never go backwards.
  now_ms = std::max(now_ms, last_record_ms_);
  last_record_ms_ = now_ms;
  int64_t second = second_of(now_ms);
  size_t slot = static_cast<size_t>(second % kWindowCount);
  if (slot_second_[slot] != second) {
    slot_second_[slot] = second;
    slot_bytes_[slot] = 0;
  }
  slot_bytes_[slot] += bytes;
}

int64_t ByteRateWindow::bytes(int64_t now_ms) const {
  int64_t oldest_second = second_of(now_ms) - (kWindowCount - 1);
  int64_t sum = 0;
  for (size_t slot = 0; slot < slot_bytes_.size(); slot++) {
    if (slot_second_[slot] >= oldest_second) sum += slot_bytes_[slot];
  }
  return sum;
}

int64_t ByteRateWindow::span_ms(int64_t now_ms) const {
  // Samples are whole seconds of the clock, so the oldest live one starts 10 s before the
  // current one: Kafka's span (at least 10 full samples) is always 10 s plus the current part.
  return (kWindowCount - 1) * kSampleMs + now_ms % kSampleMs;
}

int64_t throttle_ms(int64_t bytes, int64_t span_ms, double bytes_per_second) {
  ASSERT(bytes_per_second >= 1);
  ASSERT(span_ms > 0);
  double needed_ms = static_cast<double>(bytes) * 1000.0 / bytes_per_second;
  double over_ms = needed_ms - static_cast<double>(span_ms);
  if (!(over_ms > 0)) return 0;
  if (over_ms >= static_cast<double>(kThrottleMsMax)) return kThrottleMsMax;
  return std::max<int64_t>(1, std::llround(over_ms));
}

void ByteRateWindow::take_back(int64_t bytes) {
  ASSERT(bytes >= 0);
  size_t slot = static_cast<size_t>(second_of(last_record_ms_) % kWindowCount);
  ASSERT(slot_second_[slot] == second_of(last_record_ms_));
  slot_bytes_[slot] = std::max<int64_t>(0, slot_bytes_[slot] - bytes);
}

int64_t fetch_bytes_max(double bytes_per_second) {
  ASSERT(bytes_per_second >= 1);
  double window_bytes = bytes_per_second * (kWindowCount - 1) * (kSampleMs / 1000.0);
  if (window_bytes >= static_cast<double>(INT32_MAX)) return INT32_MAX;
  return std::max<int64_t>(1, static_cast<int64_t>(window_bytes));
}

namespace {

// Client ids are up to 32 KiB: a long name is kept as its hash, so an account costs a bounded
// number of bytes (names that share a hash share an account, which only throttles them more).
constexpr size_t kNameBytesKept = 128;

void bound_name(EntityPart& part) {
  if (part.kind != EntityPart::Kind::named || part.name.size() <= kNameBytesKept) return;
  part.name = "#" + std::to_string(std::hash<std::string>{}(part.name)) + "#" +
              std::to_string(part.name.size());
}

}  // namespace

int64_t ThrottleTracker::record(QuotaKey key, const EffectiveQuota& quota, int64_t bytes,
                                int64_t now_ms, bool keep_if_throttled) {
  std::lock_guard lock(mu_);
  if (now_ms - last_sweep_ms_ >= kSampleMs) forget_idle(now_ms);
  Account account{key, quota.account};
  bound_name(account.second.user);
  bound_name(account.second.client_id);
  auto it = windows_.find(account);
  if (it == windows_.end()) {
    if (windows_.size() >= kAccountsMax) {
      // Real accounts never hold a default part: this one is shared by the overflow.
      account.second = QuotaEntity{EntityPart::default_name(), EntityPart::default_name()};
    }
    it = windows_.try_emplace(std::move(account), now_ms).first;
  }
  ByteRateWindow& window = it->second;
  window.record(bytes, now_ms);
  int64_t now = window.last_record_ms();
  int64_t throttle = throttle_ms(window.bytes(now), window.span_ms(now), quota.bytes_per_second);
  if (throttle > 0 && !keep_if_throttled) window.take_back(bytes);
  return throttle;
}

size_t ThrottleTracker::account_count() const {
  std::lock_guard lock(mu_);
  return windows_.size();
}

void ThrottleTracker::forget_idle(int64_t now_ms) {
  last_sweep_ms_ = now_ms;
  // A window whose last record is older than the whole window holds no live bytes.
  int64_t idle_before_ms = now_ms - kWindowCount * kSampleMs;
  std::erase_if(windows_, [idle_before_ms](const auto& entry) {
    return entry.second.last_record_ms() < idle_before_ms;
  });
}

}  // namespace cairn::broker::quotas
