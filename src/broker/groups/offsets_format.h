// The records of the __consumer_offsets topic, in Kafka's own key/value schemas so that tools
// reading the topic (Burrow, kafka-console-consumer's OffsetsMessageFormatter, MirrorMaker 1)
// understand them. docs/groups.md ("The __consumer_offsets topic") describes the layout; the
// summary:
//
//   key   int16 version  0 or 1: OffsetCommitKey   group string, topic string, partition int32
//                        2:      GroupMetadataKey  group string
//                        3-8:    the consumer group protocol's records (consumer_group_records.h)
//                                group string, and member string for 5, 7 and 8
//   value OffsetCommitValue v3: int16 3, offset int64, leader_epoch int32, metadata string,
//                                commit_timestamp int64
//         (v1 when the commit carries an explicit expiry: int16 1, offset int64,
//          metadata string, commit_timestamp int64, expire_timestamp int64)
//         GroupMetadataValue v3: int16 3, protocol_type string, generation int32,
//                                protocol nullable string, leader nullable string,
//                                current_state_timestamp int64, members [member_id string,
//                                group_instance_id nullable string, client_id string,
//                                client_host string, rebalance_timeout int32,
//                                session_timeout int32, subscription bytes, assignment bytes]
//   A null value is a tombstone (offset deleted, or group deleted).
//
// Strings are int16-length-prefixed, bytes int32-length-prefixed, big-endian, as in the classic
// Kafka protocol. Decoding is bounded by the record's bytes and accepts versions 0-3 of each
// value schema (Kafka's flexible v4 is refused: Cairn never writes it). Pure functions; any
// thread.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "base/status.h"
#include "broker/groups/group.h"

namespace cairn::broker::groups {

inline constexpr int16_t kOffsetCommitKeyVersion = 1;
inline constexpr int16_t kGroupMetadataKeyVersion = 2;
inline constexpr int16_t kOffsetCommitValueVersion = 3;
inline constexpr int16_t kOffsetCommitValueVersionWithExpiry = 1;
inline constexpr int16_t kGroupMetadataValueVersion = 3;

struct OffsetCommitKey {
  std::string group_id;
  TopicPartitionKey key;
};
struct GroupMetadataKey {
  std::string group_id;
};
// The consumer group protocol's records (KIP-848), key versions 3-8: Kafka's coordinator record
// types, whose key versions are the types themselves. Values: consumer_group_records.h.
enum class ConsumerRecordType : int16_t {
  group_metadata = 3,              // ConsumerGroupMetadata: the group epoch
  partition_metadata = 4,          // ConsumerGroupPartitionMetadata: subscribed topics' sizes
  member_metadata = 5,             // ConsumerGroupMemberMetadata: one member's subscription
  target_assignment_metadata = 6,  // ConsumerGroupTargetAssignmentMetadata: assignment epoch
  target_assignment_member = 7,    // ConsumerGroupTargetAssignmentMember: one member's target
  current_member_assignment = 8,   // ConsumerGroupCurrentMemberAssignment: epochs, owned
};
struct ConsumerGroupKey {
  ConsumerRecordType type = ConsumerRecordType::group_metadata;
  std::string group_id;
  std::string member_id;  // the per-member types (5, 7, 8) only
};
using OffsetsRecordKey = std::variant<OffsetCommitKey, GroupMetadataKey, ConsumerGroupKey>;

std::vector<uint8_t> encode_offset_commit_key(const std::string& group_id,
                                              const TopicPartitionKey& key);
std::vector<uint8_t> encode_offset_commit_value(const CommittedOffset& committed);
std::vector<uint8_t> encode_group_metadata_key(const std::string& group_id);
std::vector<uint8_t> encode_consumer_group_key(const ConsumerGroupKey& key);
// The group's generation, protocol, leader and members (with the metadata of the selected
// protocol and their assignments), as they are at the call.
std::vector<uint8_t> encode_group_metadata_value(const Group& group, int64_t now_ms);

// corrupt on malformed bytes, unsupported on an unknown key or value version.
Result<OffsetsRecordKey> decode_offsets_key(std::span<const uint8_t> bytes);
// `record_offset` is not part of the value; the caller sets it from the record's offset.
Result<CommittedOffset> decode_offset_commit_value(std::span<const uint8_t> bytes);
// A Group with state, generation, protocol type/name, leader, state timestamp and members
// (each with one protocol: the selected one, carrying the stored subscription).
Result<Group> decode_group_metadata_value(const std::string& group_id,
                                          std::span<const uint8_t> bytes);

}  // namespace cairn::broker::groups
