#include "runner.h"

#include <sys/prctl.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <mutex>
#include <random>
#include <vector>

#include "clock.h"
#include "histogram.h"
#include "proc_stats.h"

namespace cairn::bench {
namespace {

using nlohmann::json;

constexpr int64_t kNsPerSecond = 1000000000;
constexpr int64_t kNsPerMs = 1000000;
constexpr int64_t kStallLimitNs = 30 * kNsPerSecond;
constexpr int kFlushTimeoutMs = 60000;
constexpr int kProbeTimeoutMs = 20000;
constexpr int64_t kNever = INT64_MAX;
// A fixed-rate sender this far behind its schedule has saturated the system: stop the run.
constexpr int64_t kBehindScheduleLimitNs = 5 * kNsPerSecond;
// The catch-up backlog is built for at most this long; a slower system gets a smaller backlog.
constexpr int64_t kFillTimeLimitNs = 120 * kNsPerSecond;
// After a max-rate run, acknowledgements still in flight get this long (not counted).
constexpr int kMaxRateDrainMs = 10000;

int64_t seconds_to_ns(double seconds) { return static_cast<int64_t>(seconds * kNsPerSecond); }

// One reusable message buffer: random bytes (incompressible) behind the 16-byte header.
class Payloads {
 public:
  explicit Payloads(uint32_t message_bytes) : buffer_(message_bytes) {
    ASSERT(message_bytes >= kMessageHeaderBytes);
    std::mt19937_64 random(12345);
    for (auto& byte : buffer_) byte = static_cast<uint8_t>(random());
  }
  std::span<const uint8_t> stamp(uint64_t token, uint64_t sequence) {
    store_u64(buffer_, 0, token);
    store_u64(buffer_, 8, sequence);
    return buffer_;
  }

 private:
  std::vector<uint8_t> buffer_;
};

// A measured window [start_ns, end_ns), set by the load thread and read by callback threads.
struct Window {
  std::atomic<int64_t> start_ns{kNever};
  std::atomic<int64_t> end_ns{kNever};
  void set(int64_t start, int64_t end) {
    start_ns.store(start);
    end_ns.store(end);
  }
  bool contains(int64_t t) const { return t >= start_ns.load() && t < end_ns.load(); }
};

json histogram_json(const LatencyHistogram& h) {
  if (h.count() == 0) return json{{"count", 0}};
  auto us = [](uint64_t ns) { return static_cast<double>(ns) / 1000.0; };
  return json{{"count", h.count()},
              {"min_us", us(h.min())},
              {"p50_us", us(h.percentile(50))},
              {"p90_us", us(h.percentile(90))},
              {"p99_us", us(h.percentile(99))},
              {"p999_us", us(h.percentile(99.9))},
              {"max_us", us(h.max())},
              {"mean_us", h.mean() / 1000.0}};
}

// Acknowledgements, counted from whichever thread the driver calls back on.
class AckStats {
 public:
  Window window;
  std::atomic<int64_t> acked{0};
  std::atomic<int64_t> acked_in_window{0};  // by arrival time: throughput
  std::atomic<int64_t> failed{0};
  std::atomic<int64_t> probes_acked{0};

  void on_ack(uint64_t token, bool ok) {
    const int64_t now = now_ns();
    if (!ok) {
      failed.fetch_add(1);
      return;
    }
    if (token == 0) {
      probes_acked.fetch_add(1);
      return;
    }
    acked.fetch_add(1);
    if (window.contains(now)) acked_in_window.fetch_add(1);
    if (window.contains(static_cast<int64_t>(token))) {  // by send time: latency
      std::lock_guard lock(mutex_);
      latency_.record(static_cast<uint64_t>(std::max<int64_t>(0, now - int64_t(token))));
    }
  }
  json latency_json() {
    std::lock_guard lock(mutex_);
    return histogram_json(latency_);
  }

 private:
  std::mutex mutex_;
  LatencyHistogram latency_;
};

// Consumed messages, counted from the consumer's thread(s).
class ReceiveStats {
 public:
  Window window;
  std::atomic<int64_t> received{0};
  std::atomic<int64_t> received_bytes{0};
  std::atomic<int64_t> received_from_window{0};  // messages sent inside the window
  std::atomic<int64_t> probes{0};
  std::atomic<int64_t> malformed{0};
  std::atomic<int64_t> first_ns{0};
  std::atomic<int64_t> last_ns{0};

