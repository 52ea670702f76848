#include "broker/handlers/immutable.h"

#include <algorithm>
#include <limits>
#include <map>
#include <vector>

#include "broker/configs/config_defs.h"
#include "broker/partitions/partition_manager.h"
#include "net/await_callback.h"

namespace cairn::broker {

namespace {

constexpr int64_t kForever = std::numeric_limits<int64_t>::max();

// The effective value of topic config `name` for `overrides`.
std::string effective(const configs::Layers& layers, const configs::ConfigMap& overrides,
                      std::string_view name) {
  const configs::ConfigDef* def = configs::find_topic_config(name);
  ASSERT(def != nullptr);
  return configs::resolve_topic_config(layers, overrides, *def).value.value_or("");
}

// A retention limit where -1 (none) is the largest.
int64_t limit_of(const std::string& text) {
  int64_t value = std::strtoll(text.c_str(), nullptr, 10);
  return value < 0 ? kForever : value;
}

// The newest record time of `partitions` of `topic` on this shard (-1: no records).
asio::awaitable<int64_t> newest_on_shard(const BrokerState* broker, std::string topic,
                                         std::vector<int32_t> partitions) {
  int64_t newest = -1;
  for (int32_t index : partitions) {
    std::shared_ptr<Partition> partition = broker->partitions->find(topic, PartitionId(index));
    if (partition == nullptr || !partition->usable()) continue;
    const storage::Log& log = *partition->log;
    if (log.log_start_offset() >= log.log_end_offset()) continue;
    for (const storage::SegmentTime& segment : log.segment_times()) {
      newest = std::max(newest, segment.newest_ms);
    }
  }
  co_return newest;
}

}  // namespace

bool is_immutable(const configs::ConfigMap& overrides) {
  auto it = overrides.find(kImmutableConfig);
  return it != overrides.end() && it->second == "true";
}

asio::awaitable<std::optional<int64_t>> immutable_lock_until(const BrokerState* broker,
                                                             TopicInfo topic) {
  std::map<net::ShardId, std::vector<int32_t>> by_shard;
  for (int32_t p = 0; p < topic.partition_count; ++p) {
    by_shard[broker->shard_of(topic.name, PartitionId(p))].push_back(p);
  }
  std::vector<asio::awaitable<int64_t>> hops;
  for (auto& [shard, list] : by_shard) {
    hops.push_back(broker->shards->run_on(shard, newest_on_shard(broker, topic.name, list)));
  }
  std::vector<int64_t> newest = co_await net::await_all(std::move(hops));
  int64_t latest = newest.empty() ? -1 : *std::max_element(newest.begin(), newest.end());
  if (latest < 0) co_return std::nullopt;
  int64_t retention =
      limit_of(effective(configs::layers_of(*broker), topic.configs, "retention.ms"));
  if (retention == kForever || latest > kForever - retention) co_return kForever;
  co_return latest + retention;
}

bool still_locked(const BrokerState& broker, const std::optional<int64_t>& until) {
  return until.has_value() && *until > broker.partitions->clock().now_ms();
}

std::string check_immutable_change(const configs::Layers& layers, const configs::ConfigMap& current,
                                   configs::ConfigMap& next, bool locked) {
  const bool was = is_immutable(current);
  const bool will = is_immutable(next);
  if (!was && !will) return "";
  if (was && locked) {
    if (!will) {
      return "cairn.immutable cannot be unset while the topic holds records within its "
             "retention";
    }
    for (std::string_view name : {"retention.ms", "retention.bytes"}) {
      if (limit_of(effective(layers, next, name)) < limit_of(effective(layers, current, name))) {
        return std::string(name) +
               " of an immutable topic may be raised, not lowered, while "
               "it holds records within its retention";
      }
    }
  }
  if (!will) return "";
  if (effective(layers, next, "cleanup.policy") != "delete") {
    return "an immutable topic keeps cleanup.policy=delete (compaction would remove records)";
  }
  for (std::string_view name : {"retention.ms", "retention.bytes"}) {
    if (!next.contains(name)) next.emplace(std::string(name), effective(layers, next, name));
  }
  return "";
}

}  // namespace cairn::broker
