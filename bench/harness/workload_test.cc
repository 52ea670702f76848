#include "workload.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

namespace cairn::bench {
namespace {

constexpr const char* kLatency = R"(
name: e2e-latency-1kb-20mb
description: fixed rate, acks=all
kind: fixed_rate_latency
message_bytes: 1KiB
partitions: 16
acks: all
rate_bytes_per_second: 20MB
duration_seconds: 20
warmup_seconds: 5
runs: 3
systems: [cairn, peer_default, peer_durable]
kafka_producer:
  linger.ms: 1
  batch.size: 131072
kafka_consumer:
  fetch.wait.max.ms: 100
quick:
  duration_seconds: 2
  warmup_seconds: 0.5
  runs: 1
)";

TEST(ParseByteSize, BinaryAndDecimalUnits) {
  EXPECT_EQ(*parse_byte_size("4096"), 4096u);
  EXPECT_EQ(*parse_byte_size("100B"), 100u);
  EXPECT_EQ(*parse_byte_size("1KiB"), 1024u);
  EXPECT_EQ(*parse_byte_size("64MiB"), 64u << 20);
  EXPECT_EQ(*parse_byte_size("2GiB"), 2ull << 30);
  EXPECT_EQ(*parse_byte_size("20MB"), 20000000u);
  EXPECT_EQ(*parse_byte_size("1 GB"), 1000000000u);
  EXPECT_EQ(*parse_byte_size("500KB"), 500000u);
}

TEST(ParseByteSize, RejectsGarbageUnitsAndOverflow) {
  EXPECT_FALSE(parse_byte_size("").ok());
  EXPECT_FALSE(parse_byte_size("MiB").ok());
  EXPECT_FALSE(parse_byte_size("12 parsecs").ok());
  EXPECT_FALSE(parse_byte_size("-5").ok());
  EXPECT_FALSE(parse_byte_size("99999999999999GiB").ok());
}

TEST(ParseWorkload, ReadsEveryField) {
  auto w = parse_workload(kLatency, /*quick=*/false);
  ASSERT_TRUE(w.ok()) << w.status().to_string();
  EXPECT_EQ(w->name, "e2e-latency-1kb-20mb");
  EXPECT_EQ(w->kind, WorkloadKind::fixed_rate_latency);
  EXPECT_EQ(w->message_bytes, 1024u);
  EXPECT_EQ(w->partition_count, 16u);
  EXPECT_EQ(w->acks, Acks::all);
  EXPECT_EQ(w->rate_bytes_per_second, 20000000u);
  EXPECT_DOUBLE_EQ(w->messages_per_second(), 20000000.0 / 1024);
  EXPECT_DOUBLE_EQ(w->duration_seconds, 20);
  EXPECT_DOUBLE_EQ(w->warmup_seconds, 5);
  EXPECT_EQ(w->run_count, 3u);
  ASSERT_EQ(w->systems.size(), 3u);
  EXPECT_EQ(w->systems[2], "peer_durable");
  EXPECT_EQ(w->kafka_producer.at("linger.ms"), "1");
  EXPECT_EQ(w->kafka_producer.at("batch.size"), "131072");
  EXPECT_EQ(w->kafka_consumer.at("fetch.wait.max.ms"), "100");
}

TEST(ParseWorkload, QuickOverridesApplyOnlyWhenAsked) {
  auto full = parse_workload(kLatency, false);
  auto quick = parse_workload(kLatency, true);
  ASSERT_TRUE(full.ok() && quick.ok());
  EXPECT_DOUBLE_EQ(full->duration_seconds, 20);
  EXPECT_DOUBLE_EQ(quick->duration_seconds, 2);
  EXPECT_DOUBLE_EQ(quick->warmup_seconds, 0.5);
  EXPECT_EQ(quick->run_count, 1u);
  EXPECT_EQ(quick->message_bytes, 1024u);  // untouched fields keep the file's value
}

TEST(ParseWorkload, UnknownKeyIsAnErrorNamingIt) {
  auto w = parse_workload("name: x\nkind: max_rate_produce\nsystems: [cairn]\nmesage_bytes: 10\n",
                          false);
  ASSERT_FALSE(w.ok());
  EXPECT_NE(w.status().message().find("mesage_bytes"), std::string::npos);
}

TEST(ParseWorkload, FixedRateWithoutRateIsRejected) {
  auto w = parse_workload("name: x\nkind: fixed_rate_latency\nsystems: [cairn]\n", false);
  ASSERT_FALSE(w.ok());
  EXPECT_NE(w.status().message().find("rate_bytes_per_second"), std::string::npos);
}

TEST(ParseWorkload, CatchUpNeedsABacklog) {
  const char* text = "name: x\nkind: catch_up\nsystems: [cairn]\n";
  EXPECT_FALSE(parse_workload(text, false).ok());
  auto w = parse_workload(std::string(text) + "backlog_bytes: 2GiB\n", false);
  ASSERT_TRUE(w.ok()) << w.status().to_string();
  EXPECT_EQ(w->backlog_bytes, 2ull << 30);
}

TEST(ParseWorkload, OutOfRangeValuesAreRejected) {
  const std::string base = "name: x\nkind: max_rate_produce\nsystems: [cairn]\n";
  EXPECT_FALSE(parse_workload(base + "message_bytes: 8\n", false).ok());     // < 16 B header
  EXPECT_FALSE(parse_workload(base + "message_bytes: 2MiB\n", false).ok());  // > 1 MiB
  EXPECT_FALSE(parse_workload(base + "partitions: 0\n", false).ok());
  EXPECT_FALSE(parse_workload(base + "partitions: 10001\n", false).ok());
  EXPECT_FALSE(parse_workload(base + "runs: 0\n", false).ok());
  EXPECT_FALSE(parse_workload(base + "duration_seconds: -1\n", false).ok());
  EXPECT_FALSE(parse_workload(base + "acks: 2\n", false).ok());
  EXPECT_FALSE(parse_workload(base + "kind: fastest\n", false).ok());
  EXPECT_FALSE(parse_workload(base + "partitions: many\n", false).ok());
  EXPECT_TRUE(parse_workload(base + "acks: 1\npartitions: 1000\n", false).ok());
}

TEST(ParseWorkload, SystemsMustBeKnownVariants) {
  const std::string base = "name: x\nkind: max_rate_produce\n";
  EXPECT_FALSE(parse_workload(base, false).ok());
  EXPECT_FALSE(parse_workload(base + "systems: [kafka]\n", false).ok());
  EXPECT_FALSE(parse_workload(base + "systems: cairn\n", false).ok());
  EXPECT_TRUE(parse_workload(base + "systems: [peer_default]\n", false).ok());
}

TEST(ParseWorkload, TransactionalReadsItsCommitInterval) {
  const std::string base = "name: x\nkind: max_rate_produce\nsystems: [cairn]\n";
  auto plain = parse_workload(base, false);
  ASSERT_TRUE(plain.ok()) << plain.status().to_string();
  EXPECT_FALSE(plain->transactional.has_value());
  auto w = parse_workload(base + "transactional: {commit_interval_ms: 100}\n", false);
  ASSERT_TRUE(w.ok()) << w.status().to_string();
  ASSERT_TRUE(w->transactional.has_value());
  EXPECT_EQ(w->transactional->commit_interval_ms, 100u);
  auto quick = parse_workload(base + "transactional: {commit_interval_ms: 100}\n" +
                                  "quick: {transactional: {commit_interval_ms: 20}}\n",
                              true);
  ASSERT_TRUE(quick.ok()) << quick.status().to_string();
  EXPECT_EQ(quick->transactional->commit_interval_ms, 20u);
  auto catch_up = parse_workload(
      "name: x\nkind: catch_up\nsystems: [cairn]\nbacklog_bytes: 1MiB\ntransactional: {}\n", false);
  ASSERT_TRUE(catch_up.ok()) << catch_up.status().to_string();
  EXPECT_EQ(catch_up->transactional->commit_interval_ms, 100u);  // the default
}

TEST(ParseWorkload, TransactionalIsKafkaOnlyWithAcksAll) {
  const std::string txn = "transactional: {commit_interval_ms: 100}\n";
  const std::string base = "name: x\nkind: max_rate_produce\n";
  EXPECT_FALSE(parse_workload(base + "systems: [cairn, peer_default]\n" + txn, false).ok());
  EXPECT_FALSE(parse_workload(base + "systems: [peer_durable]\n" + txn, false).ok());
  EXPECT_FALSE(parse_workload(base + "systems: [cairn]\nacks: 1\n" + txn, false).ok());
  const std::string latency = "name: x\nkind: fixed_rate_latency\nrate_bytes_per_second: 1MB\n";
  EXPECT_FALSE(parse_workload(latency + "systems: [cairn]\n" + txn, false).ok());
}

TEST(ParseWorkload, TransactionalRejectsUnknownKeysAndBadIntervals) {
  const std::string base = "name: x\nkind: max_rate_produce\nsystems: [cairn]\n";
  EXPECT_FALSE(parse_workload(base + "transactional: {commit_every_ms: 100}\n", false).ok());
  EXPECT_FALSE(parse_workload(base + "transactional: {commit_interval_ms: 0}\n", false).ok());
  EXPECT_FALSE(parse_workload(base + "transactional: {commit_interval_ms: 60001}\n", false).ok());
  EXPECT_FALSE(parse_workload(base + "transactional: true\n", false).ok());
  EXPECT_TRUE(parse_workload(base + "transactional: {commit_interval_ms: 60000}\n", false).ok());
}

TEST(ParseWorkload, CompareWithNamesAnotherWorkload) {
  const std::string base = "name: x\nkind: max_rate_produce\nsystems: [cairn]\n";
  auto plain = parse_workload(base, false);
  ASSERT_TRUE(plain.ok()) << plain.status().to_string();
  EXPECT_EQ(plain->compare_with, "");
  auto w = parse_workload(base + "compare_with: y\n", false);
  ASSERT_TRUE(w.ok()) << w.status().to_string();
  EXPECT_EQ(w->compare_with, "y");
  EXPECT_FALSE(parse_workload(base + "compare_with: x\n", false).ok());
  EXPECT_FALSE(parse_workload(base + "compare_with: [y]\n", false).ok());
}

TEST(ParseWorkload, MalformedYamlIsAnErrorNotACrash) {
  EXPECT_FALSE(parse_workload("name: [unclosed\n", false).ok());
  EXPECT_FALSE(parse_workload("- just\n- a list\n", false).ok());
  EXPECT_FALSE(parse_workload("", false).ok());
}

// Every workload shipped in bench/workloads/ parses, both full and quick.
TEST(ParseWorkload, ShippedWorkloadFilesParse) {
  const std::filesystem::path dir = std::filesystem::path(CAIRN_SOURCE_DIR) / "bench/workloads";
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".yaml") continue;
    files++;
    for (bool quick : {false, true}) {
      auto w = load_workload_file(entry.path().string(), quick);
      EXPECT_TRUE(w.ok()) << entry.path() << ": " << w.status().to_string();
    }
  }
  EXPECT_GE(files, 9);
}

}  // namespace
}  // namespace cairn::bench
