// Awaitable wrappers for the callback-style durability calls of storage::Log, over the one
// bridge net::await_callback: they suspend the calling coroutine and resume it on its own
// shard (the Log calls back on a flusher thread, or inline when already durable) with the
// Status. Every wait for a log's durability in the broker goes through these two (or, for
// one request spanning shards, DurabilityBarrier).
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
#include "net/await_callback.h"
#include "storage/log.h"

namespace cairn::broker {

// Resumes once every offset <= `offset` is durable (ok), or with the log's error.
inline asio::awaitable<Status> await_durable(storage::Log& log, Offset offset) {
  return net::await_callback<Status>([&log, offset](storage::Log::Callback callback) {
    log.wait_durable(offset, std::move(callback));
  });
}

// Resumes once everything done to the log before the call is durable.
inline asio::awaitable<Status> await_flushed(storage::Log& log) {
  return net::await_callback<Status>(
      [&log](storage::Log::Callback callback) { log.wait_flushed(std::move(callback)); });
}

}  // namespace cairn::broker
