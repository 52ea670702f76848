// InitProducerId (key 22, v0-5): a producer id and epoch for an idempotent or transactional
// producer.
//
// Without a transactional_id Kafka hands out a fresh producer id with epoch 0 every time,
// whatever producer_id/epoch the request carries (KIP-360 epoch bumps apply to transactional
// producers); so does Cairn, from the durable block allocator (producers/
// producer_id_allocator.h), so ids never repeat across restarts. An allocation failure (the
// id block cannot be persisted) is COORDINATOR_NOT_AVAILABLE (retriable).
//
// With a transactional_id the transaction coordinator answers (txn/txn_coordinator.h): the
// id's producer id with its epoch bumped, after aborting (and so fencing) an open transaction
// of the previous epoch. An empty transactional_id, or only one of producer_id and
// producer_epoch set (KIP-360 recovery names both), is INVALID_REQUEST; a timeout outside
// (0, transaction.max.timeout.ms] INVALID_TRANSACTION_TIMEOUT.
#include <spdlog/spdlog.h>

#include "broker/error_code.h"
#include "broker/handlers/handlers.h"
#include "broker/meta_writer.h"
#include "broker/producers/producer_id_allocator.h"
#include "broker/txn/handler_support.h"
#include "protocol/generated/init_producer_id.h"

namespace cairn::broker {

namespace {
constexpr int16_t kFencedFromVersion = 4;
constexpr int16_t kRecoveryFromVersion = 3;  // KIP-360: producer_id and epoch in the request
}  // namespace

asio::awaitable<net::Reply> handle_init_producer_id(RequestContext ctx) {
  protocol::InitProducerIdRequest request;
  if (!ctx.decode(request)) co_return net::Reply::close();
  protocol::InitProducerIdResponse response;
  response.producer_id = -1;
  response.producer_epoch = -1;
  if ((request.producer_id == -1) != (request.producer_epoch == -1)) {
    // KIP-360 names both or neither (Kafka's rule, with or without a transactional id).
    response.error_code = wire(ErrorCode::invalid_request);
    co_return respond(ctx, response);
  }
  if (request.transactional_id.has_value()) {
    const std::string& id = *request.transactional_id;
    if (id.empty()) {
      response.error_code = wire(ErrorCode::invalid_request);
      co_return respond(ctx, response);
    }
    if (!ctx.allowed(AclOperation::write, AclResourceType::transactional_id, id)) {
      response.error_code = wire(ErrorCode::transactional_id_authorization_failed);
      co_return respond(ctx, response);
    }
    if (ctx.broker->txn == nullptr) {
      response.error_code = wire(ErrorCode::coordinator_not_available);
      co_return respond(ctx, response);
    }
    txn::InitRequest init;
    init.transactional_id = id;
    init.timeout_ms = request.transaction_timeout_ms;
    if (ctx.api_version() >= kRecoveryFromVersion) {
      init.producer_id = ProducerId(request.producer_id);
      init.epoch = ProducerEpoch(request.producer_epoch);
    }
    txn::InitResult result = co_await txn::on_txn_shard(
        ctx, id, txn::init_producer_id(ctx.broker->txn, std::move(init)));
    response.error_code =
        wire(txn::for_version(result.error, ctx.api_version(), kFencedFromVersion));
    if (result.error == ErrorCode::none) {
      response.producer_id = result.producer_id.value();
      response.producer_epoch = result.epoch.value();
    }
    co_return respond(ctx, response);
  }
  // An idempotent producer: IDEMPOTENT_WRITE on the cluster, or WRITE on some topic (KIP-679).
  // Audited only when both fail (the cluster check then records the denial).
  if (!ctx.allowed_on_cluster_quietly(AclOperation::idempotent_write) &&
      !ctx.allowed_on_some(AclOperation::write, AclResourceType::topic) &&
      !ctx.allowed_on_cluster(AclOperation::idempotent_write)) {
    response.error_code = wire(ErrorCode::cluster_authorization_failed);
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
