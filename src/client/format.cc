#include "client/format.h"

#include <fmt/format.h>

#include <optional>
#include <utility>

#include <nlohmann/json.hpp>

namespace cairn::client {

namespace {

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void append_hex(std::string_view bytes, std::string& out) {
  static constexpr char kDigits[] = "0123456789abcdef";
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 0xf]);
  }
}

void append_base64(std::string_view bytes, std::string& out) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    uint32_t n = (uint8_t(bytes[i]) << 16) | (uint8_t(bytes[i + 1]) << 8) | uint8_t(bytes[i + 2]);
    out.push_back(kAlphabet[(n >> 18) & 63]);
    out.push_back(kAlphabet[(n >> 12) & 63]);
    out.push_back(kAlphabet[(n >> 6) & 63]);
    out.push_back(kAlphabet[n & 63]);
  }
  if (i + 1 == bytes.size()) {
    uint32_t n = uint8_t(bytes[i]) << 16;
    out.push_back(kAlphabet[(n >> 18) & 63]);
    out.push_back(kAlphabet[(n >> 12) & 63]);
    out.append("==");
  } else if (i + 2 == bytes.size()) {
    uint32_t n = (uint8_t(bytes[i]) << 16) | (uint8_t(bytes[i + 1]) << 8);
    out.push_back(kAlphabet[(n >> 18) & 63]);
    out.push_back(kAlphabet[(n >> 12) & 63]);
    out.push_back(kAlphabet[(n >> 6) & 63]);
    out.push_back('=');
  }
}

void append_bytes(std::string_view bytes, RecordFormatter::Encoding encoding, std::string& out) {
  switch (encoding) {
    case RecordFormatter::Encoding::text:
      out.append(bytes);
      break;
    case RecordFormatter::Encoding::hex:
      append_hex(bytes, out);
      break;
    case RecordFormatter::Encoding::base64:
      append_base64(bytes, out);
      break;
  }
}

using Token = RecordFormatter::Token;
using Field = RecordFormatter::Field;

// The field a %-verb names ('k': the key, ...), or nullopt.
std::optional<Field> field_of(char verb) {
  constexpr std::pair<char, Field> kVerbs[] = {
      {'t', Field::topic},        {'T', Field::topic_length}, {'k', Field::key},
      {'K', Field::key_length},   {'v', Field::value},        {'V', Field::value_length},
      {'p', Field::partition},    {'o', Field::offset},       {'d', Field::timestamp},
      {'H', Field::header_count}, {'h', Field::headers},      {'i', Field::record_number},
  };
  for (const auto& [letter, field] : kVerbs) {
    if (letter == verb) return field;
  }
  return std::nullopt;
}

// A field's `{modifier}`: hex or base64 for the bytes fields (key, value, topic); ascii or
// text (as they are) for any field.
Status apply_modifier(std::string_view modifier, char verb, Token& token) {
  bool bytes =
      token.field == Field::key || token.field == Field::value || token.field == Field::topic;
  if (bytes && modifier == "hex") {
    token.encoding = RecordFormatter::Encoding::hex;
  } else if (bytes && modifier == "base64") {
    token.encoding = RecordFormatter::Encoding::base64;
  } else if (modifier != "ascii" && modifier != "text") {
    return error(StatusCode::invalid_argument,
                 fmt::format("unsupported modifier '{{{}}}' for '%{}'", modifier, verb));
  }
  return Status::ok_status();
}

// Parses `format` into tokens; inside a %h{...} specification (in_header) only the
// per-header fields exist. `pos` advances past what was consumed.
Status parse_tokens(std::string_view format, size_t& pos, bool in_header,
                    std::vector<Token>& tokens) {
  auto add_literal = [&tokens](std::string_view text) {
    if (tokens.empty() || tokens.back().field != Field::literal) tokens.push_back(Token{});
    tokens.back().literal.append(text);
  };
  while (pos < format.size()) {
    char c = format[pos];
    if (in_header && c == '}') return Status::ok_status();
    if (c == '\\') {
      size_t length = (pos + 1 < format.size() && format[pos + 1] == 'x') ? 4 : 2;
      auto text = unescape(format.substr(pos, length));
      if (!text.ok()) return text.status();
      add_literal(*text);
      pos += length;
      continue;
    }
    if (c != '%') {
      add_literal(std::string_view(&format[pos], 1));
      pos++;
      continue;
    }
    if (pos + 1 >= format.size()) {
      return error(StatusCode::invalid_argument, "format ends in a lone '%'");
    }
    char verb = format[pos + 1];
    pos += 2;
    if (verb == '%' || verb == '{' || verb == '}') {
      add_literal(std::string_view(&verb, 1));
      continue;
    }
    std::optional<Field> field = field_of(verb);
    if (!field) {
      return error(StatusCode::invalid_argument, fmt::format("unknown format field '%{}'", verb));
    }
    Token token;
    token.field = *field;
    bool per_header = token.field == Field::key || token.field == Field::value ||
                      token.field == Field::key_length || token.field == Field::value_length;
    if (in_header && !per_header) {
      return error(StatusCode::invalid_argument,
                   fmt::format("'%{}' cannot be used inside %h{{...}}", verb));
    }
    if (pos < format.size() && format[pos] == '{') {
      pos++;
      if (token.field == Field::headers) {
        RETURN_IF_ERROR(parse_tokens(format, pos, true, token.header_format));
        if (pos >= format.size()) {
          return error(StatusCode::invalid_argument, "unterminated %h{...}");
        }
        pos++;  // the closing brace
      } else {
        size_t close = format.find('}', pos);
        if (close == std::string_view::npos) {
          return error(StatusCode::invalid_argument, "unterminated '{' modifier");
        }
        RETURN_IF_ERROR(apply_modifier(format.substr(pos, close - pos), verb, token));
        pos = close + 1;
      }
    }
    tokens.push_back(std::move(token));
  }
  if (in_header) return error(StatusCode::invalid_argument, "unterminated %h{...}");
  return Status::ok_status();
}

