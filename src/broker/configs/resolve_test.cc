#include "broker/configs/resolve.h"

#include <gtest/gtest.h>

#include "broker/meta_file.h"
#include "testing/fault_io.h"

namespace cairn::broker::configs {
namespace {

struct Fixture {
  ConfigMap static_configs;
  std::shared_ptr<DynamicBrokerConfigs> dynamic = std::make_shared<DynamicBrokerConfigs>();
  Layers layers() const { return Layers{&static_configs, dynamic}; }
};

Resolved topic(const Fixture& f, const ConfigMap& overrides, std::string_view name) {
  const ConfigDef* def = find_topic_config(name);
  EXPECT_NE(nullptr, def) << name;
  return resolve_topic_config(f.layers(), overrides, *def);
}

TEST(Resolve, BuiltInDefaultComesFromTheBrokerSynonymThatCarriesIt) {
  Fixture f;
  Resolved retention = topic(f, {}, "retention.ms");
  EXPECT_EQ("604800000", retention.value);
  EXPECT_EQ(ConfigSource::default_config, retention.source);
  ASSERT_EQ(1u, retention.synonyms.size());
  EXPECT_EQ("log.retention.hours", retention.synonyms[0].name);
  // A topic config without a broker synonym: its own default.
  Resolved remote = topic(f, {}, "remote.storage.enable");
  EXPECT_EQ("false", remote.value);
  EXPECT_EQ("remote.storage.enable", remote.synonyms[0].name);
}

TEST(Resolve, OverrideBeatsDynamicBeatsStaticBeatsDefault) {
  Fixture f;
  f.static_configs["log.retention.hours"] = "48";
  EXPECT_EQ("172800000", topic(f, {}, "retention.ms").value);
  EXPECT_EQ(ConfigSource::static_broker, topic(f, {}, "retention.ms").source);

  f.static_configs["log.retention.ms"] = "1000";  // ms beats hours within a layer
  EXPECT_EQ("1000", topic(f, {}, "retention.ms").value);

  f.dynamic->cluster_default["log.retention.minutes"] = "2";  // any dynamic beats static
  EXPECT_EQ("120000", topic(f, {}, "retention.ms").value);
  EXPECT_EQ(ConfigSource::dynamic_default_broker, topic(f, {}, "retention.ms").source);

  f.dynamic->broker["log.retention.hours"] = "1";
  EXPECT_EQ("3600000", topic(f, {}, "retention.ms").value);
  EXPECT_EQ(ConfigSource::dynamic_broker, topic(f, {}, "retention.ms").source);

  Resolved overridden = topic(f, {{"retention.ms", "5"}}, "retention.ms");
  EXPECT_EQ("5", overridden.value);
  EXPECT_EQ(ConfigSource::dynamic_topic, overridden.source);
  // Every layer that has a value is a synonym, in precedence order, then the default.
  std::vector<std::string> names;
  for (const Synonym& s : overridden.synonyms) names.push_back(s.name);
  EXPECT_EQ(
      (std::vector<std::string>{"retention.ms", "log.retention.hours", "log.retention.minutes",
                                "log.retention.ms", "log.retention.hours", "log.retention.hours"}),
      names);
  EXPECT_EQ(ConfigSource::default_config, overridden.synonyms.back().source);
}

TEST(Resolve, NegativeHoursMeanNoLimit) {
  Fixture f;
  f.static_configs["log.retention.hours"] = "-1";
  EXPECT_EQ("-1", topic(f, {}, "retention.ms").value);
}

TEST(Resolve, BrokerConfigs) {
  Fixture f;
  const ConfigDef& def = *find_broker_config("log.segment.bytes");
  EXPECT_EQ("1073741824", resolve_broker_config(f.layers(), def).value);
  f.static_configs["log.segment.bytes"] = "2048";
  f.dynamic->cluster_default["log.segment.bytes"] = "4096";
  Resolved resolved = resolve_broker_config(f.layers(), def);
  EXPECT_EQ("4096", resolved.value);
  EXPECT_EQ(ConfigSource::dynamic_default_broker, resolved.source);
  EXPECT_EQ(3u, resolved.synonyms.size());
  EXPECT_FALSE(
      resolve_broker_config(f.layers(), *find_broker_config("log.retention.ms")).value.has_value());
}

TEST(PartitionConfig, MapsEveryEnforcedConfig) {
  Fixture f;
  f.static_configs["message.max.bytes"] = "2000000";
  PartitionConfig settings =
      partition_config(f.layers(), {{"segment.bytes", "4096"},
                                    {"segment.ms", "60000"},
                                    {"retention.bytes", "100000"},
                                    {"retention.ms", "3600000"},
                                    {"index.interval.bytes", "0"},
                                    {"flush.ms", "0"},
                                    {"message.timestamp.type", "LogAppendTime"}});
  EXPECT_EQ(4096u, settings.log.segment_bytes);
  EXPECT_EQ(60000, settings.log.segment_ms);
  EXPECT_EQ(100000, settings.log.retention_bytes);
  EXPECT_EQ(3600000, settings.log.retention_ms);
  EXPECT_EQ(1u, settings.log.index_interval_bytes);  // 0 means "every batch"
  EXPECT_EQ(1, settings.log.flush_interval_ms);
  EXPECT_EQ(2000000, settings.max_message_bytes);
  EXPECT_EQ(TimestampType::log_append_time, settings.timestamp_type);
  EXPECT_EQ(kLongMax, settings.timestamp_difference_max_ms);
}

TEST(PartitionConfig, CompactOnlyTurnsRetentionOff) {
  Fixture f;
  PartitionConfig compact =
      partition_config(f.layers(), {{"cleanup.policy", "compact"}, {"retention.ms", "1000"}});
  EXPECT_EQ(-1, compact.log.retention_ms);
  EXPECT_EQ(-1, compact.log.retention_bytes);
  PartitionConfig both = partition_config(
      f.layers(), {{"cleanup.policy", "compact,delete"}, {"retention.ms", "1000"}});
  EXPECT_EQ(1000, both.log.retention_ms);
}

TEST(PartitionConfig, CompactionConfigsReachTheLog) {
  Fixture f;
  PartitionConfig plain = partition_config(f.layers(), {});
  EXPECT_TRUE(plain.log.cleanup_delete);
  EXPECT_FALSE(plain.log.cleanup_compact);
  PartitionConfig compact = partition_config(
      f.layers(), {{"cleanup.policy", "compact"},
                   {"min.cleanable.dirty.ratio", "0.25"},
                   {"min.compaction.lag.ms", "1000"},
                   {"max.compaction.lag.ms", "500"},
                   {"delete.retention.ms", "60000"}});
  EXPECT_FALSE(compact.log.cleanup_delete);
  EXPECT_TRUE(compact.log.cleanup_compact);
  EXPECT_DOUBLE_EQ(0.25, compact.log.min_cleanable_dirty_ratio);
  EXPECT_EQ(1000, compact.log.min_compaction_lag_ms);
  EXPECT_EQ(1000, compact.log.max_compaction_lag_ms);  // never below min.compaction.lag.ms
  EXPECT_EQ(60000, compact.log.delete_retention_ms);
  PartitionConfig both = partition_config(f.layers(), {{"cleanup.policy", "compact,delete"}});
  EXPECT_TRUE(both.log.cleanup_delete);
  EXPECT_TRUE(both.log.cleanup_compact);
}

TEST(PartitionConfig, NeverMeansAVeryLongTimeNotAnOverflow) {
  Fixture f;
  PartitionConfig settings = partition_config(
      f.layers(), {{"segment.ms", "9223372036854775807"}, {"flush.ms", "9223372036854775807"}});
  EXPECT_EQ(kDurationMsMax, settings.log.segment_ms);
  EXPECT_EQ(kDurationMsMax, settings.log.flush_interval_ms);
}

TEST(PartitionConfig, AnOverrideThatNoLongerValidatesIsIgnored) {
  Fixture f;
  PartitionConfig settings =
      partition_config(f.layers(), {{"segment.bytes", "banana"}, {"no.such.config", "1"}});
  EXPECT_EQ(1073741824u, settings.log.segment_bytes);
}

TEST(PartitionConfig, TheResolverSeesDynamicChangesAsTheyHappen) {
  char pattern[] = "/tmp/cairn_resolver_test_XXXXXX";
  std::filesystem::path dir = mkdtemp(pattern);
  auto store = DynamicConfigStore::open(dir, storage::posix_io());
  ASSERT_TRUE(store.ok());
  ConfigResolver resolve = partition_resolver({{"log.segment.bytes", "8192"}}, store->get());
  TopicInfo topic;
  topic.name = "t";
  topic.partition_count = 1;
  EXPECT_EQ(8192u, resolve(topic)->log.segment_bytes);
  ASSERT_TRUE((*store)->replace(true, {{"log.segment.bytes", "16384"}}).ok());
  EXPECT_EQ(16384u, resolve(topic)->log.segment_bytes);
  topic.configs["segment.bytes"] = "4096";
  EXPECT_EQ(4096u, resolve(topic)->log.segment_bytes);
  std::filesystem::remove_all(dir);
}

TEST(FinishBrokerConfig, ValidatesNormalizesAndFillsTypedFields) {
  BrokerConfig config;
  config.kafka_configs = {{"num.partitions", " 6"},
                          {"auto.create.topics.enable", "FALSE"},
                          {"delete.topic.enable", "false"}};
  ASSERT_TRUE(finish_broker_config(config).ok());
  EXPECT_EQ(6, config.num_partitions);
  EXPECT_FALSE(config.auto_create_topics_enable);
  EXPECT_FALSE(config.delete_topic_enable);
  EXPECT_EQ(1, config.default_replication_factor);
  EXPECT_EQ("6", config.kafka_configs["num.partitions"]);

  BrokerConfig unknown;
  unknown.kafka_configs = {{"zookeeper.connect", "localhost:2181"}};
  EXPECT_FALSE(finish_broker_config(unknown).ok());
  BrokerConfig replicated;
  replicated.kafka_configs = {{"default.replication.factor", "3"}};
  EXPECT_FALSE(finish_broker_config(replicated).ok());
}

// Kafka's defaults give an unthrottled cleaner with 128 MiB of key tables in all; totals are
// split between the shards, per-shard knobs are taken as they are.
TEST(CleanerOptions, ComeFromTheLogCleanerConfigs) {
  BrokerConfig defaults;
  ASSERT_TRUE(finish_broker_config(defaults).ok());
  PartitionManagerOptions options;
  set_cleaner_options(defaults, 4, options);
  EXPECT_TRUE(options.cleaner_enabled);
  EXPECT_EQ(std::chrono::milliseconds(15'000), options.cleaner_check_interval);
  EXPECT_EQ(512u << 10, options.cleaner_step_bytes);
  EXPECT_EQ(32u << 20, options.cleaner_key_map_bytes);
  EXPECT_EQ(0u, options.cleaner_bytes_per_second);

  BrokerConfig set;
  set.kafka_configs = {{"log.cleaner.enable", "false"},
                       {"log.cleaner.backoff.ms", "250"},
                       {"log.cleaner.io.buffer.size", "0"},
                       {"log.cleaner.dedupe.buffer.size", "1048576"},
                       {"log.cleaner.io.max.bytes.per.second", "1e6"}};
  ASSERT_TRUE(finish_broker_config(set).ok());
  set_cleaner_options(set, 2, options);
  EXPECT_FALSE(options.cleaner_enabled);
  EXPECT_EQ(std::chrono::milliseconds(250), options.cleaner_check_interval);
  EXPECT_EQ(1u, options.cleaner_step_bytes);  // one batch a step
  EXPECT_EQ(512u << 10, options.cleaner_key_map_bytes);
  EXPECT_EQ(500'000u, options.cleaner_bytes_per_second);

  BrokerConfig bad;
  bad.kafka_configs = {{"log.cleaner.io.max.bytes.per.second", "0"}};
  EXPECT_FALSE(finish_broker_config(bad).ok());
}

TEST(DynamicConfigStore, ReplacedLayersSurviveReopen) {
  char pattern[] = "/tmp/cairn_dynamic_configs_test_XXXXXX";
  std::filesystem::path dir = mkdtemp(pattern);
  {
    auto store = DynamicConfigStore::open(dir, storage::posix_io());
    ASSERT_TRUE(store.ok()) << store.status().to_string();
    EXPECT_TRUE((*store)->snapshot()->broker.empty());
    ASSERT_TRUE((*store)->replace(false, {{"log.retention.ms", "1000"}}).ok());
    ASSERT_TRUE((*store)->replace(true, {{"message.max.bytes", "5000"}}).ok());
  }
  auto store = DynamicConfigStore::open(dir, storage::posix_io());
  ASSERT_TRUE(store.ok());
  EXPECT_EQ((ConfigMap{{"log.retention.ms", "1000"}}), (*store)->snapshot()->broker);
  EXPECT_EQ((ConfigMap{{"message.max.bytes", "5000"}}), (*store)->snapshot()->cluster_default);
  // Entries that are not dynamic broker configs are dropped on load, not fatal.
  ASSERT_TRUE(write_meta_file(storage::posix_io(), dir / "broker_configs.json",
                              R"({"format": 1, "broker": {"num.partitions": "3",
                                  "log.retention.ms": "5"}, "cluster_default": {}})")
                  .ok());
  store = DynamicConfigStore::open(dir, storage::posix_io());
  ASSERT_TRUE(store.ok());
  EXPECT_EQ((ConfigMap{{"log.retention.ms", "5"}}), (*store)->snapshot()->broker);
  ASSERT_TRUE(write_meta_file(storage::posix_io(), dir / "broker_configs.json", "{not json").ok());
  EXPECT_EQ(StatusCode::corrupt,
            DynamicConfigStore::open(dir, storage::posix_io()).status().code());
  std::filesystem::remove_all(dir);
}

// Through the Io seam: a change survives a power loss; one whose fsync fails (EIO) or that
// finds the disk full (ENOSPC) is refused and changes nothing, before or after a power loss.
TEST(DynamicConfigStore, ChangesAreDurableOrRefusedUnderFaults) {
  testing::FaultIo io;
  const std::filesystem::path meta = "/data/meta";
  {
    auto store = DynamicConfigStore::open(meta, io);
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE((*store)->replace(true, {{"log.retention.ms", "5000"}}).ok());
    io.fail_syncs_after(0);
    EXPECT_EQ(StatusCode::io_error, (*store)->replace(true, {{"log.retention.ms", "1"}}).code());
    io.clear_sync_failure();
    io.set_capacity_bytes(io.used_bytes());
    EXPECT_EQ(StatusCode::no_space, (*store)->replace(false, {{"log.retention.ms", "2"}}).code());
    io.set_capacity_bytes(UINT64_MAX);
    EXPECT_EQ((ConfigMap{{"log.retention.ms", "5000"}}), (*store)->snapshot()->cluster_default);
    EXPECT_TRUE((*store)->snapshot()->broker.empty());
  }
  io.power_loss(/*seed=*/11, /*torn=*/true);
  auto store = DynamicConfigStore::open(meta, io);
  ASSERT_TRUE(store.ok()) << store.status().to_string();
  EXPECT_EQ((ConfigMap{{"log.retention.ms", "5000"}}), (*store)->snapshot()->cluster_default);
  EXPECT_TRUE((*store)->snapshot()->broker.empty());
}

}  // namespace
}  // namespace cairn::broker::configs
