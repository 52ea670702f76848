// Awaitable wrappers for the callback-style durability calls of storage::Log: they suspend
// the calling coroutine and resume it on its own shard (the Log calls back on a flusher
// thread, or inline when already durable) with the Status.
//
//   Status s = co_await await_durable(*partition->log, appended.last_offset);
//
// Shard thread (the Log's owner) only. The coroutine must keep what it uses alive itself
// across the suspension (hold the Partition's shared_ptr).
#pragma once

#include <asio.hpp>
#include <memory>
#include <utility>

#include "base/status.h"
#include "base/types.h"
#include "storage/log.h"

namespace cairn::broker {

namespace detail {
// Calls `start(callback)`; the callback (any thread) resumes the awaiting coroutine on
// `executor` with the Status it was given.
template <typename Start>
asio::awaitable<Status> await_log_callback(Start start) {
  asio::any_io_executor executor = co_await asio::this_coro::executor;
  co_return co_await asio::async_initiate<decltype(asio::use_awaitable), void(Status)>(
      [&start, executor](auto handler) {
        auto shared = std::make_shared<decltype(handler)>(std::move(handler));
        start([shared, executor](Status status) {
          asio::post(executor, [shared, status = std::move(status)]() mutable {
            (*shared)(std::move(status));
          });
        });
      },
      asio::use_awaitable);
}
}  // namespace detail

// Resumes once every offset <= `offset` is durable (ok), or with the log's error.
inline asio::awaitable<Status> await_durable(storage::Log& log, Offset offset) {
  return detail::await_log_callback([&log, offset](storage::Log::Callback callback) {
    log.wait_durable(offset, std::move(callback));
  });
}

// Resumes once everything done to the log before the call is durable.
inline asio::awaitable<Status> await_flushed(storage::Log& log) {
  return detail::await_log_callback(
      [&log](storage::Log::Callback callback) { log.wait_flushed(std::move(callback)); });
}

}  // namespace cairn::broker
