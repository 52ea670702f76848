#include "client/wire.h"

#include <fmt/format.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>

#include "protocol/generated/api_catalog.h"
#include "protocol/generated/api_versions.h"
#include "protocol/generated/find_coordinator.h"
#include "protocol/generated/metadata.h"
#include "protocol/generated/sasl_authenticate.h"
#include "protocol/generated/sasl_handshake.h"
#include "protocol/request_header.h"
#include "protocol/scram.h"

namespace cairn::client {

namespace {

// A response larger than this is refused (a transaction listing of a huge cluster still fits).
constexpr int32_t kResponseBytesMax = 64 << 20;
constexpr int16_t kTransactionKeyType = 1;
constexpr int16_t kTransactionalIdNotFound = 105;

std::string api_name(int16_t api_key) {
  for (const protocol::ApiInfo& info : protocol::kApiCatalog) {
    if (info.api_key == api_key) return info.name;
  }
  return fmt::format("API key {}", api_key);
}

using Clock = std::chrono::steady_clock;

int remaining_ms(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return static_cast<int>(std::max<int64_t>(0, left.count()));
}

// Waits until `fd` is ready for `events` or the deadline passes.
Status wait_ready(int fd, short events, Clock::time_point deadline, const std::string& what) {
  while (true) {
    pollfd p{fd, events, 0};
    int n = ::poll(&p, 1, remaining_ms(deadline));
    if (n > 0) return Status::ok_status();
    if (n == 0) return error(StatusCode::timed_out, fmt::format("{}: timed out", what));
    if (errno != EINTR) {
      return error(StatusCode::io_error, fmt::format("{}: {}", what, std::strerror(errno)));
    }
  }
}

Result<int> connect_to(const std::string& host, int port, int timeout_ms) {
  const std::string what = fmt::format("connecting to {}:{}", host, port);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  int rc = ::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found);
  if (rc != 0) return error(StatusCode::io_error, fmt::format("{}: {}", what, gai_strerror(rc)));
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> list(found, ::freeaddrinfo);
  Clock::time_point deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  Status last = error(StatusCode::io_error, what + ": no address");
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    if (::connect(fd, a->ai_addr, a->ai_addrlen) == 0 || errno == EINPROGRESS) {
      Status ready = wait_ready(fd, POLLOUT, deadline, what);
      int so_error = 0;
      socklen_t len = sizeof(so_error);
      if (ready.ok()) ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &len);
      if (ready.ok() && so_error == 0) {
        int one = 1;
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        return fd;
      }
      last = ready.ok()
                 ? error(StatusCode::io_error, fmt::format("{}: {}", what, std::strerror(so_error)))
                 : ready;
    } else {
      last = error(StatusCode::io_error, fmt::format("{}: {}", what, std::strerror(errno)));
    }
    ::close(fd);
  }
  return last;
}

// "host:port" (IPv6 in brackets) -> (host, port).
Result<std::pair<std::string, int>> split_host_port(std::string_view text) {
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) {
    return error(StatusCode::invalid_argument, fmt::format("broker '{}' is not host:port", text));
  }
  std::string host(text.substr(0, colon));
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  std::string_view digits = text.substr(colon + 1);
  int port = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
  if (ec != std::errc() || end != digits.data() + digits.size() || port <= 0 || port > 65535) {
    return error(StatusCode::invalid_argument, fmt::format("broker '{}' has no valid port", text));
  }
  return std::pair<std::string, int>(host, port);
}

}  // namespace

Status wire_error(int16_t code, std::string_view context) {
  if (code == 0) return Status::ok_status();
  // Codes newer than librdkafka 2.0.2 knows.
  if (code == kTransactionalIdNotFound) {
    return error(StatusCode::not_found,
                 fmt::format("{}: does not exist (TRANSACTIONAL_ID_NOT_FOUND)", context));
  }
  return kafka_status(static_cast<rd_kafka_resp_err_t>(code), context);
}

namespace {

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), ::tolower);
  return text;
}

// A boolean property as librdkafka spells it; anything else is refused, never read as false.
Result<bool> enabled(const std::map<std::string, std::string>& settings, const std::string& name,
                     bool otherwise) {
  auto it = settings.find(name);
  if (it == settings.end()) return otherwise;
  std::string value = lower(it->second);
  if (value == "true" || value == "1") return true;
  if (value == "false" || value == "0") return false;
  return error(StatusCode::invalid_argument, name + "=" + it->second + " is not true or false");
}

