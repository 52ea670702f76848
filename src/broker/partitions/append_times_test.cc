// AppendTimes (append_times.h): the age it reports for a record is never younger than the
// truth and at most one sample interval older; the table stays bounded however long a
// partition is written, and old records keep a time (coarser) after thinning.
#include "broker/partitions/append_times.h"

#include <gtest/gtest.h>

namespace cairn::broker {
namespace {

TEST(AppendTimes, RecordBeforeTheFirstAppendHasNoTime) {
  AppendTimes times;
  EXPECT_FALSE(times.appended_at_ms(Offset(0)).has_value());
  times.record(Offset(10), 5'000);
  EXPECT_FALSE(times.appended_at_ms(Offset(9)).has_value());
  EXPECT_EQ(times.appended_at_ms(Offset(10)), 5'000);
  EXPECT_EQ(times.appended_at_ms(Offset(500)), 5'000);
}

TEST(AppendTimes, AppendsWithinOneIntervalShareASampleAndErrOnTheOldSide) {
  AppendTimes times;
  times.record(Offset(0), 10'000);
  times.record(Offset(5), 10'400);   // within 1 s: not sampled
  times.record(Offset(9), 11'000);   // sampled
  times.record(Offset(20), 70'000);  // after an idle minute
  EXPECT_EQ(times.sample_count(), 3u);
  EXPECT_EQ(times.appended_at_ms(Offset(5)), 10'000);  // truly 10'400: 0.4 s older
  EXPECT_EQ(times.appended_at_ms(Offset(9)), 11'000);
  EXPECT_EQ(times.appended_at_ms(Offset(19)), 11'000);
  EXPECT_EQ(times.appended_at_ms(Offset(20)), 70'000);
}

TEST(AppendTimes, ClockSteppingBackNeverMakesTimesGoBackwards) {
  AppendTimes times;
  times.record(Offset(0), 50'000);
  times.record(Offset(1), 20'000);  // the wall clock stepped back: not sampled
  times.record(Offset(2), 52'000);
  EXPECT_EQ(times.appended_at_ms(Offset(1)), 50'000);
  EXPECT_EQ(times.appended_at_ms(Offset(2)), 52'000);
}

TEST(AppendTimes, StaysBoundedAndKeepsOldRecordsCoarselyAfterDaysOfAppends) {
  AppendTimes times;
  const int64_t seconds = 3 * 24 * 3600;
  for (int64_t s = 0; s < seconds; s++) times.record(Offset(s * 10), s * 1000);
  EXPECT_LE(times.sample_count(), AppendTimes::kSamplesMax);
  // The newest records: exact to the second.
  int64_t last = seconds - 1;
  EXPECT_EQ(times.appended_at_ms(Offset(last * 10 + 5)), last * 1000);
  // Every record still has a time no later than its true one, and the first sample never goes.
  for (int64_t s : {int64_t{0}, int64_t{1}, seconds / 2, seconds - 200}) {
    std::optional<int64_t> at = times.appended_at_ms(Offset(s * 10));
    ASSERT_TRUE(at.has_value()) << s;
    EXPECT_LE(*at, s * 1000) << s;
  }
  EXPECT_EQ(times.appended_at_ms(Offset(0)), 0);
}

TEST(AppendTimes, RecentMinutesKeepOneSecondResolutionAfterThinning) {
  AppendTimes times;
  for (int64_t s = 0; s < 10'000; s++) times.record(Offset(s), s * 1000);
  for (int64_t s = 10'000 - 100; s < 10'000; s++) {
    EXPECT_EQ(times.appended_at_ms(Offset(s)), s * 1000) << s;
  }
}

}  // namespace
}  // namespace cairn::broker
