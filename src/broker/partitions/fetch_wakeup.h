// FetchWakeup: how a long-polling Fetch learns that data landed on partitions owned by other
// shards.
//
// The Fetch creates one FetchWakeup on its own shard. Every time it reads a partition and finds
// too little data it registers the wakeup with that partition, in the same hop as the read (on
// the partition's shard, so no append can slip in between the read and the registration).
// An append calls notify() on every registered wakeup and drops them; notify() posts a cancel
// of the Fetch's timer to the Fetch's shard. The Fetch then re-reads. A Fetch that ends (data,
// timeout, shutdown) calls finish(); partitions drop finished wakeups when they next look.
//
//   Fetch shard                         partition shard
//   read + register  ----------------->  (waiters += w)
//   wait_until(deadline)                 append -> w->notify() -> post(cancel timer)
//   <----------------------------------------------------------------/
//   re-read ...
//
// Thread safety: notify(), finish() and fired() from any thread; wait_until() only on the
// Fetch's shard (the executor given at construction), one waiter at a time.
#pragma once

#include <asio.hpp>
#include <atomic>
#include <chrono>
#include <memory>

namespace cairn::broker {

class FetchWakeup : public std::enable_shared_from_this<FetchWakeup> {
 public:
  using Clock = std::chrono::steady_clock;

  explicit FetchWakeup(asio::any_io_executor executor) : executor_(std::move(executor)) {}

  // Any thread. Wakes the waiting Fetch; later calls do nothing until rearm().
  void notify() {
    if (fired_.exchange(true)) return;
    asio::post(executor_, [self = shared_from_this()] {
      if (self->timer_ != nullptr) self->timer_->cancel();
    });
  }
  // Any thread: the Fetch no longer waits; partitions may drop it.
  void finish() { fired_.store(true); }
  bool fired() const { return fired_.load(); }
  // Fetch shard, before registering again after a wake.
  void rearm() { fired_.store(false); }

  // Fetch shard. Returns at `deadline` or once notify() was called (at once if it already was
  // since the last rearm()).
  asio::awaitable<void> wait_until(Clock::time_point deadline) {
    asio::steady_timer timer(executor_, deadline);
    if (fired_.load()) co_return;
    timer_ = &timer;
    asio::error_code ignored;  // operation_aborted is the normal wake
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
    timer_ = nullptr;
  }

 private:
  asio::any_io_executor executor_;
  std::atomic<bool> fired_{false};
  asio::steady_timer* timer_ = nullptr;  // Fetch shard only; set while waiting
};

}  // namespace cairn::broker
