#include "protocol/scram.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <charconv>

#include "base/assert.h"

namespace cairn::scram {

namespace {

const EVP_MD* digest(ScramMechanism mechanism) {
  return mechanism == ScramMechanism::sha256 ? EVP_sha256() : EVP_sha512();
}

Bytes hmac(ScramMechanism mechanism, std::span<const uint8_t> key, std::string_view data) {
  Bytes out(EVP_MAX_MD_SIZE);
  unsigned int size = 0;
  ASSERT(HMAC(digest(mechanism), key.data(), static_cast<int>(key.size()),
              reinterpret_cast<const uint8_t*>(data.data()), data.size(), out.data(),
              &size) != nullptr);
  out.resize(size);
  return out;
}

Bytes hash(ScramMechanism mechanism, std::span<const uint8_t> data) {
  Bytes out(EVP_MAX_MD_SIZE);
  unsigned int size = 0;
  ASSERT(EVP_Digest(data.data(), data.size(), out.data(), &size, digest(mechanism), nullptr) == 1);
  out.resize(size);
  return out;
}

bool equal_secret(std::span<const uint8_t> a, std::span<const uint8_t> b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

Status bad(std::string why) { return error(StatusCode::invalid_argument, std::move(why)); }

// RFC 5802 saslname: "=2C" is ',', "=3D" is '='; any other '=' is malformed.
std::optional<std::string> decode_saslname(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); i++) {
    if (text[i] == ',') return std::nullopt;
    if (text[i] != '=') {
      out.push_back(text[i]);
      continue;
    }
    std::string_view escape = text.substr(i, 3);
    if (escape == "=2C") {
      out.push_back(',');
    } else if (escape == "=3D") {
      out.push_back('=');
    } else {
      return std::nullopt;
    }
    i += 2;
  }
  return out;
}

std::string encode_saslname(std::string_view name) {
  std::string out;
  for (char c : name) {
    if (c == ',') {
      out += "=2C";
    } else if (c == '=') {
      out += "=3D";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

// Splits "a=1,b=2" into its attributes; nullopt when one is not "x=...".
std::optional<std::vector<std::pair<char, std::string_view>>> attributes(std::string_view text) {
  std::vector<std::pair<char, std::string_view>> out;
  while (true) {
    size_t comma = text.find(',');
    std::string_view part = text.substr(0, comma);
    if (part.size() < 2 || part[1] != '=') return std::nullopt;
    out.emplace_back(part[0], part.substr(2));
    if (comma == std::string_view::npos) return out;
    text.remove_prefix(comma + 1);
  }
}

bool valid_nonce(std::string_view nonce) {
  if (nonce.empty()) return false;
  for (char c : nonce) {
    if (c < 0x21 || c > 0x7e || c == ',') return false;
  }
  return true;
}

Bytes xor_bytes(std::span<const uint8_t> a, std::span<const uint8_t> b) {
  Bytes out(a.begin(), a.end());
  for (size_t i = 0; i < out.size() && i < b.size(); i++) out[i] ^= b[i];
  return out;
}

std::string fresh_nonce() { return base64_encode(random_bytes(24)); }

}  // namespace

std::optional<ScramMechanism> parse_scram_mechanism(std::string_view name) {
  if (name == "SCRAM-SHA-256") return ScramMechanism::sha256;
  if (name == "SCRAM-SHA-512") return ScramMechanism::sha512;
  return std::nullopt;
}

std::string_view scram_mechanism_name(ScramMechanism mechanism) {
  return mechanism == ScramMechanism::sha256 ? "SCRAM-SHA-256" : "SCRAM-SHA-512";
}

std::optional<ScramMechanism> scram_mechanism_from_type(int8_t type) {
  if (type == 1) return ScramMechanism::sha256;
  if (type == 2) return ScramMechanism::sha512;
  return std::nullopt;
}

int8_t scram_mechanism_type(ScramMechanism mechanism) {
  return mechanism == ScramMechanism::sha256 ? 1 : 2;
}

Bytes scram_salted_password(ScramMechanism mechanism, std::string_view password,
                            std::span<const uint8_t> salt, int32_t iterations) {
  Bytes out(static_cast<size_t>(EVP_MD_get_size(digest(mechanism))));
  ASSERT(PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()), salt.data(),
                           static_cast<int>(salt.size()), iterations, digest(mechanism),
                           static_cast<int>(out.size()), out.data()) == 1);
  return out;
}

ScramCredential scram_credential_from_salted(ScramMechanism mechanism, Bytes salt,
                                             int32_t iterations,
                                             std::span<const uint8_t> salted_password) {
  ScramCredential credential;
  credential.mechanism = mechanism;
  credential.salt = std::move(salt);
  credential.iterations = iterations;
  credential.stored_key = hash(mechanism, hmac(mechanism, salted_password, "Client Key"));
  credential.server_key = hmac(mechanism, salted_password, "Server Key");
  return credential;
}

ScramCredential scram_credential(ScramMechanism mechanism, std::string_view password,
                                 int32_t iterations) {
  Bytes salt = random_bytes(32);
  Bytes salted = scram_salted_password(mechanism, password, salt, iterations);
  return scram_credential_from_salted(mechanism, std::move(salt), iterations, salted);
}

bool scram_password_matches(const ScramCredential& credential, std::string_view password) {
  Bytes salted =
      scram_salted_password(credential.mechanism, password, credential.salt, credential.iterations);
  Bytes client_key = hmac(credential.mechanism, salted, "Client Key");
  return equal_secret(hash(credential.mechanism, client_key), credential.stored_key);
}

std::string base64_encode(std::span<const uint8_t> bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<uint8_t*>(out.data()), bytes.data(),
                          static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::optional<Bytes> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  for (char c : text) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '+' || c == '/' || c == '=';
    if (!ok) return std::nullopt;
  }
  Bytes out(text.size() / 4 * 3 + 1);
  int n = EVP_DecodeBlock(out.data(), reinterpret_cast<const uint8_t*>(text.data()),
                          static_cast<int>(text.size()));
  if (n < 0) return std::nullopt;
  size_t padding = 0;
  if (!text.empty() && text.back() == '=') padding++;
  if (text.size() >= 2 && text[text.size() - 2] == '=') padding++;
  out.resize(static_cast<size_t>(n) - padding);
  return out;
}

