// The state of one transactional id, as the transaction coordinator keeps it and as it is
// stored in __transaction_state (Kafka's TransactionLogKey / TransactionLogValue, version 0):
//
//   key    int16 version (0) | string transactional_id
//   value  int16 version (0) | int64 producer_id | int16 producer_epoch
//          | int32 transaction_timeout_ms | int8 state
//          | [string topic | [int32 partition]] partitions (nullable array)
//          | int64 last_update_timestamp_ms | int64 start_timestamp_ms
//   no value: the id expired (a tombstone)
//
// Plain values; any thread.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"
#include "base/types.h"

namespace cairn::broker::txn {

// Kafka's TransactionState, with its stored ids.
enum class TxnState : int8_t {
  empty = 0,
  ongoing = 1,
  prepare_commit = 2,
  prepare_abort = 3,
  complete_commit = 4,
  complete_abort = 5,
  dead = 6,
  prepare_epoch_fence = 7,
};

// Kafka's name ("Empty", "Ongoing", "PrepareCommit", ...), as DescribeTransactions shows it.
const char* state_name(TxnState state);

struct TxnPartition {
  std::string topic;
  int32_t partition = 0;
  auto operator<=>(const TxnPartition&) const = default;
};

struct TxnMetadata {
  std::string transactional_id;
  ProducerId producer_id{-1};
  ProducerEpoch epoch{-1};
  int32_t timeout_ms = 0;
  TxnState state = TxnState::empty;
  std::set<TxnPartition> partitions;  // of the open (or completing) transaction
  int64_t last_update_ms = -1;
  int64_t start_ms = -1;  // when the open transaction began; -1 when none is open
  // Not stored (Kafka keeps it in memory too): the epoch before the last InitProducerId bump,
  // so a KIP-360 re-initialization retried with it gets the same answer again.
  ProducerEpoch last_epoch{-1};
};

std::vector<uint8_t> encode_txn_key(const std::string& transactional_id);
std::vector<uint8_t> encode_txn_value(const TxnMetadata& metadata);
// corrupt for bytes that do not decode; unsupported for a version this build does not know.
Result<std::string> decode_txn_key(std::span<const uint8_t> bytes);
Result<TxnMetadata> decode_txn_value(std::string transactional_id, std::span<const uint8_t> bytes);

}  // namespace cairn::broker::txn
