#include "broker/configs/broker_config_file.h"

#include <yaml-cpp/yaml.h>

#include <fstream>
#include <set>
#include <sstream>

namespace cairn::broker::configs {
namespace {

Status bad(const YAML::Node& node, const std::string& what) {
  YAML::Mark mark = node.Mark();
  std::string where = mark.is_null() ? "" : "line " + std::to_string(mark.line + 1) + ": ";
  return error(StatusCode::invalid_argument, where + what);
}

// A key or value must be a plain scalar ("3", "true", "0.0.0.0:9092").
Result<std::string> scalar(const YAML::Node& node, const std::string& what) {
  if (!node.IsScalar()) return bad(node, what + " must be a single value");
  return node.Scalar();
}

Status parse_kafka(const YAML::Node& mapping, ConfigMap& out) {
  if (mapping.IsNull()) return Status::ok_status();  // `kafka:` with nothing under it
  if (!mapping.IsMap()) return bad(mapping, "`kafka` must be a mapping of config names");
  for (const auto& entry : mapping) {
    Result<std::string> key = scalar(entry.first, "a config name");
    if (!key.ok()) return key.status();
    // `name: ~` (or nothing after the colon) leaves the config unset, as if not listed.
    if (entry.second.IsNull()) continue;
    Result<std::string> value = scalar(entry.second, "the value of kafka." + *key);
    if (!value.ok()) return value.status();
    if (!out.emplace(*key, *value).second) return bad(entry.first, "kafka." + *key + " twice");
  }
  return Status::ok_status();
}

Result<ConfigFile> parse_document(const YAML::Node& root) {
  ConfigFile file;
  if (root.IsNull()) return file;  // an empty file sets nothing
  if (!root.IsMap()) return bad(root, "the file must be a mapping (key: value lines)");
  std::set<std::string> seen;
  for (const auto& entry : root) {
    Result<std::string> key = scalar(entry.first, "a key");
    if (!key.ok()) return key.status();
    if (!seen.insert(*key).second) return bad(entry.first, "key '" + *key + "' given twice");
    if (*key == "kafka") {
      RETURN_IF_ERROR(parse_kafka(entry.second, file.kafka));
      continue;
    }
    Result<std::string> value = scalar(entry.second, "the value of " + *key);
    if (!value.ok()) return value.status();
    file.settings.emplace_back(*key, *value);
  }
  return file;
}

}  // namespace

Result<ConfigFile> parse_config_file(std::string_view text) {
  try {
    return parse_document(YAML::Load(std::string(text)));
  } catch (const YAML::Exception& e) {  // yaml-cpp reports syntax errors by exception
    return error(StatusCode::invalid_argument,
                 "line " + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
}

Result<ConfigFile> load_config_file(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return error(StatusCode::not_found, path.string() + ": no such file");
  }
  uintmax_t size = std::filesystem::file_size(path, ec);
  if (ec || size > kConfigFileBytesMax) {
    return error(StatusCode::too_large, path.string() + ": larger than 1 MiB or unreadable");
  }
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  if (!in.good() && !in.eof()) return error(StatusCode::io_error, path.string() + ": read error");
  Result<ConfigFile> file = parse_config_file(text.str());
  if (!file.ok())
    return error(file.status().code(), path.string() + ": " + file.status().message());
  return file;
}

}  // namespace cairn::broker::configs
