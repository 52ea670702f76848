#include "broker/partitions/partition_manager.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <system_error>

#include "base/assert.h"
#include "base/open_files.h"
#include "broker/meta_file.h"
#include "broker/partitions/compaction.h"
#include "broker/partitions/log_await.h"
#include "broker/partitions/producer_recovery.h"
#include "broker/partitions/transactions.h"
#include "broker/shard_map.h"
#include "storage/io.h"

namespace cairn::broker {
namespace {

constexpr const char* kTopicIdFile = "topic_id";
constexpr size_t kTopicIdFileBytesMax = 64;

std::string hex_of(const protocol::Uuid& id) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(id.size() * 2);
  for (uint8_t byte : id) {
    out.push_back(kDigits[byte >> 4]);
    out.push_back(kDigits[byte & 0xf]);
  }
  return out;
}

// Makes `dir` the home of `topic_id`: an existing directory of another incarnation of the
// topic (or of none: a crash between creating it and writing its id) is wiped first. Wiping
// and deleting remove the topic_id file last, so a crash midway leaves a directory that still
// names its old incarnation (wiped again on the next open), never an id-less one with records.
Status prepare_partition_dir(storage::Io& io, const std::filesystem::path& data_dir,
                             const std::filesystem::path& dir, const std::string& topic_id) {
  Result<std::optional<std::string>> stored =
      read_meta_file(io, dir / kTopicIdFile, kTopicIdFileBytesMax);
  // Only a readable answer may wipe: an unreadable topic_id (EIO, EMFILE, a file too large)
  // keeps the records, and the partition reports the error.
  if (!stored.ok()) return stored.status();
  if (stored->has_value() && **stored == topic_id + "\n") return Status();
  Result<bool> present = io.exists(dir.string());
  if (!present.ok()) return present.status();
  if (*present) {
    spdlog::warn("{}: belongs to another incarnation of the topic; wiping it", dir.string());
    RETURN_IF_ERROR(remove_flat_dir(io, dir, kTopicIdFile));
  }
  // write_meta_file creates `dir`, writes the id durably and syncs `dir`; the new directory's
  // own entry in the data directory needs a sync of the data directory.
  RETURN_IF_ERROR(write_meta_file(io, dir / kTopicIdFile, topic_id + "\n"));
  return io.sync_dir(data_dir.string());
}

}  // namespace

Status adopt_partition_dirs(storage::Io& io, const std::filesystem::path& data_dir,
                            const TopicInfo& topic) {
  bool adopted = false;
  for (int32_t p = 0; p < topic.partition_count; p++) {
    std::filesystem::path dir = data_dir / (topic.name + "-" + std::to_string(p));
    Result<bool> present = io.exists(dir.string());
    if (!present.ok()) return present.status();
    if (!*present) continue;
    Result<std::optional<std::string>> stored =
        read_meta_file(io, dir / kTopicIdFile, kTopicIdFileBytesMax);
    if (!stored.ok()) return stored.status();
    if (stored->has_value()) continue;
    spdlog::info("{}: adopting it as partition {} of {}", dir.string(), p, topic.name);
    RETURN_IF_ERROR(write_meta_file(io, dir / kTopicIdFile, hex_of(topic.topic_id) + "\n"));
    adopted = true;
  }
  if (!adopted) return Status();
  return io.sync_dir(data_dir.string());
}

struct PartitionManager::ShardPartitions {
  // topic -> partition index -> partition (null for partitions other shards own).
  std::map<std::string, std::vector<std::shared_ptr<Partition>>, std::less<>> topics;
  asio::steady_timer* retention_timer = nullptr;  // set while the retention loop waits
  asio::steady_timer* cleaner_timer = nullptr;    // set while the cleaner loop waits
  CleanerShardStats retired_cleaner;  // cleaner totals of the logs retired on this shard

  Partition* lookup(std::string_view topic, PartitionId partition) const {
    auto it = topics.find(topic);
    if (it == topics.end()) return nullptr;
    auto index = static_cast<size_t>(partition.value());
    if (partition.value() < 0 || index >= it->second.size()) return nullptr;
    return it->second[index].get();
  }
  void insert(std::shared_ptr<Partition> partition) {
    auto& slots = topics[partition->topic];
    auto index = static_cast<size_t>(partition->id.value());
    if (slots.size() <= index) slots.resize(index + 1);
    slots[index] = std::move(partition);
  }
};