Result<std::optional<WireSasl>> wire_sasl(std::map<std::string, std::string>& settings) {
  WireSasl sasl;
  sasl.mechanism =
      settings.count("sasl.mechanisms") ? settings["sasl.mechanisms"] : settings["sasl.mechanism"];
  if (sasl.mechanism.empty()) sasl.mechanism = "PLAIN";  // librdkafka's default
  sasl.user = settings["sasl.username"];
  sasl.password = settings["sasl.password"];
  if (sasl.user.empty() || sasl.password.empty()) {
    return error(StatusCode::invalid_argument,
                 "security.protocol=" + settings["security.protocol"] +
                     " needs -X sasl.username and -X sasl.password");
  }
  if (sasl.mechanism != "PLAIN" && !scram::parse_scram_mechanism(sasl.mechanism)) {
    return error(StatusCode::unsupported,
                 "sasl.mechanisms=" + sasl.mechanism +
                     " is not supported by this command (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512)");
  }
  return std::optional<WireSasl>(std::move(sasl));
}

}  // namespace

Result<WireSecurity> wire_security(const ClientOptions& options) {
  std::map<std::string, std::string> settings;
  for (const std::string& property : options.properties) {
    Result<std::pair<std::string, std::string>> kv = split_key_value(property, "property");
    if (!kv.ok()) return kv.status();
    settings[kv->first] = kv->second;
  }
  std::string protocol =
      settings.count("security.protocol") ? settings["security.protocol"] : "plaintext";
  std::transform(protocol.begin(), protocol.end(), protocol.begin(), ::tolower);
  if (protocol != "plaintext" && protocol != "ssl" && protocol != "sasl_plaintext" &&
      protocol != "sasl_ssl") {
    return error(StatusCode::invalid_argument,
                 "security.protocol=" + settings["security.protocol"] +
                     " is not one of plaintext, ssl, sasl_plaintext, sasl_ssl");
  }
  WireSecurity security;
  if (protocol.starts_with("sasl_")) {
    Result<std::optional<WireSasl>> sasl = wire_sasl(settings);
    if (!sasl.ok()) return sasl.status();
    security.sasl = std::move(sasl).value();
  }
  if (protocol.ends_with("ssl")) {
    WireTlsSettings tls;
    tls.ca_location = settings["ssl.ca.location"];
    tls.certificate_location = settings["ssl.certificate.location"];
    tls.key_location = settings["ssl.key.location"];
    Result<bool> verify = enabled(settings, "enable.ssl.certificate.verification", true);
    if (!verify.ok()) return verify.status();
    tls.verify_certificate = *verify;
    std::string algorithm = settings.count("ssl.endpoint.identification.algorithm")
                                ? lower(settings["ssl.endpoint.identification.algorithm"])
                                : "https";
    if (algorithm != "https" && algorithm != "none") {
      return error(StatusCode::invalid_argument,
                   "ssl.endpoint.identification.algorithm must be https or none");
    }
    if (settings.count("ssl.key.password")) {
      return error(StatusCode::unsupported,
                   "ssl.key.password: encrypted keys are not supported by this command");
    }
    tls.verify_hostname = tls.verify_certificate && algorithm == "https";
    Result<std::shared_ptr<ssl_ctx_st>> context = make_wire_tls_context(tls);
    if (!context.ok()) return context.status();
    security.tls = std::move(context).value();
    security.verify_hostname = tls.verify_hostname;
  }
  return security;
}

// ---------------------------------------------------------------------------------------------
// WireConnection

WireConnection::WireConnection(int fd, std::string address, int timeout_ms)
    : fd_(fd), address_(std::move(address)), timeout_ms_(timeout_ms) {}

WireConnection::~WireConnection() { ::close(fd_); }