void format_header(const std::vector<Token>& tokens, const Header& header, std::string& out) {
  for (const Token& token : tokens) {
    switch (token.field) {
      case Field::literal:
        out.append(token.literal);
        break;
      case Field::key:
        append_bytes(header.key, token.encoding, out);
        break;
      case Field::key_length:
        out.append(std::to_string(header.key.size()));
        break;
      case Field::value:
        if (header.value) append_bytes(*header.value, token.encoding, out);
        break;
      case Field::value_length:
        out.append(header.value ? std::to_string(header.value->size()) : "-1");
        break;
      default:
        break;  // rejected by parse_tokens
    }
  }
}

}  // namespace

Result<std::string> unescape(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); i++) {
    if (text[i] != '\\') {
      out.push_back(text[i]);
      continue;
    }
    if (i + 1 >= text.size()) return error(StatusCode::invalid_argument, "text ends in '\\'");
    char c = text[++i];
    switch (c) {
      case 'n':
        out.push_back('\n');
        break;
      case 't':
        out.push_back('\t');
        break;
      case 'r':
        out.push_back('\r');
        break;
      case '\\':
        out.push_back('\\');
        break;
      case 'x': {
        int high = i + 1 < text.size() ? hex_digit(text[i + 1]) : -1;
        int low = i + 2 < text.size() ? hex_digit(text[i + 2]) : -1;
        if (high < 0 || low < 0) {
          return error(StatusCode::invalid_argument, "\\x needs two hex digits");
        }
        out.push_back(static_cast<char>(high * 16 + low));
        i += 2;
        break;
      }
      default:
        return error(StatusCode::invalid_argument, fmt::format("unknown escape '\\{}'", c));
    }
  }
  return out;
}

Result<RecordFormatter> RecordFormatter::parse(std::string_view format) {
  RecordFormatter formatter;
  size_t pos = 0;
  RETURN_IF_ERROR(parse_tokens(format, pos, false, formatter.tokens_));
  return formatter;
}

void RecordFormatter::format(const IncomingRecord& record, std::string& out) {
  record_count_++;
  for (const Token& token : tokens_) {
    switch (token.field) {
      case Field::literal:
        out.append(token.literal);
        break;
      case Field::topic:
        append_bytes(record.topic, token.encoding, out);
        break;
      case Field::topic_length:
        out.append(std::to_string(record.topic.size()));
        break;
      case Field::key:
        if (record.key) append_bytes(*record.key, token.encoding, out);
        break;
      case Field::key_length:
        out.append(record.key ? std::to_string(record.key->size()) : "-1");
        break;
      case Field::value:
        if (record.value) append_bytes(*record.value, token.encoding, out);
        break;
      case Field::value_length:
        out.append(record.value ? std::to_string(record.value->size()) : "-1");
        break;
      case Field::partition:
        out.append(std::to_string(record.partition));
        break;
      case Field::offset:
        // A negative offset is unknown (a record produced with acks=0 gets -1001): print "-".
        out.append(record.offset >= 0 ? std::to_string(record.offset) : "-");
        break;
      case Field::timestamp:
        out.append(std::to_string(record.timestamp_ms));
        break;
      case Field::header_count:
        out.append(std::to_string(record.headers.size()));
        break;
      case Field::record_number:
        out.append(std::to_string(record_count_));
        break;
      case Field::headers:
        for (size_t i = 0; i < record.headers.size(); i++) {
          const Header& header = record.headers[i];
          if (!token.header_format.empty()) {
            format_header(token.header_format, header, out);
            continue;
          }
          if (i > 0) out.push_back(',');
          out.append(header.key).push_back('=');
          if (header.value) out.append(*header.value);
        }
        break;
    }
  }
}

