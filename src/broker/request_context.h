// RequestContext: everything a handler gets for one Kafka request, and the helpers it uses to
// decode the request and build its reply.
//
// A handler is a free coroutine, one per API, in handlers/<api>.cc:
//
//   asio::awaitable<net::Reply> handle_metadata(RequestContext ctx) {
//     protocol::MetadataRequest request;
//     if (!ctx.decode(request)) co_return net::Reply::close();   // malformed body
//     protocol::MetadataResponse response;
//     ...
//     co_return respond(ctx, response);       // or net::Reply::none() (acks=0 produce)
//   }
//
// It takes the context by value (it owns the frame the request's views point into) and runs
// on the connection's shard. To touch a partition it hops to the owning shard and back:
//
//   net::ShardId owner = ctx.broker->shard_of(topic, partition);
//   Result<X> r = co_await ctx.broker->shards->run_on(owner, append(args-by-value...));
//
// Until the handler returns (or calls ctx.ordering.release()), the connection hands no later
// request to the session; release at the request's ordering point to let the next request
// start while this one waits (see net/connection.h). Shard-local value; move-only.
#pragma once

#include <asio.hpp>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "base/assert.h"
#include "broker/broker_state.h"
#include "broker/security/acl.h"
#include "broker/security/identity.h"
#include "net/connection.h"
#include "net/frame.h"
#include "protocol/reader.h"
#include "protocol/request_header.h"
#include "protocol/writer.h"

namespace cairn::broker {

// What handlers name in their authorization checks.
using security::AclOperation;
using security::AclResourceType;

struct RequestContext {
  protocol::RequestHeader header;
  // The whole request frame. The handler owns it and may rewrite bytes in place (Produce
  // stamps each batch's base offset there instead of copying the batch).
  std::shared_ptr<std::vector<uint8_t>> frame;
  size_t body_offset = 0;  // where the body starts in `frame`
  const BrokerState* broker = nullptr;
  net::ConnectionInfo connection;
  net::OrderingToken ordering;
  // Who sent the request: listener, security protocol, principal, host (what ACLs match).
  // Null for the broker's own requests (the admin HTTP API, its operator): every check passes.
  std::shared_ptr<const security::SessionIdentity> identity;

  int16_t api_version() const { return header.api_version; }

  // Whether the request's principal may do `operation` on the named resource, by the ACLs
  // (security/authorizer.h); always true while authorizer.enabled is false. Checks as Kafka's
  // table of operations per API says; the handler answers the matching *_AUTHORIZATION_FAILED.
  // A denial goes to the access audit log (docs/audit.md) when it is on.
  bool allowed(security::AclOperation operation, security::AclResourceType type,
               std::string_view name) const;
  // allowed() for deciding what a response lists (Metadata's every-topic answer, ListGroups):
  // a denial there hides a resource rather than refusing a request, so it is not audited
  // (Kafka's logIfDenied=false).
  bool allowed_quietly(security::AclOperation operation, security::AclResourceType type,
                       std::string_view name) const;
  // Records an allowed READ or WRITE of `topic`'s `partitions` in the access audit log when
  // the log is on and the topic has cairn.audit.access=true; otherwise does nothing.
  void audit_access(security::AclOperation operation, std::string_view topic,
                    std::vector<int32_t> partitions) const;
  // Whether the principal may do `operation` on at least one resource of `type` (Kafka's
  // authorizeByResourceType, for InitProducerId without a transactional id).
  bool allowed_on_some(security::AclOperation operation, security::AclResourceType type) const;
  // Kafka's authorized-operations bit field for the resource (Metadata, DescribeGroups, ...).
  int32_t authorized_operations(security::AclResourceType type, std::string_view name) const;
  bool allowed_on_cluster(security::AclOperation operation) const {
    return allowed(operation, security::AclResourceType::cluster, security::kClusterResourceName);
  }
  bool allowed_on_cluster_quietly(security::AclOperation operation) const {
    return allowed_quietly(operation, security::AclResourceType::cluster,
                           security::kClusterResourceName);
  }

  protocol::Reader body() const {
    return protocol::Reader(std::span<const uint8_t>(*frame).subspan(body_offset));
  }

  // The writable bytes behind `view`, a view into this frame from a decoded request.
  std::span<uint8_t> writable(std::span<const uint8_t> view) const {
    ASSERT(view.data() >= frame->data() &&
           view.data() + view.size() <= frame->data() + frame->size());
    return std::span<uint8_t>(*frame).subspan(static_cast<size_t>(view.data() - frame->data()),
                                              view.size());
  }

  // Decodes the body at the request's version. False for a malformed body (the connection
  // should be closed, as Kafka does). Bytes after the body are ignored, as Kafka ignores them.
  template <typename Request>
  bool decode(Request& request) const {
    protocol::Reader reader = body();
    return request.decode(reader, header.api_version) && reader.ok();
  }
};

// Moves a finished protocol frame (no size prefix) into the network layer's frame type.
net::OutboundFrame to_outbound_frame(protocol::Frame frame);

// Encodes the response header for `ctx` and `response` at `version` (normally the request's).
// Counts a whole-request error code in /metrics. APIs that answer per partition count those
// themselves (Produce, Fetch).
template <typename Response>
void count_response_error(const RequestContext& ctx, const Response& response) {
  if constexpr (requires { int16_t{response.error_code}; }) {
    if (response.error_code != 0) {
      ctx.broker->metrics->count_error_code(ctx.header.api_key, response.error_code);
    }
  }
}

template <typename Response>
net::Reply respond(const RequestContext& ctx, const Response& response, int16_t version) {
  count_response_error(ctx, response);
  protocol::Writer writer;
  protocol::encode_response_header(writer, ctx.header);
  response.encode(writer, version);
  return net::Reply::respond(to_outbound_frame(std::move(writer).finish()));
}

template <typename Response>
net::Reply respond(const RequestContext& ctx, const Response& response) {
  return respond(ctx, response, ctx.header.api_version);
}

}  // namespace cairn::broker
