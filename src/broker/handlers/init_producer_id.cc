// InitProducerId (key 22): a producer id for an idempotent producer.
//
// Without a transactional_id Kafka hands out a fresh producer id with epoch 0 every time,
// whatever producer_id/epoch the request carries (KIP-360 epoch bumps apply to transactional
// producers); so does Cairn, from the durable block allocator (producers/
// producer_id_allocator.h), so ids never repeat across restarts. Transactional producers need
// the transaction coordinator, which Cairn does not have yet: COORDINATOR_NOT_AVAILABLE.
// An allocation failure (the id block cannot be persisted) is COORDINATOR_NOT_AVAILABLE too
// (retriable: the client tries again).
#include <spdlog/spdlog.h>

#include "broker/error_code.h"
#include "broker/handlers/handlers.h"
#include "broker/meta_writer.h"
#include "broker/producers/producer_id_allocator.h"
#include "protocol/generated/init_producer_id.h"

namespace cairn::broker {

asio::awaitable<net::Reply> handle_init_producer_id(RequestContext ctx) {
  protocol::InitProducerIdRequest request;
  if (!ctx.decode(request)) co_return net::Reply::close();
  protocol::InitProducerIdResponse response;
  response.producer_id = -1;
  response.producer_epoch = -1;
  if (request.transactional_id.has_value()) {
    response.error_code = wire(ErrorCode::coordinator_not_available);
    co_return respond(ctx, response);
  }
  // Every thousandth id reserves a block with an fsync: off the shard.
  Result<ProducerId> id =
      co_await ctx.broker->meta_writer->run([&] { return ctx.broker->producer_ids->allocate(); });
  if (!id.ok()) {
    spdlog::error("InitProducerId: {}", id.status().to_string());
    response.error_code = wire(ErrorCode::coordinator_not_available);
    co_return respond(ctx, response);
  }
  response.error_code = wire(ErrorCode::none);
  response.producer_id = id->value();
  response.producer_epoch = 0;
  co_return respond(ctx, response);
}

}  // namespace cairn::broker