std::string record_to_json(const IncomingRecord& record) {
  nlohmann::ordered_json json;
  json["topic"] = record.topic;
  json["key"] = record.key ? nlohmann::ordered_json(*record.key) : nlohmann::ordered_json();
  json["value"] = record.value ? nlohmann::ordered_json(*record.value) : nlohmann::ordered_json();
  nlohmann::ordered_json headers = nlohmann::ordered_json::array();
  for (const Header& header : record.headers) {
    nlohmann::ordered_json h;
    h["key"] = header.key;
    h["value"] = header.value ? nlohmann::ordered_json(*header.value) : nlohmann::ordered_json();
    headers.push_back(std::move(h));
  }
  json["headers"] = std::move(headers);
  json["timestamp"] = record.timestamp_ms;
  json["partition"] = record.partition;
  json["offset"] = record.offset;
  return json.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

Result<InputParser> InputParser::parse(std::string_view format) {
  InputParser parser;
  bool has_value = false;
  for (size_t pos = 0; pos < format.size();) {
    char c = format[pos];
    if (c == '%' && pos + 1 < format.size() && format[pos + 1] != '%') {
      char field = format[pos + 1];
      if (field != 'k' && field != 'v' && field != 'p') {
        return error(StatusCode::invalid_argument,
                     fmt::format("input format field '%{}' is not one of %k %v %p", field));
      }
      if (!parser.tokens_.empty() && parser.tokens_.back().field != 0) {
        return error(StatusCode::invalid_argument,
                     "input format needs a delimiter between two fields");
      }
      has_value = has_value || field == 'v';
      parser.tokens_.push_back({field, ""});
      pos += 2;
      continue;
    }
    size_t length = 1;
    std::string text(1, c);
    if (c == '%') {
      if (pos + 1 >= format.size()) {
        return error(StatusCode::invalid_argument, "input format ends in a lone '%'");
      }
      length = 2;  // "%%"
      text = "%";
    } else if (c == '\\') {
      length = (pos + 1 < format.size() && format[pos + 1] == 'x') ? 4 : 2;
      auto unescaped = unescape(format.substr(pos, length));
      if (!unescaped.ok()) return unescaped.status();
      text = *unescaped;
    }
    if (parser.tokens_.empty() || parser.tokens_.back().field != 0) parser.tokens_.push_back({});
    parser.tokens_.back().literal += text;
    pos += length;
  }
  if (!has_value) return error(StatusCode::invalid_argument, "input format has no %v");
  return parser;
}

namespace {

// Reads bytes up to (not including) `delimiter`, consuming the delimiter; with an empty
// delimiter reads to the end. Sets `hit_end` when input ended before the delimiter.
void read_until(std::istream& in, const std::string& delimiter, std::string& out, bool& hit_end) {
  hit_end = false;
  while (true) {
    int c = in.get();
    if (c == std::char_traits<char>::eof()) {
      hit_end = true;
      return;
    }
    out.push_back(static_cast<char>(c));
    if (!delimiter.empty() && out.size() >= delimiter.size() &&
        out.compare(out.size() - delimiter.size(), delimiter.size(), delimiter) == 0) {
      out.resize(out.size() - delimiter.size());
      return;
    }
  }
}

}  // namespace

Result<bool> InputParser::next(std::istream& in, ParsedInput& record) {
  record = ParsedInput{};
  if (in.peek() == std::char_traits<char>::eof()) return false;
  record_count_++;
  for (size_t i = 0; i < tokens_.size(); i++) {
    const Token& token = tokens_[i];
    if (token.field == 0) {
      if (i > 0) continue;  // consumed as the delimiter of the field before it
      for (size_t j = 0; j < token.literal.size(); j++) {
        int c = in.get();
        if (c != static_cast<unsigned char>(token.literal[j])) {
          return error(StatusCode::invalid_argument,
                       fmt::format("input record {} does not start with '{}'", record_count_,
                                   token.literal));
        }
      }
      continue;
    }
    const std::string delimiter = i + 1 < tokens_.size() ? tokens_[i + 1].literal : "";
    std::string text;
    bool hit_end = false;
    read_until(in, delimiter, text, hit_end);
    bool last_field = i + 2 >= tokens_.size();
    if (hit_end && !delimiter.empty() && !last_field) {
      return error(
          StatusCode::invalid_argument,
          fmt::format("input record {} ends before its delimiter '{}'", record_count_, delimiter));
    }
    if (token.field == 'k') {
      record.key = std::move(text);
    } else if (token.field == 'v') {
      record.value = std::move(text);
    } else {
      char* end = nullptr;
      long partition = std::strtol(text.c_str(), &end, 10);
      if (text.empty() || *end != '\0' || partition < 0 || partition > INT32_MAX) {
        return error(
            StatusCode::invalid_argument,
            fmt::format("input record {}: partition '{}' is not a number", record_count_, text));
      }
      record.partition = static_cast<int32_t>(partition);
    }
  }
  return true;
}

}  // namespace cairn::client