  void on_message(std::span<const uint8_t> payload, int64_t receive_ns) {
    if (payload.size() < kMessageHeaderBytes) {
      malformed.fetch_add(1);
      return;
    }
    const auto token = static_cast<int64_t>(load_u64(payload, 0));
    if (token == 0) {
      probes.fetch_add(1);
      return;
    }
    int64_t expected = 0;
    first_ns.compare_exchange_strong(expected, receive_ns);
    last_ns.store(receive_ns);
    received.fetch_add(1);
    received_bytes.fetch_add(static_cast<int64_t>(payload.size()));
    if (window.contains(token)) {
      received_from_window.fetch_add(1);
      std::lock_guard lock(mutex_);
      latency_.record(static_cast<uint64_t>(std::max<int64_t>(0, receive_ns - token)));
    }
  }
  json latency_json() {
    std::lock_guard lock(mutex_);
    return histogram_json(latency_);
  }

 private:
  std::mutex mutex_;
  LatencyHistogram latency_;
};

// Sends one message, waiting out back-pressure; a producer with no progress for 30 s fails.
Status send_blocking(Producer& producer, int32_t partition, std::span<const uint8_t> payload,
                     uint64_t token) {
  int64_t stalled_since_ns = 0;
  while (true) {
    auto outcome = producer.send(partition, payload, token);
    if (!outcome.ok()) return outcome.status();
    if (*outcome == SendOutcome::sent) return Status();
    const int64_t now = now_ns();
    if (stalled_since_ns == 0) stalled_since_ns = now;
    if (now - stalled_since_ns > kStallLimitNs) {
      return error(StatusCode::timed_out, "producer stalled: no acknowledgement for 30 s");
    }
    producer.poll(1);
  }
}

// Waits until done() or timeout, sleeping in short steps. Returns done().
template <typename Done>
bool wait_for(Done done, int timeout_ms) {
  const int64_t deadline_ns = now_ns() + int64_t{timeout_ms} * kNsPerMs;
  while (!done() && now_ns() < deadline_ns) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return done();
}

int32_t partition_for(uint64_t sequence, uint32_t partition_count) {
  return static_cast<int32_t>(sequence % partition_count);
}

json usage_json(const ProcessUsage& usage, double moved_bytes) {
  if (!usage.valid) return json{{"measured", false}};
  json out = {{"measured", true},
              {"cpu_seconds", usage.cpu_seconds},
              {"rss_peak_bytes", usage.rss_peak_bytes},
              {"rss_end_bytes", usage.rss_end_bytes}};
  if (moved_bytes > 0) out["cpu_seconds_per_gb"] = usage.cpu_seconds / (moved_bytes / 1e9);
  return out;
}

struct Session {
  std::unique_ptr<Producer> producer;
  std::unique_ptr<AckStats> acks = std::make_unique<AckStats>();
};

Result<Session> open_producer(Driver& driver, const std::string& topic, const Workload& w) {
  Session session;
  AckStats* acks = session.acks.get();
  auto producer = driver.make_producer(
      topic, w.partition_count, w, [acks](uint64_t token, bool ok) { acks->on_ack(token, ok); });
  if (!producer.ok()) return producer.status();
  session.producer = std::move(*producer);
  return session;
}

// Sends one probe message (token 0) and waits for its acknowledgement.
Status probe_ack(Session& session, Payloads& payloads) {
  const int64_t before = session.acks->probes_acked.load();
  RETURN_IF_ERROR(send_blocking(*session.producer, 0, payloads.stamp(0, 0), 0));
  const bool acked = wait_for(
      [&] {
        session.producer->poll(1);
        return session.acks->probes_acked.load() > before || session.acks->failed.load() > 0;
      },
      kProbeTimeoutMs);
  if (acked && session.acks->probes_acked.load() > before) return Status();
  return error(StatusCode::io_error, session.acks->failed.load() > 0
                                         ? "the probe message was rejected"
                                         : "no acknowledgement for the probe message in 20 s");
}

// The transactions of a workload with `transactional:`: begin() opens the first, tick() commits
// it and opens the next once commit_interval_ms has passed, commit() ends the last. A message
// counts as delivered when its transaction has committed, at the end of the commit: the moment
// a read_committed consumer may see it. commit_transaction() waits for every acknowledgement
// of the transaction, so the acknowledgements counted since begin() are exactly its messages.
// Without `transactional:` every call does nothing. Load thread only.
class Transactions {
 public:
  Transactions(Producer& producer, const AckStats& acks, const Workload& w)
      : producer_(producer),
        acks_(acks),
        interval_ns_(w.transactional ? int64_t{w.transactional->commit_interval_ms} * kNsPerMs
                                     : 0) {}

