// KafkaSession on SASL listeners (SASL_PLAINTEXT, SASL_SSL): the login, as Kafka's broker does
// it (docs/security.md).
//
// - Before a login only ApiVersions, SaslHandshake and SaslAuthenticate are served; any other
//   request closes the connection, and frames are capped at kPreAuthFrameBytes.
// - SaslHandshake v1 is followed by SaslAuthenticate requests; v0 (KIP-43, older clients such
//   as kafka-python 2.0) by bare size-prefixed tokens, answered the same way.
// - A mechanism not in sasl.enabled.mechanisms: UNSUPPORTED_SASL_MECHANISM, then close. A
//   failed login: SASL_AUTHENTICATION_FAILED (or, with bare tokens, nothing) after
//   connection.failed.authentication.delay.ms, then close. Out-of-order SASL requests:
//   ILLEGAL_SASL_STATE, then close.
// - KIP-368: with connections.max.reauth.ms > 0, SaslAuthenticate v1+ tells the client how
//   long its session lasts; the client logs in again on the same connection (a new
//   SaslHandshake, the same principal) before then, or its next request closes the
//   connection.
#include <spdlog/spdlog.h>

#include <atomic>

#include "broker/error_code.h"
#include "broker/kafka_session.h"
#include "broker/request_context.h"
#include "broker/security/audit_log.h"
#include "net/await_callback.h"
#include "protocol/generated/api_versions.h"
#include "protocol/generated/sasl_authenticate.h"
#include "protocol/generated/sasl_handshake.h"

