// ConnectionQuota: the broker-wide cap on open client connections (max.connections) and the
// cap per client address (max.connections.per.ip, max.connections.per.ip.overrides).
//
// Every Listener of a broker shares one. A listener asks for a slot as it accepts a socket and
// closes the socket at once when refused; the connection holds the slot (Connection::hold)
// until it is destroyed, which frees it:
//
//   std::shared_ptr<void> slot = quota->try_acquire(peer.address());
//   if (slot == nullptr) return;            // over a limit: the socket closes
//   connection->hold(std::move(slot));
//
// Thread-safe: slots are taken on the accepting shard and freed on any shard.
#pragma once

#include <asio.hpp>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "base/status.h"

namespace cairn::net {

struct ConnectionQuotaLimits {
  uint32_t total_max = UINT32_MAX;   // max.connections
  uint32_t per_ip_max = UINT32_MAX;  // max.connections.per.ip
  // max.connections.per.ip.overrides: a cap for particular addresses (normalized spelling).
  std::map<std::string, uint32_t, std::less<>> per_ip_overrides;
};

// Parses Kafka's max.connections.per.ip.overrides, "HOST:COUNT,HOST:COUNT" (IPv6 hosts in
// brackets or bare; host names are not resolved, as a client address is always numeric).
Result<std::map<std::string, uint32_t, std::less<>>> parse_per_ip_overrides(
    const std::string& text);

// An address in one spelling: IPv4-mapped IPv6 as IPv4, no scope id.
std::string normalized_address(const asio::ip::address& address);

class ConnectionQuota : public std::enable_shared_from_this<ConnectionQuota> {
 public:
  explicit ConnectionQuota(ConnectionQuotaLimits limits) : limits_(std::move(limits)) {}

  // A slot for one more connection from `address`, or null when that would pass a limit.
  std::shared_ptr<void> try_acquire(const asio::ip::address& address);

  uint32_t open() const;
  uint64_t refused_total() const { return refused_total_.load(std::memory_order_relaxed); }
  uint64_t refused_per_ip() const { return refused_per_ip_.load(std::memory_order_relaxed); }

 private:
  void release(const std::string& address);

  const ConnectionQuotaLimits limits_;
  mutable std::mutex mutex_;
  uint32_t open_ = 0;
  std::unordered_map<std::string, uint32_t> per_ip_;
  std::atomic<uint64_t> refused_total_{0};
  std::atomic<uint64_t> refused_per_ip_{0};
};

}  // namespace cairn::net