Bytes random_bytes(size_t count) {
  Bytes out(count);
  ASSERT(RAND_bytes(out.data(), static_cast<int>(count)) == 1);
  return out;
}

ScramServer::ScramServer(ScramMechanism mechanism, ScramLookup lookup, std::string server_nonce)
    : mechanism_(mechanism),
      lookup_(std::move(lookup)),
      server_nonce_(server_nonce.empty() ? fresh_nonce() : std::move(server_nonce)) {}

Result<std::string> ScramServer::first(std::string_view client_first) {
  if (step_ != Step::first) return bad("SCRAM: client-first out of order");
  step_ = Step::failed;
  // gs2-header: "n,," or "y,," or with an authzid "n,a=NAME,"; channel binding is refused.
  if (client_first.size() < 3 || (client_first[0] != 'n' && client_first[0] != 'y') ||
      client_first[1] != ',') {
    return bad("SCRAM: malformed client-first message");
  }
  size_t header_end = client_first.find(',', 2);
  if (header_end == std::string_view::npos) return bad("SCRAM: malformed client-first message");
  std::string_view authzid = client_first.substr(2, header_end - 2);
  gs2_header_ = std::string(client_first.substr(0, header_end + 1));
  client_first_bare_ = std::string(client_first.substr(header_end + 1));
  // "n=USER,r=NONCE" then optional extensions; Kafka's one, tokenauth, is refused.
  std::string_view bare = client_first_bare_;
  size_t second_comma = bare.find(',', bare.find(',') + 1);
  auto attrs = attributes(bare.substr(0, second_comma));
  if (!attrs || attrs->size() != 2 || (*attrs)[0].first != 'n' || (*attrs)[1].first != 'r') {
    return bad("SCRAM: malformed client-first message");
  }
  if (second_comma != std::string_view::npos &&
      bare.substr(second_comma).find("tokenauth=") != std::string_view::npos) {
    return bad("SCRAM: delegation tokens are not supported");
  }
  std::optional<std::string> user = decode_saslname((*attrs)[0].second);
  if (!user || user->empty()) return bad("SCRAM: malformed user name");
  if (!authzid.empty() && authzid != "a=" + encode_saslname(*user)) {
    return bad("SCRAM: authorization id differs from the user name");
  }
  std::string_view client_nonce = (*attrs)[1].second;
  if (!valid_nonce(client_nonce)) return bad("SCRAM: malformed nonce");
  user_ = *user;
  credential_ = lookup_(user_);
  ScramCredential shown;
  if (credential_) {
    shown = *credential_;
  } else {
    // Made up, so an unknown user looks like a known one until the proof: the same salt for
    // the same name on every attempt (derived from a secret of this process).
    static const Bytes secret = random_bytes(32);
    shown.salt = hmac(mechanism_, secret, user_);
    shown.salt.resize(32);
    shown.iterations = kScramIterationsMin;
  }
  nonce_ = std::string(client_nonce) + server_nonce_;
  server_first_ =
      "r=" + nonce_ + ",s=" + base64_encode(shown.salt) + ",i=" + std::to_string(shown.iterations);
  step_ = Step::final;
  return server_first_;
}

