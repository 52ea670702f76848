// Kafka requests made by the broker to itself, without a socket: the admin JSON API's actions
// (create a topic, produce a record, commit a group's offsets...) are encoded as the Kafka
// request a client would send and run through that API's handler (handlers/api_table.cc) on a
// shard, so they pass exactly the checks a Kafka client's request passes (topic names,
// configs, record validation, the group's membership rules) and no second implementation of
// them can drift. The reply is decoded back into the generated response type.
//
// Thread safety: from a non-shard thread (the admin HTTP threads) while the shards run; it
// waits for the reply at most `timeout` (shard_call.h).
#pragma once

#include <chrono>
#include <cstdint>
#include <vector>

#include "base/status.h"
#include "broker/broker_state.h"
#include "protocol/reader.h"
#include "protocol/request_header.h"
#include "protocol/writer.h"

namespace cairn::broker::admin {

// Runs the handler of `api_key` at `version` on a shard with `frame` (request header and body,
// no size prefix) and returns the reply's bytes (response header and body). timed_out when
// the shard did not answer in time, internal when the handler closed the connection or sent
// no reply. REQUIRES: the API table serves `api_key` at `version`.
Result<std::vector<uint8_t>> call_handler(const BrokerState& state, int16_t api_key,
                                          int16_t version, std::vector<uint8_t> frame,
                                          std::chrono::milliseconds timeout);

// `request` encoded at `version`, handled, and its response decoded.
template <typename Response, typename Request>
Result<Response> kafka_call(const BrokerState& state, const Request& request, int16_t version,
                            std::chrono::milliseconds timeout) {
  protocol::RequestHeader header;
  header.api_key = Request::kApiKey;
  header.api_version = version;
  header.correlation_id = 1;
  header.client_id = "cairn-admin-http";
  protocol::Writer writer;
  protocol::encode_request_header(writer, header);
  request.encode(writer, version);
  Result<std::vector<uint8_t>> reply =
      call_handler(state, Request::kApiKey, version, std::move(writer).finish().bytes, timeout);
  if (!reply.ok()) return reply.status();
  protocol::Reader reader(*reply);
  Result<int32_t> correlation_id =
      protocol::decode_response_header(reader, Response::kApiKey, version);
  Response response;
  if (!correlation_id.ok() || *correlation_id != 1 || !response.decode(reader, version)) {
    return error(StatusCode::internal, "undecodable reply to an in-process Kafka request");
  }
  return response;
}

}  // namespace cairn::broker::admin
