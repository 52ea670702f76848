// A small blocking Kafka-protocol client on Cairn's generated codecs, for the admin requests
// librdkafka 2.0 has no API for — the transaction tools (ListTransactions,
// DescribeTransactions, DescribeProducers, WriteTxnMarkers) behind `cairn txn`. It works
// against any Kafka-protocol broker: versions are negotiated with ApiVersions per connection,
// within what the generated codecs serve.
//
//   Result<std::unique_ptr<WireCluster>> cluster = WireCluster::connect(options);
//   Result<protocol::ListTransactionsResponse> listed =
//       (*cluster)->broker(id)->call<protocol::ListTransactionsResponse>(request);
//
// Every security.protocol: PLAINTEXT, SSL (with a client certificate for mTLS), SASL_PLAINTEXT
// and SASL_SSL (PLAIN, SCRAM-SHA-256/512), from the -X ssl.* and sasl.* properties as
// librdkafka names them (client/wire_tls.h).
// Each call blocks for at most the options' timeout. One thread at a time per object.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"
#include "client/kafka_handle.h"
#include "client/wire_tls.h"
#include "protocol/reader.h"
#include "protocol/writer.h"

namespace cairn::client {

// A SASL login (security.protocol=SASL_PLAINTEXT).
struct WireSasl {
  std::string mechanism;  // PLAIN, SCRAM-SHA-256, SCRAM-SHA-512
  std::string user;
  std::string password;
};

// How to reach the brokers: TLS (a context, null for none) and the SASL login, if any.
struct WireSecurity {
  std::shared_ptr<ssl_ctx_st> tls;
  bool verify_hostname = true;
  std::optional<WireSasl> sasl;
};

// The -X properties' security.protocol, ssl.* and sasl.* as a WireSecurity. invalid_argument
// for an incomplete or unknown setting, or TLS files that do not load.
Result<WireSecurity> wire_security(const ClientOptions& options);

class WireConnection {
 public:
  // Connects to host:port, runs the TLS handshake if `security` asks for TLS, negotiates
  // versions (ApiVersions v0) and logs in if it asks for SASL (SaslHandshake v1,
  // SaslAuthenticate). io_error when the broker cannot be reached within `timeout_ms` or the
  // TLS handshake fails; invalid_argument when the login fails.
  static Result<std::unique_ptr<WireConnection>> open(const std::string& host, int port,
                                                      int timeout_ms,
                                                      const WireSecurity& security = {});
  ~WireConnection();
  WireConnection(const WireConnection&) = delete;
  WireConnection& operator=(const WireConnection&) = delete;

  // The highest version of `api_key` both sides serve; unsupported (naming the API) when
  // there is none.
  Result<int16_t> version_for(int16_t api_key, int16_t client_min, int16_t client_max) const;

  // Sends `request` at the negotiated version and decodes the response, within the timeout.
  // A failure on the wire (timeout, closed, malformed answer) breaks the connection: the
  // stream may be out of step, so later calls fail at once (WireCluster then reconnects).
  template <typename Response, typename Request>
  Result<Response> call(const Request& request) {
    Result<int16_t> version =
        version_for(Request::kApiKey, Request::kMinVersion, Request::kMaxVersion);
    if (!version.ok()) return version.status();
    if (broken_) return lost();
    protocol::Writer body;
    request.encode(body, *version);
    Result<std::vector<uint8_t>> frame = round_trip(Request::kApiKey, *version, body);
    broken_ = true;
    if (!frame.ok()) return frame.status();
    protocol::Reader r(*frame);
    Response response;
    Status header = skip_response_header(r, Request::kApiKey, *version);
    if (!header.ok()) return header;
    if (!response.decode(r, *version)) return malformed(Request::kApiKey);
    broken_ = false;
    return response;
  }

  bool broken() const { return broken_; }
  const std::string& address() const { return address_; }

 private:
  WireConnection(int fd, std::string address, int timeout_ms);
  Status start_tls(ssl_ctx_st* context, const std::string& host, bool verify_hostname);
  Status login(const WireSasl& sasl);
  Result<std::vector<uint8_t>> sasl_round(std::span<const uint8_t> token);
  Result<std::vector<uint8_t>> round_trip(int16_t api_key, int16_t version,
                                          const protocol::Writer& body);
  Status skip_response_header(protocol::Reader& r, int16_t api_key, int16_t version);
  Status malformed(int16_t api_key) const;
  Status lost() const;
  using Deadline = std::chrono::steady_clock::time_point;
  Status send_all(std::span<const uint8_t> bytes, Deadline deadline);
  Status receive_all(std::span<uint8_t> bytes, Deadline deadline);

  int fd_;
  std::unique_ptr<WireTlsSession> tls_;  // null without TLS
  std::string address_;
  int timeout_ms_;
  int32_t next_correlation_id_ = 1;
  int32_t last_correlation_id_ = 0;
  bool broken_ = false;
  std::map<int16_t, std::pair<int16_t, int16_t>> versions_;  // api key -> broker's range
};

struct WireBroker {
  int32_t node_id = -1;
  std::string host;
  int port = 0;
};

struct WirePartition {
  std::string topic;
  int32_t partition = 0;
  int32_t leader = -1;
};

// The cluster seen from its bootstrap brokers: its brokers and partition leaders (Metadata),
// and a connection per broker, opened on first use.
class WireCluster {
 public:
  // invalid_argument for -X security settings wire_security() refuses.
  static Result<std::unique_ptr<WireCluster>> connect(const ClientOptions& options);

  const std::vector<WireBroker>& brokers() const { return brokers_; }
  // Every partition of every topic (internal ones too), sorted by topic and partition.
  const std::vector<WirePartition>& partitions() const { return partitions_; }
  // The connection to a broker, opened (again, if the last one broke) on demand.
  Result<WireConnection*> broker(int32_t node_id);
  // The coordinator of a transactional id (FindCoordinator, key type 1, asked of each broker
  // in turn until one answers).
  Result<int32_t> transaction_coordinator(const std::string& transactional_id);

 private:
  WireCluster(int timeout_ms, WireSecurity security)
      : timeout_ms_(timeout_ms), security_(std::move(security)) {}
  Status load_metadata(WireConnection& connection);

  int timeout_ms_;
  WireSecurity security_;
  std::vector<WireBroker> brokers_;
  std::vector<WirePartition> partitions_;
  std::map<int32_t, std::unique_ptr<WireConnection>> connections_;
};

// "NAME: description"-style status for a Kafka error code in a response; ok for 0.
Status wire_error(int16_t code, std::string_view context);

}  // namespace cairn::client