PartitionManager::PartitionManager(PartitionManagerOptions options)
    : options_(std::move(options)),
      clock_(options_.clock != nullptr ? options_.clock : &storage::system_clock()),
      io_(options_.io != nullptr ? options_.io : &storage::posix_io()) {
  ASSERT(options_.shards != nullptr);
  ASSERT(options_.resolver != nullptr);
  started_ms_ = clock_->now_ms();
  for (uint32_t i = 0; i < options_.shards->count(); i++) {
    shards_.push_back(std::make_unique<ShardPartitions>());
  }
}

PartitionManager::~PartitionManager() = default;

Result<std::unique_ptr<PartitionManager>> PartitionManager::open(PartitionManagerOptions options,
                                                                 const TopicTable& topics) {
  std::unique_ptr<PartitionManager> manager(new PartitionManager(std::move(options)));
  RETURN_IF_ERROR(manager->io_->make_dirs(manager->options_.data_dir.string()));
  // Logs are opened while open files remain for the reserve; past that a partition stays
  // unopened with an error, so the broker still starts and serves the others. The count of
  // descriptors in use is estimated per log (its segments) and read again now and then.
  const uint64_t limit = open_files::limit();
  uint64_t in_use = open_files::in_use();
  size_t opened = 0, skipped = 0;
  for (const auto& [name, topic] : topics.topics()) {
    Result<PartitionConfig> config = manager->resolve(topic);
    if (!config.ok()) {
      spdlog::warn("topic {}: {}; using Kafka's defaults", name, config.status().message());
      config = PartitionConfig();
    }
    for (int32_t p = 0; p < topic.partition_count; p++) {
      PartitionId id(p);
      std::shared_ptr<Partition> partition;
      if (in_use + kFilesPerSegment + manager->options_.open_files_reserve > limit) {
        partition = manager->unopened_partition(topic, id, *config, in_use, limit);
        skipped++;
      } else {
        partition = manager->open_partition(topic, id, *config);
        if (partition->log != nullptr) {
          in_use += kFilesPerSegment * partition->log->segment_bases().size();
        }
        if (++opened % 256 == 0) in_use = open_files::in_use();
      }
      manager->shard_state(manager->shard_of(name, id)).insert(std::move(partition));
    }
  }
  spdlog::info("opened {} partition(s) of {} topic(s)", opened, topics.topics().size());
  if (skipped > 0) {
    spdlog::error(
        "{} partition(s) not opened: {} of the open files limit of {} are in use "
        "(raise it: ulimit -n, systemd LimitNOFILE=)",
        skipped, in_use, limit);
  }
  return manager;
}

std::shared_ptr<Partition> PartitionManager::unopened_partition(const TopicInfo& topic,
                                                                PartitionId partition,
                                                                const PartitionConfig& config,
                                                                uint64_t in_use, uint64_t limit) {
  auto result = std::make_shared<Partition>();
  result->topic = topic.name;
  result->id = partition;
  result->topic_id = topic.topic_id;
  result->config = config;
  result->open_error = error(StatusCode::io_error, "not opened: " + std::to_string(in_use) +
                                                       " of the open files limit of " +
                                                       std::to_string(limit) + " in use");
  return result;
}

Status PartitionManager::admit_partitions(const TopicTable& topics, int64_t added) const {
  if (added <= 0) return Status();
  uint64_t hosted = 0;
  for (const auto& [name, topic] : topics.topics()) hosted += uint64_t(topic.partition_count);
  const uint64_t wanted = uint64_t(added);
  const uint64_t ceiling = options_.max_partitions_per_shard * shards_.size();
  if (ceiling > 0 && hosted + wanted > ceiling) {
    return error(StatusCode::too_large,
                 "Cannot create " + std::to_string(wanted) + " partition(s): the broker hosts " +
                     std::to_string(hosted) + " and its limit is " + std::to_string(ceiling) +
                     " (--max-partitions-per-shard times the shards)");
  }
  const uint64_t limit = open_files::limit();
  const uint64_t in_use = open_files::in_use();
  const uint64_t needed = wanted * kFilesPerSegment + options_.open_files_reserve;
  if (in_use + needed > limit) {
    return error(StatusCode::too_large,
                 "Cannot create " + std::to_string(wanted) + " partition(s): they need " +
                     std::to_string(wanted * kFilesPerSegment) + " open files, " +
                     std::to_string(in_use) + " of the broker's limit of " + std::to_string(limit) +
                     " are in use and " + std::to_string(options_.open_files_reserve) +
                     " are kept for connections (raise the open files limit: ulimit -n, "
                     "systemd LimitNOFILE=)");
  }
  return Status();
}

