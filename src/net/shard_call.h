// Calls into the shards from a thread that is no shard's (the admin HTTP server's threads:
// the admin API and /metrics). Such a thread must never touch shard-owned state, so it posts
// the work to the owning shard's event loop and waits for the answer, at most `timeout`: a
// shard stuck on a disk makes the request fail (nullopt), never hang, and never blocks a
// shard. A late answer after the timeout lands in a slot the posted work owns
// (shared_ptr), so nothing dangles.
//
// REQUIRES (every function): called on a non-shard thread while the shards run; the work is
// run on the shard thread and must follow the shard's rules (coroutines take arguments by value).
#pragma once

#include <asio.hpp>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "net/shard_set.h"

namespace cairn::net {

// Runs the coroutine `make_work()` returns on `shard`; its value, or nullopt when it threw or
// did not finish within `timeout`.
template <typename T>
std::optional<T> run_on_shard(const ShardSet& shards, ShardId shard,
                              std::chrono::milliseconds timeout,
                              std::function<asio::awaitable<T>()> make_work) {
  struct Slot {
    std::mutex mu;
    std::condition_variable done_changed;
    bool done = false;       // guarded by mu
    std::optional<T> value;  // guarded by mu
  };
  auto slot = std::make_shared<Slot>();
  asio::any_io_executor executor = shards.executor(shard);
  shards.post(shard, [slot, executor, make_work = std::move(make_work)]() {
    asio::co_spawn(executor, make_work(), [slot](std::exception_ptr failure, T value) {
      std::lock_guard lock(slot->mu);
      if (!failure) slot->value = std::move(value);
      slot->done = true;
      slot->done_changed.notify_all();
    });
  });
  std::unique_lock lock(slot->mu);
  if (!slot->done_changed.wait_for(lock, timeout, [&] { return slot->done; })) return std::nullopt;
  return std::move(slot->value);
}

// Runs the plain function `work` on every shard at once; the answers by shard index, or
// nullopt when one shard did not answer within `timeout`.
template <typename T>
std::optional<std::vector<T>> run_on_every_shard(const ShardSet& shards,
                                                 std::chrono::milliseconds timeout,
                                                 std::function<T()> work) {
  struct Slots {
    std::mutex mu;
    std::condition_variable answered;
    std::vector<std::optional<T>> values;  // guarded by mu
    uint32_t pending = 0;                  // guarded by mu
  };
  auto slots = std::make_shared<Slots>();
  uint32_t shard_count = shards.count();
  slots->values.resize(shard_count);
  slots->pending = shard_count;
  for (uint32_t i = 0; i < shard_count; i++) {
    shards.post(ShardId(i), [slots, work, i]() {
      T value = work();
      std::lock_guard lock(slots->mu);
      slots->values[i] = std::move(value);
      slots->pending--;
      slots->answered.notify_all();
    });
  }
  std::unique_lock lock(slots->mu);
  if (!slots->answered.wait_for(lock, timeout, [&] { return slots->pending == 0; })) {
    return std::nullopt;
  }
  std::vector<T> values;
  values.reserve(shard_count);
  for (std::optional<T>& value : slots->values) values.push_back(std::move(*value));
  return values;
}

}  // namespace cairn::net
