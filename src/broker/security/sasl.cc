#include "broker/security/sasl.h"

#include <algorithm>

namespace cairn::broker::security {

namespace {

SaslStep failed(std::string message) {
  return SaslStep{SaslStep::Kind::failed, {}, std::move(message)};
}

}  // namespace

std::optional<SaslMechanism> parse_sasl_mechanism(std::string_view name) {
  if (name == "PLAIN") return SaslMechanism::plain;
  if (name == "SCRAM-SHA-256") return SaslMechanism::scram_sha256;
  if (name == "SCRAM-SHA-512") return SaslMechanism::scram_sha512;
  return std::nullopt;
}

std::string_view sasl_mechanism_name(SaslMechanism mechanism) {
  switch (mechanism) {
    case SaslMechanism::plain:
      return "PLAIN";
    case SaslMechanism::scram_sha256:
      return "SCRAM-SHA-256";
    case SaslMechanism::scram_sha512:
      return "SCRAM-SHA-512";
  }
  return "PLAIN";
}

Result<std::vector<SaslMechanism>> parse_sasl_mechanisms(std::string_view list) {
  std::vector<SaslMechanism> out;
  while (!list.empty()) {
    size_t comma = list.find(',');
    std::string_view item = list.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (!item.empty()) {
      auto mechanism = parse_sasl_mechanism(item);
      if (!mechanism) {
        return error(StatusCode::invalid_argument,
                     "unsupported SASL mechanism '" + std::string(item) +
                         "' (Cairn serves PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512)");
      }
      if (std::find(out.begin(), out.end(), *mechanism) == out.end()) out.push_back(*mechanism);
    }
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return out;
}

Result<BootstrapUser> parse_bootstrap_user(std::string_view text) {
  BootstrapUser user;
  size_t colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == text.size()) {
    return error(StatusCode::invalid_argument,
                 "bootstrap user: expected NAME:PASSWORD[:MECHANISM]");
  }
  user.name = std::string(text.substr(0, colon));
  std::string_view rest = text.substr(colon + 1);
  size_t last = rest.rfind(':');
  if (last != std::string_view::npos) {
    if (auto mechanism = parse_scram_mechanism(rest.substr(last + 1))) {
      user.mechanism = *mechanism;
      rest = rest.substr(0, last);
    }
  }
  if (rest.empty()) return error(StatusCode::invalid_argument, "bootstrap user: empty password");
  user.password = std::string(rest);
  return user;
}

SaslExchange::SaslExchange(SaslMechanism mechanism, const ScramStore* store)
    : mechanism_(mechanism), store_(store) {
  if (mechanism == SaslMechanism::plain) return;
  ScramMechanism scram =
      mechanism == SaslMechanism::scram_sha256 ? ScramMechanism::sha256 : ScramMechanism::sha512;
  scram_ = std::make_unique<ScramServer>(
      scram, [store, scram](const std::string& user) { return store->lookup(user, scram); });
}

SaslStep SaslExchange::step(std::span<const uint8_t> token) {
  std::string_view text(reinterpret_cast<const char*>(token.data()), token.size());
  int step = steps_++;
  if (mechanism_ == SaslMechanism::plain) {
    if (step > 0) return failed("PLAIN takes one message");
    return plain(text);
  }
  if (step == 0) {
    Result<std::string> first = scram_->first(text);
    if (!first.ok()) return failed(first.status().message());
    user_ = scram_->user();  // named, not yet proven
    return SaslStep{SaslStep::Kind::challenge, std::move(first).value(), {}};
  }
  if (step == 1) {
    Result<std::string> final = scram_->final(text);
    if (!final.ok()) return failed(final.status().message());
    user_ = scram_->user();
    return SaslStep{SaslStep::Kind::done, std::move(final).value(), {}};
  }
  return failed("SCRAM takes two messages");
}

SaslStep SaslExchange::plain(std::string_view token) {
  size_t first_nul = token.find('\0');
  size_t second_nul =
      first_nul == std::string_view::npos ? first_nul : token.find('\0', first_nul + 1);
  if (second_nul == std::string_view::npos || token.find('\0', second_nul + 1) != token.npos) {
    return failed("PLAIN: malformed message");
  }
  std::string_view authzid = token.substr(0, first_nul);
  std::string user(token.substr(first_nul + 1, second_nul - first_nul - 1));
  std::string_view password = token.substr(second_nul + 1);
  if (user.empty() || password.empty()) return failed("PLAIN: empty user name or password");
  user_ = user;  // named, not yet proven
  if (!authzid.empty() && authzid != user) {
    return failed("PLAIN: authorization id differs from the user name");
  }
  auto credential = store_->lookup(user, ScramMechanism::sha512);
  if (!credential) credential = store_->lookup(user, ScramMechanism::sha256);
  if (!credential) {  // spend what a known user costs, so the time tells nothing
    static const ScramCredential decoy =
        scram_credential(ScramMechanism::sha512, "decoy", kScramIterationsMin);
    (void)scram_password_matches(decoy, password);
  }
  if (!credential || !scram_password_matches(*credential, password)) {
    return failed("Authentication failed: invalid username or password");
  }
  return SaslStep{SaslStep::Kind::done, {}, {}};
}

}  // namespace cairn::broker::security
