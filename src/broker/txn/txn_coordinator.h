// TxnCoordinator: the broker's transaction coordinator (Kafka's TransactionCoordinator) — the
// state machine of every transactional id, kept durable in the internal compacted topic
// __transaction_state, and the COMMIT/ABORT markers it writes to a transaction's partitions.
//
// Ownership: like consumer groups, a transactional id lives on the shard that owns its
// __transaction_state partition (hash of the id, as for groups; shard_map.h). Its state, that
// partition's log and its timers are touched only there, so there are no locks. Handlers hop
// there (ShardSet::run_on) and call the coroutines at the bottom of this header.
//
// States (Kafka's): Empty -> Ongoing (AddPartitionsToTxn / AddOffsetsToTxn) -> PrepareCommit
// or PrepareAbort (EndTxn; durable before anything else) -> markers written to every
// partition of the transaction and fsynced -> CompleteCommit / CompleteAbort. EndTxn answers
// once the transaction is complete, so the producer's next transaction never waits behind
// CONCURRENT_TRANSACTIONS. A Prepare* state found on load (a crash between the two) is
// completed before the id serves again; so is one whose markers failed (retried every
// transaction.abort.timed.out.transaction.cleanup.interval.ms).
//
// Fencing: InitProducerId for an id bumps its epoch (KIP-98); an open transaction of the old
// epoch is first aborted with the bumped epoch, so its producer (a zombie) is fenced on every
// partition it wrote to. A transaction open longer than its timeout is aborted the same way.
// An id idle for transactional.id.expiration.ms is forgotten (tombstone).
//
// Errors, as Kafka answers them: COORDINATOR_LOAD_IN_PROGRESS while the id's partition
// replays; INVALID_PRODUCER_ID_MAPPING for an unknown id or another producer id;
// PRODUCER_FENCED for an old epoch (handlers answer INVALID_PRODUCER_EPOCH to versions from
// before KIP-588); CONCURRENT_TRANSACTIONS while another request of the id is in flight or
// its transaction completes; INVALID_TXN_STATE for EndTxn without a transaction, or a commit
// after an abort (and the reverse); INVALID_TRANSACTION_TIMEOUT above
// transaction.max.timeout.ms; COORDINATOR_NOT_AVAILABLE when __transaction_state cannot be
// written.
#pragma once

#include <asio.hpp>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "base/types.h"
#include "broker/configs/broker_configs.h"
#include "broker/error_code.h"
#include "broker/groups/coordinator.h"
#include "broker/meta_writer.h"
#include "broker/partitions/partition_manager.h"
#include "broker/producers/producer_id_allocator.h"
#include "broker/topics/topic_registry.h"
#include "broker/txn/txn_state.h"
#include "net/shard_set.h"
#include "storage/clock.h"

namespace cairn::broker::txn {

struct TxnConfig {
  int32_t partition_count = 16;            // transaction.state.log.num.partitions
  int32_t segment_bytes = 104'857'600;     // transaction.state.log.segment.bytes
  int32_t max_timeout_ms = 900'000;        // transaction.max.timeout.ms
  int64_t id_expiration_ms = 604'800'000;  // transactional.id.expiration.ms
  // transaction.abort.timed.out.transaction.cleanup.interval.ms: how often open transactions
  // are checked against their timeout (and failed completions retried).
  int64_t abort_check_interval_ms = 10'000;
  // transaction.remove.expired.transaction.cleanup.interval.ms
  int64_t expiration_check_interval_ms = 3'600'000;
};

Result<TxnConfig> txn_config_from(const configs::ConfigMap& kafka_configs);

// Main thread, before PartitionManager::open: makes sure the registry holds __transaction_state
// (compacted, `partition_count` partitions, fixed once it exists).
Result<TopicInfo> ensure_txn_topic(storage::Io& io, TopicRegistry& registry,
                                   const std::filesystem::path& data_dir, int32_t partition_count,
                                   int32_t segment_bytes);

class TxnShard;

struct TxnCoordinatorDeps {
  const net::ShardSet* shards = nullptr;
  PartitionManager* partitions = nullptr;
  const groups::GroupCoordinator* groups = nullptr;  // markers on __consumer_offsets
  producers::ProducerIdAllocator* producer_ids = nullptr;
  MetaWriter* meta_writer = nullptr;  // producer id blocks are fsynced there
  storage::Clock* clock = nullptr;    // null: the system clock
};

class TxnCoordinator {
 public:
  // `topic`: what ensure_txn_topic returned; the PartitionManager has opened its logs.
  static std::unique_ptr<TxnCoordinator> open(TxnCoordinatorDeps deps, const TopicInfo& topic,
                                              TxnConfig config);
  ~TxnCoordinator();
  TxnCoordinator(const TxnCoordinator&) = delete;
  TxnCoordinator& operator=(const TxnCoordinator&) = delete;

