// Partition: the state of one topic-partition on its owning shard — its Log, its idempotent
// producer state and the Fetches waiting for its next append.
//
// High watermark: Cairn is a single node with replication factor 1, so a record is committed
// as soon as it is in the log: the high watermark is the log end offset, and consumers may see
// acks=1 data before it is fsynced (as a single-broker Kafka with RF=1 does). The last stable
// offset (what read_committed consumers may see) stops at the first open transaction
// (producers/producer_state.h; markers: transactions.h).
//
// Lifetime: PartitionManager keeps partitions in shared_ptrs; code that suspends (a produce
// waiting for fsync) holds a shared_ptr, never a raw pointer, across the suspension. A deleted
// partition's `deleted` flag is set and its log closed; holders must check `usable()`.
// Thread safety: everything here is touched only on the owning shard's thread.
#pragma once

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "base/types.h"
#include "broker/partitions/append_times.h"
#include "broker/partitions/fetch_wakeup.h"
#include "broker/partitions/partition_config.h"
#include "broker/partitions/txn_index.h"
#include "broker/producers/producer_state.h"
#include "protocol/reader.h"
#include "storage/log.h"

namespace cairn::broker {

struct Partition {
  std::string topic;
  PartitionId id;
  protocol::Uuid topic_id{};
  PartitionConfig config;
  std::unique_ptr<storage::Log> log;  // null when it could not be opened (see open_error)
  Status open_error;
  producers::ProducerStateTable producers;
  // The aborted transactions of sealed segments, on disk (the newer ones are in `producers`).
  TxnIndex txn_index;
  std::vector<std::shared_ptr<FetchWakeup>> waiters;
  bool deleted = false;
  // A placeholder reserved by PartitionManager::create_partitions while its log is opened off
  // the shard; open_error says so (UNKNOWN_TOPIC_OR_PARTITION to clients, who retry).
  bool being_created = false;
  // The active segment's base offset when the producer state was last snapshotted
  // (PartitionManager's retention loop snapshots it after a roll).
  Offset snapshot_segment_base{-1};
  // When its offsets were appended, coarsely (consumer lag in seconds).
  AppendTimes append_times;

  // A log that exists and is not closed. Even then its health() may say fenced or io_error.
  bool usable() const { return log != nullptr && !deleted; }
  // The log's error (open failure, fenced, io_error) or ok.
  Status health() const {
    if (deleted) return error(StatusCode::not_found, "partition deleted");
    if (log == nullptr) return open_error;
    return log->health();
  }
  // REQUIRES: usable().
  Offset high_watermark() const { return log->log_end_offset(); }
  Offset last_stable_offset() const { return producers.last_stable_offset(high_watermark()); }

  // Wakes every waiting Fetch (after an append or a log-start change).
  void notify_waiters() {
    for (const auto& waiter : waiters) waiter->notify();
    waiters.clear();
  }
  // Registers a Fetch (once, however often it re-reads); drops finished ones first, so the
  // list stays bounded by the live Fetches that read this partition.
  void add_waiter(std::shared_ptr<FetchWakeup> waiter) {
    std::erase_if(waiters, [](const auto& w) { return w->fired(); });
    if (std::find(waiters.begin(), waiters.end(), waiter) != waiters.end()) return;
    waiters.push_back(std::move(waiter));
  }
};

}  // namespace cairn::broker
