// Pieces every `cairn` client command shares: the connection flags (-b, -X, --timeout),
// running a command body with uniform error reporting and exit codes, and aligned tables.
// Main thread only.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "base/status.h"
#include "client/kafka_handle.h"
#include "client/wire.h"

namespace CLI {
class App;
}

namespace cairn::cli {

struct ConnectionFlags {
  std::string brokers = "127.0.0.1:9092";
  std::vector<std::string> properties;
  std::string timeout = "10s";
  bool verbose = false;
};

// Adds -b/--brokers (env CAIRN_BROKERS), -X/--property, --timeout and --verbose-client to
// `command`.
void add_connection_flags(CLI::App* command, ConnectionFlags& flags);

Result<client::ClientOptions> client_options(const ConnectionFlags& flags);

// A wire-client connection (client/wire.h) to the first broker of the cluster, for requests
// any broker answers alike (users, ACLs: Kafka forwards them to its controller). The cluster
// owns the connection.
struct FirstBroker {
  std::unique_ptr<client::WireCluster> cluster;
  client::WireConnection* connection = nullptr;
};
Result<FirstBroker> connect_first_broker(const ConnectionFlags& flags);

// Runs a command body: a failed status prints "error: <message>" on stderr and makes the
// process exit 1. A body that printed its own per-item errors returns a status whose message
// is the summary line.
void run_command(const std::function<Status()>& body);

// Prints rows as left-aligned columns separated by two spaces (the first row is the header).
void print_table(const std::vector<std::vector<std::string>>& rows);

// The command groups client_commands.cc assembles (cli_topic.cc, cli_produce.cc, ...).
void add_topic_commands(CLI::App& app);
void add_produce_command(CLI::App& app);
void add_consume_command(CLI::App& app);
void add_group_commands(CLI::App& app);
void add_txn_commands(CLI::App& app);
void add_user_commands(CLI::App& app);
void add_acl_commands(CLI::App& app);

// "OK" or the status message: the STATUS column of per-item results ("OK (dry run)" when
// nothing was changed).
std::string status_cell(const Status& status, bool dry_run = false);

// The first line of every --dry-run output: "(dry run: nothing was changed)".
void print_dry_run_note();

}  // namespace cairn::cli
