// Registry: the collectors behind one /metrics endpoint. A collector writes whole families
// into an Exposition at scrape time, reading the lock-free instruments of cells.h (or asking
// the shards, or /proc): the hot path never sees the registry.
//
// Thread safety: add/remove/scrape from any thread; scrape runs the collectors one after
// another on the calling thread (the HTTP thread), in the order they were added, under the
// registry's mutex, so remove() returns only once no scrape is running that collector.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "metrics/exposition.h"

namespace cairn::metrics {

class Registry {
 public:
  using Collector = std::function<void(Exposition&)>;
  using CollectorId = uint64_t;

  CollectorId add(Collector collector);
  // Idempotent.
  void remove(CollectorId id);
  // The exposition text of every collector.
  std::string scrape() const;

 private:
  mutable std::mutex mu_;
  std::vector<std::pair<CollectorId, Collector>> collectors_;  // guarded by mu_
  CollectorId next_id_ = 1;                                    // guarded by mu_
};

}  // namespace cairn::metrics
