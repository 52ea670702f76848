// MetaWriter: the one thread on which the broker writes its metadata — the topic registry
// (meta/topics.json), dynamic configs, producer-id blocks, and partition directories being
// created or deleted. Each of those ends in an fsync; run on a shard loop it would stall every
// produce and fetch of that shard for as long as the disk takes. A handler hands the whole
// read-modify-write to the writer and waits without blocking its shard:
//
//   Result<TopicInfo> t = co_await broker->meta_writer->run(
//       [&] { return broker->topics->set_partition_count(name, count); });
//
// `fn` runs on the writer thread, after every write queued before it (one thread: writes never
// interleave, so a read-modify-write needs no further lock); the coroutine resumes on its own
// executor with fn's result. `fn` may capture the coroutine's locals by reference: the
// coroutine stays suspended until fn has returned. Destruction finishes the queued writes.
// Thread safety: run() from any coroutine.
#pragma once

#include <asio.hpp>
#include <functional>
#include <type_traits>
#include <utility>

#include "net/await_callback.h"

namespace cairn::broker {

class MetaWriter {
 public:
  MetaWriter() = default;
  ~MetaWriter() { pool_.join(); }
  MetaWriter(const MetaWriter&) = delete;
  MetaWriter& operator=(const MetaWriter&) = delete;

  template <typename F>
  asio::awaitable<std::invoke_result_t<F&>> run(F fn) {
    using T = std::invoke_result_t<F&>;
    return net::await_callback<T>([this, fn = std::move(fn)](std::function<void(T)> done) mutable {
      asio::post(pool_, [fn = std::move(fn), done = std::move(done)]() mutable { done(fn()); });
    });
  }

 private:
  asio::thread_pool pool_{1};
};

}  // namespace cairn::broker