Result<std::string> ScramServer::final(std::string_view client_final) {
  if (step_ != Step::final) return bad("SCRAM: client-final out of order");
  step_ = Step::failed;
  size_t proof_at = client_final.rfind(",p=");
  if (proof_at == std::string_view::npos) return bad("SCRAM: malformed client-final message");
  std::string_view without_proof = client_final.substr(0, proof_at);
  auto attrs = attributes(without_proof);
  if (!attrs || attrs->size() < 2 || (*attrs)[0].first != 'c' || (*attrs)[1].first != 'r') {
    return bad("SCRAM: malformed client-final message");
  }
  auto binding = base64_decode((*attrs)[0].second);
  if (!binding || std::string(binding->begin(), binding->end()) != gs2_header_) {
    return bad("SCRAM: channel binding does not match the client-first message");
  }
  // The nonce must end with ours. Kafka checks no more, and librdkafka 2.0 (Debian 12's)
  // sends its own nonce once more in front; the proof covers the message as sent.
  if (!(*attrs)[1].second.ends_with(nonce_)) return bad("SCRAM: nonce mismatch");
  auto proof = base64_decode(client_final.substr(proof_at + 3));
  if (!proof) return bad("SCRAM: malformed proof");
  std::string auth_message =
      client_first_bare_ + "," + server_first_ + "," + std::string(without_proof);
  if (!credential_) return bad("SCRAM: authentication failed");
  Bytes client_signature = hmac(mechanism_, credential_->stored_key, auth_message);
  if (proof->size() != client_signature.size()) return bad("SCRAM: authentication failed");
  Bytes client_key = xor_bytes(*proof, client_signature);
  if (!equal_secret(hash(mechanism_, client_key), credential_->stored_key)) {
    return bad("SCRAM: authentication failed");
  }
  step_ = Step::done;
  return "v=" + base64_encode(hmac(mechanism_, credential_->server_key, auth_message));
}

ScramClient::ScramClient(ScramMechanism mechanism, std::string user, std::string password,
                         std::string client_nonce)
    : mechanism_(mechanism),
      user_(std::move(user)),
      password_(std::move(password)),
      client_nonce_(client_nonce.empty() ? fresh_nonce() : std::move(client_nonce)) {}

std::string ScramClient::first() {
  client_first_bare_ = "n=" + encode_saslname(user_) + ",r=" + client_nonce_;
  return "n,," + client_first_bare_;
}

Result<std::string> ScramClient::final(std::string_view server_first) {
  auto attrs = attributes(server_first);
  if (!attrs || attrs->size() < 3 || (*attrs)[0].first != 'r' || (*attrs)[1].first != 's' ||
      (*attrs)[2].first != 'i') {
    return error(StatusCode::invalid_argument, "SCRAM: malformed server-first message");
  }
  std::string_view nonce = (*attrs)[0].second;
  if (!nonce.starts_with(client_nonce_)) {
    return error(StatusCode::invalid_argument, "SCRAM: server nonce mismatch");
  }
  auto salt = base64_decode((*attrs)[1].second);
  int32_t iterations = 0;
  std::string_view i = (*attrs)[2].second;
  auto parsed = std::from_chars(i.data(), i.data() + i.size(), iterations);
  if (!salt || parsed.ec != std::errc() || iterations < 1 || iterations > 1000000) {
    return error(StatusCode::invalid_argument, "SCRAM: malformed server-first message");
  }
  Bytes salted = scram_salted_password(mechanism_, password_, *salt, iterations);
  std::string without_proof = "c=biws,r=" + std::string(nonce);
  std::string auth_message =
      client_first_bare_ + "," + std::string(server_first) + "," + without_proof;
  Bytes client_key = hmac(mechanism_, salted, "Client Key");
  Bytes stored_key = hash(mechanism_, client_key);
  Bytes proof = xor_bytes(client_key, hmac(mechanism_, stored_key, auth_message));
  server_signature_ = hmac(mechanism_, hmac(mechanism_, salted, "Server Key"), auth_message);
  return without_proof + ",p=" + base64_encode(proof);
}

Status ScramClient::verify(std::string_view server_final) {
  if (server_final.starts_with("e=")) {
    return error(StatusCode::invalid_argument, std::string(server_final.substr(2)));
  }
  auto signature =
      server_final.starts_with("v=") ? base64_decode(server_final.substr(2)) : std::nullopt;
  if (!signature || !equal_secret(*signature, server_signature_)) {
    return error(StatusCode::invalid_argument, "SCRAM: the server's signature does not match");
  }
  return Status();
}

}  // namespace cairn::scram