Result<std::unique_ptr<WireConnection>> WireConnection::open(const std::string& host, int port,
                                                             int timeout_ms,
                                                             const WireSecurity& security) {
  Result<int> fd = connect_to(host, port, timeout_ms);
  if (!fd.ok()) return fd.status();
  std::unique_ptr<WireConnection> connection(
      new WireConnection(*fd, fmt::format("{}:{}", host, port), timeout_ms));
  if (security.tls != nullptr) {
    RETURN_IF_ERROR(connection->start_tls(security.tls.get(), host, security.verify_hostname));
  }
  // ApiVersions v0: every broker answers it, whatever it serves.
  connection->versions_[protocol::ApiVersionsRequest::kApiKey] = {0, 0};
  Result<protocol::ApiVersionsResponse> versions =
      connection->call<protocol::ApiVersionsResponse>(protocol::ApiVersionsRequest{});
  if (!versions.ok()) return versions.status();
  RETURN_IF_ERROR(wire_error(versions->error_code, "ApiVersions"));
  connection->versions_.clear();
  for (const auto& api : versions->api_keys) {
    connection->versions_[api.api_key] = {api.min_version, api.max_version};
  }
  if (security.sasl) RETURN_IF_ERROR(connection->login(*security.sasl));
  return connection;
}

Status WireConnection::start_tls(ssl_ctx_st* context, const std::string& host,
                                 bool verify_hostname) {
  const Deadline deadline = Clock::now() + std::chrono::milliseconds(timeout_ms_);
  Result<std::unique_ptr<WireTlsSession>> session =
      WireTlsSession::create(context, fd_, host, verify_hostname);
  if (!session.ok()) return session.status();
  tls_ = std::move(session).value();
  while (true) {
    Result<WireTlsSession::Step> step = tls_->handshake();
    if (!step.ok()) return error(step.status().code(), address_ + ": " + step.status().message());
    if (step->wait_events == 0) return Status::ok_status();
    RETURN_IF_ERROR(wait_ready(fd_, step->wait_events, deadline, "TLS handshake with " + address_));
  }
}

Result<std::vector<uint8_t>> WireConnection::sasl_round(std::span<const uint8_t> token) {
  protocol::SaslAuthenticateRequest request;
  request.auth_bytes.assign(token.begin(), token.end());
  Result<protocol::SaslAuthenticateResponse> answer =
      call<protocol::SaslAuthenticateResponse>(request);
  if (!answer.ok()) return answer.status();
  if (answer->error_code != 0) {
    return error(
        StatusCode::invalid_argument,
        fmt::format("SASL login to {} failed: {}", address_,
                    answer->error_message.value_or("error " + std::to_string(answer->error_code))));
  }
  return std::move(answer->auth_bytes);
}

Status WireConnection::login(const WireSasl& sasl) {
  protocol::SaslHandshakeRequest handshake;
  handshake.mechanism = sasl.mechanism;
  Result<protocol::SaslHandshakeResponse> shaken = call<protocol::SaslHandshakeResponse>(handshake);
  if (!shaken.ok()) return shaken.status();
  RETURN_IF_ERROR(wire_error(shaken->error_code, "SaslHandshake " + sasl.mechanism));
  auto as_bytes = [](std::string_view text) {
    return std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(text.data()), text.size());
  };
  auto scram = scram::parse_scram_mechanism(sasl.mechanism);
  if (!scram) {
    std::string token = std::string(1, '\0') + sasl.user + std::string(1, '\0') + sasl.password;
    return sasl_round(as_bytes(token)).status();
  }
  scram::ScramClient client(*scram, sasl.user, sasl.password);
  Result<std::vector<uint8_t>> first = sasl_round(as_bytes(client.first()));
  if (!first.ok()) return first.status();
  Result<std::string> final =
      client.final(std::string_view(reinterpret_cast<const char*>(first->data()), first->size()));
  if (!final.ok()) return final.status();
  Result<std::vector<uint8_t>> last = sasl_round(as_bytes(*final));
  if (!last.ok()) return last.status();
  return client.verify(std::string_view(reinterpret_cast<const char*>(last->data()), last->size()));
}

Result<int16_t> WireConnection::version_for(int16_t api_key, int16_t client_min,
                                            int16_t client_max) const {
  auto it = versions_.find(api_key);
  int16_t version = it == versions_.end() ? int16_t{-1} : std::min(client_max, it->second.second);
  if (it == versions_.end() || version < client_min || version < it->second.first) {
    return error(StatusCode::unsupported,
                 fmt::format("the broker at {} does not support {}", address_, api_name(api_key)));
  }
  return version;
}

