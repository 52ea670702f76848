// `cairn consume TOPIC...`: print records, from chosen offsets of chosen partitions (no group)
// or as a member of a consumer group (-g, with commits).
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <map>
#include <memory>
#include <set>

#include "client/cluster.h"
#include "client/consumer.h"
#include "client/format.h"
#include "client/parse.h"
#include "main/cli_common.h"

namespace cairn::cli {

namespace {

std::atomic<bool> g_stop_requested{false};

void request_stop(int) { g_stop_requested = true; }

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct ConsumeFlags {
  ConnectionFlags connection;
  std::vector<std::string> topics;
  std::string offset = "start";
  std::string partitions;
  int64_t count = 0;  // 0: no limit
  bool exit_at_end = false;
  std::string format = "json";
  bool json = false;
  std::string group;
  std::string isolation = "read_committed";
};

// Formats records to stdout, buffered; flush() when idle and at the end.
class Output {
 public:
  static Result<Output> create(const ConsumeFlags& flags) {
    Output output;
    if (flags.json || flags.format == "json") return output;
    auto formatter = client::RecordFormatter::parse(flags.format);
    if (!formatter.ok()) return formatter.status();
    output.formatter_ = std::move(*formatter);
    return output;
  }
  void write(const client::IncomingRecord& record) {
    if (formatter_) {
      formatter_->format(record, buffer_);
    } else {
      buffer_ += client::record_to_json(record);
      buffer_ += '\n';
    }
    if (buffer_.size() > 64 * 1024) flush();
  }
  void flush() {
    std::fwrite(buffer_.data(), 1, buffer_.size(), stdout);
    std::fflush(stdout);
    buffer_.clear();
  }

