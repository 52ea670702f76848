// DescribeClientQuotas (key 48) and AlterClientQuotas (key 49): the client quotas
// (quotas/quota_store.h) as kafka-configs.sh and the admin clients manage them.
//
// Entities: `user` and/or `client-id`, each a name or the default (null). Keys:
// producer_byte_rate and consumer_byte_rate, integers >= 1 (bytes per second).
// request_percentage and controller_mutation_rate are refused with INVALID_REQUEST rather than
// stored: Cairn does not enforce them, and a stored limit that nothing enforces would let an
// operator believe the broker is protected when it is not. `ip` entities (connection rate
// quotas) are refused the same way.
//
// Alter: each entry is checked on its own and answered with its own error, as Kafka does;
// INVALID_REQUEST for an empty entity, an unknown or repeated entity type, `ip`, an empty or
// over-long name, an unknown or repeated key, or a value that is not an integer >= 1. An
// entity named in two entries fails in both. The valid entries are applied together and made
// durable (MetaWriter, fsync) before the answer; validate_only applies nothing.
//
// Describe: match types EXACT (0, the name in `match`), DEFAULT (1, match null), SPECIFIED (2,
// match null: any entity with that type, named or default, as Kafka's KRaft brokers answer);
// `strict` keeps only entities with no other entity types. A bad filter (unknown type or
// match type, a type twice, a match string where none belongs) fails the whole request with
// INVALID_REQUEST.
//
// Authorization: DESCRIBE_CONFIGS / ALTER_CONFIGS on the CLUSTER, as Kafka asks
// (CLUSTER_AUTHORIZATION_FAILED: top level for Describe, every entry for Alter).
#include <cmath>
#include <map>
#include <set>

#include "broker/error_code.h"
#include "broker/handlers/handlers.h"
#include "broker/meta_writer.h"
#include "broker/quotas/quota_store.h"
#include "protocol/generated/alter_client_quotas.h"
#include "protocol/generated/describe_client_quotas.h"

