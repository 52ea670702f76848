// The `cairn` subcommands. main.cc builds one CLI11 app and lets each group of commands add
// itself; a command's callback stores the process exit code with set_exit_code(). Main thread.
#pragma once

namespace CLI {
class App;
}

namespace cairn::cli {

// `cairn serve`: the broker (serve.cc).
void add_serve_command(CLI::App& app);
// `cairn topic|produce|consume|group ...`: Kafka clients on librdkafka (client_commands.cc).
void add_client_commands(CLI::App& app);

// `cairn config defaults|docs`: the default config file and the reference tables
// (config_command.cc).
void add_config_command(CLI::App& app);

// `cairn version`, `cairn --version`, and usage errors that name the unknown command and print
// that command's usage (meta_commands.cc).
void add_meta_commands(CLI::App& app);
// "cairn VERSION (GIT-REVISION)", generated at build time (version.cmake).
const char* version_text();

void set_exit_code(int code);
int exit_code();

}  // namespace cairn::cli
