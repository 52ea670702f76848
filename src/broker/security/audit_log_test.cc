// The access audit log: the event schema, appending to the file, reopening after a move, the
// topic sink, and the bounded queue.
#include "broker/security/audit_log.h"

#include <gtest/gtest.h>

#include <stdlib.h>

#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "testing/fault_io.h"

namespace cairn::broker::security {
namespace {

// A fresh directory, removed with everything in it at the end of the test.
class TempDir {
 public:
  TempDir() {
    char pattern[] = "/tmp/cairn_audit_test_XXXXXX";
    path_ = mkdtemp(pattern);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

std::vector<nlohmann::json> read_lines(const std::filesystem::path& file) {
  std::vector<nlohmann::json> out;
  std::ifstream in(file);
  for (std::string line; std::getline(in, line);) out.push_back(nlohmann::json::parse(line));
  return out;
}

AuditEvent denial(std::string topic) {
  AuditEvent event;
  event.type = AuditEvent::Type::authorization;
  event.time_ms = 1'796'000'000'123;
  event.principal = "User:bob";
  event.listener = "SASL_PLAINTEXT";
  event.client = "127.0.0.1:50000";
  event.client_id = "rdkafka";
  event.api = "Produce";
  event.operation = "WRITE";
  event.resource_type = "TOPIC";
  event.resource = std::move(topic);
  return event;
}

TEST(AuditEventJson, FieldsPerType) {
  nlohmann::json denied = nlohmann::json::parse(audit_event_json(denial("orders")));
  EXPECT_EQ(denied["time"], "2026-11-30T00:53:20.123Z");
  EXPECT_EQ(denied["type"], "authorization");
  EXPECT_EQ(denied["result"], "denied");
  EXPECT_EQ(denied["principal"], "User:bob");
  EXPECT_EQ(denied["client_id"], "rdkafka");
  EXPECT_EQ(denied["api"], "Produce");
  EXPECT_EQ(denied["operation"], "WRITE");
  EXPECT_EQ(denied["resource_type"], "TOPIC");
  EXPECT_EQ(denied["resource"], "orders");
  EXPECT_FALSE(denied.contains("partitions"));
  EXPECT_FALSE(denied.contains("mechanism"));

  AuditEvent access = denial("patients");
  access.type = AuditEvent::Type::access;
  access.allowed = true;
  access.partitions = {0, 3};
  nlohmann::json read = nlohmann::json::parse(audit_event_json(access));
  EXPECT_EQ(read["result"], "allowed");
  EXPECT_EQ(read["partitions"], nlohmann::json::array({0, 3}));

  AuditEvent login;
  login.type = AuditEvent::Type::authentication;
  login.time_ms = 1;
  login.mechanism = "SCRAM-SHA-256";
  login.reason = "bad proof";
  nlohmann::json failed = nlohmann::json::parse(audit_event_json(login));
  EXPECT_EQ(failed["result"], "failure");
  EXPECT_EQ(failed["mechanism"], "SCRAM-SHA-256");
  EXPECT_EQ(failed["reason"], "bad proof");
  EXPECT_EQ(failed["principal"], "");
  EXPECT_FALSE(failed.contains("api"));
  login.allowed = true;
  EXPECT_FALSE(nlohmann::json::parse(audit_event_json(login)).contains("reason"));
}

TEST(AuditEventJson, InvalidUtf8FromClientsIsReplacedNotThrown) {
  AuditEvent event = denial(std::string("bad\xff\xfe", 5));
  nlohmann::json json = nlohmann::json::parse(audit_event_json(event));
  EXPECT_EQ(json["resource"].get<std::string>().substr(0, 3), "bad");
}

TEST(AuditLog, AppendsInOrderAndKeepsEarlierLines) {
  TempDir dir;
  std::filesystem::path file = dir.path() / "sub" / "audit.log";
  {
    auto log = AuditLog::open(storage::posix_io(), file);
    ASSERT_TRUE(log.ok()) << log.status().to_string();
    for (int i = 0; i < 50; i++) (*log)->record(denial("t" + std::to_string(i)));
  }  // the destructor writes what is queued
  {
    auto log = AuditLog::open(storage::posix_io(), file);
    ASSERT_TRUE(log.ok());
    (*log)->record(denial("after-restart"));
    (*log)->flush();
    EXPECT_EQ((*log)->written(), 1u);
  }
  std::vector<nlohmann::json> lines = read_lines(file);
  ASSERT_EQ(lines.size(), 51u);
  for (int i = 0; i < 50; i++) EXPECT_EQ(lines[i]["resource"], "t" + std::to_string(i));
  EXPECT_EQ(lines[50]["resource"], "after-restart");
}

TEST(AuditLog, ReopenStartsANewFileAfterAMove) {
  TempDir dir;
  std::filesystem::path file = dir.path() / "audit.log";
  auto log = AuditLog::open(storage::posix_io(), file);
  ASSERT_TRUE(log.ok());
  (*log)->record(denial("old"));
  (*log)->flush();
  std::filesystem::rename(file, dir.path() / "audit.log.1");
  (*log)->reopen();
  (*log)->record(denial("new"));
  (*log)->flush();
  std::vector<nlohmann::json> rotated = read_lines(dir.path() / "audit.log.1");
  std::vector<nlohmann::json> current = read_lines(file);
  ASSERT_EQ(rotated.size(), 1u);
  ASSERT_EQ(current.size(), 1u);
  EXPECT_EQ(rotated[0]["resource"], "old");
  EXPECT_EQ(current[0]["resource"], "new");
}

TEST(AuditLog, OpenFailsClearlyOnAnUnwritablePath) {
  TempDir dir;
  std::ofstream(dir.path() / "file") << "x";
  auto log = AuditLog::open(storage::posix_io(),
                            dir.path() / "file" / "audit.log");  // a file as a directory
  ASSERT_FALSE(log.ok());
  EXPECT_NE(log.status().message().find("cannot"), std::string::npos);
}

// The sink sees each batch after it is in the file; a stalled writer (here: a sink that
// blocks) fills the queue, and events past kQueueMax are dropped and counted, not queued.
TEST(AuditLog, SinkGetsBatchesAndAFullQueueDrops) {
  TempDir dir;
  auto log = AuditLog::open(storage::posix_io(), dir.path() / "audit.log");
  ASSERT_TRUE(log.ok());
  std::mutex mutex;
  std::condition_variable changed;
  bool entered = false;
  bool release = false;
  std::vector<std::string> seen;
  (*log)->set_sink([&](std::vector<std::string> lines) {
    std::unique_lock lock(mutex);
    seen.insert(seen.end(), lines.begin(), lines.end());
    entered = true;
    changed.notify_all();
    changed.wait(lock, [&] { return release; });
  });
  (*log)->record(denial("first"));
  {
    std::unique_lock lock(mutex);
    changed.wait(lock, [&] { return entered; });
  }
  for (size_t i = 0; i < AuditLog::kQueueMax + 7; i++) (*log)->record(denial("flood"));
  EXPECT_EQ((*log)->dropped(), 7u);
  {
    std::lock_guard lock(mutex);
    release = true;
  }
  changed.notify_all();
  (*log)->flush();
  EXPECT_EQ((*log)->written(), AuditLog::kQueueMax + 1);
  std::lock_guard lock(mutex);
  ASSERT_EQ(seen.size(), AuditLog::kQueueMax + 1);
  EXPECT_EQ(nlohmann::json::parse(seen.front())["resource"], "first");
}

std::vector<nlohmann::json> parse_lines(const std::vector<uint8_t>& bytes) {
  std::vector<nlohmann::json> out;
  std::string text(bytes.begin(), bytes.end());
  size_t start = 0;
  for (size_t end; (end = text.find('\n', start)) != std::string::npos; start = end + 1) {
    out.push_back(nlohmann::json::parse(text.substr(start, end - start)));
  }
  EXPECT_EQ(start, text.size()) << "a line without its newline";
  return out;
}

// Every event the log counted as written survives a power loss, torn pages included, and the
// log opens again after it and appends.
TEST(AuditLogFaults, WrittenEventsSurvivePowerLoss) {
  for (uint64_t seed = 1; seed <= 20; seed++) {
    testing::FaultIo io;
    const std::string file = "/audit/audit.log";
    {
      auto log = AuditLog::open(io, file);
      ASSERT_TRUE(log.ok()) << log.status().to_string();
      for (int i = 0; i < 30; i++) (*log)->record(denial("t" + std::to_string(i)));
      (*log)->flush();
      EXPECT_EQ((*log)->written(), 30u);
      io.power_loss(seed, /*torn=*/true);
    }
    auto log = AuditLog::open(io, file);
    ASSERT_TRUE(log.ok()) << log.status().to_string();
    (*log)->record(denial("after"));
    (*log)->flush();
    std::vector<nlohmann::json> lines = parse_lines(io.contents(file));
    ASSERT_EQ(lines.size(), 31u) << "seed " << seed;
    for (int i = 0; i < 30; i++) EXPECT_EQ(lines[i]["resource"], "t" + std::to_string(i));
    EXPECT_EQ(lines[30]["resource"], "after");
  }
}

// A crash in the middle of a batch leaves a line without its newline, or zeros: open() cuts
// back to the last whole line before them, so the next event starts a line of its own.
TEST(AuditLogFaults, OpenCutsATornTail) {
  testing::FaultIo io;
  const std::string file = "/audit/audit.log";
  ASSERT_TRUE(io.make_dirs("/audit").ok());
  ASSERT_TRUE(io.open(file, storage::OpenMode::create_read_write).ok());
  std::string whole = audit_event_json(denial("kept")) + "\n";
  for (std::string torn : {std::string("{\"time\":\"20"), std::string("\0\0\0\0{\"x\":1}\n", 12)}) {
    std::vector<uint8_t> bytes(whole.begin(), whole.end());
    bytes.insert(bytes.end(), torn.begin(), torn.end());
    io.set_contents(file, bytes);
    auto log = AuditLog::open(io, file);
    ASSERT_TRUE(log.ok());
    (*log)->record(denial("next"));
    (*log)->flush();
    std::vector<nlohmann::json> lines = parse_lines(io.contents(file));
    ASSERT_EQ(lines.size(), 2u);
    EXPECT_EQ(lines[0]["resource"], "kept");
    EXPECT_EQ(lines[1]["resource"], "next");
  }
}

// A batch the disk refuses (EIO on sync) is counted as dropped, not written, and the log
// carries on with the next one.
TEST(AuditLogFaults, AFailedSyncCountsAsDropped) {
  testing::FaultIo io;
  auto log = AuditLog::open(io, "/audit/audit.log");
  ASSERT_TRUE(log.ok());
  io.fail_syncs_after(0);
  (*log)->record(denial("lost"));
  (*log)->flush();
  EXPECT_EQ((*log)->written(), 0u);
  EXPECT_EQ((*log)->dropped(), 1u);
  io.clear_sync_failure();
  (*log)->record(denial("kept"));
  (*log)->flush();
  EXPECT_EQ((*log)->written(), 1u);
  std::vector<nlohmann::json> lines = parse_lines(io.contents("/audit/audit.log"));
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["resource"], "kept");
}

}  // namespace
}  // namespace cairn::broker::security
