// The API table: every Kafka API this broker answers, one plain row each: the API key, the
// served versions and first flexible version (from the generated catalog), and the handler.
// ApiVersions advertises exactly these rows; docs/protocol.md is generated from the same list
// (implemented_apis.txt, checked against this table by api_table_test). Constant; any thread.
#pragma once

#include <asio.hpp>
#include <cstdint>
#include <span>

#include "broker/request_context.h"
#include "net/frame.h"
#include "protocol/generated/api_catalog.h"

namespace cairn::broker {

using Handler = asio::awaitable<net::Reply> (*)(RequestContext ctx);

struct ApiEntry {
  int16_t api_key;
  const char* name;
  int16_t min_version;             // inclusive
  int16_t max_version;             // inclusive
  int16_t first_flexible_version;  // -1: never flexible
  Handler handler;

  bool serves(int16_t version) const { return version >= min_version && version <= max_version; }
};

// Sorted by api_key.
std::span<const ApiEntry> api_table();
// The row for `api_key`, or nullptr if this broker has no handler for it.
const ApiEntry* find_api_entry(int16_t api_key);

}  // namespace cairn::broker
