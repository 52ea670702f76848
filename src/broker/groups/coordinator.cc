#include "broker/groups/coordinator.h"

#include <spdlog/spdlog.h>

#include <future>
#include <map>
#include <system_error>

#include "broker/configs/config_defs.h"
#include "broker/groups/offsets_format.h"
#include "broker/groups/shard_coordinator.h"
#include "broker/shard_map.h"

namespace cairn::broker::groups {

static_assert(kOffsetsTopic == kConsumerOffsetsTopic);

namespace {

// Kafka's settings for __consumer_offsets: compacted by the broker's cleaner (the latest
// record per key is what replay needs), never aged out, offsets.topic.segment.bytes segments.
TopicConfigs offsets_topic_configs(int32_t segment_bytes) {
  return TopicConfigs{{"cleanup.policy", "compact"},
                      {"segment.bytes", std::to_string(segment_bytes)}};
}

// The partitions of a data directory from before __consumer_offsets was in the topic
// registry (data_dir/__consumer_offsets-0, -1, ...): their count is fixed for good, since every
// group's partition depends on it. 0 if there are none.
Result<int32_t> existing_partition_count(storage::Io& io, const std::filesystem::path& data_dir) {
  int32_t count = 0;
  while (true) {
    std::string dir =
        (data_dir / (std::string(kOffsetsTopic) + "-" + std::to_string(count))).string();
    Result<bool> present = io.exists(dir);
    if (!present.ok()) return present.status();
    if (!*present) return count;
    count++;
  }
}

}  // namespace

Result<GroupConfig> group_config_from(const configs::ConfigMap& kafka_configs) {
  auto value = [&kafka_configs](std::string_view name) {
    return configs::parse_long(configs::broker_config_value(kafka_configs, name));
  };
  GroupConfig config;
  config.min_session_timeout_ms = static_cast<int32_t>(value("group.min.session.timeout.ms"));
  config.max_session_timeout_ms = static_cast<int32_t>(value("group.max.session.timeout.ms"));
  config.initial_rebalance_delay_ms =
      static_cast<int32_t>(value("group.initial.rebalance.delay.ms"));
  config.max_group_size = static_cast<uint32_t>(value("group.max.size"));
  config.offsets_retention_ms = value("offsets.retention.minutes") * 60'000;
  config.offsets_retention_check_interval_ms = value("offsets.retention.check.interval.ms");
  config.offsets_topic_partition_count =
      static_cast<int32_t>(value("offsets.topic.num.partitions"));
  config.offsets_topic_segment_bytes = static_cast<int32_t>(value("offsets.topic.segment.bytes"));
  config.offset_metadata_max_bytes = static_cast<int32_t>(value("offset.metadata.max.bytes"));
  config.consumer_heartbeat_interval_ms =
      static_cast<int32_t>(value("group.consumer.heartbeat.interval.ms"));
  config.consumer_session_timeout_ms =
      static_cast<int32_t>(value("group.consumer.session.timeout.ms"));
  config.consumer_max_group_size = static_cast<uint32_t>(value("group.consumer.max.size"));
  config.consumer_assignors.clear();
  std::string assignors = configs::broker_config_value(kafka_configs, "group.consumer.assignors");
  for (size_t start = 0; start <= assignors.size();) {
    size_t comma = std::min(assignors.find(',', start), assignors.size());
    std::string name = assignors.substr(start, comma - start);
    std::erase_if(name, [](char c) { return c == ' '; });
    if (!name.empty() && is_known_assignor(name)) config.consumer_assignors.push_back(name);
    start = comma + 1;
  }
  if (config.consumer_assignors.empty()) {
    return error(StatusCode::invalid_argument, "group.consumer.assignors names no assignor");
  }
  if (config.min_session_timeout_ms > config.max_session_timeout_ms) {
    return error(StatusCode::invalid_argument,
                 "group.min.session.timeout.ms is above group.max.session.timeout.ms");
  }
  return config;
}

Result<TopicInfo> ensure_offsets_topic(storage::Io& io, TopicRegistry& registry,
                                       const std::filesystem::path& data_dir,
                                       int32_t partition_count, int32_t segment_bytes) {
  std::optional<TopicInfo> topic;
  if (const TopicInfo* registered = registry.snapshot()->find(kOffsetsTopic)) topic = *registered;
  int32_t existing = 0;
  if (topic.has_value()) {
    existing = topic->partition_count;
  } else {
    Result<int32_t> on_disk = existing_partition_count(io, data_dir);
    if (!on_disk.ok()) return on_disk.status();
    existing = *on_disk;
  }
  if (existing > 0 && existing != partition_count) {
    spdlog::info(
        "{} has {} partitions; keeping them (offsets.topic.num.partitions {} applies only to "
        "a new data directory)",
        kOffsetsTopic, existing, partition_count);
  }
  if (!topic.has_value()) {
    Result<TopicInfo> created =
        registry.create(std::string(kOffsetsTopic), existing > 0 ? existing : partition_count,
                        offsets_topic_configs(segment_bytes));
    if (!created.ok()) return created.status();
    topic = std::move(created).value();
  }
  // Every start, not only right after the create: a crash between the two must not leave the
  // old directories to be wiped as strangers. Internal topics are never deleted, so a
  // directory without its topic_id file is never a half-deleted one.
  RETURN_IF_ERROR(adopt_partition_dirs(io, data_dir, *topic));
  return *topic;
}

GroupCoordinator::GroupCoordinator(const net::ShardSet& shards, CoordinatorOptions options)
    : shards_(shards), options_(std::move(options)) {}

GroupCoordinator::~GroupCoordinator() {
  // The shards have stopped (or never ran).
  locals_.clear();
}

std::unique_ptr<GroupCoordinator> GroupCoordinator::open(const net::ShardSet& shards,
                                                         PartitionManager* partitions,
                                                         const TopicInfo& offsets_topic,
                                                         CoordinatorOptions options) {
  ASSERT(offsets_topic.name == kOffsetsTopic && offsets_topic.partition_count >= 1);
  ASSERT(partitions != nullptr);
  options.config.offsets_topic_partition_count = offsets_topic.partition_count;
  std::unique_ptr<GroupCoordinator> coordinator(new GroupCoordinator(shards, std::move(options)));
  GroupCoordinator& c = *coordinator;
  for (uint32_t i = 0; i < shards.count(); ++i) {
    net::ShardId shard(i);
    c.locals_.push_back(
        std::make_unique<ShardCoordinator>(shard, shards.executor(shard), c.options_, partitions));
  }
  for (int32_t partition = 0; partition < c.partition_count(); ++partition) {
    c.locals_[c.shard_for_partition(partition).value()]->assign_partition(partition);
  }
  return coordinator;
}

void GroupCoordinator::start() {
  ASSERT(!started_);
  started_ = true;
  for (uint32_t i = 0; i < shards_.count(); ++i) {
    ShardCoordinator* local = locals_[i].get();
    asio::co_spawn(shards_.executor(net::ShardId(i)), local->load(), asio::detached);
  }
}

void GroupCoordinator::stop() {
  if (stopped_) return;
  stopped_ = true;
  if (!started_) {
    for (auto& local : locals_) local->stop();
    return;
  }
  std::vector<std::future<void>> done;
  for (uint32_t i = 0; i < shards_.count(); ++i) {
    auto promise = std::make_shared<std::promise<void>>();
    done.push_back(promise->get_future());
    ShardCoordinator* local = locals_[i].get();
    shards_.post(net::ShardId(i), [local, promise] {
      local->stop();
      promise->set_value();
    });
  }
  for (std::future<void>& f : done) f.wait();
}

net::ShardId GroupCoordinator::shard_for_partition(int32_t partition) const {
  return broker::shard_of(kOffsetsTopic, PartitionId(partition), shards_.count());
}

net::ShardId GroupCoordinator::shard_for(std::string_view group_id) const {
  return shard_for_partition(offsets_partition_for(group_id, partition_count()));
}

ShardCoordinator& GroupCoordinator::local(net::ShardId shard) const {
  ASSERT(shard.value() < locals_.size());
  ASSERT(net::ShardSet::current() == shard);
  return *locals_[shard.value()];
}

ShardCoordinator& GroupCoordinator::local() const {
  std::optional<net::ShardId> shard = net::ShardSet::current();
  ASSERT(shard.has_value());
  return local(*shard);
}

// ---------------------------------------------------------------------------------------------
// Operations, on the group's shard

asio::awaitable<JoinResult> join_group(const GroupCoordinator* coordinator, JoinRequest request) {
  ShardCoordinator& local = coordinator->local();
  ASSERT(coordinator->shard_for(request.group_id) == *net::ShardSet::current());
  JoinResult result = co_await net::await_callback<JoinResult>(
      [&local, &request](std::function<void(JoinResult)> done) {
        local.manager().join_group(std::move(request), local.now_ms(), std::move(done));
        local.rearm();
      });
  co_return result;
}

asio::awaitable<SyncResult> sync_group(const GroupCoordinator* coordinator, SyncRequest request) {
  ShardCoordinator& local = coordinator->local();
  SyncResult result = co_await net::await_callback<SyncResult>(
      [&local, &request](std::function<void(SyncResult)> done) {
        local.manager().sync_group(std::move(request), local.now_ms(), std::move(done));
        local.rearm();
      });
  co_return result;
}

asio::awaitable<ErrorCode> heartbeat(const GroupCoordinator* coordinator,
                                     HeartbeatRequest request) {
  ShardCoordinator& local = coordinator->local();
  ErrorCode error = local.manager().heartbeat(request, local.now_ms());
  local.rearm();
  co_return error;
}

asio::awaitable<LeaveResult> leave_group(const GroupCoordinator* coordinator, std::string group_id,
                                         std::vector<LeaveMember> leaving) {
  ShardCoordinator& local = coordinator->local();
  LeaveResult result = local.manager().leave_group(group_id, leaving, local.now_ms());
  local.rearm();
  co_return result;
}

namespace {

// Whether the request may commit: the group is loaded; a transactional commit comes from the
// producer whose open transaction holds the group's partition (AddOffsetsToTxn) and not from a
// fenced epoch; and the member checks (OffsetCommit always, TxnOffsetCommit v3).
ErrorCode commit_allowed(ShardCoordinator& local, const CommitRequest& request) {
  if (local.manager().is_loading(request.group_id)) return ErrorCode::coordinator_load_in_progress;
  if (request.producer.has_value()) {
    int32_t partition = local.partition_of(request.group_id);
    const InternalProducer& producer = *request.producer;
    if (local.producer_fenced(partition, producer.producer_id, producer.epoch)) {
      return ErrorCode::producer_fenced;
    }
    if (!local.in_transaction(partition, producer.producer_id, producer.epoch)) {
      return ErrorCode::invalid_txn_state;
    }
    if (request.generation_id < 0 && request.member_id.empty()) return ErrorCode::none;
  }
  return local.manager().check_offset_commit(request.group_id, request.generation_id,
                                             request.member_id, request.group_instance_id,
                                             local.now_ms(), request.api_version);
}

}  // namespace

asio::awaitable<std::vector<ErrorCode>> commit_offsets(const GroupCoordinator* coordinator,
                                                       CommitRequest request) {
  ShardCoordinator& local = coordinator->local();
  std::vector<ErrorCode> errors;
  for (const CommitPartition& p : request.partitions) errors.push_back(p.error);
  ErrorCode allowed = commit_allowed(local, request);
  local.rearm();
  if (allowed != ErrorCode::none) {
    std::fill(errors.begin(), errors.end(), allowed);
    co_return errors;
  }
  const int64_t now_ms = local.now_ms();
  std::vector<OffsetsRecord> records;
  std::vector<size_t> written;  // request index of each record
  std::vector<CommittedOffset> values;
  for (size_t i = 0; i < request.partitions.size(); ++i) {
    const CommitPartition& p = request.partitions[i];
    if (p.error != ErrorCode::none) continue;
    CommittedOffset committed;
    committed.offset = p.offset;
    committed.leader_epoch = p.leader_epoch;
    committed.metadata = p.metadata;
    committed.commit_timestamp_ms = now_ms;
    if (request.retention_time_ms > 0) {
      committed.expire_timestamp_ms = now_ms + request.retention_time_ms;
    }
    records.push_back(
        {encode_offset_commit_key(request.group_id, p.key), encode_offset_commit_value(committed)});
    written.push_back(i);
    values.push_back(std::move(committed));
  }
  if (records.empty()) co_return errors;
  int32_t partition = local.partition_of(request.group_id);
  // A transactional commit is pending from the moment it is in the log, as Kafka does: the
  // transaction's marker may land while the commit still waits for its fsync.
  std::function<void(Offset)> on_appended;
  if (request.producer.has_value()) {
    on_appended = [&](Offset base) {
      for (size_t n = 0; n < written.size(); ++n) {
        values[n].record_offset = Offset(base.value() + static_cast<int64_t>(n));
        local.manager().add_pending_txn_offset(partition, request.producer->producer_id,
                                               request.group_id, request.partitions[written[n]].key,
                                               values[n]);
      }
    };
  }
  Result<Offset> base = co_await local.append_durable(partition, std::move(records),
                                                      request.producer, std::move(on_appended));
  if (!base.ok()) {
    spdlog::warn("{}-{}: commit of group '{}' failed: {}", kOffsetsTopic, partition,
                 request.group_id, base.status().to_string());
    for (size_t i : written) errors[i] = ErrorCode::coordinator_not_available;
    co_return errors;
  }
  if (request.producer.has_value()) co_return errors;
  for (size_t n = 0; n < written.size(); ++n) {
    values[n].record_offset = Offset(base->value() + static_cast<int64_t>(n));
    local.manager().apply_offset_commit(request.group_id, request.partitions[written[n]].key,
                                        std::move(values[n]), now_ms);
  }
  local.rearm();
  co_return errors;
}

asio::awaitable<FetchResult> fetch_offsets(const GroupCoordinator* coordinator,
                                           std::string group_id,
                                           std::optional<std::vector<TopicPartitionKey>> keys,
                                           bool require_stable,
                                           std::optional<std::string> member_id,
                                           int32_t member_epoch) {
  ShardCoordinator& local = coordinator->local();
  FetchResult result;
  if (local.manager().is_loading(group_id)) {
    result.error = ErrorCode::coordinator_load_in_progress;
    co_return result;
  }
  result.error = local.manager().check_offset_fetch(group_id, member_id, member_epoch);
  if (result.error != ErrorCode::none) co_return result;
  const Group* group = local.manager().find_group(group_id);
  if (!keys.has_value()) {
    if (group != nullptr) {
      for (const auto& [key, committed] : group->offsets)
        result.offsets.push_back({key, committed});
    }
    co_return result;
  }
  for (TopicPartitionKey& key : *keys) {
    FetchedOffset fetched{std::move(key), std::nullopt};
    if (group != nullptr) {
      auto it = group->offsets.find(fetched.key);
      if (it != group->offsets.end()) fetched.committed = it->second;
    }
    if (require_stable && local.manager().has_pending_txn_offset(group_id, fetched.key)) {
      fetched.error = ErrorCode::unstable_offset_commit;
      fetched.committed = std::nullopt;  // offset -1, as Kafka answers with the error
    }
    result.offsets.push_back(std::move(fetched));
  }
  co_return result;
}

void complete_txn_offsets(const GroupCoordinator* coordinator, int32_t partition,
                          ProducerId producer_id, bool commit) {
  ShardCoordinator& local = coordinator->local(coordinator->shard_for_partition(partition));
  local.manager().complete_txn_offsets(partition, producer_id, commit, local.now_ms());
}

asio::awaitable<GroupSummary> describe_group(const GroupCoordinator* coordinator,
                                             std::string group_id) {
  ShardCoordinator& local = coordinator->local();
  GroupSummary summary;
  summary.group_id = group_id;
  if (local.manager().is_loading(group_id)) {
    summary.error = ErrorCode::coordinator_load_in_progress;
    co_return summary;
  }
  const Group* group = local.manager().find_group(group_id);
  if (group == nullptr) {
    summary.state = group_state_name(GroupState::dead);
    co_return summary;
  }
  if (group->is_consumer_protocol()) co_return classic_summary_of_consumer_group(*group);
  summary.state = group_state_name(group->state);
  summary.protocol_type = group->protocol_type;
  const bool stable = group->is(GroupState::stable) && group->protocol_name.has_value();
  if (stable) summary.protocol_name = *group->protocol_name;
  for (const auto& [id, member] : group->members) {
    MemberSummary m{id, member.group_instance_id, member.client_id, member.client_host, {}, {}};
    if (stable) {
      m.metadata = member.metadata_for(*group->protocol_name);
      m.assignment = member.assignment;
    }
    summary.members.push_back(std::move(m));
  }
  co_return summary;
}

asio::awaitable<ErrorCode> delete_group(const GroupCoordinator* coordinator, std::string group_id) {
  ShardCoordinator& local = coordinator->local();
  std::vector<TopicPartitionKey> keys;
  ErrorCode error = local.manager().delete_group(group_id, &keys);
  local.rearm();
  if (error != ErrorCode::none) co_return error;
  std::vector<OffsetsRecord> tombstones;
  for (const TopicPartitionKey& key : keys) {
    tombstones.push_back({encode_offset_commit_key(group_id, key), std::nullopt});
  }
  tombstones.push_back({encode_group_metadata_key(group_id), std::nullopt});
  // A consumer group's records (KIP-848) go too.
  ShardCoordinator::ConsumerChanges consumer = local.consumer_group_changes(group_id, nullptr);
  tombstones.insert(tombstones.end(), consumer.records.begin(), consumer.records.end());
  auto appended = [&local, &group_id, &tombstones](Offset base) {
    Offset last(base.value() + static_cast<int64_t>(tombstones.size()) - 1);
    local.consumer_changes_appended(group_id, {}, last);
  };
  Result<Offset> written = co_await local.append_durable(local.partition_of(group_id), tombstones,
                                                         std::nullopt, appended);
  co_return written.ok() ? ErrorCode::none : ErrorCode::coordinator_not_available;
}

asio::awaitable<OffsetDeleteResult> delete_offsets(const GroupCoordinator* coordinator,
                                                   std::string group_id,
                                                   std::vector<TopicPartitionKey> keys) {
  ShardCoordinator& local = coordinator->local();
  OffsetDeleteResult result = local.manager().delete_offsets(group_id, keys);
  if (result.error != ErrorCode::none || result.deleted.empty()) co_return result;
  std::vector<OffsetsRecord> tombstones;
  for (const TopicPartitionKey& key : result.deleted) {
    tombstones.push_back({encode_offset_commit_key(group_id, key), std::nullopt});
  }
  Result<Offset> written =
      co_await local.append_durable(local.partition_of(group_id), std::move(tombstones));
  if (!written.ok()) result.error = ErrorCode::coordinator_not_available;
  co_return result;
}

namespace {

asio::awaitable<void> forget_topic_here(const GroupCoordinator* coordinator, std::string topic) {
  ShardCoordinator& local = coordinator->local();
  std::map<int32_t, std::vector<OffsetsRecord>> tombstones;
  for (GroupManager::Expired& deleted : local.manager().delete_topic_offsets(topic)) {
    std::vector<OffsetsRecord>& records = tombstones[local.partition_of(deleted.group_id)];
    for (const TopicPartitionKey& key : deleted.keys) {
      records.push_back({encode_offset_commit_key(deleted.group_id, key), std::nullopt});
    }
  }
  for (auto& [partition, records] : tombstones) {
    Result<Offset> written = co_await local.append_durable(partition, std::move(records));
    if (!written.ok()) {
      spdlog::warn("{}-{}: forgetting topic '{}': {}", kOffsetsTopic, partition, topic,
                   written.status().to_string());
    }
  }
}

}  // namespace

asio::awaitable<void> forget_topic(const GroupCoordinator* coordinator, std::string topic) {
  for (uint32_t i = 0; i < coordinator->shard_count(); ++i) {
    co_await coordinator->shards().run_on(net::ShardId(i), forget_topic_here(coordinator, topic));
  }
}

asio::awaitable<ListResult> list_local_groups(const GroupCoordinator* coordinator) {
  ShardCoordinator& local = coordinator->local();
  ListResult result;
  if (local.manager().any_loading()) result.error = ErrorCode::coordinator_load_in_progress;
  local.manager().for_each_group([&result](const Group& group) {
    if (group.is_consumer_protocol()) {
      result.groups.push_back(
          {group.group_id, group.protocol_type, group.consumer->state_name(), "consumer"});
    } else {
      result.groups.push_back(
          {group.group_id, group.protocol_type, group_state_name(group.state), "classic"});
    }
  });
  co_return result;
}

}  // namespace cairn::broker::groups
