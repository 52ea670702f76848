#include "base/status.h"

#include <gtest/gtest.h>

#include <memory>

namespace cairn {
namespace {

Result<int> parse_positive(int v) {
  if (v <= 0) return error(StatusCode::invalid_argument, "not positive");
  return v;
}

Status chain(int v) {
  RETURN_IF_ERROR(parse_positive(v).status());
  return Status();
}

TEST(Status, OkAndErrors) {
  EXPECT_TRUE(Status().ok());
  Status s = error(StatusCode::corrupt, "crc mismatch");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ("corrupt: crc mismatch", s.to_string());
}

TEST(Result, HoldsValueOrStatus) {
  auto good = parse_positive(3);
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(3, *good);
  auto bad = parse_positive(-1);
  EXPECT_FALSE(bad.ok());
  EXPECT_EQ(StatusCode::invalid_argument, bad.status().code());
  EXPECT_TRUE(chain(1).ok());
  EXPECT_EQ(StatusCode::invalid_argument, chain(0).code());
}

TEST(Result, MoveOnlyValue) {
  Result<std::unique_ptr<int>> r(std::make_unique<int>(5));
  std::unique_ptr<int> p = std::move(r).value();
  EXPECT_EQ(5, *p);
}

}  // namespace
}  // namespace cairn
