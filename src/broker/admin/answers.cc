#include "broker/admin/answers.h"

#include "broker/error_code.h"
#include "net/shard_call.h"

namespace cairn::broker::admin {
namespace {

struct KnownError {
  ErrorCode code;
  const char* name;
  int http_status;
};

// The Kafka errors an admin action can meet, with the HTTP status each becomes.
constexpr KnownError kKnownErrors[] = {
    {ErrorCode::unknown_topic_or_partition, "UNKNOWN_TOPIC_OR_PARTITION", 404},
    {ErrorCode::group_id_not_found, "GROUP_ID_NOT_FOUND", 404},
    {ErrorCode::topic_already_exists, "TOPIC_ALREADY_EXISTS", 409},
    {ErrorCode::non_empty_group, "NON_EMPTY_GROUP", 409},
    {ErrorCode::unknown_member_id, "UNKNOWN_MEMBER_ID", 409},
    {ErrorCode::illegal_generation, "ILLEGAL_GENERATION", 409},
    {ErrorCode::rebalance_in_progress, "REBALANCE_IN_PROGRESS", 409},
    {ErrorCode::fenced_member_epoch, "FENCED_MEMBER_EPOCH", 409},
    {ErrorCode::stale_member_epoch, "STALE_MEMBER_EPOCH", 409},
    {ErrorCode::invalid_topic_exception, "INVALID_TOPIC_EXCEPTION", 400},
    {ErrorCode::invalid_partitions, "INVALID_PARTITIONS", 400},
    {ErrorCode::invalid_replication_factor, "INVALID_REPLICATION_FACTOR", 400},
    {ErrorCode::invalid_replica_assignment, "INVALID_REPLICA_ASSIGNMENT", 400},
    {ErrorCode::invalid_config, "INVALID_CONFIG", 400},
    {ErrorCode::invalid_request, "INVALID_REQUEST", 400},
    {ErrorCode::policy_violation, "POLICY_VIOLATION", 400},
    {ErrorCode::invalid_record, "INVALID_RECORD", 400},
    {ErrorCode::message_too_large, "MESSAGE_TOO_LARGE", 400},
    {ErrorCode::record_list_too_large, "RECORD_LIST_TOO_LARGE", 400},
    {ErrorCode::invalid_timestamp, "INVALID_TIMESTAMP", 400},
    {ErrorCode::invalid_group_id, "INVALID_GROUP_ID", 400},
    {ErrorCode::offset_metadata_too_large, "OFFSET_METADATA_TOO_LARGE", 400},
    {ErrorCode::coordinator_load_in_progress, "COORDINATOR_LOAD_IN_PROGRESS", 503},
    {ErrorCode::coordinator_not_available, "COORDINATOR_NOT_AVAILABLE", 503},
    {ErrorCode::not_coordinator, "NOT_COORDINATOR", 503},
    {ErrorCode::kafka_storage_error, "KAFKA_STORAGE_ERROR", 503},
    {ErrorCode::request_timed_out, "REQUEST_TIMED_OUT", 504},
};

}  // namespace

Answer error_answer(int status, std::string message) {
  ASSERT(status >= 400 && status <= 599);
  return Answer{status, {{"error", std::move(message)}}};
}

Answer status_answer(const Status& status) {
  ASSERT(!status.ok());
  int http_status = status.code() == StatusCode::timed_out ? 504 : 500;
  return error_answer(http_status, status.message());
}

Answer kafka_error_answer(int16_t error_code, const std::optional<std::string>& message) {
  ASSERT(error_code != 0);
  std::string name = "KAFKA_ERROR_" + std::to_string(error_code);
  int http_status = 500;
  for (const KnownError& known : kKnownErrors) {
    if (wire(known.code) == error_code) {
      name = known.name;
      http_status = known.http_status;
    }
  }
  std::string text = message.has_value() && !message->empty() ? *message : name;
  Answer answer = error_answer(http_status, std::move(text));
  answer.body["kafka_error"] = name;
  answer.body["kafka_error_code"] = error_code;
  return answer;
}

Result<nlohmann::json> parse_object(const std::string& body) {
  // No exceptions: a parse error is a discarded value.
  nlohmann::json parsed = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) return error(StatusCode::invalid_argument, "body is not JSON");
  if (!parsed.is_object()) return error(StatusCode::invalid_argument, "body is not an object");
  return parsed;
}

Result<bool> optional_flag(const nlohmann::json& input, const char* key) {
  auto found = input.find(key);
  if (found == input.end()) return false;
  if (!found->is_boolean()) {
    return error(StatusCode::invalid_argument,
                 std::string("\"") + key + "\" must be true or false");
  }
  return found->get<bool>();
}

const char* config_source_name(int8_t source) {
  switch (source) {
    case 1:
      return "DYNAMIC_TOPIC_CONFIG";
    case 2:
      return "DYNAMIC_BROKER_CONFIG";
    case 3:
      return "DYNAMIC_DEFAULT_BROKER_CONFIG";
    case 4:
      return "STATIC_BROKER_CONFIG";
    case 5:
      return "DEFAULT_CONFIG";
    default:
      return "UNKNOWN";
  }
}

std::string topic_id_text(const std::array<uint8_t, 16>& id) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string text;
  uint32_t bits = 0;
  int bit_count = 0;
  for (uint8_t byte : id) {
    bits = (bits << 8) | byte;
    bit_count += 8;
    while (bit_count >= 6) {
      bit_count -= 6;
      text += kAlphabet[(bits >> bit_count) & 0x3f];
    }
  }
  if (bit_count > 0) text += kAlphabet[(bits << (6 - bit_count)) & 0x3f];
  ASSERT(text.size() == 22);
  return text;
}

std::optional<std::map<PartitionKey, PartitionSample>> gather_partitions(
    const BrokerState& state, std::chrono::milliseconds timeout) {
  PartitionManager* partitions = state.partitions;
  std::optional<std::vector<std::vector<PartitionSample>>> per_shard =
      net::run_on_every_shard<std::vector<PartitionSample>>(
          *state.shards, timeout, [partitions] { return partitions->partition_samples(); });
  if (!per_shard) return std::nullopt;
  std::map<PartitionKey, PartitionSample> by_partition;
  for (std::vector<PartitionSample>& samples : *per_shard) {
    for (PartitionSample& sample : samples) {
      PartitionKey key{sample.topic, sample.partition.value()};
      by_partition.emplace(std::move(key), std::move(sample));
    }
  }
  return by_partition;
}

}  // namespace cairn::broker::admin
