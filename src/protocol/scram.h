// SCRAM-SHA-256 and SCRAM-SHA-512 (RFC 5802, RFC 7677) as Kafka uses them, on OpenSSL's
// PBKDF2, HMAC and digests.
//
// A stored credential holds what the server needs and nothing that logs a user in by itself:
// the salt, the iteration count, StoredKey = H(HMAC(SaltedPassword, "Client Key")) and
// ServerKey = HMAC(SaltedPassword, "Server Key"). Kafka's AlterUserScramCredentials sends the
// salt and SaltedPassword = PBKDF2(password, salt, iterations); the broker keeps only the keys.
//
// ScramServer runs one server-side exchange:
//
//   client-first  "n,,n=alice,r=<client nonce>"              -> first()
//   server-first  "r=<client nonce><server nonce>,s=<salt b64>,i=4096"
//   client-final  "c=biws,r=<nonce>,p=<proof b64>"             -> final()
//   server-final  "v=<server signature b64>"
//
// Every comparison of secret-derived bytes is constant-time (CRYPTO_memcmp). Pure functions
// and per-exchange objects: any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace cairn::scram {

enum class ScramMechanism : uint8_t { sha256, sha512 };

// Kafka's bounds on a credential's iteration count (AlterUserScramCredentials).
inline constexpr int32_t kScramIterationsMin = 4096;
inline constexpr int32_t kScramIterationsMax = 16384;

// "SCRAM-SHA-256" / "SCRAM-SHA-512" (exact, as Kafka spells them).
std::optional<ScramMechanism> parse_scram_mechanism(std::string_view name);
std::string_view scram_mechanism_name(ScramMechanism mechanism);
// Kafka's ScramMechanism enum values in the admin APIs: 1 = SHA-256, 2 = SHA-512.
std::optional<ScramMechanism> scram_mechanism_from_type(int8_t type);
int8_t scram_mechanism_type(ScramMechanism mechanism);

using Bytes = std::vector<uint8_t>;

struct ScramCredential {
  ScramMechanism mechanism = ScramMechanism::sha256;
  Bytes salt;
  int32_t iterations = kScramIterationsMin;
  Bytes stored_key;
  Bytes server_key;
};

// PBKDF2-HMAC (RFC 5802's Hi()).
Bytes scram_salted_password(ScramMechanism mechanism, std::string_view password,
                            std::span<const uint8_t> salt, int32_t iterations);
// StoredKey and ServerKey from SaltedPassword.
ScramCredential scram_credential_from_salted(ScramMechanism mechanism, Bytes salt,
                                             int32_t iterations,
                                             std::span<const uint8_t> salted_password);
// A credential for `password` with a fresh random salt.
ScramCredential scram_credential(ScramMechanism mechanism, std::string_view password,
                                 int32_t iterations);
// Whether `password` matches `credential` (PLAIN logins against the SCRAM store).
bool scram_password_matches(const ScramCredential& credential, std::string_view password);

std::string base64_encode(std::span<const uint8_t> bytes);
std::optional<Bytes> base64_decode(std::string_view text);
// Random bytes from OpenSSL's CSPRNG.
Bytes random_bytes(size_t count);

// The user's credential for the exchange's mechanism, or nullopt for an unknown user.
using ScramLookup = std::function<std::optional<ScramCredential>(const std::string& user)>;

class ScramServer {
 public:
  // `server_nonce` empty: a random one (tests pass RFC 7677's).
  ScramServer(ScramMechanism mechanism, ScramLookup lookup, std::string server_nonce = {});

  // client-first -> server-first. An unknown user gets a made-up challenge (a salt stable
  // per name and process, the default iterations; the exchange then fails at final()), so the
  // answer alone does not tell which users exist (a user with other iterations still shows).
  Result<std::string> first(std::string_view client_first);
  // client-final -> server-final. Error (invalid_argument) when the proof is wrong or a message
  // malformed.
  Result<std::string> final(std::string_view client_final);
  // The authenticated user name, once final() succeeded.
  const std::string& user() const { return user_; }

 private:
  ScramMechanism mechanism_;
  ScramLookup lookup_;
  std::string server_nonce_;
  std::string user_;
  std::string gs2_header_;
  std::string client_first_bare_;
  std::string server_first_;
  std::string nonce_;
  std::optional<ScramCredential> credential_;
  enum class Step : uint8_t { first, final, done, failed } step_ = Step::first;
};

// The client side, for Cairn's own CLI (client/wire.h) and for tests.
class ScramClient {
 public:
  ScramClient(ScramMechanism mechanism, std::string user, std::string password,
              std::string client_nonce = {});
  std::string first();
  // server-first -> client-final.
  Result<std::string> final(std::string_view server_first);
  // Checks the server's signature.
  Status verify(std::string_view server_final);

 private:
  ScramMechanism mechanism_;
  std::string user_;
  std::string password_;
  std::string client_nonce_;
  std::string client_first_bare_;
  Bytes server_signature_;
};

}  // namespace cairn::scram