  bool enabled() const { return interval_ns_ > 0; }
  int64_t committed_messages() const { return committed_messages_; }
  int64_t committed_in_window() const { return committed_in_window_; }

  Status begin() {
    if (!enabled()) return Status();
    RETURN_IF_ERROR(producer_.begin_transaction());
    acked_at_begin_ = acks_.acked.load();
    commit_due_ns_ = now_ns() + interval_ns_;
    return Status();
  }

  Status tick(int64_t now) {
    if (!enabled() || now < commit_due_ns_) return Status();
    RETURN_IF_ERROR(commit());
    return begin();
  }

  Status commit() {
    if (!enabled()) return Status();
    const int64_t started_ns = now_ns();
    // The drain first, on its own, so that the two parts of a commit are timed apart: waiting
    // for the transaction's last acknowledgements, then EndTxn alone. A drain that times out
    // is left to commit_transaction(), which waits for the rest itself.
    (void)producer_.flush(kFlushTimeoutMs);
    const int64_t drained_ns = now_ns();
    auto outcome = producer_.commit_transaction();
    if (!outcome.ok()) return outcome.status();
    const int64_t ended_ns = now_ns();
    const int64_t messages = acks_.acked.load() - acked_at_begin_;
    drain_latency_.record(static_cast<uint64_t>(drained_ns - started_ns));
    end_latency_.record(static_cast<uint64_t>(ended_ns - drained_ns));
    commit_ns_ += ended_ns - started_ns;
    if (*outcome == CommitOutcome::aborted) {
      aborted_count_++;
      aborted_messages_ += messages;
      return Status();
    }
    committed_count_++;
    committed_messages_ += messages;
    if (acks_.window.contains(ended_ns)) {
      committed_count_in_window_++;
      committed_in_window_ += messages;
      commit_ns_in_window_ += ended_ns - std::max(started_ns, acks_.window.start_ns.load());
    }
    return Status();
  }

  // commit_seconds: the time the producer spent committing (drain_latency: waiting for the
  // transaction's last acknowledgements; end_latency: then commit_transaction(), EndTxn);
  // with a measured window (window_seconds > 0), committed_in_window: the transactions whose
  // commit ended in it, and commit_blocked_fraction: the window's share spent committing.
  // While the drain lasts the producer sends nothing new, but what it queued is still being
  // written.
  json to_json(double window_seconds) const {
    json out = {{"commit_interval_ms", interval_ns_ / kNsPerMs},
                {"committed", committed_count_},
                {"aborted", aborted_count_},
                {"committed_messages", committed_messages_},
                {"aborted_messages", aborted_messages_},
                {"drain_latency", histogram_json(drain_latency_)},
                {"end_latency", histogram_json(end_latency_)},
                {"commit_seconds", static_cast<double>(commit_ns_) / kNsPerSecond}};
    if (window_seconds > 0) {
      out["committed_in_window"] = committed_count_in_window_;
      out["commit_blocked_fraction"] =
          static_cast<double>(commit_ns_in_window_) / kNsPerSecond / window_seconds;
    }
    return out;
  }

