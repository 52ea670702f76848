#include "broker/partitions/producer_recovery.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>
#include <optional>
#include <string>

#include "broker/meta_file.h"
#include "broker/partitions/transactions.h"
#include "protocol/record_batch.h"

namespace cairn::broker {
namespace {

constexpr const char* kProducerSnapshotFile = "producer_state.snapshot";
constexpr size_t kProducerSnapshotBytesMax = 64 * MiB;

// The marker in the control batch `header` describes (one small read).
Result<TxnMarker> read_marker(storage::Log& log, const storage::BatchHeader& header) {
  Result<storage::ReadResult> read = log.read(header.base_offset, 1, header.next_offset());
  if (!read.ok()) return read.status();
  Result<std::vector<uint8_t>> bytes = log.copy(*read);
  if (!bytes.ok()) return bytes.status();
  protocol::BatchSplitter splitter(*bytes);
  std::optional<model::RecordBatchView> batch = splitter.next();
  if (!batch.has_value()) return error(StatusCode::corrupt, "unreadable control batch");
  return decode_marker_batch(*batch);
}

// Loads the snapshot and the index files it relies on. Returns the offset the replay starts
// from: the log start when there is no usable snapshot (the table is then empty and every
// index file gone, to be written again).
Result<Offset> load_snapshot(storage::Io& io, Partition& partition) {
  storage::Log& log = *partition.log;
  producers::ProducerStateTable& table = partition.producers;
  partition.txn_index.attach(io, log.dir());
  std::filesystem::path snapshot = std::filesystem::path(log.dir()) / kProducerSnapshotFile;
  Result<std::optional<std::string>> bytes =
      read_meta_file(io, snapshot, kProducerSnapshotBytesMax);
  if (bytes.ok() && bytes->has_value()) {
    const std::string& text = **bytes;
    Result<Offset> valid_up_to =
        table.decode(std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
    Status problem = valid_up_to.status();
    if (valid_up_to.ok() && *valid_up_to > log.log_end_offset()) {
      problem = error(StatusCode::corrupt, "past the log end");
    }
    if (problem.ok())
      problem = partition.txn_index.load(log.segment_bases(), table.indexed_below());
    if (problem.code() == StatusCode::io_error) return problem;
    if (problem.ok()) {
      RETURN_IF_ERROR(forget_removed_markers(io, partition));
      return std::max(log.log_start_offset(), *valid_up_to);
    }
    spdlog::warn("{}: producer snapshot unusable ({}); replaying the log", log.dir(),
                 problem.message());
  }
  table.clear();
  RETURN_IF_ERROR(partition.txn_index.remove_all());
  return log.log_start_offset();
}

}  // namespace

Status rebuild_producer_state(storage::Io& io, Partition& partition) {
  storage::Log& log = *partition.log;
  producers::ProducerStateTable& table = partition.producers;
  Result<Offset> from = load_snapshot(io, partition);
  if (!from.ok()) return from.status();
  Status marker_status;
  Status scanned = log.scan_headers(*from, [&](const storage::BatchHeader& header) {
    if (header.producer_id.value() < 0) return true;
    if (header.is_control()) {
      // A marker: its type (commit or abort) is in its one record.
      Result<TxnMarker> marker = read_marker(log, header);
      if (marker.status().code() == StatusCode::unsupported) return true;  // not a txn marker
      if (!marker.ok()) {
        marker_status = marker.status();
        return false;
      }
      if (table.marker_allowed(header.producer_id, header.producer_epoch)) {
        table.complete_transaction(header.producer_id, header.producer_epoch, marker->commit,
                                   header.base_offset);
      }
      return true;
    }
    // Without a sequence only the broker's own transactional batches (TxnOffsetCommit on
    // __consumer_offsets, internal_append.h) carry a producer worth tracking.
    const bool sequenced = header.base_sequence.value() >= 0;
    if (!sequenced && !header.is_transactional()) return true;
    producers::ProducerBatch batch{
        header.producer_id,
        header.producer_epoch,
        header.base_sequence,
        sequenced ? producers::last_sequence_of(header.base_sequence, header.last_offset_delta)
                  : Sequence(-1),
        header.base_offset,
        header.last_offset(),
        header.max_timestamp};
    batch.transactional = header.is_transactional();
    table.record(batch);
    return true;
  });
  if (scanned.ok()) scanned = marker_status;
  table.forget_below(log.log_start_offset());
  RETURN_IF_ERROR(scanned);
  Offset active = log.active_segment_base();
  if (table.indexed_below() >= active) {  // no roll since the snapshot: nothing to write
    partition.snapshot_segment_base = active;
    return Status();
  }
  return index_sealed_segments(io, partition);
}

std::optional<IndexWork> plan_index_work(Partition& partition) {
  const storage::Log& log = *partition.log;
  const producers::ProducerStateTable& table = partition.producers;
  Offset active = log.active_segment_base();
  if (active == partition.snapshot_segment_base) return std::nullopt;
  if (partition.txn_index.busy || log.cleaning()) return std::nullopt;
  IndexWork work{log.dir(), std::max(active, table.indexed_below()), {}, {}};
  // Aborts of sealed segments, grouped by segment. Only segments with aborts get a file: one a
  // crash or an earlier failure left behind is deleted at the next open (TxnIndex::load).
  std::vector<Offset> bases = log.segment_bases();
  for (const producers::AbortedTxn& aborted : table.aborted()) {
    if (aborted.last_offset >= work.active_base) break;
    auto segment = std::upper_bound(bases.begin(), bases.end(), aborted.last_offset);
    if (segment == bases.begin()) continue;  // its segment is gone (forget_below drops it)
    Offset base = *std::prev(segment);
    if (work.files.empty() || work.files.back().base != base) work.files.push_back({base, {}});
    work.files.back().entries.push_back(aborted);
  }
  if (table.size() > 0 || !table.aborted().empty() || table.indexed_below().value() > 0) {
    work.snapshot = table.encode(log.log_end_offset(), work.active_base);
  }
  return work;
}

Status do_index_work(storage::Io& io, const IndexWork& work) {
  // The files first: the snapshot says they are there.
  RETURN_IF_ERROR(write_txn_index_files(io, work.dir, work.files));
  if (work.snapshot.empty()) return Status();
  return write_meta_file(
      io, std::filesystem::path(work.dir) / kProducerSnapshotFile,
      std::string_view(reinterpret_cast<const char*>(work.snapshot.data()), work.snapshot.size()));
}

void finish_index_work(Partition& partition, const IndexWork& work) {
  if (!partition.usable()) return;
  partition.producers.mark_indexed(work.active_base);
  partition.txn_index.written(work.files);
  partition.snapshot_segment_base = work.active_base;
}

Status index_sealed_segments(storage::Io& io, Partition& partition) {
  std::optional<IndexWork> work = plan_index_work(partition);
  if (!work.has_value()) return Status();
  RETURN_IF_ERROR(do_index_work(io, *work));
  finish_index_work(partition, *work);
  return Status();
}

Status save_producer_snapshot(storage::Io& io, const Partition& partition) {
  const producers::ProducerStateTable& table = partition.producers;
  if (table.size() == 0 && table.aborted().empty() && table.indexed_below().value() == 0) {
    return Status();
  }
  const storage::Log& log = *partition.log;
  std::vector<uint8_t> bytes = table.encode(log.log_end_offset());
  return write_meta_file(
      io, std::filesystem::path(log.dir()) / kProducerSnapshotFile,
      std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

}  // namespace cairn::broker
