// `cairn topic create|list|describe|delete|alter-config|add-partitions`.
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <map>
#include <memory>

#include "client/admin.h"
#include "client/cluster.h"
#include "main/cli_common.h"

namespace cairn::cli {

namespace {

using client::Admin;

Result<std::unique_ptr<Admin>> connect_admin(const ConnectionFlags& flags) {
  auto options = client_options(flags);
  if (!options.ok()) return options.status();
  return Admin::connect(*options);
}

// Prints per-item results as NAME STATUS rows; fails when any item failed.
Status print_results(std::string_view name_column, const std::vector<client::ItemResult>& items) {
  std::vector<std::vector<std::string>> rows{{std::string(name_column), "STATUS"}};
  size_t failed = 0;
  for (const auto& item : items) {
    rows.push_back({item.name, status_cell(item.status)});
    if (!item.status.ok()) failed++;
  }
  print_table(rows);
  if (failed > 0) {
    return error(StatusCode::internal, fmt::format("{} of {} failed", failed, items.size()));
  }
  return Status::ok_status();
}

struct CreateFlags {
  ConnectionFlags connection;
  std::vector<std::string> topics;
  int32_t partitions = -1;
  int32_t replicas = -1;
  std::vector<std::string> configs;
  bool dry_run = false;
};

Status run_create(const CreateFlags& flags) {
  std::vector<client::TopicSpec> specs;
  for (const std::string& name : flags.topics) {
    client::TopicSpec spec{name, flags.partitions, static_cast<int16_t>(flags.replicas), {}};
    for (const std::string& config : flags.configs) {
      auto kv = client::split_key_value(config, "topic config");
      if (!kv.ok()) return kv.status();
      spec.configs.push_back(*kv);
    }
    specs.push_back(std::move(spec));
  }
  auto admin = connect_admin(flags.connection);
  if (!admin.ok()) return admin.status();
  auto results = (*admin)->create_topics(specs, flags.dry_run);
  if (!results.ok()) return results.status();
  return print_results("TOPIC", *results);
}

Status run_list(const ConnectionFlags& connection) {
  auto admin = connect_admin(connection);
  if (!admin.ok()) return admin.status();
  auto cluster = client::query_metadata((*admin)->handle(), nullptr);
  if (!cluster.ok()) return cluster.status();
  std::vector<std::vector<std::string>> rows{{"NAME", "PARTITIONS", "REPLICAS"}};
  for (const auto& topic : cluster->topics) {
    size_t replicas = topic.partitions.empty() ? 0 : topic.partitions[0].replicas.size();
    rows.push_back({topic.name, std::to_string(topic.partitions.size()), std::to_string(replicas)});
  }
  print_table(rows);
  return Status::ok_status();
}

struct DescribeFlags {
  ConnectionFlags connection;
  std::string topic;
  bool summary = false;
  bool configs = false;
  bool partitions = false;
};

void print_heading(std::string_view title, bool first) {
  fmt::print("{}{}\n{}\n", first ? "" : "\n", title, std::string(title.size(), '='));
}

std::string join_ids(const std::vector<int32_t>& ids) {
  return fmt::format("[{}]", fmt::join(ids, " "));
}

Status describe_partitions(Admin& admin, const client::TopicMetadata& topic) {
  std::vector<std::vector<std::string>> rows{
      {"PARTITION", "LEADER", "REPLICAS", "LOG-START-OFFSET", "HIGH-WATERMARK"}};
  Status first_error;
  for (const auto& partition : topic.partitions) {
    std::string low = "-";
    std::string high = "-";
    auto marks = client::query_watermarks(admin.handle(), topic.name, partition.id);
    if (marks.ok()) {
      low = std::to_string(marks->low_offset);
      high = std::to_string(marks->high_offset);
    } else if (first_error.ok()) {
      first_error = marks.status();
    }
    rows.push_back({std::to_string(partition.id), std::to_string(partition.leader),
                    join_ids(partition.replicas), low, high});
  }
  print_table(rows);
  return first_error;
}

Status run_describe(const DescribeFlags& flags) {
  bool all = !flags.summary && !flags.configs && !flags.partitions;
  auto admin = connect_admin(flags.connection);
  if (!admin.ok()) return admin.status();
  auto topic = client::describe_topic((*admin)->handle(), flags.topic);
  if (!topic.ok()) return topic.status();
  Status first_error;
  bool first = true;
  if (all || flags.summary) {
    print_heading("SUMMARY", first);
    first = false;
    size_t replicas = topic->partitions.empty() ? 0 : topic->partitions[0].replicas.size();
    print_table({{"NAME", topic->name},
                 {"PARTITIONS", std::to_string(topic->partitions.size())},
                 {"REPLICAS", std::to_string(replicas)}});
  }
  if (all || flags.configs) {
    print_heading("CONFIGS", first);
    first = false;
    auto configs = (*admin)->describe_topic_configs(flags.topic);
    if (configs.ok()) {
      std::vector<std::vector<std::string>> rows{{"KEY", "VALUE", "SOURCE"}};
      for (const auto& entry : *configs) {
        rows.push_back({entry.name, entry.value.value_or(entry.is_sensitive ? "(sensitive)" : "-"),
                        entry.source});
      }
      print_table(rows);
    } else {
      fmt::print("(unavailable: {})\n", configs.status().message());
      first_error = configs.status();
    }
  }
  if (all || flags.partitions) {
    print_heading("PARTITIONS", first);
    Status status = describe_partitions(**admin, *topic);
    if (first_error.ok()) first_error = status;
  }
  return first_error;
}

struct AlterConfigFlags {
  ConnectionFlags connection;
  std::string topic;
  std::vector<std::string> set;
  std::vector<std::string> remove;
  bool dry_run = false;
};

// AlterConfigs replaces the topic's whole dynamic config set, so this reads the current
// topic-level configs, applies --set/--delete, and writes the full result back.
// (IncrementalAlterConfigs would avoid the race with a concurrent writer, but librdkafka 2.0.2
// does not have it.)
Status run_alter_config(const AlterConfigFlags& flags) {
  if (flags.set.empty() && flags.remove.empty()) {
    return error(StatusCode::invalid_argument, "nothing to do: give --set k=v or --delete k");
  }
  auto admin = connect_admin(flags.connection);
  if (!admin.ok()) return admin.status();
  auto current = (*admin)->describe_topic_configs(flags.topic);
  if (!current.ok()) return current.status();
  std::map<std::string, std::string> configs;
  for (const auto& entry : *current) {
    if (entry.is_dynamic_topic_config && entry.value) configs[entry.name] = *entry.value;
  }
  for (const std::string& key : flags.remove) {
    if (configs.erase(key) == 0) {
      fmt::print(stderr, "warning: '{}' is not set on topic '{}'\n", key, flags.topic);
    }
  }
  for (const std::string& item : flags.set) {
    auto kv = client::split_key_value(item, "--set");
    if (!kv.ok()) return kv.status();
    configs[kv->first] = kv->second;
  }
  client::Settings settings(configs.begin(), configs.end());
  Status status = (*admin)->alter_topic_configs(flags.topic, settings, flags.dry_run);
  return print_results("TOPIC", {{flags.topic, status}});
}

struct AddPartitionsFlags {
  ConnectionFlags connection;
  std::vector<std::string> topics;
  int32_t count = 0;
  bool dry_run = false;
};

Status run_add_partitions(const AddPartitionsFlags& flags) {
  if (flags.count <= 0) return error(StatusCode::invalid_argument, "--num must be positive");
  auto admin = connect_admin(flags.connection);
  if (!admin.ok()) return admin.status();
  std::vector<client::ItemResult> results;
  for (const std::string& name : flags.topics) {
    auto topic = client::describe_topic((*admin)->handle(), name);
    if (!topic.ok() && topic.status().code() != StatusCode::not_found) return topic.status();
    if (!topic.ok()) {
      results.push_back({name, topic.status()});
      continue;
    }
    int32_t total = static_cast<int32_t>(topic->partitions.size()) + flags.count;
    auto result = (*admin)->create_partitions(name, total, flags.dry_run);
    if (!result.ok()) return result.status();
    results.insert(results.end(), result->begin(), result->end());
  }
  return print_results("TOPIC", results);
}

void add_create(CLI::App* topic) {
  auto flags = std::make_shared<CreateFlags>();
  CLI::App* cmd = topic->add_subcommand("create", "Create topics");
  cmd->add_option("topics", flags->topics, "Topic names")->required();
  cmd->add_option("-p,--partitions", flags->partitions,
                  "Partitions per topic (-1: the broker's default)")
      ->capture_default_str();
  cmd->add_option("-r,--replicas", flags->replicas, "Replication factor (-1: the broker's default)")
      ->capture_default_str();
  cmd->add_option("-c,--topic-config", flags->configs, "Topic config key=value (repeatable)");
  cmd->add_flag("-d,--dry-run", flags->dry_run, "Only validate the request on the broker");
  add_connection_flags(cmd, flags->connection);
  cmd->callback([flags]() { run_command([&]() { return run_create(*flags); }); });
}

void add_list(CLI::App* topic) {
  auto flags = std::make_shared<ConnectionFlags>();
  CLI::App* cmd = topic->add_subcommand("list", "List topics with partition and replica counts");
  cmd->alias("ls");
  add_connection_flags(cmd, *flags);
  cmd->callback([flags]() { run_command([&]() { return run_list(*flags); }); });
}

void add_describe(CLI::App* topic) {
  auto flags = std::make_shared<DescribeFlags>();
  CLI::App* cmd = topic->add_subcommand(
      "describe", "Show a topic's summary, configs and partitions (leader, watermarks)");
  cmd->add_option("topic", flags->topic, "Topic name")->required();
  cmd->add_flag("-s,--print-summary", flags->summary, "Print only the summary section");
  cmd->add_flag("-c,--print-configs", flags->configs, "Print only the configs section");
  cmd->add_flag("-p,--print-partitions", flags->partitions, "Print only the partitions section");
  add_connection_flags(cmd, flags->connection);
  cmd->callback([flags]() { run_command([&]() { return run_describe(*flags); }); });
}

void add_delete(CLI::App* topic) {
  auto flags = std::make_shared<std::pair<ConnectionFlags, std::vector<std::string>>>();
  CLI::App* cmd = topic->add_subcommand("delete", "Delete topics");
  cmd->add_option("topics", flags->second, "Topic names")->required();
  add_connection_flags(cmd, flags->first);
  cmd->callback([flags]() {
    run_command([&]() -> Status {
      auto admin = connect_admin(flags->first);
      if (!admin.ok()) return admin.status();
      auto results = (*admin)->delete_topics(flags->second);
      if (!results.ok()) return results.status();
      return print_results("TOPIC", *results);
    });
  });
}

void add_alter_config(CLI::App* topic) {
  auto flags = std::make_shared<AlterConfigFlags>();
  CLI::App* cmd = topic->add_subcommand("alter-config", "Set or delete topic configs");
  cmd->add_option("topic", flags->topic, "Topic name")->required();
  cmd->add_option("-s,--set", flags->set, "Set key=value (repeatable)");
  cmd->add_option("-d,--delete", flags->remove, "Delete a key, back to its default (repeatable)");
  cmd->add_flag("--dry-run", flags->dry_run, "Only validate the request on the broker");
  add_connection_flags(cmd, flags->connection);
  cmd->callback([flags]() { run_command([&]() { return run_alter_config(*flags); }); });
}

void add_add_partitions(CLI::App* topic) {
  auto flags = std::make_shared<AddPartitionsFlags>();
  CLI::App* cmd = topic->add_subcommand("add-partitions", "Add partitions to topics");
  cmd->add_option("topics", flags->topics, "Topic names")->required();
  cmd->add_option("-n,--num", flags->count, "Number of partitions to add to each topic")
      ->required();
  cmd->add_flag("--dry-run", flags->dry_run, "Only validate the request on the broker");
  add_connection_flags(cmd, flags->connection);
  cmd->callback([flags]() { run_command([&]() { return run_add_partitions(*flags); }); });
}

}  // namespace

void add_topic_commands(CLI::App& app) {
  CLI::App* topic = app.add_subcommand("topic", "Create, list, describe, alter and delete topics");
  topic->require_subcommand(1);
  add_create(topic);
  add_list(topic);
  add_describe(topic);
  add_delete(topic);
  add_alter_config(topic);
  add_add_partitions(topic);
}

}  // namespace cairn::cli
