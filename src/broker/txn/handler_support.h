// What the transaction handlers (handlers/{init_producer_id,add_partitions_to_txn,
// add_offsets_to_txn,end_txn}.cc) share: running a coordinator operation on the shard that
// owns a transactional id, and the error older clients expect for a fenced producer.
#pragma once

#include <asio.hpp>
#include <string_view>

#include "broker/error_code.h"
#include "broker/request_context.h"
#include "broker/txn/txn_coordinator.h"

namespace cairn::broker::txn {

// Runs `work` (a txn_coordinator.h coroutine built with its arguments by value) on the shard
// owning `transactional_id`. Not a coroutine itself. REQUIRES: ctx.broker->txn set.
template <typename T>
asio::awaitable<T> on_txn_shard(const RequestContext& ctx, std::string_view transactional_id,
                                asio::awaitable<T> work) {
  ASSERT(ctx.broker->txn != nullptr);
  net::ShardId shard = ctx.broker->txn->shard_for(transactional_id);
  return ctx.broker->shards->run_on(shard, std::move(work));
}

// PRODUCER_FENCED exists from the request version that KIP-588 gave each API
// (`fenced_from`); older versions get INVALID_PRODUCER_EPOCH, which they treat the same way.
inline ErrorCode for_version(ErrorCode error, int16_t version, int16_t fenced_from) {
  if (error == ErrorCode::producer_fenced && version < fenced_from) {
    return ErrorCode::invalid_producer_epoch;
  }
  return error;
}

}  // namespace cairn::broker::txn
