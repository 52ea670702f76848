// GCC 12 warns that std::function members inside <regex>'s compiled state "may be used
// uninitialized": a false positive of its optimizer in libstdc++'s regex compiler. The pragma
// must come before <regex> is first included.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include "broker/security/principal.h"

#include <cctype>

namespace cairn::broker::security {
namespace {

constexpr std::string_view kDefault = "DEFAULT";
constexpr std::string_view kRule = "RULE:";

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

void skip_spaces(std::string_view text, size_t& at) {
  while (at < text.size() && is_space(text[at])) at++;
}

Status bad_rule(std::string_view rules, size_t at, std::string_view why) {
  return error(StatusCode::invalid_argument, "ssl.principal.mapping.rules: " + std::string(why) +
                                                 " at '" + std::string(rules.substr(at)) + "'");
}

// Reads up to the next unescaped '/', moving `at` past it. `\/` becomes '/'; other escapes
// stay as they are (they mean something to the regex). `for_format`: a literal '$' (written
// `\$`) becomes "$$", std::regex's format escape. False when there is no closing '/'.
bool read_part(std::string_view text, size_t& at, bool for_format, std::string& out) {
  while (at < text.size()) {
    char c = text[at++];
    if (c == '/') return true;
    if (c == '\\' && at < text.size()) {
      char next = text[at++];
      if (next == '/') {
        out += '/';
      } else if (for_format) {
        out += next == '$' ? "$$" : std::string(1, next);
      } else {
        out += '\\';
        out += next;
      }
      continue;
    }
    out += c;
  }
  return false;
}

}  // namespace

Result<PrincipalMapper> PrincipalMapper::parse(std::string_view rules) {
  PrincipalMapper mapper;
  size_t at = 0;
  skip_spaces(rules, at);
  while (at < rules.size()) {
    size_t start = at;
    Rule rule;
    if (rules.substr(at).starts_with(kDefault)) {
      rule.is_default = true;
      at += kDefault.size();
    } else if (rules.substr(at).starts_with(kRule)) {
      at += kRule.size();
      if (!read_part(rules, at, false, rule.pattern_text) ||
          !read_part(rules, at, true, rule.replacement)) {
        return bad_rule(rules, start, "expected RULE:pattern/replacement/[LU]");
      }
      if (at < rules.size() && (rules[at] == 'L' || rules[at] == 'U')) {
        rule.to_case = rules[at] == 'L' ? Case::lower : Case::upper;
        at++;
      }
      try {
        rule.pattern = std::regex(rule.pattern_text, std::regex::ECMAScript);
      } catch (const std::regex_error& e) {  // std::regex reports bad patterns by exception
        return bad_rule(rules, start, std::string("bad pattern (") + e.what() + ")");
      }
    } else {
      return bad_rule(rules, start, "expected DEFAULT or RULE:");
    }
    skip_spaces(rules, at);
    if (at < rules.size() && rules[at] != ',') return bad_rule(rules, at, "expected ','");
    if (at < rules.size()) at++;
    skip_spaces(rules, at);
    mapper.rules_.push_back(std::move(rule));
  }
  if (mapper.rules_.empty()) {
    return error(StatusCode::invalid_argument, "ssl.principal.mapping.rules: no rule given");
  }
  return mapper;
}

Result<std::string> PrincipalMapper::map(std::string_view distinguished_name) const {
  std::string dn(distinguished_name);
  for (const Rule& rule : rules_) {
    if (rule.is_default) return dn;
    std::smatch match;
    bool matched = false;
    try {
      matched = std::regex_match(dn, match, rule.pattern);
    } catch (const std::regex_error&) {  // too complex for std::regex: the rule does not apply
      matched = false;
    }
    if (!matched) continue;
    std::string name = match.format(rule.replacement);
    for (char& c : name) {
      auto u = static_cast<unsigned char>(c);
      if (rule.to_case == Case::lower) c = static_cast<char>(std::tolower(u));
      if (rule.to_case == Case::upper) c = static_cast<char>(std::toupper(u));
    }
    return name;
  }
  return error(StatusCode::not_found,
               "no ssl.principal.mapping.rules rule applies to '" + dn + "'");
}

}  // namespace cairn::broker::security
