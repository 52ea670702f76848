// POST /v1/groups/{group}/reset-offsets (admin_api.h): moves an inactive group's committed
// offsets to the earliest or latest offset, the first offset at or after a timestamp, or a
// given offset (clamped to the log, as kafka-consumer-groups.sh --reset-offsets does). The
// plan is computed first and returned as it is with "dry_run": true; otherwise it is
// committed through the OffsetCommit handler as an admin commit (generation -1, no member),
// which the coordinator only accepts for a group without members — the same rule Kafka's tools
// meet, checked here first so the answer can say why (409).
#include <algorithm>
#include <set>

#include "broker/admin/admin_api.h"
#include "broker/admin/answers.h"
#include "broker/admin/group_view.h"
#include "broker/admin/kafka_call.h"
#include "protocol/generated/list_offsets.h"
#include "protocol/generated/offset_commit.h"

namespace cairn::broker::admin {
namespace {

using nlohmann::json;

constexpr int16_t kListOffsetsVersion = 7;
constexpr int16_t kOffsetCommitVersion = 8;
constexpr size_t kTargetTopicsMax = 10'000;

enum class ResetTo : uint8_t { earliest, latest, timestamp, offset };

struct ResetSpec {
  ResetTo to = ResetTo::earliest;
  int64_t value = 0;  // the timestamp (ms) or the offset
  bool dry_run = false;
  std::optional<json> topics;  // the body's "topics", if given
};

Result<ResetSpec> parse_spec(const json& input) {
  ResetSpec spec;
  std::string to =
      input.contains("to") && input["to"].is_string() ? input["to"].get<std::string>() : "";
  const char* value_key = nullptr;
  if (to == "earliest") {
    spec.to = ResetTo::earliest;
  } else if (to == "latest") {
    spec.to = ResetTo::latest;
  } else if (to == "timestamp") {
    spec.to = ResetTo::timestamp;
    value_key = "timestamp_ms";
  } else if (to == "offset") {
    spec.to = ResetTo::offset;
    value_key = "offset";
  } else {
    return error(StatusCode::invalid_argument,
                 "\"to\" must be \"earliest\", \"latest\", \"timestamp\" or \"offset\"");
  }
  if (value_key != nullptr) {
    if (!input.contains(value_key) || !input[value_key].is_number_integer() ||
        input[value_key].get<int64_t>() < 0) {
      return error(StatusCode::invalid_argument,
                   std::string("\"") + value_key + "\" (an integer >= 0) is required");
    }
    spec.value = input[value_key].get<int64_t>();
  }
  Result<bool> dry_run = optional_flag(input, "dry_run");
  if (!dry_run.ok()) return dry_run.status();
  spec.dry_run = *dry_run;
  if (input.contains("topics")) spec.topics = input["topics"];
  return spec;
}

// The partitions to reset: each listed topic's (all its partitions, or the listed ones), or
// else every partition the group has committed an offset for (of topics that still exist).
Result<std::vector<PartitionKey>> target_partitions(
    const ResetSpec& spec, const GroupView& view,
    const std::map<PartitionKey, PartitionSample>& samples, const TopicTable& topics) {
  std::vector<PartitionKey> targets;
  if (!spec.topics) {
    for (const groups::FetchedOffset& fetched : view.offsets.offsets) {
      PartitionKey key{fetched.key.topic, fetched.key.partition.value()};
      if (fetched.committed && samples.contains(key)) targets.push_back(key);
    }
    return targets;
  }
  if (!spec.topics->is_array() || spec.topics->size() > kTargetTopicsMax) {
    return error(StatusCode::invalid_argument, "\"topics\" must be an array");
  }
  std::set<std::string> whole_topics;
  for (const json& entry : *spec.topics) {
    bool named = entry.is_string();
    bool detailed = entry.is_object() && entry.contains("topic") && entry["topic"].is_string();
    if (!named && !detailed) {
      return error(StatusCode::invalid_argument,
                   "each of \"topics\" is a name or {\"topic\": name, \"partitions\": [...]}");
    }
    std::string name = named ? entry.get<std::string>() : entry["topic"].get<std::string>();
    const TopicInfo* topic = topics.find(name);
    if (topic == nullptr) return error(StatusCode::not_found, "no topic '" + name + "'");
    if (named || !entry.contains("partitions")) {
      // Each whole topic once: a list naming a big topic many times must not multiply it.
      if (!whole_topics.insert(name).second) continue;
      for (int32_t p = 0; p < topic->partition_count; p++) targets.emplace_back(name, p);
      continue;
    }
    const json& partitions = entry["partitions"];
    if (!partitions.is_array()) {
      return error(StatusCode::invalid_argument, "\"partitions\" must be an array");
    }
    for (const json& partition : partitions) {
      if (!partition.is_number_integer() || partition.get<int64_t>() < 0 ||
          partition.get<int64_t>() >= topic->partition_count) {
        return error(StatusCode::not_found, "topic '" + name + "' has no such partition");
      }
      targets.emplace_back(name, partition.get<int32_t>());
    }
  }
  std::sort(targets.begin(), targets.end());
  targets.erase(std::unique(targets.begin(), targets.end()), targets.end());
  return targets;
}

// For a timestamp reset: the first offset at or after `timestamp_ms` of each target, by
// ListOffsets (the time index); the log end offset where no record is that recent.
Result<std::map<PartitionKey, int64_t>> offsets_for_time(const BrokerState& state,
                                                         const AdminOptions& options,
                                                         const std::vector<PartitionKey>& targets,
                                                         int64_t timestamp_ms, Answer& failure) {
  protocol::ListOffsetsRequest request;
  request.replica_id = -1;
  std::map<std::string, std::vector<int32_t>> by_topic;
  for (const auto& [topic, partition] : targets) by_topic[topic].push_back(partition);
  for (const auto& [topic, partitions] : by_topic) {
    protocol::ListOffsetsRequest::ListOffsetsTopic entry;
    entry.name = topic;
    for (int32_t partition : partitions) {
      protocol::ListOffsetsRequest::ListOffsetsPartition p;
      p.partition_index = partition;
      p.timestamp = timestamp_ms;
      entry.partitions.push_back(p);
    }
    request.topics.push_back(std::move(entry));
  }
  auto response = kafka_call<protocol::ListOffsetsResponse>(state, request, kListOffsetsVersion,
                                                            options.timeout);
  if (!response.ok()) {
    failure = status_answer(response.status());
    return response.status();
  }
  std::map<PartitionKey, int64_t> found;
  for (const auto& topic : response->topics) {
    for (const auto& partition : topic.partitions) {
      if (partition.error_code != 0) {
        failure = kafka_error_answer(partition.error_code, std::nullopt);
        return error(StatusCode::invalid_argument, "refused");
      }
      found[{topic.name, partition.partition_index}] = partition.offset;
    }
  }
  return found;
}

struct PlanRow {
  PartitionKey key;
  std::optional<int64_t> current;
  int64_t target = 0;
  int64_t start = 0;
  int64_t end = 0;
};

std::optional<std::vector<PlanRow>> make_plan(
    const BrokerState& state, const AdminOptions& options, const ResetSpec& spec,
    const GroupView& view, const std::vector<PartitionKey>& targets,
    const std::map<PartitionKey, PartitionSample>& samples, Answer& failure) {
  std::map<PartitionKey, int64_t> by_time;
  if (spec.to == ResetTo::timestamp) {
    auto found = offsets_for_time(state, options, targets, spec.value, failure);
    if (!found.ok()) return std::nullopt;
    by_time = std::move(found).value();
  }
  std::map<PartitionKey, int64_t> committed;
  for (const groups::FetchedOffset& fetched : view.offsets.offsets) {
    if (fetched.committed) {
      committed[{fetched.key.topic, fetched.key.partition.value()}] =
          fetched.committed->offset.value();
    }
  }
  std::vector<PlanRow> plan;
  for (const PartitionKey& key : targets) {
    auto sample = samples.find(key);
    if (sample == samples.end()) {
      failure = error_answer(503, key.first + "-" + std::to_string(key.second) + " is not open");
      return std::nullopt;
    }
    PlanRow row{key, std::nullopt, 0, sample->second.log_start_offset.value(),
                sample->second.high_watermark.value()};
    if (auto c = committed.find(key); c != committed.end()) row.current = c->second;
    switch (spec.to) {
      case ResetTo::earliest:
        row.target = row.start;
        break;
      case ResetTo::latest:
        row.target = row.end;
        break;
      case ResetTo::offset:
        row.target = std::clamp(spec.value, row.start, row.end);
        break;
      case ResetTo::timestamp: {
        auto offset = by_time.find(key);
        row.target = offset == by_time.end() || offset->second < 0 ? row.end : offset->second;
        break;
      }
    }
    plan.push_back(row);
  }
  return plan;
}

// Commits the plan as an admin commit; the first partition's refusal, if any, as an answer.
std::optional<Answer> commit_plan(const BrokerState& state, const AdminOptions& options,
                                  const std::string& group, const std::vector<PlanRow>& plan) {
  protocol::OffsetCommitRequest request;
  request.group_id = group;
  request.generation_id_or_member_epoch = -1;
  std::map<std::string, std::vector<const PlanRow*>> by_topic;
  for (const PlanRow& row : plan) by_topic[row.key.first].push_back(&row);
  for (const auto& [topic, rows] : by_topic) {
    protocol::OffsetCommitRequest::OffsetCommitRequestTopic entry;
    entry.name = topic;
    for (const PlanRow* row : rows) {
      protocol::OffsetCommitRequest::OffsetCommitRequestPartition p;
      p.partition_index = row->key.second;
      p.committed_offset = row->target;
      entry.partitions.push_back(std::move(p));
    }
    request.topics.push_back(std::move(entry));
  }
  auto response = kafka_call<protocol::OffsetCommitResponse>(state, request, kOffsetCommitVersion,
                                                             options.timeout);
  if (!response.ok()) return status_answer(response.status());
  for (const auto& topic : response->topics) {
    for (const auto& partition : topic.partitions) {
      if (partition.error_code != 0) return kafka_error_answer(partition.error_code, std::nullopt);
    }
  }
  return std::nullopt;
}

json plan_json(const std::vector<PlanRow>& plan) {
  json rows = json::array();
  for (const PlanRow& row : plan) {
    rows.push_back({{"topic", row.key.first},
                    {"partition", row.key.second},
                    {"current_offset", row.current ? json(*row.current) : json()},
                    {"target_offset", row.target},
                    {"log_start_offset", row.start},
                    {"log_end_offset", row.end}});
  }
  return rows;
}

}  // namespace

Answer reset_group_offsets(const BrokerState& state, const AdminOptions& options,
                           const std::string& group, const std::string& body) {
  Result<json> parsed = parse_object(body);
  if (!parsed.ok()) return error_answer(400, parsed.status().message());
  Result<ResetSpec> spec = parse_spec(*parsed);
  if (!spec.ok()) return error_answer(400, spec.status().message());
  Answer failure;
  std::optional<GroupView> view = view_group(state, group, options.timeout, failure);
  if (!view) return failure;
  if (!view->summary.members.empty()) {
    return error_answer(409, "group '" + group + "' has " +
                                 std::to_string(view->summary.members.size()) +
                                 " active members (state " + view->summary.state +
                                 "); offsets can only be reset while it has none");
  }
  auto samples = gather_partitions(state, options.timeout);
  if (!samples) return error_answer(504, "a shard did not answer in time");
  std::shared_ptr<const TopicTable> topics = state.topics->snapshot();
  Result<std::vector<PartitionKey>> targets = target_partitions(*spec, *view, *samples, *topics);
  if (!targets.ok()) {
    int status = targets.status().code() == StatusCode::not_found ? 404 : 400;
    return error_answer(status, targets.status().message());
  }
  if (targets->empty()) {
    return error_answer(400, "nothing to reset: name \"topics\" (the group has no offsets)");
  }
  auto plan = make_plan(state, options, *spec, *view, *targets, *samples, failure);
  if (!plan) return failure;
  if (!spec->dry_run) {
    if (std::optional<Answer> refused = commit_plan(state, options, group, *plan)) return *refused;
  }
  return Answer{200, {{"group_id", group}, {"dry_run", spec->dry_run}, {"plan", plan_json(*plan)}}};
}

}  // namespace cairn::broker::admin