 private:
  Producer& producer_;
  const AckStats& acks_;
  const int64_t interval_ns_;
  int64_t acked_at_begin_ = 0;
  int64_t commit_due_ns_ = 0;
  int64_t committed_count_ = 0;
  int64_t aborted_count_ = 0;
  int64_t committed_messages_ = 0;
  int64_t aborted_messages_ = 0;
  int64_t committed_count_in_window_ = 0;
  int64_t committed_in_window_ = 0;  // messages
  int64_t commit_ns_ = 0;
  int64_t commit_ns_in_window_ = 0;
  LatencyHistogram drain_latency_;
  LatencyHistogram end_latency_;
};

// The figures of one max-rate run. `delivered_in_window`: messages acknowledged in the window,
// or for a transactional workload, messages of the transactions committed in it.
json max_rate_json(const Workload& w, const AckStats& acks, int64_t delivered_in_window,
                   uint64_t sent_messages, const ProcessUsage& usage, double client_cpu_seconds) {
  const double bytes = static_cast<double>(delivered_in_window) * w.message_bytes;
  json out = {
      {"bytes_per_second", bytes / w.duration_seconds},
      {"messages_per_second", static_cast<double>(delivered_in_window) / w.duration_seconds},
      {"sent_messages", sent_messages},
      {"acked_messages", acks.acked.load()},
      {"failed_messages", acks.failed.load()},
      {"broker", usage_json(usage, bytes)},
      {"client_cpu_seconds", client_cpu_seconds}};
  if (bytes > 0) out["client_cpu_seconds_per_gb"] = client_cpu_seconds / (bytes / 1e9);
  return out;
}

// Workload kind max_rate_produce: one producer sending as fast as acknowledgements allow.
Result<json> max_rate_run(Driver& driver, const Workload& w, const RunOptions& options,
                          const std::string& topic) {
  RETURN_IF_ERROR(driver.create_topic(topic, w.partition_count));
  auto session = open_producer(driver, topic, w);
  if (!session.ok()) return session.status();
  Producer& producer = *session->producer;
  AckStats& acks = *session->acks;
  Transactions transactions(producer, acks, w);
  RETURN_IF_ERROR(transactions.begin());  // the probe is part of the first transaction
  Payloads payloads(w.message_bytes);
  RETURN_IF_ERROR(probe_ack(*session, payloads));

  const int64_t start_ns = now_ns() + seconds_to_ns(w.warmup_seconds);
  const int64_t end_ns = start_ns + seconds_to_ns(w.duration_seconds);
  acks.window.set(start_ns, end_ns);
  ProcessSampler sampler(options.broker_pid);
  bool sampling = false;
  double client_cpu_start = 0;
  uint64_t sequence = 0;
  for (int64_t now = now_ns(); now < end_ns; now = now_ns()) {
    if (!sampling && now >= start_ns) {
      sampler.start();
      client_cpu_start = self_cpu_seconds();
      sampling = true;
    }
    RETURN_IF_ERROR(transactions.tick(now));
    sequence++;
    const auto token = static_cast<uint64_t>(now);
    RETURN_IF_ERROR(send_blocking(producer, partition_for(sequence, w.partition_count),
                                  payloads.stamp(token, sequence), token));
    if ((sequence & 63) == 0) producer.poll(0);
  }
  const ProcessUsage usage = sampler.stop();
  const double client_cpu_seconds = self_cpu_seconds() - client_cpu_start;
  // The last transaction ends after the window: committed, not counted.
  const Status finished =
      transactions.enabled() ? transactions.commit() : producer.flush(kMaxRateDrainMs);
  json out = max_rate_json(
      w, acks,
      transactions.enabled() ? transactions.committed_in_window() : acks.acked_in_window.load(),
      sequence, usage, client_cpu_seconds);
  out["publish_latency"] = acks.latency_json();
  if (transactions.enabled()) out["transactions"] = transactions.to_json(w.duration_seconds);
  if (!finished.ok()) out["flush_error"] = finished.message();
  return out;
}

struct FixedRatePhase {
  json out;
  ProcessUsage usage;
};

// Sends on a fixed schedule for warmup + duration, latency from intended send times, then waits
// for the consumer to see everything sent in the measured window.
Result<FixedRatePhase> fixed_rate_phase(Session& session, ReceiveStats& received, const Workload& w,
                                        const RunOptions& options) {
  Producer& producer = *session.producer;
  AckStats& acks = *session.acks;
  Payloads payloads(w.message_bytes);
  const double interval_ns = 1e9 / w.messages_per_second();
  const int64_t t0_ns = now_ns() + kNsPerMs;
  const int64_t start_ns = t0_ns + seconds_to_ns(w.warmup_seconds);
  const int64_t end_ns = start_ns + seconds_to_ns(w.duration_seconds);
  acks.window.set(start_ns, end_ns);
  received.window.set(start_ns, end_ns);
  LatencyHistogram send_delay;
  // Wake-ups within ~1 us of the intended time instead of the default 50 us timer slack.
  prctl(PR_SET_TIMERSLACK, 1000UL, 0UL, 0UL, 0UL);
  ProcessSampler sampler(options.broker_pid);
  bool sampling = false;
  int64_t sent_in_window = 0;
  int64_t behind_ns = 0;
  for (uint64_t i = 0;; i++) {
    const int64_t intended_ns = t0_ns + std::llround(static_cast<double>(i) * interval_ns);
    if (intended_ns >= end_ns) break;
    const int64_t now = now_ns();
    if (now < intended_ns) {
      producer.poll(0);
      sleep_until_ns(intended_ns);
    } else if (now - intended_ns > kBehindScheduleLimitNs) {
      behind_ns = now - intended_ns;  // saturated: the rest of the schedule cannot be met
      break;
    }
    if (!sampling && intended_ns >= start_ns) {
      sampler.start();
      sampling = true;
    }
    const auto token = static_cast<uint64_t>(intended_ns);
    RETURN_IF_ERROR(send_blocking(producer, partition_for(i, w.partition_count),
                                  payloads.stamp(token, i + 1), token));
    if (intended_ns >= start_ns) {
      send_delay.record(static_cast<uint64_t>(std::max<int64_t>(0, now_ns() - intended_ns)));
      sent_in_window++;
    }
    if ((i & 15) == 0) producer.poll(0);
  }
  FixedRatePhase phase;
  phase.usage = sampler.stop();
  const bool saturated = behind_ns > 0;
  const Status flushed = producer.flush(saturated ? 5000 : kFlushTimeoutMs);
  wait_for([&] { return received.received_from_window.load() >= sent_in_window; },
           saturated ? 5000 : 15000);
  const double sent_bytes = static_cast<double>(sent_in_window) * w.message_bytes;
  phase.out = {{"target_bytes_per_second", w.rate_bytes_per_second},
               {"sent_bytes_per_second", sent_bytes / w.duration_seconds},
               {"sent_messages", sent_in_window},
               {"received_messages", received.received_from_window.load()},
               {"missing_messages", sent_in_window - received.received_from_window.load()},
               {"failed_messages", acks.failed.load()},
               {"end_to_end_latency", received.latency_json()},
               {"publish_latency", acks.latency_json()},
               {"send_delay", histogram_json(send_delay)},
               {"broker", usage_json(phase.usage, 2 * sent_bytes)}};
  phase.out["saturated"] = saturated;
  if (saturated) {
    // Latencies of the messages that did arrive understate the truth: report that plainly.
    phase.out["saturated_note"] =
        "fell " + std::to_string(behind_ns / kNsPerMs) + " ms behind the schedule; stopped early";
  }
  if (!flushed.ok()) phase.out["flush_error"] = flushed.message();
  return phase;
}

struct Reader {
  std::unique_ptr<ReceiveStats> stats = std::make_unique<ReceiveStats>();
  std::unique_ptr<Consumer> consumer;
};

Result<Reader> start_reader(Driver& driver, const std::string& topic, const Workload& w) {
  Reader reader;
  auto consumer = driver.make_consumer(topic, w.partition_count, w);
  if (!consumer.ok()) return consumer.status();
  reader.consumer = std::move(*consumer);
  ReceiveStats* stats = reader.stats.get();
  RETURN_IF_ERROR(reader.consumer->start(
      [stats](std::span<const uint8_t> payload, int64_t at) { stats->on_message(payload, at); }));
  return reader;
}

// Workload kind fixed_rate_latency.
Result<json> latency_run(Driver& driver, const Workload& w, const RunOptions& options,
                         const std::string& topic) {
  RETURN_IF_ERROR(driver.create_topic(topic, w.partition_count));
  auto reader = start_reader(driver, topic, w);
  if (!reader.ok()) return reader.status();
  auto session = open_producer(driver, topic, w);
  if (!session.ok()) return session.status();
  // Like OMB: produce probes until the consumer sees one, so the measured window does not
  // include consumer start-up.
  Payloads payloads(w.message_bytes);
  const bool ready = wait_for(
      [&] {
        (void)send_blocking(*session->producer, 0, payloads.stamp(0, 0), 0);
        session->producer->poll(100);
        return reader->stats->probes.load() > 0;
      },
      kProbeTimeoutMs);
  if (!ready) return error(StatusCode::timed_out, "the consumer never received a probe message");
  auto phase = fixed_rate_phase(*session, *reader->stats, w, options);
  reader->consumer->stop();
  if (!phase.ok()) return phase.status();
  phase->out["consumer_errors"] = reader->consumer->error_count();
  return std::move(phase->out);
}

// Fills the backlog as fast as the system takes it; returns the acknowledged message count.
Result<json> fill_backlog(Driver& driver, const Workload& w, const std::string& topic,
                          int64_t& acked_messages) {
  auto session = open_producer(driver, topic, w);
  if (!session.ok()) return session.status();
  Transactions transactions(*session->producer, *session->acks, w);
  Payloads payloads(w.message_bytes);
  const uint64_t message_count = (w.backlog_bytes + w.message_bytes - 1) / w.message_bytes;
  const int64_t start_ns = now_ns();
  bool truncated = false;
  RETURN_IF_ERROR(transactions.begin());
  for (uint64_t sequence = 1; sequence <= message_count; sequence++) {
    const auto token = static_cast<uint64_t>(now_ns());
    if (static_cast<int64_t>(token) - start_ns > kFillTimeLimitNs) {
      truncated = true;
      break;
    }
    RETURN_IF_ERROR(transactions.tick(static_cast<int64_t>(token)));
    RETURN_IF_ERROR(send_blocking(*session->producer, partition_for(sequence, w.partition_count),
                                  payloads.stamp(token, sequence), token));
    if ((sequence & 63) == 0) session->producer->poll(0);
  }
  RETURN_IF_ERROR(transactions.commit());
  const Status flushed = session->producer->flush(kFlushTimeoutMs * 2);
  const double seconds = static_cast<double>(now_ns() - start_ns) / kNsPerSecond;
  // Aborted transactions' records stay in the log, but read_committed consumers skip them.
  acked_messages =
      transactions.enabled() ? transactions.committed_messages() : session->acks->acked.load();
  if (acked_messages == 0) return error(StatusCode::io_error, "no backlog message acknowledged");
  json out = {
      {"messages", message_count},
      {"truncated_by_time_limit", truncated},
      {"acked_messages", acked_messages},
      {"seconds", seconds},
      {"bytes_per_second", static_cast<double>(acked_messages) * w.message_bytes / seconds}};
  if (transactions.enabled()) out["transactions"] = transactions.to_json(0);
  if (!flushed.ok()) out["flush_error"] = flushed.message();
  return out;
}

// One timed read of the whole backlog by a fresh consumer. Stops early when nothing arrives
// for 20 s.
Result<json> read_backlog(Driver& driver, const Workload& w, const RunOptions& options,
                          const std::string& topic, int64_t expected_messages) {
  ProcessSampler sampler(options.broker_pid);
  sampler.start();
  const double client_cpu_start = self_cpu_seconds();
  const int64_t start_ns = now_ns();
  auto reader = start_reader(driver, topic, w);
  if (!reader.ok()) return reader.status();
  ReceiveStats& stats = *reader->stats;
  int64_t seen = -1;
  int64_t progress_ns = now_ns();
  while (stats.received.load() < expected_messages) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    if (stats.received.load() != seen) {
      seen = stats.received.load();
      progress_ns = now_ns();
    } else if (now_ns() - progress_ns > 20 * kNsPerSecond) {
      break;
    }
  }
  const ProcessUsage usage = sampler.stop();
  const double client_cpu_seconds = self_cpu_seconds() - client_cpu_start;
  reader->consumer->stop();
  const int64_t received = stats.received.load();
  const double bytes = static_cast<double>(stats.received_bytes.load());
  const double first_to_last_s =
      static_cast<double>(stats.last_ns.load() - stats.first_ns.load()) / kNsPerSecond;
  const double from_start_s = static_cast<double>(stats.last_ns.load() - start_ns) / kNsPerSecond;
  json out = {{"received_messages", received},
              {"expected_messages", expected_messages},
              {"complete", received >= expected_messages},
              {"seconds_first_to_last", first_to_last_s},
              {"seconds_from_subscribe", from_start_s},
              {"consumer_errors", reader->consumer->error_count()},
              {"broker", usage_json(usage, bytes)},
              {"client_cpu_seconds", client_cpu_seconds}};
  if (bytes > 0) out["client_cpu_seconds_per_gb"] = client_cpu_seconds / (bytes / 1e9);
  if (received > 1 && first_to_last_s > 0) out["bytes_per_second"] = bytes / first_to_last_s;
  if (received > 0 && from_start_s > 0)
    out["bytes_per_second_from_subscribe"] = bytes / from_start_s;
  return out;
}

// Workload kind catch_up: fill once, then run_count timed reads by fresh consumers.
Result<json> catch_up(Driver& driver, const Workload& w, const RunOptions& options,
                      const std::string& topic) {
  RETURN_IF_ERROR(driver.create_topic(topic, w.partition_count));
  int64_t acked = 0;
  auto fill = fill_backlog(driver, w, topic, acked);
  if (!fill.ok()) return fill.status();
  json runs = json::array();
  for (uint32_t run = 0; run < w.run_count; run++) {
    auto read = read_backlog(driver, w, options, topic, acked);
    runs.push_back(read.ok() ? std::move(*read) : json{{"error", read.status().to_string()}});
  }
  return json{{"fill", std::move(*fill)}, {"runs", std::move(runs)}};
}

// Workload kind many_partitions: memory of idle partitions, then CPU at a low fixed rate.
Result<json> many_partitions_run(Driver& driver, const Workload& w, const RunOptions& options,
                                 const std::string& topic) {
  const pid_t pid = options.broker_pid;
  auto rss_before = pid != 0 ? read_rss_bytes(pid) : Result<uint64_t>(uint64_t{0});
  const int64_t create_start_ns = now_ns();
  RETURN_IF_ERROR(driver.create_topic(topic, w.partition_count));
  const double create_seconds = static_cast<double>(now_ns() - create_start_ns) / kNsPerSecond;
  auto session = open_producer(driver, topic, w);
  if (!session.ok()) return session.status();
  // One message into every partition, so each one exists on every system (Redis creates a
  // stream on its first XADD) before the memory reading.
  Payloads payloads(w.message_bytes);
  for (uint32_t p = 0; p < w.partition_count; p++) {
    RETURN_IF_ERROR(
        send_blocking(*session->producer, static_cast<int32_t>(p), payloads.stamp(0, p + 1), 0));
  }
  RETURN_IF_ERROR(session->producer->flush(kFlushTimeoutMs));
  if (session->acks->probes_acked.load() != w.partition_count) {
    return error(StatusCode::io_error, "only " + std::to_string(session->acks->probes_acked) +
                                           " partitions took a message");
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(int64_t(w.settle_seconds * 1000)));
  auto rss_idle = pid != 0 ? read_rss_bytes(pid) : Result<uint64_t>(uint64_t{0});
  auto reader = start_reader(driver, topic, w);
  if (!reader.ok()) return reader.status();
  wait_for([&] { return reader->stats->probes.load() >= w.partition_count; }, 60000);
  const int64_t probes_seen = reader->stats->probes.load();
  auto phase = fixed_rate_phase(*session, *reader->stats, w, options);
  reader->consumer->stop();
  if (!phase.ok()) return phase.status();
  json out = std::move(phase->out);
  out["create_seconds"] = create_seconds;
  out["consumer_reached_partitions"] = probes_seen;
  if (pid != 0 && rss_before.ok() && rss_idle.ok()) {
    out["rss_before_bytes"] = *rss_before;
    out["rss_idle_partitions_bytes"] = *rss_idle;
    out["rss_per_1000_partitions_bytes"] =
        (static_cast<double>(*rss_idle) - static_cast<double>(*rss_before)) * 1000.0 /
        w.partition_count;
  }
  if (phase->usage.valid) {
    out["broker_cpu_cores"] = phase->usage.cpu_seconds / w.duration_seconds;
  }
  return out;
}

Result<json> run_once(Driver& driver, const Workload& w, const RunOptions& options,
                      const std::string& topic) {
  switch (w.kind) {
    case WorkloadKind::max_rate_produce:
      return max_rate_run(driver, w, options, topic);
    case WorkloadKind::fixed_rate_latency:
      return latency_run(driver, w, options, topic);
    case WorkloadKind::many_partitions:
      return many_partitions_run(driver, w, options, topic);
    case WorkloadKind::catch_up:
      break;
  }
  ASSERT(false);  // catch_up runs through catch_up()
  return error(StatusCode::internal, "unreachable");
}

std::string topic_name(const RunOptions& options, const Workload& w, uint32_t run) {
  return options.topic_prefix + "-" + w.name + "-" + std::to_string(::getpid()) + "-" +
         std::to_string(run);
}

// Deletes a run's topic once the run is measured (outside every measured window), so that the
// next runs do not fill the disk; many_partitions keeps its partitions: its runs add to them.
// A failure is recorded, not fatal.
void remove_topic(Driver& driver, const Workload& w, const std::string& topic, json& out) {
  if (w.kind == WorkloadKind::many_partitions) return;
  const Status deleted = driver.delete_topic(topic);
  if (!deleted.ok() && !out.contains("cleanup_error")) out["cleanup_error"] = deleted.to_string();
}

}  // namespace

