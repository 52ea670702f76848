#include "broker/admin/kafka_call.h"

#include <atomic>
#include <memory>

#include "broker/handlers/api_table.h"
#include "broker/request_context.h"
#include "net/shard_call.h"

namespace cairn::broker::admin {
namespace {

// On the chosen shard: the request as a connection's session would hand it to the handler.
// No connection and no identity: the admin API is the broker's own operator, and there is no
// ordering to keep between its requests.
asio::awaitable<net::Reply> handle_in_process(const BrokerState* state, Handler handler,
                                              std::shared_ptr<std::vector<uint8_t>> frame) {
  protocol::Reader reader(*frame);
  Result<protocol::RequestHeader> header = protocol::decode_request_header(reader);
  ASSERT(header.ok());  // encoded by kafka_call a moment ago
  size_t body_offset = static_cast<size_t>(reader.position() - frame->data());
  RequestContext ctx{
      std::move(header).value(), std::move(frame), body_offset, state, {}, {}, nullptr};
  co_return co_await handler(std::move(ctx));
}

}  // namespace

Result<std::vector<uint8_t>> call_handler(const BrokerState& state, int16_t api_key,
                                          int16_t version, std::vector<uint8_t> frame,
                                          std::chrono::milliseconds timeout) {
  const ApiEntry* api = find_api_entry(api_key);
  ASSERT(api != nullptr);
  ASSERT(api->serves(version));
  // Spread the admin requests over the shards; the handler hops to the owners it needs.
  static std::atomic<uint32_t> next_shard{0};
  net::ShardId shard(next_shard.fetch_add(1, std::memory_order_relaxed) % state.shards->count());
  auto shared_frame = std::make_shared<std::vector<uint8_t>>(std::move(frame));
  const BrokerState* state_pointer = &state;
  Handler handler = api->handler;
  std::optional<net::Reply> reply = net::run_on_shard<net::Reply>(
      *state.shards, shard, timeout, [state_pointer, handler, shared_frame]() {
        return handle_in_process(state_pointer, handler, shared_frame);
      });
  if (!reply) {
    return error(StatusCode::timed_out, std::string("the broker did not answer ") + api->name +
                                            " within " + std::to_string(timeout.count()) + " ms");
  }
  if (reply->kind != net::Reply::Kind::frame || !reply->frame.splices.empty()) {
    return error(StatusCode::internal, std::string(api->name) + " sent no plain reply");
  }
  return std::move(reply->frame.bytes);
}

}  // namespace cairn::broker::admin
