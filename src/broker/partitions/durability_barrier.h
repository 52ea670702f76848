// DurabilityBarrier: lets one request (an acks=all Produce) wait until the appends it made on
// several partitions, on several shards, are all durable — without a hop back to each shard.
//
// The request creates the barrier with one slot per partition. On each owning shard, right
// after appending, it calls log.wait_durable(offset, barrier->callback(slot)); the callback
// runs on a flusher thread (or inline) and records the slot's Status. Back on its own shard,
// after every append hop, the request calls `co_await barrier->wait()`, which resumes once all
// registered callbacks have run. status(slot) then says whether that partition's data is
// durable (ok) or why not (never acknowledge a failed fsync).
//
// Thread safety: callback() on any shard before wait(); the callbacks it returns on any
// thread; wait() and status() on the request's shard, status() only after wait() returned.
#pragma once

#include <asio.hpp>
#include <atomic>
#include <functional>
#include <memory>
#include <vector>

#include "base/assert.h"
#include "base/status.h"

namespace cairn::broker {

class DurabilityBarrier : public std::enable_shared_from_this<DurabilityBarrier> {
 public:
  // `executor`: the request's shard, where wait() resumes.
  DurabilityBarrier(asio::any_io_executor executor, size_t slot_count)
      : executor_(std::move(executor)), statuses_(slot_count) {}

  // A callback for Log::wait_durable that fills `slot`. Each slot gets at most one callback.
  std::function<void(Status)> callback(size_t slot) {
    ASSERT(slot < statuses_.size());
    pending_.fetch_add(1);
    return [self = shared_from_this(), slot](Status status) {
      self->statuses_[slot] = std::move(status);
      self->arrive();
    };
  }

  // Resumes on the request's shard once every callback has run. Call once.
  asio::awaitable<void> wait() {
    co_await asio::async_initiate<decltype(asio::use_awaitable), void()>(
        [this](auto handler) {
          auto shared = std::make_shared<decltype(handler)>(std::move(handler));
          done_ = [shared] { (*shared)(); };
          arrive();  // drops the request's own guard
        },
        asio::use_awaitable);
  }

  const Status& status(size_t slot) const {
    ASSERT(slot < statuses_.size());
    return statuses_[slot];
  }

 private:
  void arrive() {
    if (pending_.fetch_sub(1) != 1) return;
    asio::post(executor_, [self = shared_from_this()] {
      std::function<void()> done = std::move(self->done_);  // no cycle through the handler
      done();
    });
  }

  asio::any_io_executor executor_;
  std::vector<Status> statuses_;     // slot i written only by its callback, read after wait()
  std::atomic<int64_t> pending_{1};  // callbacks outstanding + the request's guard
  std::function<void()> done_;       // set by wait() before the guard is dropped
};

}  // namespace cairn::broker
