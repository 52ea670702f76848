#include "workload.h"

#include <yaml-cpp/yaml.h>

#include <charconv>
#include <cmath>
#include <fstream>
#include <sstream>

namespace cairn::bench {
namespace {

constexpr uint32_t kMessageBytesMin = 16;  // the harness stamps a 16-byte header
constexpr uint32_t kMessageBytesMax = 1024 * 1024;
constexpr uint32_t kPartitionCountMax = 10000;
constexpr uint32_t kRunCountMax = 20;
constexpr double kDurationSecondsMax = 3600;
constexpr uint64_t kBacklogBytesMax = uint64_t{64} << 30;
constexpr uint32_t kCommitIntervalMsMax = 60000;  // librdkafka's transaction.timeout.ms default

Status invalid(std::string message) {
  return error(StatusCode::invalid_argument, std::move(message));
}

// yaml-cpp reports bad conversions with exceptions; this is set-up code, not the data path,
// so they are caught here and turned into a Status naming the key.
template <typename T>
Result<T> scalar(const YAML::Node& node, const std::string& key) {
  try {
    if (!node.IsScalar()) return invalid("workload: '" + key + "' must be a scalar");
    return node.as<T>();
  } catch (const YAML::Exception& e) {
    return invalid("workload: '" + key + "': " + e.what());
  }
}

Result<uint64_t> byte_size(const YAML::Node& node, const std::string& key) {
  auto text = scalar<std::string>(node, key);
  if (!text.ok()) return text.status();
  auto bytes = parse_byte_size(*text);
  if (!bytes.ok()) return invalid("workload: '" + key + "': " + bytes.status().message());
  return bytes;
}

Result<double> seconds(const YAML::Node& node, const std::string& key) {
  auto value = scalar<double>(node, key);
  if (!value.ok()) return value;
  if (!(*value >= 0 && *value <= kDurationSecondsMax)) {
    return invalid("workload: '" + key + "' must be within [0, 3600] seconds");
  }
  return value;
}

Result<std::map<std::string, std::string>> string_map(const YAML::Node& node,
                                                      const std::string& key) {
  if (!node.IsMap()) return invalid("workload: '" + key + "' must be a map");
  std::map<std::string, std::string> out;
  for (const auto& item : node) {
    auto name = scalar<std::string>(item.first, key);
    auto value = scalar<std::string>(item.second, key);
    if (!name.ok()) return name.status();
    if (!value.ok()) return value.status();
    out[*name] = *value;
  }
  return out;
}

Status apply_kind(const std::string& text, Workload& w) {
  if (text == "max_rate_produce")
    w.kind = WorkloadKind::max_rate_produce;
  else if (text == "fixed_rate_latency")
    w.kind = WorkloadKind::fixed_rate_latency;
  else if (text == "catch_up")
    w.kind = WorkloadKind::catch_up;
  else if (text == "many_partitions")
    w.kind = WorkloadKind::many_partitions;
  else
    return invalid("workload: unknown kind '" + text + "'");
  return Status();
}

Status apply_enum(const std::string& key, const std::string& text, Workload& w) {
  if (key == "kind") return apply_kind(text, w);
  if (key == "acks") {
    if (text == "all" || text == "-1")
      w.acks = Acks::all;
    else if (text == "1")
      w.acks = Acks::leader;
    else
      return invalid("workload: acks must be 'all' or 1, not '" + text + "'");
    return Status();
  }
  ASSERT(key == "partitioning");
  if (text == "sticky")
    w.partitioning = Partitioning::sticky;
  else if (text == "round_robin")
    w.partitioning = Partitioning::round_robin;
  else
    return invalid("workload: partitioning must be sticky or round_robin");
  return Status();
}

Status apply_systems(const YAML::Node& node, Workload& w) {
  if (!node.IsSequence()) return invalid("workload: 'systems' must be a list");
  w.systems.clear();
  for (const auto& item : node) {
    auto name = scalar<std::string>(item, "systems");
    if (!name.ok()) return name.status();
    if (*name != "cairn" && *name != "peer_default" && *name != "peer_durable") {
      return invalid("workload: unknown system '" + *name + "'");
    }
    w.systems.push_back(*name);
  }
  return Status();
}

template <typename T>
Status bounded_integer(const YAML::Node& node, const std::string& key, T low, T high, T& out) {
  auto value = scalar<int64_t>(node, key);
  if (!value.ok()) return value.status();
  if (*value < static_cast<int64_t>(low) || *value > static_cast<int64_t>(high)) {
    return invalid("workload: '" + key + "' must be within [" + std::to_string(low) + ", " +
                   std::to_string(high) + "]");
  }
  out = static_cast<T>(*value);
  return Status();
}

Status apply_bytes(const YAML::Node& node, const std::string& key, Workload& w) {
  auto bytes = byte_size(node, key);
  if (!bytes.ok()) return bytes.status();
  if (key == "message_bytes") {
    if (*bytes < kMessageBytesMin || *bytes > kMessageBytesMax) {
      return invalid("workload: message_bytes must be within [16, 1 MiB]");
    }
    w.message_bytes = static_cast<uint32_t>(*bytes);
  } else if (key == "rate_bytes_per_second") {
    w.rate_bytes_per_second = *bytes;
  } else {
    ASSERT(key == "backlog_bytes");
    if (*bytes > kBacklogBytesMax) return invalid("workload: backlog_bytes over 64 GiB");
    w.backlog_bytes = *bytes;
  }
  return Status();
}

Status apply_seconds(const YAML::Node& node, const std::string& key, Workload& w) {
  auto value = seconds(node, key);
  if (!value.ok()) return value.status();
  if (key == "duration_seconds")
    w.duration_seconds = *value;
  else if (key == "warmup_seconds")
    w.warmup_seconds = *value;
  else
    w.settle_seconds = *value;
  return Status();
}

Status apply_transactional(const YAML::Node& node, Workload& w) {
  if (!node.IsMap()) return invalid("workload: 'transactional' must be a map");
  TransactionSettings settings;
  for (const auto& item : node) {
    auto key = scalar<std::string>(item.first, "transactional");
    if (!key.ok()) return key.status();
    if (*key != "commit_interval_ms") {
      return invalid("workload: unknown key 'transactional." + *key + "'");
    }
    RETURN_IF_ERROR(bounded_integer(item.second, "transactional.commit_interval_ms", 1u,
                                    kCommitIntervalMsMax, settings.commit_interval_ms));
  }
  w.transactional = settings;
  return Status();
}

Status apply_field(const std::string& key, const YAML::Node& value, Workload& w) {
  if (key == "name" || key == "description" || key == "compare_with") {
    auto text = scalar<std::string>(value, key);
    if (!text.ok()) return text.status();
    (key == "name" ? w.name : key == "description" ? w.description : w.compare_with) = *text;
    return Status();
  }
  if (key == "kind" || key == "acks" || key == "partitioning") {
    auto text = scalar<std::string>(value, key);
    if (!text.ok()) return text.status();
    return apply_enum(key, *text, w);
  }
  if (key == "message_bytes" || key == "rate_bytes_per_second" || key == "backlog_bytes") {
    return apply_bytes(value, key, w);
  }
  if (key == "duration_seconds" || key == "warmup_seconds" || key == "settle_seconds") {
    return apply_seconds(value, key, w);
  }
  if (key == "partitions")
    return bounded_integer(value, key, 1u, kPartitionCountMax, w.partition_count);
  if (key == "runs") return bounded_integer(value, key, 1u, kRunCountMax, w.run_count);
  if (key == "in_flight_max") return bounded_integer(value, key, 1u, 1u << 20, w.in_flight_max);
  if (key == "systems") return apply_systems(value, w);
  if (key == "kafka_producer" || key == "kafka_consumer") {
    auto map = string_map(value, key);
    if (!map.ok()) return map.status();
    (key == "kafka_producer" ? w.kafka_producer : w.kafka_consumer) = std::move(*map);
    return Status();
  }
  if (key == "transactional") return apply_transactional(value, w);
  return invalid("workload: unknown key '" + key + "'");
}

Status apply_fields(const YAML::Node& node, Workload& w, bool top_level) {
  if (!node.IsMap()) return invalid("workload: expected a map of fields");
  for (const auto& item : node) {
    auto key = scalar<std::string>(item.first, "key");
    if (!key.ok()) return key.status();
    if (top_level && *key == "quick") {
      if (!item.second.IsMap()) return invalid("workload: 'quick' must be a map");
      continue;
    }
    RETURN_IF_ERROR(apply_field(*key, item.second, w));
  }
  return Status();
}

Status validate(const Workload& w) {
  if (w.name.empty()) return invalid("workload: 'name' is required");
  if (w.compare_with == w.name)
    return invalid("workload: 'compare_with' names the workload itself");
  const bool needs_rate =
      w.kind == WorkloadKind::fixed_rate_latency || w.kind == WorkloadKind::many_partitions;
  if (needs_rate && w.rate_bytes_per_second == 0) {
    return invalid("workload: kind " + std::string(workload_kind_name(w.kind)) +
                   " needs rate_bytes_per_second > 0");
  }
  if (w.kind == WorkloadKind::catch_up && w.backlog_bytes < w.message_bytes) {
    return invalid("workload: catch_up needs backlog_bytes >= message_bytes");
  }
  if (w.kind != WorkloadKind::catch_up && w.duration_seconds <= 0) {
    return invalid("workload: duration_seconds must be > 0");
  }
  if (w.systems.empty()) return invalid("workload: 'systems' must name at least one variant");
  if (w.transactional) {
    if (w.kind != WorkloadKind::max_rate_produce && w.kind != WorkloadKind::catch_up) {
      return invalid("workload: 'transactional' needs kind max_rate_produce or catch_up");
    }
    // Transactions are Kafka's; NATS and Redis have nothing to compare.
    if (w.systems != std::vector<std::string>{"cairn"}) {
      return invalid("workload: a transactional workload runs on systems: [cairn] only");
    }
    if (w.acks != Acks::all) return invalid("workload: transactions need acks: all");
  }
  return Status();
}

}  // namespace

const char* workload_kind_name(WorkloadKind kind) {
  switch (kind) {
    case WorkloadKind::max_rate_produce:
      return "max_rate_produce";
    case WorkloadKind::fixed_rate_latency:
      return "fixed_rate_latency";
    case WorkloadKind::catch_up:
      return "catch_up";
    case WorkloadKind::many_partitions:
      return "many_partitions";
  }
  return "unknown";
}

Result<uint64_t> parse_byte_size(std::string_view text) {
  uint64_t number = 0;
  const char* begin = text.data();
  const char* end = text.data() + text.size();
  auto [rest, ec] = std::from_chars(begin, end, number);
  if (ec != std::errc() || rest == begin) return invalid("not a size: '" + std::string(text) + "'");
  std::string_view unit(rest, static_cast<size_t>(end - rest));
  while (!unit.empty() && unit.front() == ' ') unit.remove_prefix(1);
  struct Unit {
    std::string_view name;
    uint64_t factor;
  };
  static constexpr Unit kUnits[] = {
      {"", 1},
      {"B", 1},
      {"KiB", 1ull << 10},
      {"MiB", 1ull << 20},
      {"GiB", 1ull << 30},
      {"KB", 1000},
      {"MB", 1000 * 1000},
      {"GB", 1000ull * 1000 * 1000},
  };
  for (const Unit& u : kUnits) {
    if (unit != u.name) continue;
    if (number > UINT64_MAX / u.factor)
      return invalid("size overflows: '" + std::string(text) + "'");
    return number * u.factor;
  }
  return invalid("unknown size unit in '" + std::string(text) + "' (B, KiB, MiB, GiB, KB, MB, GB)");
}

Result<Workload> parse_workload(std::string_view yaml_text, bool quick) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml_text));
  } catch (const YAML::Exception& e) {
    return invalid(std::string("workload: YAML: ") + e.what());
  }
  Workload w;
  RETURN_IF_ERROR(apply_fields(root, w, /*top_level=*/true));
  if (quick && root["quick"]) RETURN_IF_ERROR(apply_fields(root["quick"], w, false));
  RETURN_IF_ERROR(validate(w));
  return w;
}

Result<Workload> load_workload_file(const std::string& path, bool quick) {
  std::ifstream in(path);
  if (!in) return error(StatusCode::not_found, "workload: cannot open " + path);
  std::stringstream text;
  text << in.rdbuf();
  auto w = parse_workload(text.str(), quick);
  if (!w.ok()) return error(w.status().code(), path + ": " + w.status().message());
  return w;
}

}  // namespace cairn::bench
