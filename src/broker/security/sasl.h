// SASL on the server side: the mechanisms a Kafka client can pick in SaslHandshake and one
// authentication exchange with each.
//
// PLAIN ("authzid\0user\0password", RFC 4616) is checked against the SCRAM store: the password
// is run through the user's stored salt and iteration count (SCRAM-SHA-512's credential if the
// user has one, else SCRAM-SHA-256's) and compared with the StoredKey, so one set of
// credentials serves every mechanism and no password is ever kept. SCRAM-SHA-256/512 run
// protocol/scram.h's ScramServer. Per connection; the connection's shard only.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "broker/security/scram_store.h"

namespace cairn::broker::security {

enum class SaslMechanism : uint8_t { plain, scram_sha256, scram_sha512 };

// "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512" (exact). GSSAPI and OAUTHBEARER are not served.
std::optional<SaslMechanism> parse_sasl_mechanism(std::string_view name);
std::string_view sasl_mechanism_name(SaslMechanism mechanism);
// `sasl.enabled.mechanisms`: a comma-separated list; invalid_argument names an unknown entry.
Result<std::vector<SaslMechanism>> parse_sasl_mechanisms(std::string_view list);

// The bootstrap user, "NAME:PASSWORD[:MECHANISM]" (mechanism SCRAM-SHA-256 or -512, default
// SCRAM-SHA-256). The password may contain ':' when a mechanism is given last.
struct BootstrapUser {
  std::string name;
  std::string password;
  ScramMechanism mechanism = ScramMechanism::sha256;
};
Result<BootstrapUser> parse_bootstrap_user(std::string_view text);

struct SaslStep {
  enum class Kind : uint8_t { challenge, done, failed };
  Kind kind = Kind::failed;
  std::string token;    // what goes back to the client (may be empty)
  std::string message;  // why it failed (kind failed)
};

class SaslExchange {
 public:
  // `store` outlives the exchange.
  SaslExchange(SaslMechanism mechanism, const ScramStore* store);
  // One client token in, the server's answer out. user() is the user the client named once
  // its first message parsed (a failed login's audit event shows it); after `done`, the user
  // who logged in.
  SaslStep step(std::span<const uint8_t> token);
  const std::string& user() const { return user_; }
  SaslMechanism mechanism() const { return mechanism_; }

 private:
  SaslStep plain(std::string_view token);

  SaslMechanism mechanism_;
  const ScramStore* store_;
  std::unique_ptr<ScramServer> scram_;
  int steps_ = 0;
  std::string user_;
};

}  // namespace cairn::broker::security
