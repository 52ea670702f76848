#include "broker/configs/config_defs.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace cairn::broker::configs {
namespace {

TEST(ConfigDefs, TablesAreSortedAndUnique) {
  for (auto defs : {topic_config_defs(), broker_config_defs()}) {
    for (size_t i = 1; i < defs.size(); i++) {
      EXPECT_LT(defs[i - 1].name, defs[i].name) << defs[i].name;
    }
  }
}

TEST(ConfigDefs, EveryDefaultPassesItsOwnValidator) {
  for (auto defs : {topic_config_defs(), broker_config_defs()}) {
    for (const ConfigDef& def : defs) {
      if (!def.default_value.has_value()) continue;
      Result<std::string> value = validate_value(def, *def.default_value);
      ASSERT_TRUE(value.ok()) << def.name << ": " << value.status().message();
      EXPECT_EQ(*def.default_value, *value) << def.name << " default is not normalized";
    }
  }
}

TEST(ConfigDefs, EveryTopicSynonymIsABrokerConfigThatIsNotReadOnly) {
  for (const ConfigDef& def : topic_config_defs()) {
    for (const BrokerSynonym& synonym : def.synonyms) {
      if (synonym.name.empty()) continue;
      const ConfigDef* broker = find_broker_config(synonym.name);
      ASSERT_NE(nullptr, broker) << def.name << " -> " << synonym.name;
      EXPECT_FALSE(broker->read_only) << synonym.name;
    }
  }
}

TEST(ConfigDefs, TheConfigsTheIssueNamesAreEnforced) {
  for (const char* name : {"retention.ms", "retention.bytes", "segment.bytes", "segment.ms",
                           "cleanup.policy", "max.message.bytes", "message.timestamp.type"}) {
    const ConfigDef* def = find_topic_config(name);
    ASSERT_NE(nullptr, def) << name;
    EXPECT_EQ(Support::enforced, def->support) << name;
  }
  EXPECT_EQ(nullptr, find_topic_config("retention.msx"));
  EXPECT_EQ(nullptr, find_broker_config("zookeeper.connect"));
}

// Values end up in JSON files (topics.json, broker_configs.json), which hold only UTF-8.
TEST(ConfigDefs, ValuesMustBeUtf8) {
  const ConfigDef* def = find_topic_config("follower.replication.throttled.replicas");
  ASSERT_NE(def, nullptr);
  EXPECT_TRUE(validate_value(*def, "0:0,1:0").ok());
  for (std::string_view bad : {"\xff", "0:0\xc0\x80", "\xe2\x82", "\xed\xa0\x80",
                               "\xf4\x90\x80\x80"}) {
    Result<std::string> refused = validate_value(*def, bad);
    EXPECT_EQ(refused.status().code(), StatusCode::invalid_argument);
  }
  const ConfigDef* text = find_topic_config("message.format.version");
  ASSERT_NE(text, nullptr);
  EXPECT_TRUE(validate_value(*text, "3.0-\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80").ok());
}

TEST(ConfigDefs, LongValuesParseWithRangeChecks) {
  const ConfigDef& retention = *find_topic_config("retention.ms");
  EXPECT_EQ("86400000", *validate_value(retention, " 86400000 "));
  EXPECT_EQ("-1", *validate_value(retention, "-1"));
  EXPECT_FALSE(validate_value(retention, "-2").ok());
  EXPECT_FALSE(validate_value(retention, "1h").ok());
  EXPECT_FALSE(validate_value(retention, "").ok());
  EXPECT_FALSE(validate_value(retention, "99999999999999999999").ok());
}

TEST(ConfigDefs, IntValuesRejectWhatDoesNotFitInt32) {
  const ConfigDef& segment = *find_topic_config("segment.bytes");
  EXPECT_EQ("1048576", *validate_value(segment, "1048576"));
  EXPECT_FALSE(validate_value(segment, "4294967296").ok());
  EXPECT_FALSE(validate_value(segment, "100").ok());  // below Cairn's 1024 minimum
  Result<std::string> bad = validate_value(segment, "100");
  EXPECT_NE(std::string::npos, bad.status().message().find("segment.bytes"));
}

TEST(ConfigDefs, ListsAreTrimmedAndCheckedItemByItem) {
  const ConfigDef& policy = *find_topic_config("cleanup.policy");
  EXPECT_EQ("compact,delete", *validate_value(policy, " compact , delete"));
  EXPECT_FALSE(validate_value(policy, "compact,shred").ok());
  EXPECT_FALSE(validate_value(policy, "").ok());
  EXPECT_FALSE(validate_value(policy, "compact,,delete").ok());
}

TEST(ConfigDefs, StringsBooleansAndDoubles) {
  EXPECT_EQ("LogAppendTime",
            *validate_value(*find_topic_config("message.timestamp.type"), "LogAppendTime"));
  EXPECT_FALSE(validate_value(*find_topic_config("message.timestamp.type"), "logappendtime").ok());
  EXPECT_EQ("true", *validate_value(*find_topic_config("preallocate"), "TRUE"));
  EXPECT_FALSE(validate_value(*find_topic_config("preallocate"), "yes").ok());
  EXPECT_TRUE(validate_value(*find_topic_config("min.cleanable.dirty.ratio"), "0.25").ok());
  EXPECT_FALSE(validate_value(*find_topic_config("min.cleanable.dirty.ratio"), "1.5").ok());
  EXPECT_FALSE(validate_value(*find_topic_config("remote.storage.enable"), "true").ok());
}

TEST(ConfigDefs, ThrottledReplicaLists) {
  const ConfigDef& def = *find_topic_config("leader.replication.throttled.replicas");
  EXPECT_TRUE(validate_value(def, "").ok());
  EXPECT_TRUE(validate_value(def, "*").ok());
  EXPECT_EQ("0:1,1:2", *validate_value(def, "0:1, 1:2"));
  EXPECT_FALSE(validate_value(def, "0-1").ok());
}

}  // namespace
}  // namespace cairn::broker::configs
