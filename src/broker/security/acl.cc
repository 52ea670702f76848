#include "broker/security/acl.h"

#include <asio/ip/address.hpp>

#include <algorithm>
#include <array>
#include <cctype>

namespace cairn::broker::security {

namespace {

template <typename E>
struct Named {
  E value;
  std::string_view name;
};

constexpr std::array<Named<AclResourceType>, 8> kResourceTypes = {{
    {AclResourceType::unknown, "UNKNOWN"},
    {AclResourceType::any, "ANY"},
    {AclResourceType::topic, "TOPIC"},
    {AclResourceType::group, "GROUP"},
    {AclResourceType::cluster, "CLUSTER"},
    {AclResourceType::transactional_id, "TRANSACTIONAL_ID"},
    {AclResourceType::delegation_token, "DELEGATION_TOKEN"},
    {AclResourceType::user, "USER"},
}};

constexpr std::array<Named<AclPatternType>, 5> kPatternTypes = {{
    {AclPatternType::unknown, "UNKNOWN"},
    {AclPatternType::any, "ANY"},
    {AclPatternType::match, "MATCH"},
    {AclPatternType::literal, "LITERAL"},
    {AclPatternType::prefixed, "PREFIXED"},
}};

constexpr std::array<Named<AclOperation>, 15> kOperations = {{
    {AclOperation::unknown, "UNKNOWN"},
    {AclOperation::any, "ANY"},
    {AclOperation::all, "ALL"},
    {AclOperation::read, "READ"},
    {AclOperation::write, "WRITE"},
    {AclOperation::create, "CREATE"},
    {AclOperation::remove, "DELETE"},
    {AclOperation::alter, "ALTER"},
    {AclOperation::describe, "DESCRIBE"},
    {AclOperation::cluster_action, "CLUSTER_ACTION"},
    {AclOperation::describe_configs, "DESCRIBE_CONFIGS"},
    {AclOperation::alter_configs, "ALTER_CONFIGS"},
    {AclOperation::idempotent_write, "IDEMPOTENT_WRITE"},
    {AclOperation::create_tokens, "CREATE_TOKENS"},
    {AclOperation::describe_tokens, "DESCRIBE_TOKENS"},
}};

constexpr std::array<Named<AclPermission>, 4> kPermissions = {{
    {AclPermission::unknown, "UNKNOWN"},
    {AclPermission::any, "ANY"},
    {AclPermission::deny, "DENY"},
    {AclPermission::allow, "ALLOW"},
}};

template <typename E, size_t N>
std::string_view name_of(const std::array<Named<E>, N>& table, E value) {
  for (const auto& entry : table) {
    if (entry.value == value) return entry.name;
  }
  return "UNKNOWN";
}

// Case-insensitive, '-' read as '_'.
bool same_name(std::string_view canonical, std::string_view given) {
  if (canonical.size() != given.size()) return false;
  for (size_t i = 0; i < given.size(); ++i) {
    char c =
        given[i] == '-' ? '_' : static_cast<char>(std::toupper(static_cast<uint8_t>(given[i])));
    if (c != canonical[i]) return false;
  }
  return true;
}

template <typename E, size_t N>
std::optional<E> parse_name(const std::array<Named<E>, N>& table, std::string_view name) {
  for (const auto& entry : table) {
    if (same_name(entry.name, name)) return entry.value;
  }
  return std::nullopt;
}

template <typename E, size_t N>
bool known(const std::array<Named<E>, N>& table, E value) {
  return value != E::unknown &&
         std::any_of(table.begin(), table.end(), [&](const auto& e) { return e.value == value; });
}

// "TYPE:NAME" with both parts non-empty.
bool is_principal(std::string_view principal) {
  size_t colon = principal.find(':');
  return colon != std::string_view::npos && colon > 0 && colon + 1 < principal.size();
}

bool pattern_matches(const AclFilter& filter, const AclBinding& binding) {
  if (filter.resource_type != AclResourceType::any &&
      filter.resource_type != binding.resource_type) {
    return false;
  }
  if (filter.pattern_type != AclPatternType::any && filter.pattern_type != AclPatternType::match &&
      filter.pattern_type != binding.pattern_type) {
    return false;
  }
  if (!filter.resource_name) return true;
  const std::string& name = *filter.resource_name;
  if (filter.pattern_type != AclPatternType::match) return name == binding.resource_name;
  if (binding.pattern_type == AclPatternType::prefixed) {
    return name.starts_with(binding.resource_name);
  }
  return name == binding.resource_name || binding.resource_name == kWildcard;
}

}  // namespace

std::string check_acl_binding(const AclBinding& b) {
  if (!known(kResourceTypes, b.resource_type) || b.resource_type == AclResourceType::any) {
    return "invalid resource type " + std::to_string(static_cast<int>(b.resource_type));
  }
  if (b.pattern_type != AclPatternType::literal && b.pattern_type != AclPatternType::prefixed) {
    return "invalid pattern type " + std::to_string(static_cast<int>(b.pattern_type)) +
           " (LITERAL or PREFIXED)";
  }
  if (!known(kOperations, b.operation) || b.operation == AclOperation::any) {
    return "invalid operation " + std::to_string(static_cast<int>(b.operation));
  }
  if (b.permission != AclPermission::allow && b.permission != AclPermission::deny) {
    return "invalid permission type " + std::to_string(static_cast<int>(b.permission));
  }
  if (b.resource_name.empty()) return "the resource name must not be empty";
  if (b.resource_type == AclResourceType::cluster &&
      (b.resource_name != kClusterResourceName || b.pattern_type != AclPatternType::literal)) {
    return "the only valid name for the CLUSTER resource is the literal kafka-cluster";
  }
  if (!is_principal(b.principal)) {
    return "invalid principal '" + b.principal + "' (expected TYPE:NAME, e.g. User:alice)";
  }
  if (b.host.empty()) return "the host must not be empty (use * for any host)";
  return "";
}

std::string check_acl_filter(const AclFilter& f) {
  if (!known(kResourceTypes, f.resource_type)) return "unknown resource type in the filter";
  if (!known(kPatternTypes, f.pattern_type)) return "unknown pattern type in the filter";
  if (!known(kOperations, f.operation)) return "unknown operation in the filter";
  if (!known(kPermissions, f.permission)) return "unknown permission type in the filter";
  return "";
}

bool acl_filter_matches(const AclFilter& f, const AclBinding& b) {
  if (!pattern_matches(f, b)) return false;
  if (f.principal && *f.principal != b.principal) return false;
  if (f.host && *f.host != b.host) return false;
  if (f.operation != AclOperation::any && f.operation != b.operation) return false;
  return f.permission == AclPermission::any || f.permission == b.permission;
}

std::string_view acl_name(AclResourceType type) { return name_of(kResourceTypes, type); }
std::string_view acl_name(AclPatternType type) { return name_of(kPatternTypes, type); }
std::string_view acl_name(AclOperation operation) { return name_of(kOperations, operation); }
std::string_view acl_name(AclPermission permission) { return name_of(kPermissions, permission); }

std::optional<AclResourceType> parse_acl_resource_type(std::string_view name) {
  return parse_name(kResourceTypes, name);
}
std::optional<AclPatternType> parse_acl_pattern_type(std::string_view name) {
  return parse_name(kPatternTypes, name);
}
std::optional<AclOperation> parse_acl_operation(std::string_view name) {
  return parse_name(kOperations, name);
}
std::optional<AclPermission> parse_acl_permission(std::string_view name) {
  return parse_name(kPermissions, name);
}

std::string normalize_acl_host(std::string_view host) {
  if (host == kWildcard) return std::string(host);
  std::string text(host);
  if (size_t percent = text.find('%'); percent != std::string::npos) text.resize(percent);
  asio::error_code error;
  asio::ip::address address = asio::ip::make_address(text, error);
  if (error) return std::string(host);
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    address = asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6());
  }
  if (address.is_v6()) {
    asio::ip::address_v6 v6 = address.to_v6();
    v6.scope_id(0);
    address = v6;
  }
  return address.to_string();
}

std::string describe_acl(const AclBinding& b) {
  std::string text(acl_name(b.resource_type));
  text += ":" + b.resource_name + " (" + std::string(acl_name(b.pattern_type)) + ") ";
  text += b.principal + " from " + b.host + " ";
  text += std::string(acl_name(b.permission)) + " " + std::string(acl_name(b.operation));
  return text;
}

}  // namespace cairn::broker::security
