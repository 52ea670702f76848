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
// executor with fn's result, or with fn's exception rethrown (never on the writer thread, where
// it would end the process). `fn` may capture the coroutine's locals by reference: the
// coroutine stays suspended until fn has returned. Destruction finishes the queued writes.
// Thread safety: run() from any coroutine.
#pragma once

#include <asio.hpp>
#include <exception>
#include <functional>
#include <optional>
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
    struct Outcome {
      std::optional<T> value;
      std::exception_ptr failure;
    };
    Outcome outcome =
        co_await net::await_callback<Outcome>([this, &fn](std::function<void(Outcome)> done) {
          asio::post(pool_, [&fn, done = std::move(done)] {
            Outcome result;
            try {
              result.value.emplace(fn());
            } catch (...) {
              result.failure = std::current_exception();
            }
            done(std::move(result));
          });
        });
    if (outcome.failure) std::rethrow_exception(outcome.failure);
    co_return std::move(*outcome.value);
  }

 private:
  asio::thread_pool pool_{1};
};

}  // namespace cairn::broker