std::shared_ptr<Partition> PartitionManager::open_partition(const TopicInfo& topic,
                                                            PartitionId partition,
                                                            const PartitionConfig& config) {
  auto result = std::make_shared<Partition>();
  result->topic = topic.name;
  result->id = partition;
  result->topic_id = topic.topic_id;
  result->config = config;
  std::filesystem::path dir = partition_dir(topic.name, partition);
  Status prepared = prepare_partition_dir(*io_, options_.data_dir, dir, hex_of(topic.topic_id));
  if (!prepared.ok()) {
    spdlog::error("{}: {}", dir.string(), prepared.to_string());
    result->open_error = prepared;
    return result;
  }
  storage::LogOptions log_options;
  log_options.dir = dir.string();
  log_options.config = config.log;
  log_options.clock = clock_;
  log_options.flusher = options_.flusher;
  log_options.io = io_;
  Result<std::unique_ptr<storage::Log>> log = storage::Log::open(std::move(log_options));
  if (!log.ok()) {
    spdlog::error("{}: cannot open the log: {}", dir.string(), log.status().to_string());
    result->open_error = log.status();
    return result;
  }
  result->log = std::move(log).value();
  if (!result->log->health().ok()) {
    spdlog::error("{}: log fenced: {}", dir.string(), result->log->health().to_string());
    return result;
  }
  Status rebuilt = rebuild_producer_state(*io_, *result);
  if (!rebuilt.ok()) {
    spdlog::error("{}: producer state rebuild failed: {}", dir.string(), rebuilt.to_string());
  }
  return result;
}

void PartitionManager::start() {
  for (uint32_t i = 0; i < options_.shards->count(); i++) {
    asio::co_spawn(options_.shards->executor(net::ShardId(i)),
                   retention_loop(this, net::ShardId(i)), asio::detached);
    if (!options_.cleaner_enabled) continue;  // log.cleaner.enable=false
    asio::co_spawn(options_.shards->executor(net::ShardId(i)), cleaner_loop(this, net::ShardId(i)),
                   asio::detached);
  }
}

void PartitionManager::stop() {
  stopping_.store(true);
  for (uint32_t i = 0; i < options_.shards->count(); i++) {
    ShardPartitions* state = shards_[i].get();
    options_.shards->post(net::ShardId(i), [state] {
      if (state->retention_timer != nullptr) state->retention_timer->cancel();
      if (state->cleaner_timer != nullptr) state->cleaner_timer->cancel();
      for (auto& [name, partitions] : state->topics) {
        for (auto& partition : partitions) {
          if (partition != nullptr) partition->notify_waiters();
        }
      }
    });
  }
}

Status PartitionManager::close() {
  if (closed_) return Status();
  closed_ = true;
  Status first;
  size_t closed = 0;
  for (auto& state : shards_) {
    for (auto& [name, partitions] : state->topics) {
      for (auto& partition : partitions) {
        if (partition == nullptr || !partition->usable()) continue;
        storage::Log& log = *partition->log;
        Status status = log.close();
        if (status.ok()) status = save_producer_snapshot(*io_, *partition);
        if (!status.ok()) {
          spdlog::error("{}: close: {}", log.dir(), status.to_string());
          if (first.ok()) first = status;
        }
        partition->log.reset();
        closed++;
      }
    }
    state->topics.clear();
  }
  spdlog::info("closed {} partition log(s)", closed);
  return first;
}

