#include "broker/configs/broker_config_file.h"

#include <gtest/gtest.h>

#include <fstream>

namespace cairn::broker::configs {
namespace {

TEST(BrokerConfigFile, SettingsInOrderAndTheKafkaSection) {
  Result<ConfigFile> file = parse_config_file(
      "# comment\n"
      "listen: 0.0.0.0:9092\n"
      "data-dir: /var/lib/cairn\n"
      "shards: 4\n"
      "kafka:\n"
      "  num.partitions: 3\n"
      "  log.retention.hours: 72\n"
      "  auto.create.topics.enable: false\n");
  ASSERT_TRUE(file.ok()) << file.status().message();
  ASSERT_EQ(3u, file->settings.size());
  EXPECT_EQ("listen", file->settings[0].first);
  EXPECT_EQ("0.0.0.0:9092", file->settings[0].second);
  EXPECT_EQ("shards", file->settings[2].first);
  EXPECT_EQ("4", file->settings[2].second);
  EXPECT_EQ((ConfigMap{{"auto.create.topics.enable", "false"},
                       {"log.retention.hours", "72"},
                       {"num.partitions", "3"}}),
            file->kafka);
}

TEST(BrokerConfigFile, EmptyFileSetsNothing) {
  Result<ConfigFile> file = parse_config_file("# nothing here\n");
  ASSERT_TRUE(file.ok());
  EXPECT_TRUE(file->settings.empty());
  EXPECT_TRUE(file->kafka.empty());
}

TEST(BrokerConfigFile, NullKafkaValueLeavesTheConfigUnset) {
  Result<ConfigFile> file =
      parse_config_file("kafka:\n  log.retention.ms: ~\n  log.roll.ms:\n  num.partitions: 3\n");
  ASSERT_TRUE(file.ok());
  EXPECT_EQ((ConfigMap{{"num.partitions", "3"}}), file->kafka);
}

TEST(BrokerConfigFile, MalformedFilesNameTheLine) {
  Result<ConfigFile> syntax = parse_config_file("listen: [unclosed\n");
  ASSERT_FALSE(syntax.ok());
  EXPECT_NE(std::string::npos, syntax.status().message().find("line"));
  EXPECT_FALSE(parse_config_file("- a\n- b\n").ok());              // not a mapping
  EXPECT_FALSE(parse_config_file("listen:\n  nested: 1\n").ok());  // not a scalar
  EXPECT_FALSE(parse_config_file("kafka: 3\n").ok());              // kafka not a map
  EXPECT_FALSE(parse_config_file("kafka:\n  a: [1, 2]\n").ok());   // list value
  Result<ConfigFile> twice = parse_config_file("shards: 1\nshards: 2\n");
  ASSERT_FALSE(twice.ok());
  EXPECT_NE(std::string::npos, twice.status().message().find("line 2"));
}

TEST(BrokerConfigFile, LoadReadsTheFileAndReportsAMissingOne) {
  char pattern[] = "/tmp/cairn_config_file_test_XXXXXX";
  std::filesystem::path dir = mkdtemp(pattern);
  std::filesystem::path path = dir / "cairn.yaml";
  std::ofstream(path) << "kafka:\n  message.max.bytes: 2000000\n";
  Result<ConfigFile> file = load_config_file(path);
  ASSERT_TRUE(file.ok()) << file.status().message();
  EXPECT_EQ("2000000", file->kafka.at("message.max.bytes"));
  EXPECT_EQ(StatusCode::not_found, load_config_file(dir / "missing.yaml").status().code());
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace cairn::broker::configs
