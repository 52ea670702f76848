// QuotaStore: the client quotas of Kafka's entity model (KIP-55, KIP-546), kept durably in
// DATA_DIR/meta/quotas.json (format: docs/format/meta.md) and in memory for enforcement.
//
// An entity names a `user` and/or a `client-id`, each either a name or the default (Kafka's
// null name, `<default>` in kafka-configs.sh). Each entity holds quota values by key; Cairn
// keeps and enforces `producer_byte_rate` and `consumer_byte_rate` (bytes per second).
// resolve() picks the quota that applies to a request by Kafka's precedence:
//
//   1 user=U,client-id=C   2 user=U,client-id=<default>   3 user=U
//   4 user=<default>,client-id=C   5 user=<default>,client-id=<default>   6 user=<default>
//   7 client-id=C   8 client-id=<default>
//
// the first entity (in that order) with a value for the key wins, per key.
//
// A change (AlterClientQuotas) rewrites the whole file with meta_file.h's replace-and-fsync
// before it becomes visible, so an acknowledged change survives kill -9.
//
// Thread safety: reads from any thread (a shared lock; empty() is a lock-free fast path for
// brokers without quotas); apply() blocks for the fsync, so call it on the MetaWriter
// (meta_writer.h), never on a shard loop.
#pragma once

#include <atomic>
#include <compare>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "storage/io.h"

namespace cairn::broker::quotas {

inline constexpr std::string_view kProducerByteRate = "producer_byte_rate";
inline constexpr std::string_view kConsumerByteRate = "consumer_byte_rate";
inline constexpr std::string_view kEntityUser = "user";
inline constexpr std::string_view kEntityClientId = "client-id";

// Bounds that keep quotas.json (and the in-memory map) small whatever clients send.
inline constexpr size_t kEntityNameBytesMax = 1024;
inline constexpr size_t kEntitiesMax = 10000;

enum class QuotaKey : uint8_t { producer_byte_rate, consumer_byte_rate };

std::string_view quota_key_name(QuotaKey key);
// nullopt for every other key (request_percentage, controller_mutation_rate, typos).
std::optional<QuotaKey> parse_quota_key(std::string_view name);

// One part of an entity: absent (the entity does not name this type), the default, or a name.
struct EntityPart {
  enum class Kind : uint8_t { absent, default_name, named };
  Kind kind = Kind::absent;
  std::string name;  // Kind::named only

  static EntityPart absent() { return {}; }
  static EntityPart default_name() { return {Kind::default_name, {}}; }
  static EntityPart named(std::string name) { return {Kind::named, std::move(name)}; }
  bool present() const { return kind != Kind::absent; }
  auto operator<=>(const EntityPart&) const = default;
};

struct QuotaEntity {
  EntityPart user;
  EntityPart client_id;
  auto operator<=>(const QuotaEntity&) const = default;
};

// "user=alice,client-id=<default>" (logs, error messages).
std::string entity_to_string(const QuotaEntity& entity);

using QuotaValues = std::map<QuotaKey, double>;
using QuotaMap = std::map<QuotaEntity, QuotaValues>;

// The quota that applies to one request, and whom its bytes are counted against: the matched
// entity with each default part replaced by the request's own name (Kafka counts a default
// quota per user or client-id, not once for all of them).
struct EffectiveQuota {
  double bytes_per_second = 0;
  QuotaEntity account;
};

// Kafka's precedence over `quotas` (see above). `user` is the principal's name without
// "User:"; nullopt when no entity has a value for `key`.
std::optional<EffectiveQuota> resolve_quota(const QuotaMap& quotas, QuotaKey key,
                                            std::string_view user, std::string_view client_id);

class QuotaStore {
 public:
  struct Change {
    QuotaEntity entity;
    QuotaKey key = QuotaKey::producer_byte_rate;
    std::optional<double> value;  // nullopt: remove the key
  };

  // Reads `meta_dir`/quotas.json (absent: no quotas). corrupt if it does not parse.
  static Result<std::unique_ptr<QuotaStore>> open(const std::filesystem::path& meta_dir,
                                                  storage::Io& io);

  // True when no entity has any quota: produce and fetch skip quota work entirely.
  bool empty() const { return empty_.load(std::memory_order_acquire); }
  std::optional<EffectiveQuota> resolve(QuotaKey key, std::string_view user,
                                        std::string_view client_id) const;
  QuotaMap snapshot() const;

  // Applies `changes` in order and persists the result; on an error nothing changes. Removing
  // a value that does not exist is not an error. too_large past kEntitiesMax entities.
  Status apply(const std::vector<Change>& changes);

 private:
  QuotaStore(storage::Io& io, std::filesystem::path path, QuotaMap quotas);

  storage::Io& io_;
  const std::filesystem::path path_;
  std::mutex write_mu_;  // one apply() at a time
  mutable std::shared_mutex mu_;
  QuotaMap quotas_;  // guarded by mu_; no entity with an empty value map
  std::atomic<bool> empty_{true};
};

// The JSON text of the file, and back (exposed for tests).
std::string encode_quotas(const QuotaMap& quotas);
Result<QuotaMap> decode_quotas(std::string_view text);

}  // namespace cairn::broker::quotas