asio::awaitable<Result<TopicInfo>> PartitionManager::create_topic(TopicRegistry* registry,
                                                                  std::string name,
                                                                  int32_t partition_count,
                                                                  TopicConfigs configs) {
  TopicInfo proposed;
  proposed.name = name;
  proposed.partition_count = partition_count;
  proposed.configs = configs;
  Result<PartitionConfig> config = resolve(proposed);
  if (!config.ok()) co_return config.status();
  Status admitted = admit_partitions(*registry->snapshot(), partition_count);
  if (!admitted.ok()) co_return admitted;
  Result<TopicInfo> topic = co_await options_.meta_writer->run(
      [&] { return registry->create(std::move(name), partition_count, std::move(configs)); });
  if (!topic.ok()) co_return topic.status();
  Status created = co_await create_partitions(*topic, 0);
  if (!created.ok()) co_return created;
  co_return topic;
}

// Per shard: reserve the missing partitions (a hop: placeholders that say "being created", and
// an older incarnation still installed there is retired first), open them on the MetaWriter
// (directory, topic_id file and first segment, all fsynced there), then install them in place
// of their placeholders (a hop). A concurrent creation of the same partition finds the
// placeholder and leaves it alone; a deletion meanwhile retires the placeholder, and the
// opened partition is then dropped and its directory removed.
asio::awaitable<Status> PartitionManager::create_partitions(TopicInfo topic,
                                                            int32_t first_partition) {
  ASSERT(first_partition >= 0);
  std::vector<std::vector<int32_t>> per_shard(shards_.size());
  for (int32_t p = first_partition; p < topic.partition_count; p++) {
    per_shard[shard_of(topic.name, PartitionId(p)).value()].push_back(p);
  }
  Result<PartitionConfig> resolved = resolve(topic);
  PartitionConfig config = resolved.ok() ? *resolved : PartitionConfig();
  Status first;
  for (uint32_t i = 0; i < per_shard.size(); i++) {
    if (per_shard[i].empty()) continue;
    net::ShardId shard(i);
    std::vector<int32_t> reserved = co_await options_.shards->run_on(
        shard, reserve_on_shard(this, topic, std::move(per_shard[i])));
    if (reserved.empty()) continue;
    std::vector<std::shared_ptr<Partition>> opened =
        co_await options_.meta_writer->run([this, &topic, &reserved, &config] {
          std::vector<std::shared_ptr<Partition>> out;
          for (int32_t p : reserved) out.push_back(open_partition(topic, PartitionId(p), config));
          return out;
        });
    InstallResult installed =
        co_await options_.shards->run_on(shard, install_on_shard(this, std::move(opened)));
    if (!installed.status.ok() && first.ok()) first = installed.status;
    if (!installed.orphaned.empty()) {
      co_await remove_incarnation_dirs(std::move(installed.orphaned), topic.topic_id);
    }
  }
  co_return first;
}

asio::awaitable<std::vector<int32_t>> PartitionManager::reserve_on_shard(
    PartitionManager* self, TopicInfo topic, std::vector<int32_t> partitions) {
  ShardPartitions& state = self->local();
  std::vector<int32_t> reserved;
  for (int32_t p : partitions) {
    Partition* existing = state.lookup(topic.name, PartitionId(p));
    if (existing != nullptr && existing->topic_id == topic.topic_id) continue;
    if (existing != nullptr) self->retire(*existing);  // an older incarnation never deleted here
    auto placeholder = std::make_shared<Partition>();
    placeholder->topic = topic.name;
    placeholder->id = PartitionId(p);
    placeholder->topic_id = topic.topic_id;
    placeholder->being_created = true;
    placeholder->open_error = error(StatusCode::not_found, "partition is being created");
    state.insert(std::move(placeholder));
    reserved.push_back(p);
  }
  co_return reserved;
}

asio::awaitable<PartitionManager::InstallResult> PartitionManager::install_on_shard(
    PartitionManager* self, std::vector<std::shared_ptr<Partition>> partitions) {
  ShardPartitions& state = self->local();
  InstallResult result;
  for (std::shared_ptr<Partition>& partition : partitions) {
    Partition* slot = state.lookup(partition->topic, partition->id);
    if (slot == nullptr || !slot->being_created || slot->topic_id != partition->topic_id) {
      // Deleted (or replaced) while its log was being opened.
      result.orphaned.push_back(self->partition_dir(partition->topic, partition->id));
      continue;
    }
    slot->notify_waiters();
    Status health = partition->health();
    if (!health.ok() && result.status.ok()) result.status = health;
    state.insert(std::move(partition));
  }
  co_return result;
}

