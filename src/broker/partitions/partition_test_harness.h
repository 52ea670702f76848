// Test support: a PartitionManager on two real shards as the server sets it up (topic
// registry, flusher, MetaWriter, an Io and a config resolver of the test's choosing), and the
// helpers its tests share: run a coroutine on a shard and wait for it, append records and
// wait until they are durable. Test fixtures derive from it next to ::testing::Test.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "broker/meta_writer.h"
#include "broker/partitions/log_await.h"
#include "broker/partitions/partition_manager.h"
#include "net/shard_set.h"
#include "protocol/record_batch.h"
#include "storage/flusher.h"

namespace cairn::broker {

// use_future needs a default-constructible value; Result<T> is not.
template <typename T>
asio::awaitable<std::optional<T>> optional_of(asio::awaitable<T> work) {
  co_return co_await std::move(work);
}

// Runs `work` on `shard` and blocks the calling (test) thread for its result.
template <typename T>
T run_on(const net::ShardSet& shards, net::ShardId shard, asio::awaitable<T> work) {
  return *asio::co_spawn(shards.executor(shard), optional_of(std::move(work)), asio::use_future)
              .get();
}

class PartitionHarness {
 protected:
  // Opens the registry in `data_dir`/meta and the PartitionManager over it, then starts the
  // shards. `tweak` may change the options (intervals) before the manager opens.
  void boot_partitions(const std::filesystem::path& data_dir, storage::Io& io,
                       ConfigResolver resolver,
                       const std::function<void(PartitionManagerOptions&)>& tweak = nullptr) {
    shards_ = std::make_unique<net::ShardSet>(2);
    auto registry = TopicRegistry::open(data_dir / "meta", io);
    ASSERT_TRUE(registry.ok()) << registry.status().to_string();
    registry_ = std::move(registry).value();
    flusher_ = std::make_unique<storage::Flusher>(1);
    meta_writer_ = std::make_unique<MetaWriter>();
    PartitionManagerOptions options;
    options.data_dir = data_dir;
    options.shards = shards_.get();
    options.flusher = flusher_.get();
    options.meta_writer = meta_writer_.get();
    options.io = &io;
    options.resolver = std::move(resolver);
    if (tweak) tweak(options);
    auto manager = PartitionManager::open(options, *registry_->snapshot());
    ASSERT_TRUE(manager.ok()) << manager.status().to_string();
    manager_ = std::move(manager).value();
    shards_->start();
  }

  // `clean`: every log closed (producer snapshots written). Otherwise the logs are dropped
  // open, as a killed process leaves them. Idempotent.
  void stop_partitions(bool clean) {
    if (!shards_) return;
    manager_->stop();
    shards_->request_stop();
    if (!shards_->wait_stopped(std::chrono::seconds(5))) shards_->stop_now();
    shards_->join();
    if (clean) {
      EXPECT_TRUE(manager_->close().ok());
    }
    manager_.reset();
    meta_writer_.reset();
    flusher_.reset();
    shards_.reset();
    registry_.reset();
  }

  template <typename T>
  T run_on(net::ShardId shard, asio::awaitable<T> work) {
    return broker::run_on(*shards_, shard, std::move(work));
  }
  template <typename T>
  T run(asio::awaitable<T> work) {
    return run_on(net::ShardId(0), std::move(work));
  }

  // Appends `count` one-record batches ("record-i"; from idempotent producer `producer` when
  // >= 0, sequences from 0) to the partition and waits until they are durable.
  Status append(const std::string& topic, int32_t partition, int count, int64_t producer = -1) {
    PartitionId id(partition);
    return run_on(manager_->shard_of(topic, id),
                  append_on_shard(manager_.get(), topic, id, count, producer));
  }

  std::unique_ptr<net::ShardSet> shards_;
  std::unique_ptr<TopicRegistry> registry_;
  std::unique_ptr<storage::Flusher> flusher_;
  std::unique_ptr<MetaWriter> meta_writer_;
  std::unique_ptr<PartitionManager> manager_;

 private:
  static asio::awaitable<Status> append_on_shard(PartitionManager* manager, std::string topic,
                                                 PartitionId id, int count, int64_t producer) {
    std::shared_ptr<Partition> partition = manager->find(topic, id);
    if (partition == nullptr || !partition->usable()) {
      co_return error(StatusCode::not_found, "no usable partition");
    }
    Offset last(-1);
    for (int i = 0; i < count; i++) {
      protocol::BatchOptions options;
      if (producer >= 0) {
        options.producer_id = ProducerId(producer);
        options.producer_epoch = ProducerEpoch(0);
        options.base_sequence = Sequence(i);
      }
      protocol::BatchBuilder builder(options);
      const std::string value = "record-" + std::to_string(i);
      protocol::RecordInput record;
      record.value =
          protocol::BytesView(reinterpret_cast<const uint8_t*>(value.data()), value.size());
      builder.add(record);
      Result<std::vector<uint8_t>> batch = std::move(builder).build();
      if (!batch.ok()) co_return batch.status();
      Result<storage::AppendResult> appended = partition->log->append(*batch);
      if (!appended.ok()) co_return appended.status();
      last = appended->last_offset;
    }
    co_return co_await await_durable(*partition->log, last);
  }
};

}  // namespace cairn::broker
