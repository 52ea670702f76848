// TLS for the wire client (client/wire.h): the client context built from librdkafka's -X ssl.*
// properties, and a TLS session over the wire client's non-blocking socket whose steps say
// what to wait for instead of blocking. OpenSSL stays out of wire.h. One thread per object.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "base/status.h"

struct ssl_ctx_st;  // OpenSSL's SSL_CTX
struct ssl_st;      // OpenSSL's SSL

namespace cairn::client {

// security.protocol=SSL / SASL_SSL, as librdkafka reads its ssl.* properties.
struct WireTlsSettings {
  std::string ca_location;           // ssl.ca.location: PEM CA file; empty: the system's CAs
  std::string certificate_location;  // ssl.certificate.location: PEM client certificate (mTLS)
  std::string key_location;          // ssl.key.location: its unencrypted PEM key
  bool verify_certificate = true;    // enable.ssl.certificate.verification
  bool verify_hostname = true;       // ssl.endpoint.identification.algorithm=https (default)
};

// A client context for `settings`: TLS 1.2+, the files loaded. invalid_argument naming the
// file and OpenSSL's reason.
Result<std::shared_ptr<ssl_ctx_st>> make_wire_tls_context(const WireTlsSettings& settings);

class WireTlsSession {
 public:
  // What a step needs before it can be retried: nothing (it moved bytes), or the socket
  // readable / writable (poll events).
  struct Step {
    size_t bytes = 0;
    short wait_events = 0;  // POLLIN or POLLOUT when bytes == 0
  };

  // A session on connected socket `fd` to `host` (checked against the certificate when
  // `verify_hostname`); call handshake() until it needs no waiting.
  static Result<std::unique_ptr<WireTlsSession>> create(ssl_ctx_st* context, int fd,
                                                        const std::string& host,
                                                        bool verify_hostname);
  ~WireTlsSession();
  WireTlsSession(const WireTlsSession&) = delete;
  WireTlsSession& operator=(const WireTlsSession&) = delete;

  // wait_events 0: the handshake is done. Errors say why (e.g. the certificate did not
  // verify: "certificate verify failed: self-signed certificate").
  Result<Step> handshake();
  Result<Step> write(std::span<const uint8_t> bytes);
  // bytes 0 and wait_events 0: the peer closed the connection.
  Result<Step> read(std::span<uint8_t> bytes);

 private:
  explicit WireTlsSession(ssl_st* ssl) : ssl_(ssl) {}
  Result<Step> outcome(int rc, size_t moved, const char* what);

  ssl_st* ssl_;
};

}  // namespace cairn::client
