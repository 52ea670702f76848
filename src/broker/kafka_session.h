// KafkaSession: the Kafka side of one connection. Parses each request's header, finds the
// API in the table and runs its handler.
//
// What closes the connection (as Kafka does): a request header that does not parse, an API
// key without a handler, a version outside the served range (except ApiVersions, which
// answers UNSUPPORTED_VERSION per KIP-511), and a body that does not decode (the handler
// returns Reply::close()). Per-connection protocol state lives here: the connection's
// identity (listener, security protocol, principal), which every request's context carries;
// SASL will replace the principal once a client authenticates.
// Lives on the connection's shard; created by the Server's SessionFactory.
#pragma once

#include <asio.hpp>

#include "broker/broker_state.h"
#include "broker/security/identity.h"
#include "net/connection.h"

namespace cairn::broker {

class KafkaSession : public net::Session {
 public:
  KafkaSession(const BrokerState* broker, net::ConnectionInfo info,
               std::shared_ptr<const security::SessionIdentity> identity)
      : broker_(broker), info_(std::move(info)), identity_(std::move(identity)) {
    broker_->metrics->connections.add(1);
  }
  ~KafkaSession() override { broker_->metrics->connections.add(-1); }
  KafkaSession(const KafkaSession&) = delete;
  KafkaSession& operator=(const KafkaSession&) = delete;

  asio::awaitable<net::Reply> handle(net::InboundRequest request) override;
  const security::SessionIdentity& identity() const { return *identity_; }

 private:
  const BrokerState* broker_;
  net::ConnectionInfo info_;
  std::shared_ptr<const security::SessionIdentity> identity_;
};

}  // namespace cairn::broker
