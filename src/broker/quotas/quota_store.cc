#include "broker/quotas/quota_store.h"

#include <cmath>
#include <nlohmann/json.hpp>

#include "base/assert.h"
#include "broker/meta_file.h"

namespace cairn::broker::quotas {

namespace {

constexpr size_t kFileBytesMax = 64 * 1024 * 1024;
constexpr int kFormatVersion = 1;

Status corrupt(const std::string& why) { return error(StatusCode::corrupt, "quotas.json: " + why); }

nlohmann::json encode_part(const EntityPart& part) {
  if (part.kind == EntityPart::Kind::default_name) return nullptr;
  return part.name;
}

// One entity part from the file: absent key, null (the default) or a non-empty name.
Result<EntityPart> decode_part(const nlohmann::json& entity, std::string_view type) {
  auto it = entity.find(std::string(type));
  if (it == entity.end()) return EntityPart::absent();
  if (it->is_null()) return EntityPart::default_name();
  if (!it->is_string() || it->get<std::string>().empty() ||
      it->get<std::string>().size() > kEntityNameBytesMax) {
    return corrupt("a " + std::string(type) + " name is not a valid string");
  }
  return EntityPart::named(it->get<std::string>());
}

Result<std::pair<QuotaEntity, QuotaValues>> decode_entry(const nlohmann::json& j) {
  if (!j.is_object() || !j.contains("entity") || !j["entity"].is_object() ||
      !j.contains("values") || !j["values"].is_object()) {
    return corrupt("an entry lacks its entity or values");
  }
  const nlohmann::json& entity_json = j["entity"];
  for (const auto& [type, name] : entity_json.items()) {
    if (type != kEntityUser && type != kEntityClientId) return corrupt("entity type " + type);
  }
  Result<EntityPart> user = decode_part(entity_json, kEntityUser);
  if (!user.ok()) return user.status();
  Result<EntityPart> client_id = decode_part(entity_json, kEntityClientId);
  if (!client_id.ok()) return client_id.status();
  QuotaEntity entity{std::move(user).value(), std::move(client_id).value()};
  if (!entity.user.present() && !entity.client_id.present()) return corrupt("an empty entity");
  QuotaValues values;
  for (const auto& [name, value] : j["values"].items()) {
    std::optional<QuotaKey> key = parse_quota_key(name);
    if (!key) return corrupt("unknown quota key " + name);
    if (!value.is_number() || !(value.get<double>() >= 1)) return corrupt("bad value of " + name);
    values[*key] = value.get<double>();
  }
  if (values.empty()) return corrupt("an entity without values");
  return std::make_pair(std::move(entity), std::move(values));
}

std::string part_to_string(std::string_view type, const EntityPart& part) {
  std::string out(type);
  out += '=';
  out += part.kind == EntityPart::Kind::named ? part.name : "<default>";
  return out;
}

}  // namespace

std::string_view quota_key_name(QuotaKey key) {
  switch (key) {
    case QuotaKey::producer_byte_rate:
      return kProducerByteRate;
    case QuotaKey::consumer_byte_rate:
      return kConsumerByteRate;
  }
  ASSERT(false && "unknown QuotaKey");
  return {};
}

std::optional<QuotaKey> parse_quota_key(std::string_view name) {
  if (name == kProducerByteRate) return QuotaKey::producer_byte_rate;
  if (name == kConsumerByteRate) return QuotaKey::consumer_byte_rate;
  return std::nullopt;
}

std::string entity_to_string(const QuotaEntity& entity) {
  std::string out;
  if (entity.user.present()) out = part_to_string(kEntityUser, entity.user);
  if (entity.client_id.present()) {
    if (!out.empty()) out += ',';
    out += part_to_string(kEntityClientId, entity.client_id);
  }
  return out;
}

std::optional<EffectiveQuota> resolve_quota(const QuotaMap& quotas, QuotaKey key,
                                            std::string_view user, std::string_view client_id) {
  const EntityPart named_user = EntityPart::named(std::string(user));
  const EntityPart named_client = EntityPart::named(std::string(client_id));
  const EntityPart any = EntityPart::default_name();
  const EntityPart none = EntityPart::absent();
  const QuotaEntity precedence[] = {
      {named_user, named_client}, {named_user, any}, {named_user, none},
      {any, named_client},        {any, any},        {any, none},
      {none, named_client},       {none, any},
  };
  for (const QuotaEntity& candidate : precedence) {
    auto it = quotas.find(candidate);
    if (it == quotas.end()) continue;
    auto value = it->second.find(key);
    if (value == it->second.end()) continue;
    QuotaEntity account{candidate.user.present() ? named_user : none,
                        candidate.client_id.present() ? named_client : none};
    return EffectiveQuota{value->second, std::move(account)};
  }
  return std::nullopt;
}

std::string encode_quotas(const QuotaMap& quotas) {
  nlohmann::json entries = nlohmann::json::array();
  for (const auto& [entity, values] : quotas) {
    nlohmann::json entity_json = nlohmann::json::object();
    if (entity.user.present()) entity_json[std::string(kEntityUser)] = encode_part(entity.user);
    if (entity.client_id.present()) {
      entity_json[std::string(kEntityClientId)] = encode_part(entity.client_id);
    }
    nlohmann::json values_json = nlohmann::json::object();
    for (const auto& [key, value] : values) values_json[std::string(quota_key_name(key))] = value;
    entries.push_back({{"entity", std::move(entity_json)}, {"values", std::move(values_json)}});
  }
  nlohmann::json root = {{"version", kFormatVersion}, {"quotas", std::move(entries)}};
  return root.dump(1) + "\n";
}

Result<QuotaMap> decode_quotas(std::string_view text) {
  nlohmann::json root = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!root.is_object() || !root.contains("version") || !root["version"].is_number_integer()) {
    return corrupt("not a quotas file");
  }
  if (root["version"].get<int64_t>() != kFormatVersion) {
    return corrupt("unknown version " + root["version"].dump());
  }
  if (!root.contains("quotas") || !root["quotas"].is_array()) return corrupt("no quotas array");
  QuotaMap quotas;
  for (const nlohmann::json& j : root["quotas"]) {
    auto entry = decode_entry(j);
    if (!entry.ok()) return entry.status();
    auto [it, inserted] = quotas.insert(std::move(entry).value());
    if (!inserted) return corrupt("entity " + entity_to_string(it->first) + " appears twice");
  }
  return quotas;
}

