// `--format text|json|yaml` of the listing commands (topic list|describe, group list|describe):
// the flag, and printing one JSON or YAML document built as nlohmann::ordered_json (field names
// in snake_case, in the order of the text table's columns; shapes in docs/cli.md). Main thread.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>

namespace CLI {
class App;
}

namespace cairn::cli {

using Document = nlohmann::ordered_json;

// Adds --format (text, json or yaml; default text) to `command`.
void add_format_flag(CLI::App* command, std::string& format);

// Prints `document` on stdout as JSON (indented) or YAML. REQUIRES: format is json or yaml.
void print_document(const Document& document, const std::string& format);

// The YAML text of `document`: block style; strings are plain unless YAML would read them as
// something else, then double-quoted with JSON escapes (which YAML accepts).
std::string to_yaml(const Document& document);

// A JSON number, or null for nullopt (an unknown offset, the "-" of the text table).
Document number_or_null(std::optional<int64_t> value);

}  // namespace cairn::cli
