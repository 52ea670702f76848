// Exposition: writes metrics in the Prometheus text exposition format (version 0.0.4), the
// body of GET /metrics. One family at a time: `family` writes its # HELP and # TYPE lines,
// then its samples follow. Label values and help text are escaped here, so callers may pass
// any bytes (a topic name, an error message).
//
//   Exposition out;
//   out.family("cairn_kafka_records_produced_total", "Records appended by Produce", Type::counter);
//   out.sample("cairn_kafka_records_produced_total", {{"topic", "orders"}}, 42);
//   std::string body = std::move(out).text();
//
// Single-threaded: one Exposition per scrape.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "metrics/cells.h"

namespace cairn::metrics {

enum class Type { counter, gauge, histogram };

struct Label {
  std::string name;
  std::string value;
};
using Labels = std::vector<Label>;

// The content type of the format written here.
inline constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

class Exposition {
 public:
  // Starts family `name`. REQUIRES: `name` is a valid metric name, not started before.
  void family(std::string_view name, std::string_view help, Type type);
  // One sample line. `name` is the family's name, or for a histogram its _bucket/_sum/_count.
  void sample(std::string_view name, const Labels& labels, double value);
  void sample(std::string_view name, const Labels& labels, uint64_t value);
  void sample(std::string_view name, const Labels& labels, int64_t value);
  // The _bucket (cumulative, with le="+Inf"), _sum and _count samples of histogram family
  // `name`; bounds and sum are divided by `divisor` (1e9: nanoseconds to seconds; dividing
  // keeps a bound of 100000 ns printing as 0.0001).
  void histogram(std::string_view name, const Labels& labels, const Histogram::Snapshot& data,
                 double divisor);

  std::string text() && { return std::move(text_); }

 private:
  void line(std::string_view name, const Labels& labels, const std::string& value);

  std::string text_;
  std::set<std::string, std::less<>> families_;
};

// Escaping of the text format: a label value escapes backslash, double quote and line feed;
// help text backslash and line feed.
std::string escape_label_value(std::string_view value);
std::string escape_help(std::string_view help);
// A sample value: integers exactly, +Inf / -Inf / NaN by name, others in shortest form.
std::string format_value(double value);
// [a-zA-Z_:][a-zA-Z0-9_:]* for metric names; labels the same without ':'.
bool valid_metric_name(std::string_view name);
bool valid_label_name(std::string_view name);

}  // namespace cairn::metrics
