// `cairn config defaults [--data-dir DIR]`: the YAML config file with every setting commented
// out at its built-in default (the package ships its output as /etc/cairn/cairn.yaml).
// `cairn config docs flags|topic|broker`: the tables of docs/configuration.md, which
// tools/config_doc.py splices in and checks. Both read the definitions `cairn serve` uses
// (serve_options.h), so neither can drift from the broker.
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <memory>
#include <string>

#include "main/commands.h"
#include "main/serve_options.h"

namespace cairn::cli {

namespace {

struct ConfigCommandOptions {
  std::string data_dir;
  std::string table;
};

// A `cairn serve` command line with nothing given: the defaults of every flag.
std::unique_ptr<CLI::App> default_serve(ServeOptions& options) {
  auto serve = std::make_unique<CLI::App>("cairn serve", "serve");
  add_serve_options(*serve, options);
  return serve;
}

}  // namespace

void add_config_command(CLI::App& app) {
  auto options = std::make_shared<ConfigCommandOptions>();
  CLI::App* config = app.add_subcommand(
      "config", "Print the default config file, or the configuration reference tables");
  config->require_subcommand(1);

  CLI::App* defaults = config->add_subcommand(
      "defaults", "Print a config file with every setting commented out at its default");
  defaults->add_option("--data-dir", options->data_dir, "Write this data-dir, not commented out")
      ->type_name("DIR");
  defaults->callback([options] {
    ServeOptions serve_options;
    std::unique_ptr<CLI::App> serve = default_serve(serve_options);
    fmt::print("{}", config_yaml(*serve, {}, true, options->data_dir));
  });

  CLI::App* docs = config->add_subcommand(
      "docs", "Print a table of docs/configuration.md (tools/config_doc.py writes them)");
  docs->add_option("table", options->table, "flags, topic or broker")
      ->required()
      ->check(CLI::IsMember({"flags", "topic", "broker"}));
  docs->callback([options] {
    ServeOptions serve_options;
    std::unique_ptr<CLI::App> serve = default_serve(serve_options);
    fmt::print("{}", config_doc_table(*serve, options->table));
  });
}

}  // namespace cairn::cli