asio::awaitable<Status> PartitionManager::delete_topic(std::string topic, protocol::Uuid topic_id) {
  std::vector<std::filesystem::path> dirs;
  for (uint32_t i = 0; i < shards_.size(); i++) {
    std::vector<std::filesystem::path> retired =
        co_await options_.shards->run_on(net::ShardId(i), delete_on_shard(this, topic, topic_id));
    dirs.insert(dirs.end(), retired.begin(), retired.end());
  }
  co_return co_await remove_incarnation_dirs(std::move(dirs), topic_id);
}

asio::awaitable<Status> PartitionManager::remove_incarnation_dirs(
    std::vector<std::filesystem::path> dirs, protocol::Uuid topic_id) {
  if (dirs.empty()) co_return Status();
  const std::string expected = hex_of(topic_id) + "\n";
  co_return co_await options_.meta_writer->run([this, &dirs, &expected] {
    Status first;
    for (const std::filesystem::path& dir : dirs) {
      // A new incarnation of the name may own the directory by now: leave it alone.
      Result<std::optional<std::string>> stored =
          read_meta_file(*io_, dir / kTopicIdFile, kTopicIdFileBytesMax);
      if (!stored.ok() || !stored->has_value() || **stored != expected) continue;
      Status removed = remove_flat_dir(*io_, dir, kTopicIdFile);
      if (!removed.ok() && first.ok()) first = removed;
    }
    return first;
  });
}

void PartitionManager::retire(Partition& partition) {
  if (partition.log != nullptr) add_totals(local().retired_cleaner, partition.log->cleaner_stats());
  partition.deleted = true;
  partition.log.reset();  // like a crash: waiters for durability get shutting_down
  partition.notify_waiters();
}

asio::awaitable<std::vector<std::filesystem::path>> PartitionManager::delete_on_shard(
    PartitionManager* self, std::string topic, protocol::Uuid topic_id) {
  ShardPartitions& state = self->local();
  std::vector<std::filesystem::path> dirs;
  auto it = state.topics.find(topic);
  if (it == state.topics.end()) co_return dirs;
  bool any_left = false;
  for (auto& partition : it->second) {
    if (partition == nullptr) continue;
    if (partition->topic_id != topic_id) {  // a newer incarnation of the name
      any_left = true;
      continue;
    }
    self->retire(*partition);
    dirs.push_back(self->partition_dir(partition->topic, partition->id));
    partition.reset();
  }
  if (!any_left) state.topics.erase(it);
  co_return dirs;
}

asio::awaitable<Status> PartitionManager::apply_config(TopicInfo topic) {
  Result<PartitionConfig> config = resolve(topic);
  if (!config.ok()) co_return config.status();
  Status first;
  for (uint32_t i = 0; i < shards_.size(); i++) {
    Status status = co_await options_.shards->run_on(net::ShardId(i),
                                                     config_on_shard(this, topic.name, *config));
    if (!status.ok() && first.ok()) first = status;
  }
  co_return first;
}

asio::awaitable<Status> PartitionManager::config_on_shard(PartitionManager* self, std::string topic,
                                                          PartitionConfig config) {
  ShardPartitions& state = self->local();
  auto it = state.topics.find(topic);
  if (it == state.topics.end()) co_return Status();
  Status first;
  for (auto& partition : it->second) {
    if (partition == nullptr) continue;
    partition->config = config;
    if (!partition->usable()) continue;
    Status status = partition->log->set_config(config.log);
    if (!status.ok() && first.ok()) first = status;
  }
  co_return first;
}

asio::awaitable<Result<Offset>> PartitionManager::delete_records(std::string topic,
                                                                 PartitionId partition,
                                                                 Offset offset) {
  net::ShardId owner = shard_of(topic, partition);
  HopResult<Offset> result = co_await options_.shards->run_on(
      owner, delete_records_on_shard(this, std::move(topic), partition, offset));
  if (!result.status.ok()) co_return result.status;
  co_return result.value;
}

