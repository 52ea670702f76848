// `cairn acl create|list|delete`: Kafka ACLs in rpk's style (`rpk acl create
// --allow-principal User:alice --operation read --topic orders`), over CreateAcls,
// DescribeAcls and DeleteAcls (client/wire.h). Names follow Kafka's tools: operations READ,
// WRITE, CREATE, DELETE, ALTER, DESCRIBE, CLUSTER_ACTION, DESCRIBE_CONFIGS, ALTER_CONFIGS,
// IDEMPOTENT_WRITE, ALL; pattern types LITERAL, PREFIXED (filters also ANY, MATCH); all
// case-insensitive, '-' for '_' accepted.
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <memory>

#include "broker/security/acl.h"
#include "client/wire.h"
#include "main/cli_common.h"
#include "main/cli_output.h"
#include "protocol/generated/create_acls.h"
#include "protocol/generated/delete_acls.h"
#include "protocol/generated/describe_acls.h"

namespace cairn::cli {

namespace {

using broker::security::AclBinding;
using broker::security::AclFilter;
using broker::security::AclOperation;
using broker::security::AclPatternType;
using broker::security::AclPermission;
using broker::security::AclResourceType;
namespace sec = broker::security;

// The resources a command names: --topic, --group, --transactional-id (each repeatable) and
// --cluster.
struct ResourceFlags {
  std::vector<std::string> topics;
  std::vector<std::string> groups;
  std::vector<std::string> transactional_ids;
  bool cluster = false;
  std::string pattern_type;

