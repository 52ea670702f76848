// cairn: one binary for the broker and its command-line tools.
#include <CLI/CLI.hpp>

#include "main/commands.h"

namespace cairn::cli {
namespace {
int g_exit_code = 0;
}  // namespace
void set_exit_code(int code) { g_exit_code = code; }
int exit_code() { return g_exit_code; }
}  // namespace cairn::cli

int main(int argc, char** argv) {
  CLI::App app{"cairn: a Kafka-compatible event streaming platform in one binary"};
  app.name("cairn");  // usage lines say `cairn`, not the path it was started by
  app.require_subcommand(1);
  cairn::cli::add_serve_command(app);
  cairn::cli::add_client_commands(app);
  cairn::cli::add_config_command(app);
  cairn::cli::add_meta_commands(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help prints and exits 0; every usage error exits 1, like any failed command.
    return app.exit(e) == 0 ? 0 : 1;
  }
  return cairn::cli::exit_code();
}
