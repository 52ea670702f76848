// DescribeConfigs (key 32): every config of a topic, of this broker, or of its loggers.
//
// A resource gets ALL its configs, not only the overrides, each with its value, source
// (v1+), read_only, is_sensitive, synonyms (v1+, when asked) and type and documentation (v3+,
// documentation when asked): tools read-modify-write configs from this answer, so a missing
// entry is a config they silently drop (Tansu's bug). configuration_keys narrows the list
// (null or empty: all); unknown keys are left out, as Kafka does.
//
// Resources: TOPIC (2) — INVALID_TOPIC_EXCEPTION for an illegal name, UNKNOWN_TOPIC_OR_PARTITION
// for a missing one. BROKER (4) — "<node id>": every broker config with its effective value;
// "": the cluster-wide dynamic defaults only. BROKER_LOGGER (8) — the log level ("root").
// Anything else, or another broker's id: INVALID_REQUEST, and the other resources still answer.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <string>

#include "broker/configs/alter.h"
#include "broker/configs/resolve.h"
#include "broker/error_code.h"
#include "broker/handlers/admin_support.h"
#include "broker/handlers/handlers.h"
#include "protocol/generated/describe_configs.h"

namespace cairn::broker {
namespace {

using configs::ConfigSource;
using configs::ResourceType;
using protocol::DescribeConfigsRequest;
using protocol::DescribeConfigsResponse;
using Entry = DescribeConfigsResponse::DescribeConfigsResourceResult;
using Result_ = DescribeConfigsResponse::DescribeConfigsResult;

struct Options {
  bool include_synonyms = false;
  bool include_documentation = false;
  const std::optional<std::vector<std::string>>* keys = nullptr;

