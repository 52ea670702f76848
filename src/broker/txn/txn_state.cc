#include "broker/txn/txn_state.h"

#include <map>

#include "base/assert.h"
#include "protocol/reader.h"
#include "protocol/writer.h"

namespace cairn::broker::txn {
namespace {

constexpr int16_t kKeyVersion = 0;
constexpr int16_t kValueVersion = 0;
constexpr size_t kPartitionEntryMinBytes = 2 + 4;  // empty topic name, empty partition array

std::vector<uint8_t> finish(protocol::Writer& writer) {
  protocol::Frame frame = std::move(writer).finish();
  ASSERT(frame.splices.empty());
  return std::move(frame.bytes);
}

Status check_reader(const protocol::Reader& reader, const char* what) {
  if (!reader.ok()) return error(StatusCode::corrupt, std::string(what) + ": " + reader.error());
  return Status();
}

}  // namespace

const char* state_name(TxnState state) {
  switch (state) {
    case TxnState::empty:
      return "Empty";
    case TxnState::ongoing:
      return "Ongoing";
    case TxnState::prepare_commit:
      return "PrepareCommit";
    case TxnState::prepare_abort:
      return "PrepareAbort";
    case TxnState::complete_commit:
      return "CompleteCommit";
    case TxnState::complete_abort:
      return "CompleteAbort";
    case TxnState::dead:
      return "Dead";
    case TxnState::prepare_epoch_fence:
      return "PrepareEpochFence";
  }
  return "Unknown";
}

std::vector<uint8_t> encode_txn_key(const std::string& transactional_id) {
  protocol::Writer writer;
  writer.write_int16(kKeyVersion);
  writer.write_string(transactional_id);
  return finish(writer);
}

std::vector<uint8_t> encode_txn_value(const TxnMetadata& metadata) {
  protocol::Writer writer;
  writer.write_int16(kValueVersion);
  writer.write_int64(metadata.producer_id.value());
  writer.write_int16(metadata.epoch.value());
  writer.write_int32(metadata.timeout_ms);
  writer.write_int8(static_cast<int8_t>(metadata.state));
  std::map<std::string, std::vector<int32_t>> by_topic;
  for (const TxnPartition& p : metadata.partitions) by_topic[p.topic].push_back(p.partition);
  writer.write_array_count(static_cast<int32_t>(by_topic.size()));
  for (const auto& [topic, partitions] : by_topic) {
    writer.write_string(topic);
    writer.write_array_count(static_cast<int32_t>(partitions.size()));
    for (int32_t partition : partitions) writer.write_int32(partition);
  }
  writer.write_int64(metadata.last_update_ms);
  writer.write_int64(metadata.start_ms);
  return finish(writer);
}

Result<std::string> decode_txn_key(std::span<const uint8_t> bytes) {
  protocol::Reader reader(bytes);
  int16_t version = reader.read_int16();
  RETURN_IF_ERROR(check_reader(reader, "transaction log key"));
  if (version != kKeyVersion) {
    return error(StatusCode::unsupported, "transaction log key version " + std::to_string(version));
  }
  std::string id = reader.read_string();
  RETURN_IF_ERROR(check_reader(reader, "transaction log key"));
  return id;
}

Result<TxnMetadata> decode_txn_value(std::string transactional_id, std::span<const uint8_t> bytes) {
  protocol::Reader reader(bytes);
  int16_t version = reader.read_int16();
  RETURN_IF_ERROR(check_reader(reader, "transaction log value"));
  // Version 1 (flexible) adds only tagged fields after the same layout.
  if (version != 0 && version != 1) {
    return error(StatusCode::unsupported,
                 "transaction log value version " + std::to_string(version));
  }
  bool flexible = version >= 1;
  TxnMetadata metadata;
  metadata.transactional_id = std::move(transactional_id);
  metadata.producer_id = ProducerId(reader.read_int64());
  metadata.epoch = ProducerEpoch(reader.read_int16());
  metadata.timeout_ms = reader.read_int32();
  int8_t state = reader.read_int8();
  if (state < 0 || state > static_cast<int8_t>(TxnState::prepare_epoch_fence)) {
    return error(StatusCode::corrupt, "transaction state " + std::to_string(state));
  }
  metadata.state = static_cast<TxnState>(state);
  int32_t topics = flexible ? reader.read_compact_array_count(kPartitionEntryMinBytes)
                            : reader.read_array_count(kPartitionEntryMinBytes);
  for (int32_t t = 0; t < topics && reader.ok(); t++) {
    std::string topic = flexible ? reader.read_compact_string() : reader.read_string();
    int32_t count = flexible ? reader.read_compact_array_count(4) : reader.read_array_count(4);
    for (int32_t p = 0; p < count && reader.ok(); p++) {
      metadata.partitions.insert({topic, reader.read_int32()});
    }
    if (flexible) reader.read_tagged_fields([](uint32_t, std::span<const uint8_t>) {});
  }
  metadata.last_update_ms = reader.read_int64();
  metadata.start_ms = reader.read_int64();
  RETURN_IF_ERROR(check_reader(reader, "transaction log value"));
  return metadata;
}

}  // namespace cairn::broker::txn
