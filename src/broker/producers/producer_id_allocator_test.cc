#include "broker/producers/producer_id_allocator.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>

namespace cairn::broker::producers {
namespace {

class ProducerIdAllocatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("cairn-pid-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(ProducerIdAllocatorTest, IdsAreUniqueAcrossRestarts) {
  std::set<int64_t> seen;
  for (int run = 0; run < 3; run++) {
    auto allocator = ProducerIdAllocator::open(dir_, storage::posix_io(), /*block_size=*/4);
    ASSERT_TRUE(allocator.ok()) << allocator.status().to_string();
    for (int i = 0; i < 6; i++) {  // crosses a block boundary; the rest of the block is skipped
      Result<ProducerId> id = (*allocator)->allocate();
      ASSERT_TRUE(id.ok());
      EXPECT_TRUE(seen.insert(id->value()).second) << id->value();
    }
  }
  EXPECT_EQ(seen.size(), 18u);
}

TEST_F(ProducerIdAllocatorTest, CorruptFileIsAnError) {
  std::filesystem::create_directories(dir_);
  std::ofstream(dir_ / "producer_ids") << "banana\n";
  EXPECT_FALSE(ProducerIdAllocator::open(dir_, storage::posix_io()).ok());
}

}  // namespace
}  // namespace cairn::broker::producers
