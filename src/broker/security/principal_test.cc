// ssl.principal.mapping.rules: the parser (Kafka's syntax) and the mapping of certificate
// subjects to principal names.
#include "broker/security/principal.h"

#include <gtest/gtest.h>

#include "broker/security/identity.h"

namespace cairn::broker::security {
namespace {

std::string map_with(std::string_view rules, std::string_view dn) {
  Result<PrincipalMapper> mapper = PrincipalMapper::parse(rules);
  EXPECT_TRUE(mapper.ok()) << mapper.status().message();
  if (!mapper.ok()) return "<parse error>";
  Result<std::string> name = mapper->map(dn);
  return name.ok() ? *name : "<no rule>";
}

TEST(PrincipalMapping, DefaultIsTheWholeDistinguishedName) {
  EXPECT_EQ(map_with("DEFAULT", "CN=alice,OU=eng,O=Acme"), "CN=alice,OU=eng,O=Acme");
}

TEST(PrincipalMapping, RuleReplacesWithGroups) {
  EXPECT_EQ(map_with("RULE:^CN=(.*?),OU=(.*?),O=Acme$/$1@$2/", "CN=alice,OU=eng,O=Acme"),
            "alice@eng");
}

TEST(PrincipalMapping, LowerAndUpperCaseFlags) {
  EXPECT_EQ(map_with("RULE:^CN=([^,]*).*$/$1/L", "CN=Alice,O=Acme"), "alice");
  EXPECT_EQ(map_with("RULE:^CN=([^,]*).*$/$1/U", "CN=Alice,O=Acme"), "ALICE");
}

TEST(PrincipalMapping, FirstRuleThatMatchesWinsThenDefault) {
  std::string rules = "RULE:^CN=([^,]*),OU=ops.*$/ops-$1/, RULE:^CN=([^,]*),OU=eng.*$/$1/L,DEFAULT";
  EXPECT_EQ(map_with(rules, "CN=Bob,OU=eng,O=Acme"), "bob");
  EXPECT_EQ(map_with(rules, "CN=carol,OU=ops,O=Acme"), "ops-carol");
  EXPECT_EQ(map_with(rules, "CN=dave,OU=sales,O=Acme"), "CN=dave,OU=sales,O=Acme");
}

TEST(PrincipalMapping, PatternMustMatchTheWholeName) {
  // "CN=alice" alone matches only a prefix of the DN: the rule does not apply.
  EXPECT_EQ(map_with("RULE:CN=alice/x/", "CN=alice,O=Acme"), "<no rule>");
  EXPECT_EQ(map_with("RULE:CN=alice.*/x/", "CN=alice,O=Acme"), "x");
}

TEST(PrincipalMapping, NoRuleAppliesIsNotFound) {
  Result<PrincipalMapper> mapper = PrincipalMapper::parse("RULE:^CN=admin$/admin/");
  ASSERT_TRUE(mapper.ok());
  Result<std::string> name = mapper->map("CN=eve");
  ASSERT_FALSE(name.ok());
  EXPECT_EQ(name.status().code(), StatusCode::not_found);
}

TEST(PrincipalMapping, CommasInsidePatternsBelongToTheRule) {
  Result<PrincipalMapper> mapper =
      PrincipalMapper::parse("RULE:^CN=(.*?),OU=ServiceUsers,O=Acme$/svc-$1/,DEFAULT");
  ASSERT_TRUE(mapper.ok()) << mapper.status().message();
  EXPECT_EQ(mapper->rule_count(), 2u);
  EXPECT_EQ(*mapper->map("CN=billing,OU=ServiceUsers,O=Acme"), "svc-billing");
}

TEST(PrincipalMapping, WhitespaceAndNewlinesBetweenRules) {
  Result<PrincipalMapper> mapper = PrincipalMapper::parse("  RULE:^CN=(.*)$/$1/L ,\n  DEFAULT  \n");
  ASSERT_TRUE(mapper.ok()) << mapper.status().message();
  EXPECT_EQ(mapper->rule_count(), 2u);
}

TEST(PrincipalMapping, EscapedSlashAndDollar) {
  EXPECT_EQ(map_with(R"(RULE:^CN=a\/b$/x\/y/)", "CN=a/b"), "x/y");
  EXPECT_EQ(map_with(R"(RULE:^CN=(.*)$/\$$1/)", "CN=a"), "$a");
}

TEST(PrincipalMapping, MalformedRulesAreRejected) {
  for (const char* rules : {"", " ", "RULE:^CN=x$", "RULE:^CN=x$/y", "NOPE", "DEFAULT DEFAULT",
                            "RULE:^CN=x$/y/Q", "RULE:^CN=(x$/y/", "DEFAULT,,"}) {
    EXPECT_FALSE(PrincipalMapper::parse(rules).ok()) << "'" << rules << "'";
  }
}

TEST(PrincipalMapping, AnonymousIsKafkasName) {
  SessionIdentity identity;
  EXPECT_EQ(identity.principal, "User:ANONYMOUS");
}

}  // namespace
}  // namespace cairn::broker::security
