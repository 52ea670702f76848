// FindCoordinator (key 10, v0-6): which broker coordinates a group (key_type 0) or a
// transactional id (key_type 1). Cairn is one node: it is every coordinator. v0-3 ask for one
// key and answer at the top level; v4+ ask for a batch of keys of one type (KIP-699) and answer
// one coordinator entry per key, in request order. A key type Cairn does not coordinate (2,
// share groups of KIP-932, which v6 may name) gets INVALID_REQUEST with node -1, port -1, as
// Kafka answers while share groups are disabled — per key from v4. v5 only tells the broker
// the client understands TRANSACTION_ABORTABLE (KIP-890), which FindCoordinator never returns.
// Authorization: DESCRIBE on the group or transactional id (else GROUP_ /
// TRANSACTIONAL_ID_AUTHORIZATION_FAILED), per key.
#include "protocol/generated/find_coordinator.h"
#include "broker/error_code.h"
#include "broker/handlers/handlers.h"

namespace cairn::broker {

namespace {
constexpr int8_t kKeyTypeGroup = 0;
constexpr int8_t kKeyTypeTransaction = 1;
constexpr int16_t kFirstBatchedVersion = 4;

struct Located {
  ErrorCode error = ErrorCode::none;
  std::optional<std::string> error_message;
  int32_t node_id = -1;
  std::string host;
  int32_t port = -1;
};

Located locate(const RequestContext& ctx, int8_t key_type, const std::string& key) {
  Located out;
  if (key_type != kKeyTypeGroup && key_type != kKeyTypeTransaction) {
    out.error = ErrorCode::invalid_request;
    out.error_message = "unknown coordinator key type";
    return out;
  }
  bool group = key_type == kKeyTypeGroup;
  if (!ctx.allowed(AclOperation::describe,
                   group ? AclResourceType::group : AclResourceType::transactional_id, key)) {
    out.error = group ? ErrorCode::group_authorization_failed
                      : ErrorCode::transactional_id_authorization_failed;
    return out;
  }
  out.node_id = ctx.broker->node_id.value();
  const net::HostPort& advertised = ctx.broker->advertised_for(ctx.connection.listener);
  out.host = advertised.host;
  out.port = advertised.port;
  return out;
}

}  // namespace

asio::awaitable<net::Reply> handle_find_coordinator(RequestContext ctx) {
  protocol::FindCoordinatorRequest request;
  if (!ctx.decode(request)) co_return net::Reply::close();
  protocol::FindCoordinatorResponse response;
  if (ctx.api_version() >= kFirstBatchedVersion) {
    for (std::string& key : request.coordinator_keys) {
      Located located = locate(ctx, request.key_type, key);
      protocol::FindCoordinatorResponse::Coordinator out;
      out.key = std::move(key);
      out.node_id = located.node_id;
      out.host = located.host;
      out.port = located.port;
      out.error_code = wire(located.error);
      out.error_message = located.error_message;
      response.coordinators.push_back(std::move(out));
    }
    co_return respond(ctx, response);
  }
  Located located = locate(ctx, request.key_type, request.key);
  response.error_code = wire(located.error);
  response.error_message = located.error_message;
  response.node_id = located.node_id;
  response.host = std::move(located.host);
  response.port = located.port;
  co_return respond(ctx, response);
}

}  // namespace cairn::broker
