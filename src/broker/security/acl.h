// Kafka's ACL model as values: a binding (resource pattern + access control entry), the filters
// DescribeAcls and DeleteAcls match bindings with, and the names the CLI, the JSON file and
// the docs use. The numeric values of the enums are Kafka's wire codes.
//
// A binding: resource (TOPIC, GROUP, CLUSTER, TRANSACTIONAL_ID, ...) named literally ("orders",
// or "*" for every resource of the type) or by prefix ("orders-"), a principal ("User:alice",
// "User:*" for everyone), a host (an IP address, "*" for any), an operation and ALLOW or DENY.
// How bindings decide a request is in authorizer.h. Plain values; any thread.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cairn::broker::security {

enum class AclResourceType : int8_t {
  unknown = 0,
  any = 1,  // filters only
  topic = 2,
  group = 3,
  cluster = 4,
  transactional_id = 5,
  delegation_token = 6,
  user = 7,
};

enum class AclPatternType : int8_t {
  unknown = 0,
  any = 1,    // filters only: any pattern type, name compared exactly
  match = 2,  // filters only: every binding that applies to the named resource
  literal = 3,
  prefixed = 4,
};

enum class AclOperation : int8_t {
  unknown = 0,
  any = 1,  // filters only
  all = 2,
  read = 3,
  write = 4,
  create = 5,
  remove = 6,  // Kafka's DELETE
  alter = 7,
  describe = 8,
  cluster_action = 9,
  describe_configs = 10,
  alter_configs = 11,
  idempotent_write = 12,
  create_tokens = 13,
  describe_tokens = 14,
};

enum class AclPermission : int8_t {
  unknown = 0,
  any = 1,  // filters only
  deny = 2,
  allow = 3,
};

// The one name a CLUSTER resource may have.
inline constexpr std::string_view kClusterResourceName = "kafka-cluster";
inline constexpr std::string_view kWildcard = "*";
inline constexpr std::string_view kWildcardPrincipal = "User:*";

struct AclBinding {
  AclResourceType resource_type = AclResourceType::topic;
  std::string resource_name;
  AclPatternType pattern_type = AclPatternType::literal;
  std::string principal;  // "User:alice"
  std::string host = "*";
  AclOperation operation = AclOperation::all;
  AclPermission permission = AclPermission::allow;

  auto operator<=>(const AclBinding&) const = default;
};

// DescribeAcls / DeleteAcls: nullopt (null on the wire) matches anything; `any` enum values
// match any value.
struct AclFilter {
  AclResourceType resource_type = AclResourceType::any;
  std::optional<std::string> resource_name;
  AclPatternType pattern_type = AclPatternType::any;
  std::optional<std::string> principal;
  std::optional<std::string> host;
  AclOperation operation = AclOperation::any;
  AclPermission permission = AclPermission::any;
};

// Empty when `binding` may be created; otherwise why not (Kafka answers INVALID_REQUEST): a
// filter-only or unknown value, an empty name, a CLUSTER not named kafka-cluster, a principal
// that is not TYPE:NAME, an empty host.
std::string check_acl_binding(const AclBinding& binding);
// Empty when `filter` may be used; otherwise why not (an unknown value: INVALID_REQUEST).
std::string check_acl_filter(const AclFilter& filter);
// Kafka's AclBindingFilter.matches.
bool acl_filter_matches(const AclFilter& filter, const AclBinding& binding);

// Names as Kafka's tools print them ("TOPIC", "PREFIXED", "DESCRIBE_CONFIGS", "ALLOW"), and
// back, case-insensitively, also accepting '-' for '_'. Unknown names: nullopt.
std::string_view acl_name(AclResourceType type);
std::string_view acl_name(AclPatternType type);
std::string_view acl_name(AclOperation operation);
std::string_view acl_name(AclPermission permission);
std::optional<AclResourceType> parse_acl_resource_type(std::string_view name);
std::optional<AclPatternType> parse_acl_pattern_type(std::string_view name);
std::optional<AclOperation> parse_acl_operation(std::string_view name);
std::optional<AclPermission> parse_acl_permission(std::string_view name);

// The form ACL hosts are kept and compared in: an IP address in asio's canonical text (IPv6
// compressed and lower case, "0:0:0:0:0:0:0:1" -> "::1", IPv4-mapped -> IPv4, no scope id),
// so that every spelling of an address matches the session's host; "*" and anything that is
// not an address (it then matches no client) unchanged.
std::string normalize_acl_host(std::string_view host);

// "TOPIC:orders (LITERAL) User:alice from * ALLOW READ", for logs and messages.
std::string describe_acl(const AclBinding& binding);

}  // namespace cairn::broker::security
