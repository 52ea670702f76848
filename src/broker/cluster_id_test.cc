#include "broker/cluster_id.h"

#include <gtest/gtest.h>

#include <fstream>

#include "broker/meta_file.h"

namespace cairn::broker {
namespace {

class TempDir {
 public:
  TempDir() {
    char pattern[] = "/tmp/cairn_broker_test_XXXXXX";
    path_ = mkdtemp(pattern);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

TEST(ClusterId, GeneratedIdsAreWellFormedAndDiffer) {
  std::string a = generate_cluster_id();
  std::string b = generate_cluster_id();
  EXPECT_EQ(kClusterIdChars, a.size());
  EXPECT_TRUE(is_valid_cluster_id(a));
  EXPECT_NE(a, b);
}

TEST(ClusterId, CreatedOnceThenKept) {
  TempDir dir;
  Result<std::string> first = load_or_create_cluster_id(dir.path() / "meta", storage::posix_io());
  ASSERT_TRUE(first.ok()) << first.status().to_string();
  Result<std::string> second = load_or_create_cluster_id(dir.path() / "meta", storage::posix_io());
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(*first, *second);
}

TEST(ClusterId, MalformedFileIsAnErrorNotReplaced) {
  TempDir dir;
  ASSERT_TRUE(
      write_meta_file(storage::posix_io(), dir.path() / "meta" / "cluster_id", "not an id\n").ok());
  Result<std::string> id = load_or_create_cluster_id(dir.path() / "meta", storage::posix_io());
  EXPECT_EQ(StatusCode::corrupt, id.status().code());
}

TEST(ClusterId, Validation) {
  EXPECT_TRUE(is_valid_cluster_id("MkU3OEVBNTcwNTJENDM2Qk"));
  EXPECT_FALSE(is_valid_cluster_id("MkU3OEVBNTcwNTJENDM2Q"));
  EXPECT_FALSE(is_valid_cluster_id("MkU3OEVBNTcwNTJENDM2Q="));
  EXPECT_FALSE(is_valid_cluster_id(""));
}

}  // namespace
}  // namespace cairn::broker
