#include "broker/configs/config_defs.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <vector>

#include "net/connection_quota.h"

namespace cairn::broker::configs {
namespace {

// The tables below use designated initializers and leave the other members at their defaults
// on purpose; GCC 12's -Wextra warns about every omitted member anyway.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

using enum ConfigType;
constexpr Support kEnforced = Support::enforced;
constexpr Support kReported = Support::reported;
constexpr int64_t kHourMs = 3'600'000;
constexpr int64_t kMinuteMs = 60'000;
constexpr int64_t kIntMax = std::numeric_limits<int32_t>::max();

constexpr std::string_view kCleanupPolicies[] = {"compact", "delete"};
constexpr std::string_view kConsumerGroupAssignors[] = {"uniform", "range"};
constexpr std::string_view kCompressionTypes[] = {"uncompressed", "zstd", "lz4",
                                                  "snappy",       "gzip", "producer"};
constexpr std::string_view kTimestampTypes[] = {"CreateTime", "LogAppendTime"};
constexpr std::string_view kClientAuth[] = {"none", "requested", "required"};
constexpr std::string_view kTlsVersions[] = {"TLSv1.2", "TLSv1.3"};
// connections.max.reauth.ms: 100 years, a session deadline the steady clock can still hold.
constexpr int64_t kReauthMsMax = 3153600000000;
constexpr std::string_view kSaslMechanisms[] = {"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"};
constexpr std::string_view kPem[] = {"PEM"};

constexpr Validator at_least(int64_t min) { return Validator{.min = min}; }
constexpr Validator between(int64_t min, int64_t max) { return Validator{.min = min, .max = max}; }

// "" or "*" or "partition:broker" items (Kafka's throttled replica list format).
std::string check_throttled_replicas(std::string_view value) {
  if (value.empty() || value == "*") return "";
  size_t start = 0;
  while (start <= value.size()) {
    size_t end = value.find(',', start);
    if (end == std::string_view::npos) end = value.size();
    std::string_view item = value.substr(start, end - start);
    size_t colon = item.find(':');
    bool digits = colon != std::string_view::npos && colon > 0 && colon + 1 < item.size() &&
                  std::all_of(item.begin(), item.end(),
                              [](char c) { return c == ':' || (c >= '0' && c <= '9'); }) &&
                  std::count(item.begin(), item.end(), ':') == 1;
    if (!digits) return "must be '*' or a list of partition:broker pairs";
    start = end + 1;
  }
  return "";
}

std::string check_remote_storage(std::string_view value) {
  return value == "false" ? "" : "tiered storage is not supported by Cairn";
}

std::string check_not_empty_text(std::string_view value) {
  return value.empty() ? "must not be empty" : "";
}

std::string check_per_ip_overrides(std::string_view value) {
  auto parsed = net::parse_per_ip_overrides(std::string(value));
  return parsed.ok() ? "" : parsed.status().message();
}

// super.users: principals separated by ';', each TYPE:NAME ("User:admin;User:ops").
std::string check_super_users(std::string_view value) {
  for (size_t start = 0; start < value.size();) {
    size_t end = std::min(value.find(';', start), value.size());
    std::string_view item = value.substr(start, end - start);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    size_t colon = item.find(':');
    if (colon == std::string_view::npos || colon == 0 || colon + 1 == item.size()) {
      return "must be principals TYPE:NAME separated by ';' (User:admin;User:ops)";
    }
    start = end + 1;
  }
  return "";
}

// Sorted by name. Documentation is Cairn's own wording.
// clang-format off
constexpr ConfigDef kTopicConfigs[] = {
    {.name = "cairn.audit.access", .type = boolean, .default_value = "false",
     .support = kEnforced,
     .documentation = "Cairn: record every allowed read and write of this topic in the access "
                      "audit log (docs/audit.md)."},
    {.name = "cairn.immutable", .type = boolean, .default_value = "false", .support = kEnforced,
     .documentation = "Cairn: append-only for everyone, super users included, until its records "
                      "age out (docs/immutable-topics.md)."},
    {.name = "cleanup.policy", .type = list, .default_value = "delete",
     .validator = {.allowed = kCleanupPolicies, .non_empty = true}, .support = kEnforced,
     .synonyms = {{{"log.cleanup.policy"}}},
     .documentation = "delete: old segments go by retention.ms/retention.bytes. compact: the "
                      "cleaner keeps the latest record per key (docs/compaction.md). Both."},
    {.name = "compression.type", .type = string, .default_value = "producer",
     .validator = {.allowed = kCompressionTypes}, .support = kReported,
     .synonyms = {{{"compression.type"}}},
     .documentation = "Accepted and reported; Cairn stores batches as the producer sent them."},
    {.name = "delete.retention.ms", .type = int64, .default_value = "86400000",
     .validator = at_least(0), .support = kEnforced,
     .synonyms = {{{"log.cleaner.delete.retention.ms"}}},
     .documentation = "How long tombstones stay on compacted topics (from their timestamp)."},
    {.name = "file.delete.delay.ms", .type = int64, .default_value = "60000",
     .validator = at_least(0), .synonyms = {{{"log.segment.delete.delay.ms"}}},
     .documentation = "Delay before a deleted segment's files go. Reported only: Cairn "
                      "unlinks at once and open readers keep their file handles."},
    {.name = "flush.messages", .type = int64, .default_value = "9223372036854775807",
     .validator = at_least(1), .synonyms = {{{"log.flush.interval.messages"}}},
     .documentation = "Reported only; Cairn flushes by time (flush.ms) and by acks=all."},
    {.name = "flush.ms", .type = int64, .default_value = "1000", .validator = at_least(0),
     .support = kEnforced, .synonyms = {{{"log.flush.interval.ms"}}},
     .documentation = "Data appended without an acks=all waiter is fsynced within this many "
                      "ms. Cairn's default is 1000 (Kafka's is never: it leans on replicas)."},
    {.name = "follower.replication.throttled.replicas", .type = list, .default_value = "",
     .validator = {.check = check_throttled_replicas},
     .documentation = "Replication throttling; reported only (one node, no followers)."},
    {.name = "index.interval.bytes", .type = int32, .default_value = "4096",
     .validator = between(0, kIntMax), .support = kEnforced,
     .synonyms = {{{"log.index.interval.bytes"}}},
     .documentation = "Log bytes between two offset index entries."},
    {.name = "leader.replication.throttled.replicas", .type = list, .default_value = "",
     .validator = {.check = check_throttled_replicas},
     .documentation = "Replication throttling; reported only (one node, no followers)."},
    {.name = "local.retention.bytes", .type = int64, .default_value = "-2",
     .validator = at_least(-2), .synonyms = {{{"log.local.retention.bytes"}}},
     .documentation = "Tiered storage; reported only."},
    {.name = "local.retention.ms", .type = int64, .default_value = "-2",
     .validator = at_least(-2), .synonyms = {{{"log.local.retention.ms"}}},
     .documentation = "Tiered storage; reported only."},
    {.name = "max.compaction.lag.ms", .type = int64, .default_value = "9223372036854775807",
     .validator = at_least(1), .support = kEnforced,
     .synonyms = {{{"log.cleaner.max.compaction.lag.ms"}}},
     .documentation = "Dirty data older than this is compacted whatever the dirty ratio."},
    {.name = "max.message.bytes", .type = int32, .default_value = "1048588",
     .validator = between(0, kIntMax), .support = kEnforced,
     .synonyms = {{{"message.max.bytes"}}},
     .documentation = "Largest record batch a producer may append (MESSAGE_TOO_LARGE above)."},
    {.name = "message.downconversion.enable", .type = boolean, .default_value = "true",
     .synonyms = {{{"log.message.downconversion.enable"}}},
     .documentation = "Reported only; Cairn serves record batch v2 only."},
    {.name = "message.format.version", .type = string, .default_value = "3.0-IV1",
     .validator = {.check = check_not_empty_text},
     .synonyms = {{{"log.message.format.version"}}},
     .documentation = "Deprecated in Kafka; reported only (Cairn stores v2 batches)."},
    {.name = "message.timestamp.after.max.ms", .type = int64,
     .default_value = "9223372036854775807", .validator = at_least(0),
     .synonyms = {{{"log.message.timestamp.after.max.ms"}}},
     .documentation = "Reported only."},
    {.name = "message.timestamp.before.max.ms", .type = int64,
     .default_value = "9223372036854775807", .validator = at_least(0),
     .synonyms = {{{"log.message.timestamp.before.max.ms"}}},
     .documentation = "Reported only."},
    {.name = "message.timestamp.difference.max.ms", .type = int64,
     .default_value = "9223372036854775807", .validator = at_least(0), .support = kEnforced,
     .synonyms = {{{"log.message.timestamp.difference.max.ms"}}},
     .documentation = "With CreateTime, batches whose timestamps are further than this from "
                      "the broker's clock are refused (INVALID_TIMESTAMP)."},
    {.name = "message.timestamp.type", .type = string, .default_value = "CreateTime",
     .validator = {.allowed = kTimestampTypes}, .support = kEnforced,
     .synonyms = {{{"log.message.timestamp.type"}}},
     .documentation = "CreateTime keeps the producer's timestamps; LogAppendTime stamps the "
                      "broker's clock into each batch."},
    {.name = "min.cleanable.dirty.ratio", .type = float64, .default_value = "0.5",
     .validator = {.min_double = 0.0, .max_double = 1.0}, .support = kEnforced,
     .synonyms = {{{"log.cleaner.min.cleanable.ratio"}}},
     .documentation = "Compact once dirty bytes are this share of the cleanable bytes."},
    {.name = "min.compaction.lag.ms", .type = int64, .default_value = "0",
     .validator = at_least(0), .support = kEnforced,
     .synonyms = {{{"log.cleaner.min.compaction.lag.ms"}}},
     .documentation = "Segments younger than this are not compacted."},
    {.name = "min.insync.replicas", .type = int32, .default_value = "1",
     .validator = between(1, kIntMax), .synonyms = {{{"min.insync.replicas"}}},
     .documentation = "Reported only: one node is the whole ISR; acks=all means fsynced."},
    {.name = "preallocate", .type = boolean, .default_value = "false",
     .synonyms = {{{"log.preallocate"}}}, .documentation = "Reported only."},
    {.name = "remote.storage.enable", .type = boolean, .default_value = "false",
     .validator = {.check = check_remote_storage},
     .documentation = "Tiered storage; only false is accepted."},
    {.name = "retention.bytes", .type = int64, .default_value = "-1", .support = kEnforced,
     .synonyms = {{{"log.retention.bytes"}}},
     .documentation = "Delete the oldest segments while the partition is bigger than this "
                      "(-1: no size limit)."},
    {.name = "retention.ms", .type = int64, .default_value = "604800000",
     .validator = at_least(-1), .support = kEnforced,
     .synonyms = {{{"log.retention.ms"}, {"log.retention.minutes", kMinuteMs},
                   {"log.retention.hours", kHourMs}}},
     .documentation = "Delete segments whose newest record is older than this (-1: keep)."},
    {.name = "segment.bytes", .type = int32, .default_value = "1073741824",
     .validator = between(1024, kIntMax), .support = kEnforced,
     .synonyms = {{{"log.segment.bytes"}}},
     .documentation = "Roll to a new segment file at this size (at least 1024 in Cairn)."},
    {.name = "segment.index.bytes", .type = int32, .default_value = "10485760",
     .validator = between(4, kIntMax), .synonyms = {{{"log.index.size.max.bytes"}}},
     .documentation = "Reported only; Cairn's sparse index grows as needed."},
    {.name = "segment.jitter.ms", .type = int64, .default_value = "0",
     .validator = at_least(0),
     .synonyms = {{{"log.roll.jitter.ms"}, {"log.roll.jitter.hours", kHourMs}}},
     .documentation = "Reported only."},
    {.name = "segment.ms", .type = int64, .default_value = "604800000",
     .validator = at_least(1), .support = kEnforced,
     .synonyms = {{{"log.roll.ms"}, {"log.roll.hours", kHourMs}}},
     .documentation = "Roll a non-empty segment this long after it was created, so retention "
                      "can delete it."},
    {.name = "unclean.leader.election.enable", .type = boolean, .default_value = "false",
     .synonyms = {{{"unclean.leader.election.enable"}}},
     .documentation = "Reported only (one node)."},
};

// Sorted by name. Broker configs that are topic synonyms are dynamically updatable (as in
// Kafka); the others are read-only (file and flags).
constexpr ConfigDef kBrokerConfigs[] = {
    {.name = "advertised.listeners", .type = string, .support = kEnforced, .read_only = true,
     .documentation = "What Metadata and FindCoordinator tell a client, per listener name "
                      "(NAME://HOST:PORT,...); unset: each listener's own address "
                      "(docs/security.md)."},
    {.name = "allow.everyone.if.no.acl.found", .type = boolean, .default_value = "false",
     .support = kEnforced, .read_only = true,
     .documentation = "With authorizer.enabled: whether a resource no ACL names is open to "
                      "everyone (true) or to super users only (false)."},
    {.name = "audit.log.enabled", .type = boolean, .default_value = "false",
     .support = kEnforced, .read_only = true,
     .documentation = "Cairn: write the access audit log: logins, authorization denials and "
                      "reads/writes of topics with cairn.audit.access (docs/audit.md)."},
    {.name = "audit.log.file", .type = string, .default_value = "", .support = kEnforced,
     .read_only = true,
     .documentation = "Cairn: the audit log's file, appended to; empty: audit.log in the data "
                      "directory."},
    {.name = "audit.log.topic.enable", .type = boolean, .default_value = "false",
     .support = kEnforced, .read_only = true,
     .documentation = "Cairn: also write each audit event to the internal, immutable topic "
                      "__cairn_audit."},
    {.name = "audit.log.topic.retention.ms", .type = int64, .default_value = "604800000",
     .validator = at_least(-1), .support = kEnforced, .read_only = true,
     .documentation = "Cairn: retention.ms of __cairn_audit when the broker creates it; "
                      "afterwards it may only be raised (AlterConfigs)."},
    {.name = "authorizer.enabled", .type = boolean, .default_value = "false",
     .support = kEnforced, .read_only = true,
     .documentation = "Check every request against the ACLs (docs/security.md); Kafka "
                      "configures the same with authorizer.class.name."},
    {.name = "auto.create.topics.enable", .type = boolean, .default_value = "true",
     .support = kEnforced, .read_only = true,
     .documentation = "Create a topic when a client asks for an unknown one."},
    {.name = "compression.type", .type = string, .default_value = "producer",
     .validator = {.allowed = kCompressionTypes},
     .documentation = "Default of the topic config compression.type."},
    {.name = "connection.failed.authentication.delay.ms", .type = int32, .default_value = "100",
     .validator = between(0, 60000), .support = kEnforced, .read_only = true,
     .documentation = "A failed SASL login is answered after this delay, then the connection "
                      "closes (slows down password guessing)."},
    {.name = "connections.max.reauth.ms", .type = int64, .default_value = "0",
     .validator = between(0, kReauthMsMax), .support = kEnforced, .read_only = true,
     .documentation = "SASL sessions last this long (KIP-368): the client must authenticate "
                      "again on the same connection before, or the connection closes; 0: "
                      "sessions never expire."},
    {.name = "default.replication.factor", .type = int32, .default_value = "1",
     .validator = between(1, 1), .support = kEnforced, .read_only = true,
     .documentation = "Replication factor of auto-created topics; one node: only 1."},
    {.name = "delete.topic.enable", .type = boolean, .default_value = "true",
     .support = kEnforced, .read_only = true,
     .documentation = "false: DeleteTopics answers TOPIC_DELETION_DISABLED."},
    {.name = "group.consumer.assignors", .type = list, .default_value = "uniform,range",
     .validator = {.allowed = kConsumerGroupAssignors, .non_empty = true},
     .support = kEnforced, .read_only = true,
     .documentation = "Server-side assignors consumer-protocol groups (KIP-848) may ask for in "
                      "ConsumerGroupHeartbeat's ServerAssignor; the first is used when no member "
                      "asks. Others answer UNSUPPORTED_ASSIGNOR."},
    {.name = "group.consumer.heartbeat.interval.ms", .type = int32, .default_value = "5000",
     .validator = between(1, kIntMax), .support = kEnforced, .read_only = true,
     .documentation = "Heartbeat interval the broker tells members of consumer-protocol groups "
                      "(KIP-848)."},
    {.name = "group.consumer.max.size", .type = int32, .default_value = "2147483647",
     .validator = between(1, kIntMax), .support = kEnforced, .read_only = true,
     .documentation = "Members per consumer-protocol group (KIP-848)."},
    {.name = "group.consumer.session.timeout.ms", .type = int32, .default_value = "45000",
     .validator = between(1, kIntMax), .support = kEnforced, .read_only = true,
     .documentation = "A member of a consumer-protocol group (KIP-848) that has not heartbeaten "
                      "for this long is removed."},
    {.name = "group.initial.rebalance.delay.ms", .type = int32, .default_value = "3000",
     .validator = between(0, kIntMax), .support = kEnforced, .read_only = true,
     .documentation = "How long the first rebalance of an empty group waits for members."},
    {.name = "group.max.session.timeout.ms", .type = int32, .default_value = "1800000",
     .validator = between(1, kIntMax), .support = kEnforced, .read_only = true,
     .documentation = "Largest session timeout a consumer may ask for."},
    {.name = "group.max.size", .type = int32, .default_value = "1000",
     .validator = between(1, kIntMax), .support = kEnforced, .read_only = true,
     .documentation = "Members per consumer group (Cairn's default: 1000)."},
    {.name = "group.min.session.timeout.ms", .type = int32, .default_value = "6000",
     .validator = between(1, kIntMax), .support = kEnforced, .read_only = true,
     .documentation = "Smallest session timeout a consumer may ask for."},
    {.name = "listener.security.protocol.map", .type = string,
     .default_value = "PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL",
     .validator = {.check = check_not_empty_text}, .support = kEnforced, .read_only = true,
     .documentation = "Security protocol of each listener name (NAME:PROTOCOL,...): PLAINTEXT "
                      "and SSL are plain and TLS, SASL_PLAINTEXT and SASL_SSL add SASL "
                      "(docs/security.md)."},
    {.name = "listeners", .type = string, .validator = {.check = check_not_empty_text},
     .support = kEnforced, .read_only = true,
     .documentation = "Named listeners, NAME://HOST:PORT,... (port 0: any free port); unset: "
                      "one PLAINTEXT listener on --listen."},
    {.name = "log.cleaner.backoff.ms", .type = int64, .default_value = "15000",
     .validator = at_least(0), .support = kEnforced, .read_only = true,
     .documentation = "How often each shard looks for compacted logs to clean."},
    {.name = "log.cleaner.dedupe.buffer.size", .type = int64, .default_value = "134217728",
     .validator = at_least(0), .support = kEnforced, .read_only = true,
     .documentation = "Key table of all cleaners, split evenly between the shards (24 B a key)."},
    {.name = "log.cleaner.delete.retention.ms", .type = int64, .default_value = "86400000",
     .validator = at_least(0), .support = kEnforced,
     .documentation = "Default of delete.retention.ms."},
    {.name = "log.cleaner.enable", .type = boolean, .default_value = "true",
     .support = kEnforced, .read_only = true,
     .documentation = "false: compacted topics are not cleaned (they only grow)."},
    {.name = "log.cleaner.io.buffer.size", .type = int32, .default_value = "524288",
     .validator = between(0, kIntMax), .support = kEnforced, .read_only = true,
     .documentation = "Bytes a cleaner reads before its shard serves other work."},
    {.name = "log.cleaner.io.max.bytes.per.second", .type = float64,
     .default_value = "1.7976931348623157E308", .validator = {.min_double = 1.0},
     .support = kEnforced, .read_only = true,
     .documentation = "Read plus write rate of all cleaners, split evenly between the shards."},
    {.name = "log.cleaner.max.compaction.lag.ms", .type = int64,
     .default_value = "9223372036854775807", .validator = at_least(1), .support = kEnforced,
     .documentation = "Default of max.compaction.lag.ms."},
    {.name = "log.cleaner.min.cleanable.ratio", .type = float64, .default_value = "0.5",
     .validator = {.min_double = 0.0, .max_double = 1.0}, .support = kEnforced,
     .documentation = "Default of min.cleanable.dirty.ratio."},
    {.name = "log.cleaner.min.compaction.lag.ms", .type = int64, .default_value = "0",
     .validator = at_least(0), .support = kEnforced,
     .documentation = "Default of min.compaction.lag.ms."},
    {.name = "log.cleaner.threads", .type = int32, .default_value = "1",
     .validator = between(0, kIntMax), .read_only = true,
     .documentation = "Reported only; every shard cleans its own logs, one at a time."},
    {.name = "log.cleanup.policy", .type = list, .default_value = "delete",
     .validator = {.allowed = kCleanupPolicies, .non_empty = true}, .support = kEnforced,
     .documentation = "Default of cleanup.policy."},
    {.name = "log.flush.interval.messages", .type = int64,
     .default_value = "9223372036854775807", .validator = at_least(1),
     .documentation = "Default of flush.messages."},
    {.name = "log.flush.interval.ms", .type = int64, .default_value = "1000",
     .validator = at_least(0), .support = kEnforced,
     .documentation = "Default of flush.ms (Cairn's default: 1000)."},
    {.name = "log.index.interval.bytes", .type = int32, .default_value = "4096",
     .validator = between(0, kIntMax), .support = kEnforced,
     .documentation = "Default of index.interval.bytes."},
    {.name = "log.index.size.max.bytes", .type = int32, .default_value = "10485760",
     .validator = between(4, kIntMax), .documentation = "Default of segment.index.bytes."},
    {.name = "log.local.retention.bytes", .type = int64, .default_value = "-2",
     .validator = at_least(-2), .documentation = "Default of local.retention.bytes."},
    {.name = "log.local.retention.ms", .type = int64, .default_value = "-2",
     .validator = at_least(-2), .documentation = "Default of local.retention.ms."},
    {.name = "log.message.downconversion.enable", .type = boolean, .default_value = "true",
     .documentation = "Default of message.downconversion.enable."},
    {.name = "log.message.format.version", .type = string, .default_value = "3.0-IV1",
     .validator = {.check = check_not_empty_text},
     .documentation = "Default of message.format.version."},
    {.name = "log.message.timestamp.after.max.ms", .type = int64,
     .default_value = "9223372036854775807", .validator = at_least(0),
     .documentation = "Default of message.timestamp.after.max.ms."},
    {.name = "log.message.timestamp.before.max.ms", .type = int64,
     .default_value = "9223372036854775807", .validator = at_least(0),
     .documentation = "Default of message.timestamp.before.max.ms."},
    {.name = "log.message.timestamp.difference.max.ms", .type = int64,
     .default_value = "9223372036854775807", .validator = at_least(0),
     .documentation = "Default of message.timestamp.difference.max.ms."},
    {.name = "log.message.timestamp.type", .type = string, .default_value = "CreateTime",
     .validator = {.allowed = kTimestampTypes}, .support = kEnforced,
     .documentation = "Default of message.timestamp.type."},
    {.name = "log.preallocate", .type = boolean, .default_value = "false",
     .documentation = "Default of preallocate."},
    {.name = "log.retention.bytes", .type = int64, .default_value = "-1", .support = kEnforced,
     .documentation = "Default of retention.bytes."},
    {.name = "log.retention.check.interval.ms", .type = int64, .default_value = "300000",
     .validator = at_least(1), .support = kEnforced, .read_only = true,
     .documentation = "How often each partition checks retention."},
    {.name = "log.retention.hours", .type = int32, .default_value = "168",
     .validator = between(-1, kIntMax), .support = kEnforced,
     .documentation = "Default of retention.ms, in hours (below log.retention.minutes)."},
    {.name = "log.retention.minutes", .type = int32, .validator = between(-1, kIntMax),
     .support = kEnforced,
     .documentation = "Default of retention.ms, in minutes (below log.retention.ms)."},
    {.name = "log.retention.ms", .type = int64, .validator = at_least(-1),
     .support = kEnforced, .documentation = "Default of retention.ms."},
    {.name = "log.roll.hours", .type = int32, .default_value = "168",
     .validator = between(1, kIntMax), .support = kEnforced,
     .documentation = "Default of segment.ms, in hours (below log.roll.ms)."},
    {.name = "log.roll.jitter.hours", .type = int32, .default_value = "0",
     .validator = between(0, kIntMax), .documentation = "Default of segment.jitter.ms, hours."},
    {.name = "log.roll.jitter.ms", .type = int64, .validator = at_least(0),
     .documentation = "Default of segment.jitter.ms."},
    {.name = "log.roll.ms", .type = int64, .validator = at_least(1), .support = kEnforced,
     .documentation = "Default of segment.ms."},
    {.name = "log.segment.bytes", .type = int32, .default_value = "1073741824",
     .validator = between(1024, kIntMax), .support = kEnforced,
     .documentation = "Default of segment.bytes."},
    {.name = "log.segment.delete.delay.ms", .type = int64, .default_value = "60000",
     .validator = at_least(0), .documentation = "Default of file.delete.delay.ms."},
    {.name = "max.connections", .type = int32, .default_value = "2147483647",
     .validator = between(0, kIntMax), .support = kEnforced, .read_only = true,
     .documentation = "Client connections open at once, over all listeners; more are closed "
                      "as they are accepted."},
    {.name = "max.connections.per.ip", .type = int32, .default_value = "2147483647",
     .validator = between(0, kIntMax), .support = kEnforced, .read_only = true,
     .documentation = "Client connections open at once from one IP address."},
    {.name = "max.connections.per.ip.overrides", .type = string, .default_value = "",
     .validator = {.check = check_per_ip_overrides}, .support = kEnforced, .read_only = true,
     .documentation = "Per-address exceptions to max.connections.per.ip: IP:COUNT,IP:COUNT."},
    {.name = "max.incremental.fetch.session.cache.slots", .type = int32, .default_value = "1000",
     .validator = between(0, kIntMax), .support = kEnforced, .read_only = true,
     .documentation = "Incremental fetch sessions (KIP-227) the broker keeps, split evenly "
                      "between the shards; 0: every Fetch is sessionless."},
    {.name = "message.max.bytes", .type = int32, .default_value = "1048588",
     .validator = between(0, kIntMax), .support = kEnforced,
     .documentation = "Default of max.message.bytes."},
    {.name = "min.insync.replicas", .type = int32, .default_value = "1",
     .validator = between(1, kIntMax), .documentation = "Default of min.insync.replicas."},
    {.name = "num.io.threads", .type = int32, .default_value = "8",
     .validator = between(1, kIntMax), .read_only = true,
     .documentation = "Reported only; Cairn's threads are its shards (--shards)."},
    {.name = "num.network.threads", .type = int32, .default_value = "3",
     .validator = between(1, kIntMax), .read_only = true,
     .documentation = "Reported only; Cairn's threads are its shards (--shards)."},
    {.name = "num.partitions", .type = int32, .default_value = "1",
     .validator = between(1, 100'000), .support = kEnforced, .read_only = true,
     .documentation = "Partitions of auto-created topics and of CreateTopics with -1."},
    {.name = "num.recovery.threads.per.data.dir", .type = int32, .default_value = "1",
     .validator = between(1, kIntMax), .read_only = true,
     .documentation = "Reported only; each shard recovers its own partitions."},
    {.name = "offset.metadata.max.bytes", .type = int32, .default_value = "4096",
     .validator = between(0, kIntMax), .support = kEnforced, .read_only = true,
     .documentation = "Longest metadata string of a committed offset."},
    {.name = "offsets.retention.check.interval.ms", .type = int64, .default_value = "600000",
     .validator = between(1, kLongMax / 2), .support = kEnforced, .read_only = true,
     .documentation = "How often expired committed offsets are looked for."},
    {.name = "offsets.retention.minutes", .type = int32, .default_value = "10080",
     .validator = between(1, kIntMax), .support = kEnforced, .read_only = true,
     .documentation = "Committed offsets of a group empty this long are deleted."},
    {.name = "offsets.topic.num.partitions", .type = int32, .default_value = "16",
     .validator = between(1, 1000), .support = kEnforced, .read_only = true,
     .documentation = "Partitions of __consumer_offsets, fixed once it exists (Cairn: 16)."},
    {.name = "offsets.topic.replication.factor", .type = int16, .default_value = "3",
     .validator = between(1, 32767), .read_only = true,
     .documentation = "Reported only: one node, __consumer_offsets has one replica."},
    {.name = "offsets.topic.segment.bytes", .type = int32, .default_value = "104857600",
     .validator = between(1024, kIntMax), .support = kEnforced, .read_only = true,
     .documentation = "Segment size of __consumer_offsets, set when it is created; the cleaner "
                      "compacts only closed segments."},
    {.name = "sasl.enabled.mechanisms", .type = list,
     .default_value = "SCRAM-SHA-256,SCRAM-SHA-512",
     .validator = {.allowed = kSaslMechanisms, .non_empty = true}, .support = kEnforced,
     .read_only = true,
     .documentation = "SASL mechanisms SASL_PLAINTEXT and SASL_SSL listeners offer: PLAIN, "
                      "SCRAM-SHA-256, SCRAM-SHA-512 (PLAIN is checked against the SCRAM "
                      "credentials)."},
    {.name = "socket.receive.buffer.bytes", .type = int32, .default_value = "102400",
     .validator = between(-1, kIntMax), .read_only = true,
     .documentation = "Reported only; Cairn leaves socket buffers to the kernel."},
    {.name = "socket.send.buffer.bytes", .type = int32, .default_value = "102400",
     .validator = between(-1, kIntMax), .read_only = true,
     .documentation = "Reported only; Cairn leaves socket buffers to the kernel."},
    {.name = "ssl.client.auth", .type = string, .default_value = "none",
     .validator = {.allowed = kClientAuth}, .support = kEnforced, .read_only = true,
     .documentation = "Client certificates on SSL listeners: none, requested (verified if "
                      "sent) or required (mTLS)."},
    {.name = "ssl.crl.location", .type = string, .support = kEnforced, .read_only = true,
     .documentation = "Cairn (librdkafka's name): PEM certificate revocation lists; a client "
                      "certificate they revoke is refused. Read again when changed."},
    {.name = "ssl.enabled.protocols", .type = list, .default_value = "TLSv1.2,TLSv1.3",
     .validator = {.allowed = kTlsVersions, .non_empty = true}, .support = kEnforced,
     .read_only = true, .documentation = "TLS versions SSL listeners accept."},
    {.name = "ssl.key.location", .type = string, .support = kEnforced, .read_only = true,
     .documentation = "PEM file with the server's private key (unencrypted); unset: the key "
                      "is in ssl.keystore.location."},
    {.name = "ssl.keystore.location", .type = string, .support = kEnforced, .read_only = true,
     .documentation = "PEM file with the server certificate chain (and the key unless "
                      "ssl.key.location is set); read again when changed."},
    {.name = "ssl.keystore.type", .type = string, .default_value = "PEM",
     .validator = {.allowed = kPem}, .support = kEnforced, .read_only = true,
     .documentation = "Only PEM (Cairn's default)."},
    {.name = "ssl.principal.mapping.rules", .type = string, .default_value = "DEFAULT",
     .validator = {.check = check_not_empty_text}, .support = kEnforced, .read_only = true,
     .documentation = "How a client certificate's subject becomes the principal (Kafka's "
                      "RULE:pattern/replacement/[LU] and DEFAULT)."},
    {.name = "ssl.truststore.location", .type = string, .support = kEnforced, .read_only = true,
     .documentation = "PEM file with the CA certificates client certificates must chain to; "
                      "read again when changed."},
    {.name = "ssl.truststore.type", .type = string, .default_value = "PEM",
     .validator = {.allowed = kPem}, .support = kEnforced, .read_only = true,
     .documentation = "Only PEM (Cairn's default)."},
    {.name = "super.users", .type = string, .default_value = "",
     .validator = {.check = check_super_users},
     .support = kEnforced, .read_only = true,
     .documentation = "Principals every ACL check allows, separated by ';' "
                      "(User:admin;User:ops)."},
    {.name = "transaction.abort.timed.out.transaction.cleanup.interval.ms", .type = int32,
     .default_value = "10000", .validator = between(1, kIntMax), .support = kEnforced,
     .read_only = true,
     .documentation = "How often open transactions are checked against their timeout."},
    {.name = "transaction.max.timeout.ms", .type = int32, .default_value = "900000",
     .validator = between(1, kIntMax), .support = kEnforced, .read_only = true,
     .documentation = "Largest transaction timeout a producer may ask for."},
    {.name = "transaction.remove.expired.transaction.cleanup.interval.ms", .type = int32,
     .default_value = "3600000", .validator = between(1, kIntMax), .support = kEnforced,
     .read_only = true,
     .documentation = "How often idle transactional ids are checked for expiry."},
    {.name = "transaction.state.log.min.isr", .type = int32, .default_value = "2",
     .validator = between(1, kIntMax), .read_only = true,
     .documentation = "Reported only (one node)."},
    {.name = "transaction.state.log.num.partitions", .type = int32, .default_value = "16",
     .validator = between(1, 1000), .support = kEnforced, .read_only = true,
     .documentation = "Partitions of __transaction_state, fixed once it exists (Cairn: 16)."},
    {.name = "transaction.state.log.replication.factor", .type = int16, .default_value = "3",
     .validator = between(1, 32767), .read_only = true,
     .documentation = "Reported only (one node)."},
    {.name = "transaction.state.log.segment.bytes", .type = int32, .default_value = "104857600",
     .validator = between(1024, kIntMax), .support = kEnforced, .read_only = true,
     .documentation = "Segment size of __transaction_state, set when it is created; the "
                      "cleaner compacts only closed segments."},
    {.name = "transactional.id.expiration.ms", .type = int32, .default_value = "604800000",
     .validator = between(1, kIntMax), .support = kEnforced, .read_only = true,
     .documentation = "How long an idle transactional id is kept."},
    {.name = "unclean.leader.election.enable", .type = boolean, .default_value = "false",
     .documentation = "Default of unclean.leader.election.enable."},
};

// clang-format on
#pragma GCC diagnostic pop

const ConfigDef* find_in(std::span<const ConfigDef> defs, std::string_view name) {
  auto it =
      std::lower_bound(defs.begin(), defs.end(), name,
                       [](const ConfigDef& def, std::string_view key) { return def.name < key; });
  if (it == defs.end() || it->name != name) return nullptr;
  return &*it;
}

std::string_view trim(std::string_view text) {
  size_t begin = text.find_first_not_of(" \t\r\n");
  if (begin == std::string_view::npos) return {};
  size_t end = text.find_last_not_of(" \t\r\n");
  return text.substr(begin, end - begin + 1);
}

bool parse_int64(std::string_view text, int64_t& out) {
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, out);
  return ec == std::errc() && ptr == end && !text.empty();
}

bool parse_float64(std::string_view text, double& out) {
  std::string copy(text);  // strtod needs a terminator
  if (copy.empty()) return false;
  char* end = nullptr;
  out = std::strtod(copy.c_str(), &end);
  return end == copy.c_str() + copy.size() && std::isfinite(out);
}

bool is_allowed(const Validator& validator, std::string_view item) {
  if (validator.allowed.empty()) return true;
  return std::find(validator.allowed.begin(), validator.allowed.end(), item) !=
         validator.allowed.end();
}

std::string allowed_list(const Validator& validator) {
  std::string out;
  for (std::string_view item : validator.allowed) {
    if (!out.empty()) out += ", ";
    out += item;
  }
  return "[" + out + "]";
}

// Well-formed UTF-8 (no overlong forms, surrogates or code points above U+10FFFF). Kafka's
// strings are UTF-8, and the JSON files configs are stored in cannot hold anything else.
bool is_utf8(std::string_view text) {
  static constexpr uint32_t kSmallest[] = {0, 0x80, 0x800, 0x10000};
  size_t i = 0;
  while (i < text.size()) {
    auto byte = static_cast<uint8_t>(text[i]);
    size_t extra = 0;
    if (byte >= 0x80) {
      if ((byte >> 5) == 0x6) {
        extra = 1;
      } else if ((byte >> 4) == 0xe) {
        extra = 2;
      } else if ((byte >> 3) == 0x1e) {
        extra = 3;
      } else {
        return false;  // a continuation byte first, or 0xf8..0xff
      }
    }
    if (extra >= text.size() - i) return false;  // truncated sequence
    uint32_t code = extra == 0 ? byte : byte & (0x3fu >> extra);
    for (size_t k = 1; k <= extra; k++) {
      auto next = static_cast<uint8_t>(text[i + k]);
      if ((next & 0xc0) != 0x80) return false;
      code = (code << 6) | (next & 0x3f);
    }
    if (code < kSmallest[extra] || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) {
      return false;
    }
    i += extra + 1;
  }
  return true;
}

Status invalid(const ConfigDef& def, std::string_view value, std::string_view why) {
  return error(StatusCode::invalid_argument, "Invalid value " + std::string(value) +
                                                 " for configuration " + std::string(def.name) +
                                                 ": " + std::string(why));
}

Result<std::string> validate_integer(const ConfigDef& def, std::string_view value) {
  int64_t number = 0;
  if (!parse_int64(value, number))
    return invalid(def, value, "Not a number of type " + std::string(type_name(def.type)));
  int64_t type_min = def.type == int32   ? std::numeric_limits<int32_t>::min()
                     : def.type == int16 ? std::numeric_limits<int16_t>::min()
                                         : kLongMin;
  int64_t type_max = def.type == int32   ? std::numeric_limits<int32_t>::max()
                     : def.type == int16 ? std::numeric_limits<int16_t>::max()
                                         : kLongMax;
  if (number < type_min || number > type_max) {
    return invalid(def, value, "Not a number of type " + std::string(type_name(def.type)));
  }
  if (number < def.validator.min) {
    return invalid(def, value, "Value must be at least " + std::to_string(def.validator.min));
  }
  if (number > def.validator.max) {
    return invalid(def, value, "Value must be no more than " + std::to_string(def.validator.max));
  }
  return std::to_string(number);
}

Result<std::string> validate_list(const ConfigDef& def, std::string_view value) {
  std::string normalized;
  if (!value.empty()) {
    size_t start = 0;
    while (true) {
      size_t end = value.find(',', start);
      std::string_view item =
          trim(value.substr(start, end == std::string_view::npos ? end : end - start));
      if (item.empty()) return invalid(def, value, "empty list item");
      if (!is_allowed(def.validator, item)) {
        return invalid(def, value, "String must be one of: " + allowed_list(def.validator));
      }
      if (!normalized.empty()) normalized += ",";
      normalized += item;
      if (end == std::string_view::npos) break;
      start = end + 1;
    }
  }
  if (normalized.empty() && def.validator.non_empty) {
    return invalid(def, value, "must not be empty");
  }
  return normalized;
}

Result<std::string> validate_typed(const ConfigDef& def, std::string_view value) {
  switch (def.type) {
    case boolean: {
      std::string lower(value);
      std::transform(lower.begin(), lower.end(), lower.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      if (lower != "true" && lower != "false") {
        return invalid(def, value, "Expected value to be either true or false");
      }
      return lower;
    }
    case int16:
    case int32:
    case int64:
      return validate_integer(def, value);
    case float64: {
      double number = 0;
      if (!parse_float64(value, number)) return invalid(def, value, "Not a number of type DOUBLE");
      if (number < def.validator.min_double || number > def.validator.max_double) {
        return invalid(def, value, "Value out of range");
      }
      return std::string(value);
    }
    case list:
      return validate_list(def, value);
    default:
      if (!is_allowed(def.validator, value)) {
        return invalid(def, value, "String must be one of: " + allowed_list(def.validator));
      }
      if (value.empty() && def.validator.non_empty) return invalid(def, value, "empty");
      return std::string(value);
  }
}

}  // namespace

std::span<const ConfigDef> topic_config_defs() { return kTopicConfigs; }
std::span<const ConfigDef> broker_config_defs() { return kBrokerConfigs; }

const ConfigDef* find_topic_config(std::string_view name) { return find_in(kTopicConfigs, name); }
const ConfigDef* find_broker_config(std::string_view name) { return find_in(kBrokerConfigs, name); }

Result<std::string> validate_value(const ConfigDef& def, std::string_view value) {
  if (!is_utf8(value)) {
    return error(StatusCode::invalid_argument,
                 "Invalid value for configuration " + std::string(def.name) + ": not UTF-8");
  }
  Result<std::string> normalized = validate_typed(def, trim(value));
  if (!normalized.ok()) return normalized;
  if (def.validator.check != nullptr) {
    std::string why = def.validator.check(*normalized);
    if (!why.empty()) return invalid(def, value, why);
  }
  return normalized;
}

int64_t parse_long(std::string_view value) {
  int64_t number = 0;
  bool ok = parse_int64(value, number);
  ASSERT(ok);
  return number;
}

double parse_double(std::string_view value) {
  double number = 0;
  bool ok = parse_float64(value, number);
  ASSERT(ok);
  return number;
}

bool parse_bool(std::string_view value) {
  ASSERT(value == "true" || value == "false");
  return value == "true";
}

std::string_view type_name(ConfigType type) {
  switch (type) {
    case boolean:
      return "BOOLEAN";
    case string:
      return "STRING";
    case int32:
      return "INT";
    case int16:
      return "SHORT";
    case int64:
      return "LONG";
    case float64:
      return "DOUBLE";
    case list:
      return "LIST";
    case class_name:
      return "CLASS";
    case password:
      return "PASSWORD";
    default:
      return "UNKNOWN";
  }
}

}  // namespace cairn::broker::configs
