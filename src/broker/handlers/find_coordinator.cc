// FindCoordinator (key 10, v0-3): which broker coordinates a group (key_type 0) or a
// transactional id (key_type 1). Cairn is one node: it is every coordinator. Other key types
// get INVALID_REQUEST. (v4's batched keys are not served.)
#include "protocol/generated/find_coordinator.h"
#include "broker/error_code.h"
#include "broker/handlers/handlers.h"

namespace cairn::broker {

namespace {
constexpr int8_t kKeyTypeGroup = 0;
constexpr int8_t kKeyTypeTransaction = 1;
}  // namespace

asio::awaitable<net::Reply> handle_find_coordinator(RequestContext ctx) {
  protocol::FindCoordinatorRequest request;
  if (!ctx.decode(request)) co_return net::Reply::close();
  protocol::FindCoordinatorResponse response;
  if (request.key_type != kKeyTypeGroup && request.key_type != kKeyTypeTransaction) {
    response.error_code = wire(ErrorCode::invalid_request);
    response.error_message = "unknown coordinator key type";
    response.node_id = -1;
    response.port = -1;
    co_return respond(ctx, response);
  }
  response.error_code = wire(ErrorCode::none);
  response.error_message = std::nullopt;
  response.node_id = ctx.broker->node_id.value();
  const net::HostPort& advertised = ctx.broker->advertised_for(ctx.connection.listener);
  response.host = advertised.host;
  response.port = advertised.port;
  co_return respond(ctx, response);
}

}  // namespace cairn::broker
