#include "main/cli_output.h"

#include <CLI/CLI.hpp>

#include <cassert>
#include <cctype>
#include <cstdio>

namespace cairn::cli {

namespace {

bool is_yaml_keyword(const std::string& text) {
  static const char* const kWords[] = {"true", "false", "yes", "no", "on",
                                       "off",  "null",  "y",   "n",  "~"};
  std::string lower;
  for (unsigned char c : text) lower.push_back(static_cast<char>(std::tolower(c)));
  for (const char* word : kWords) {
    if (lower == word) return true;
  }
  return false;
}

// Plain (unquoted) only for a conservative set: starts with a letter, '_' or '/', then letters,
// digits and _ . / @ -. Anything else (numbers, empty, ':' or '#', spaces) gets quotes.
std::string yaml_string(const std::string& text) {
  bool plain =
      !text.empty() && !is_yaml_keyword(text) &&
      (std::isalpha(static_cast<unsigned char>(text[0])) || text[0] == '_' || text[0] == '/');
  for (char c : text) {
    if (!plain) break;
    plain = std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '/' ||
            c == '@' || c == '-';
  }
  if (plain) return text;
  return Document(text).dump(-1, ' ', false, Document::error_handler_t::replace);
}

bool is_block(const Document& value) {
  return (value.is_object() || value.is_array()) && !value.empty();
}

std::string yaml_scalar(const Document& value) {
  if (value.is_string()) return yaml_string(value.get<std::string>());
  if (value.is_object()) return "{}";  // empty: blocks never get here
  if (value.is_array()) return "[]";
  return value.dump();  // null, true/false, numbers
}

// Appends a non-empty map or list, each line indented by `indent` spaces.
void append_block(const Document& value, size_t indent, std::string& out) {
  assert(is_block(value));
  std::string pad(indent, ' ');
  if (value.is_object()) {
    for (const auto& [key, item] : value.items()) {
      out += pad + yaml_string(key) + ":";
      if (!is_block(item)) {
        out += " " + yaml_scalar(item) + "\n";
        continue;
      }
      out += "\n";
      append_block(item, indent + 2, out);
    }
    return;
  }
  for (const Document& item : value) {
    if (!is_block(item)) {
      out += pad + "- " + yaml_scalar(item) + "\n";
      continue;
    }
    // The item's block, indented two more, with "- " over the first line's indentation.
    std::string nested;
    append_block(item, indent + 2, nested);
    out += pad + "- " + nested.substr(indent + 2);
  }
}

}  // namespace

void add_format_flag(CLI::App* command, std::string& format) {
  command->add_option("--format", format, "Output format: text, json or yaml")
      ->check(CLI::IsMember({"text", "json", "yaml"}))
      ->capture_default_str();
}

std::string to_yaml(const Document& document) {
  if (!is_block(document)) return yaml_scalar(document) + "\n";
  std::string out;
  append_block(document, 0, out);
  return out;
}

void print_document(const Document& document, const std::string& format) {
  assert(format == "json" || format == "yaml");
  std::string text = format == "json"
                         ? document.dump(2, ' ', false, Document::error_handler_t::replace) + "\n"
                         : to_yaml(document);
  std::fwrite(text.data(), 1, text.size(), stdout);
}

Document number_or_null(std::optional<int64_t> value) {
  return value ? Document(*value) : Document();
}

}  // namespace cairn::cli
