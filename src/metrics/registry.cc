#include "metrics/registry.h"

#include <algorithm>

namespace cairn::metrics {

Registry::CollectorId Registry::add(Collector collector) {
  std::lock_guard lock(mu_);
  CollectorId id = next_id_++;
  collectors_.emplace_back(id, std::move(collector));
  return id;
}

void Registry::remove(CollectorId id) {
  std::lock_guard lock(mu_);
  std::erase_if(collectors_, [id](const auto& entry) { return entry.first == id; });
}

std::string Registry::scrape() const {
  Exposition out;
  std::lock_guard lock(mu_);
  for (const auto& [id, collector] : collectors_) collector(out);
  return std::move(out).text();
}

}  // namespace cairn::metrics
