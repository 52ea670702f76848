// ssl.principal.mapping.rules: how a client certificate's subject (an RFC 2253 distinguished
// name) becomes a principal name. Kept out of identity.h so only the server and the config
// check compile <regex>.
//
// The rules (Kafka's syntax, KIP-371), tried in order, the first that applies wins:
//
//   DEFAULT                          the whole distinguished name
//   RULE:pattern/replacement/        when `pattern` (ECMAScript regex) matches the whole DN,
//   RULE:pattern/replacement/L       the replacement ($1.. are its groups), optionally lower-
//   RULE:pattern/replacement/U       or upper-cased
//
// separated by commas (the commas inside a rule's pattern belong to it). Inside pattern and
// replacement `\/` is a literal slash. A DN no rule applies to is refused (Kafka fails the
// authentication). Immutable after parse; any thread.
#pragma once

#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace cairn::broker::security {

class PrincipalMapper {
 public:
  // Errors: invalid_argument naming the rule that does not parse (or whose regex does not).
  static Result<PrincipalMapper> parse(std::string_view rules);

  // The principal name (without "User:") for `distinguished_name`. Errors: not_found when no
  // rule applies.
  Result<std::string> map(std::string_view distinguished_name) const;

  size_t rule_count() const { return rules_.size(); }

 private:
  enum class Case : uint8_t { keep, lower, upper };
  struct Rule {
    bool is_default = false;
    std::string pattern_text;
    std::regex pattern;
    std::string replacement;  // in std::regex format syntax ($1, $$)
    Case to_case = Case::keep;
  };

  std::vector<Rule> rules_;
};

}  // namespace cairn::broker::security
