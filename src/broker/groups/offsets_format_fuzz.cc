// libFuzzer target for the __consumer_offsets record decoders (what replay reads from disk):
// arbitrary bytes as a record key, an offset commit value, a group metadata value, and each
// value of the consumer group protocol's records (consumer_group_records.h).
//
// Invariants (ASSERT, so a violation is a crash the fuzzer reports):
//   - no crash, out-of-bounds access or undefined behaviour (ASan + UBSan), and no allocation
//     beyond the input's size (a member count far past the bytes left fails first);
//   - whatever decodes re-encodes to bytes that decode to the same thing (round trip through
//     Cairn's own encoders, which write key v1/v2, value v3 or v1).
#include <cstddef>
#include <cstdint>
#include <span>

#include "base/assert.h"
#include "broker/groups/consumer_group_records.h"
#include "broker/groups/offsets_format.h"

namespace {

using cairn::broker::groups::CommittedOffset;
using cairn::broker::groups::ConsumerGroupKey;
using cairn::broker::groups::ConsumerRecordType;
using cairn::broker::groups::GroupMetadataKey;
using cairn::broker::groups::OffsetCommitKey;

void check_key(std::span<const uint8_t> bytes) {
  auto key = cairn::broker::groups::decode_offsets_key(bytes);
  if (!key.ok()) return;
  if (const auto* commit = std::get_if<OffsetCommitKey>(&*key)) {
    auto again = cairn::broker::groups::decode_offsets_key(
        cairn::broker::groups::encode_offset_commit_key(commit->group_id, commit->key));
    ASSERT(again.ok());
    const auto& back = std::get<OffsetCommitKey>(*again);
    ASSERT(back.group_id == commit->group_id);
    ASSERT(back.key == commit->key);
  } else if (const auto* consumer = std::get_if<ConsumerGroupKey>(&*key)) {
    auto again = cairn::broker::groups::decode_offsets_key(
        cairn::broker::groups::encode_consumer_group_key(*consumer));
    ASSERT(again.ok());
    const auto& back = std::get<ConsumerGroupKey>(*again);
    ASSERT(back.type == consumer->type);
    ASSERT(back.group_id == consumer->group_id);
    ASSERT(back.member_id == consumer->member_id);
  } else {
    const auto& group = std::get<GroupMetadataKey>(*key);
    auto again = cairn::broker::groups::decode_offsets_key(
        cairn::broker::groups::encode_group_metadata_key(group.group_id));
    ASSERT(again.ok());
    ASSERT(std::get<GroupMetadataKey>(*again).group_id == group.group_id);
  }
}

void check_commit_value(std::span<const uint8_t> bytes) {
  auto value = cairn::broker::groups::decode_offset_commit_value(bytes);
  if (!value.ok()) return;
  auto again = cairn::broker::groups::decode_offset_commit_value(
      cairn::broker::groups::encode_offset_commit_value(*value));
  ASSERT(again.ok());
  ASSERT(again->offset == value->offset);
  ASSERT(again->metadata == value->metadata);
  ASSERT(again->commit_timestamp_ms == value->commit_timestamp_ms);
  ASSERT(again->expire_timestamp_ms == value->expire_timestamp_ms);
}

void check_group_value(std::span<const uint8_t> bytes) {
  auto group = cairn::broker::groups::decode_group_metadata_value("g", bytes);
  if (!group.ok()) return;
  auto again = cairn::broker::groups::decode_group_metadata_value(
      "g", cairn::broker::groups::encode_group_metadata_value(*group, group->state_timestamp_ms));
  ASSERT(again.ok());
  ASSERT(again->generation_id == group->generation_id);
  ASSERT(again->members.size() == group->members.size());
  for (const auto& [id, member] : group->members) {
    const auto& back = again->members.at(id);
    ASSERT(back.assignment == member.assignment);
    ASSERT(back.protocols == member.protocols);
  }
}

// The bytes as the value of each consumer group record type, in a group that has the records
// the others need (a metadata record, a member). Whatever decodes re-encodes to the same group.
void check_consumer_values(std::span<const uint8_t> bytes) {
  using cairn::broker::groups::encode_consumer_group_key;
  for (int16_t type = 3; type <= 8; ++type) {
    cairn::broker::groups::RecordImage records;
    records[encode_consumer_group_key({ConsumerRecordType::group_metadata, "g", ""})] = {0, 0, 0, 0,
                                                                                         0, 1, 0};
    records[encode_consumer_group_key({ConsumerRecordType::member_metadata, "g", "m"})] = {
        0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0};
    const auto record_type = static_cast<ConsumerRecordType>(type);
    const bool per_member = type == 5 || type == 7 || type == 8;
    records[encode_consumer_group_key({record_type, "g", per_member ? "m" : ""})] =
        std::vector<uint8_t>(bytes.begin(), bytes.end());
    auto image = cairn::broker::groups::decode_consumer_group("g", records);
    if (!image.ok()) continue;
    auto ids = [](const std::string&) -> std::optional<cairn::protocol::Uuid> {
      return std::nullopt;
    };
    auto again = cairn::broker::groups::decode_consumer_group(
        "g", cairn::broker::groups::encode_consumer_group("g", *image, ids));
    ASSERT(again.ok());
    ASSERT(again->group_epoch == image->group_epoch);
    ASSERT(again->assignment_epoch == image->assignment_epoch);
    ASSERT(again->members.size() == image->members.size());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> bytes(data, size);
  check_key(bytes);
  check_commit_value(bytes);
  check_group_value(bytes);
  check_consumer_values(bytes);
  return 0;
}
