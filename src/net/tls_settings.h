// What a TLS listener is configured with (TlsSettings) and what a finished handshake tells
// about the peer (PeerIdentity): plain data, without OpenSSL or Asio, so that the broker's
// config and the connection interface can name them cheaply. The OpenSSL side is net/tls.h.
// Any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace cairn::net {

// Kafka's ssl.client.auth.
enum class ClientAuth : uint8_t {
  none,       // no client certificate is asked for
  requested,  // asked for; a client without one connects anonymously; a bad one is refused
  required,   // a client without a valid certificate is refused
};

struct TlsSettings {
  // PEM: the server certificate first, then any intermediates; also the private key when
  // private_key_path is empty (Kafka's PEM keystore holds both).
  std::string certificate_chain_path;
  std::string private_key_path;  // PEM, unencrypted; empty: in certificate_chain_path
  // PEM: the CA certificates that client certificates must chain to. Required unless
  // client_auth is none.
  std::string ca_path;
  // PEM: certificate revocation lists (ssl.crl.location); a client certificate they list is
  // refused, and so is every client certificate once a list is past its nextUpdate. Empty: not
  // checked. Needs ca_path.
  std::string crl_path;
  ClientAuth client_auth = ClientAuth::none;
  bool tls12_enabled = true;  // at least one of the two
  bool tls13_enabled = true;
};

// What the transport established about the peer before any request is read.
struct PeerIdentity {
  bool tls = false;
  std::string tls_version;  // "TLSv1.3"; empty without TLS
  // The verified client certificate's subject as an RFC 2253 distinguished name
  // ("CN=alice,OU=eng,O=Acme"), the form Kafka's ssl.principal.mapping.rules match against.
  // Empty when the client sent no certificate.
  std::optional<std::string> certificate_subject;
};

}  // namespace cairn::net
