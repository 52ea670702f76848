#include "broker/security/authorizer.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <functional>
#include <set>
#include <unordered_map>

#include "broker/meta_file.h"

namespace cairn::broker::security {

namespace {

constexpr size_t kFileBytesMax = 64 * 1024 * 1024;
constexpr int kFormatVersion = 1;

struct Entry {
  std::string principal;
  std::string host;
  AclOperation operation;
  AclPermission permission;
};

struct NameHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using ByName = std::unordered_map<std::string, std::vector<Entry>, NameHash, std::equal_to<>>;

struct TypeIndex {
  ByName literal;                    // "*" included
  ByName prefixed;                   // by prefix
  std::vector<size_t> prefix_sizes;  // distinct sizes of the prefixes, ascending
};

constexpr size_t kTypeCount = 8;

size_t type_slot(AclResourceType type) {
  auto slot = static_cast<size_t>(type);
  return slot < kTypeCount ? slot : 0;
}

// Whether an ALLOW for `granted` allows `wanted` (Kafka's implied operations).
bool implies(AclOperation granted, AclOperation wanted) {
  if (granted == AclOperation::all || granted == wanted) return true;
  if (wanted == AclOperation::describe) {
    return granted == AclOperation::read || granted == AclOperation::write ||
           granted == AclOperation::remove || granted == AclOperation::alter;
  }
  return wanted == AclOperation::describe_configs && granted == AclOperation::alter_configs;
}

// The operations that apply to each resource type (Kafka's authorized-operations sets).
std::vector<AclOperation> operations_of(AclResourceType type) {
  using O = AclOperation;
  switch (type) {
    case AclResourceType::topic:
      return {O::read,  O::write,    O::create,           O::remove,
              O::alter, O::describe, O::describe_configs, O::alter_configs};
    case AclResourceType::group:
      return {O::read, O::describe, O::remove};
    case AclResourceType::cluster:
      return {O::create,           O::cluster_action, O::describe_configs, O::alter_configs,
              O::idempotent_write, O::alter,          O::describe};
    case AclResourceType::transactional_id:
      return {O::describe, O::write};
    default:
      return {};
  }
}

Status corrupt(const std::string& why) { return error(StatusCode::corrupt, "acls.json: " + why); }

}  // namespace

struct Authorizer::Index {
  std::vector<AclBinding> bindings;  // sorted, unique
  std::array<TypeIndex, kTypeCount> by_type;

  explicit Index(std::vector<AclBinding> sorted) : bindings(std::move(sorted)) {
    for (const AclBinding& b : bindings) {
      TypeIndex& t = by_type[type_slot(b.resource_type)];
      ByName& names = b.pattern_type == AclPatternType::prefixed ? t.prefixed : t.literal;
      names[b.resource_name].push_back(Entry{b.principal, b.host, b.operation, b.permission});
      if (b.pattern_type == AclPatternType::prefixed) {
        t.prefix_sizes.push_back(b.resource_name.size());
      }
    }
    for (TypeIndex& t : by_type) {
      std::sort(t.prefix_sizes.begin(), t.prefix_sizes.end());
      t.prefix_sizes.erase(std::unique(t.prefix_sizes.begin(), t.prefix_sizes.end()),
                           t.prefix_sizes.end());
    }
  }