QuotaStore::QuotaStore(storage::Io& io, std::filesystem::path path, QuotaMap quotas)
    : io_(io), path_(std::move(path)), quotas_(std::move(quotas)) {
  empty_.store(quotas_.empty(), std::memory_order_release);
}

Result<std::unique_ptr<QuotaStore>> QuotaStore::open(const std::filesystem::path& meta_dir,
                                                     storage::Io& io) {
  std::filesystem::path path = meta_dir / "quotas.json";
  Result<std::optional<std::string>> text = read_meta_file(io, path, kFileBytesMax);
  if (!text.ok()) return text.status();
  QuotaMap quotas;
  if (text->has_value()) {
    auto decoded = decode_quotas(**text);
    if (!decoded.ok()) return decoded.status();
    quotas = std::move(decoded).value();
  }
  return std::unique_ptr<QuotaStore>(new QuotaStore(io, std::move(path), std::move(quotas)));
}

std::optional<EffectiveQuota> QuotaStore::resolve(QuotaKey key, std::string_view user,
                                                  std::string_view client_id) const {
  if (empty()) return std::nullopt;
  std::shared_lock lock(mu_);
  return resolve_quota(quotas_, key, user, client_id);
}

QuotaMap QuotaStore::snapshot() const {
  std::shared_lock lock(mu_);
  return quotas_;
}

Status QuotaStore::apply(const std::vector<Change>& changes) {
  std::lock_guard write_lock(write_mu_);
  QuotaMap next = snapshot();
  for (const Change& change : changes) {
    ASSERT(change.entity.user.present() || change.entity.client_id.present());
    if (change.value) {
      ASSERT(std::isfinite(*change.value) && *change.value >= 1);
      next[change.entity][change.key] = *change.value;
      continue;
    }
    auto it = next.find(change.entity);
    if (it == next.end()) continue;
    it->second.erase(change.key);
    if (it->second.empty()) next.erase(it);
  }
  if (next.size() > kEntitiesMax) {
    return error(StatusCode::too_large,
                 "more than " + std::to_string(kEntitiesMax) + " quota entities");
  }
  std::string text = encode_quotas(next);
  if (text.size() > kFileBytesMax) return error(StatusCode::too_large, "quotas.json too large");
  RETURN_IF_ERROR(write_meta_file(io_, path_, text));
  std::unique_lock lock(mu_);
  quotas_ = std::move(next);
  empty_.store(quotas_.empty(), std::memory_order_release);
  return Status();
}

}  // namespace cairn::broker::quotas