namespace cairn::broker {

namespace {

using protocol::SaslAuthenticateRequest;
using protocol::SaslAuthenticateResponse;
using protocol::SaslHandshakeRequest;
using protocol::SaslHandshakeResponse;

template <typename Response>
net::OutboundFrame encode(const protocol::RequestHeader& header, const Response& response) {
  protocol::Writer writer;
  protocol::encode_response_header(writer, header);
  response.encode(writer, header.api_version);
  return to_outbound_frame(std::move(writer).finish());
}

template <typename Request>
bool decode_body(Request& request, std::span<const uint8_t> body, int16_t version) {
  protocol::Reader reader(body);
  return request.decode(reader, version) && reader.ok();
}

}  // namespace

asio::awaitable<std::optional<net::Reply>> KafkaSession::sasl_gate(
    const protocol::RequestHeader& header, std::span<const uint8_t> body) {
  int16_t key = header.api_key;
  bool sasl_request =
      key == SaslHandshakeRequest::kApiKey || key == SaslAuthenticateRequest::kApiKey;
  if (sasl_->authenticated && !sasl_request && Clock::now() >= sasl_->expires) {
    spdlog::info("connection {}: SASL session of {} expired without re-authentication; closing",
                 info_.id, identity_->principal);
    co_return net::Reply::close();
  }
  if (key == protocol::ApiVersionsRequest::kApiKey) co_return std::nullopt;
  if (key == SaslHandshakeRequest::kApiKey) co_return sasl_handshake(header, body);
  if (key == SaslAuthenticateRequest::kApiKey) co_return co_await sasl_authenticate(header, body);
  if (!sasl_->authenticated) {
    spdlog::info("connection {} from {}: api key {} before SASL authentication; closing", info_.id,
                 info_.peer.address().to_string(), key);
    co_return net::Reply::close();
  }
  co_return std::nullopt;
}

net::Reply KafkaSession::sasl_handshake(const protocol::RequestHeader& header,
                                        std::span<const uint8_t> body) {
  SaslHandshakeRequest request;
  if (!decode_body(request, body, header.api_version)) return net::Reply::close();
  SaslHandshakeResponse response;
  std::vector<security::SaslMechanism> enabled;
  for (const std::string& name : broker_->config.sasl_mechanisms) {
    if (auto mechanism = security::parse_sasl_mechanism(name)) enabled.push_back(*mechanism);
    response.mechanisms.push_back(name);
  }
  // A second handshake before the first login finished, or a re-login over bare tokens
  // (which cannot be told apart from requests), is out of order.
  bool in_order =
      sasl_->step == Sasl::Step::handshake && !(sasl_->authenticated && header.api_version == 0);
  if (!in_order) {
    response.error_code = wire(ErrorCode::illegal_sasl_state);
    return net::Reply::respond_then_close(encode(header, response));
  }
  auto mechanism = security::parse_sasl_mechanism(request.mechanism);
  if (!mechanism || std::find(enabled.begin(), enabled.end(), *mechanism) == enabled.end()) {
    spdlog::info("connection {}: SASL mechanism '{}' is not enabled; closing", info_.id,
                 request.mechanism);
    audit_login(false, request.mechanism, "", "mechanism not enabled");
    response.error_code = wire(ErrorCode::unsupported_sasl_mechanism);
    return net::Reply::respond_then_close(encode(header, response));
  }
  sasl_->exchange = std::make_shared<security::SaslExchange>(*mechanism, broker_->scram);
  sasl_->step = header.api_version == 0 ? Sasl::Step::raw_tokens : Sasl::Step::authenticate;
  return net::Reply::respond(encode(header, response));
}

asio::awaitable<net::Reply> KafkaSession::sasl_authenticate(const protocol::RequestHeader& header,
                                                            std::span<const uint8_t> body) {
  SaslAuthenticateRequest request;
  if (!decode_body(request, body, header.api_version)) co_return net::Reply::close();
  SaslAuthenticateResponse response;
  if (sasl_->step != Sasl::Step::authenticate || sasl_->exchange == nullptr) {
    response.error_code = wire(ErrorCode::illegal_sasl_state);
    response.error_message = "SaslAuthenticate without a SaslHandshake v1 before it";
    co_return net::Reply::respond_then_close(encode(header, response));
  }
  security::SaslStep step = co_await sasl_step(std::move(request.auth_bytes));
  if (step.kind == security::SaslStep::Kind::failed) {
    co_await delay_failure();
    response.error_code = wire(ErrorCode::sasl_authentication_failed);
    response.error_message = step.message;
    co_return net::Reply::respond_then_close(encode(header, response));
  }
  response.auth_bytes.assign(step.token.begin(), step.token.end());
  if (step.kind == security::SaslStep::Kind::done &&
      broker_->config.connections_max_reauth_ms > 0) {
    response.session_lifetime_ms = broker_->config.connections_max_reauth_ms;
  }
  co_return net::Reply::respond(encode(header, response));
}

asio::awaitable<net::Reply> KafkaSession::sasl_raw_token(std::span<const uint8_t> token) {
  std::vector<uint8_t> bytes(token.begin(), token.end());
  security::SaslStep step = co_await sasl_step(std::move(bytes));
  if (step.kind == security::SaslStep::Kind::failed) {
    co_await delay_failure();
    co_return net::Reply::close();
  }
  net::OutboundFrame frame;
  frame.bytes.assign(step.token.begin(), step.token.end());
  co_return net::Reply::respond(std::move(frame));
}

namespace {

// PLAIN checks waiting for or on the password thread, broker-wide. Past the cap a login fails
// at once rather than queue behind a flood of others.
constexpr int kPendingPasswordChecksMax = 256;
std::atomic<int> pending_password_checks{0};

// One step of `exchange`; a PLAIN password check on `pool` when there is one (the coroutine
// resumes on its shard).
asio::awaitable<security::SaslStep> run_step(std::shared_ptr<security::SaslExchange> exchange,
                                             std::vector<uint8_t> token, asio::thread_pool* pool) {
  if (pool == nullptr || exchange->mechanism() != security::SaslMechanism::plain) {
    co_return exchange->step(token);
  }
  if (pending_password_checks.fetch_add(1) >= kPendingPasswordChecksMax) {
    pending_password_checks.fetch_sub(1);
    co_return security::SaslStep{
        security::SaslStep::Kind::failed, {}, "too many PLAIN logins in progress; try again"};
  }
  co_return co_await net::await_callback<security::SaslStep>(
      [&](std::function<void(security::SaslStep)> done) {
        asio::post(*pool, [exchange, token = std::move(token), done = std::move(done)] {
          security::SaslStep step = exchange->step(token);
          pending_password_checks.fetch_sub(1);
          done(std::move(step));
        });
      });
}

}  // namespace

asio::awaitable<security::SaslStep> KafkaSession::sasl_step(std::vector<uint8_t> token) {
  if (sasl_->exchange == nullptr) {  // defensive: a step needs a handshake first
    sasl_->failed = true;
    co_return security::SaslStep{security::SaslStep::Kind::failed, {}, "no SASL handshake"};
  }
  std::shared_ptr<security::SaslExchange> exchange = sasl_->exchange;
  security::SaslStep step = co_await run_step(exchange, std::move(token), password_checks_);
  co_return settle_step(std::move(step), *exchange);
}

security::SaslStep KafkaSession::settle_step(security::SaslStep step,
                                             const security::SaslExchange& exchange) {
  std::string mechanism(security::sasl_mechanism_name(exchange.mechanism()));
  std::string user = exchange.user();
  std::string peer = info_.peer.address().to_string();
  std::string principal = "User:" + user;
  if (step.kind == security::SaslStep::Kind::done && sasl_->authenticated &&
      principal != identity_->principal) {
    step = security::SaslStep{
        security::SaslStep::Kind::failed, {}, "re-authentication may not change the principal"};
  }
  if (step.kind == security::SaslStep::Kind::done) {
    auto identity = std::make_shared<security::SessionIdentity>(*identity_);
    identity->principal = principal;
    identity_ = std::move(identity);
    sasl_->authenticated = true;
    sasl_->exchange.reset();
    sasl_->step = Sasl::Step::handshake;
    int64_t lifetime_ms = broker_->config.connections_max_reauth_ms;
    sasl_->expires = lifetime_ms > 0 ? Clock::now() + std::chrono::milliseconds(lifetime_ms)
                                     : Clock::time_point::max();
    broker_->metrics->sasl_successes.add(1);
    spdlog::info("connection {} from {} on listener {}: authenticated as {} ({})", info_.id, peer,
                 identity_->listener, principal, mechanism);
    audit_login(true, mechanism, user, "");
  } else if (step.kind == security::SaslStep::Kind::failed) {
    broker_->metrics->sasl_failures.add(1);
    sasl_->exchange.reset();
    sasl_->failed = true;
    spdlog::info("connection {} from {} on listener {}: {} login failed: {}", info_.id, peer,
                 identity_->listener, mechanism, step.message);
    audit_login(false, mechanism, user, step.message);
  }
  return step;
}

void KafkaSession::audit_login(bool succeeded, std::string_view mechanism, std::string_view user,
                               std::string_view reason) const {
  if (broker_->audit == nullptr) return;
  security::AuditEvent event;
  event.type = security::AuditEvent::Type::authentication;
  event.allowed = succeeded;
  if (!user.empty()) event.principal = "User:" + std::string(user);
  event.listener = identity_->listener;
  event.client = info_.peer.address().to_string() + ":" + std::to_string(info_.peer.port());
  event.mechanism = mechanism;
  event.reason = reason;
  broker_->audit->record(std::move(event));
}

asio::awaitable<void> KafkaSession::delay_failure() {
  int32_t delay_ms = broker_->config.failed_authentication_delay_ms;
  if (delay_ms <= 0) co_return;
  asio::steady_timer timer(co_await asio::this_coro::executor);
  timer.expires_after(std::chrono::milliseconds(delay_ms));
  asio::error_code ignored;
  co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
}

}  // namespace cairn::broker
