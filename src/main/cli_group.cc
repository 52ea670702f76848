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
#include "main/cli_output.h"

namespace cairn::cli {

namespace {

using client::Admin;

Result<std::unique_ptr<Admin>> connect_admin(const ConnectionFlags& flags) {
  auto options = client_options(flags);
  if (!options.ok()) return options.status();
  return Admin::connect(*options);
}

struct ListFlags {
  ConnectionFlags connection;
  std::string format = "text";
};

Status run_list(const ListFlags& flags) {
  auto admin = connect_admin(flags.connection);
  if (!admin.ok()) return admin.status();
  auto groups = (*admin)->list_groups();
  if (!groups.ok()) return groups.status();
  std::vector<std::vector<std::string>> rows{{"GROUP", "STATE"}};
  Document document = Document::array();
  for (const auto& group : *groups) {
    rows.push_back({group.group_id, group.state});
    document.push_back({{"group", group.group_id}, {"state", group.state}});
  }
  if (flags.format == "text") {
    print_table(rows);
  } else {
    print_document(document, flags.format);
  }
  return Status::ok_status();
}

struct MemberCells {
  std::string member_id = "-";
  std::string client_id = "-";
  std::string host = "-";
};

std::string cell(std::optional<int64_t> value) { return value ? std::to_string(*value) : "-"; }

Document text_or_null(const std::string& text) { return text == "-" ? Document() : Document(text); }

// Describes one group: prints its summary and per-partition lag table (text), or appends its
// object to `document` (json, yaml).
Status describe_one(Admin& admin, const client::GroupDescription& group, bool first,
                    const std::string& format, Document& document) {
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
  Document partitions = Document::array();
  for (const auto& [tp, offset] : offsets) {
    auto marks = client::query_watermarks(admin.handle(), tp.topic, tp.partition);
    std::optional<int64_t> current, low, high, lag;
    if (offset >= 0) current = offset;
    if (marks.ok()) {
      low = marks->low_offset;
      high = marks->high_offset;
      if (current) lag = std::max<int64_t>(0, *high - *current);
      total_lag += lag.value_or(0);
    } else if (first_error.ok()) {
      first_error = marks.status();
    }
    MemberCells owner = owners.count(tp) ? owners[tp] : MemberCells{};
    rows.push_back({tp.topic, std::to_string(tp.partition), cell(current), cell(low), cell(high),
                    cell(lag), owner.member_id, owner.client_id, owner.host});
    partitions.push_back({{"topic", tp.topic},
                          {"partition", tp.partition},
                          {"current_offset", number_or_null(current)},
                          {"log_start_offset", number_or_null(low)},
                          {"log_end_offset", number_or_null(high)},
                          {"lag", number_or_null(lag)},
                          {"member_id", text_or_null(owner.member_id)},
                          {"client_id", text_or_null(owner.client_id)},
                          {"host", text_or_null(owner.host)}});
  }
  if (format != "text") {
    document.push_back({{"group", group.group_id},
                        {"coordinator", group.coordinator_id},
                        {"state", group.state},
                        {"balancer", text_or_null(group.assignor.empty() ? "-" : group.assignor)},
                        {"members", group.members.size()},
                        {"total_lag", total_lag},
                        {"partitions", std::move(partitions)}});
    return first_error;
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

struct DescribeFlags {
  ConnectionFlags connection;
  std::vector<std::string> groups;
  std::string format = "text";
};

// Kafka answers DescribeGroups for a group it does not know with state Dead and no members
// (a group with only committed offsets is Empty), so Dead means "does not exist", as in
// kafka-consumer-groups.
Status group_status(const client::GroupDescription& group) {
  if (!group.status.ok()) return group.status;
  if (group.state == "Dead" && group.members.empty()) {
    return error(StatusCode::not_found,
                 fmt::format("consumer group '{}' does not exist", group.group_id));
  }
  return Status::ok_status();
}

Status run_describe(const DescribeFlags& flags) {
  auto admin = connect_admin(flags.connection);
  if (!admin.ok()) return admin.status();
  auto groups = (*admin)->describe_groups(flags.groups);
  if (!groups.ok()) return groups.status();
  Status first_error;
  size_t failed = 0;
  bool first = true;
  Document document = Document::array();
  for (const auto& group : *groups) {
    Status status = group_status(group);
    if (status.ok()) status = describe_one(**admin, group, first, flags.format, document);
    first = false;
    if (status.ok()) continue;
    failed++;
    if (first_error.ok()) first_error = status;
    if (groups->size() > 1) fmt::print(stderr, "error: {}\n", status.message());
  }
  if (flags.format != "text") print_document(document, flags.format);
  if (failed == 0) return Status::ok_status();
  if (groups->size() == 1) return first_error;
  return error(first_error.code(),
               fmt::format("could not describe {} of {} groups", failed, groups->size()));
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
  if (flags.dry_run) print_dry_run_note();
  std::vector<std::vector<std::string>> rows{
      {"TOPIC", "PARTITION", "PRIOR-OFFSET", "CURRENT-OFFSET", "STATUS"}};
  size_t failed = 0;
  for (const auto& tpo : results) {
    auto it = prior.find({tpo.topic, tpo.partition});
    std::string before = it != prior.end() && it->second >= 0 ? std::to_string(it->second) : "-";
    rows.push_back({tpo.topic, std::to_string(tpo.partition), before, std::to_string(tpo.offset),
                    status_cell(tpo.status, flags.dry_run)});
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

  auto list_flags = std::make_shared<ListFlags>();
  CLI::App* list = group->add_subcommand("list", "List consumer groups and their states");
  list->alias("ls");
  add_format_flag(list, list_flags->format);
  add_connection_flags(list, list_flags->connection);
  list->callback([list_flags]() { run_command([&]() { return run_list(*list_flags); }); });

  auto describe_flags = std::make_shared<DescribeFlags>();
  CLI::App* describe = group->add_subcommand(
      "describe", "Show groups' members, committed offsets and lag per partition");
  describe->add_option("groups", describe_flags->groups, "Group names")->required();
  add_format_flag(describe, describe_flags->format);
  add_connection_flags(describe, describe_flags->connection);
  describe->callback(
      [describe_flags]() { run_command([&]() { return run_describe(*describe_flags); }); });

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
