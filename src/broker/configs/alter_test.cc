#include "broker/configs/alter.h"

#include <gtest/gtest.h>

namespace cairn::broker::configs {
namespace {

Layers empty_layers() {
  static const ConfigMap kStatic;
  return Layers{&kStatic, std::make_shared<DynamicBrokerConfigs>()};
}

TEST(ReplaceConfigs, BuildsANormalizedSet) {
  std::vector<AlterEntry> entries = {{"retention.ms", " 1000"}, {"cleanup.policy", "compact"}};
  AlterOutcome outcome = replace_configs(Scope::topic, entries);
  ASSERT_TRUE(outcome.ok()) << outcome.message;
  EXPECT_EQ((ConfigMap{{"cleanup.policy", "compact"}, {"retention.ms", "1000"}}), outcome.configs);
}

TEST(ReplaceConfigs, ErrorCodes) {
  std::vector<AlterEntry> unknown = {{"retention.hours", "1"}};
  EXPECT_EQ(ErrorCode::invalid_config, replace_configs(Scope::topic, unknown).error);
  std::vector<AlterEntry> bad = {{"retention.ms", "soon"}};
  EXPECT_EQ(ErrorCode::invalid_config, replace_configs(Scope::topic, bad).error);
  std::vector<AlterEntry> null = {{"retention.ms", std::nullopt}};
  EXPECT_EQ(ErrorCode::invalid_config, replace_configs(Scope::topic, null).error);
}

// AlterConfigs and CreateTopics: Kafka builds a Properties, so the later entry wins.
TEST(ReplaceConfigs, KeyTwiceLastWins) {
  std::vector<AlterEntry> twice = {{"retention.ms", "1"}, {"retention.ms", "2"}};
  AlterOutcome outcome = replace_configs(Scope::topic, twice);
  ASSERT_TRUE(outcome.ok()) << outcome.message;
  EXPECT_EQ((ConfigMap{{"retention.ms", "2"}}), outcome.configs);
}

TEST(ReplaceConfigs, BrokerScopeRefusesReadOnlyAndTopicNames) {
  std::vector<AlterEntry> read_only = {{"num.partitions", "3"}};
  AlterOutcome outcome = replace_configs(Scope::broker, read_only);
  EXPECT_EQ(ErrorCode::invalid_config, outcome.error);
  EXPECT_NE(std::string::npos, outcome.message.find("dynamically"));
  std::vector<AlterEntry> topic_name = {{"retention.ms", "3"}};
  EXPECT_EQ(ErrorCode::invalid_config, replace_configs(Scope::broker, topic_name).error);
  std::vector<AlterEntry> ok = {{"log.retention.ms", "3"}};
  EXPECT_TRUE(replace_configs(Scope::broker, ok).ok());
}

TEST(ApplyIncremental, SetAndDeleteChangeOnlyTheirKeys) {
  ConfigMap current = {{"retention.ms", "1000"}, {"segment.bytes", "4096"}};
  std::vector<AlterEntry> ops = {{"retention.ms", std::nullopt, AlterOp::remove},
                                 {"max.message.bytes", "5000", AlterOp::set}};
  AlterOutcome outcome = apply_incremental(Scope::topic, current, ops, empty_layers());
  ASSERT_TRUE(outcome.ok()) << outcome.message;
  EXPECT_EQ((ConfigMap{{"max.message.bytes", "5000"}, {"segment.bytes", "4096"}}), outcome.configs);
}

TEST(ApplyIncremental, AppendAndSubtractStartFromTheResolvedValue) {
  std::vector<AlterEntry> append = {{"cleanup.policy", "compact", AlterOp::append}};
  AlterOutcome appended = apply_incremental(Scope::topic, {}, append, empty_layers());
  ASSERT_TRUE(appended.ok()) << appended.message;
  EXPECT_EQ("delete,compact", appended.configs.at("cleanup.policy"));  // default was delete

  std::vector<AlterEntry> again = {{"cleanup.policy", "compact", AlterOp::append}};
  EXPECT_EQ("delete,compact",
            apply_incremental(Scope::topic, appended.configs, again, empty_layers())
                .configs.at("cleanup.policy"));

  std::vector<AlterEntry> subtract = {{"cleanup.policy", "delete", AlterOp::subtract}};
  AlterOutcome subtracted =
      apply_incremental(Scope::topic, appended.configs, subtract, empty_layers());
  ASSERT_TRUE(subtracted.ok());
  EXPECT_EQ("compact", subtracted.configs.at("cleanup.policy"));

  std::vector<AlterEntry> all = {{"cleanup.policy", "compact", AlterOp::subtract}};
  EXPECT_EQ(ErrorCode::invalid_config,  // cleanup.policy may not become empty
            apply_incremental(Scope::topic, subtracted.configs, all, empty_layers()).error);
}

TEST(ApplyIncremental, ErrorCodes) {
  Layers layers = empty_layers();
  std::vector<AlterEntry> append_long = {{"retention.ms", "1", AlterOp::append}};
  EXPECT_EQ(ErrorCode::invalid_config,
            apply_incremental(Scope::topic, {}, append_long, layers).error);
  std::vector<AlterEntry> bad_op = {{"retention.ms", "1", static_cast<AlterOp>(7)}};
  EXPECT_EQ(ErrorCode::invalid_request, apply_incremental(Scope::topic, {}, bad_op, layers).error);
  std::vector<AlterEntry> twice = {{"retention.ms", "1", AlterOp::set},
                                   {"retention.ms", std::nullopt, AlterOp::remove}};
  EXPECT_EQ(ErrorCode::invalid_request, apply_incremental(Scope::topic, {}, twice, layers).error);
  std::vector<AlterEntry> null_set = {{"retention.ms", std::nullopt, AlterOp::set}};
  EXPECT_EQ(ErrorCode::invalid_request,
            apply_incremental(Scope::topic, {}, null_set, layers).error);
  std::vector<AlterEntry> unknown_delete = {{"nope", std::nullopt, AlterOp::remove}};
  EXPECT_EQ(ErrorCode::invalid_config,
            apply_incremental(Scope::topic, {}, unknown_delete, layers).error);
}

}  // namespace
}  // namespace cairn::broker::configs
