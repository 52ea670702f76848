// Wakeup: lets one coroutine sleep until another coroutine on the same shard changes state.
//
// A waiter loops `while (!condition) co_await wakeup.wait();` and whoever changes the state
// calls notify(). Both run on the same shard thread, so no notify can fall between the
// condition check and the wait (there is no suspension point between them). One waiter at a
// time. Built on a steady_timer that never expires by itself: notify() cancels the wait.
// Single shard only; not thread-safe.
#pragma once

#include <asio.hpp>

namespace cairn::net {

class Wakeup {
 public:
  explicit Wakeup(asio::any_io_executor executor) : timer_(std::move(executor)) {}

  asio::awaitable<void> wait() {
    timer_.expires_at(asio::steady_timer::time_point::max());
    asio::error_code ec;  // operation_aborted is the normal wake
    co_await timer_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  void notify() { timer_.cancel(); }

 private:
  asio::steady_timer timer_;
};

}  // namespace cairn::net
