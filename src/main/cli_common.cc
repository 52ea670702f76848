#include "main/cli_common.h"

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>

#include "client/parse.h"
#include "main/commands.h"

namespace cairn::cli {

void add_connection_flags(CLI::App* command, ConnectionFlags& flags) {
  command->add_option("-b,--brokers", flags.brokers, "Bootstrap brokers, host:port[,host:port...]")
      ->envname("CAIRN_BROKERS")
      ->capture_default_str();
  command->add_option("-X,--property", flags.properties,
                      "librdkafka client property key=value (repeatable), e.g. "
                      "-X security.protocol=ssl");
  command->add_option("--timeout", flags.timeout, "Bound on each request or wait (e.g. 10s)")
      ->capture_default_str();
  command->add_flag("--verbose-client", flags.verbose, "Print librdkafka's log lines");
}

Result<client::ClientOptions> client_options(const ConnectionFlags& flags) {
  client::ClientOptions options;
  options.brokers = flags.brokers;
  options.properties = flags.properties;
  options.verbose_logs = flags.verbose;
  auto timeout_ms = client::parse_duration_ms(flags.timeout);
  if (!timeout_ms.ok()) return timeout_ms.status();
  if (*timeout_ms <= 0 || *timeout_ms > 3'600'000) {
    return error(StatusCode::invalid_argument, "--timeout must be between 1ms and 1h");
  }
  options.timeout_ms = static_cast<int>(*timeout_ms);
  return options;
}

void run_command(const std::function<Status()>& body) {
  Status status = body();
  std::fflush(stdout);
  if (!status.ok()) {
    std::fprintf(stderr, "error: %s\n", status.message().c_str());
    set_exit_code(1);
  }
}

void print_table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    if (widths.size() < row.size()) widths.resize(row.size(), 0);
    for (size_t i = 0; i < row.size(); i++) widths[i] = std::max(widths[i], row[i].size());
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); i++) {
      line += row[i];
      if (i + 1 < row.size()) line.append(widths[i] - row[i].size() + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
}

std::string status_cell(const Status& status, bool dry_run) {
  if (!status.ok()) return status.message();
  return dry_run ? "OK (dry run)" : "OK";
}

void print_dry_run_note() { std::fputs("(dry run: nothing was changed)\n", stdout); }

Result<FirstBroker> connect_first_broker(const ConnectionFlags& flags) {
  auto options = client_options(flags);
  if (!options.ok()) return options.status();
  auto cluster = client::WireCluster::connect(*options);
  if (!cluster.ok()) return cluster.status();
  if ((*cluster)->brokers().empty()) return error(StatusCode::not_found, "no broker in metadata");
  auto connection = (*cluster)->broker((*cluster)->brokers().front().node_id);
  if (!connection.ok()) return connection.status();
  return FirstBroker{std::move(cluster).value(), *connection};
}

}  // namespace cairn::cli
