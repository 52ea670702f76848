#include "metrics/exposition.h"

#include <gtest/gtest.h>

#include "metrics/registry.h"

namespace cairn::metrics {
namespace {

TEST(Exposition, FamilyHasHelpAndTypeThenSamples) {
  Exposition out;
  out.family("cairn_x_total", "Things done", Type::counter);
  out.sample("cairn_x_total", {{"topic", "a"}}, uint64_t{3});
  out.sample("cairn_x_total", {{"topic", "b"}, {"request", "produce"}}, uint64_t{4});
  out.family("cairn_g", "A gauge", Type::gauge);
  out.sample("cairn_g", {}, int64_t{-2});
  EXPECT_EQ(std::move(out).text(),
            "# HELP cairn_x_total Things done\n"
            "# TYPE cairn_x_total counter\n"
            "cairn_x_total{topic=\"a\"} 3\n"
            "cairn_x_total{topic=\"b\",request=\"produce\"} 4\n"
            "# HELP cairn_g A gauge\n"
            "# TYPE cairn_g gauge\n"
            "cairn_g -2\n");
}

TEST(Exposition, LabelValuesEscapeBackslashQuoteAndNewline) {
  EXPECT_EQ(escape_label_value("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
  EXPECT_EQ(escape_label_value("plain.topic-1_x"), "plain.topic-1_x");
  Exposition out;
  out.family("m", "h", Type::gauge);
  out.sample("m", {{"topic", "we\"ird\\\n"}}, uint64_t{1});
  EXPECT_EQ(std::move(out).text(), "# HELP m h\n# TYPE m gauge\nm{topic=\"we\\\"ird\\\\\\n\"} 1\n");
}

TEST(Exposition, HelpEscapesBackslashAndNewlineButNotQuotes) {
  EXPECT_EQ(escape_help("a\\b\n\"c\""), "a\\\\b\\n\"c\"");
}

TEST(Exposition, ValuesFormatSpecialsByName) {
  EXPECT_EQ(format_value(1.5), "1.5");
  EXPECT_EQ(format_value(0.0001), "0.0001");
  EXPECT_EQ(format_value(3.0), "3");
  EXPECT_EQ(format_value(1.0 / 0.0), "+Inf");
  EXPECT_EQ(format_value(-1.0 / 0.0), "-Inf");
  EXPECT_EQ(format_value(0.0 / 0.0), "NaN");
}

TEST(Exposition, HistogramBucketsAreCumulativeWithInfSumAndCount) {
  Histogram histogram({100'000, 1'000'000'000});  // 100 us, 1 s in ns
  histogram.observe(50'000);
  histogram.observe(500'000'000);
  histogram.observe(2'000'000'000);
  Exposition out;
  out.family("cairn_lat_seconds", "Latency", Type::histogram);
  out.histogram("cairn_lat_seconds", {{"request", "produce"}}, histogram.snapshot(), 1e9);
  EXPECT_EQ(std::move(out).text(),
            "# HELP cairn_lat_seconds Latency\n"
            "# TYPE cairn_lat_seconds histogram\n"
            "cairn_lat_seconds_bucket{request=\"produce\",le=\"0.0001\"} 1\n"
            "cairn_lat_seconds_bucket{request=\"produce\",le=\"1\"} 2\n"
            "cairn_lat_seconds_bucket{request=\"produce\",le=\"+Inf\"} 3\n"
            "cairn_lat_seconds_sum{request=\"produce\"} 2.50005\n"
            "cairn_lat_seconds_count{request=\"produce\"} 3\n");
}

TEST(Exposition, NamesFollowTheDataModel) {
  EXPECT_TRUE(valid_metric_name("cairn_kafka_request_latency_seconds"));
  EXPECT_TRUE(valid_metric_name("a:b_c9"));
  EXPECT_FALSE(valid_metric_name("9abc"));
  EXPECT_FALSE(valid_metric_name("a-b"));
  EXPECT_FALSE(valid_metric_name(""));
  EXPECT_TRUE(valid_label_name("error_code"));
  EXPECT_FALSE(valid_label_name("a:b"));
}

TEST(Exposition, DuplicateFamilyDies) {
  Exposition out;
  out.family("m", "h", Type::gauge);
  EXPECT_DEATH(out.family("m", "h", Type::gauge), "");
}

TEST(Registry, ScrapeRunsCollectorsInOrderAndRemoveDropsOne) {
  Registry registry;
  registry.add([](Exposition& out) {
    out.family("a", "first", Type::gauge);
    out.sample("a", {}, uint64_t{1});
  });
  Registry::CollectorId second = registry.add([](Exposition& out) {
    out.family("b", "second", Type::gauge);
    out.sample("b", {}, uint64_t{2});
  });
  EXPECT_EQ(registry.scrape(),
            "# HELP a first\n# TYPE a gauge\na 1\n# HELP b second\n# TYPE b gauge\nb 2\n");
  registry.remove(second);
  registry.remove(second);
  EXPECT_EQ(registry.scrape(), "# HELP a first\n# TYPE a gauge\na 1\n");
}

}  // namespace
}  // namespace cairn::metrics
