#include "broker/groups/offsets_format.h"

#include "protocol/reader.h"
#include "protocol/writer.h"

namespace cairn::broker::groups {

namespace {

std::vector<uint8_t> finish(protocol::Writer& writer) {
  protocol::Frame frame = std::move(writer).finish();
  ASSERT(frame.splices.empty());
  return std::move(frame.bytes);
}

// Every member entry takes at least: three int16 string lengths, two int32 timeouts and two
// int32 byte lengths (v0 has no rebalance timeout, so count one int32 fewer to stay a bound).
constexpr size_t kMemberMinBytes = 3 * 2 + 4 + 2 * 4;

Status check_reader(const protocol::Reader& reader, const char* what) {
  if (!reader.ok()) return error(StatusCode::corrupt, std::string(what) + ": " + reader.error());
  return Status();
}

bool has_member_id(ConsumerRecordType type) {
  return type == ConsumerRecordType::member_metadata ||
         type == ConsumerRecordType::target_assignment_member ||
         type == ConsumerRecordType::current_member_assignment;
}

}  // namespace

std::vector<uint8_t> encode_offset_commit_key(const std::string& group_id,
                                              const TopicPartitionKey& key) {
  protocol::Writer writer;
  writer.write_int16(kOffsetCommitKeyVersion);
  writer.write_string(group_id);
  writer.write_string(key.topic);
  writer.write_int32(key.partition.value());
  return finish(writer);
}

std::vector<uint8_t> encode_offset_commit_value(const CommittedOffset& committed) {
  protocol::Writer writer;
  if (committed.expire_timestamp_ms >= 0) {
    writer.write_int16(kOffsetCommitValueVersionWithExpiry);
    writer.write_int64(committed.offset.value());
    writer.write_string(committed.metadata);
    writer.write_int64(committed.commit_timestamp_ms);
    writer.write_int64(committed.expire_timestamp_ms);
  } else {
    writer.write_int16(kOffsetCommitValueVersion);
    writer.write_int64(committed.offset.value());
    writer.write_int32(committed.leader_epoch.value());
    writer.write_string(committed.metadata);
    writer.write_int64(committed.commit_timestamp_ms);
  }
  return finish(writer);
}

std::vector<uint8_t> encode_group_metadata_key(const std::string& group_id) {
  protocol::Writer writer;
  writer.write_int16(kGroupMetadataKeyVersion);
  writer.write_string(group_id);
  return finish(writer);
}

std::vector<uint8_t> encode_consumer_group_key(const ConsumerGroupKey& key) {
  ASSERT(has_member_id(key.type) || key.member_id.empty());
  protocol::Writer writer;
  writer.write_int16(static_cast<int16_t>(key.type));
  writer.write_string(key.group_id);
  if (has_member_id(key.type)) writer.write_string(key.member_id);
  return finish(writer);
}

std::vector<uint8_t> encode_group_metadata_value(const Group& group, int64_t now_ms) {
  protocol::Writer writer;
  writer.write_int16(kGroupMetadataValueVersion);
  writer.write_string(group.protocol_type);
  writer.write_int32(group.generation_id);
  writer.write_nullable_string(group.protocol_name);
  writer.write_nullable_string(group.leader_id);
  writer.write_int64(now_ms);
  writer.write_array_count(static_cast<int32_t>(group.members.size()));
  for (const auto& [id, member] : group.members) {
    writer.write_string(id);
    writer.write_nullable_string(member.group_instance_id);
    writer.write_string(member.client_id);
    writer.write_string(member.client_host);
    writer.write_int32(member.rebalance_timeout_ms);
    writer.write_int32(member.session_timeout_ms);
    static const std::vector<uint8_t> kNone;
    const std::vector<uint8_t>& subscription =
        group.protocol_name.has_value() && member.supports(*group.protocol_name)
            ? member.metadata_for(*group.protocol_name)
            : kNone;
    writer.write_bytes(subscription);
    writer.write_bytes(member.assignment);
  }
  return finish(writer);
}

Result<OffsetsRecordKey> decode_offsets_key(std::span<const uint8_t> bytes) {
  protocol::Reader reader(bytes);
  int16_t version = reader.read_int16();
  RETURN_IF_ERROR(check_reader(reader, "__consumer_offsets key"));
  if (version == 0 || version == 1) {
    OffsetCommitKey key;
    key.group_id = reader.read_string();
    key.key.topic = reader.read_string();
    key.key.partition = PartitionId(reader.read_int32());
    RETURN_IF_ERROR(check_reader(reader, "offset commit key"));
    return OffsetsRecordKey(std::move(key));
  }
  if (version == 2) {
    GroupMetadataKey key;
    key.group_id = reader.read_string();
    RETURN_IF_ERROR(check_reader(reader, "group metadata key"));
    return OffsetsRecordKey(std::move(key));
  }
  if (version >= static_cast<int16_t>(ConsumerRecordType::group_metadata) &&
      version <= static_cast<int16_t>(ConsumerRecordType::current_member_assignment)) {
    ConsumerGroupKey key;
    key.type = static_cast<ConsumerRecordType>(version);
    key.group_id = reader.read_string();
    if (has_member_id(key.type)) key.member_id = reader.read_string();
    RETURN_IF_ERROR(check_reader(reader, "consumer group key"));
    return OffsetsRecordKey(std::move(key));
  }
  return error(StatusCode::unsupported,
               "__consumer_offsets key version " + std::to_string(version));
}

Result<CommittedOffset> decode_offset_commit_value(std::span<const uint8_t> bytes) {
  protocol::Reader reader(bytes);
  int16_t version = reader.read_int16();
  RETURN_IF_ERROR(check_reader(reader, "offset commit value"));
  if (version < 0 || version > 3) {
    return error(StatusCode::unsupported, "offset commit value version " + std::to_string(version));
  }
  CommittedOffset committed;
  committed.offset = Offset(reader.read_int64());
  if (version >= 3) committed.leader_epoch = LeaderEpoch(reader.read_int32());
  committed.metadata = reader.read_string();
  committed.commit_timestamp_ms = reader.read_int64();
  if (version == 1) committed.expire_timestamp_ms = reader.read_int64();
  RETURN_IF_ERROR(check_reader(reader, "offset commit value"));
  // Any negative expiry means none (Kafka writes -1).
  if (committed.expire_timestamp_ms < 0) committed.expire_timestamp_ms = -1;
  return committed;
}

Result<Group> decode_group_metadata_value(const std::string& group_id,
                                          std::span<const uint8_t> bytes) {
  protocol::Reader reader(bytes);
  int16_t version = reader.read_int16();
  RETURN_IF_ERROR(check_reader(reader, "group metadata value"));
  if (version < 0 || version > 3) {
    return error(StatusCode::unsupported,
                 "group metadata value version " + std::to_string(version));
  }
  Group group;
  group.group_id = group_id;
  group.protocol_type = reader.read_string();
  group.generation_id = reader.read_int32();
  group.protocol_name = reader.read_nullable_string();
  group.leader_id = reader.read_nullable_string();
  if (version >= 2) group.state_timestamp_ms = reader.read_int64();
  int32_t count = reader.read_array_count(kMemberMinBytes);
  RETURN_IF_ERROR(check_reader(reader, "group metadata value"));
  if (count > 0 && !group.protocol_name.has_value()) {
    return error(StatusCode::corrupt, "group metadata with members but no protocol");
  }
  for (int32_t i = 0; i < count; ++i) {
    Member member;
    member.member_id = reader.read_string();
    if (version >= 3) member.group_instance_id = reader.read_nullable_string();
    member.client_id = reader.read_string();
    member.client_host = reader.read_string();
    member.rebalance_timeout_ms = version >= 1 ? reader.read_int32() : 0;
    member.session_timeout_ms = reader.read_int32();
    if (version == 0) member.rebalance_timeout_ms = member.session_timeout_ms;
    member.protocol_type = group.protocol_type;
    member.protocols.push_back(Protocol{*group.protocol_name, reader.read_bytes()});
    member.assignment = reader.read_bytes();
    RETURN_IF_ERROR(check_reader(reader, "group metadata member"));
    if (member.session_timeout_ms <= 0 || member.rebalance_timeout_ms < 0) {
      return error(StatusCode::corrupt, "group metadata member with a bad timeout");
    }
    if (member.member_id.empty() || group.members.contains(member.member_id)) {
      return error(StatusCode::corrupt, "group metadata member id empty or repeated");
    }
    std::string id = member.member_id;
    group.members.emplace(std::move(id), std::move(member));
  }
  group.state = group.members.empty() ? GroupState::empty : GroupState::stable;
  return group;
}

}  // namespace cairn::broker::groups
