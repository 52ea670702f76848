// The broker's startup configuration (from `cairn serve` flags). Read-only once the server
// starts; any thread.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>

#include "base/types.h"
#include "net/frame.h"
#include "net/listener.h"

namespace cairn::broker {

struct BrokerConfig {
  net::HostPort listen{"127.0.0.1", 9092};
  // What Metadata tells clients to connect to. Default: the listen host and the bound port.
  std::optional<net::HostPort> advertise;
  std::filesystem::path data_dir = "./data";
  NodeId node_id{0};
  uint32_t shard_count = 1;
  net::ConnectionLimits limits;
};

}  // namespace cairn::broker
