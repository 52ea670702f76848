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

}  // namespace

Status rebuild_producer_state(storage::Io& io, Partition& partition) {
  storage::Log& log = *partition.log;
  producers::ProducerStateTable& table = partition.producers;
  Offset from = log.log_start_offset();
  std::filesystem::path snapshot = std::filesystem::path(log.dir()) / kProducerSnapshotFile;
  Result<std::optional<std::string>> bytes =
      read_meta_file(io, snapshot, kProducerSnapshotBytesMax);
  if (bytes.ok() && bytes->has_value()) {
    const std::string& text = **bytes;
    Result<Offset> valid_up_to =
        table.decode(std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
    if (valid_up_to.ok() && *valid_up_to <= log.log_end_offset()) {
      from = std::max(from, *valid_up_to);
      RETURN_IF_ERROR(forget_removed_markers(partition));
    } else {
      table.clear();
      spdlog::warn("{}: producer snapshot unusable ({}); replaying the log", log.dir(),
                   valid_up_to.ok() ? "past the log end" : valid_up_to.status().message());
    }
  }
  Status marker_status;
  Status scanned = log.scan_headers(from, [&](const storage::BatchHeader& header) {
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
  return scanned;
}

void snapshot_after_roll(storage::Io& io, Partition& partition) {
  Offset active = partition.log->active_segment_base();
  if (active == partition.snapshot_segment_base) return;
  partition.snapshot_segment_base = active;
  Status written = save_producer_snapshot(io, partition);
  if (!written.ok()) {
    spdlog::warn("{}: producer snapshot: {}", partition.log->dir(), written.to_string());
  }
}

Status save_producer_snapshot(storage::Io& io, const Partition& partition) {
  const producers::ProducerStateTable& table = partition.producers;
  if (table.size() == 0 && table.aborted().empty()) return Status();
  const storage::Log& log = *partition.log;
  std::vector<uint8_t> bytes = table.encode(log.log_end_offset());
  return write_meta_file(
      io, std::filesystem::path(log.dir()) / kProducerSnapshotFile,
      std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

}  // namespace cairn::broker
