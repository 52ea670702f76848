// AuditLog: the access audit log (docs/audit.md). One JSON object per line for each SASL
// login (success or failure), each authorization denial, and each allowed read or write of a
// topic with cairn.audit.access=true.
//
// Any thread records events; the log's own thread writes them, in order, at the end of
// audit.log.file (through storage::Io, synced after each batch) and then hands each batch to
// the topic sink when one is set (__cairn_audit, see audit_topic.h). The queue is bounded
// (kQueueMax events of bounded size): past it events are dropped and counted, so a flood of
// denied requests never blocks a shard or grows memory. The file is only appended to, except that
// open() cuts a torn tail a crash left (a last line without its newline, or a page of zeros in
// lines that were never synced). reopen() starts writing to a new file at the same path
// after an operator has moved the old one away (SIGHUP).
//
//   AuditEvent event;
//   event.type = AuditEvent::Type::authorization;
//   event.principal = "User:bob"; ... ;
//   audit->record(std::move(event));
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "base/status.h"
#include "storage/io.h"

namespace cairn::broker::security {

// The topic config that opts a topic in to access events.
inline constexpr std::string_view kAuditAccessConfig = "cairn.audit.access";

struct AuditEvent {
  enum class Type : uint8_t { authentication, authorization, access };
  Type type = Type::authorization;
  // authentication: the login succeeded; authorization: always false (only denials are
  // recorded); access: always true.
  bool allowed = false;
  int64_t time_ms = 0;              // Unix ms; record() stamps it when 0
  std::string principal;            // "User:alice"; a failed login: the user it claimed, if any
  std::string listener;             // "SASL_SSL"
  std::string client;               // the client's address and port, "127.0.0.1:53122"
  std::string client_id;            // the request header's client id (authorization, access)
  std::string mechanism;            // authentication: "SCRAM-SHA-256", "PLAIN"
  std::string reason;               // authentication failure: why
  std::string api;                  // authorization, access: the request's API ("Produce")
  std::string operation;            // authorization, access: Kafka's ACL operation ("WRITE")
  std::string resource_type;        // "TOPIC", "GROUP", "CLUSTER", "TRANSACTIONAL_ID"
  std::string resource;             // the resource's name ("kafka-cluster" for CLUSTER)
  std::vector<int32_t> partitions;  // access: the topic's partitions the request touched
};

// The event as one line of JSON, without the newline (the schema in docs/audit.md).
std::string audit_event_json(const AuditEvent& event);

class AuditLog {
 public:
  static constexpr size_t kQueueMax = 100'000;
  // Each text field an event takes from a client (names, client id, reason) is cut to this
  // many bytes, so an event stays under ~2 KiB and the queue under ~200 MiB.
  static constexpr size_t kFieldBytesMax = 256;
  // Events written and synced as one batch: at most ~2 MiB, well inside the tail that open()
  // scans for a torn write.
  static constexpr size_t kBatchMax = 1000;
  // Receives each batch of lines (no newlines) on the log's thread after they are in the file.
  using Sink = std::function<void(std::vector<std::string> lines)>;

  // Opens (creating it and its directory) `file` for appending, through `io` (which outlives
  // the log), and starts the log's thread.
  static Result<std::unique_ptr<AuditLog>> open(storage::Io& io, const std::filesystem::path& file);
  // Writes what is queued, then stops the thread.
  ~AuditLog();
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  // Queues `event`; any thread. Dropped (and counted) when the queue is full.
  void record(AuditEvent event);
  // Set before events are recorded, or from the thread that will not record concurrently
  // with the change (the server, at startup).
  void set_sink(Sink sink);
  // Closes the file and opens the path again (after logrotate moved it); any thread.
  void reopen();
  // Blocks until every event recorded before the call is written (tests, shutdown).
  void flush();

  // Events in the file (synced), and events lost: a full queue, or a batch the file refused.
  uint64_t written() const;
  uint64_t dropped() const;

 private:
  struct Appender {
    std::shared_ptr<storage::File> file;
    uint64_t size_bytes = 0;  // where the next line goes
  };
  AuditLog(storage::Io& io, std::filesystem::path file, Appender appender);
  static Result<Appender> open_appender(storage::Io& io, const std::filesystem::path& file);
  void run();
  void write_batch(std::deque<AuditEvent>& batch);

  storage::Io& io_;
  const std::filesystem::path path_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;     // the thread: events queued, reopen, stop
  std::condition_variable written_;  // flush(): a batch was written
  std::deque<AuditEvent> queue_;
  uint64_t recorded_ = 0;  // events accepted into the queue, ever
  uint64_t done_ = 0;      // of those, handled by the thread (written or failed)
  uint64_t written_count_ = 0;
  uint64_t dropped_ = 0;
  bool reopen_ = false;
  bool stop_ = false;
  Sink sink_;
  Appender appender_;  // the thread's, after open()
  std::thread thread_;
};

}  // namespace cairn::broker::security
