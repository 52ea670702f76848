// `cairn topic|produce|consume|group|txn`: the Kafka client commands (docs/cli.md). They work
// against any Kafka-compatible cluster given with -b; each group lives in its own cli_*.cc.
#include <CLI/CLI.hpp>

#include "main/cli_common.h"
#include "main/commands.h"

namespace cairn::cli {

void add_client_commands(CLI::App& app) {
  add_topic_commands(app);
  add_produce_command(app);
  add_consume_command(app);
  add_group_commands(app);
  add_txn_commands(app);
  add_user_commands(app);
  add_acl_commands(app);
}

}  // namespace cairn::cli
