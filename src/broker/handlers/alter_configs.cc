// AlterConfigs (key 33): replaces the whole override set of a topic or of a broker dynamic
// layer with the configs given (Kafka's non-incremental semantics: a config left out goes
// back to its default). Tools do read-modify-write with DescribeConfigs, which is why that
// answer lists every config.
//
// Per resource: the same resource twice in the request: INVALID_REQUEST; TOPIC: illegal name
// INVALID_TOPIC_EXCEPTION, missing UNKNOWN_TOPIC_OR_PARTITION; BROKER: "<node id>" or "" (the
// cluster default), any other name INVALID_REQUEST; BROKER_LOGGER and other types:
// INVALID_REQUEST (loggers are IncrementalAlterConfigs only, as in Kafka). Unknown config,
// bad value, null value, read-only broker config: INVALID_CONFIG; a key twice: INVALID_REQUEST.
// validate_only checks everything and changes nothing. See admin_support.h for the commit.
#include <map>
#include <string>
#include <utility>

#include "broker/error_code.h"
#include "broker/handlers/admin_support.h"
#include "broker/handlers/handlers.h"
#include "protocol/generated/alter_configs.h"

namespace cairn::broker {

asio::awaitable<net::Reply> handle_alter_configs(RequestContext ctx) {
  protocol::AlterConfigsRequest request;
  if (!ctx.decode(request)) co_return net::Reply::close();
  std::map<std::pair<int8_t, std::string_view>, int> counts;
  for (const auto& resource : request.resources) {
    counts[{resource.resource_type, resource.resource_name}]++;
  }

  protocol::AlterConfigsResponse response;
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
      answer = {ErrorCode::invalid_request,
                "AlterConfigs does not support BROKER_LOGGER; use IncrementalAlterConfigs"};
    } else {
      std::vector<configs::AlterEntry> entries;
      entries.reserve(resource.configs.size());
      for (const auto& config : resource.configs) entries.push_back({config.name, config.value});
      answer = co_await alter_resource(ctx.broker, type, resource.resource_name, std::move(entries),
                                       /*incremental=*/false, request.validate_only);
    }
    protocol::AlterConfigsResponse::AlterConfigsResourceResponse result;
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
