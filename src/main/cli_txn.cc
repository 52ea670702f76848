// `cairn txn list|describe|producers|find-hanging|abort-hanging`: transactions seen from their
// coordinators and from the partitions they write to, and the way out of a hanging one — a
// partition whose open transaction no coordinator will ever end, which holds its last stable
// offset (and every read_committed consumer) back. Like Kafka's kafka-transactions.sh, over
// the Kafka protocol (client/wire.h: librdkafka 2.0 has no API for these requests).
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <set>

#include "client/parse.h"
#include "client/wire.h"
#include "main/cli_common.h"
#include "main/cli_output.h"
#include "protocol/generated/describe_producers.h"
#include "protocol/generated/describe_transactions.h"
#include "protocol/generated/list_transactions.h"
#include "protocol/generated/write_txn_markers.h"

namespace cairn::cli {

namespace {

using client::WireCluster;

Result<std::unique_ptr<WireCluster>> connect_cluster(const ConnectionFlags& flags) {
  auto options = client_options(flags);
  if (!options.ok()) return options.status();
  return WireCluster::connect(*options);
}

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void print(const std::vector<std::vector<std::string>>& rows, const Document& document,
           const std::string& format) {
  if (format == "text") {
    print_table(rows);
  } else {
    print_document(document, format);
  }
}

// --- list ------------------------------------------------------------------------------------

struct ListFlags {
  ConnectionFlags connection;
  std::vector<std::string> states;
  std::vector<int64_t> producer_ids;
  std::string format = "text";
};

Status run_list(const ListFlags& flags) {
  auto cluster = connect_cluster(flags.connection);
  if (!cluster.ok()) return cluster.status();
  protocol::ListTransactionsRequest request;
  request.state_filters = flags.states;
  request.producer_id_filters = flags.producer_ids;
  std::vector<std::vector<std::string>> rows{
      {"TRANSACTIONAL-ID", "COORDINATOR", "PRODUCER-ID", "STATE"}};
  Document document = Document::array();
  std::set<std::string> warned;
  for (const client::WireBroker& broker : (*cluster)->brokers()) {
    auto connection = (*cluster)->broker(broker.node_id);
    if (!connection.ok()) return connection.status();
    auto listed = (*connection)->call<protocol::ListTransactionsResponse>(request);
    if (!listed.ok()) return listed.status();
    RETURN_IF_ERROR(client::wire_error(
        listed->error_code, fmt::format("listing the transactions of broker {}", broker.node_id)));
    for (const std::string& unknown : listed->unknown_state_filters) {
      warned.insert(unknown);
    }
    for (const auto& txn : listed->transaction_states) {
      rows.push_back({txn.transactional_id, std::to_string(broker.node_id),
                      std::to_string(txn.producer_id), txn.transaction_state});
      document.push_back({{"transactional_id", txn.transactional_id},
                          {"coordinator", broker.node_id},
                          {"producer_id", txn.producer_id},
                          {"state", txn.transaction_state}});
    }
  }
  for (const std::string& unknown : warned) {
    std::fprintf(stderr, "warning: '%s' is not a transaction state the brokers know\n",
                 unknown.c_str());
  }
  print(rows, document, flags.format);
  return Status::ok_status();
}

// --- describe --------------------------------------------------------------------------------

struct DescribeFlags {
  ConnectionFlags connection;
  std::vector<std::string> ids;
  std::string format = "text";
};

using TxnState = protocol::DescribeTransactionsResponse::TransactionState;

Result<TxnState> describe_id(WireCluster& cluster, const std::string& id, int32_t* coordinator) {
  auto node = cluster.transaction_coordinator(id);
  if (!node.ok()) return node.status();
  *coordinator = *node;
  auto connection = cluster.broker(*node);
  if (!connection.ok()) return connection.status();
  protocol::DescribeTransactionsRequest request;
  request.transactional_ids = {id};
  auto described = (*connection)->call<protocol::DescribeTransactionsResponse>(request);
  if (!described.ok()) return described.status();
  if (described->transaction_states.size() != 1) {
    return error(StatusCode::corrupt, "the coordinator answered for another number of ids");
  }
  TxnState state = described->transaction_states[0];
  RETURN_IF_ERROR(client::wire_error(state.error_code, fmt::format("transactional id '{}'", id)));
  return state;
}

std::string partitions_text(const TxnState& state) {
  std::string out;
  for (const auto& topic : state.topics) {
    for (int32_t partition : topic.partitions) {
      out += fmt::format("{}{}-{}", out.empty() ? "" : ",", topic.topic, partition);
    }
  }
  return out.empty() ? "-" : out;
}

void add_description(const TxnState& state, int32_t coordinator, bool first,
                     const std::string& format, Document& document) {
  const bool open = state.transaction_start_time_ms >= 0;
  const int64_t duration = open ? now_ms() - state.transaction_start_time_ms : -1;
  if (format != "text") {
    Document partitions = Document::array();
    for (const auto& topic : state.topics) {
      for (int32_t p : topic.partitions)
        partitions.push_back({{"topic", topic.topic}, {"partition", p}});
    }
    document.push_back(
        {{"transactional_id", state.transactional_id},
         {"coordinator", coordinator},
         {"state", state.transaction_state},
         {"producer_id", state.producer_id},
         {"producer_epoch", state.producer_epoch},
         {"timeout_ms", state.transaction_timeout_ms},
         {"start_time_ms",
          number_or_null(open ? std::optional<int64_t>(state.transaction_start_time_ms)
                              : std::nullopt)},
         {"duration_ms", number_or_null(open ? std::optional<int64_t>(duration) : std::nullopt)},
         {"partitions", std::move(partitions)}});
    return;
  }
  if (!first) fmt::print("\n");
  print_table({{"TRANSACTIONAL-ID", state.transactional_id},
               {"COORDINATOR", std::to_string(coordinator)},
               {"STATE", state.transaction_state},
               {"PRODUCER-ID", std::to_string(state.producer_id)},
               {"PRODUCER-EPOCH", std::to_string(state.producer_epoch)},
               {"TIMEOUT-MS", std::to_string(state.transaction_timeout_ms)},
               {"START-TIME-MS", open ? std::to_string(state.transaction_start_time_ms) : "-"},
               {"DURATION-MS", open ? std::to_string(duration) : "-"},
               {"PARTITIONS", partitions_text(state)}});
}

Status run_describe(const DescribeFlags& flags) {
  auto cluster = connect_cluster(flags.connection);
  if (!cluster.ok()) return cluster.status();
  Document document = Document::array();
  size_t failed = 0;
  bool first = true;
  for (const std::string& id : flags.ids) {
    int32_t coordinator = -1;
    auto state = describe_id(**cluster, id, &coordinator);
    if (!state.ok() && flags.ids.size() == 1) return state.status();
    if (!state.ok()) {
      std::fprintf(stderr, "error: %s\n", state.status().message().c_str());
      failed++;
      continue;
    }
    add_description(*state, coordinator, first, flags.format, document);
    first = false;
  }
  if (flags.format != "text" && failed < flags.ids.size()) print_document(document, flags.format);
  if (failed == 0) return Status::ok_status();
  return error(StatusCode::not_found, fmt::format("could not describe {} of {} transactional ids",
                                                  failed, flags.ids.size()));
}

// --- producers, find-hanging, abort-hanging ---------------------------------------------------

struct OpenTxn {
  std::string topic;
  int32_t partition = 0;
  int32_t leader = -1;
  protocol::DescribeProducersResponse::ProducerState producer;
};

struct ProducersFlags {
  ConnectionFlags connection;
  std::string topic;  // empty: every topic
  std::string partitions;
  std::string format = "text";
};

// The producers of the chosen partitions (their leaders answer DescribeProducers).
Result<std::vector<OpenTxn>> describe_producers(WireCluster& cluster, const std::string& topic,
                                                const std::string& partition_list) {
  std::set<int32_t> wanted;
  if (!partition_list.empty() && topic.empty()) {
    return error(StatusCode::invalid_argument, "--partitions needs --topic");
  }
  if (!partition_list.empty()) {
    auto parsed = client::parse_partition_list(partition_list);
    if (!parsed.ok()) return parsed.status();
    wanted.insert(parsed->begin(), parsed->end());
  }
  std::map<int32_t, protocol::DescribeProducersRequest> by_leader;
  bool topic_found = topic.empty();
  for (const client::WirePartition& p : cluster.partitions()) {
    if (!topic.empty() && p.topic != topic) continue;
    topic_found = true;
    if (!wanted.empty() && !wanted.contains(p.partition)) continue;
    auto& topics = by_leader[p.leader].topics;
    if (topics.empty() || topics.back().name != p.topic) topics.push_back({p.topic, {}});
    topics.back().partition_indexes.push_back(p.partition);
  }
  if (!topic_found) {
    return error(StatusCode::not_found, fmt::format("topic '{}' does not exist", topic));
  }
  for (int32_t p : wanted) {
    bool exists = std::any_of(
        cluster.partitions().begin(), cluster.partitions().end(),
        [&](const client::WirePartition& wp) { return wp.topic == topic && wp.partition == p; });
    if (!exists) {
      return error(StatusCode::not_found, fmt::format("topic '{}' has no partition {}", topic, p));
    }
  }
  std::vector<OpenTxn> out;
  for (const auto& [leader, request] : by_leader) {
    auto connection = cluster.broker(leader);
    if (!connection.ok()) return connection.status();
    auto described = (*connection)->call<protocol::DescribeProducersResponse>(request);
    if (!described.ok()) return described.status();
    for (const auto& t : described->topics) {
      for (const auto& p : t.partitions) {
        RETURN_IF_ERROR(client::wire_error(
            p.error_code, fmt::format("producers of {}-{}", t.name, p.partition_index)));
        for (const auto& producer : p.active_producers) {
          out.push_back({t.name, p.partition_index, leader, producer});
        }
      }
    }
  }
  return out;
}

std::string offset_cell(int64_t value) { return value >= 0 ? std::to_string(value) : "-"; }

Status run_producers(const ProducersFlags& flags) {
  auto cluster = connect_cluster(flags.connection);
  if (!cluster.ok()) return cluster.status();
  auto producers = describe_producers(**cluster, flags.topic, flags.partitions);
  if (!producers.ok()) return producers.status();
  std::vector<std::vector<std::string>> rows{{"TOPIC", "PARTITION", "PRODUCER-ID", "PRODUCER-EPOCH",
                                              "LAST-SEQUENCE", "LAST-TIMESTAMP",
                                              "COORDINATOR-EPOCH", "TXN-START-OFFSET"}};
  Document document = Document::array();
  for (const OpenTxn& p : *producers) {
    const auto& s = p.producer;
    rows.push_back({p.topic, std::to_string(p.partition), std::to_string(s.producer_id),
                    std::to_string(s.producer_epoch), offset_cell(s.last_sequence),
                    offset_cell(s.last_timestamp), offset_cell(s.coordinator_epoch),
                    offset_cell(s.current_txn_start_offset)});
    auto opt = [](int64_t v) {
      return number_or_null(v >= 0 ? std::optional<int64_t>(v) : std::nullopt);
    };
    document.push_back({{"topic", p.topic},
                        {"partition", p.partition},
                        {"producer_id", s.producer_id},
                        {"producer_epoch", s.producer_epoch},
                        {"last_sequence", opt(s.last_sequence)},
                        {"last_timestamp", opt(s.last_timestamp)},
                        {"coordinator_epoch", opt(s.coordinator_epoch)},
                        {"txn_start_offset", opt(s.current_txn_start_offset)}});
  }
  print(rows, document, flags.format);
  return Status::ok_status();
}

struct HangingFlags {
  ConnectionFlags connection;
  std::string topic;
  std::string partitions;
  std::string max_timeout = "15m";
  bool dry_run = false;
  std::string format = "text";
};

// Whether some coordinator has `txn`'s producer in a transaction that includes its partition
// (then the coordinator will end it: not hanging).
Result<bool> coordinator_holds(WireCluster& cluster, const OpenTxn& txn) {
  protocol::ListTransactionsRequest request;
  request.producer_id_filters = {txn.producer.producer_id};
  for (const client::WireBroker& broker : cluster.brokers()) {
    auto connection = cluster.broker(broker.node_id);
    if (!connection.ok()) return connection.status();
    auto listed = (*connection)->call<protocol::ListTransactionsResponse>(request);
    if (!listed.ok()) return listed.status();
    RETURN_IF_ERROR(client::wire_error(listed->error_code, "listing transactions"));
    for (const auto& listing : listed->transaction_states) {
      int32_t coordinator = -1;
      auto state = describe_id(cluster, listing.transactional_id, &coordinator);
      // Only an id gone meanwhile (TRANSACTIONAL_ID_NOT_FOUND, the one not_found describe_id
      // returns) may be passed over: any other failure leaves the question open, and a
      // transaction a coordinator may still hold must never be aborted.
      if (!state.ok() && state.status().code() == StatusCode::not_found) continue;
      if (!state.ok()) return state.status();
      if (state->producer_id != txn.producer.producer_id) continue;
      for (const auto& topic : state->topics) {
        if (topic.topic != txn.topic) continue;
        for (int32_t p : topic.partitions) {
          if (p == txn.partition) return true;
        }
      }
    }
  }
  return false;
}

// Open transactions older than `max_timeout_ms` (by their last write) that no coordinator
// holds.
Result<std::vector<OpenTxn>> find_hanging(WireCluster& cluster, const HangingFlags& flags,
                                          int64_t max_timeout_ms) {
  auto producers = describe_producers(cluster, flags.topic, flags.partitions);
  if (!producers.ok()) return producers.status();
  std::vector<OpenTxn> hanging;
  const int64_t now = now_ms();
  for (const OpenTxn& txn : *producers) {
    if (txn.producer.current_txn_start_offset < 0) continue;
    if (now - txn.producer.last_timestamp < max_timeout_ms) continue;
    auto held = coordinator_holds(cluster, txn);
    if (!held.ok()) return held.status();
    if (!*held) hanging.push_back(txn);
  }
  return hanging;
}

Status abort_one(WireCluster& cluster, const OpenTxn& txn) {
  auto connection = cluster.broker(txn.leader);
  if (!connection.ok()) return connection.status();
  protocol::WriteTxnMarkersRequest request;
  protocol::WriteTxnMarkersRequest::WritableTxnMarker marker;
  marker.producer_id = txn.producer.producer_id;
  marker.producer_epoch = static_cast<int16_t>(txn.producer.producer_epoch);
  marker.transaction_result = false;  // ABORT
  marker.coordinator_epoch = std::max(txn.producer.coordinator_epoch, 0);
  marker.topics.push_back({txn.topic, {txn.partition}});
  request.markers.push_back(std::move(marker));
  auto written = (*connection)->call<protocol::WriteTxnMarkersResponse>(request);
  if (!written.ok()) return written.status();
  for (const auto& m : written->markers) {
    for (const auto& t : m.topics) {
      for (const auto& p : t.partitions) {
        if (t.name == txn.topic && p.partition_index == txn.partition) {
          return client::wire_error(p.error_code, "abort");
        }
      }
    }
  }
  return error(StatusCode::corrupt, "the broker did not answer for the partition");
}

Status run_hanging(const HangingFlags& flags, bool abort) {
  auto max_timeout_ms = client::parse_duration_ms(flags.max_timeout);
  if (!max_timeout_ms.ok()) return max_timeout_ms.status();
  auto cluster = connect_cluster(flags.connection);
  if (!cluster.ok()) return cluster.status();
  auto hanging = find_hanging(**cluster, flags, *max_timeout_ms);
  if (!hanging.ok()) return hanging.status();
  if (abort && flags.dry_run && flags.format == "text") print_dry_run_note();
  std::vector<std::string> header{"TOPIC",          "PARTITION",    "PRODUCER-ID",
                                  "PRODUCER-EPOCH", "START-OFFSET", "LAST-TIMESTAMP"};
  if (abort) header.push_back("STATUS");
  std::vector<std::vector<std::string>> rows{header};
  Document document = Document::array();
  size_t failed = 0;
  for (const OpenTxn& txn : *hanging) {
    const auto& s = txn.producer;
    std::vector<std::string> row{txn.topic,
                                 std::to_string(txn.partition),
                                 std::to_string(s.producer_id),
                                 std::to_string(s.producer_epoch),
                                 std::to_string(s.current_txn_start_offset),
                                 offset_cell(s.last_timestamp)};
    Document item{{"topic", txn.topic},
                  {"partition", txn.partition},
                  {"producer_id", s.producer_id},
                  {"producer_epoch", s.producer_epoch},
                  {"start_offset", s.current_txn_start_offset},
                  {"last_timestamp", s.last_timestamp}};
    if (abort) {
      Status aborted = flags.dry_run ? Status::ok_status() : abort_one(**cluster, txn);
      if (!aborted.ok()) failed++;
      row.push_back(status_cell(aborted, flags.dry_run));
      item["status"] = status_cell(aborted, flags.dry_run);
    }
    rows.push_back(std::move(row));
    document.push_back(std::move(item));
  }
  print(rows, document, flags.format);
  if (failed == 0) return Status::ok_status();
  return error(StatusCode::internal, fmt::format("{} of {} hanging transactions were not aborted",
                                                 failed, hanging->size()));
}

void add_hanging_options(CLI::App* command, HangingFlags& flags) {
  command->add_option("--topic", flags.topic, "Only this topic (default: every topic)");
  command->add_option("-p,--partitions", flags.partitions,
                      "Only these partitions of --topic, e.g. 0,2,5");
  command
      ->add_option("--max-transaction-timeout", flags.max_timeout,
                   "A transaction is a candidate once its last write is this old "
                   "(the brokers' transaction.max.timeout.ms)")
      ->capture_default_str();
  add_format_flag(command, flags.format);
  add_connection_flags(command, flags.connection);
}

}  // namespace

void add_txn_commands(CLI::App& app) {
  CLI::App* txn =
      app.add_subcommand("txn", "List and describe transactions; find and abort hanging ones");
  txn->require_subcommand(1);

  auto list_flags = std::make_shared<ListFlags>();
  CLI::App* list = txn->add_subcommand("list", "List the transactional ids of every coordinator");
  list->alias("ls");
  list->add_option("--state", list_flags->states,
                   "Only ids in this state (repeatable): Empty, Ongoing, PrepareCommit, ...");
  list->add_option("--producer-id", list_flags->producer_ids, "Only this producer id (repeatable)");
  add_format_flag(list, list_flags->format);
  add_connection_flags(list, list_flags->connection);
  list->callback([list_flags]() { run_command([&]() { return run_list(*list_flags); }); });

  auto describe_flags = std::make_shared<DescribeFlags>();
  CLI::App* describe = txn->add_subcommand(
      "describe", "Show transactional ids' state, producer, timeout and open partitions");
  describe->add_option("ids", describe_flags->ids, "Transactional ids")->required();
  add_format_flag(describe, describe_flags->format);
  add_connection_flags(describe, describe_flags->connection);
  describe->callback(
      [describe_flags]() { run_command([&]() { return run_describe(*describe_flags); }); });

  auto producers_flags = std::make_shared<ProducersFlags>();
  CLI::App* producers = txn->add_subcommand(
      "producers", "Show the producers partitions know, with their open transaction's offset");
  producers->add_option("topic", producers_flags->topic, "Topic")->required();
  producers->add_option("-p,--partitions", producers_flags->partitions,
                        "Only these partitions, e.g. 0,2,5");
  add_format_flag(producers, producers_flags->format);
  add_connection_flags(producers, producers_flags->connection);
  producers->callback(
      [producers_flags]() { run_command([&]() { return run_producers(*producers_flags); }); });

  auto find_flags = std::make_shared<HangingFlags>();
  CLI::App* find = txn->add_subcommand(
      "find-hanging", "List open transactions on partitions that no coordinator will end");
  add_hanging_options(find, *find_flags);
  find->callback(
      [find_flags]() { run_command([&]() { return run_hanging(*find_flags, false); }); });

  auto abort_flags = std::make_shared<HangingFlags>();
  CLI::App* abort = txn->add_subcommand(
      "abort-hanging", "Abort the hanging transactions find-hanging lists (ABORT markers)");
  add_hanging_options(abort, *abort_flags);
  abort->add_flag("--dry-run", abort_flags->dry_run, "List what would be aborted; change nothing");
  abort->callback(
      [abort_flags]() { run_command([&]() { return run_hanging(*abort_flags, true); }); });
}

}  // namespace cairn::cli
