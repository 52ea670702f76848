// Byte-rate measurement and throttle times for client quotas, as Kafka computes them.
//
// ByteRateWindow: the bytes one quota account sent (Produce) or received (Fetch) over Kafka's
// quota window: kWindowCount samples of kSampleMs each (Kafka's quota.window.num = 11 and
// quota.window.size.seconds = 1). Samples are aligned to whole seconds of the clock:
//
//   second:   s-10  s-9  ...  s-1   s      <- now is inside second s
//   slot:     one per second, slot = second % 11; a slot holding an older second is stale
//
// The measured span is Kafka's: from the start of the oldest live sample to now, but never
// less than 10 full samples (so a new account is not judged on its first milliseconds). The
// rate is bytes / span; over the quota Q, the throttle time is how long until the rate falls
// back to Q with no further traffic: bytes / Q - span (Kafka's (rate - Q) / Q * span).
//
// ThrottleTracker: the windows of every account with recent traffic, shared by all shards
// behind one mutex (one short lock per throttled-kind request, only while quotas exist).
// Bounded: an account with no traffic for a whole window is forgotten (it holds no bytes any
// more), and past kAccountsMax accounts new ones share one overflow window.
//
// Thread safety: ByteRateWindow is a value; ThrottleTracker is safe from any thread.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <utility>

#include "broker/quotas/quota_store.h"

namespace cairn::broker::quotas {

inline constexpr int kWindowCount = 11;
inline constexpr int64_t kSampleMs = 1000;
// A throttle never exceeds the whole window: a delay as long as the clients' request timeout
// (30 s by default) would make them retry, and by then the window has forgotten the bytes.
inline constexpr int64_t kThrottleMsMax = kWindowCount * kSampleMs;
inline constexpr size_t kAccountsMax = 100000;

class ByteRateWindow {
 public:
  explicit ByteRateWindow(int64_t now_ms);

  void record(int64_t bytes, int64_t now_ms);
  // Takes back `bytes` of the last record() (Kafka's unrecord, for a Fetch answered empty).
  // REQUIRES: no record() since the one that added them.
  void take_back(int64_t bytes);
  // Bytes in the live samples at `now_ms`.
  int64_t bytes(int64_t now_ms) const;
  // The measured span at `now_ms` (see above).
  int64_t span_ms(int64_t now_ms) const;
  int64_t last_record_ms() const { return last_record_ms_; }

 private:
  std::array<int64_t, kWindowCount> slot_bytes_{};
  std::array<int64_t, kWindowCount> slot_second_{};
  int64_t first_second_;
  int64_t last_record_ms_;
};

// How long to throttle an account that has `bytes` in a window spanning `span_ms`, under a
// quota of `bytes_per_second`: 0 while the rate is within it, never above kThrottleMsMax.
// REQUIRES: bytes_per_second >= 1, span_ms > 0.
int64_t throttle_ms(int64_t bytes, int64_t span_ms, double bytes_per_second);

// The most bytes one Fetch response may carry under `bytes_per_second`: the quota over the
// window's span of 10 samples (Kafka's getMaxValueInQuotaWindow), so that one response alone
// never throttles a client that sent nothing else in the window.
int64_t fetch_bytes_max(double bytes_per_second);

class ThrottleTracker {
 public:
  // Counts `bytes` against `quota.account` for `key` at `now_ms` and returns the throttle time
  // in milliseconds (0: within the quota). With `keep_if_throttled` false, bytes that throttle
  // are not counted after all (a KIP-219 Fetch then sends nothing, as in Kafka).
  int64_t record(QuotaKey key, const EffectiveQuota& quota, int64_t bytes, int64_t now_ms,
                 bool keep_if_throttled = true);
  size_t account_count() const;

 private:
  using Account = std::pair<QuotaKey, QuotaEntity>;
  void forget_idle(int64_t now_ms);  // REQUIRES: mu_ held

  mutable std::mutex mu_;
  std::map<Account, ByteRateWindow> windows_;  // guarded by mu_
  int64_t last_sweep_ms_ = 0;                  // guarded by mu_
};

}  // namespace cairn::broker::quotas
