// await_callback: the one bridge from a callback-style completion to a coroutine. A storage
// Log reports durability on a flusher thread, the group manager answers a JoinGroup when the
// rebalance ends; a coroutine waits for either the same way:
//
//   Status s = co_await net::await_callback<Status>(
//       [&](std::function<void(Status)> done) { log.wait_durable(offset, std::move(done)); });
//
// `start` runs at once, on the calling thread, and must arrange for `done` to be called
// exactly once (on any thread, or inline). The coroutine resumes on its own executor — for a
// shard's coroutine, that shard — with the value given to `done`. What `start` captures by
// reference is only guaranteed alive during the call; the coroutine keeps what the
// completion needs alive itself (hold the Partition's shared_ptr across the wait).
#pragma once

#include <asio.hpp>
#include <exception>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

namespace cairn::net {

template <typename T, typename Start>
asio::awaitable<T> await_callback(Start start) {
  asio::any_io_executor executor = co_await asio::this_coro::executor;
  co_return co_await asio::async_initiate<decltype(asio::use_awaitable), void(T)>(
      [&start, executor](auto handler) {
        auto shared = std::make_shared<decltype(handler)>(std::move(handler));
        start(std::function<void(T)>([executor, shared](T value) {
          asio::post(executor, [shared, value = std::move(value)]() mutable {
            std::move (*shared)(std::move(value));
          });
        }));
      },
      asio::use_awaitable);
}

namespace detail {
template <typename T>
struct Gather {
  std::vector<T> results;
  size_t pending = 0;
  std::exception_ptr failure;
  std::function<void(bool)> done;
};

template <typename T>
asio::awaitable<void> gather_one(std::shared_ptr<Gather<T>> state, size_t index,
                                 asio::awaitable<T> work) {
  try {
    state->results[index] = co_await std::move(work);
  } catch (...) {
    if (!state->failure) state->failure = std::current_exception();
  }
  if (--state->pending == 0) state->done(true);
}
}  // namespace detail

// Runs every awaitable at once on the calling coroutine's executor and resumes when all have
// finished, with their results in order (an exception from one is rethrown after all are
// done). Each typically hops to a shard (ShardSet::run_on): a request that spans shards then
// takes as long as its slowest hop, not the sum of its hops. T must be default-constructible.
// REQUIRES: the caller's executor runs on one thread (a shard): the bookkeeping is not atomic.
template <typename T>
asio::awaitable<std::vector<T>> await_all(std::vector<asio::awaitable<T>> work) {
  if (work.empty()) co_return std::vector<T>();
  if (work.size() == 1) {  // nothing to overlap: no gathering state, no extra coroutine
    std::vector<T> results;
    results.push_back(co_await std::move(work[0]));
    co_return results;
  }
  auto state = std::make_shared<detail::Gather<T>>();
  state->results.resize(work.size());
  state->pending = work.size();
  asio::any_io_executor executor = co_await asio::this_coro::executor;
  co_await await_callback<bool>([&state, &work, &executor](std::function<void(bool)> done) {
    state->done = std::move(done);
    for (size_t i = 0; i < work.size(); i++) {
      asio::co_spawn(executor, detail::gather_one(state, i, std::move(work[i])), asio::detached);
    }
  });
  if (state->failure) std::rethrow_exception(state->failure);
  co_return std::move(state->results);
}

}  // namespace cairn::net
