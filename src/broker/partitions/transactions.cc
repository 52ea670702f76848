#include "broker/partitions/transactions.h"

#include "base/assert.h"
#include "protocol/record_batch.h"

namespace cairn::broker {
Result<TxnMarker> decode_marker_batch(const model::RecordBatchView& batch) {
  if (!batch.is_control()) return error(StatusCode::corrupt, "not a control batch");
  Result<protocol::BatchRecords> records = protocol::BatchRecords::open(batch, 1 << 16);
  if (!records.ok()) return records.status();
  protocol::RecordReader reader = records->reader();
  protocol::Record record;
  if (!reader.next(&record)) {
    RETURN_IF_ERROR(reader.status());
    return error(StatusCode::corrupt, "control batch without a record");
  }
  Result<protocol::ControlRecord> control = protocol::decode_control_record(record);
  if (!control.ok()) return error(StatusCode::corrupt, control.status().message());
  if (control->type != protocol::ControlType::abort &&
      control->type != protocol::ControlType::commit) {
    return error(StatusCode::unsupported, "not a transaction marker");
  }
  return TxnMarker{control->type == protocol::ControlType::commit, control->coordinator_epoch};
}

Result<Offset> append_marker(Partition& partition, ProducerId producer_id, ProducerEpoch epoch,
                             bool commit, TimestampMs now, int32_t coordinator_epoch) {
  ASSERT(partition.usable());
  if (!partition.producers.marker_allowed(producer_id, epoch)) {
    return error(StatusCode::invalid_argument, "a newer producer epoch wrote here");
  }
  protocol::ControlBatchInput input;
  input.producer_id = producer_id;
  input.producer_epoch = epoch;
  input.type = commit ? protocol::ControlType::commit : protocol::ControlType::abort;
  input.timestamp = now;
  input.coordinator_epoch = coordinator_epoch;
  std::vector<uint8_t> batch = protocol::build_control_batch(input);
  Result<storage::AppendResult> appended = partition.log->append(batch);
  if (!appended.ok()) return appended.status();
  partition.producers.complete_transaction(producer_id, epoch, commit, appended->last_offset);
  partition.append_times.record(appended->base_offset, now.value());
  partition.notify_waiters();
  return appended->last_offset;
}

Result<std::vector<producers::AbortedTxn>> aborted_between(const Partition& partition, Offset from,
                                                           Offset upper) {
  std::vector<producers::AbortedTxn> out;
  if (from < partition.producers.indexed_below()) {
    Result<bool> complete = partition.txn_index.collect(from, upper, out);
    if (!complete.ok()) return complete.status();
    if (*complete) return out;
  }
  std::vector<producers::AbortedTxn> recent = partition.producers.aborted_between(from, upper);
  out.insert(out.end(), recent.begin(), recent.end());
  return out;
}

Result<std::vector<producers::AbortedTxn>> all_aborted(const Partition& partition) {
  Result<std::vector<producers::AbortedTxn>> out = partition.txn_index.read_all();
  if (!out.ok()) return out;
  const std::vector<producers::AbortedTxn>& recent = partition.producers.aborted();
  out->insert(out->end(), recent.begin(), recent.end());
  return out;
}

void forget_aborted(Partition& partition, ProducerId producer_id, Offset marker_offset) {
  if (marker_offset >= partition.producers.indexed_below()) {
    partition.producers.forget_aborted(producer_id, marker_offset);
  } else {
    partition.txn_index.marker_removed(producer_id, marker_offset);
  }
}

Status forget_removed_markers(storage::Io& io, Partition& partition) {
  storage::Log& log = *partition.log;
  if (!log.config().cleanup_compact && log.cleaner_stats().clean_point == Offset(0)) {
    return Status();
  }
  Result<std::vector<producers::AbortedTxn>> listed = all_aborted(partition);
  if (!listed.ok()) return listed.status();
  for (const producers::AbortedTxn& aborted : *listed) {
    if (aborted.last_offset < log.log_start_offset()) continue;  // forget_below's
    bool present = false;
    Status scanned = log.scan_headers(aborted.last_offset, [&](const storage::BatchHeader& h) {
      present = h.base_offset == aborted.last_offset && h.is_control() &&
                h.producer_id == aborted.producer_id;
      return false;  // only the batch holding the marker's offset, or the first one after it
    });
    RETURN_IF_ERROR(scanned);
    if (!present) forget_aborted(partition, aborted.producer_id, aborted.last_offset);
  }
  return rewrite_removed_markers(io, partition);
}

Status rewrite_removed_markers(storage::Io& io, Partition& partition) {
  Result<TxnIndexRewrite> rewrite = partition.txn_index.begin_rewrite();
  if (!rewrite.ok()) return rewrite.status();
  RETURN_IF_ERROR(write_txn_index_files(io, partition.log->dir(), rewrite->files));
  partition.txn_index.rewritten(*rewrite);
  return Status();
}

}  // namespace cairn::broker
