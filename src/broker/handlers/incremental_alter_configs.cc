// IncrementalAlterConfigs (key 44): SET / DELETE / APPEND / SUBTRACT on single configs of a
// topic, of a broker dynamic layer, or of the broker's log level.
//
// TOPIC and BROKER resources: as AlterConfigs (alter_configs.cc) for names, duplicates and
// error codes, except that only the configs named change. APPEND and SUBTRACT work on LIST
// configs (cleanup.policy, ...) and start from the current value, override or default; on any
// other type they are INVALID_CONFIG. An unknown operation or a null value to SET: INVALID_REQUEST.
//
// BROKER_LOGGER "<node id>": logger "root" is the broker's log level (TRACE, DEBUG, INFO, WARN,
// ERROR, FATAL, OFF); SET changes it at once (not persisted: the next start uses --log-level).
// Other loggers or levels: INVALID_CONFIG; DELETE of root, APPEND, SUBTRACT: INVALID_REQUEST.
#include <spdlog/spdlog.h>

#include <map>
#include <string>
#include <utility>

#include "broker/error_code.h"
#include "broker/handlers/admin_support.h"
#include "broker/handlers/handlers.h"
#include "protocol/generated/incremental_alter_configs.h"

namespace cairn::broker {
namespace {

using protocol::IncrementalAlterConfigsRequest;
using protocol::IncrementalAlterConfigsResponse;

std::optional<spdlog::level::level_enum> level_of(std::string_view name) {
  static const std::pair<std::string_view, spdlog::level::level_enum> kLevels[] = {
      {"TRACE", spdlog::level::trace}, {"DEBUG", spdlog::level::debug},
      {"INFO", spdlog::level::info},   {"WARN", spdlog::level::warn},
      {"ERROR", spdlog::level::err},   {"FATAL", spdlog::level::critical},
      {"OFF", spdlog::level::off}};
  for (const auto& [text, level] : kLevels) {
    if (text == name) return level;
  }
  return std::nullopt;
}

AlterAnswer alter_loggers(const BrokerState& broker,
                          const IncrementalAlterConfigsRequest::AlterConfigsResource& resource,
                          bool validate_only) {
  if (resource.resource_name != std::to_string(broker.node_id.value())) {
    return {ErrorCode::invalid_request, "Unexpected broker id " + resource.resource_name};
  }
  std::optional<spdlog::level::level_enum> level;
  for (const auto& config : resource.configs) {
    auto op = static_cast<configs::AlterOp>(config.config_operation);
    if (config.name != "root") {
      return {ErrorCode::invalid_config, "Logger " + config.name + " does not exist"};
    }
    if (op == configs::AlterOp::remove) {
      return {ErrorCode::invalid_request,
              "Removing the log level of the root logger is not "
              "allowed"};
    }
    if (op != configs::AlterOp::set) {
      return {ErrorCode::invalid_request, "Only SET and DELETE apply to BROKER_LOGGER"};
    }
    level = config.value.has_value() ? level_of(*config.value) : std::nullopt;
    if (!level.has_value()) {
      return {ErrorCode::invalid_config,
              "Cannot set the log level of root to " + config.value.value_or("null")};
    }
  }
  if (level.has_value() && !validate_only) {
    spdlog::set_level(*level);
    spdlog::info("log level set to {}", spdlog::level::to_string_view(*level));
  }
  return {};
}

}  // namespace

asio::awaitable<net::Reply> handle_incremental_alter_configs(RequestContext ctx) {
  IncrementalAlterConfigsRequest request;
  if (!ctx.decode(request)) co_return net::Reply::close();
  std::map<std::pair<int8_t, std::string_view>, int> counts;
  for (const auto& resource : request.resources) {
    counts[{resource.resource_type, resource.resource_name}]++;
  }

  IncrementalAlterConfigsResponse response;
  response.responses.reserve(request.resources.size());
  for (const auto& resource : request.resources) {
    AlterAnswer answer;
    auto type = static_cast<configs::ResourceType>(resource.resource_type);
    if (counts[{resource.resource_type, resource.resource_name}] > 1) {
      answer = {ErrorCode::invalid_request, "Duplicate resource in request"};
    } else if (ErrorCode refused =
                   config_authorization(ctx, resource.resource_type, resource.resource_name,
                                        AclOperation::alter_configs);
               refused != ErrorCode::none) {
      answer = {refused, "not authorized to alter the configs of this resource"};
    } else if (type == configs::ResourceType::broker_logger) {
      answer = alter_loggers(*ctx.broker, resource, request.validate_only);
    } else {
      std::vector<configs::AlterEntry> entries;
      entries.reserve(resource.configs.size());
      for (const auto& config : resource.configs) {
        entries.push_back(
            {config.name, config.value, static_cast<configs::AlterOp>(config.config_operation)});
      }
      answer = co_await alter_resource(ctx.broker, type, resource.resource_name, std::move(entries),
                                       /*incremental=*/true, request.validate_only);
    }
    IncrementalAlterConfigsResponse::AlterConfigsResourceResponse result;
    result.error_code = wire(answer.error);
    result.error_message = std::nullopt;
    if (answer.error != ErrorCode::none) result.error_message = answer.message;
    result.resource_type = resource.resource_type;
    result.resource_name = resource.resource_name;
    response.responses.push_back(std::move(result));
  }
  co_return respond(ctx, response);
}

}  // namespace cairn::broker
