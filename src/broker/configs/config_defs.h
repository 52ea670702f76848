// The config catalog: every topic config a Kafka user sets, and the broker configs Cairn knows,
// each with its Kafka type, built-in default, validator and whether Cairn enforces it.
//
// Topic configs resolve (resolve.h) as: topic override -> broker synonyms (dynamic per-broker,
// dynamic cluster default, static file/flags; e.g. retention.ms <- log.retention.ms,
// log.retention.minutes, log.retention.hours) -> built-in default. The names, types and
// defaults are Kafka's (3.x), so DescribeConfigs looks the way tools expect; the few places
// where Cairn's default differs (flush.ms) say so in `documentation` and docs/configuration.md.
//
// Constant tables and pure functions; any thread.
#pragma once

#include <array>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "base/status.h"

namespace cairn::broker::configs {

// Kafka's DescribeConfigsResponse config_type wire values.
enum class ConfigType : int8_t {
  unknown = 0,
  boolean = 1,
  string = 2,
  int32 = 3,    // INT
  int16 = 4,    // SHORT
  int64 = 5,    // LONG
  float64 = 6,  // DOUBLE
  list = 7,
  class_name = 8,
  password = 9,
};

// Kafka's config_source wire values (DescribeConfigs v1+, CreateTopics v5+).
enum class ConfigSource : int8_t {
  unknown = 0,
  dynamic_topic = 1,           // DYNAMIC_TOPIC_CONFIG: a topic override
  dynamic_broker = 2,          // DYNAMIC_BROKER_CONFIG: set for this broker (resource "0")
  dynamic_default_broker = 3,  // DYNAMIC_DEFAULT_BROKER_CONFIG: cluster default (resource "")
  static_broker = 4,           // STATIC_BROKER_CONFIG: config file or command-line flag
  default_config = 5,          // DEFAULT_CONFIG: built in
  dynamic_broker_logger = 6,   // DYNAMIC_BROKER_LOGGER_CONFIG
};

enum class Support : uint8_t {
  enforced,  // Cairn implements what the config asks for
  reported,  // accepted, validated, stored and reported; Cairn's behaviour does not change
};

inline constexpr int64_t kLongMax = std::numeric_limits<int64_t>::max();
inline constexpr int64_t kLongMin = std::numeric_limits<int64_t>::min();

// What values are legal once the text parsed as the config's type.
struct Validator {
  int64_t min = kLongMin;  // integer types, inclusive
  int64_t max = kLongMax;
  double min_double = -std::numeric_limits<double>::infinity();  // DOUBLE, inclusive
  double max_double = std::numeric_limits<double>::infinity();
  // STRING: the value must be one of these; LIST: every item must be. Empty: anything.
  std::span<const std::string_view> allowed;
  bool non_empty = false;  // LIST/STRING: the empty value is not legal
  // Extra check on the normalized value (null: none). Returns an error message or "".
  std::string (*check)(std::string_view value) = nullptr;
};

// A broker config that supplies a topic config's default: the topic value is the broker
// value times `multiplier` (log.retention.hours -> retention.ms: 3,600,000).
struct BrokerSynonym {
  std::string_view name;
  int64_t multiplier = 1;
};

inline constexpr size_t kSynonymsMax = 3;

struct ConfigDef {
  std::string_view name;
  ConfigType type = ConfigType::string;
  // The built-in default as Kafka writes it; nullopt: null (unset, e.g. log.retention.ms).
  std::optional<std::string_view> default_value;
  Validator validator;
  Support support = Support::reported;
  // Broker configs: not dynamically updatable (file and flags only). Topic configs: never.
  bool read_only = false;
  // Topic configs: the broker configs that supply the default, highest precedence first
  // (empty names unused).
  std::array<BrokerSynonym, kSynonymsMax> synonyms{};
  std::string_view documentation;
};

// Sorted by name.
std::span<const ConfigDef> topic_config_defs();
std::span<const ConfigDef> broker_config_defs();
// nullptr when unknown.
const ConfigDef* find_topic_config(std::string_view name);
const ConfigDef* find_broker_config(std::string_view name);

// Checks `value` against `def` (its type, then its validator) and returns it normalized:
// surrounding spaces trimmed, booleans lowercase, list items trimmed and joined by ",".
// Errors: invalid_argument, with a message fit for the client (INVALID_CONFIG).
Result<std::string> validate_value(const ConfigDef& def, std::string_view value);

// Parsers for values that passed validate_value (ASSERT on anything else).
int64_t parse_long(std::string_view value);
double parse_double(std::string_view value);
bool parse_bool(std::string_view value);

// "BOOLEAN", "LONG", ... (Kafka's spelling, for messages and docs).
std::string_view type_name(ConfigType type);

}  // namespace cairn::broker::configs