Status WireConnection::send_all(std::span<const uint8_t> bytes, Deadline deadline) {
  while (tls_ != nullptr && !bytes.empty()) {
    Result<WireTlsSession::Step> step = tls_->write(bytes);
    if (!step.ok()) return error(step.status().code(), address_ + ": " + step.status().message());
    bytes = bytes.subspan(step->bytes);
    if (step->bytes == 0) {
      RETURN_IF_ERROR(wait_ready(fd_, step->wait_events, deadline, "sending to " + address_));
    }
  }
  while (!bytes.empty()) {
    ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n > 0) {
      bytes = bytes.subspan(static_cast<size_t>(n));
    } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      RETURN_IF_ERROR(wait_ready(fd_, POLLOUT, deadline, "sending to " + address_));
    } else {
      return error(StatusCode::io_error,
                   fmt::format("sending to {}: {}", address_, std::strerror(errno)));
    }
  }
  return Status::ok_status();
}

Status WireConnection::receive_all(std::span<uint8_t> bytes, Deadline deadline) {
  while (tls_ != nullptr && !bytes.empty()) {
    Result<WireTlsSession::Step> step = tls_->read(bytes);
    if (!step.ok()) return error(step.status().code(), address_ + ": " + step.status().message());
    if (step->bytes == 0 && step->wait_events == 0) {
      return error(StatusCode::io_error, address_ + " closed the connection");
    }
    bytes = bytes.subspan(step->bytes);
    if (step->bytes == 0) {
      RETURN_IF_ERROR(wait_ready(fd_, step->wait_events, deadline, "waiting for " + address_));
    }
  }
  while (!bytes.empty()) {
    ssize_t n = ::recv(fd_, bytes.data(), bytes.size(), 0);
    if (n > 0) {
      bytes = bytes.subspan(static_cast<size_t>(n));
    } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      RETURN_IF_ERROR(wait_ready(fd_, POLLIN, deadline, "waiting for " + address_));
    } else {
      return error(StatusCode::io_error,
                   fmt::format("{} closed the connection{}", address_,
                               n < 0 ? std::string(": ") + std::strerror(errno) : ""));
    }
  }
  return Status::ok_status();
}

Result<std::vector<uint8_t>> WireConnection::round_trip(int16_t api_key, int16_t version,
                                                        const protocol::Writer& body) {
  const Deadline deadline = Clock::now() + std::chrono::milliseconds(timeout_ms_);
  protocol::RequestHeader header;
  header.api_key = api_key;
  header.api_version = version;
  header.correlation_id = next_correlation_id_++;
  header.client_id = "cairn-cli";
  protocol::Writer frame;
  size_t size_at = frame.reserve_int32();
  protocol::encode_request_header(frame, header);
  frame.write_raw(body.buffer());
  frame.patch_int32(size_at, static_cast<int32_t>(frame.size() - 4));
  RETURN_IF_ERROR(send_all(frame.buffer(), deadline));
  last_correlation_id_ = header.correlation_id;
  uint8_t prefix[4];
  RETURN_IF_ERROR(receive_all(prefix, deadline));
  int32_t size = static_cast<int32_t>((uint32_t{prefix[0]} << 24) | (uint32_t{prefix[1]} << 16) |
                                      (uint32_t{prefix[2]} << 8) | uint32_t{prefix[3]});
  if (size < 4 || size > kResponseBytesMax) {
    return error(StatusCode::corrupt, fmt::format("{} sent a {} response of {} bytes", address_,
                                                  api_name(api_key), size));
  }
  std::vector<uint8_t> response(static_cast<size_t>(size));
  RETURN_IF_ERROR(receive_all(response, deadline));
  return response;
}

Status WireConnection::skip_response_header(protocol::Reader& r, int16_t api_key, int16_t version) {
  Result<int32_t> correlation = protocol::decode_response_header(r, api_key, version);
  if (!correlation.ok()) return malformed(api_key);
  if (*correlation != last_correlation_id_) {
    return error(StatusCode::corrupt, fmt::format("{} answered correlation id {} (expected {})",
                                                  address_, *correlation, last_correlation_id_));
  }
  return Status::ok_status();
}

