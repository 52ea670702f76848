// StartupProgress: how far the broker's start has come, for GET /v1/status/ready. The Server
// marks each step as it finishes; the HTTP thread asks readiness() at any time, from before
// Server::start begins (the admin server is up first, so a slow recovery answers 503 instead
// of refusing connections) until after the broker stopped.
//
// Ready means: the Kafka listener is bound, every partition's log is open (recovered), and
// every shard has replayed its __consumer_offsets partitions (groups loaded). Stopping
// (SIGTERM) makes it not ready again, so a load balancer drains the broker first.
//
// Thread safety: every method, from any thread (atomics).
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

namespace cairn::broker {

class StartupProgress {
 public:
  void listener_bound() { listener_bound_.store(true); }
  void storage_recovered() { storage_recovered_.store(true); }
  // The number of shards whose groups must load. Before the shards start.
  void expect_group_shards(uint32_t count) { group_shards_expected_.store(count); }
  // A shard replayed all its __consumer_offsets partitions without error.
  void group_shard_loaded() { group_shards_loaded_.fetch_add(1); }
  void stopping() { stopping_.store(true); }

  struct Readiness {
    bool ready = false;
    std::string reason;  // why not ready ("" when ready)
  };
  Readiness readiness() const {
    if (stopping_.load()) return {false, "shutting down"};
    if (!listener_bound_.load()) return {false, "kafka listener not bound yet"};
    if (!storage_recovered_.load()) return {false, "recovering the partitions' logs"};
    uint32_t expected = group_shards_expected_.load();
    uint32_t loaded = group_shards_loaded_.load();
    if (expected == 0 || loaded < expected) {
      return {false, "loading consumer groups (" + std::to_string(loaded) + " of " +
                         std::to_string(expected) + " shards)"};
    }
    return {true, ""};
  }

 private:
  std::atomic<bool> listener_bound_{false};
  std::atomic<bool> storage_recovered_{false};
  std::atomic<uint32_t> group_shards_expected_{0};
  std::atomic<uint32_t> group_shards_loaded_{0};
  std::atomic<bool> stopping_{false};
};

}  // namespace cairn::broker
