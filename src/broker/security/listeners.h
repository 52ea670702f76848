// Kafka's listener configs, parsed: `listeners` (NAME://HOST:PORT,...),
// `advertised.listeners` (the same form, per name) and `listener.security.protocol.map`
// (NAME:PROTOCOL,...). Pure functions; any thread (used at startup).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "broker/config.h"

namespace cairn::broker::security {

// "PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL" (case-insensitive).
Result<SecurityProtocol> parse_security_protocol(std::string_view text);
std::string_view security_protocol_name(SecurityProtocol protocol);

// Kafka's default: each protocol name maps to itself.
inline constexpr std::string_view kDefaultProtocolMap =
    "PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL";

// `listeners`: each entry's name is looked up in `protocol_map`. An empty host
// ("PLAINTEXT://:9092") is every interface. Errors (invalid_argument): a malformed entry, a
// name not in the map, a name or a HOST:PORT (port > 0) given twice, no entry at all.
Result<std::vector<ListenerConfig>> parse_listeners(std::string_view listeners,
                                                    std::string_view protocol_map);

// `advertised.listeners`: sets `advertised` on the listeners it names. Errors: a name not in
// `listeners`, given twice, an empty host or port 0.
Status apply_advertised_listeners(std::string_view advertised,
                                  std::vector<ListenerConfig>& listeners);

}  // namespace cairn::broker::security
