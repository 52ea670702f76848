#include "broker/configs/alter.h"

#include <algorithm>
#include <set>
#include <vector>

namespace cairn::broker::configs {
namespace {

AlterOutcome fail(ErrorCode error, std::string message) {
  AlterOutcome outcome;
  outcome.error = error;
  outcome.message = std::move(message);
  return outcome;
}

// The definition `name` has in `scope`, or the reason it cannot be set there.
Result<const ConfigDef*> settable(Scope scope, std::string_view name) {
  if (scope == Scope::topic) {
    const ConfigDef* def = find_topic_config(name);
    if (def == nullptr) {
      return error(StatusCode::invalid_argument, "Unknown topic config name: " + std::string(name));
    }
    return def;
  }
  const ConfigDef* def = find_broker_config(name);
  if (def == nullptr) {
    return error(StatusCode::invalid_argument, "Unknown broker config name: " + std::string(name));
  }
  if (def->read_only) {
    return error(StatusCode::invalid_argument,
                 "Cannot update these configs dynamically: " + std::string(name) +
                     " (set it in the config file or with a flag)");
  }
  return def;
}

std::vector<std::string> split_list(std::string_view value) {
  std::vector<std::string> items;
  size_t start = 0;
  while (!value.empty() && start <= value.size()) {
    size_t end = value.find(',', start);
    if (end == std::string_view::npos) end = value.size();
    items.emplace_back(value.substr(start, end - start));
    start = end + 1;
  }
  return items;
}

std::string join_list(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& item : items) {
    if (!out.empty()) out += ",";
    out += item;
  }
  return out;
}

std::string current_value(Scope scope, const ConfigMap& current, const ConfigDef& def,
                          const Layers& layers) {
  auto it = current.find(def.name);
  if (it != current.end()) return it->second;
  Resolved resolved = scope == Scope::topic ? resolve_topic_config(layers, {}, def)
                                            : resolve_broker_config(layers, def);
  return resolved.value.value_or("");
}

// APPEND adds the items not present yet; SUBTRACT removes every occurrence of the items.
std::string combine_lists(AlterOp op, std::string_view base, std::string_view change) {
  std::vector<std::string> items = split_list(base);
  for (const std::string& item : split_list(change)) {
    auto found = std::find(items.begin(), items.end(), item);
    if (op == AlterOp::append && found == items.end()) items.push_back(item);
    if (op == AlterOp::subtract)
      items.erase(std::remove(items.begin(), items.end(), item), items.end());
  }
  return join_list(items);
}

}  // namespace

AlterOutcome replace_configs(Scope scope, std::span<const AlterEntry> entries) {
  AlterOutcome outcome;
  for (const AlterEntry& entry : entries) {
    Result<const ConfigDef*> def = settable(scope, entry.name);
    if (!def.ok()) return fail(ErrorCode::invalid_config, def.status().message());
    if (!entry.value.has_value()) {
      return fail(ErrorCode::invalid_config, "Null value not supported for config " + entry.name);
    }
    Result<std::string> value = validate_value(**def, *entry.value);
    if (!value.ok()) return fail(ErrorCode::invalid_config, value.status().message());
    outcome.configs[entry.name] = std::move(value).value();
  }
  return outcome;
}

AlterOutcome apply_incremental(Scope scope, const ConfigMap& current,
                               std::span<const AlterEntry> entries, const Layers& layers) {
  AlterOutcome outcome;
  outcome.configs = current;
  std::set<std::string_view> seen;
  for (const AlterEntry& entry : entries) {
    if (!seen.insert(entry.name).second) {
      return fail(ErrorCode::invalid_request, "Duplicate config key: " + entry.name);
    }
    auto op = static_cast<int8_t>(entry.op);
    if (op < 0 || op > static_cast<int8_t>(AlterOp::subtract)) {
      return fail(ErrorCode::invalid_request, "Unknown config operation " + std::to_string(op));
    }
    Result<const ConfigDef*> def = settable(scope, entry.name);
    if (!def.ok()) return fail(ErrorCode::invalid_config, def.status().message());
    if (entry.op == AlterOp::remove) {
      outcome.configs.erase(entry.name);
      continue;
    }
    if (!entry.value.has_value()) {
      return fail(ErrorCode::invalid_request, "Null value not supported for config " + entry.name);
    }
    std::string value = *entry.value;
    if (entry.op == AlterOp::append || entry.op == AlterOp::subtract) {
      if ((*def)->type != ConfigType::list) {
        return fail(ErrorCode::invalid_config,
                    "Config value append/subtract is not allowed for config key: " + entry.name);
      }
      Result<std::string> change = validate_value(**def, value);
      if (!change.ok()) return fail(ErrorCode::invalid_config, change.status().message());
      value = combine_lists(entry.op, current_value(scope, current, **def, layers), *change);
    }
    Result<std::string> normalized = validate_value(**def, value);
    if (!normalized.ok()) return fail(ErrorCode::invalid_config, normalized.status().message());
    outcome.configs[entry.name] = std::move(normalized).value();
  }
  return outcome;
}

}  // namespace cairn::broker::configs