  std::vector<std::pair<AclResourceType, std::string>> named() const {
    std::vector<std::pair<AclResourceType, std::string>> out;
    for (const auto& t : topics) out.emplace_back(AclResourceType::topic, t);
    for (const auto& g : groups) out.emplace_back(AclResourceType::group, g);
    for (const auto& id : transactional_ids) {
      out.emplace_back(AclResourceType::transactional_id, id);
    }
    if (cluster) out.emplace_back(AclResourceType::cluster, sec::kClusterResourceName);
    return out;
  }
};

void add_resource_flags(CLI::App* command, ResourceFlags& flags, const std::string& pattern_help) {
  command->add_option("--topic", flags.topics, "Topic name (repeatable)");
  command->add_option("--group", flags.groups, "Consumer group id (repeatable)");
  command->add_option("--transactional-id", flags.transactional_ids,
                      "Transactional id (repeatable)");
  command->add_flag("--cluster", flags.cluster, "The cluster resource");
  command->add_option("--resource-pattern-type", flags.pattern_type, pattern_help)
      ->capture_default_str();
}

template <typename T>
Result<T> parse(std::optional<T> (*parser)(std::string_view), const std::string& text,
                const char* what) {
  std::optional<T> value = parser(text);
  if (!value) return error(StatusCode::invalid_argument, fmt::format("unknown {} {}", what, text));
  return *value;
}

Result<std::vector<AclOperation>> operations_of(const std::vector<std::string>& names) {
  std::vector<AclOperation> out;
  for (const std::string& list : names) {
    for (size_t start = 0; start <= list.size();) {
      size_t comma = std::min(list.find(',', start), list.size());
      auto op = parse(sec::parse_acl_operation, list.substr(start, comma - start), "operation");
      if (!op.ok()) return op.status();
      out.push_back(*op);
      start = comma + 1;
    }
  }
  return out;
}

// The wire form of a filter: DescribeAclsRequest and DeleteAclsRequest::DeleteAclsFilter name
// their fields alike.
template <typename Wire>
void fill_filter(Wire& wire, const AclFilter& f) {
  wire.resource_type_filter = static_cast<int8_t>(f.resource_type);
  wire.resource_name_filter = f.resource_name;
  wire.pattern_type_filter = static_cast<int8_t>(f.pattern_type);
  wire.principal_filter = f.principal;
  wire.host_filter = f.host;
  wire.operation = static_cast<int8_t>(f.operation);
  wire.permission_type = static_cast<int8_t>(f.permission);
}

AclBinding binding_of(int8_t type, const std::string& name, int8_t pattern,
                      const std::string& principal, const std::string& host, int8_t operation,
                      int8_t permission) {
  return AclBinding{static_cast<AclResourceType>(type),
                    name,
                    static_cast<AclPatternType>(pattern),
                    principal,
                    host,
                    static_cast<AclOperation>(operation),
                    static_cast<AclPermission>(permission)};
}

std::vector<std::string> row_of(const AclBinding& b) {
  return {std::string(sec::acl_name(b.resource_type)),
          b.resource_name,
          std::string(sec::acl_name(b.pattern_type)),
          b.principal,
          b.host,
          std::string(sec::acl_name(b.operation)),
          std::string(sec::acl_name(b.permission))};
}

void print_bindings(const std::vector<AclBinding>& bindings, const std::string& format) {
  if (format == "text") {
    std::vector<std::vector<std::string>> rows{
        {"TYPE", "NAME", "PATTERN", "PRINCIPAL", "HOST", "OPERATION", "PERMISSION"}};
    for (const AclBinding& b : bindings) rows.push_back(row_of(b));
    print_table(rows);
    return;
  }
  Document document = Document::array();
  for (const AclBinding& b : bindings) {
    std::vector<std::string> r = row_of(b);
    document.push_back({{"resource_type", r[0]},
                        {"resource_name", r[1]},
                        {"pattern_type", r[2]},
                        {"principal", r[3]},
                        {"host", r[4]},
                        {"operation", r[5]},
                        {"permission", r[6]}});
  }
  print_document(document, format);
}

// ---- create ---------------------------------------------------------------------------------

struct CreateFlags {
  ConnectionFlags connection;
  ResourceFlags resources{.pattern_type = "literal"};
  std::vector<std::string> allow_principals, deny_principals;
  std::vector<std::string> allow_hosts{"*"}, deny_hosts{"*"};
  std::vector<std::string> operations;
};

Result<std::vector<AclBinding>> bindings_of(const CreateFlags& flags) {
  auto pattern = parse(sec::parse_acl_pattern_type, flags.resources.pattern_type, "pattern type");
  if (!pattern.ok()) return pattern.status();
  auto operations = operations_of(flags.operations);
  if (!operations.ok()) return operations.status();
  auto resources = flags.resources.named();
  if (resources.empty()) {
    return error(StatusCode::invalid_argument,
                 "name a resource: --topic, --group, --transactional-id or --cluster");
  }
  if (flags.allow_principals.empty() && flags.deny_principals.empty()) {
    return error(StatusCode::invalid_argument, "give --allow-principal or --deny-principal");
  }
  std::vector<AclBinding> out;
  auto add = [&](const std::vector<std::string>& principals, const std::vector<std::string>& hosts,
                 AclPermission permission) {
    for (const auto& [type, name] : resources) {
      for (const auto& principal : principals) {
        for (const auto& host : hosts) {
          for (AclOperation op : *operations) {
            AclPatternType p =
                type == AclResourceType::cluster ? AclPatternType::literal : *pattern;
            out.push_back(AclBinding{type, name, p, principal, host, op, permission});
          }
        }
      }
    }
  };
  add(flags.allow_principals, flags.allow_hosts, AclPermission::allow);
  add(flags.deny_principals, flags.deny_hosts, AclPermission::deny);
  return out;
}

Status run_create(const CreateFlags& flags) {
  auto bindings = bindings_of(flags);
  if (!bindings.ok()) return bindings.status();
  auto connected = connect_first_broker(flags.connection);
  if (!connected.ok()) return connected.status();
  protocol::CreateAclsRequest request;
  for (const AclBinding& b : *bindings) {
    protocol::CreateAclsRequest::AclCreation c;
    c.resource_type = static_cast<int8_t>(b.resource_type);
    c.resource_name = b.resource_name;
    c.resource_pattern_type = static_cast<int8_t>(b.pattern_type);
    c.principal = b.principal;
    c.host = b.host;
    c.operation = static_cast<int8_t>(b.operation);
    c.permission_type = static_cast<int8_t>(b.permission);
    request.creations.push_back(std::move(c));
  }
  auto answer = connected->connection->call<protocol::CreateAclsResponse>(request);
  if (!answer.ok()) return answer.status();
  std::vector<std::vector<std::string>> rows{
      {"TYPE", "NAME", "PATTERN", "PRINCIPAL", "HOST", "OPERATION", "PERMISSION", "STATUS"}};
  size_t failed = 0;
  for (size_t i = 0; i < bindings->size() && i < answer->results.size(); ++i) {
    const auto& result = answer->results[i];
    Status status = client::wire_error(result.error_code, result.error_message.value_or(""));
    failed += status.ok() ? 0 : 1;
    std::vector<std::string> row = row_of((*bindings)[i]);
    row.push_back(status_cell(status));
    rows.push_back(std::move(row));
  }
  print_table(rows);
  if (failed > 0)
    return error(StatusCode::invalid_argument, fmt::format("{} ACL(s) not created", failed));
  return Status::ok_status();
}

// ---- list and delete ------------------------------------------------------------------------

struct FilterFlags {
  ConnectionFlags connection;
  ResourceFlags resources{.pattern_type = "any"};
  std::string principal, host, operation = "any", permission = "any";
  std::string format = "text";
  bool all = false;      // delete: with no other filter
  bool dry_run = false;  // delete: only show what would go
};

Result<std::vector<AclFilter>> filters_of(const FilterFlags& flags) {
  auto pattern = parse(sec::parse_acl_pattern_type, flags.resources.pattern_type, "pattern type");
  if (!pattern.ok()) return pattern.status();
  auto operation = parse(sec::parse_acl_operation, flags.operation, "operation");
  if (!operation.ok()) return operation.status();
  auto permission = parse(sec::parse_acl_permission, flags.permission, "permission");
  if (!permission.ok()) return permission.status();
  AclFilter base;
  base.pattern_type = *pattern;
  if (!flags.principal.empty()) base.principal = flags.principal;
  if (!flags.host.empty()) base.host = flags.host;
  base.operation = *operation;
  base.permission = *permission;
  std::vector<AclFilter> filters;
  for (const auto& [type, name] : flags.resources.named()) {
    AclFilter f = base;
    f.resource_type = type;
    f.resource_name = name;
    filters.push_back(std::move(f));
  }
  if (filters.empty()) filters.push_back(base);
  return filters;
}

Result<std::vector<AclBinding>> describe(client::WireConnection& connection, const AclFilter& f) {
  protocol::DescribeAclsRequest request;
  fill_filter(request, f);
  auto answer = connection.call<protocol::DescribeAclsResponse>(request);
  if (!answer.ok()) return answer.status();
  RETURN_IF_ERROR(
      client::wire_error(answer->error_code, answer->error_message.value_or("listing ACLs")));
  std::vector<AclBinding> out;
  for (const auto& resource : answer->resources) {
    for (const auto& acl : resource.acls) {
      out.push_back(binding_of(resource.resource_type, resource.resource_name,
                               resource.pattern_type, acl.principal, acl.host, acl.operation,
                               acl.permission_type));
    }
  }
  return out;
}

Status run_list(const FilterFlags& flags, bool deleting) {
  auto filters = filters_of(flags);
  if (!filters.ok()) return filters.status();
  if (deleting && !flags.all && flags.resources.named().empty() && flags.principal.empty() &&
      flags.host.empty()) {
    return error(StatusCode::invalid_argument,
                 "name what to delete (--topic, --principal, ...) or give --all");
  }
  auto connected = connect_first_broker(flags.connection);
  if (!connected.ok()) return connected.status();
  client::WireConnection& connection = *connected->connection;
  if (!deleting || flags.dry_run) {
    if (flags.dry_run) print_dry_run_note();
    std::vector<AclBinding> found;
    for (const AclFilter& f : *filters) {
      auto listed = describe(connection, f);
      if (!listed.ok()) return listed.status();
      found.insert(found.end(), listed->begin(), listed->end());
    }
    print_bindings(found, flags.format);
    return Status::ok_status();
  }
  protocol::DeleteAclsRequest request;
  for (const AclFilter& f : *filters) {
    fill_filter(request.filters.emplace_back(), f);
  }
  auto answer = connection.call<protocol::DeleteAclsResponse>(request);
  if (!answer.ok()) return answer.status();
  std::vector<AclBinding> deleted;
  for (const auto& result : answer->filter_results) {
    RETURN_IF_ERROR(
        client::wire_error(result.error_code, result.error_message.value_or("deleting ACLs")));
    for (const auto& m : result.matching_acls) {
      deleted.push_back(binding_of(m.resource_type, m.resource_name, m.pattern_type, m.principal,
                                   m.host, m.operation, m.permission_type));
    }
  }
  print_bindings(deleted, flags.format);
  return Status::ok_status();
}

void add_filter_flags(CLI::App* command, FilterFlags& flags) {
  add_resource_flags(command, flags.resources,
                     "any, match (every ACL that applies to the named resource), literal or "
                     "prefixed");
  command->add_option("--principal", flags.principal, "Only ACLs of this principal (User:alice)");
  command->add_option("--host", flags.host, "Only ACLs of this host");
  command->add_option("--operation", flags.operation, "Only ACLs of this operation")
      ->capture_default_str();
  command->add_option("--permission", flags.permission, "allow, deny or any")
      ->capture_default_str();
  add_format_flag(command, flags.format);
  add_connection_flags(command, flags.connection);
}

}  // namespace

void add_acl_commands(CLI::App& app) {
  CLI::App* acl = app.add_subcommand("acl", "Create, list and delete ACLs");
  acl->require_subcommand(1);

  auto create_flags = std::make_shared<CreateFlags>();
  CLI::App* create = acl->add_subcommand("create", "Create ACLs (every combination given)");
  add_resource_flags(create, create_flags->resources, "literal or prefixed");
  create->add_option("--allow-principal", create_flags->allow_principals,
                     "Principal to allow (User:alice, User:* for everyone; repeatable)");
  create->add_option("--deny-principal", create_flags->deny_principals,
                     "Principal to deny (repeatable)");
  create->add_option("--allow-host", create_flags->allow_hosts, "Host the allows apply to")
      ->capture_default_str();
  create->add_option("--deny-host", create_flags->deny_hosts, "Host the denies apply to")
      ->capture_default_str();
  create
      ->add_option("--operation", create_flags->operations,
                   "Operations, comma-separated or repeated (read,write,describe,...,all)")
      ->required();
  add_connection_flags(create, create_flags->connection);
  create->callback([create_flags]() { run_command([&]() { return run_create(*create_flags); }); });

  auto list_flags = std::make_shared<FilterFlags>();
  CLI::App* list = acl->add_subcommand("list", "List the ACLs matching the filters");
  list->alias("describe");
  add_filter_flags(list, *list_flags);
  list->callback([list_flags]() { run_command([&]() { return run_list(*list_flags, false); }); });

  auto delete_flags = std::make_shared<FilterFlags>();
  CLI::App* remove = acl->add_subcommand("delete", "Delete the ACLs matching the filters");
  add_filter_flags(remove, *delete_flags);
  remove->add_flag("--all", delete_flags->all, "Allow deleting with no resource or principal");
  remove->add_flag("--dry-run", delete_flags->dry_run, "Only list what would be deleted");
  remove->callback(
      [delete_flags]() { run_command([&]() { return run_list(*delete_flags, true); }); });
}

}  // namespace cairn::cli
