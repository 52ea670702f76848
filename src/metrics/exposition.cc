#include "metrics/exposition.h"

#include <fmt/format.h>

#include <cmath>

#include "base/assert.h"

namespace cairn::metrics {
namespace {

std::string_view type_name(Type type) {
  switch (type) {
    case Type::counter:
      return "counter";
    case Type::gauge:
      return "gauge";
    case Type::histogram:
      return "histogram";
  }
  return "untyped";
}

bool name_char(char c, bool first, bool colon_ok) {
  bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
  if (colon_ok && c == ':') return true;
  return letter || (!first && c >= '0' && c <= '9');
}

bool valid_name(std::string_view name, bool colon_ok) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); i++) {
    if (!name_char(name[i], i == 0, colon_ok)) return false;
  }
  return true;
}

}  // namespace

bool valid_metric_name(std::string_view name) { return valid_name(name, true); }
bool valid_label_name(std::string_view name) { return valid_name(name, false); }

std::string escape_label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string escape_help(std::string_view help) {
  std::string out;
  out.reserve(help.size());
  for (char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string format_value(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  return fmt::format("{}", value);
}

void Exposition::family(std::string_view name, std::string_view help, Type type) {
  ASSERT(valid_metric_name(name));
  bool inserted = families_.emplace(name).second;
  ASSERT(inserted);  // a family's samples must stay together: one family() per name
  text_ +=
      fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, escape_help(help), name, type_name(type));
}

void Exposition::line(std::string_view name, const Labels& labels, const std::string& value) {
  DEBUG_ASSERT(valid_metric_name(name));
  text_ += name;
  if (!labels.empty()) {
    text_ += '{';
    for (size_t i = 0; i < labels.size(); i++) {
      ASSERT(valid_label_name(labels[i].name));
      if (i > 0) text_ += ',';
      text_ += labels[i].name;
      text_ += "=\"";
      text_ += escape_label_value(labels[i].value);
      text_ += '"';
    }
    text_ += '}';
  }
  text_ += ' ';
  text_ += value;
  text_ += '\n';
}

void Exposition::sample(std::string_view name, const Labels& labels, double value) {
  line(name, labels, format_value(value));
}

void Exposition::sample(std::string_view name, const Labels& labels, uint64_t value) {
  line(name, labels, std::to_string(value));
}

void Exposition::sample(std::string_view name, const Labels& labels, int64_t value) {
  line(name, labels, std::to_string(value));
}

void Exposition::histogram(std::string_view name, const Labels& labels,
                           const Histogram::Snapshot& data, double divisor) {
  ASSERT(data.buckets.size() == data.bounds.size() + 1);
  std::string bucket_name = std::string(name) + "_bucket";
  Labels with_le = labels;
  with_le.push_back(Label{"le", ""});
  uint64_t cumulative = 0;
  for (size_t i = 0; i < data.buckets.size(); i++) {
    cumulative += data.buckets[i];
    with_le.back().value = i < data.bounds.size()
                               ? format_value(static_cast<double>(data.bounds[i]) / divisor)
                               : std::string("+Inf");
    line(bucket_name, with_le, std::to_string(cumulative));
  }
  ASSERT(cumulative == data.count);
  line(std::string(name) + "_sum", labels, format_value(static_cast<double>(data.sum) / divisor));
  line(std::string(name) + "_count", labels, std::to_string(data.count));
}

}  // namespace cairn::metrics