 private:
  std::optional<client::RecordFormatter> formatter_;
  std::string buffer_;
};

struct PartitionPlan {
  int64_t start = 0;
  std::optional<int64_t> end;  // exclusive; nullopt: follow
  bool done = false;
};

using Plans = std::map<client::TopicPartition, PartitionPlan>;

// The offsets of a bound for each partition when it is a timestamp (else all -1).
Result<std::vector<int64_t>> time_offsets(const client::KafkaHandle& handle,
                                          const std::string& topic,
                                          const std::vector<int32_t>& partitions,
                                          const std::optional<client::OffsetBound>& bound) {
  if (!bound || bound->kind != client::OffsetBound::Kind::timestamp) {
    return std::vector<int64_t>(partitions.size(), -1);
  }
  return client::offsets_for_time(handle, topic, partitions, bound->value);
}

Result<Plans> plan_topic(const client::KafkaHandle& handle, const std::string& topic,
                         const std::optional<std::vector<int32_t>>& wanted,
                         const client::OffsetSpec& spec) {
  auto metadata = client::describe_topic(handle, topic);
  if (!metadata.ok()) return metadata.status();
  std::vector<int32_t> partitions;
  for (const auto& p : metadata->partitions) partitions.push_back(p.id);
  if (wanted) {
    for (int32_t p : *wanted) {
      if (std::find(partitions.begin(), partitions.end(), p) == partitions.end()) {
        return error(StatusCode::not_found, fmt::format("topic '{}' has no partition {} (it has "
                                                        "{})",
                                                        topic, p, partitions.size()));
      }
    }
    partitions = *wanted;
  }
  auto from_times = time_offsets(handle, topic, partitions, spec.from);
  if (!from_times.ok()) return from_times.status();
  auto until_times = time_offsets(handle, topic, partitions, spec.until);
  if (!until_times.ok()) return until_times.status();
  Plans plans;
  for (size_t i = 0; i < partitions.size(); i++) {
    auto marks = client::query_watermarks(handle, topic, partitions[i]);
    if (!marks.ok()) return marks.status();
    PartitionPlan plan;
    plan.start = client::resolve_offset(spec.from, *marks, (*from_times)[i]);
    if (spec.until) {
      plan.end = client::resolve_offset(*spec.until, *marks, (*until_times)[i]);
      plan.done = plan.start >= *plan.end;
    }
    plans[{topic, partitions[i]}] = plan;
  }
  return plans;
}

bool all_done(const Plans& plans) {
  for (const auto& [tp, plan] : plans) {
    if (!plan.done) return false;
  }
  return true;
}

// Reads until every bounded partition is done, --num records were printed, or a signal.
Status read_assigned(client::PartitionReader& reader, Plans& plans, const ConsumeFlags& flags,
                     Output& output) {
  bool bounded = plans.begin()->second.end.has_value();
  int64_t printed = 0;
  auto last_progress = std::chrono::steady_clock::now();
  std::set<std::string> warned;
  while (!g_stop_requested && !(bounded && all_done(plans))) {
    client::ConsumerEvent event = reader.poll(200);
    using Kind = client::ConsumerEvent::Kind;
    if (event.kind == Kind::none) {
      output.flush();
      auto idle = std::chrono::steady_clock::now() - last_progress;
      if (bounded && idle > std::chrono::milliseconds(reader.handle().timeout_ms())) {
        return reader.handle().explain(error(
            StatusCode::timed_out, "no records arrived within --timeout before the end offset"));
      }
      continue;
    }
    last_progress = std::chrono::steady_clock::now();
    if (event.kind == Kind::error) {
      if (event.fatal) return event.status;
      if (warned.insert(event.status.message()).second) {
        fmt::print(stderr, "warning: {}\n", event.status.message());
      }
      continue;
    }
    const std::string& topic = event.record.topic;
    int32_t partition = event.kind == Kind::record ? event.record.partition : event.partition;
    auto it = plans.find({topic, partition});
    if (it == plans.end()) continue;
    PartitionPlan& plan = it->second;
    if (event.kind == Kind::partition_end) {
      if (plan.end && event.offset >= *plan.end) plan.done = true;
      continue;
    }
    if (plan.done || (plan.end && event.record.offset >= *plan.end)) {
      plan.done = true;
      continue;
    }
    output.write(event.record);
    if (plan.end && event.record.offset + 1 >= *plan.end) plan.done = true;
    if (flags.count > 0 && ++printed >= flags.count) break;
  }
  return Status::ok_status();
}

Status consume_assigned(const ConsumeFlags& flags, const client::ClientOptions& options,
                        client::OffsetSpec spec, Output& output) {
  std::optional<std::vector<int32_t>> wanted;
  if (!flags.partitions.empty()) {
    auto parsed = client::parse_partition_list(flags.partitions);
    if (!parsed.ok()) return parsed.status();
    wanted = *parsed;
  }
  if (flags.exit_at_end && !spec.until)
    spec.until = client::OffsetBound{client::OffsetBound::Kind::end};
  auto reader = client::PartitionReader::create(options, spec.until.has_value());
  if (!reader.ok()) return reader.status();
  Plans plans;
  for (const std::string& topic : flags.topics) {
    auto topic_plans = plan_topic((*reader)->handle(), topic, wanted, spec);
    if (!topic_plans.ok()) return topic_plans.status();
    plans.insert(topic_plans->begin(), topic_plans->end());
  }
  if (spec.until && all_done(plans)) return Status::ok_status();
  for (const std::string& topic : flags.topics) {
    std::vector<std::pair<int32_t, int64_t>> starts;
    for (const auto& [tp, plan] : plans) {
      if (tp.topic == topic && !plan.done) starts.emplace_back(tp.partition, plan.start);
    }
    RETURN_IF_ERROR((*reader)->start(topic, starts));
  }
  Status status = read_assigned(**reader, plans, flags, output);
  output.flush();
  return status;
}

Status consume_group(const ConsumeFlags& flags, const client::ClientOptions& options,
                     const client::OffsetSpec& spec, Output& output) {
  using BoundKind = client::OffsetBound::Kind;
  if (spec.until || (spec.from.kind != BoundKind::start && spec.from.kind != BoundKind::end)) {
    return error(StatusCode::invalid_argument,
                 "with -g, -o is start or end (where partitions without a committed offset "
                 "begin); move a group's offsets with 'cairn group seek'");
  }
  if (!flags.partitions.empty()) {
    return error(StatusCode::invalid_argument, "with -g the group assigns partitions; drop -p");
  }
  auto consumer = client::GroupConsumer::create(
      options, flags.group, spec.from.kind == BoundKind::start ? "earliest" : "latest",
      flags.exit_at_end);
  if (!consumer.ok()) return consumer.status();
  for (const std::string& topic : flags.topics) {
    auto metadata = client::describe_topic((*consumer)->handle(), topic);
    if (!metadata.ok()) return metadata.status();
  }
  RETURN_IF_ERROR((*consumer)->subscribe(flags.topics));
  int64_t printed = 0;
  std::set<client::TopicPartition> at_end;
  std::set<std::string> warned;
  Status status;
  while (!g_stop_requested) {
    client::ConsumerEvent event = (*consumer)->poll(200);
    using Kind = client::ConsumerEvent::Kind;
    if (event.kind == Kind::none) {
      output.flush();
    } else if (event.kind == Kind::error) {
      if (event.fatal) {
        status = event.status;
        break;
      }
      if (warned.insert(event.status.message()).second) {
        fmt::print(stderr, "warning: {}\n", event.status.message());
      }
    } else if (event.kind == Kind::partition_end) {
      at_end.insert({event.record.topic, event.partition});
      auto assigned = (*consumer)->assignment();
      bool all_at_end =
          !assigned.empty() && std::all_of(assigned.begin(), assigned.end(),
                                           [&](const auto& tp) { return at_end.count(tp) > 0; });
      if (all_at_end) break;
    } else {
      at_end.erase({event.record.topic, event.record.partition});
      output.write(event.record);
      status = (*consumer)->store(event.record);
      if (!status.ok()) break;
      if (flags.count > 0 && ++printed >= flags.count) break;
    }
  }
  output.flush();
  Status closed = (*consumer)->close();
  return status.ok() ? closed : status;
}

Status run_consume(const ConsumeFlags& flags) {
  auto spec = client::parse_offset_spec(flags.offset, now_ms());
  if (!spec.ok()) return spec.status();
  auto output = Output::create(flags);
  if (!output.ok()) return output.status();
  auto options = client_options(flags.connection);
  if (!options.ok()) return options.status();
  if (flags.isolation != "read_committed" && flags.isolation != "read_uncommitted") {
    return error(StatusCode::invalid_argument,
                 "--isolation must be read_committed or read_uncommitted");
  }
  // First, so that an -X isolation.level=... still wins.
  options->properties.insert(options->properties.begin(), "isolation.level=" + flags.isolation);
  if (flags.count < 0) return error(StatusCode::invalid_argument, "--num must be >= 0");
  std::signal(SIGINT, request_stop);
  std::signal(SIGTERM, request_stop);
  if (!flags.group.empty()) return consume_group(flags, *options, *spec, *output);
  return consume_assigned(flags, *options, *spec, *output);
}

}  // namespace

void add_consume_command(CLI::App& app) {
  auto flags = std::make_shared<ConsumeFlags>();
  CLI::App* cmd = app.add_subcommand(
      "consume", "Print records of topics (follows until Ctrl-C, -n, -e or -o A:B)");
  cmd->add_option("topics", flags->topics, "Topics to read")->required();
  cmd->add_option("-o,--offset", flags->offset,
                  "Where to start: start, end, N, +N, -N, @timestamp_ms or @-duration, "
                  "optionally :END to stop before END (end, N, @timestamp)")
      ->capture_default_str();
  cmd->add_option("-p,--partitions", flags->partitions, "Only these partitions, e.g. 0,2");
  cmd->add_option("-n,--num", flags->count, "Stop after this many records");
  cmd->add_flag("-e,--exit-at-end", flags->exit_at_end,
                "Stop at the end of each partition as of the start (same as -o X:end)");
  cmd->add_option("-f,--format", flags->format,
                  "'json' or a format string with %t %p %o %k %v %d %h ... (see docs/cli.md)")
      ->capture_default_str();
  cmd->add_flag("--json", flags->json, "One JSON object per record (same as -f json)");
  cmd->add_option("-g,--group", flags->group,
                  "Consume as a member of this consumer group and commit offsets");
  cmd->add_option("--isolation", flags->isolation,
                  "read_committed (only committed transactions) or read_uncommitted (also "
                  "aborted and open ones)")
      ->capture_default_str();
  add_connection_flags(cmd, flags->connection);
  cmd->callback([flags]() { run_command([&]() { return run_consume(*flags); }); });
}

}  // namespace cairn::cli
