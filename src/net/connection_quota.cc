#include "net/connection_quota.h"

#include <charconv>

#include "base/assert.h"

namespace cairn::net {

std::string normalized_address(const asio::ip::address& address) {
  if (address.is_v6()) {
    asio::ip::address_v6 v6 = address.to_v6();
    if (v6.is_v4_mapped()) return asio::ip::make_address_v4(asio::ip::v4_mapped, v6).to_string();
    v6.scope_id(0);
    return v6.to_string();
  }
  return address.to_string();
}

Result<std::map<std::string, uint32_t, std::less<>>> parse_per_ip_overrides(
    const std::string& text) {
  std::map<std::string, uint32_t, std::less<>> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    std::string entry = text.substr(start, comma - start);
    start = comma + 1;
    size_t colon = entry.rfind(':');
    if (entry.empty() || colon == std::string::npos || colon == 0) {
      return error(StatusCode::invalid_argument,
                   "max.connections.per.ip.overrides: expected HOST:COUNT, got '" + entry + "'");
    }
    std::string host = entry.substr(0, colon);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
      host = host.substr(1, host.size() - 2);
    }
    uint32_t count = 0;
    const char* first = entry.data() + colon + 1;
    const char* last = entry.data() + entry.size();
    auto [end, ec] = std::from_chars(first, last, count);
    if (ec != std::errc() || end != last || first == last) {
      return error(StatusCode::invalid_argument,
                   "max.connections.per.ip.overrides: bad count in '" + entry + "'");
    }
    asio::error_code bad;
    asio::ip::address address = asio::ip::make_address(host, bad);
    if (bad) {
      return error(StatusCode::invalid_argument,
                   "max.connections.per.ip.overrides: '" + host + "' is not an IP address");
    }
    out[normalized_address(address)] = count;
  }
  return out;
}

std::shared_ptr<void> ConnectionQuota::try_acquire(const asio::ip::address& address) {
  std::string key = normalized_address(address);
  {
    std::lock_guard lock(mutex_);
    auto override_it = limits_.per_ip_overrides.find(key);
    uint32_t per_ip_max =
        override_it != limits_.per_ip_overrides.end() ? override_it->second : limits_.per_ip_max;
    uint32_t& from_ip = per_ip_[key];
    if (from_ip >= per_ip_max) {
      if (from_ip == 0) per_ip_.erase(key);
      refused_per_ip_.fetch_add(1, std::memory_order_relaxed);
      return nullptr;
    }
    if (open_ >= limits_.total_max) {
      if (from_ip == 0) per_ip_.erase(key);
      refused_total_.fetch_add(1, std::memory_order_relaxed);
      return nullptr;
    }
    from_ip++;
    open_++;
  }
  // The slot points at the quota (never null) and keeps it alive; its deleter frees the slot.
  std::shared_ptr<ConnectionQuota> self = shared_from_this();
  return std::shared_ptr<void>(static_cast<void*>(this),
                               [self, key](void*) { self->release(key); });
}

uint32_t ConnectionQuota::open() const {
  std::lock_guard lock(mutex_);
  return open_;
}

void ConnectionQuota::release(const std::string& address) {
  std::lock_guard lock(mutex_);
  auto it = per_ip_.find(address);
  ASSERT(it != per_ip_.end() && it->second > 0);
  ASSERT(open_ > 0);
  if (--it->second == 0) per_ip_.erase(it);
  open_--;
}

}  // namespace cairn::net