namespace cairn::broker {

namespace {

using protocol::AlterClientQuotasRequest;
using protocol::AlterClientQuotasResponse;
using protocol::DescribeClientQuotasRequest;
using protocol::DescribeClientQuotasResponse;
using quotas::EntityPart;
using quotas::QuotaEntity;
using quotas::QuotaKey;
using quotas::QuotaStore;

constexpr std::string_view kEntityIp = "ip";
constexpr int8_t kMatchExact = 0;
constexpr int8_t kMatchDefault = 1;
constexpr int8_t kMatchSpecified = 2;
// 2^63: the first double above every int64 byte rate.
constexpr double kRateLimit = 9223372036854775808.0;

struct EntryCheck {
  ErrorCode code = ErrorCode::none;
  std::string message;
  QuotaEntity entity;
  std::vector<QuotaStore::Change> changes;
};

void fail(EntryCheck& check, std::string message) {
  if (check.code != ErrorCode::none) return;
  check.code = ErrorCode::invalid_request;
  check.message = std::move(message);
}

void check_entity(const std::vector<AlterClientQuotasRequest::EntityData>& parts,
                  EntryCheck& check) {
  if (parts.empty()) fail(check, "an empty quota entity");
  for (const auto& part : parts) {
    EntityPart* target = nullptr;
    if (part.entity_type == quotas::kEntityUser) target = &check.entity.user;
    if (part.entity_type == quotas::kEntityClientId) target = &check.entity.client_id;
    if (part.entity_type == kEntityIp) {
      fail(check, "ip quotas (connection_creation_rate) are not supported by Cairn");
      continue;
    }
    if (target == nullptr) {
      fail(check, "unknown quota entity type '" + part.entity_type + "'");
      continue;
    }
    if (target->present()) fail(check, "entity type '" + part.entity_type + "' given twice");
    if (!part.entity_name) {
      *target = EntityPart::default_name();
    } else if (part.entity_name->empty() ||
               part.entity_name->size() > quotas::kEntityNameBytesMax) {
      fail(check, "a " + part.entity_type + " name must have 1 to " +
                      std::to_string(quotas::kEntityNameBytesMax) + " bytes");
    } else {
      *target = EntityPart::named(*part.entity_name);
    }
  }
}

void check_ops(const std::vector<AlterClientQuotasRequest::OpData>& ops, EntryCheck& check) {
  std::set<QuotaKey> seen;
  for (const auto& op : ops) {
    std::optional<QuotaKey> key = quotas::parse_quota_key(op.key);
    if (!key) {
      bool known_elsewhere = op.key == "request_percentage" || op.key == "controller_mutation_rate";
      fail(check, known_elsewhere ? op.key + " is not enforced by Cairn, so it is not accepted"
                                  : "unknown quota key '" + op.key + "'");
      continue;
    }
    if (!seen.insert(*key).second) fail(check, "quota key " + op.key + " given twice");
    if (op.remove) {
      check.changes.push_back({check.entity, *key, std::nullopt});
      continue;
    }
    if (!std::isfinite(op.value) || op.value < 1 || op.value >= kRateLimit ||
        std::trunc(op.value) != op.value) {
      fail(check, op.key + " must be an integer number of bytes per second, at least 1");
      continue;
    }
    check.changes.push_back({check.entity, *key, op.value});
  }
}

std::vector<EntryCheck> check_alter(const AlterClientQuotasRequest& request) {
  std::vector<EntryCheck> checks(request.entries.size());
  std::map<QuotaEntity, int> entity_count;
  for (size_t i = 0; i < request.entries.size(); i++) {
    check_entity(request.entries[i].entity, checks[i]);
    if (checks[i].code == ErrorCode::none) entity_count[checks[i].entity]++;
    check_ops(request.entries[i].ops, checks[i]);
  }
  for (EntryCheck& check : checks) {
    if (check.code == ErrorCode::none && entity_count[check.entity] > 1) {
      fail(check, "entity " + quotas::entity_to_string(check.entity) + " altered twice");
    }
  }
  return checks;
}

// Where a filter component pins one entity type.
struct Filter {
  std::map<std::string, std::pair<int8_t, std::optional<std::string>>> by_type;
  bool strict = false;
};

std::optional<std::string> parse_filter(const DescribeClientQuotasRequest& request,
                                        Filter& filter) {
  filter.strict = request.strict;
  for (const auto& c : request.components) {
    if (c.entity_type != quotas::kEntityUser && c.entity_type != quotas::kEntityClientId &&
        c.entity_type != kEntityIp) {
      return "unknown quota entity type '" + c.entity_type + "'";
    }
    if (c.match_type == kMatchExact && !c.match) return "EXACT match with a null match string";
    if ((c.match_type == kMatchDefault || c.match_type == kMatchSpecified) && c.match) {
      return "DEFAULT and SPECIFIED matches take a null match string";
    }
    if (c.match_type < kMatchExact || c.match_type > kMatchSpecified) {
      return "unknown match type " + std::to_string(c.match_type);
    }
    if (!filter.by_type.try_emplace(c.entity_type, c.match_type, c.match).second) {
      return "entity type '" + c.entity_type + "' appears twice in the filter";
    }
  }
  return std::nullopt;
}

bool part_matches(const Filter& filter, std::string_view type, const EntityPart& part) {
  auto it = filter.by_type.find(std::string(type));
  if (it == filter.by_type.end()) return !filter.strict || !part.present();
  const auto& [match_type, match] = it->second;
  switch (match_type) {
    case kMatchExact:
      return part.kind == EntityPart::Kind::named && part.name == *match;
    case kMatchDefault:
      return part.kind == EntityPart::Kind::default_name;
    default:
      return part.present();
  }
}

bool entity_matches(const Filter& filter, const QuotaEntity& entity) {
  // Cairn keeps no ip entities: a filter on ip matches none.
  if (filter.by_type.contains(std::string(kEntityIp))) return false;
  return part_matches(filter, quotas::kEntityUser, entity.user) &&
         part_matches(filter, quotas::kEntityClientId, entity.client_id);
}

DescribeClientQuotasResponse::EntryData describe_entry(const QuotaEntity& entity,
                                                       const quotas::QuotaValues& values) {
  DescribeClientQuotasResponse::EntryData entry;
  auto add_part = [&entry](std::string_view type, const EntityPart& part) {
    if (!part.present()) return;
    DescribeClientQuotasResponse::EntityData data;
    data.entity_type = std::string(type);
    data.entity_name = std::nullopt;
    if (part.kind == EntityPart::Kind::named) data.entity_name = part.name;
    entry.entity.push_back(std::move(data));
  };
  add_part(quotas::kEntityUser, entity.user);
  add_part(quotas::kEntityClientId, entity.client_id);
  for (const auto& [key, value] : values) {
    entry.values.push_back({std::string(quotas::quota_key_name(key)), value});
  }
  return entry;
}

}  // namespace

asio::awaitable<net::Reply> handle_describe_client_quotas(RequestContext ctx) {
  DescribeClientQuotasRequest request;
  if (!ctx.decode(request)) co_return net::Reply::close();
  DescribeClientQuotasResponse response;
  response.error_message = std::nullopt;
  if (!ctx.allowed_on_cluster(AclOperation::describe_configs)) {
    response.error_code = wire(ErrorCode::cluster_authorization_failed);
    response.error_message = "not authorized to describe the cluster's quotas";
    response.entries = std::nullopt;
    co_return respond(ctx, response);
  }
  Filter filter;
  if (std::optional<std::string> bad = parse_filter(request, filter)) {
    response.error_code = wire(ErrorCode::invalid_request);
    response.error_message = std::move(*bad);
    response.entries = std::nullopt;
    co_return respond(ctx, response);
  }
  std::vector<DescribeClientQuotasResponse::EntryData>& entries = response.entries.emplace();
  for (const auto& [entity, values] : ctx.broker->client_quotas->snapshot()) {
    if (entity_matches(filter, entity)) entries.push_back(describe_entry(entity, values));
  }
  co_return respond(ctx, response);
}

asio::awaitable<net::Reply> handle_alter_client_quotas(RequestContext ctx) {
  AlterClientQuotasRequest request;
  if (!ctx.decode(request)) co_return net::Reply::close();
  std::vector<EntryCheck> checks = check_alter(request);
  if (!ctx.allowed_on_cluster(AclOperation::alter_configs)) {  // every entry refused
    for (EntryCheck& check : checks) {
      check.code = ErrorCode::cluster_authorization_failed;
      check.message = "not authorized to alter the cluster's quotas";
    }
  }
  std::vector<QuotaStore::Change> changes;
  for (const EntryCheck& check : checks) {
    if (check.code != ErrorCode::none) continue;
    changes.insert(changes.end(), check.changes.begin(), check.changes.end());
  }
  if (!request.validate_only && !changes.empty()) {
    QuotaStore& store = *ctx.broker->client_quotas;
    Status applied = co_await ctx.broker->meta_writer->run([&] { return store.apply(changes); });
    if (!applied.ok()) {
      ErrorCode code = applied.code() == StatusCode::too_large ? ErrorCode::invalid_request
                                                               : ErrorCode::unknown_server_error;
      for (EntryCheck& check : checks) {
        if (check.code != ErrorCode::none) continue;
        check.code = code;
        check.message = "quotas not stored: " + applied.message();
      }
    }
  }
  AlterClientQuotasResponse response;
  for (size_t i = 0; i < checks.size(); i++) {
    AlterClientQuotasResponse::EntryData entry;
    entry.error_code = wire(checks[i].code);
    entry.error_message = std::nullopt;
    if (checks[i].code != ErrorCode::none) entry.error_message = checks[i].message;
    for (const auto& part : request.entries[i].entity) {
      entry.entity.push_back({part.entity_type, part.entity_name});
    }
    response.entries.push_back(std::move(entry));
  }
  co_return respond(ctx, response);
}

}  // namespace cairn::broker
