// Commands about `cairn` itself: `cairn version` and `--version`, and how usage errors read.
// CLI11's own message for an unknown command is "A subcommand is required" (the unknown word
// lands in the command's leftover arguments); the failure message below names the word and
// the command it was given to, and prints that command's usage, like rpk and git do.
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <string>

#include "main/commands.h"

namespace cairn::cli {

namespace {

bool has_commands(const CLI::App& command) {
  auto children =
      command.get_subcommands([](const CLI::App* child) { return !child->get_name().empty(); });
  return !children.empty();
}

// The message for a failed parse of the whole command line (`root` is the top-level app).
std::string failure_message(const CLI::App* root, const CLI::Error& failure) {
  // The deepest command the parse reached, and its name as typed: "cairn topic".
  const CLI::App* command = root;
  std::string parent_path;
  std::string path = "cairn";
  while (!command->get_subcommands().empty()) {
    command = command->get_subcommands().back();
    parent_path = path;
    path += " " + command->get_name();
  }
  bool missing_command =
      failure.get_name() == "RequiredError" || failure.get_name() == "ExtrasError";
  if (missing_command && has_commands(*command)) {
    std::string unknown;
    for (const std::string& word : command->remaining()) {
      if (!word.empty() && word[0] != '-') {
        unknown = word;
        break;
      }
    }
    // help(prev) titles a subcommand's usage "PREV NAME": "Usage: cairn topic ...".
    std::string usage = command == root ? command->help() : command->help(parent_path);
    if (!unknown.empty()) {
      return fmt::format("error: unknown command '{}' for '{}'\n\n{}", unknown, path, usage);
    }
    if (command->remaining().empty()) {
      return fmt::format("error: '{}' needs a command\n\n{}", path, usage);
    }
  }
  return CLI::FailureMessage::simple(root, failure);
}

}  // namespace

void add_meta_commands(CLI::App& app) {
  app.set_version_flag("--version", std::string(version_text()), "Print the version and exit");
  app.failure_message(failure_message);
  CLI::App* version = app.add_subcommand("version", "Print the version (and git revision)");
  version->callback([]() { fmt::print("{}\n", version_text()); });
}

}  // namespace cairn::cli
