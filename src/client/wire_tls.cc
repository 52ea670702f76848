#include "client/wire_tls.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>

#include <arpa/inet.h>

#include <fmt/format.h>

namespace cairn::client {

namespace {

// OpenSSL's reason for the last error, and clears the queue.
std::string openssl_reason() {
  unsigned long code = ERR_get_error();
  std::string reason = code == 0 ? "unknown error" : ERR_reason_error_string(code);
  ERR_clear_error();
  return reason;
}

Status failed(const std::string& what, const std::string& path) {
  return error(StatusCode::invalid_argument,
               fmt::format("{} {}: {}", what, path, openssl_reason()));
}

bool is_ip_address(const std::string& host) {
  unsigned char buffer[16];
  return inet_pton(AF_INET, host.c_str(), buffer) == 1 ||
         inet_pton(AF_INET6, host.c_str(), buffer) == 1;
}

}  // namespace

Result<std::shared_ptr<ssl_ctx_st>> make_wire_tls_context(const WireTlsSettings& settings) {
  std::shared_ptr<SSL_CTX> context(SSL_CTX_new(TLS_client_method()), SSL_CTX_free);
  if (context == nullptr) return error(StatusCode::io_error, "TLS: " + openssl_reason());
  SSL_CTX* ctx = context.get();
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  if (settings.ca_location.empty()) {
    if (SSL_CTX_set_default_verify_paths(ctx) != 1) return failed("cannot load", "the system CAs");
  } else if (SSL_CTX_load_verify_locations(ctx, settings.ca_location.c_str(), nullptr) != 1) {
    return failed("cannot load the CA certificates", settings.ca_location);
  }
  if (!settings.certificate_location.empty()) {
    const std::string& cert = settings.certificate_location;
    const std::string& key = settings.key_location.empty() ? cert : settings.key_location;
    if (SSL_CTX_use_certificate_chain_file(ctx, cert.c_str()) != 1) {
      return failed("cannot load the client certificate", cert);
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, key.c_str(), SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
      return failed("cannot load the client key", key);
    }
  }
  SSL_CTX_set_verify(ctx, settings.verify_certificate ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, nullptr);
  return context;
}

Result<std::unique_ptr<WireTlsSession>> WireTlsSession::create(ssl_ctx_st* context, int fd,
                                                               const std::string& host,
                                                               bool verify_hostname) {
  SSL* ssl = SSL_new(context);
  if (ssl == nullptr) return error(StatusCode::io_error, "TLS: " + openssl_reason());
  std::unique_ptr<WireTlsSession> session(new WireTlsSession(ssl));
  SSL_set_fd(ssl, fd);
  bool ip = is_ip_address(host);
  if (!ip) SSL_set_tlsext_host_name(ssl, host.c_str());  // SNI takes names only
  if (verify_hostname) {
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
    int set = ip ? X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str())
                 : X509_VERIFY_PARAM_set1_host(param, host.c_str(), 0);
    if (set != 1) return error(StatusCode::invalid_argument, "TLS: bad host name " + host);
  }
  SSL_set_connect_state(ssl);
  return session;
}

WireTlsSession::~WireTlsSession() { SSL_free(ssl_); }

Result<WireTlsSession::Step> WireTlsSession::outcome(int rc, size_t moved, const char* what) {
  if (rc == 1) return Step{moved, 0};
  int code = SSL_get_error(ssl_, rc);
  if (code == SSL_ERROR_WANT_READ) return Step{0, POLLIN};
  if (code == SSL_ERROR_WANT_WRITE) return Step{0, POLLOUT};
  if (code == SSL_ERROR_ZERO_RETURN) return Step{0, 0};  // closed cleanly
  std::string reason = code == SSL_ERROR_SSL ? openssl_reason() : "connection lost";
  long verify = SSL_get_verify_result(ssl_);
  if (verify != X509_V_OK) reason += std::string(": ") + X509_verify_cert_error_string(verify);
  ERR_clear_error();
  return error(StatusCode::io_error, fmt::format("TLS {}: {}", what, reason));
}

Result<WireTlsSession::Step> WireTlsSession::handshake() {
  Result<Step> step = outcome(SSL_do_handshake(ssl_), 0, "handshake");
  if (step.ok() && step->wait_events == 0 && SSL_is_init_finished(ssl_) != 1) {
    return error(StatusCode::io_error, "TLS handshake: the broker closed the connection");
  }
  return step;
}

Result<WireTlsSession::Step> WireTlsSession::write(std::span<const uint8_t> bytes) {
  // OpenSSL writes with write(2), not send(MSG_NOSIGNAL): a broker that already closed the
  // connection would kill the CLI with SIGPIPE. Block it for the call and take back one it
  // raised, so the write fails with EPIPE instead (the CLI keeps SIGPIPE for its stdout).
  sigset_t pipe_only;
  sigset_t before;
  sigemptyset(&pipe_only);
  sigaddset(&pipe_only, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_only, &before);
  size_t written = 0;
  int rc = SSL_write_ex(ssl_, bytes.data(), bytes.size(), &written);
  sigset_t pending;
  sigpending(&pending);
  if (sigismember(&pending, SIGPIPE) == 1 && sigismember(&before, SIGPIPE) == 0) {
    timespec no_wait{0, 0};
    sigtimedwait(&pipe_only, nullptr, &no_wait);
  }
  pthread_sigmask(SIG_SETMASK, &before, nullptr);
  return outcome(rc, written, "write");
}

Result<WireTlsSession::Step> WireTlsSession::read(std::span<uint8_t> bytes) {
  size_t got = 0;
  int rc = SSL_read_ex(ssl_, bytes.data(), bytes.size(), &got);
  return outcome(rc, got, "read");
}

}  // namespace cairn::client
