#include "broker/metrics_collector.h"

#include <gtest/gtest.h>

namespace cairn::broker {
namespace {

bool has_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos;
}

TEST(MetricsCollector, RequestLabelIsSnakeCaseOfTheApiName) {
  EXPECT_EQ(request_label("Produce"), "produce");
  EXPECT_EQ(request_label("ApiVersions"), "api_versions");
  EXPECT_EQ(request_label("DescribeUserScramCredentials"), "describe_user_scram_credentials");
}

TEST(MetricsCollector, RequestFamiliesShowOnlyUsedApisAndNonZeroErrors) {
  BrokerMetrics metrics;
  metrics.request_latency(0)->observe(2'000'000);  // Produce, 2 ms
  metrics.request_latency(0)->observe(3'000'000);
  metrics.count_error(0, ErrorCode::not_leader_or_follower);
  metrics.topic("orders").add_in(100, 4);
  metrics.topic("orders").add_out(60, 3);
  metrics.connections.add(2);
  metrics::Exposition out;
  collect_request_metrics(metrics, out);
  std::string text = std::move(out).text();
  EXPECT_TRUE(has_line(text, "cairn_kafka_requests_total{request=\"produce\"} 2")) << text;
  EXPECT_TRUE(has_line(
      text, "cairn_kafka_request_latency_seconds_bucket{request=\"produce\",le=\"0.001\"} 0"));
  EXPECT_TRUE(has_line(
      text, "cairn_kafka_request_latency_seconds_bucket{request=\"produce\",le=\"0.0025\"} 1"));
  EXPECT_TRUE(has_line(text, "cairn_kafka_request_latency_seconds_sum{request=\"produce\"} 0.005"));
  EXPECT_EQ(text.find("request=\"fetch\""), std::string::npos);  // never called
  EXPECT_TRUE(
      has_line(text, "cairn_kafka_request_errors_total{request=\"produce\",error_code=\"6\"} 1"));
  EXPECT_TRUE(
      has_line(text, "cairn_kafka_request_bytes_total{topic=\"orders\",request=\"produce\"} 100"));
  EXPECT_TRUE(
      has_line(text, "cairn_kafka_request_bytes_total{topic=\"orders\",request=\"consume\"} 60"));
  EXPECT_TRUE(has_line(text, "cairn_kafka_records_produced_total{topic=\"orders\"} 4"));
  EXPECT_TRUE(has_line(text, "cairn_kafka_records_fetched_total{topic=\"orders\"} 3"));
  EXPECT_TRUE(has_line(text, "cairn_rpc_active_connections{server=\"kafka\"} 2"));
}

TEST(MetricsCollector, FlushFamiliesAreHistogramsInSecondsAndBatches) {
  storage::FlushMetrics flush;
  flush.fsync_latency_ns.observe(400'000);
  flush.batches_per_flush.observe(3);
  metrics::Exposition out;
  collect_flush_metrics(flush, out);
  std::string text = std::move(out).text();
  EXPECT_TRUE(has_line(text, "cairn_storage_fsync_latency_seconds_bucket{le=\"0.0005\"} 1"));
  EXPECT_TRUE(has_line(text, "cairn_storage_fsync_latency_seconds_count 1"));
  EXPECT_TRUE(has_line(text, "cairn_storage_batches_per_fsync_bucket{le=\"2\"} 0"));
  EXPECT_TRUE(has_line(text, "cairn_storage_batches_per_fsync_bucket{le=\"4\"} 1"));
  EXPECT_TRUE(has_line(text, "cairn_storage_batches_per_fsync_sum 3"));
}

}  // namespace
}  // namespace cairn::broker
