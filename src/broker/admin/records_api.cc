// POST /v1/topics/{topic}/records (admin_api.h): one record, built into a v2 batch here and
// appended through the Produce handler with acks=all, so it is durable when the answer says so.
#include <atomic>

#include "broker/admin/admin_api.h"
#include "broker/admin/answers.h"
#include "broker/admin/kafka_call.h"
#include "protocol/generated/produce.h"
#include "protocol/record_batch.h"
#include "storage/clock.h"

namespace cairn::broker::admin {
namespace {

using nlohmann::json;

constexpr int16_t kProduceVersion = 9;
constexpr size_t kHeadersMax = 100;

// Kafka's murmur2 (the Java client's default partitioner hashes keys with it), so a keyed
// record lands where a Java producer would put it.
int32_t murmur2(std::string_view data) {
  constexpr uint32_t kSeed = 0x9747b28c;
  constexpr uint32_t kM = 0x5bd1e995;
  constexpr int kR = 24;
  const size_t length = data.size();
  uint32_t h = kSeed ^ static_cast<uint32_t>(length);
  const auto* bytes = reinterpret_cast<const uint8_t*>(data.data());
  size_t i = 0;
  for (; i + 4 <= length; i += 4) {
    uint32_t k = static_cast<uint32_t>(bytes[i]) | static_cast<uint32_t>(bytes[i + 1]) << 8 |
                 static_cast<uint32_t>(bytes[i + 2]) << 16 |
                 static_cast<uint32_t>(bytes[i + 3]) << 24;
    k *= kM;
    k ^= k >> kR;
    k *= kM;
    h *= kM;
    h ^= k;
  }
  switch (length % 4) {
    case 3:
      h ^= static_cast<uint32_t>(bytes[i + 2]) << 16;
      [[fallthrough]];
    case 2:
      h ^= static_cast<uint32_t>(bytes[i + 1]) << 8;
      [[fallthrough]];
    case 1:
      h ^= bytes[i];
      h *= kM;
  }
  h ^= h >> 13;
  h *= kM;
  h ^= h >> 15;
  return static_cast<int32_t>(h);
}

// A text field of the body: its string, nullopt when absent or null; invalid_argument for
// anything else.
Result<std::optional<std::string>> optional_text(const json& input, const char* key) {
  auto found = input.find(key);
  if (found == input.end() || found->is_null()) return std::optional<std::string>();
  if (!found->is_string()) {
    return error(StatusCode::invalid_argument, std::string("\"") + key + "\" must be a string");
  }
  return std::optional<std::string>(found->get<std::string>());
}

// The partition the record goes to: the body's, else the key's murmur2 hash (as Java's
// producer), else round robin. 400/404 answers in `failure`.
std::optional<int32_t> choose_partition(const BrokerState& state, const std::string& topic,
                                        const json& input, const std::optional<std::string>& key,
                                        Answer& failure) {
  std::shared_ptr<const TopicTable> topics = state.topics->snapshot();
  const TopicInfo* info = topics->find(topic);
  if (info == nullptr) {
    failure = error_answer(404, "no topic '" + topic + "'");
    return std::nullopt;
  }
  ASSERT(info->partition_count > 0);
  if (input.contains("partition")) {
    const json& partition = input["partition"];
    if (!partition.is_number_integer() || partition.get<int64_t>() < 0 ||
        partition.get<int64_t>() >= info->partition_count) {
      failure = error_answer(404, "topic '" + topic + "' has partitions 0 to " +
                                      std::to_string(info->partition_count - 1));
      return std::nullopt;
    }
    return partition.get<int32_t>();
  }
  if (key.has_value()) {
    return static_cast<int32_t>((static_cast<uint32_t>(murmur2(*key)) & 0x7fffffffu) %
                                static_cast<uint32_t>(info->partition_count));
  }
  static std::atomic<uint32_t> next{0};
  return static_cast<int32_t>(next.fetch_add(1, std::memory_order_relaxed) %
                              static_cast<uint32_t>(info->partition_count));
}

struct RecordFields {
  std::optional<std::string> key;
  std::optional<std::string> value;
  std::vector<std::pair<std::string, std::string>> headers;
  int64_t timestamp_ms = -1;
};

Result<RecordFields> record_fields(const json& input) {
  RecordFields fields;
  Result<std::optional<std::string>> key = optional_text(input, "key");
  if (!key.ok()) return key.status();
  Result<std::optional<std::string>> value = optional_text(input, "value");
  if (!value.ok()) return value.status();
  fields.key = std::move(key).value();
  fields.value = std::move(value).value();
  if (input.contains("headers")) {
    const json& headers = input["headers"];
    if (!headers.is_object() || headers.size() > kHeadersMax) {
      return error(StatusCode::invalid_argument,
                   "\"headers\" must be an object of at most 100 string values");
    }
    for (const auto& [name, header_value] : headers.items()) {
      if (!header_value.is_string()) {
        return error(StatusCode::invalid_argument, "header '" + name + "' needs a string value");
      }
      fields.headers.emplace_back(name, header_value.get<std::string>());
    }
  }
  fields.timestamp_ms = storage::system_clock().now_ms();
  if (input.contains("timestamp_ms")) {
    if (!input["timestamp_ms"].is_number_integer() || input["timestamp_ms"].get<int64_t>() < 0) {
      return error(StatusCode::invalid_argument, "\"timestamp_ms\" must be an integer >= 0");
    }
    fields.timestamp_ms = input["timestamp_ms"].get<int64_t>();
  }
  return fields;
}

Result<std::vector<uint8_t>> build_batch(const RecordFields& fields) {
  protocol::BatchOptions batch_options;
  batch_options.base_timestamp = TimestampMs(fields.timestamp_ms);
  protocol::BatchBuilder builder(batch_options);
  std::vector<protocol::HeaderInput> headers;
  for (const auto& [name, value] : fields.headers) {
    headers.push_back({name, protocol::bytes_of(value)});
  }
  protocol::RecordInput record;
  if (fields.key) record.key = protocol::bytes_of(*fields.key);
  if (fields.value) record.value = protocol::bytes_of(*fields.value);
  record.headers = headers;
  record.timestamp = TimestampMs(fields.timestamp_ms);
  builder.add(record);
  return std::move(builder).build();
}

}  // namespace

Answer produce_record(const BrokerState& state, const AdminOptions& options,
                      const std::string& topic, const std::string& body) {
  Result<json> parsed = parse_object(body);
  if (!parsed.ok()) return error_answer(400, parsed.status().message());
  Result<RecordFields> fields = record_fields(*parsed);
  if (!fields.ok()) return error_answer(400, fields.status().message());
  Answer failure;
  std::optional<int32_t> partition = choose_partition(state, topic, *parsed, fields->key, failure);
  if (!partition) return failure;
  Result<std::vector<uint8_t>> batch = build_batch(*fields);
  if (!batch.ok()) return error_answer(400, batch.status().message());
  protocol::ProduceRequest request;
  request.acks = -1;
  request.timeout_ms = static_cast<int32_t>(options.timeout.count());
  protocol::ProduceRequest::TopicProduceData topic_data;
  topic_data.name = topic;
  protocol::ProduceRequest::PartitionProduceData partition_data;
  partition_data.index = *partition;
  partition_data.records = protocol::Records::of(*batch);
  topic_data.partition_data.push_back(std::move(partition_data));
  request.topic_data.push_back(std::move(topic_data));
  auto response =
      kafka_call<protocol::ProduceResponse>(state, request, kProduceVersion, options.timeout);
  if (!response.ok()) return status_answer(response.status());
  if (response->responses.size() != 1 || response->responses[0].partition_responses.size() != 1) {
    return error_answer(500, "Produce answered no partition");
  }
  const auto& result = response->responses[0].partition_responses[0];
  if (result.error_code != 0) return kafka_error_answer(result.error_code, result.error_message);
  return Answer{200,
                {{"topic", topic},
                 {"partition", *partition},
                 {"offset", result.base_offset},
                 {"timestamp_ms", fields->timestamp_ms}}};
}

}  // namespace cairn::broker::admin
