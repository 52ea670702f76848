#include "broker/groups/consumer_group_records.h"

#include <algorithm>

#include "base/assert.h"
#include "broker/groups/offsets_format.h"
#include "protocol/writer.h"

namespace cairn::broker::groups {

namespace {

// Smallest encodings of one array element, which bound counts read off the disk.
constexpr size_t kTopicPartitionsMinBytes = 16 + 1 + 1;        // uuid, [] count, tags
constexpr size_t kTopicMetadataMinBytes = 16 + 1 + 4 + 1 + 1;  // uuid, name, count, [], tags
constexpr size_t kStringMinBytes = 1;
constexpr size_t kInt32Bytes = 4;

std::vector<uint8_t> finish(protocol::Writer& writer) {
  protocol::Frame frame = std::move(writer).finish();
  ASSERT(frame.splices.empty());
  return std::move(frame.bytes);
}

std::vector<uint8_t> key_of(ConsumerRecordType type, const std::string& group_id,
                            const std::string& member_id = "") {
  return encode_consumer_group_key({type, group_id, member_id});
}

int8_t state_byte(MemberState state) {
  switch (state) {
    case MemberState::unrevoked_partitions:
      return kMemberStateUnrevokedPartitions;
    case MemberState::unreleased_partitions:
      return kMemberStateUnreleasedPartitions;
    case MemberState::stable:
      return kMemberStateStable;
  }
  return kMemberStateStable;
}

void write_partitions(protocol::Writer& writer, const TopicPartitions& partitions,
                      const TopicIdFn& topic_ids) {
  std::vector<std::pair<protocol::Uuid, const std::set<int32_t>*>> known;
  for (const auto& [topic, set] : partitions) {
    if (std::optional<protocol::Uuid> id = topic_ids(topic); id.has_value()) {
      known.emplace_back(*id, &set);
    }
  }
  writer.write_compact_array_count(static_cast<int32_t>(known.size()));
  for (const auto& [id, set] : known) {
    writer.write_uuid(id);
    writer.write_compact_array_count(static_cast<int32_t>(set->size()));
    for (int32_t p : *set) writer.write_int32(p);
    writer.write_empty_tagged_fields();
  }
}

std::vector<uint8_t> int32_value(int32_t v) {
  protocol::Writer writer;
  writer.write_int16(kConsumerGroupValueVersion);
  writer.write_int32(v);
  writer.write_empty_tagged_fields();
  return finish(writer);
}

std::vector<uint8_t> partition_metadata_value(const ConsumerGroupImage& image,
                                              const TopicIdFn& topic_ids) {
  protocol::Writer writer;
  writer.write_int16(kConsumerGroupValueVersion);
  writer.write_int32(image.group_epoch);
  std::vector<std::pair<protocol::Uuid, const std::string*>> known;
  for (const auto& [topic, count] : image.partition_counts) {
    if (std::optional<protocol::Uuid> id = topic_ids(topic); id.has_value()) {
      known.emplace_back(*id, &topic);
    }
  }
  writer.write_compact_array_count(static_cast<int32_t>(known.size()));
  for (const auto& [id, topic] : known) {
    writer.write_uuid(id);
    writer.write_compact_string(*topic);
    writer.write_int32(image.partition_counts.at(*topic));
    writer.write_compact_array_count(0);  // partition racks: Cairn is not rack-aware yet
    writer.write_empty_tagged_fields();
  }
  writer.write_empty_tagged_fields();
  return finish(writer);
}

std::vector<uint8_t> member_metadata_value(const ConsumerMember& member) {
  protocol::Writer writer;
  writer.write_int16(kConsumerGroupValueVersion);
  writer.write_compact_nullable_string(member.instance_id);
  writer.write_compact_nullable_string(member.rack_id);
  writer.write_compact_string(member.client_id);
  writer.write_compact_string(member.client_host);
  writer.write_compact_array_count(static_cast<int32_t>(member.subscribed_topic_names.size()));
  for (const std::string& name : member.subscribed_topic_names) writer.write_compact_string(name);
  writer.write_compact_nullable_string(std::nullopt);  // subscribed topic regex
  writer.write_int32(member.rebalance_timeout_ms);
  writer.write_compact_nullable_string(member.server_assignor);
  writer.write_empty_tagged_fields();
  return finish(writer);
}

std::vector<uint8_t> current_assignment_value(const ConsumerMember& member,
                                              const TopicIdFn& topic_ids) {
  protocol::Writer writer;
  writer.write_int16(kConsumerGroupValueVersion);
  writer.write_int32(member.member_epoch);
  writer.write_int32(member.previous_member_epoch);
  writer.write_int8(state_byte(member.state));
  write_partitions(writer, member.assigned, topic_ids);
  write_partitions(writer, member.pending_revocation, topic_ids);
  writer.write_empty_tagged_fields();
  return finish(writer);
}

std::vector<uint8_t> target_member_value(const TopicPartitions& target,
                                         const TopicIdFn& topic_ids) {
  protocol::Writer writer;
  writer.write_int16(kConsumerGroupValueVersion);
  write_partitions(writer, target, topic_ids);
  writer.write_empty_tagged_fields();
  return finish(writer);
}

}  // namespace

RecordImage encode_consumer_group(const std::string& group_id, const ConsumerGroupImage& image,
                                  const TopicIdFn& topic_ids) {
  RecordImage records;
  using T = ConsumerRecordType;
  records[key_of(T::group_metadata, group_id)] = int32_value(image.group_epoch);
  records[key_of(T::partition_metadata, group_id)] = partition_metadata_value(image, topic_ids);
  records[key_of(T::target_assignment_metadata, group_id)] = int32_value(image.assignment_epoch);
  for (const ConsumerMember& member : image.members) {
    ASSERT(!member.member_id.empty());
    records[key_of(T::member_metadata, group_id, member.member_id)] = member_metadata_value(member);
    records[key_of(T::current_member_assignment, group_id, member.member_id)] =
        current_assignment_value(member, topic_ids);
  }
  for (const auto& [member_id, target] : image.target) {
    records[key_of(T::target_assignment_member, group_id, member_id)] =
        target_member_value(target, topic_ids);
  }
  return records;
}

// ---------------------------------------------------------------------------------------------
// Decoding

namespace {

using TopicNames = std::map<protocol::Uuid, std::string>;

// The value's version and the reader positioned after it.
Status open_value(protocol::Reader& reader, const char* what) {
  int16_t version = reader.read_int16();
  if (!reader.ok()) return error(StatusCode::corrupt, std::string(what) + ": truncated");
  if (version != kConsumerGroupValueVersion) {
    return error(StatusCode::unsupported,
                 std::string(what) + " value version " + std::to_string(version));
  }
  return Status();
}

Status close_value(protocol::Reader& reader, const char* what) {
  reader.skip_tagged_fields();
  if (!reader.ok()) return error(StatusCode::corrupt, std::string(what) + ": " + reader.error());
  return Status();
}

TopicPartitions read_partitions(protocol::Reader& reader, const TopicNames& names) {
  TopicPartitions partitions;
  int32_t topics = reader.read_compact_array_count(kTopicPartitionsMinBytes);
  for (int32_t i = 0; i < topics && reader.ok(); ++i) {
    protocol::Uuid id = reader.read_uuid();
    int32_t count = reader.read_compact_array_count(kInt32Bytes);
    std::set<int32_t> set;
    for (int32_t n = 0; n < count && reader.ok(); ++n) set.insert(reader.read_int32());
    reader.skip_tagged_fields();
    auto name = names.find(id);
    if (name != names.end() && !set.empty())
      partitions[name->second].insert(set.begin(), set.end());
  }
  return partitions;
}

Result<int32_t> decode_int32_value(std::span<const uint8_t> bytes, const char* what) {
  protocol::Reader reader(bytes);
  RETURN_IF_ERROR(open_value(reader, what));
  int32_t v = reader.read_int32();
  RETURN_IF_ERROR(close_value(reader, what));
  return v;
}

Status decode_partition_metadata(std::span<const uint8_t> bytes, ConsumerGroupImage* image,
                                 TopicNames* names) {
  const char* what = "consumer group partition metadata";
  protocol::Reader reader(bytes);
  RETURN_IF_ERROR(open_value(reader, what));
  reader.read_int32();  // the group epoch it was computed at; record 3 has the current one
  int32_t topics = reader.read_compact_array_count(kTopicMetadataMinBytes);
  for (int32_t i = 0; i < topics && reader.ok(); ++i) {
    protocol::Uuid id = reader.read_uuid();
    std::string name = reader.read_compact_string();
    int32_t count = reader.read_int32();
    int32_t racks = reader.read_compact_array_count(kInt32Bytes + 1 + 1);
    for (int32_t r = 0; r < racks && reader.ok(); ++r) {
      reader.read_int32();
      int32_t rack_count = reader.read_compact_array_count(kStringMinBytes);
      for (int32_t n = 0; n < rack_count && reader.ok(); ++n) reader.read_compact_string();
      reader.skip_tagged_fields();
    }
    reader.skip_tagged_fields();
    if (!reader.ok()) break;
    if (count < 0) return error(StatusCode::corrupt, std::string(what) + ": negative count");
    image->partition_counts[name] = count;
    (*names)[id] = std::move(name);
  }
  return close_value(reader, what);
}

Status decode_member_metadata(std::span<const uint8_t> bytes, ConsumerMember* member) {
  const char* what = "consumer group member metadata";
  protocol::Reader reader(bytes);
  RETURN_IF_ERROR(open_value(reader, what));
  member->instance_id = reader.read_compact_nullable_string();
  member->rack_id = reader.read_compact_nullable_string();
  member->client_id = reader.read_compact_string();
  member->client_host = reader.read_compact_string();
  int32_t count = reader.read_compact_array_count(kStringMinBytes);
  for (int32_t i = 0; i < count && reader.ok(); ++i) {
    member->subscribed_topic_names.push_back(reader.read_compact_string());
  }
  reader.read_compact_nullable_string();  // regex: ConsumerGroupHeartbeat v1, not served
  member->rebalance_timeout_ms = reader.read_int32();
  member->server_assignor = reader.read_compact_nullable_string();
  std::sort(member->subscribed_topic_names.begin(), member->subscribed_topic_names.end());
  member->subscribed_topic_names.erase(
      std::unique(member->subscribed_topic_names.begin(), member->subscribed_topic_names.end()),
      member->subscribed_topic_names.end());
  return close_value(reader, what);
}

Status decode_current_assignment(std::span<const uint8_t> bytes, const TopicNames& names,
                                 ConsumerMember* member) {
  const char* what = "consumer group current member assignment";
  protocol::Reader reader(bytes);
  RETURN_IF_ERROR(open_value(reader, what));
  member->member_epoch = reader.read_int32();
  member->previous_member_epoch = reader.read_int32();
  int8_t state = reader.read_int8();
  member->assigned = read_partitions(reader, names);
  member->pending_revocation = read_partitions(reader, names);
  RETURN_IF_ERROR(close_value(reader, what));
  if (state == kMemberStateUnrevokedPartitions && !member->pending_revocation.empty()) {
    member->state = MemberState::unrevoked_partitions;
  } else if (state == kMemberStateUnreleasedPartitions) {
    member->state = MemberState::unreleased_partitions;
  } else {
    // Stable, Kafka's UNKNOWN (127), or nothing left to revoke: the next heartbeat reconciles.
    member->state = MemberState::stable;
    member->pending_revocation.clear();
  }
  return Status();
}

Result<TopicPartitions> decode_target_member(std::span<const uint8_t> bytes,
                                             const TopicNames& names) {
  const char* what = "consumer group target assignment member";
  protocol::Reader reader(bytes);
  RETURN_IF_ERROR(open_value(reader, what));
  TopicPartitions target = read_partitions(reader, names);
  RETURN_IF_ERROR(close_value(reader, what));
  return target;
}

}  // namespace

Result<ConsumerGroupImage> decode_consumer_group(const std::string& group_id,
                                                 const RecordImage& records) {
  using T = ConsumerRecordType;
  ConsumerGroupImage image;
  TopicNames names;
  // Partition metadata first: it names the topic ids the other records use.
  std::map<T, std::vector<std::pair<ConsumerGroupKey, const std::vector<uint8_t>*>>> by_type;
  for (const auto& [key_bytes, value] : records) {
    Result<OffsetsRecordKey> key = decode_offsets_key(key_bytes);
    if (!key.ok()) return key.status();
    const auto* consumer_key = std::get_if<ConsumerGroupKey>(&*key);
    ASSERT(consumer_key != nullptr);
    ASSERT(consumer_key->group_id == group_id);
    by_type[consumer_key->type].emplace_back(*consumer_key, &value);
  }
  if (!by_type.contains(T::group_metadata)) {
    return error(StatusCode::not_found, "no consumer group metadata for " + group_id);
  }
  std::map<std::string, ConsumerMember> members;
  for (auto& [type, entries] : by_type) {
    for (auto& [key, value] : entries) {
      switch (type) {
        case T::group_metadata: {
          Result<int32_t> epoch = decode_int32_value(*value, "consumer group");
          if (!epoch.ok()) return epoch.status();
          image.group_epoch = *epoch;
          break;
        }
        case T::partition_metadata:
          RETURN_IF_ERROR(decode_partition_metadata(*value, &image, &names));
          break;
        case T::member_metadata: {
          ConsumerMember& member = members[key.member_id];
          member.member_id = key.member_id;
          RETURN_IF_ERROR(decode_member_metadata(*value, &member));
          break;
        }
        case T::target_assignment_metadata: {
          Result<int32_t> epoch = decode_int32_value(*value, "consumer group target assignment");
          if (!epoch.ok()) return epoch.status();
          image.assignment_epoch = *epoch;
          break;
        }
        case T::target_assignment_member: {
          Result<TopicPartitions> target = decode_target_member(*value, names);
          if (!target.ok()) return target.status();
          image.target[key.member_id] = std::move(target).value();
          break;
        }
        case T::current_member_assignment: {
          auto it = members.find(key.member_id);
          if (it == members.end()) break;  // Kafka writes member metadata first; none: gone
          RETURN_IF_ERROR(decode_current_assignment(*value, names, &it->second));
          break;
        }
      }
    }
  }
  std::erase_if(image.target, [&](const auto& entry) { return !members.contains(entry.first); });
  for (auto& [id, member] : members) image.members.push_back(std::move(member));
  return image;
}

}  // namespace cairn::broker::groups
