// The wire edge of the partition data path: how a storage or partition Status becomes the
// Kafka error code of one partition in a Produce, Fetch, ListOffsets or DeleteRecords answer.
// Pure function; any thread.
#pragma once

#include "base/status.h"
#include "broker/error_code.h"

namespace cairn::broker {

// Every failure but a missing partition or a bad offset is the disk's: corrupt means a fenced
// log (not a corrupt request), io_error / no_space a failed write or fsync.
inline ErrorCode map_storage_error(const Status& status) {
  switch (status.code()) {
    case StatusCode::ok:
      return ErrorCode::none;
    case StatusCode::not_found:
      return ErrorCode::unknown_topic_or_partition;
    case StatusCode::out_of_range:
      return ErrorCode::offset_out_of_range;
    default:
      return ErrorCode::kafka_storage_error;
  }
}

}  // namespace cairn::broker
