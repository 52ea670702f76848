// ShardSet: N shards, each one thread running its own asio::io_context.
//
// Everything a shard owns (connections, partitions) is touched only from that shard's thread,
// so the data path takes no locks. Work moves between shards by posting to the owner's
// executor. `run_on` is the hop primitive: it runs a coroutine on shard k and resumes the
// caller on the caller's own executor (its shard) with the result:
//
//   Result<AppendInfo> r = co_await shards.run_on(shard_k, append(log, std::move(batch)));
//
// The coroutine passed in must take its arguments by value (it runs on another thread, after
// the caller's temporaries are gone) and must not be a capturing lambda.
//
// Lifecycle: construct, start() (spawns threads), request_stop() (releases the work guards:
// each shard's run() returns once it has no more work), join(). stop_now() makes run() return
// at once, abandoning queued work. The ShardSet must outlive every coroutine spawned on it;
// destroy it only after join(). All const member functions may be called from any thread.
#pragma once

#include <asio.hpp>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "base/assert.h"
#include "base/types.h"

namespace cairn::net {

using ShardId = StrongInt<struct ShardIdTag, uint32_t>;

class ShardSet {
 public:
  // REQUIRES: shard_count >= 1.
  explicit ShardSet(uint32_t shard_count);
  ~ShardSet();
  ShardSet(const ShardSet&) = delete;
  ShardSet& operator=(const ShardSet&) = delete;

  uint32_t count() const { return static_cast<uint32_t>(shards_.size()); }
  asio::io_context& context(ShardId shard) const { return shard_at(shard).context; }
  asio::any_io_executor executor(ShardId shard) const {
    return shard_at(shard).context.get_executor();
  }

  void start();
  void request_stop();
  void stop_now();
  // Waits until every shard's run() has returned, or `timeout` passes; true if all returned.
  bool wait_stopped(std::chrono::milliseconds timeout);
  void join();

  // The shard whose thread calls this, or nullopt off the shard threads.
  static std::optional<ShardId> current();

  // Runs `work` on `shard`, then resumes the caller on its own executor with the result.
  template <typename T>
  asio::awaitable<T> run_on(ShardId shard, asio::awaitable<T> work) const {
    return asio::co_spawn(executor(shard), std::move(work), asio::use_awaitable);
  }

  // Runs `fn()` on `shard` later; returns at once. Any thread.
  template <typename F>
  void post(ShardId shard, F&& fn) const {
    asio::post(executor(shard), std::forward<F>(fn));
  }

 private:
  // An io_context whose shutdown (destroying every pending handler and coroutine frame) can be
  // run for all shards before any of them is freed: a frame parked on one shard may hold a work
  // guard on another shard's context, so freeing contexts one by one is a use-after-free.
  struct ShardContext : asio::io_context {
    using asio::io_context::io_context;
    using asio::io_context::shutdown;
  };
  struct Shard {
    mutable ShardContext context{1};
    std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
    std::thread thread;
  };
  Shard& shard_at(ShardId shard) const {
    ASSERT(shard.value() < shards_.size());
    return *shards_[shard.value()];
  }

  std::vector<std::unique_ptr<Shard>> shards_;
  bool started_ = false;
  std::mutex running_mutex_;
  std::condition_variable running_changed_;
  uint32_t running_count_ = 0;  // guarded by running_mutex_
};

}  // namespace cairn::net
