// DescribeAcls (key 29), CreateAcls (key 30) and DeleteAcls (key 31): the ACLs of the
// authorizer (security/authorizer.h), as Kafka's tools and admin clients manage them.
//
// As Kafka: without authorizer.enabled every answer is SECURITY_DISABLED; Describe needs
// DESCRIBE, Create and Delete need ALTER on the CLUSTER (else CLUSTER_AUTHORIZATION_FAILED);
// a binding or filter with a filter-only or unknown value, an empty name, a CLUSTER not named
// kafka-cluster or a principal that is not TYPE:NAME is INVALID_REQUEST, each on its own.
// Create and Delete apply the valid entries together and make them durable (MetaWriter, fsync)
// before answering; Delete returns what each filter removed.
#include <map>
#include <tuple>

#include "broker/error_code.h"
#include "broker/handlers/handlers.h"
#include "broker/meta_writer.h"
#include "broker/security/authorizer.h"
#include "protocol/generated/create_acls.h"
#include "protocol/generated/delete_acls.h"
#include "protocol/generated/describe_acls.h"

namespace cairn::broker {

namespace {

using protocol::CreateAclsRequest;
using protocol::CreateAclsResponse;
using protocol::DeleteAclsRequest;
using protocol::DeleteAclsResponse;
using protocol::DescribeAclsRequest;
using protocol::DescribeAclsResponse;
using security::AclBinding;
using security::AclFilter;
using security::AclOperation;
using security::Authorizer;

constexpr std::string_view kSecurityDisabled =
    "no authorizer is enabled on the broker (set authorizer.enabled)";

template <typename Filter>
AclFilter to_filter(const Filter& f) {
  AclFilter filter;
  filter.resource_type = static_cast<security::AclResourceType>(f.resource_type_filter);
  filter.resource_name = f.resource_name_filter;
  filter.pattern_type = static_cast<security::AclPatternType>(f.pattern_type_filter);
  filter.principal = f.principal_filter;
  filter.host = f.host_filter;
  if (filter.host) filter.host = security::normalize_acl_host(*filter.host);
  filter.operation = static_cast<AclOperation>(f.operation);
  filter.permission = static_cast<security::AclPermission>(f.permission_type);
  return filter;
}

AclBinding to_binding(const CreateAclsRequest::AclCreation& c) {
  AclBinding b;
  b.resource_type = static_cast<security::AclResourceType>(c.resource_type);
  b.resource_name = c.resource_name;
  b.pattern_type = static_cast<security::AclPatternType>(c.resource_pattern_type);
  b.principal = c.principal;
  b.host = security::normalize_acl_host(c.host);
  b.operation = static_cast<AclOperation>(c.operation);
  b.permission = static_cast<security::AclPermission>(c.permission_type);
  return b;
}

// The error every entry gets before any is looked at: the authorizer is off, or the principal
// may not do `operation` on the cluster.
std::pair<ErrorCode, std::string> refusal(const RequestContext& ctx, AclOperation operation) {
  if (!ctx.broker->authorizer->enabled()) {
    return {ErrorCode::security_disabled, std::string(kSecurityDisabled)};
  }
  if (!ctx.allowed_on_cluster(operation)) {
    return {
        ErrorCode::cluster_authorization_failed,
        "not authorized to " + std::string(security::acl_name(operation)) + " the cluster's ACLs"};
  }
  return {ErrorCode::none, ""};
}

DeleteAclsResponse::DeleteAclsMatchingAcl matching_acl(const AclBinding& b) {
  DeleteAclsResponse::DeleteAclsMatchingAcl m;
  m.error_message = std::nullopt;
  m.resource_type = static_cast<int8_t>(b.resource_type);
  m.resource_name = b.resource_name;
  m.pattern_type = static_cast<int8_t>(b.pattern_type);
  m.principal = b.principal;
  m.host = b.host;
  m.operation = static_cast<int8_t>(b.operation);
  m.permission_type = static_cast<int8_t>(b.permission);
  return m;
}

}  // namespace

asio::awaitable<net::Reply> handle_describe_acls(RequestContext ctx) {
  DescribeAclsRequest request;
  if (!ctx.decode(request)) co_return net::Reply::close();
  DescribeAclsResponse response;
  response.error_message = std::nullopt;
  auto [code, message] = refusal(ctx, AclOperation::describe);
  AclFilter filter = to_filter(request);
  if (code == ErrorCode::none) {
    message = security::check_acl_filter(filter);
    if (!message.empty()) code = ErrorCode::invalid_request;
  }
  if (code != ErrorCode::none) {
    response.error_code = wire(code);
    response.error_message = message;
    co_return respond(ctx, response);
  }
  // Bindings come sorted by resource type, name and pattern type first: one group each.
  for (const AclBinding& b : ctx.broker->authorizer->list(filter)) {
    if (response.resources.empty() ||
        response.resources.back().resource_type != static_cast<int8_t>(b.resource_type) ||
        response.resources.back().resource_name != b.resource_name ||
        response.resources.back().pattern_type != static_cast<int8_t>(b.pattern_type)) {
      DescribeAclsResponse::DescribeAclsResource resource;
      resource.resource_type = static_cast<int8_t>(b.resource_type);
      resource.resource_name = b.resource_name;
      resource.pattern_type = static_cast<int8_t>(b.pattern_type);
      response.resources.push_back(std::move(resource));
    }
    DescribeAclsResponse::AclDescription acl;
    acl.principal = b.principal;
    acl.host = b.host;
    acl.operation = static_cast<int8_t>(b.operation);
    acl.permission_type = static_cast<int8_t>(b.permission);
    response.resources.back().acls.push_back(std::move(acl));
  }
  co_return respond(ctx, response);
}

asio::awaitable<net::Reply> handle_create_acls(RequestContext ctx) {
  CreateAclsRequest request;
  if (!ctx.decode(request)) co_return net::Reply::close();
  CreateAclsResponse response;
  auto [refused, refused_message] = refusal(ctx, AclOperation::alter);
  std::vector<AclBinding> valid;
  std::vector<size_t> valid_at;  // the result index of each valid binding
  for (const auto& creation : request.creations) {
    CreateAclsResponse::AclCreationResult result;
    result.error_message = std::nullopt;
    AclBinding binding = to_binding(creation);
    std::string why = refused == ErrorCode::none ? security::check_acl_binding(binding) : "";
    if (refused != ErrorCode::none) {
      result.error_code = wire(refused);
      result.error_message = refused_message;
    } else if (!why.empty()) {
      result.error_code = wire(ErrorCode::invalid_request);
      result.error_message = why;
    } else {
      valid.push_back(std::move(binding));
      valid_at.push_back(response.results.size());
    }
    response.results.push_back(std::move(result));
  }
  if (!valid.empty()) {
    Authorizer& authorizer = *ctx.broker->authorizer;
    Status added = co_await ctx.broker->meta_writer->run([&] { return authorizer.add(valid); });
    if (!added.ok()) {
      ErrorCode code = added.code() == StatusCode::invalid_argument
                           ? ErrorCode::invalid_request
                           : ErrorCode::unknown_server_error;
      for (size_t at : valid_at) {
        response.results[at].error_code = wire(code);
        response.results[at].error_message = "ACLs not stored: " + added.message();
      }
    }
  }
  co_return respond(ctx, response);
}

asio::awaitable<net::Reply> handle_delete_acls(RequestContext ctx) {
  DeleteAclsRequest request;
  if (!ctx.decode(request)) co_return net::Reply::close();
  DeleteAclsResponse response;
  auto [refused, refused_message] = refusal(ctx, AclOperation::alter);
  std::vector<AclFilter> valid;
  std::vector<size_t> valid_at;
  for (const auto& f : request.filters) {
    DeleteAclsResponse::DeleteAclsFilterResult result;
    result.error_message = std::nullopt;
    AclFilter filter = to_filter(f);
    std::string why = refused == ErrorCode::none ? security::check_acl_filter(filter) : "";
    if (refused != ErrorCode::none) {
      result.error_code = wire(refused);
      result.error_message = refused_message;
    } else if (!why.empty()) {
      result.error_code = wire(ErrorCode::invalid_request);
      result.error_message = why;
    } else {
      valid.push_back(std::move(filter));
      valid_at.push_back(response.filter_results.size());
    }
    response.filter_results.push_back(std::move(result));
  }
  if (!valid.empty()) {
    Authorizer& authorizer = *ctx.broker->authorizer;
    Result<std::vector<std::vector<AclBinding>>> removed =
        co_await ctx.broker->meta_writer->run([&] { return authorizer.remove(valid); });
    for (size_t i = 0; i < valid.size(); ++i) {
      auto& result = response.filter_results[valid_at[i]];
      if (!removed.ok()) {
        result.error_code = wire(ErrorCode::unknown_server_error);
        result.error_message = "ACLs not deleted: " + removed.status().message();
        continue;
      }
      for (const AclBinding& b : (*removed)[i]) result.matching_acls.push_back(matching_acl(b));
    }
  }
  co_return respond(ctx, response);
}

}  // namespace cairn::broker
