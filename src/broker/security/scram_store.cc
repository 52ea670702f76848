#include "broker/security/scram_store.h"

#include <nlohmann/json.hpp>

#include "broker/meta_file.h"

namespace cairn::broker::security {

namespace {

constexpr size_t kFileBytesMax = 64 * 1024 * 1024;
constexpr int kFormatVersion = 1;

Status corrupt(const std::string& why) { return error(StatusCode::corrupt, "scram.json: " + why); }

Result<ScramCredential> decode_credential(ScramMechanism mechanism, const nlohmann::json& j) {
  if (!j.is_object() || !j.contains("salt") || !j.contains("iterations") ||
      !j.contains("stored_key") || !j.contains("server_key") || !j["salt"].is_string() ||
      !j["iterations"].is_number_integer() || !j["stored_key"].is_string() ||
      !j["server_key"].is_string()) {
    return corrupt("a credential lacks a field");
  }
  ScramCredential c;
  c.mechanism = mechanism;
  auto salt = base64_decode(j["salt"].get<std::string>());
  auto stored = base64_decode(j["stored_key"].get<std::string>());
  auto server = base64_decode(j["server_key"].get<std::string>());
  int64_t iterations = j["iterations"].get<int64_t>();
  if (!salt || !stored || !server || iterations < 1 || iterations > INT32_MAX) {
    return corrupt("a credential does not decode");
  }
  c.salt = std::move(*salt);
  c.stored_key = std::move(*stored);
  c.server_key = std::move(*server);
  c.iterations = static_cast<int32_t>(iterations);
  return c;
}

}  // namespace

std::string encode_scram_users(
    const std::map<std::string, std::map<ScramMechanism, ScramCredential>>& users) {
  nlohmann::json root = {{"version", kFormatVersion}, {"users", nlohmann::json::object()}};
  for (const auto& [user, credentials] : users) {
    nlohmann::json entry = nlohmann::json::object();
    for (const auto& [mechanism, c] : credentials) {
      entry[std::string(scram_mechanism_name(mechanism))] = {
          {"salt", base64_encode(c.salt)},
          {"iterations", c.iterations},
          {"stored_key", base64_encode(c.stored_key)},
          {"server_key", base64_encode(c.server_key)}};
    }
    root["users"][user] = std::move(entry);
  }
  return root.dump(1) + "\n";
}

Result<std::map<std::string, std::map<ScramMechanism, ScramCredential>>> decode_scram_users(
    std::string_view text) {
  nlohmann::json root = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!root.is_object() || !root.contains("version") || !root["version"].is_number_integer()) {
    return corrupt("not a credentials file");
  }
  if (root["version"].get<int64_t>() != kFormatVersion) {
    return corrupt("unknown version " + root["version"].dump());
  }
  if (!root.contains("users") || !root["users"].is_object()) return corrupt("no users object");
  std::map<std::string, std::map<ScramMechanism, ScramCredential>> users;
  for (const auto& [user, entry] : root["users"].items()) {
    if (!entry.is_object()) return corrupt("user " + user + " is not an object");
    for (const auto& [name, j] : entry.items()) {
      auto mechanism = parse_scram_mechanism(name);
      if (!mechanism) return corrupt("unknown mechanism " + name);
      auto credential = decode_credential(*mechanism, j);
      if (!credential.ok()) return credential.status();
      users[user][*mechanism] = std::move(credential).value();
    }
  }
  return users;
}

Result<std::unique_ptr<ScramStore>> ScramStore::open(const std::filesystem::path& meta_dir,
                                                     storage::Io& io) {
  std::filesystem::path path = meta_dir / "scram.json";
  Result<std::optional<std::string>> text = read_meta_file(io, path, kFileBytesMax);
  if (!text.ok()) return text.status();
  Users users;
  if (text->has_value()) {
    auto decoded = decode_scram_users(**text);
    if (!decoded.ok()) return decoded.status();
    users = std::move(decoded).value();
  }
  return std::unique_ptr<ScramStore>(new ScramStore(io, std::move(path), std::move(users)));
}

std::optional<ScramCredential> ScramStore::lookup(const std::string& user,
                                                  ScramMechanism mechanism) const {
  std::shared_lock lock(mu_);
  auto it = users_.find(user);
  if (it == users_.end()) return std::nullopt;
  auto found = it->second.find(mechanism);
  if (found == it->second.end()) return std::nullopt;
  return found->second;
}

std::vector<ScramStore::UserCredentials> ScramStore::list() const {
  std::shared_lock lock(mu_);
  std::vector<UserCredentials> out;
  for (const auto& [user, credentials] : users_) {
    UserCredentials entry{user, {}};
    for (const auto& [mechanism, c] : credentials) {
      entry.mechanisms.emplace_back(mechanism, c.iterations);
    }
    out.push_back(std::move(entry));
  }
  return out;
}

size_t ScramStore::user_count() const {
  std::shared_lock lock(mu_);
  return users_.size();
}

Status ScramStore::apply(const std::vector<Change>& changes) {
  std::lock_guard write_lock(write_mu_);
  Users next;
  {
    std::shared_lock lock(mu_);
    next = users_;
  }
  for (const Change& change : changes) {
    if (change.credential) {
      next[change.user][change.mechanism] = *change.credential;
      continue;
    }
    auto it = next.find(change.user);
    if (it == next.end()) continue;
    it->second.erase(change.mechanism);
    if (it->second.empty()) next.erase(it);
  }
  std::string text = encode_scram_users(next);
  if (text.size() > kFileBytesMax) {
    return error(StatusCode::too_large,
                 "scram.json would exceed " + std::to_string(kFileBytesMax) + " bytes");
  }
  RETURN_IF_ERROR(write_meta_file(io_, path_, text));
  std::unique_lock lock(mu_);
  users_ = std::move(next);
  return Status();
}

}  // namespace cairn::broker::security
