#include "net/frame_assembler.h"

#include <gtest/gtest.h>

#include <vector>

namespace cairn::net {
namespace {

std::vector<uint8_t> size_prefix(uint32_t size) {
  return {static_cast<uint8_t>(size >> 24), static_cast<uint8_t>(size >> 16),
          static_cast<uint8_t>(size >> 8), static_cast<uint8_t>(size)};
}

std::vector<uint8_t> framed(const std::vector<uint8_t>& body) {
  std::vector<uint8_t> out = size_prefix(static_cast<uint32_t>(body.size()));
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

TEST(FrameAssembler, SeveralFramesInOneFeed) {
  FrameAssembler a(1024);
  std::vector<uint8_t> input = framed({1, 2, 3});
  std::vector<uint8_t> second = framed({4});
  input.insert(input.end(), second.begin(), second.end());
  ASSERT_TRUE(a.feed(input).ok());
  ASSERT_TRUE(a.has_frame());
  EXPECT_EQ((std::vector<uint8_t>{1, 2, 3}), a.pop_frame());
  ASSERT_TRUE(a.has_frame());
  EXPECT_EQ((std::vector<uint8_t>{4}), a.pop_frame());
  EXPECT_FALSE(a.has_frame());
  EXPECT_EQ(0u, a.partial_bytes());
}

TEST(FrameAssembler, FrameSplitAcrossEveryByteBoundary) {
  std::vector<uint8_t> input = framed({9, 8, 7, 6, 5});
  for (size_t cut = 0; cut <= input.size(); cut++) {
    FrameAssembler a(1024);
    ASSERT_TRUE(a.feed(std::span(input).first(cut)).ok());
    EXPECT_FALSE(a.has_frame() && cut < input.size());
    ASSERT_TRUE(a.feed(std::span(input).subspan(cut)).ok());
    ASSERT_TRUE(a.has_frame()) << cut;
    EXPECT_EQ((std::vector<uint8_t>{9, 8, 7, 6, 5}), a.pop_frame());
  }
}

TEST(FrameAssembler, ZeroSizeIsRejected) {
  FrameAssembler a(1024);
  EXPECT_EQ(StatusCode::invalid_argument, a.feed(size_prefix(0)).code());
  EXPECT_TRUE(a.failed());
  EXPECT_FALSE(a.feed(framed({1})).ok());
}

TEST(FrameAssembler, NegativeSizeIsRejected) {
  FrameAssembler a(1024);
  EXPECT_EQ(StatusCode::invalid_argument, a.feed(size_prefix(0xffffffffu)).code());
  FrameAssembler b(1024);
  EXPECT_EQ(StatusCode::invalid_argument, b.feed(size_prefix(0x80000000u)).code());
}

TEST(FrameAssembler, SizeAboveMaxIsRejectedBeforeAllocating) {
  FrameAssembler a(1024);
  EXPECT_EQ(StatusCode::too_large, a.feed(size_prefix(1025)).code());
  EXPECT_EQ(0u, a.partial_capacity_bytes());
  FrameAssembler b(100 * MiB);
  EXPECT_EQ(StatusCode::too_large, b.feed(size_prefix(0x7fffffff)).code());
  EXPECT_EQ(0u, b.partial_capacity_bytes());
}

TEST(FrameAssembler, SizeEqualToMaxIsAccepted) {
  FrameAssembler a(4);
  ASSERT_TRUE(a.feed(framed({1, 2, 3, 4})).ok());
  EXPECT_TRUE(a.has_frame());
}

TEST(FrameAssembler, FramesBeforeABadSizeStayPoppable) {
  FrameAssembler a(1024);
  std::vector<uint8_t> input = framed({1});
  std::vector<uint8_t> bad = size_prefix(0);
  input.insert(input.end(), bad.begin(), bad.end());
  EXPECT_FALSE(a.feed(input).ok());
  ASSERT_TRUE(a.has_frame());
  EXPECT_EQ((std::vector<uint8_t>{1}), a.pop_frame());
}

TEST(FrameAssembler, HugeAnnouncedFrameHoldsOnlyWhatArrived) {
  FrameAssembler a(100 * MiB);
  ASSERT_TRUE(a.feed(size_prefix(100 * MiB)).ok());
  EXPECT_EQ(0u, a.partial_capacity_bytes());
  std::vector<uint8_t> dribble(1000, 0xab);
  for (int i = 0; i < 100; i++) ASSERT_TRUE(a.feed(dribble).ok());
  EXPECT_EQ(4u + 100'000u, a.partial_bytes());
  EXPECT_LE(a.partial_capacity_bytes(), FrameAssembler::kEagerBodyBytes);
  for (int i = 0; i < 3000; i++) ASSERT_TRUE(a.feed(dribble).ok());
  EXPECT_EQ(4u + 3'100'000u, a.partial_bytes());
  EXPECT_LE(a.partial_capacity_bytes(), 2u * 3'100'000u);
  EXPECT_FALSE(a.has_frame());
}

TEST(FrameAssembler, BufferNeverGrowsPastAnnouncedSize) {
  const uint32_t size = 3 * 64 * 1024 + 17;
  FrameAssembler a(size);
  ASSERT_TRUE(a.feed(size_prefix(size)).ok());
  std::vector<uint8_t> chunk(64 * 1024, 1);
  size_t fed = 0;
  while (fed + chunk.size() < size) {
    ASSERT_TRUE(a.feed(chunk).ok());
    fed += chunk.size();
    EXPECT_LE(a.partial_capacity_bytes(), size);
  }
  ASSERT_TRUE(a.feed(std::span(chunk).first(size - fed)).ok());
  ASSERT_TRUE(a.has_frame());
  std::vector<uint8_t> frame = a.pop_frame();
  EXPECT_EQ(size, frame.size());
  EXPECT_EQ(size, frame.capacity());
}

}  // namespace
}  // namespace cairn::net