asio::awaitable<PartitionManager::HopResult<Offset>> PartitionManager::delete_records_on_shard(
    PartitionManager* self, std::string topic, PartitionId id, Offset offset) {
  std::shared_ptr<Partition> partition = self->find(topic, id);
  if (partition == nullptr)
    co_return HopResult<Offset>{error(StatusCode::not_found, "no such partition")};
  Status health = partition->health();
  if (!health.ok()) co_return HopResult<Offset>{health};
  Offset high_watermark = partition->high_watermark();
  Offset target = offset.value() == -1 ? high_watermark : offset;
  if (target.value() < 0 || target > high_watermark) {
    co_return HopResult<Offset>{
        error(StatusCode::out_of_range, "offset " + std::to_string(offset.value()) +
                                            " past the high watermark " +
                                            std::to_string(high_watermark.value()))};
  }
  storage::Log& log = *partition->log;
  if (target > log.log_start_offset()) {
    Status deleted = log.delete_prefix(target);
    if (!deleted.ok()) co_return HopResult<Offset>{deleted};
    self->forget_deleted_segments(*partition);
    Status durable = co_await await_flushed(log);
    if (!durable.ok()) co_return HopResult<Offset>{durable};
    if (!partition->usable()) {
      co_return HopResult<Offset>{error(StatusCode::not_found, "partition deleted")};
    }
  }
  co_return HopResult<Offset>{Status(), partition->log->log_start_offset()};
}

asio::awaitable<Result<PartitionOffsets>> PartitionManager::offsets(std::string topic,
                                                                    PartitionId partition) {
  net::ShardId owner = shard_of(topic, partition);
  HopResult<PartitionOffsets> result =
      co_await options_.shards->run_on(owner, offsets_on_shard(this, std::move(topic), partition));
  if (!result.status.ok()) co_return result.status;
  co_return result.value;
}

asio::awaitable<PartitionManager::HopResult<PartitionOffsets>> PartitionManager::offsets_on_shard(
    PartitionManager* self, std::string topic, PartitionId id) {
  std::shared_ptr<Partition> partition = self->find(topic, id);
  if (partition == nullptr) {
    co_return HopResult<PartitionOffsets>{error(StatusCode::not_found, "no such partition")};
  }
  Status health = partition->health();
  if (!health.ok()) co_return HopResult<PartitionOffsets>{health};
  co_return HopResult<PartitionOffsets>{
      Status(), PartitionOffsets{partition->log->log_start_offset(), partition->high_watermark(),
                                 partition->last_stable_offset()}};
}

asio::awaitable<void> PartitionManager::retention_loop(PartitionManager* self, net::ShardId shard) {
  ShardPartitions& state = self->shard_state(shard);
  asio::steady_timer timer(co_await asio::this_coro::executor);
  while (!self->stopping_.load()) {
    timer.expires_after(self->options_.retention_check_interval);
    state.retention_timer = &timer;
    asio::error_code ignored;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
    state.retention_timer = nullptr;
    if (self->stopping_.load()) break;
    // Collected first: the topic map may change while an index write is awaited.
    std::vector<std::shared_ptr<Partition>> live;
    for (auto& [name, partitions] : state.topics) {
      for (auto& partition : partitions) {
        if (partition != nullptr && partition->usable()) live.push_back(partition);
      }
    }
    for (auto& partition : live) {
      if (!partition->usable()) continue;
      Result<size_t> deleted = partition->log->apply_retention();
      if (!deleted.ok()) {
        spdlog::warn("{}: retention: {}", partition->log->dir(), deleted.status().to_string());
      } else if (*deleted > 0) {
        self->forget_deleted_segments(*partition);
      }
      co_await index_after_roll(self, partition);
    }
  }
}

void PartitionManager::forget_deleted_segments(Partition& partition) {
  storage::Log& log = *partition.log;
  partition.producers.forget_below(log.log_start_offset());
  Status removed = partition.txn_index.remove_below(log.segment_bases().front());
  if (!removed.ok()) spdlog::warn("{}: txnindex: {}", log.dir(), removed.to_string());
}

