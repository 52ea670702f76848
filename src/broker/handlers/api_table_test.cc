#include "broker/handlers/api_table.h"

#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <string>

#include "protocol/generated/api_catalog.h"

namespace cairn::broker {
namespace {

TEST(ApiTable, SortedUniqueAndEveryRowHasAHandler) {
  int last_key = -1;
  for (const ApiEntry& entry : api_table()) {
    EXPECT_GT(entry.api_key, last_key);
    last_key = entry.api_key;
    EXPECT_NE(nullptr, entry.handler) << entry.name;
    EXPECT_LE(entry.min_version, entry.max_version) << entry.name;
  }
}

TEST(ApiTable, VersionsComeFromTheGeneratedCatalog) {
  for (const ApiEntry& entry : api_table()) {
    const protocol::ApiInfo* info = protocol::find_api(entry.api_key);
    ASSERT_NE(nullptr, info) << entry.name;
    EXPECT_STREQ(info->name, entry.name);
    EXPECT_EQ(info->min_version, entry.min_version) << entry.name;
    EXPECT_EQ(info->max_version, entry.max_version) << entry.name;
    EXPECT_EQ(info->first_flexible_version, entry.first_flexible_version) << entry.name;
  }
}

TEST(ApiTable, ServesApiVersionsZeroToThreeAndMetadataZeroToEight) {
  const ApiEntry* api_versions = find_api_entry(18);
  ASSERT_NE(nullptr, api_versions);
  EXPECT_EQ(0, api_versions->min_version);
  EXPECT_GE(api_versions->max_version, 3);
  const ApiEntry* metadata = find_api_entry(3);
  ASSERT_NE(nullptr, metadata);
  EXPECT_EQ(0, metadata->min_version);
  EXPECT_GE(metadata->max_version, 8);
}

TEST(ApiTable, UnknownKeysHaveNoRow) {
  EXPECT_EQ(nullptr, find_api_entry(-1));
  EXPECT_EQ(nullptr, find_api_entry(9999));
  EXPECT_EQ(nullptr, find_api_entry(4));  // LeaderAndIsr: inter-broker, never served
}

// docs/protocol.md is generated from implemented_apis.txt: it must name exactly the rows.
TEST(ApiTable, ImplementedApisFileMatchesTheTable) {
  std::ifstream file(std::string(CAIRN_BROKER_SOURCE_DIR) + "/implemented_apis.txt");
  ASSERT_TRUE(file.good());
  std::set<std::string> listed;
  std::string line;
  while (std::getline(file, line)) {
    if (line.empty() || line[0] == '#') continue;
    EXPECT_TRUE(listed.insert(line).second) << "duplicate " << line;
  }
  std::set<std::string> table;
  for (const ApiEntry& entry : api_table()) table.insert(entry.name);
  EXPECT_EQ(table, listed);
}

}  // namespace
}  // namespace cairn::broker
