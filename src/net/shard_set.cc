#include "net/shard_set.h"

#include <pthread.h>

#include <string>

#include <spdlog/spdlog.h>

#include "metrics/cells.h"

namespace cairn::net {
namespace {
thread_local std::optional<ShardId> t_current_shard;
}  // namespace

ShardSet::ShardSet(uint32_t shard_count) {
  ASSERT(shard_count >= 1);
  for (uint32_t i = 0; i < shard_count; i++) shards_.push_back(std::make_unique<Shard>());
}

ShardSet::~ShardSet() {
  for (const auto& shard : shards_) ASSERT(!shard->thread.joinable());
  for (const auto& shard : shards_) shard->work.reset();
  for (const auto& shard : shards_) shard->context.shutdown();
}

void ShardSet::start() {
  ASSERT(!started_);
  started_ = true;
  running_count_ = count();
  for (uint32_t i = 0; i < shards_.size(); i++) {
    Shard& shard = *shards_[i];
    shard.work.emplace(shard.context.get_executor());
    shard.thread = std::thread([this, &shard, i] {
      std::string name = "shard-" + std::to_string(i);
      pthread_setname_np(pthread_self(), name.c_str());
      t_current_shard = ShardId(i);
      metrics::bind_thread_slot(i);  // each shard updates its own metric cells
      shard.context.run();
      t_current_shard.reset();
      std::lock_guard lock(running_mutex_);
      running_count_--;
      running_changed_.notify_all();
    });
  }
}

void ShardSet::request_stop() {
  for (const auto& shard : shards_) {
    // Reset the guard on the shard itself: the guard is not thread-safe to touch elsewhere
    // while the shard may be reading it.
    asio::post(shard->context, [s = shard.get()] { s->work.reset(); });
  }
}

void ShardSet::stop_now() {
  for (const auto& shard : shards_) shard->context.stop();
}

bool ShardSet::wait_stopped(std::chrono::milliseconds timeout) {
  std::unique_lock lock(running_mutex_);
  return running_changed_.wait_for(lock, timeout, [this] { return running_count_ == 0; });
}

void ShardSet::join() {
  for (const auto& shard : shards_) {
    if (shard->thread.joinable()) shard->thread.join();
  }
}

std::optional<ShardId> ShardSet::current() { return t_current_shard; }

}  // namespace cairn::net
