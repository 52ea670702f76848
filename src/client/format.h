// Text formats of the CLI's record streams, independent of any cluster (unit-tested in
// format_test.cc).
//
// RecordFormatter prints consumed records with an rpk-style format string (`cairn consume -f`):
//   %t topic  %T topic length  %k key  %K key length  %v value  %V value length
//   %p partition  %o offset (- when unknown, e.g. acks=0)  %d timestamp (ms)  %H header count
//   %i record number (from 1)
//   %h all headers as key=value,... or %h{...} with %k %v %K %V per header
//   %% %{ %}   escapes \n \t \r \\ \xNN;  %k %v %t take {hex} or {base64} modifiers.
// A null key or value prints as nothing. record_to_json() prints rpk's JSON shape.
//
// InputParser splits producer input (`cairn produce --format`) into records with a format of
// %k %v %p fields between literal delimiters, e.g. "%k:%v\n" (default "%v\n").
//
// Values; one thread at a time per object.
#pragma once

#include <cstdint>
#include <istream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "client/record.h"

namespace cairn::client {

// Replaces \n \t \r \\ \xNN in `text`; invalid_argument on a bad escape.
Result<std::string> unescape(std::string_view text);

class RecordFormatter {
 public:
  static Result<RecordFormatter> parse(std::string_view format);
  // Appends the formatted record to `out`.
  void format(const IncomingRecord& record, std::string& out);

  enum class Field {
    literal,
    topic,
    topic_length,
    key,
    key_length,
    value,
    value_length,
    partition,
    offset,
    timestamp,
    header_count,
    headers,
    record_number
  };
  enum class Encoding { text, hex, base64 };
  struct Token {
    Field field = Field::literal;
    Encoding encoding = Encoding::text;
    std::string literal;               // Field::literal
    std::vector<Token> header_format;  // Field::headers with a {...} specification
  };

 private:
  std::vector<Token> tokens_;
  uint64_t record_count_ = 0;
};

// One JSON object (no trailing newline): {"topic","key","value","headers":[{"key","value"}],
// "timestamp","partition","offset"}; a null key/value is JSON null; invalid UTF-8 is replaced.
std::string record_to_json(const IncomingRecord& record);

struct ParsedInput {
  std::optional<std::string> key;  // set when the format has %k
  std::string value;
  std::optional<int32_t> partition;  // set when the format has %p
};

class InputParser {
 public:
  static Result<InputParser> parse(std::string_view format);
  // Reads the next record. Returns false at a clean end of input; invalid_argument when the
  // input does not match the format. A final record missing only its last delimiter (a last
  // line without '\n') is accepted.
  Result<bool> next(std::istream& in, ParsedInput& record);

  struct Token {
    char field = 0;  // 'k', 'v', 'p', or 0 for a literal
    std::string literal;
  };

 private:
  std::vector<Token> tokens_;
  uint64_t record_count_ = 0;
};

}  // namespace cairn::client