// After a roll: the sealed segments' aborted transactions go to their index files and the
// producer snapshot follows (producer_recovery.h), written on the MetaWriter. A failure is
// logged and the work planned again at the next check; the last good snapshot (or the log)
// still serves recovery.
asio::awaitable<void> PartitionManager::index_after_roll(PartitionManager* self,
                                                         std::shared_ptr<Partition> partition) {
  std::optional<IndexWork> work = plan_index_work(*partition);
  if (!work.has_value()) co_return;
  partition->txn_index.busy = true;
  storage::Io& io = *self->io_;
  Status written =
      co_await self->options_.meta_writer->run([&] { return do_index_work(io, *work); });
  partition->txn_index.busy = false;
  if (!written.ok()) {
    spdlog::warn("{}: producer snapshot: {}", work->dir, written.to_string());
    co_return;
  }
  finish_index_work(*partition, *work);
}

// After a cleaner run: the index files that list a marker the run dropped are rewritten
// without it (on the MetaWriter); until then their entries are filtered out (txn_index.h).
asio::awaitable<void> PartitionManager::rewrite_txn_index(PartitionManager* self,
                                                          std::shared_ptr<Partition> partition) {
  Result<TxnIndexRewrite> rewrite = partition->txn_index.begin_rewrite();
  if (rewrite.ok() && rewrite->markers.empty()) co_return;
  Status written = rewrite.status();
  if (written.ok()) {
    partition->txn_index.busy = true;
    storage::Io& io = *self->io_;
    std::string dir = partition->log->dir();
    written = co_await self->options_.meta_writer->run(
        [&] { return write_txn_index_files(io, dir, rewrite->files); });
    partition->txn_index.busy = false;
  }
  if (!written.ok()) {
    spdlog::warn("{}: txnindex rewrite: {}", partition->log->dir(), written.to_string());
    co_return;
  }
  if (partition->usable()) partition->txn_index.rewritten(*rewrite);
}

// Compaction (docs/compaction.md): every cleaner_check_interval, each compacted log of this
// shard gets a run if its dirty ratio or max.compaction.lag.ms asks for one — user topics,
// __consumer_offsets and __transaction_state alike (their coordinators replay the latest
// record per key, which is what the cleaner keeps).
asio::awaitable<void> PartitionManager::cleaner_loop(PartitionManager* self, net::ShardId shard) {
  ShardPartitions& state = self->shard_state(shard);
  asio::steady_timer timer(co_await asio::this_coro::executor);
  while (!self->stopping_.load()) {
    timer.expires_after(self->options_.cleaner_check_interval);
    state.cleaner_timer = &timer;
    asio::error_code ignored;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
    state.cleaner_timer = nullptr;
    if (self->stopping_.load()) break;
    // Collected first: the topic map may change while a run yields.
    std::vector<std::shared_ptr<Partition>> compacted;
    for (auto& [name, partitions] : state.topics) {
      for (auto& partition : partitions) {
        if (partition != nullptr && partition->usable() &&
            partition->log->config().cleanup_compact) {
          compacted.push_back(partition);
        }
      }
    }
    for (auto& partition : compacted) co_await clean_partition(self, shard, partition);
  }
}

asio::awaitable<void> PartitionManager::clean_partition(PartitionManager* self, net::ShardId shard,
                                                        std::shared_ptr<Partition> partition) {
  if (partition->txn_index.busy) co_return;  // its index files are being written: next time
  co_await run_clean(self, shard, partition);
  if (partition->usable()) co_await rewrite_txn_index(self, partition);
}