  // Calls fn(entries) for every group of bindings that applies to `name`.
  template <typename Fn>
  void for_each_applying(AclResourceType type, std::string_view name, Fn&& fn) const {
    const TypeIndex& t = by_type[type_slot(type)];
    if (auto it = t.literal.find(name); it != t.literal.end()) fn(it->second);
    if (name != kWildcard) {
      if (auto it = t.literal.find(kWildcard); it != t.literal.end()) fn(it->second);
    }
    for (size_t size : t.prefix_sizes) {
      if (size > name.size()) break;
      if (auto it = t.prefixed.find(name.substr(0, size)); it != t.prefixed.end()) fn(it->second);
    }
  }
};

Authorizer::Authorizer(storage::Io& io, std::filesystem::path path, Settings settings,
                       std::shared_ptr<const Index> index)
    : io_(io), path_(std::move(path)), settings_(std::move(settings)), index_(std::move(index)) {}

Authorizer::~Authorizer() = default;

Result<std::unique_ptr<Authorizer>> Authorizer::open(const std::filesystem::path& meta_dir,
                                                     storage::Io& io, Settings settings) {
  std::filesystem::path path = meta_dir / "acls.json";
  Result<std::optional<std::string>> text = read_meta_file(io, path, kFileBytesMax);
  if (!text.ok()) return text.status();
  std::vector<AclBinding> bindings;
  if (text->has_value()) {
    auto decoded = decode_acls(**text);
    if (!decoded.ok()) return decoded.status();
    bindings = std::move(decoded).value();
  }
  std::sort(bindings.begin(), bindings.end());
  bindings.erase(std::unique(bindings.begin(), bindings.end()), bindings.end());
  auto index = std::make_shared<const Index>(std::move(bindings));
  return std::unique_ptr<Authorizer>(
      new Authorizer(io, std::move(path), std::move(settings), std::move(index)));
}

bool Authorizer::is_super_user(std::string_view principal) const {
  return std::find(settings_.super_users.begin(), settings_.super_users.end(), principal) !=
         settings_.super_users.end();
}

bool Authorizer::allowed(const SessionIdentity& who, AclOperation operation, AclResourceType type,
                         std::string_view name) const {
  if (!settings_.enabled || is_super_user(who.principal)) return true;
  std::shared_ptr<const Index> index = index_.load(std::memory_order_acquire);
  bool found = false;
  bool denied = false;
  bool granted = false;
  index->for_each_applying(type, name, [&](const std::vector<Entry>& entries) {
    found = found || !entries.empty();
    for (const Entry& e : entries) {
      if (e.principal != who.principal && e.principal != kWildcardPrincipal) continue;
      if (e.host != who.host && e.host != kWildcard) continue;
      if (e.permission == AclPermission::deny) {
        denied = denied || e.operation == AclOperation::all || e.operation == operation;
      } else {
        granted = granted || implies(e.operation, operation);
      }
    }
  });
  if (denied) return false;
  if (!found) return settings_.allow_everyone_if_no_acl_found;
  return granted;
}

bool Authorizer::allowed_on_some(const SessionIdentity& who, AclOperation operation,
                                 AclResourceType type) const {
  // A name no ACL is likely to mention: a super user, or an open world without ACLs for it.
  if (allowed(who, operation, type, "hardcode")) return true;
  std::shared_ptr<const Index> index = index_.load(std::memory_order_acquire);
  std::set<std::string, std::less<>> deny_literal, deny_prefixed;
  std::vector<const AclBinding*> allows;
  bool wildcard_allow = false;
  for (const AclBinding& b : index->bindings) {
    if (b.resource_type != type) continue;
    if (b.host != who.host && b.host != kWildcard) continue;
    if (b.principal != who.principal && b.principal != kWildcardPrincipal) continue;
    if (b.operation != operation && b.operation != AclOperation::all) continue;
    bool literal = b.pattern_type == AclPatternType::literal;
    if (b.permission == AclPermission::deny) {
      if (literal && b.resource_name == kWildcard) return false;
      (literal ? deny_literal : deny_prefixed).insert(b.resource_name);
    } else if (literal && b.resource_name == kWildcard) {
      wildcard_allow = true;  // wins unless a wildcard DENY turns up (returned above)
    } else {
      allows.push_back(&b);
    }
  }
  if (wildcard_allow) return true;
  // Some ALLOW no DENY covers: not the same literal, not a prefix of its name.
  for (const AclBinding* b : allows) {
    if (b->pattern_type == AclPatternType::literal && deny_literal.contains(b->resource_name)) {
      continue;
    }
    bool covered = false;
    for (size_t size = 1; size <= b->resource_name.size() && !covered; ++size) {
      covered = deny_prefixed.contains(std::string_view(b->resource_name).substr(0, size));
    }
    if (!covered) return true;
  }
  return false;
}

int32_t Authorizer::authorized_operations(const SessionIdentity& who, AclResourceType type,
                                          std::string_view name) const {
  uint32_t bits = 0;
  for (AclOperation operation : operations_of(type)) {
    if (allowed(who, operation, type, name)) bits |= 1u << static_cast<int>(operation);
  }
  return static_cast<int32_t>(bits);
}

int32_t all_operations(AclResourceType type) {
  uint32_t bits = 0;
  for (AclOperation operation : operations_of(type)) bits |= 1u << static_cast<int>(operation);
  return static_cast<int32_t>(bits);
}

std::vector<AclBinding> Authorizer::list(const AclFilter& filter) const {
  std::shared_ptr<const Index> index = index_.load(std::memory_order_acquire);
  std::vector<AclBinding> out;
  for (const AclBinding& b : index->bindings) {
    if (acl_filter_matches(filter, b)) out.push_back(b);
  }
  return out;
}

size_t Authorizer::size() const { return index_.load(std::memory_order_acquire)->bindings.size(); }

Status Authorizer::publish(std::vector<AclBinding> bindings) {
  std::string text = encode_acls(bindings);
  if (text.size() > kFileBytesMax) {
    return error(StatusCode::too_large,
                 "acls.json would exceed " + std::to_string(kFileBytesMax) + " bytes");
  }
  RETURN_IF_ERROR(write_meta_file(io_, path_, text));
  index_.store(std::make_shared<const Index>(std::move(bindings)), std::memory_order_release);
  return Status();
}

Status Authorizer::add(const std::vector<AclBinding>& bindings) {
  std::lock_guard lock(write_mu_);
  std::set<AclBinding> next;
  const auto current = index_.load(std::memory_order_acquire);
  next.insert(current->bindings.begin(), current->bindings.end());
  next.insert(bindings.begin(), bindings.end());
  if (next.size() == current->bindings.size()) return Status();  // all present already
  if (next.size() > kAclsMax) {
    return error(StatusCode::invalid_argument,
                 "a broker keeps at most " + std::to_string(kAclsMax) + " ACLs");
  }
  return publish(std::vector<AclBinding>(next.begin(), next.end()));
}

Result<std::vector<std::vector<AclBinding>>> Authorizer::remove(
    const std::vector<AclFilter>& filters) {
  std::lock_guard lock(write_mu_);
  const auto current = index_.load(std::memory_order_acquire);
  std::vector<std::vector<AclBinding>> removed(filters.size());
  std::vector<AclBinding> kept;
  size_t removed_count = 0;
  for (const AclBinding& b : current->bindings) {
    bool matched = false;
    for (size_t i = 0; i < filters.size(); ++i) {
      if (!acl_filter_matches(filters[i], b)) continue;
      removed[i].push_back(b);
      matched = true;
    }
    if (matched) {
      ++removed_count;
    } else {
      kept.push_back(b);
    }
  }
  if (removed_count > 0) RETURN_IF_ERROR(publish(std::move(kept)));
  return removed;
}

std::string encode_acls(const std::vector<AclBinding>& bindings) {
  nlohmann::json list = nlohmann::json::array();
  for (const AclBinding& b : bindings) {
    list.push_back({{"resource_type", acl_name(b.resource_type)},
                    {"resource_name", b.resource_name},
                    {"pattern_type", acl_name(b.pattern_type)},
                    {"principal", b.principal},
                    {"host", b.host},
                    {"operation", acl_name(b.operation)},
                    {"permission", acl_name(b.permission)}});
  }
  nlohmann::json root = {{"version", kFormatVersion}, {"acls", std::move(list)}};
  return root.dump(1) + "\n";
}

Result<std::vector<AclBinding>> decode_acls(std::string_view text) {
  nlohmann::json root = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!root.is_object() || !root.contains("version") || !root["version"].is_number_integer()) {
    return corrupt("not an ACL file");
  }
  if (root["version"].get<int64_t>() != kFormatVersion) {
    return corrupt("unknown version " + root["version"].dump());
  }
  if (!root.contains("acls") || !root["acls"].is_array()) return corrupt("no acls array");
  std::vector<AclBinding> bindings;
  for (const nlohmann::json& j : root["acls"]) {
    auto text_of = [&j](const char* key) -> std::optional<std::string> {
      if (!j.is_object() || !j.contains(key) || !j[key].is_string()) return std::nullopt;
      return j[key].get<std::string>();
    };
    auto type = text_of("resource_type"), name = text_of("resource_name"),
         pattern = text_of("pattern_type"), principal = text_of("principal"),
         host = text_of("host"), operation = text_of("operation"),
         permission = text_of("permission");
    if (!type || !name || !pattern || !principal || !host || !operation || !permission) {
      return corrupt("an ACL lacks a field");
    }
    AclBinding b;
    b.resource_type = parse_acl_resource_type(*type).value_or(AclResourceType::unknown);
    b.resource_name = *name;
    b.pattern_type = parse_acl_pattern_type(*pattern).value_or(AclPatternType::unknown);
    b.principal = *principal;
    b.host = normalize_acl_host(*host);
    b.operation = parse_acl_operation(*operation).value_or(AclOperation::unknown);
    b.permission = parse_acl_permission(*permission).value_or(AclPermission::unknown);
    if (std::string why = check_acl_binding(b); !why.empty()) return corrupt(why);
    bindings.push_back(std::move(b));
  }
  return bindings;
}

}  // namespace cairn::broker::security