Status WireConnection::lost() const {
  return error(StatusCode::io_error,
               fmt::format("the connection to {} failed earlier; not reused", address_));
}

Status WireConnection::malformed(int16_t api_key) const {
  return error(StatusCode::corrupt,
               fmt::format("{} sent a malformed {} response", address_, api_name(api_key)));
}

// ---------------------------------------------------------------------------------------------
// WireCluster

Result<std::unique_ptr<WireCluster>> WireCluster::connect(const ClientOptions& options) {
  Result<WireSecurity> security = wire_security(options);
  if (!security.ok()) return security.status();
  std::unique_ptr<WireCluster> cluster(new WireCluster(options.timeout_ms, *security));
  Status last = error(StatusCode::invalid_argument, "no bootstrap broker given");
  for (std::string_view rest = options.brokers; !rest.empty();) {
    size_t comma = rest.find(',');
    std::string_view item = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    if (item.empty()) continue;
    Result<std::pair<std::string, int>> address = split_host_port(item);
    if (!address.ok()) {
      last = address.status();
      continue;
    }
    Result<std::unique_ptr<WireConnection>> connection =
        WireConnection::open(address->first, address->second, options.timeout_ms, *security);
    if (connection.ok()) last = cluster->load_metadata(**connection);
    if (!connection.ok()) last = connection.status();
    if (last.ok()) return cluster;
  }
  return last;
}

Status WireCluster::load_metadata(WireConnection& connection) {
  protocol::MetadataRequest request;
  request.topics = std::nullopt;  // every topic (v1+)
  request.allow_auto_topic_creation = false;
  Result<protocol::MetadataResponse> metadata =
      connection.call<protocol::MetadataResponse>(request);
  if (!metadata.ok()) return metadata.status();
  brokers_.clear();
  partitions_.clear();
  for (const auto& b : metadata->brokers) brokers_.push_back({b.node_id, b.host, b.port});
  for (const auto& topic : metadata->topics) {
    if (topic.error_code != 0 || !topic.name.has_value()) continue;
    for (const auto& p : topic.partitions) {
      partitions_.push_back({*topic.name, p.partition_index, p.leader_id});
    }
  }
  std::sort(partitions_.begin(), partitions_.end(), [](const auto& a, const auto& b) {
    return std::tie(a.topic, a.partition) < std::tie(b.topic, b.partition);
  });
  std::sort(brokers_.begin(), brokers_.end(),
            [](const auto& a, const auto& b) { return a.node_id < b.node_id; });
  return Status::ok_status();
}

Result<WireConnection*> WireCluster::broker(int32_t node_id) {
  auto open = connections_.find(node_id);
  if (open != connections_.end() && !open->second->broken()) return open->second.get();
  if (open != connections_.end()) connections_.erase(open);
  auto it = std::find_if(brokers_.begin(), brokers_.end(),
                         [node_id](const WireBroker& b) { return b.node_id == node_id; });
  if (it == brokers_.end()) {
    return error(StatusCode::not_found, fmt::format("broker {} is not in the cluster", node_id));
  }
  Result<std::unique_ptr<WireConnection>> connection =
      WireConnection::open(it->host, it->port, timeout_ms_, security_);
  if (!connection.ok()) return connection.status();
  WireConnection* raw = connection->get();
  connections_[node_id] = std::move(connection).value();
  return raw;
}

Result<int32_t> WireCluster::transaction_coordinator(const std::string& transactional_id) {
  protocol::FindCoordinatorRequest request;
  request.key = transactional_id;
  request.key_type = kTransactionKeyType;
  Status last = error(StatusCode::io_error, "the cluster has no brokers");
  for (const WireBroker& b : brokers_) {
    Result<WireConnection*> connection = broker(b.node_id);
    if (!connection.ok()) {
      last = connection.status();
      continue;
    }
    Result<protocol::FindCoordinatorResponse> found =
        (*connection)->call<protocol::FindCoordinatorResponse>(request);
    if (!found.ok()) {
      last = found.status();
      continue;
    }
    RETURN_IF_ERROR(wire_error(
        found->error_code, fmt::format("coordinator of transactional id '{}'", transactional_id)));
    return found->node_id;
  }
  return last;
}

}  // namespace cairn::client