asio::awaitable<void> PartitionManager::run_clean(PartitionManager* self, net::ShardId shard,
                                                  std::shared_ptr<Partition> partition) {
  ShardPartitions& state = self->shard_state(shard);
  storage::Log& log = *partition->log;
  Result<storage::CleanOptions> options =
      partition_clean_options(*partition, self->options_.cleaner_key_map_bytes);
  if (!options.ok()) {
    spdlog::warn("{}: compaction: {}", log.dir(), options.status().to_string());
    co_return;
  }
  Result<bool> started = log.start_clean(*options);
  if (!started.ok()) {
    spdlog::warn("{}: compaction: {}", log.dir(), started.status().to_string());
    co_return;
  }
  if (!*started) co_return;
  uint64_t step_bytes = self->options_.cleaner_step_bytes;
  uint64_t rate = self->options_.cleaner_bytes_per_second;
  asio::steady_timer timer(co_await asio::this_coro::executor);
  while (true) {
    const storage::CleanerStats& stats = partition->log->cleaner_stats();
    uint64_t io_before = stats.bytes_read + stats.bytes_written;
    Result<bool> more = partition->log->clean_step(step_bytes);
    if (!more.ok()) {
      spdlog::warn("{}: compaction: {}", partition->log->dir(), more.status().to_string());
      co_return;
    }
    if (!*more) break;
    // Yield to the event loop between steps, and throttle: the step's reads and writes at
    // `rate` would have taken this long. stop() cancels the wait.
    uint64_t io_bytes = stats.bytes_read + stats.bytes_written - io_before;
    timer.expires_after(rate == 0 ? std::chrono::microseconds(0)
                                  : std::chrono::microseconds(io_bytes * 1'000'000 / rate));
    state.cleaner_timer = &timer;
    asio::error_code ignored;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
    state.cleaner_timer = nullptr;
    if (self->stopping_.load() || !partition->usable()) {
      if (partition->usable()) partition->log->abort_clean();
      co_return;
    }
  }
  const storage::CleanerStats& stats = partition->log->cleaner_stats();
  spdlog::info("{}: compacted up to offset {} ({} records removed so far)", partition->log->dir(),
               stats.clean_point.value(), stats.records_removed);
}

std::shared_ptr<Partition> PartitionManager::find(std::string_view topic,
                                                  PartitionId partition) const {
  if (partition.value() < 0) return nullptr;
  ASSERT(net::ShardSet::current() == shard_of(topic, partition));
  ShardPartitions& state = local();
  auto it = state.topics.find(topic);
  if (it == state.topics.end()) return nullptr;
  if (partition.value() < 0 || static_cast<size_t>(partition.value()) >= it->second.size()) {
    return nullptr;
  }
  return it->second[static_cast<size_t>(partition.value())];
}

CleanerShardStats PartitionManager::cleaner_stats() const {
  ShardPartitions& state = local();
  CleanerShardStats stats = state.retired_cleaner;
  int64_t now_ms = clock_->now_ms();
  for (const auto& [name, partitions] : state.topics) {
    for (const auto& partition : partitions) {
      if (partition == nullptr || !partition->usable()) continue;
      const storage::Log& log = *partition->log;
      add_log(stats, log.cleaner_stats(), log.config(), now_ms);
    }
  }
  return stats;
}

std::vector<PartitionSample> PartitionManager::partition_samples() const {
  ShardPartitions& state = local();
  std::vector<PartitionSample> samples;
  for (const auto& [name, partitions] : state.topics) {
    for (const auto& partition : partitions) {
      if (partition == nullptr || !partition->usable()) continue;
      storage::LogInfo info = partition->log->info();
      samples.push_back(PartitionSample{name, partition->id, info.size_bytes, info.segment_count,
                                        partition->log->log_start_offset(),
                                        partition->high_watermark()});
    }
  }
  return samples;
}

Result<PartitionConfig> PartitionManager::resolve(const TopicInfo& topic) const {
  return options_.resolver(topic);
}

net::ShardId PartitionManager::shard_of(std::string_view topic, PartitionId partition) const {
  return broker::shard_of(topic, partition, options_.shards->count());
}

PartitionManager::ShardPartitions& PartitionManager::shard_state(net::ShardId shard) const {
  ASSERT(shard.value() < shards_.size());
  return *shards_[shard.value()];
}

PartitionManager::ShardPartitions& PartitionManager::local() const {
  std::optional<net::ShardId> current = net::ShardSet::current();
  ASSERT(current.has_value());
  return shard_state(*current);
}

std::filesystem::path PartitionManager::partition_dir(std::string_view topic,
                                                      PartitionId partition) const {
  return options_.data_dir / (std::string(topic) + "-" + std::to_string(partition.value()));
}

}  // namespace cairn::broker
