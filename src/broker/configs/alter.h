// Computing a new override set for AlterConfigs (replace all), IncrementalAlterConfigs
// (SET / DELETE / APPEND / SUBTRACT) and CreateTopics (the configs of a new topic), with
// Kafka's validation and error codes. The handlers commit the result (TopicRegistry::
// set_configs, DynamicConfigStore::replace) and apply it; nothing here has side effects.
//
// Errors are (Kafka error code, message) because several codes are legal answers:
// INVALID_CONFIG (unknown name, bad value, read-only broker config, APPEND on a non-list),
// INVALID_REQUEST (a key twice in one resource, an unknown operation, null where a value is
// required). Pure functions; any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "broker/configs/broker_configs.h"
#include "broker/configs/resolve.h"
#include "broker/error_code.h"

namespace cairn::broker::configs {

// Kafka's ConfigResource.Type wire values.
enum class ResourceType : int8_t {
  unknown = 0,
  any = 1,
  topic = 2,
  group = 3,
  broker = 4,
  broker_logger = 8,
};

// IncrementalAlterConfigs config_operation wire values.
enum class AlterOp : int8_t { set = 0, remove = 1, append = 2, subtract = 3 };

// Which catalog an override set belongs to.
enum class Scope : uint8_t {
  topic,   // topic overrides: every topic config
  broker,  // dynamic broker configs: broker configs that are not read-only
};

struct AlterEntry {
  std::string name;
  std::optional<std::string> value;
  AlterOp op = AlterOp::set;  // AlterConfigs and CreateTopics: always set
};

struct AlterOutcome {
  ErrorCode error = ErrorCode::none;
  std::string message;  // empty when error == none
  ConfigMap configs;    // the new override set when error == none

  bool ok() const { return error == ErrorCode::none; }
};

// AlterConfigs and CreateTopics: `entries` become the whole override set (non-incremental).
// A null value is INVALID_CONFIG ("null value not supported"). A key given twice is not an
// error: the later entry wins, as Kafka builds a Properties from the entries (librdkafka's
// AlterConfigs helpers resend every described entry and then the changed one).
AlterOutcome replace_configs(Scope scope, std::span<const AlterEntry> entries);

// IncrementalAlterConfigs: applies `entries` to `current`. APPEND/SUBTRACT start from the
// current value: the entry in `current`, else what the name resolves to in `layers` (broker
// default, else built-in default).
AlterOutcome apply_incremental(Scope scope, const ConfigMap& current,
                               std::span<const AlterEntry> entries, const Layers& layers);

}  // namespace cairn::broker::configs