  bool wanted(std::string_view name) const {
    // Null or empty: every config (Kafka treats both alike).
    if (keys == nullptr || !keys->has_value() || (*keys)->empty()) return true;
    for (const std::string& key : **keys) {
      if (key == name) return true;
    }
    return false;
  }
};

Entry make_entry(const configs::Resolved& resolved, bool is_default, bool read_only,
                 const Options& options) {
  const configs::ConfigDef& def = *resolved.def;
  Entry entry;
  entry.name = std::string(def.name);
  entry.value = resolved.value;
  entry.read_only = read_only;
  entry.is_default = is_default;
  entry.config_source = static_cast<int8_t>(resolved.source);
  entry.is_sensitive = false;
  if (options.include_synonyms) {
    for (const configs::Synonym& synonym : resolved.synonyms) {
      entry.synonyms.push_back({synonym.name, synonym.value, static_cast<int8_t>(synonym.source)});
    }
  }
  entry.config_type = static_cast<int8_t>(def.type);
  entry.documentation = std::nullopt;
  if (options.include_documentation) entry.documentation = std::string(def.documentation);
  return entry;
}

// A read-only setting of the process itself (listeners, log.dirs, ...): STATIC_BROKER_CONFIG.
Entry process_entry(std::string name, std::string value, configs::ConfigType type,
                    std::string_view documentation, const Options& options) {
  Entry entry;
  entry.name = name;
  entry.value = value;
  entry.read_only = true;
  entry.is_default = false;
  entry.config_source = static_cast<int8_t>(ConfigSource::static_broker);
  if (options.include_synonyms) {
    entry.synonyms.push_back({name, value, static_cast<int8_t>(ConfigSource::static_broker)});
  }
  entry.config_type = static_cast<int8_t>(type);
  entry.documentation = std::nullopt;
  if (options.include_documentation) entry.documentation = std::string(documentation);
  return entry;
}

void fail(Result_& result, ErrorCode code, std::string message) {
  result.error_code = wire(code);
  result.error_message = std::move(message);
}

void describe_topic(const configs::Layers& layers, const TopicTable& topics, const Options& options,
                    Result_& result) {
  Status legal = validate_topic_name(result.resource_name);
  if (!legal.ok()) return fail(result, ErrorCode::invalid_topic_exception, legal.message());
  const TopicInfo* topic = topics.find(result.resource_name);
  if (topic == nullptr) {
    return fail(result, ErrorCode::unknown_topic_or_partition,
                "Topic " + result.resource_name + " does not exist");
  }
  for (const configs::ConfigDef& def : configs::topic_config_defs()) {
    if (!options.wanted(def.name)) continue;
    configs::Resolved resolved = configs::resolve_topic_config(layers, topic->configs, def);
    bool is_default = resolved.source != ConfigSource::dynamic_topic;
    result.configs.push_back(make_entry(resolved, is_default, false, options));
  }
}

void describe_process(const BrokerState& broker, const Options& options, Result_& result) {
  using configs::ConfigType;
  std::string node = std::to_string(broker.node_id.value());
  const BrokerConfig& config = broker.config;
  // The listeners as they run: bound ports (not 0) and advertised addresses filled in.
  std::string listener;
  std::string advertised;
  for (const ListenerEndpoint& endpoint : broker.listeners) {
    std::string separator = listener.empty() ? "" : ",";
    listener += separator + endpoint.name + "://" + endpoint.bound.host + ":" +
                std::to_string(endpoint.bound.port);
    advertised += separator + endpoint.name + "://" + endpoint.advertised.host + ":" +
                  std::to_string(endpoint.advertised.port);
  }
  struct Row {
    const char* name;
    std::string value;
    ConfigType type;
    const char* documentation;
  };
  const Row rows[] = {
      {"advertised.listeners", advertised, ConfigType::string, "What Metadata tells clients."},
      {"broker.id", node, ConfigType::int32, "This broker's id (--node-id)."},
      {"connections.max.idle.ms", std::to_string(config.limits.idle_timeout.count()),
       ConfigType::int64, "Idle connections are closed after this (--idle-timeout-ms)."},
      {"listeners", listener, ConfigType::string, "Where the broker accepts clients."},
      {"log.dirs", config.data_dir.string(), ConfigType::string, "The data directory."},
      {"node.id", node, ConfigType::int32, "This broker's id (--node-id)."},
      {"socket.request.max.bytes", std::to_string(config.limits.frame_bytes_max), ConfigType::int32,
       "Largest request (--max-frame-bytes)."},
  };
  for (const Row& row : rows) {
    if (!options.wanted(row.name)) continue;
    result.configs.push_back(
        process_entry(row.name, row.value, row.type, row.documentation, options));
  }
}

void describe_broker(const BrokerState& broker, const configs::Layers& layers,
                     const Options& options, Result_& result) {
  if (result.resource_name.empty()) {  // the cluster-wide dynamic defaults only
    for (const auto& [name, value] : layers.dynamic->cluster_default) {
      const configs::ConfigDef* def = configs::find_broker_config(name);
      if (def == nullptr || !options.wanted(name)) continue;
      configs::Resolved resolved;
      resolved.def = def;
      resolved.value = value;
      resolved.source = ConfigSource::dynamic_default_broker;
      resolved.synonyms.push_back({name, value, ConfigSource::dynamic_default_broker});
      result.configs.push_back(make_entry(resolved, false, false, options));
    }
    return;
  }
  if (result.resource_name != std::to_string(broker.node_id.value())) {
    return fail(result, ErrorCode::invalid_request,
                "Unexpected broker id, expected " + std::to_string(broker.node_id.value()) +
                    " or empty string, but received " + result.resource_name);
  }
  describe_process(broker, options, result);
  for (const configs::ConfigDef& def : configs::broker_config_defs()) {
    if (!options.wanted(def.name)) continue;
    if (def.name == "listeners" || def.name == "advertised.listeners") continue;  // above
    configs::Resolved resolved = configs::resolve_broker_config(layers, def);
    bool is_default = resolved.source == ConfigSource::default_config;
    result.configs.push_back(make_entry(resolved, is_default, def.read_only, options));
  }
  std::sort(result.configs.begin(), result.configs.end(),
            [](const Entry& a, const Entry& b) { return a.name < b.name; });
}

std::string level_name(spdlog::level::level_enum level) {
  spdlog::string_view_t name = spdlog::level::to_string_view(level);
  std::string upper(name.data(), name.size());
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return upper == "WARNING" ? "WARN" : upper;
}

void describe_loggers(const BrokerState& broker, const Options& options, Result_& result) {
  if (result.resource_name != std::to_string(broker.node_id.value())) {
    return fail(result, ErrorCode::invalid_request,
                "Unexpected broker id " + result.resource_name + " for BROKER_LOGGER");
  }
  if (!options.wanted("root")) return;
  Entry entry;
  entry.name = "root";
  entry.value = level_name(spdlog::get_level());
  entry.config_source = static_cast<int8_t>(ConfigSource::dynamic_broker_logger);
  entry.config_type = static_cast<int8_t>(configs::ConfigType::string);
  entry.documentation = std::nullopt;
  if (options.include_synonyms) {
    entry.synonyms.push_back({"root", entry.value, entry.config_source});
  }
  result.configs.push_back(std::move(entry));
}

}  // namespace

asio::awaitable<net::Reply> handle_describe_configs(RequestContext ctx) {
  DescribeConfigsRequest request;
  if (!ctx.decode(request)) co_return net::Reply::close();
  const BrokerState& broker = *ctx.broker;
  configs::Layers layers = configs::layers_of(broker);
  std::shared_ptr<const TopicTable> topics = broker.topics->snapshot();

  DescribeConfigsResponse response;
  response.results.reserve(request.resources.size());
  for (const DescribeConfigsRequest::DescribeConfigsResource& resource : request.resources) {
    Result_ result;
    result.error_code = wire(ErrorCode::none);
    result.error_message = std::nullopt;
    result.resource_type = resource.resource_type;
    result.resource_name = resource.resource_name;
    Options options{ctx.api_version() >= 1 && request.include_synonyms,
                    ctx.api_version() >= 3 && request.include_documentation,
                    &resource.configuration_keys};
    ErrorCode refused = config_authorization(ctx, resource.resource_type, resource.resource_name,
                                             AclOperation::describe_configs);
    if (refused != ErrorCode::none) {
      fail(result, refused, "not authorized to describe the configs of this resource");
      response.results.push_back(std::move(result));
      continue;
    }
    switch (static_cast<ResourceType>(resource.resource_type)) {
      case ResourceType::topic:
        describe_topic(layers, *topics, options, result);
        break;
      case ResourceType::broker:
        describe_broker(broker, layers, options, result);
        break;
      case ResourceType::broker_logger:
        describe_loggers(broker, options, result);
        break;
      default:
        fail(result, ErrorCode::invalid_request,
             "Unsupported resource type " + std::to_string(resource.resource_type));
    }
    response.results.push_back(std::move(result));
  }
  co_return respond(ctx, response);
}

}  // namespace cairn::broker