  // Main thread, once the shards run and before the listener accepts: each shard replays its
  // partitions; returns once all have. Until then nothing could tell a partition which
  // producers' transactions it is part of (KIP-890's guard), so the broker waits for it.
  void start();
  // Main thread, before the shards stop: cancels the timers. Blocks until every shard did.
  void stop();

  const TxnConfig& config() const { return config_; }
  const TxnCoordinatorDeps& deps() const { return deps_; }
  int32_t partition_of(std::string_view transactional_id) const;
  net::ShardId shard_for(std::string_view transactional_id) const;
  // The calling shard's part. REQUIRES: on a shard thread.
  TxnShard& local() const;

 private:
  TxnCoordinator(TxnCoordinatorDeps deps, TxnConfig config);

  TxnCoordinatorDeps deps_;
  TxnConfig config_;
  std::vector<std::unique_ptr<TxnShard>> locals_;
  bool started_ = false;
  bool stopped_ = false;
};

struct InitRequest {
  std::string transactional_id;
  int32_t timeout_ms = 0;
  // KIP-360 (InitProducerId v3+): the producer's current id and epoch when it re-initializes
  // to recover; -1 when new.
  ProducerId producer_id{-1};
  ProducerEpoch epoch{-1};
};
struct InitResult {
  ErrorCode error = ErrorCode::none;
  ProducerId producer_id{-1};
  ProducerEpoch epoch{-1};
};
struct AddRequest {
  std::string transactional_id;
  ProducerId producer_id{-1};
  ProducerEpoch epoch{-1};
  std::vector<TxnPartition> partitions;  // existing partitions only (the handler checks)
};
struct EndRequest {
  std::string transactional_id;
  ProducerId producer_id{-1};
  ProducerEpoch epoch{-1};
  bool commit = false;
};

// --- coroutines that run on the id's shard (shard_for) ---
asio::awaitable<InitResult> init_producer_id(const TxnCoordinator* coordinator,
                                             InitRequest request);
// One error for the whole request (Kafka answers it for every partition).
asio::awaitable<ErrorCode> add_partitions(const TxnCoordinator* coordinator, AddRequest request);
asio::awaitable<ErrorCode> end_txn(const TxnCoordinator* coordinator, EndRequest request);

// Whether (producer_id, epoch) is the current producer of `transactional_id` — what Kafka's
// transaction verification (KIP-890) asks before a TxnOffsetCommit or to explain a refused
// transactional Produce: INVALID_PRODUCER_ID_MAPPING for an unknown id or another producer,
// PRODUCER_FENCED for another epoch, COORDINATOR_LOAD_IN_PROGRESS while loading.
asio::awaitable<ErrorCode> verify_producer(const TxnCoordinator* coordinator,
                                           std::string transactional_id, ProducerId producer_id,
                                           ProducerEpoch epoch);

// ListTransactions: every live id of the calling shard. COORDINATOR_LOAD_IN_PROGRESS (and no
// ids) while one of its __transaction_state partitions is not loaded.
struct ListResult {
  ErrorCode error = ErrorCode::none;
  std::vector<TxnMetadata> txns;
};
asio::awaitable<ListResult> list_local_txns(const TxnCoordinator* coordinator);
// DescribeTransactions: the state of one id; TRANSACTIONAL_ID_NOT_FOUND for an id the
// coordinator does not know, COORDINATOR_LOAD_IN_PROGRESS while its partition loads.
struct DescribeResult {
  ErrorCode error = ErrorCode::none;
  TxnMetadata metadata;
};
asio::awaitable<DescribeResult> describe_txn(const TxnCoordinator* coordinator,
                                             std::string transactional_id);

}  // namespace cairn::broker::txn
