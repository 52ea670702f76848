#include "broker/security/listeners.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

namespace cairn::broker::security {
namespace {

std::string_view trim(std::string_view text) {
  size_t begin = text.find_first_not_of(" \t\r\n");
  if (begin == std::string_view::npos) return {};
  size_t end = text.find_last_not_of(" \t\r\n");
  return text.substr(begin, end - begin + 1);
}

std::string upper(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

// The non-empty comma-separated items of `text`, trimmed.
std::vector<std::string_view> items(std::string_view text) {
  std::vector<std::string_view> out;
  while (!text.empty()) {
    size_t comma = text.find(',');
    std::string_view item = trim(text.substr(0, comma));
    if (!item.empty()) out.push_back(item);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

Status bad(std::string_view config, std::string_view item, std::string_view why) {
  return error(StatusCode::invalid_argument,
               std::string(config) + ": '" + std::string(item) + "': " + std::string(why));
}

bool valid_name(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
  });
}

struct Endpoint {
  std::string name;
  net::HostPort address;
};

// NAME://HOST:PORT; an empty HOST is every interface.
Result<Endpoint> parse_endpoint(std::string_view config, std::string_view item) {
  size_t separator = item.find("://");
  if (separator == std::string_view::npos) return bad(config, item, "expected NAME://HOST:PORT");
  Endpoint endpoint;
  endpoint.name = upper(item.substr(0, separator));
  if (!valid_name(endpoint.name)) return bad(config, item, "bad listener name");
  std::string host_port(item.substr(separator + 3));
  if (host_port.starts_with(':')) host_port = "0.0.0.0" + host_port;
  Result<net::HostPort> address = net::parse_host_port(host_port);
  if (!address.ok()) return bad(config, item, address.status().message());
  endpoint.address = *address;
  return endpoint;
}

Result<std::map<std::string, SecurityProtocol>> parse_protocol_map(std::string_view text) {
  constexpr std::string_view kConfig = "listener.security.protocol.map";
  std::map<std::string, SecurityProtocol> map;
  for (std::string_view item : items(text)) {
    size_t colon = item.find(':');
    if (colon == std::string_view::npos) return bad(kConfig, item, "expected NAME:PROTOCOL");
    std::string name = upper(trim(item.substr(0, colon)));
    if (!valid_name(name)) return bad(kConfig, item, "bad listener name");
    Result<SecurityProtocol> protocol = parse_security_protocol(trim(item.substr(colon + 1)));
    if (!protocol.ok()) return bad(kConfig, item, protocol.status().message());
    if (!map.emplace(name, *protocol).second) return bad(kConfig, item, "name given twice");
  }
  return map;
}

}  // namespace

Result<SecurityProtocol> parse_security_protocol(std::string_view text) {
  std::string name = upper(text);
  if (name == "PLAINTEXT") return SecurityProtocol::plaintext;
  if (name == "SSL") return SecurityProtocol::ssl;
  if (name == "SASL_PLAINTEXT") return SecurityProtocol::sasl_plaintext;
  if (name == "SASL_SSL") return SecurityProtocol::sasl_ssl;
  return error(StatusCode::invalid_argument, "unknown security protocol '" + std::string(text) +
                                                 "' (PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL)");
}

std::string_view security_protocol_name(SecurityProtocol protocol) {
  switch (protocol) {
    case SecurityProtocol::plaintext:
      return "PLAINTEXT";
    case SecurityProtocol::ssl:
      return "SSL";
    case SecurityProtocol::sasl_plaintext:
      return "SASL_PLAINTEXT";
    case SecurityProtocol::sasl_ssl:
      return "SASL_SSL";
  }
  return "?";
}

Result<std::vector<ListenerConfig>> parse_listeners(std::string_view listeners,
                                                    std::string_view protocol_map) {
  constexpr std::string_view kConfig = "listeners";
  Result<std::map<std::string, SecurityProtocol>> map = parse_protocol_map(protocol_map);
  if (!map.ok()) return map.status();
  std::vector<ListenerConfig> out;
  std::set<std::string> addresses;
  for (std::string_view item : items(listeners)) {
    Result<Endpoint> endpoint = parse_endpoint(kConfig, item);
    if (!endpoint.ok()) return endpoint.status();
    auto protocol = map->find(endpoint->name);
    if (protocol == map->end()) {
      return bad(kConfig, item,
                 "listener name not in listener.security.protocol.map (add NAME:PROTOCOL)");
    }
    for (const ListenerConfig& other : out) {
      if (other.name == endpoint->name) return bad(kConfig, item, "listener name given twice");
    }
    std::string key = endpoint->address.host + ":" + std::to_string(endpoint->address.port);
    if (endpoint->address.port != 0 && !addresses.insert(key).second) {
      return bad(kConfig, item, "address given twice");
    }
    out.push_back(ListenerConfig{endpoint->name, protocol->second, endpoint->address, {}});
  }
  if (out.empty()) return error(StatusCode::invalid_argument, "listeners: no listener given");
  return out;
}

Status apply_advertised_listeners(std::string_view advertised,
                                  std::vector<ListenerConfig>& listeners) {
  constexpr std::string_view kConfig = "advertised.listeners";
  std::set<std::string> seen;
  for (std::string_view item : items(advertised)) {
    Result<Endpoint> endpoint = parse_endpoint(kConfig, item);
    if (!endpoint.ok()) return endpoint.status();
    if (endpoint->address.host == "0.0.0.0" || endpoint->address.host == "::") {
      return bad(kConfig, item, "a client needs a host name or address");
    }
    if (endpoint->address.port == 0) return bad(kConfig, item, "port 0");
    if (!seen.insert(endpoint->name).second) return bad(kConfig, item, "name given twice");
    auto it = std::find_if(listeners.begin(), listeners.end(),
                           [&](const ListenerConfig& l) { return l.name == endpoint->name; });
    if (it == listeners.end()) return bad(kConfig, item, "no listener of that name");
    it->advertised = endpoint->address;
  }
  return Status::ok_status();
}

}  // namespace cairn::broker::security
