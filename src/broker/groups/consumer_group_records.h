// The consumer group protocol's records in __consumer_offsets (KIP-848), in the key and value
// schemas of Kafka's group coordinator, so that tools reading Kafka's topic read Cairn's.
// docs/format/consumer-offsets.md describes them byte by byte; in short, per group:
//
//   key (int16 type, group, [member])    value (int16 version 0, flexible: compact strings and
//                                        arrays, an empty tagged-field section per struct)
//   3 ConsumerGroupMetadata              epoch int32
//   4 ConsumerGroupPartitionMetadata     epoch int32, topics [topic id uuid, name, partitions
//                                        int32, partition racks [] (always empty here)]
//   5 ConsumerGroupMemberMetadata        instance id?, rack id?, client id, client host,
//                                        subscribed topic names [], regex? (null),
//                                        rebalance timeout int32, server assignor?
//   6 ConsumerGroupTargetAssignmentMetadata  assignment epoch int32
//   7 ConsumerGroupTargetAssignmentMember    topic partitions [topic id uuid, partitions []]
//   8 ConsumerGroupCurrentMemberAssignment   member epoch, previous member epoch int32,
//                                        state int8, assigned and pending revocation partitions
//
// A group's state is the set of its records; a tombstone (null value) removes one. Partitions
// are named by topic id, as in Kafka: the encoder resolves names with a TopicIdFn, the decoder
// resolves ids with the group's own partition metadata (record 4), and leaves out partitions
// of topics it does not know (deleted since). Pure functions; any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "broker/groups/consumer_group.h"
#include "protocol/reader.h"

namespace cairn::broker::groups {

inline constexpr int16_t kConsumerGroupValueVersion = 0;

// Kafka's MemberState byte.
inline constexpr int8_t kMemberStateUnrevokedPartitions = 0;
inline constexpr int8_t kMemberStateUnreleasedPartitions = 1;
inline constexpr int8_t kMemberStateStable = 2;

// The id of a topic by name; nullopt for a topic that no longer exists.
using TopicIdFn = std::function<std::optional<protocol::Uuid>(const std::string& topic)>;

// Key bytes -> value bytes, in key order.
using RecordImage = std::map<std::vector<uint8_t>, std::vector<uint8_t>>;

// Every record of the group's persisted state.
RecordImage encode_consumer_group(const std::string& group_id, const ConsumerGroupImage& image,
                                  const TopicIdFn& topic_ids);
// The group from its live records (their keys must all name `group_id`). not_found without a
// ConsumerGroupMetadata record (no such group); corrupt or unsupported for a record that does
// not decode. A member without a metadata record is left out.
Result<ConsumerGroupImage> decode_consumer_group(const std::string& group_id,
                                                 const RecordImage& records);

}  // namespace cairn::broker::groups
