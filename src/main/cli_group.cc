// `cairn group list|describe|seek|delete`: consumer groups and their committed offsets.
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <chrono>
#include <map>
#include <memory>
#include <set>

#include "client/admin.h"
#include "client/cluster.h"
#include "client/parse.h"
#include "main/cli_common.h"

namespace cairn::cli {

namespace {

using client::Admin;

Result<std::unique_ptr<Admin>> connect_admin(const ConnectionFlags& flags) {
  auto options = client_options(flags);
  if (!options.ok()) return options.status();
  return Admin::connect(*options);
}

Status run_list(const ConnectionFlags& connection) {
  auto admin = connect_admin(connection);
  if (!admin.ok()) return admin.status();
  auto groups = (*admin)->list_groups();
  if (!groups.ok()) return groups.status();
  std::vector<std::vector<std::string>> rows{{"GROUP", "STATE"}};
  for (const auto& group : *groups) rows.push_back({group.group_id, group.state});
  print_table(rows);
  return Status::ok_status();
}

struct MemberCells {
  std::string member_id = "-";
  std::string client_id = "-";
  std::string host = "-";
};

// Prints one group's summary and per-partition lag table.
Status describe_one(Admin& admin, const client::GroupDescription& group, bool first) {
  auto committed = admin.list_group_offsets(group.group_id);
  if (!committed.ok()) return committed.status();
  std::map<client::TopicPartition, int64_t> offsets;
  for (const auto& tpo : *committed) offsets[{tpo.topic, tpo.partition}] = tpo.offset;
  std::map<client::TopicPartition, MemberCells> owners;
  for (const auto& member : group.members) {
    for (const auto& tp : member.assignment) {
      owners[tp] = {member.member_id, member.client_id, member.host};
      offsets.try_emplace(tp, -1);
    }
  }
  std::vector<std::vector<std::string>> rows{{"TOPIC", "PARTITION", "CURRENT-OFFSET",
                                              "LOG-START-OFFSET", "LOG-END-OFFSET", "LAG",
                                              "MEMBER-ID", "CLIENT-ID", "HOST"}};
  int64_t total_lag = 0;
  Status first_error;
  for (const auto& [tp, offset] : offsets) {
    auto marks = client::query_watermarks(admin.handle(), tp.topic, tp.partition);
    std::string low = "-", high = "-", lag = "-";
    if (marks.ok()) {
      low = std::to_string(marks->low_offset);
      high = std::to_string(marks->high_offset);
      if (offset >= 0) {
        int64_t partition_lag = std::max<int64_t>(0, marks->high_offset - offset);
        total_lag += partition_lag;
        lag = std::to_string(partition_lag);
      }
    } else if (first_error.ok()) {
      first_error = marks.status();
    }
    MemberCells owner = owners.count(tp) ? owners[tp] : MemberCells{};
    rows.push_back({tp.topic, std::to_string(tp.partition),
                    offset >= 0 ? std::to_string(offset) : "-", low, high, lag, owner.member_id,
                    owner.client_id, owner.host});
  }
  if (!first) fmt::print("\n");
  print_table({{"GROUP", group.group_id},
               {"COORDINATOR", std::to_string(group.coordinator_id)},
               {"STATE", group.state},
               {"BALANCER", group.assignor.empty() ? "-" : group.assignor},
               {"MEMBERS", std::to_string(group.members.size())},
               {"TOTAL-LAG", std::to_string(total_lag)}});
  if (rows.size() > 1) {
    fmt::print("\n");
    print_table(rows);
  }
  return first_error;
}

Status run_describe(const ConnectionFlags& connection, const std::vector<std::string>& names) {
  auto admin = connect_admin(connection);
  if (!admin.ok()) return admin.status();
  auto groups = (*admin)->describe_groups(names);
  if (!groups.ok()) return groups.status();
  Status first_error;
  bool first = true;
  for (const auto& group : *groups) {
    Status status = group.status.ok() ? describe_one(**admin, group, first) : group.status;
    first = false;
    if (!status.ok()) {
      fmt::print(stderr, "error: {}\n", status.message());
      if (first_error.ok()) first_error = status;
    }
  }
  if (!first_error.ok()) {
    return error(first_error.code(), "could not describe every group");
  }
  return Status::ok_status();
}

struct SeekFlags {
  ConnectionFlags connection;
  std::string group;
  std::string to;
  std::string topics;
  bool dry_run = false;
};

// The partitions a seek moves: those of --topics, or every partition the group has committed.
Result<std::vector<client::TopicPartition>> seek_partitions(
    Admin& admin, const SeekFlags& flags, const std::vector<client::TopicPartitionOffset>& now) {
  std::vector<client::TopicPartition> partitions;
  if (flags.topics.empty()) {
    for (const auto& tpo : now) partitions.push_back({tpo.topic, tpo.partition});
    if (partitions.empty()) {
      return error(StatusCode::not_found,
                   fmt::format("group '{}' has no committed offsets; name the topics to seek "
                               "with --topics",
                               flags.group));
    }
    return partitions;
  }
  std::string_view rest = flags.topics;
  while (!rest.empty()) {
    size_t comma = rest.find(',');
    std::string topic(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    if (topic.empty()) continue;
    auto metadata = client::describe_topic(admin.handle(), topic);
    if (!metadata.ok()) return metadata.status();
    for (const auto& p : metadata->partitions) partitions.push_back({topic, p.id});
  }
  return partitions;
}

Status run_seek(const SeekFlags& flags) {
  auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count();
  auto spec = client::parse_offset_spec(flags.to, now);
  if (!spec.ok()) return spec.status();
  if (spec->until) return error(StatusCode::invalid_argument, "--to takes one offset, not a range");
  auto admin = connect_admin(flags.connection);
  if (!admin.ok()) return admin.status();
  auto groups = (*admin)->describe_groups({flags.group});
  if (!groups.ok()) return groups.status();
  if (groups->size() != 1) return error(StatusCode::internal, "no description of the group");
  const client::GroupDescription& group = (*groups)[0];
  if (!group.status.ok()) return group.status;
  if (!group.members.empty()) {
    return error(StatusCode::fenced,
                 fmt::format("group '{}' has {} active members (state {}); stop its consumers "
                             "before seeking",
                             flags.group, group.members.size(), group.state));
  }
  auto committed = (*admin)->list_group_offsets(flags.group);
  if (!committed.ok()) return committed.status();
  auto partitions = seek_partitions(**admin, flags, *committed);
  if (!partitions.ok()) return partitions.status();
  std::map<client::TopicPartition, int64_t> prior;
  for (const auto& tpo : *committed) prior[{tpo.topic, tpo.partition}] = tpo.offset;

  std::vector<client::TopicPartitionOffset> targets;
  for (const auto& tp : *partitions) {
    auto marks = client::query_watermarks((*admin)->handle(), tp.topic, tp.partition);
    if (!marks.ok()) return marks.status();
    int64_t time_offset = -1;
    if (spec->from.kind == client::OffsetBound::Kind::timestamp) {
      auto found =
          client::offsets_for_time((*admin)->handle(), tp.topic, {tp.partition}, spec->from.value);
      if (!found.ok()) return found.status();
      time_offset = (*found)[0];
    }
    targets.push_back(
        {tp.topic, tp.partition, client::resolve_offset(spec->from, *marks, time_offset), {}});
  }
  std::vector<client::TopicPartitionOffset> results = targets;
  if (!flags.dry_run) {
    auto altered = (*admin)->alter_group_offsets(flags.group, targets);
    if (!altered.ok()) return altered.status();
    results = *altered;
  }
  std::vector<std::vector<std::string>> rows{
      {"TOPIC", "PARTITION", "PRIOR-OFFSET", "CURRENT-OFFSET", "STATUS"}};
  size_t failed = 0;
  for (const auto& tpo : results) {
    auto it = prior.find({tpo.topic, tpo.partition});
    std::string before = it != prior.end() && it->second >= 0 ? std::to_string(it->second) : "-";
    rows.push_back({tpo.topic, std::to_string(tpo.partition), before, std::to_string(tpo.offset),
                    status_cell(tpo.status)});
    if (!tpo.status.ok()) failed++;
  }
  print_table(rows);
  if (failed > 0) {
    return error(StatusCode::internal,
                 fmt::format("{} of {} partitions were not moved", failed, results.size()));
  }
  return Status::ok_status();
}

Status run_delete(const ConnectionFlags& connection, const std::vector<std::string>& names) {
  auto admin = connect_admin(connection);
  if (!admin.ok()) return admin.status();
  auto results = (*admin)->delete_groups(names);
  if (!results.ok()) return results.status();
  std::vector<std::vector<std::string>> rows{{"GROUP", "STATUS"}};
  size_t failed = 0;
  for (const auto& item : *results) {
    rows.push_back({item.name, status_cell(item.status)});
    if (!item.status.ok()) failed++;
  }
  print_table(rows);
  if (failed > 0) {
    return error(StatusCode::internal, fmt::format("{} of {} failed", failed, results->size()));
  }
  return Status::ok_status();
}

using NamesFlags = std::pair<ConnectionFlags, std::vector<std::string>>;

}  // namespace

void add_group_commands(CLI::App& app) {
  CLI::App* group = app.add_subcommand("group", "List, describe, seek and delete consumer groups");
  group->require_subcommand(1);

  auto list_flags = std::make_shared<ConnectionFlags>();
  CLI::App* list = group->add_subcommand("list", "List consumer groups and their states");
  list->alias("ls");
  add_connection_flags(list, *list_flags);
  list->callback([list_flags]() { run_command([&]() { return run_list(*list_flags); }); });

  auto describe_flags = std::make_shared<NamesFlags>();
  CLI::App* describe = group->add_subcommand(
      "describe", "Show groups' members, committed offsets and lag per partition");
  describe->add_option("groups", describe_flags->second, "Group names")->required();
  add_connection_flags(describe, describe_flags->first);
  describe->callback([describe_flags]() {
    run_command([&]() { return run_describe(describe_flags->first, describe_flags->second); });
  });

  auto seek_flags = std::make_shared<SeekFlags>();
  CLI::App* seek = group->add_subcommand(
      "seek", "Move a stopped group's committed offsets (start, end, N, +N, -N, @timestamp)");
  seek->add_option("group", seek_flags->group, "Group name")->required();
  seek->add_option("--to", seek_flags->to, "Where to: start, end, N, +N, -N, @ts_ms, @-duration")
      ->required();
  seek->add_option("--topics", seek_flags->topics,
                   "Comma-separated topics (default: every topic the group has committed)");
  seek->add_flag("--dry-run", seek_flags->dry_run, "Print the new offsets without committing");
  add_connection_flags(seek, seek_flags->connection);
  seek->callback([seek_flags]() { run_command([&]() { return run_seek(*seek_flags); }); });

  auto delete_flags = std::make_shared<NamesFlags>();
  CLI::App* remove = group->add_subcommand("delete", "Delete consumer groups (must be empty)");
  remove->add_option("groups", delete_flags->second, "Group names")->required();
  add_connection_flags(remove, delete_flags->first);
  remove->callback([delete_flags]() {
    run_command([&]() { return run_delete(delete_flags->first, delete_flags->second); });
  });
}

}  // namespace cairn::cli
