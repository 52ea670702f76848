#include "broker/partitions/internal_append.h"

#include <algorithm>
#include <string>

#include "base/assert.h"
#include "protocol/record_batch.h"

namespace cairn::broker {

Result<storage::AppendResult> append_internal(Partition& partition,
                                              std::span<const InternalRecord> records,
                                              TimestampMs now,
                                              std::optional<InternalProducer> producer) {
  ASSERT(!records.empty());
  if (!partition.usable()) {
    return error(
        StatusCode::not_found,
        partition.topic + "-" + std::to_string(partition.id.value()) + " is not available");
  }
  std::optional<storage::AppendResult> total;
  for (size_t start = 0; start < records.size(); start += kInternalRecordsPerBatch) {
    size_t count = std::min(kInternalRecordsPerBatch, records.size() - start);
    protocol::BatchOptions options;
    options.base_timestamp = now;
    if (producer.has_value()) {
      options.producer_id = producer->producer_id;
      options.producer_epoch = producer->epoch;
      options.transactional = true;
    }
    protocol::BatchBuilder builder(options);
    for (const InternalRecord& record : records.subspan(start, count)) {
      protocol::RecordInput input;
      input.key = protocol::BytesView(record.key);
      if (record.value.has_value()) input.value = protocol::BytesView(*record.value);
      builder.add(input);
    }
    Result<std::vector<uint8_t>> batch = std::move(builder).build();
    if (!batch.ok()) return batch.status();
    Result<storage::AppendResult> appended = partition.log->append(*batch);
    if (!appended.ok()) return appended.status();
    if (producer.has_value()) {
      // The producer's open transaction now includes this partition: its first offset holds
      // the LSO (the cleaner stops there), DescribeProducers shows it, and a stale marker is
      // refused. No sequence: internal batches are never retried.
      producers::ProducerBatch written;
      written.producer_id = producer->producer_id;
      written.epoch = producer->epoch;
      written.first_offset = appended->base_offset;
      written.last_offset = appended->last_offset;
      written.max_timestamp = now;
      written.transactional = true;
      partition.producers.record(written);
    }
    partition.append_times.record(appended->base_offset, now.value());
    partition.notify_waiters();
    ASSERT(appended->last_offset.value() - appended->base_offset.value() + 1 ==
           static_cast<int64_t>(count));
    if (!total.has_value()) {
      total = *appended;
    } else {
      total->last_offset = appended->last_offset;
    }
  }
  return *total;
}

}  // namespace cairn::broker
