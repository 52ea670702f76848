// ApiVersions (key 18): the APIs and versions this broker serves (the API table).
//
// KIP-511: a version above what we serve is answered, not refused: error UNSUPPORTED_VERSION
// with the v0 body listing (at least) ApiVersions' own range, so the client can retry with a
// version we do serve. The response header is always v0 (request_header.h does that).
#include <string_view>

#include "broker/handlers/api_table.h"
#include "broker/error_code.h"
#include "broker/handlers/handlers.h"
#include "protocol/generated/api_versions.h"

namespace cairn::broker {
namespace {

using protocol::ApiVersionsRequest;
using protocol::ApiVersionsResponse;

std::vector<ApiVersionsResponse::ApiVersion> served_apis() {
  std::vector<ApiVersionsResponse::ApiVersion> apis;
  for (const ApiEntry& entry : api_table()) {
    apis.push_back({entry.api_key, entry.min_version, entry.max_version});
  }
  return apis;
}

// KIP-511: client_software_name and _version must match [a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?
bool valid_software_field(std::string_view text) {
  if (text.empty()) return false;
  auto alnum = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  };
  if (!alnum(text.front()) || !alnum(text.back())) return false;
  for (char c : text) {
    if (!alnum(c) && c != '-' && c != '.') return false;
  }
  return true;
}

}  // namespace

asio::awaitable<net::Reply> handle_api_versions(RequestContext ctx) {
  const ApiEntry* self = find_api_entry(ApiVersionsRequest::kApiKey);
  ApiVersionsResponse response;
  if (!self->serves(ctx.api_version())) {
    response.error_code = wire(ErrorCode::unsupported_version);
    response.api_keys.push_back({self->api_key, self->min_version, self->max_version});
    co_return respond(ctx, response, /*version=*/0);
  }
  ApiVersionsRequest request;
  if (!ctx.decode(request)) co_return net::Reply::close();
  if (ctx.api_version() >= 3 && (!valid_software_field(request.client_software_name) ||
                                 !valid_software_field(request.client_software_version))) {
    response.error_code = wire(ErrorCode::invalid_request);
  }
  response.api_keys = served_apis();
  co_return respond(ctx, response);
}

}  // namespace cairn::broker
