// The admin API's consumer groups (admin_api.h): the list from every shard's GroupManager,
// one group through the coordinator's DescribeGroups and OffsetFetch paths on its shard,
// with the lag computed from the partitions' high watermarks (never by reading a log).
#include <algorithm>

#include "broker/admin/admin_api.h"
#include "broker/admin/answers.h"
#include "broker/admin/group_view.h"
#include "broker/groups/consumer_protocol.h"
#include "broker/groups/shard_coordinator.h"
#include "broker/partitions/lag_times.h"
#include "net/shard_call.h"
#include "protocol/reader.h"

namespace cairn::broker::admin {
namespace {

using nlohmann::json;

constexpr size_t kAssignmentTopicsMax = 100'000;

struct GroupRow {
  std::string group_id;
  std::string state;
  std::string type;
  std::string protocol_type;
  size_t member_count = 0;
  size_t committed_partition_count = 0;
};

// The calling shard's groups. REQUIRES: on a shard thread.
std::vector<GroupRow> local_groups(const groups::GroupCoordinator& coordinator) {
  std::vector<GroupRow> rows;
  coordinator.local().manager().for_each_group([&rows](const groups::Group& group) {
    GroupRow row;
    row.group_id = group.group_id;
    if (group.is_consumer_protocol()) {
      row.state = group.consumer->state_name();
      row.type = "consumer";
      row.protocol_type = std::string(groups::kConsumerProtocolType);
      row.member_count = group.consumer->members().size();
    } else {
      row.state = groups::group_state_name(group.state);
      row.type = "classic";
      row.protocol_type = group.protocol_type;
      row.member_count = group.members.size();
    }
    row.committed_partition_count = group.offsets.size();
    rows.push_back(std::move(row));
  });
  return rows;
}

struct ShardGroupView {
  bool exists = false;
  bool consumer_protocol = false;
  groups::GroupSummary summary;
  groups::FetchResult offsets;
};

// On the group's shard: its summary and committed offsets at one moment (no suspension point
// between the existence check and the two reads that could let the group change).
asio::awaitable<ShardGroupView> view_on_shard(const groups::GroupCoordinator* coordinator,
                                              std::string group_id) {
  ShardGroupView view;
  const groups::Group* group = coordinator->local().manager().find_group(group_id);
  view.exists = group != nullptr;
  view.consumer_protocol = group != nullptr && group->is_consumer_protocol();
  view.summary = co_await groups::describe_group(coordinator, group_id);
  view.offsets = co_await groups::fetch_offsets(coordinator, group_id, std::nullopt);
  co_return view;
}

json members_json(const GroupView& view, std::map<PartitionKey, std::string>& owners) {
  json members = json::array();
  for (const groups::MemberSummary& member : view.summary.members) {
    json assignment = json::array();
    if (view.summary.protocol_type == groups::kConsumerProtocolType) {
      auto parsed = parse_assignment(member.assignment);
      for (const auto& [topic, partitions] : parsed.value_or(decltype(parsed)::value_type{})) {
        for (int32_t partition : partitions) owners[{topic, partition}] = member.member_id;
        assignment.push_back({{"topic", topic}, {"partitions", partitions}});
      }
    }
    members.push_back(
        {{"member_id", member.member_id},
         {"group_instance_id",
          member.group_instance_id.has_value() ? json(*member.group_instance_id) : json()},
         {"client_id", member.client_id},
         {"client_host", member.client_host},
         {"assignment", std::move(assignment)}});
  }
  return members;
}

// Committed offsets with each partition's offsets and the lag in records (high watermark minus
// committed offset, never below 0; null for a partition that no longer exists).
json offsets_json(const GroupView& view, const std::map<PartitionKey, PartitionSample>& samples,
                  const std::map<PartitionKey, std::string>& owners, int64_t& lag_sum) {
  json offsets = json::array();
  for (const groups::FetchedOffset& fetched : view.offsets.offsets) {
    if (!fetched.committed.has_value()) continue;
    PartitionKey key{fetched.key.topic, fetched.key.partition.value()};
    int64_t committed = fetched.committed->offset.value();
    json row = {{"topic", key.first},
                {"partition", key.second},
                {"committed_offset", committed},
                {"metadata", fetched.committed->metadata},
                {"commit_timestamp_ms", fetched.committed->commit_timestamp_ms}};
    auto sample = samples.find(key);
    if (sample != samples.end()) {
      int64_t end = sample->second.high_watermark.value();
      int64_t lag = std::max<int64_t>(0, end - committed);
      lag_sum += lag;
      row["log_start_offset"] = sample->second.log_start_offset.value();
      row["log_end_offset"] = end;
      row["lag"] = lag;
    } else {
      row["log_start_offset"] = nullptr;
      row["log_end_offset"] = nullptr;
      row["lag"] = nullptr;
    }
    auto owner = owners.find(key);
    row["member_id"] = owner != owners.end() ? json(owner->second) : json();
    offsets.push_back(std::move(row));
  }
  return offsets;
}

// Fills each offset row's "lag_seconds" (lag_times.h; null for a partition that is gone) and
// returns the largest; false when a shard did not answer in time.
bool add_lag_seconds(const BrokerState& state, std::chrono::milliseconds timeout, json& offsets,
                     double& lag_seconds_max) {
  std::vector<LagQuery> queries;
  std::vector<json*> rows;
  for (json& row : offsets) {
    row["lag_seconds"] = nullptr;
    if (row["log_end_offset"].is_null()) continue;
    rows.push_back(&row);
    queries.push_back(LagQuery{row["topic"].get<std::string>(),
                               PartitionId(row["partition"].get<int32_t>()),
                               Offset(row["committed_offset"].get<int64_t>()),
                               Offset(row["log_end_offset"].get<int64_t>())});
  }
  auto seconds = lag_seconds(*state.partitions, *state.shards, queries, timeout);
  if (!seconds) return false;
  lag_seconds_max = 0;
  for (size_t i = 0; i < rows.size(); i++) {
    if (!(*seconds)[i].has_value()) continue;
    (*rows[i])["lag_seconds"] = *(*seconds)[i];
    lag_seconds_max = std::max(lag_seconds_max, *(*seconds)[i]);
  }
  return true;
}

}  // namespace

std::optional<GroupView> view_group(const BrokerState& state, const std::string& group_id,
                                    std::chrono::milliseconds timeout, Answer& failure) {
  const groups::GroupCoordinator* coordinator = state.groups;
  if (coordinator == nullptr) {
    failure = error_answer(503, "the group coordinator is not running");
    return std::nullopt;
  }
  std::optional<ShardGroupView> view = net::run_on_shard<ShardGroupView>(
      *state.shards, coordinator->shard_for(group_id), timeout,
      [coordinator, group_id]() { return view_on_shard(coordinator, group_id); });
  if (!view) {
    failure = error_answer(504, "the group's shard did not answer in time");
    return std::nullopt;
  }
  ErrorCode loading = ErrorCode::coordinator_load_in_progress;
  if (view->summary.error == loading || view->offsets.error == loading) {
    failure = kafka_error_answer(wire(loading), "the group is still being loaded");
    return std::nullopt;
  }
  if (view->summary.error != ErrorCode::none) {
    failure = kafka_error_answer(wire(view->summary.error), std::nullopt);
    return std::nullopt;
  }
  GroupView result;
  result.exists = view->exists;
  result.type = view->consumer_protocol ? "consumer" : "classic";
  result.summary = std::move(view->summary);
  result.offsets = std::move(view->offsets);
  return result;
}

std::optional<std::map<std::string, std::vector<int32_t>>> parse_assignment(
    std::span<const uint8_t> bytes) {
  protocol::Reader reader(bytes);
  std::map<std::string, std::vector<int32_t>> topics;
  if (bytes.empty()) return topics;  // a member without an assignment yet
  int16_t version = reader.read_int16();
  int32_t topic_count = reader.read_int32();
  if (!reader.ok() || version < 0 || topic_count < 0 ||
      static_cast<size_t>(topic_count) > kAssignmentTopicsMax) {
    return std::nullopt;
  }
  for (int32_t t = 0; t < topic_count && reader.ok(); t++) {
    std::string topic = reader.read_string();
    int32_t partition_count = reader.read_int32();
    // Each partition takes 4 bytes: a count above what is left is malformed.
    if (!reader.ok() || partition_count < 0 ||
        static_cast<size_t>(partition_count) > reader.remaining() / 4) {
      return std::nullopt;
    }
    std::vector<int32_t>& partitions = topics[topic];
    for (int32_t p = 0; p < partition_count; p++) partitions.push_back(reader.read_int32());
  }
  if (!reader.ok()) return std::nullopt;
  return topics;
}

Answer list_groups(const BrokerState& state, const AdminOptions& options) {
  const groups::GroupCoordinator* coordinator = state.groups;
  if (coordinator == nullptr) return error_answer(503, "the group coordinator is not running");
  auto per_shard = net::run_on_every_shard<std::vector<GroupRow>>(
      *state.shards, options.timeout, [coordinator] { return local_groups(*coordinator); });
  if (!per_shard) return error_answer(504, "a shard did not answer in time");
  std::vector<GroupRow> rows;
  for (std::vector<GroupRow>& shard_rows : *per_shard) {
    for (GroupRow& row : shard_rows) rows.push_back(std::move(row));
  }
  std::sort(rows.begin(), rows.end(),
            [](const GroupRow& a, const GroupRow& b) { return a.group_id < b.group_id; });
  json list = json::array();
  for (const GroupRow& row : rows) {
    list.push_back({{"group_id", row.group_id},
                    {"state", row.state},
                    {"type", row.type},
                    {"protocol_type", row.protocol_type},
                    {"member_count", row.member_count},
                    {"committed_partition_count", row.committed_partition_count}});
  }
  return Answer{200, {{"groups", std::move(list)}}};
}

Answer describe_group(const BrokerState& state, const AdminOptions& options,
                      const std::string& group) {
  Answer failure;
  std::optional<GroupView> view = view_group(state, group, options.timeout, failure);
  if (!view) return failure;
  if (!view->exists) return error_answer(404, "no group '" + group + "'");
  auto samples = gather_partitions(state, options.timeout);
  if (!samples) return error_answer(504, "a shard did not answer in time");
  std::map<PartitionKey, std::string> owners;
  json members = members_json(*view, owners);
  int64_t lag_sum = 0;
  json offsets = offsets_json(*view, *samples, owners, lag_sum);
  double lag_seconds_max = 0;
  if (!add_lag_seconds(state, options.timeout, offsets, lag_seconds_max)) {
    return error_answer(504, "a shard did not answer in time");
  }
  json lag_alert = nullptr;
  if (const LagTier* tier = lag_tier_for(state.config.lag_alert_tiers, group)) {
    lag_alert = {{"tier", tier->tier},
                 {"threshold_seconds", tier->threshold_seconds},
                 {"breached", lag_seconds_max > tier->threshold_seconds}};
  }
  return Answer{200,
                {{"group_id", group},
                 {"state", view->summary.state},
                 {"type", view->type},
                 {"protocol_type", view->summary.protocol_type},
                 {"protocol", view->summary.protocol_name},
                 {"member_count", view->summary.members.size()},
                 {"members", std::move(members)},
                 {"offsets", std::move(offsets)},
                 {"lag_sum", lag_sum},
                 {"lag_seconds_max", lag_seconds_max},
                 {"lag_alert", std::move(lag_alert)}}};
}

}  // namespace cairn::broker::admin
