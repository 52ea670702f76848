// KafkaSession: the Kafka side of one connection. Parses each request's header, finds the
// API in the table and runs its handler.
//
// What closes the connection (as Kafka does): a request header that does not parse, an API
// key without a handler, a version outside the served range (except ApiVersions, which
// answers UNSUPPORTED_VERSION per KIP-511), and a body that does not decode (the handler
// returns Reply::close()). Per-connection protocol state lives here: the connection's
// identity (listener, security protocol, principal), which every request's context carries,
// and on SASL listeners the login (kafka_session_sasl.cc, docs/security.md): until a client
// has authenticated it may send only ApiVersions, SaslHandshake and SaslAuthenticate, in
// frames of at most kPreAuthFrameBytes; a login replaces the identity's principal.
// Lives on the connection's shard; created by the Server's SessionFactory.
#pragma once

#include <asio.hpp>

#include <chrono>
#include <memory>
#include <optional>

#include "broker/broker_state.h"
#include "broker/security/identity.h"
#include "broker/security/sasl.h"
#include "net/connection.h"
#include "protocol/request_header.h"

namespace cairn::broker {

class KafkaSession : public net::Session {
 public:
  // Kafka's sasl.server.max.receive.size: the largest frame before a SASL login.
  static constexpr uint32_t kPreAuthFrameBytes = 512 * 1024;

  // `password_checks` (may be null: checked on the shard) runs PLAIN's password checks, which
  // cost milliseconds of PBKDF2 each, off the shard; it outlives the session's coroutines.
  KafkaSession(const BrokerState* broker, net::ConnectionInfo info,
               std::shared_ptr<const security::SessionIdentity> identity,
               asio::thread_pool* password_checks = nullptr)
      : broker_(broker),
        info_(std::move(info)),
        identity_(std::move(identity)),
        password_checks_(password_checks) {
    broker_->metrics->connections.add(1);
    if (uses_sasl(identity_->protocol)) sasl_ = std::make_unique<Sasl>();
  }
  ~KafkaSession() override { broker_->metrics->connections.add(-1); }
  KafkaSession(const KafkaSession&) = delete;
  KafkaSession& operator=(const KafkaSession&) = delete;

  asio::awaitable<net::Reply> handle(net::InboundRequest request) override;
  uint32_t frame_bytes_max() const override {
    bool open = sasl_ == nullptr ||
                (sasl_->authenticated && !sasl_->failed && Clock::now() < sasl_->expires);
    return open ? UINT32_MAX : kPreAuthFrameBytes;
  }
  const security::SessionIdentity& identity() const { return *identity_; }

 private:
  using Clock = std::chrono::steady_clock;
  // The SASL login of a connection on a SASL listener.
  struct Sasl {
    enum class Step : uint8_t {
      handshake,     // expects SaslHandshake (or ApiVersions)
      authenticate,  // after SaslHandshake v1: SaslAuthenticate requests
      raw_tokens,    // after SaslHandshake v0: bare size-prefixed tokens (KIP-43)
    };
    Step step = Step::handshake;
    bool authenticated = false;  // a login succeeded (a re-login may be under way)
    bool failed = false;         // a login failed: every later frame closes the connection
    std::shared_ptr<security::SaslExchange> exchange;      // shared with a password check
    Clock::time_point expires = Clock::time_point::max();  // connections.max.reauth.ms
  };

  // SASL listeners: whether the request may go on to the API table; nullopt: yes. Otherwise
  // the reply (the SASL requests themselves, or a close).
  asio::awaitable<std::optional<net::Reply>> sasl_gate(const protocol::RequestHeader& header,
                                                       std::span<const uint8_t> body);
  net::Reply sasl_handshake(const protocol::RequestHeader& header, std::span<const uint8_t> body);
  asio::awaitable<net::Reply> sasl_authenticate(const protocol::RequestHeader& header,
                                                std::span<const uint8_t> body);
  asio::awaitable<net::Reply> sasl_raw_token(std::span<const uint8_t> token);
  // Runs one exchange step (a PLAIN password check on password_checks_); on success swaps in
  // the new identity.
  asio::awaitable<security::SaslStep> sasl_step(std::vector<uint8_t> token);
  // The bookkeeping after a step of `exchange`: the new identity, metrics, log, audit.
  security::SaslStep settle_step(security::SaslStep step, const security::SaslExchange& exchange);
  asio::awaitable<void> delay_failure();
  // An authentication event for the access audit log, when it is on; `user` may be empty.
  void audit_login(bool succeeded, std::string_view mechanism, std::string_view user,
                   std::string_view reason) const;

  const BrokerState* broker_;
  net::ConnectionInfo info_;
  std::shared_ptr<const security::SessionIdentity> identity_;
  std::unique_ptr<Sasl> sasl_;  // null on PLAINTEXT and SSL listeners
  asio::thread_pool* password_checks_;
};

}  // namespace cairn::broker
