// Kafka error codes (the wire values of Kafka's org.apache.kafka.common.protocol.Errors).
//
// Handlers speak Status/Result internally and map to these only at the wire edge, through the
// one mapping below (kafka_error); a handler that answers a Status differently for its API
// (CreatePartitions: invalid_argument is INVALID_PARTITIONS) does so before calling it. Never
// cast an integer to ErrorCode: add the code here. Add codes here as handlers need them; the
// numbers are Kafka's and never change. Constants and a pure function; any thread.
#pragma once

#include <cstdint>

#include "base/status.h"

namespace cairn::broker {

enum class ErrorCode : int16_t {
  unknown_server_error = -1,
  none = 0,
  offset_out_of_range = 1,
  corrupt_message = 2,
  unknown_topic_or_partition = 3,
  invalid_fetch_size = 4,
  leader_not_available = 5,
  not_leader_or_follower = 6,
  request_timed_out = 7,
  message_too_large = 10,
  offset_metadata_too_large = 12,
  coordinator_load_in_progress = 14,
  coordinator_not_available = 15,
  not_coordinator = 16,
  invalid_topic_exception = 17,
  record_list_too_large = 18,
  not_enough_replicas = 19,
  invalid_required_acks = 21,
  illegal_generation = 22,
  inconsistent_group_protocol = 23,
  invalid_group_id = 24,
  unknown_member_id = 25,
  invalid_session_timeout = 26,
  rebalance_in_progress = 27,
  invalid_commit_offset_size = 28,
  topic_authorization_failed = 29,
  group_authorization_failed = 30,
  cluster_authorization_failed = 31,
  invalid_timestamp = 32,
  unsupported_sasl_mechanism = 33,
  illegal_sasl_state = 34,
  unsupported_version = 35,
  topic_already_exists = 36,
  invalid_partitions = 37,
  invalid_replication_factor = 38,
  invalid_replica_assignment = 39,
  invalid_config = 40,
  not_controller = 41,
  invalid_request = 42,
  unsupported_for_message_format = 43,
  policy_violation = 44,
  out_of_order_sequence_number = 45,
  duplicate_sequence_number = 46,
  invalid_producer_epoch = 47,
  invalid_txn_state = 48,
  invalid_producer_id_mapping = 49,
  invalid_transaction_timeout = 50,
  concurrent_transactions = 51,
  transactional_id_authorization_failed = 53,
  security_disabled = 54,
  operation_not_attempted = 55,
  kafka_storage_error = 56,
  sasl_authentication_failed = 58,
  unknown_producer_id = 59,
  non_empty_group = 68,
  group_id_not_found = 69,
  fetch_session_id_not_found = 70,
  invalid_fetch_session_epoch = 71,
  topic_deletion_disabled = 73,
  unsupported_compression_type = 76,
  member_id_required = 79,
  group_max_size_reached = 81,
  fenced_instance_id = 82,
  group_subscribed_to_topic = 86,
  invalid_record = 87,
  unstable_offset_commit = 88,
  throttling_quota_exceeded = 89,
  producer_fenced = 90,
  resource_not_found = 91,
  duplicate_resource = 92,
  unacceptable_credential = 93,
  unknown_topic_id = 100,
  transactional_id_not_found = 105,
  fetch_session_topic_id_error = 106,
  fenced_member_epoch = 110,
  unreleased_instance_id = 111,
  unsupported_assignor = 112,
  stale_member_epoch = 113,
  transaction_abortable = 120,
};

constexpr int16_t wire(ErrorCode code) { return static_cast<int16_t>(code); }

// The Kafka error for an internal Status. Storage failures (io_error, no_space, a fenced or
// corrupt log, a log closed under a request, an unreadable on-disk format) are
// KAFKA_STORAGE_ERROR, which clients retry; a
// missing topic or partition UNKNOWN_TOPIC_OR_PARTITION; an offset outside the log
// OFFSET_OUT_OF_RANGE; the registry's already_exists TOPIC_ALREADY_EXISTS, invalid_argument
// INVALID_REQUEST, too_large (a limit) POLICY_VIOLATION; a timeout REQUEST_TIMED_OUT; anything
// else (a bug) UNKNOWN_SERVER_ERROR.
inline ErrorCode kafka_error(const Status& status) {
  switch (status.code()) {
    case StatusCode::ok:
      return ErrorCode::none;
    case StatusCode::not_found:
      return ErrorCode::unknown_topic_or_partition;
    case StatusCode::out_of_range:
      return ErrorCode::offset_out_of_range;
    case StatusCode::already_exists:
      return ErrorCode::topic_already_exists;
    case StatusCode::invalid_argument:
      return ErrorCode::invalid_request;
    case StatusCode::too_large:
      return ErrorCode::policy_violation;
    case StatusCode::io_error:
    case StatusCode::no_space:
    case StatusCode::fenced:
    case StatusCode::corrupt:
    case StatusCode::shutting_down:
    case StatusCode::unsupported:  // a log in an on-disk format this build cannot read
      return ErrorCode::kafka_storage_error;
    case StatusCode::timed_out:
      return ErrorCode::request_timed_out;
    case StatusCode::internal:
      return ErrorCode::unknown_server_error;
  }
  return ErrorCode::unknown_server_error;
}

}  // namespace cairn::broker