json workload_json(const Workload& w) {
  return json{{"name", w.name},
              {"description", w.description},
              {"kind", workload_kind_name(w.kind)},
              {"message_bytes", w.message_bytes},
              {"partitions", w.partition_count},
              {"acks", w.acks == Acks::all ? "all" : "1"},
              {"partitioning", w.partitioning == Partitioning::sticky ? "sticky" : "round_robin"},
              {"rate_bytes_per_second", w.rate_bytes_per_second},
              {"duration_seconds", w.duration_seconds},
              {"warmup_seconds", w.warmup_seconds},
              {"settle_seconds", w.settle_seconds},
              {"backlog_bytes", w.backlog_bytes},
              {"runs", w.run_count},
              {"in_flight_max", w.in_flight_max},
              {"systems", w.systems},
              {"kafka_producer", w.kafka_producer},
              {"kafka_consumer", w.kafka_consumer},
              {"compare_with", w.compare_with},
              {"transactional",
               w.transactional ? json{{"commit_interval_ms", w.transactional->commit_interval_ms}}
                               : json(nullptr)}};
}

Result<json> run_workload(Driver& driver, const Workload& w, const RunOptions& options) {
  json out = {{"workload", workload_json(w)}, {"system", driver.system_name()}};
  if (w.kind == WorkloadKind::catch_up) {
    const std::string topic = topic_name(options, w, 0);
    auto result = catch_up(driver, w, options, topic);
    if (!result.ok()) return result.status();
    out["fill"] = std::move((*result)["fill"]);
    out["runs"] = std::move((*result)["runs"]);
    remove_topic(driver, w, topic, out);
    return out;
  }
  json runs = json::array();
  for (uint32_t run = 0; run < w.run_count; run++) {
    const std::string topic = topic_name(options, w, run);
    auto result = run_once(driver, w, options, topic);
    remove_topic(driver, w, topic, out);
    if (!result.ok()) {
      if (run == 0) return result.status();
      runs.push_back(json{{"error", result.status().to_string()}});
      break;  // later runs would meet the same failure
    }
    runs.push_back(std::move(*result));
  }
  out["runs"] = std::move(runs);
  return out;
}

Status probe_produce(Driver& driver, const std::string& topic) {
  Workload w;
  w.name = "probe";
  w.partition_count = 1;
  w.message_bytes = 64;
  w.systems = {"cairn"};
  RETURN_IF_ERROR(driver.create_topic(topic, 1));
  auto session = open_producer(driver, topic, w);
  if (!session.ok()) return session.status();
  Payloads payloads(w.message_bytes);
  return probe_ack(*session, payloads);
}

}  // namespace cairn::bench
