// `cairn topic create|list|describe|delete|alter-config|add-partitions`.
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <map>
#include <memory>

#include "client/admin.h"
#include "client/cluster.h"
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

// Prints per-item results as NAME STATUS rows; fails when any item failed. A dry run says so
// on a first line and in each STATUS cell.
Status print_results(std::string_view name_column, const std::vector<client::ItemResult>& items,
                     bool dry_run = false) {
  if (dry_run) print_dry_run_note();
  std::vector<std::vector<std::string>> rows{{std::string(name_column), "STATUS"}};
  size_t failed = 0;
  for (const auto& item : items) {
    rows.push_back({item.name, status_cell(item.status, dry_run)});
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
  return print_results("TOPIC", *results, flags.dry_run);
}

struct ListFlags {
  ConnectionFlags connection;
  std::string format = "text";
  bool internal = false;
};

// Kafka's internal topics (Topic.isInternal). librdkafka's metadata does not carry Metadata's
// is_internal flag, so go by name, as Kafka's own tools may.
bool is_internal_topic(const std::string& name) {
  return name == "__consumer_offsets" || name == "__transaction_state";
}

size_t replica_count(const client::TopicMetadata& topic) {
  return topic.partitions.empty() ? 0 : topic.partitions[0].replicas.size();
}

Status run_list(const ListFlags& flags) {
  auto admin = connect_admin(flags.connection);
  if (!admin.ok()) return admin.status();
  auto cluster = client::query_metadata((*admin)->handle(), nullptr);
  if (!cluster.ok()) return cluster.status();
  std::vector<std::vector<std::string>> rows{{"NAME", "PARTITIONS", "REPLICAS"}};
  Document document = Document::array();
  for (const auto& topic : cluster->topics) {
    if (is_internal_topic(topic.name) && !flags.internal) continue;
    size_t replicas = replica_count(topic);
    rows.push_back({topic.name, std::to_string(topic.partitions.size()), std::to_string(replicas)});
    document.push_back(
        {{"name", topic.name}, {"partitions", topic.partitions.size()}, {"replicas", replicas}});
  }
  if (flags.format == "text") {
    print_table(rows);
  } else {
    print_document(document, flags.format);
  }
  return Status::ok_status();
}

struct DescribeFlags {
  ConnectionFlags connection;
  std::string topic;
  bool summary = false;
  bool configs = false;
  bool partitions = false;
  std::string format = "text";
};

// One row of the PARTITIONS section; nullopt watermarks are unknown.
struct PartitionRow {
  int32_t partition = -1;
  int32_t leader = -1;
  std::vector<int32_t> replicas;
  std::optional<int64_t> log_start_offset;
  std::optional<int64_t> high_watermark;
};

std::string offset_cell(std::optional<int64_t> offset) {
  return offset ? std::to_string(*offset) : "-";
}

void print_heading(std::string_view title, bool first) {
  fmt::print("{}{}\n{}\n", first ? "" : "\n", title, std::string(title.size(), '='));
}

std::string join_ids(const std::vector<int32_t>& ids) {
  return fmt::format("[{}]", fmt::join(ids, " "));
}

// The partitions with their watermarks; a failed lookup leaves them unknown and sets
// `first_error` (when it is still ok).
std::vector<PartitionRow> partition_rows(Admin& admin, const client::TopicMetadata& topic,
                                         Status& first_error) {
  std::vector<PartitionRow> rows;
  for (const auto& partition : topic.partitions) {
    PartitionRow row{partition.id, partition.leader, partition.replicas, {}, {}};
    auto marks = client::query_watermarks(admin.handle(), topic.name, partition.id);
    if (marks.ok()) {
      row.log_start_offset = marks->low_offset;
      row.high_watermark = marks->high_offset;
    } else if (first_error.ok()) {
      first_error = marks.status();
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

// What `topic describe` found; a section the flags left out stays unset.
struct TopicDescription {
  std::optional<client::TopicMetadata> summary;
  std::optional<Result<std::vector<client::ConfigEntry>>> configs;
  std::optional<std::vector<PartitionRow>> partitions;
};

void print_description_text(const TopicDescription& topic) {
  bool first = true;
  if (topic.summary) {
    print_heading("SUMMARY", first);
    first = false;
    print_table({{"NAME", topic.summary->name},
                 {"PARTITIONS", std::to_string(topic.summary->partitions.size())},
                 {"REPLICAS", std::to_string(replica_count(*topic.summary))}});
  }
  if (topic.configs) {
    print_heading("CONFIGS", first);
    first = false;
    if (topic.configs->ok()) {
      std::vector<std::vector<std::string>> rows{{"KEY", "VALUE", "SOURCE"}};
      for (const auto& entry : **topic.configs) {
        rows.push_back({entry.name, entry.value.value_or(entry.is_sensitive ? "(sensitive)" : "-"),
                        entry.source});
      }
      print_table(rows);
    } else {
      fmt::print("(unavailable: {})\n", topic.configs->status().message());
    }
  }
  if (topic.partitions) {
    print_heading("PARTITIONS", first);
    std::vector<std::vector<std::string>> rows{
        {"PARTITION", "LEADER", "REPLICAS", "LOG-START-OFFSET", "HIGH-WATERMARK"}};
    for (const PartitionRow& row : *topic.partitions) {
      rows.push_back({std::to_string(row.partition), std::to_string(row.leader),
                      join_ids(row.replicas), offset_cell(row.log_start_offset),
                      offset_cell(row.high_watermark)});
    }
    print_table(rows);
  }
}

// The JSON/YAML shape of `topic describe` (docs/cli.md); sections left out are absent, and
// configs that could not be described are null.
Document description_document(const TopicDescription& topic) {
  Document document = Document::object();
  if (topic.summary) {
    document["summary"] = {{"name", topic.summary->name},
                           {"partitions", topic.summary->partitions.size()},
                           {"replicas", replica_count(*topic.summary)}};
  }
  if (topic.configs && !topic.configs->ok()) document["configs"] = nullptr;
  if (topic.configs && topic.configs->ok()) {
    Document configs = Document::array();
    for (const auto& entry : **topic.configs) {
      configs.push_back({{"key", entry.name},
                         {"value", entry.value ? Document(*entry.value) : Document()},
                         {"source", entry.source}});
    }
    document["configs"] = std::move(configs);
  }
  if (topic.partitions) {
    Document partitions = Document::array();
    for (const PartitionRow& row : *topic.partitions) {
      partitions.push_back({{"partition", row.partition},
                            {"leader", row.leader},
                            {"replicas", row.replicas},
                            {"log_start_offset", number_or_null(row.log_start_offset)},
                            {"high_watermark", number_or_null(row.high_watermark)}});
    }
    document["partitions"] = std::move(partitions);
  }
  return document;
}

Status run_describe(const DescribeFlags& flags) {
  bool all = !flags.summary && !flags.configs && !flags.partitions;
  auto admin = connect_admin(flags.connection);
  if (!admin.ok()) return admin.status();
  auto topic = client::describe_topic((*admin)->handle(), flags.topic);
  if (!topic.ok()) return topic.status();
  TopicDescription description;
  Status first_error;
  if (all || flags.summary) description.summary = *topic;
  if (all || flags.configs) {
    description.configs = (*admin)->describe_topic_configs(flags.topic);
    if (!description.configs->ok()) first_error = description.configs->status();
  }
  if (all || flags.partitions) {
    Status status;
    description.partitions = partition_rows(**admin, *topic, status);
    if (first_error.ok()) first_error = status;
  }
  if (flags.format == "text") {
    print_description_text(description);
  } else {
    print_document(description_document(description), flags.format);
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
  return print_results("TOPIC", {{flags.topic, status}}, flags.dry_run);
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
  return print_results("TOPIC", results, flags.dry_run);
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
  auto flags = std::make_shared<ListFlags>();
  CLI::App* cmd = topic->add_subcommand("list", "List topics with partition and replica counts");
  cmd->alias("ls");
  cmd->add_flag("-i,--internal", flags->internal, "Include internal topics (__consumer_offsets)");
  add_format_flag(cmd, flags->format);
  add_connection_flags(cmd, flags->connection);
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
  add_format_flag(cmd, flags->format);
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
