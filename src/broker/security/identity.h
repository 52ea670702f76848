// Who a connection is: its listener, security protocol and Kafka principal.
//
// Principals follow Kafka: "User:<name>"; a connection that proved nothing (PLAINTEXT, or SSL
// without a client certificate) is "User:ANONYMOUS". With a verified client certificate the
// name comes from ssl.principal.mapping.rules (principal.h). SASL replaces a session's identity
// once the client authenticates; the authorizer (authorizer.h) reads it from the
// RequestContext. Immutable once made; shared by a session's requests.
#pragma once

#include <string>
#include <string_view>

#include "broker/config.h"

namespace cairn::broker::security {

inline constexpr std::string_view kAnonymous = "User:ANONYMOUS";

struct SessionIdentity {
  std::string listener;  // the listener's name ("SSL")
  SecurityProtocol protocol = SecurityProtocol::plaintext;
  std::string principal = std::string(kAnonymous);  // "User:alice"
  std::string host;  // the client's IP address as ACLs match it ("127.0.0.1", "::1")
};

}  // namespace cairn::broker::security
