// ACL bindings, filters and the authorizer's decisions (Kafka's rules, authorizer.h), and that
// ACLs survive a power loss.
#include <gtest/gtest.h>

#include "broker/security/acl.h"
#include "broker/security/authorizer.h"
#include "testing/fault_io.h"

namespace cairn::broker::security {
namespace {

using O = AclOperation;
using T = AclResourceType;

AclBinding acl(T type, std::string name, AclPatternType pattern, std::string principal, O operation,
               AclPermission permission = AclPermission::allow, std::string host = "*") {
  return AclBinding{type,      std::move(name), pattern, std::move(principal), std::move(host),
                    operation, permission};
}
AclBinding allow_topic(std::string name, std::string principal, O operation) {
  return acl(T::topic, std::move(name), AclPatternType::literal, std::move(principal), operation);
}

SessionIdentity who(std::string principal, std::string host = "10.0.0.1") {
  SessionIdentity identity;
  identity.principal = std::move(principal);
  identity.host = std::move(host);
  return identity;
}

TEST(Acl, BindingsAreCheckedAsKafkaDoes) {
  EXPECT_EQ(check_acl_binding(allow_topic("t", "User:a", O::read)), "");
  EXPECT_NE(check_acl_binding(allow_topic("t", "alice", O::read)), "");
  EXPECT_NE(check_acl_binding(allow_topic("t", "User:", O::read)), "");
  EXPECT_NE(check_acl_binding(allow_topic("", "User:a", O::read)), "");
  EXPECT_NE(check_acl_binding(allow_topic("t", "User:a", O::any)), "");
  EXPECT_NE(check_acl_binding(allow_topic("t", "User:a", static_cast<O>(99))), "");
  EXPECT_NE(check_acl_binding(acl(T::any, "t", AclPatternType::literal, "User:a", O::read)), "");
  EXPECT_NE(check_acl_binding(acl(T::topic, "t", AclPatternType::match, "User:a", O::read)), "");
  EXPECT_NE(check_acl_binding(
                acl(T::topic, "t", AclPatternType::literal, "User:a", O::read, AclPermission::any)),
            "");
  EXPECT_NE(check_acl_binding(acl(T::cluster, "c", AclPatternType::literal, "User:a", O::alter)),
            "");
  EXPECT_EQ(check_acl_binding(
                acl(T::cluster, "kafka-cluster", AclPatternType::literal, "User:a", O::alter)),
            "");
  EXPECT_NE(check_acl_binding(acl(T::topic, "t", AclPatternType::literal, "User:a", O::read,
                                  AclPermission::allow, "")),
            "");
}

TEST(Acl, FiltersMatchAsKafkaDoes) {
  AclBinding literal = allow_topic("orders", "User:a", O::read);
  AclBinding wildcard = allow_topic("*", "User:a", O::read);
  AclBinding prefixed = acl(T::topic, "ord", AclPatternType::prefixed, "User:b", O::write);
  AclFilter any;
  EXPECT_TRUE(acl_filter_matches(any, literal));
  EXPECT_TRUE(acl_filter_matches(any, prefixed));
  AclFilter match{T::topic, "orders", AclPatternType::match};
  EXPECT_TRUE(acl_filter_matches(match, literal));
  EXPECT_TRUE(acl_filter_matches(match, wildcard));
  EXPECT_TRUE(acl_filter_matches(match, prefixed));
  AclFilter exact{T::topic, "orders", AclPatternType::any};
  EXPECT_TRUE(acl_filter_matches(exact, literal));
  EXPECT_FALSE(acl_filter_matches(exact, wildcard));
  EXPECT_FALSE(acl_filter_matches(exact, prefixed));
  AclFilter prefixed_only{T::any, std::nullopt, AclPatternType::prefixed};
  EXPECT_FALSE(acl_filter_matches(prefixed_only, literal));
  EXPECT_TRUE(acl_filter_matches(prefixed_only, prefixed));
  AclFilter by_principal;
  by_principal.principal = "User:b";
  EXPECT_FALSE(acl_filter_matches(by_principal, literal));
  EXPECT_TRUE(acl_filter_matches(by_principal, prefixed));
  AclFilter by_operation;
  by_operation.operation = O::write;
  EXPECT_TRUE(acl_filter_matches(by_operation, prefixed));
  EXPECT_FALSE(acl_filter_matches(by_operation, literal));
  AclFilter group_filter{T::group};
  EXPECT_FALSE(acl_filter_matches(group_filter, literal));
  EXPECT_NE(check_acl_filter(AclFilter{T::unknown}), "");
  EXPECT_EQ(check_acl_filter(any), "");
}

TEST(Acl, HostsAreComparedInOneSpelling) {
  EXPECT_EQ(normalize_acl_host("0:0:0:0:0:0:0:1"), "::1");
  EXPECT_EQ(normalize_acl_host("2001:DB8:0::5"), "2001:db8::5");
  EXPECT_EQ(normalize_acl_host("::ffff:203.0.113.7"), "203.0.113.7");
  EXPECT_EQ(normalize_acl_host("fe80::1%eth0"), "fe80::1");
  EXPECT_EQ(normalize_acl_host("*"), "*");
  EXPECT_EQ(normalize_acl_host("10.0.0.1"), "10.0.0.1");
  EXPECT_EQ(normalize_acl_host("gateway.example"), "gateway.example");
}

TEST(Acl, NamesRoundTrip) {
  EXPECT_EQ(acl_name(O::remove), "DELETE");
  EXPECT_EQ(parse_acl_operation("describe-configs"), O::describe_configs);
  EXPECT_EQ(parse_acl_operation("Delete"), O::remove);
  EXPECT_EQ(parse_acl_resource_type("transactional_id"), T::transactional_id);
  EXPECT_EQ(parse_acl_pattern_type("prefixed"), AclPatternType::prefixed);
  EXPECT_EQ(parse_acl_permission("deny"), AclPermission::deny);
  EXPECT_FALSE(parse_acl_operation("steal").has_value());
}

class AuthorizerTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(io_.make_dirs("/d/meta").ok()); }
  std::unique_ptr<Authorizer> open(bool allow_if_none = false) {
    Authorizer::Settings settings{true, {"User:root"}, allow_if_none};
    auto authorizer = Authorizer::open("/d/meta", io_, settings);
    EXPECT_TRUE(authorizer.ok()) << authorizer.status().to_string();
    return authorizer.ok() ? std::move(authorizer).value() : nullptr;
  }

  testing::FaultIo io_;
};

TEST_F(AuthorizerTest, DisabledAllowsEverything) {
  auto authorizer = Authorizer::open("/d/meta", io_, Authorizer::Settings{});
  ASSERT_TRUE(authorizer.ok());
  EXPECT_TRUE((*authorizer)->allowed(who("User:x"), O::write, T::topic, "t"));
}

TEST_F(AuthorizerTest, NoAclFoundFollowsTheSettingAndSuperUsersPassAlways) {
  auto closed = open(false);
  EXPECT_FALSE(closed->allowed(who("User:x"), O::read, T::topic, "t"));
  EXPECT_TRUE(closed->allowed(who("User:root"), O::read, T::topic, "t"));
  ASSERT_TRUE(closed
                  ->add({acl(T::topic, "t", AclPatternType::literal, "User:*", O::all,
                             AclPermission::deny)})
                  .ok());
  EXPECT_TRUE(closed->allowed(who("User:root"), O::read, T::topic, "t"));
  auto open_world = open(true);
  EXPECT_TRUE(open_world->allowed(who("User:x"), O::read, T::topic, "u"));
  // An ACL on the resource for someone else closes it to x.
  ASSERT_TRUE(open_world->add({allow_topic("u", "User:y", O::read)}).ok());
  EXPECT_FALSE(open_world->allowed(who("User:x"), O::read, T::topic, "u"));
  EXPECT_TRUE(open_world->allowed(who("User:y"), O::read, T::topic, "u"));
}

TEST_F(AuthorizerTest, DenyWinsAndOperationsImplyDescribe) {
  auto a = open();
  ASSERT_TRUE(
      a->add({allow_topic("t", "User:x", O::write), allow_topic("t", "User:x", O::alter_configs),
              acl(T::topic, "*", AclPatternType::literal, "User:x", O::read, AclPermission::deny)})
          .ok());
  EXPECT_TRUE(a->allowed(who("User:x"), O::write, T::topic, "t"));
  EXPECT_TRUE(a->allowed(who("User:x"), O::describe, T::topic, "t"));
  EXPECT_TRUE(a->allowed(who("User:x"), O::describe_configs, T::topic, "t"));
  EXPECT_FALSE(a->allowed(who("User:x"), O::read, T::topic, "t"));  // DENY via the wildcard
  EXPECT_FALSE(a->allowed(who("User:x"), O::remove, T::topic, "t"));
  EXPECT_FALSE(a->allowed(who("User:y"), O::write, T::topic, "t"));
  // An ALL deny beats every allow, READ does not imply WRITE.
  ASSERT_TRUE(a->add({allow_topic("r", "User:x", O::read)}).ok());
  ASSERT_TRUE(a->add({allow_topic("s", "User:x", O::all)}).ok());
  EXPECT_FALSE(a->allowed(who("User:x"), O::write, T::topic, "r"));
  EXPECT_TRUE(a->allowed(who("User:x"), O::create, T::topic, "s"));
  ASSERT_TRUE(a->add({acl(T::topic, "s", AclPatternType::literal, "User:*", O::all,
                          AclPermission::deny, "10.0.0.1")})
                  .ok());
  EXPECT_FALSE(a->allowed(who("User:x"), O::create, T::topic, "s"));
  EXPECT_TRUE(a->allowed(who("User:x", "10.0.0.2"), O::create, T::topic, "s"));
}

TEST_F(AuthorizerTest, PrefixedWildcardPrincipalHostAndTypesApart) {
  auto a = open();
  ASSERT_TRUE(a->add({acl(T::topic, "orders-", AclPatternType::prefixed, "User:*", O::read),
                      acl(T::group, "orders-", AclPatternType::prefixed, "User:x", O::read,
                          AclPermission::allow, "10.0.0.9")})
                  .ok());
  EXPECT_TRUE(a->allowed(who("User:anyone"), O::read, T::topic, "orders-eu"));
  EXPECT_TRUE(a->allowed(who("User:anyone"), O::read, T::topic, "orders-"));
  EXPECT_FALSE(a->allowed(who("User:anyone"), O::read, T::topic, "orders"));
  EXPECT_FALSE(a->allowed(who("User:anyone"), O::read, T::topic, "payments"));
  EXPECT_FALSE(a->allowed(who("User:x"), O::read, T::group, "orders-eu"));  // wrong host
  EXPECT_TRUE(a->allowed(who("User:x", "10.0.0.9"), O::read, T::group, "orders-eu"));
  EXPECT_FALSE(a->allowed(who("User:x", "10.0.0.9"), O::read, T::transactional_id, "orders-eu"));
  int32_t ops = a->authorized_operations(who("User:y"), T::topic, "orders-1");
  EXPECT_EQ(ops, (1 << static_cast<int>(O::read)) | (1 << static_cast<int>(O::describe)));
}

TEST_F(AuthorizerTest, SomeResourceOfATypeAsKafkaDecidesIt) {
  auto a = open();
  EXPECT_FALSE(a->allowed_on_some(who("User:x"), O::write, T::topic));
  EXPECT_TRUE(a->allowed_on_some(who("User:root"), O::write, T::topic));
  ASSERT_TRUE(a->add({acl(T::topic, "logs-", AclPatternType::prefixed, "User:x", O::write)}).ok());
  EXPECT_TRUE(a->allowed_on_some(who("User:x"), O::write, T::topic));
  EXPECT_FALSE(a->allowed_on_some(who("User:x"), O::read, T::topic));
  ASSERT_TRUE(a->add({acl(T::topic, "lo", AclPatternType::prefixed, "User:x", O::write,
                          AclPermission::deny)})
                  .ok());
  EXPECT_FALSE(a->allowed_on_some(who("User:x"), O::write, T::topic));  // covered by "lo"
  ASSERT_TRUE(a->add({allow_topic("*", "User:y", O::all)}).ok());
  EXPECT_TRUE(a->allowed_on_some(who("User:y"), O::write, T::topic));
  ASSERT_TRUE(
      a->add({acl(T::topic, "*", AclPatternType::literal, "User:y", O::write, AclPermission::deny)})
          .ok());
  EXPECT_FALSE(a->allowed_on_some(who("User:y"), O::write, T::topic));
}

TEST_F(AuthorizerTest, ListRemoveAndPowerLoss) {
  auto a = open();
  ASSERT_TRUE(a->add({allow_topic("a", "User:x", O::read), allow_topic("b", "User:x", O::read),
                      allow_topic("b", "User:y", O::write)})
                  .ok());
  ASSERT_TRUE(a->add({allow_topic("a", "User:x", O::read)}).ok());  // already there
  EXPECT_EQ(a->size(), 3u);
  AclFilter by_x;
  by_x.principal = "User:x";
  EXPECT_EQ(a->list(by_x).size(), 2u);
  AclFilter b_only{T::topic, "b", AclPatternType::literal};
  auto removed = a->remove({b_only, by_x});
  ASSERT_TRUE(removed.ok());
  ASSERT_EQ(removed->size(), 2u);
  EXPECT_EQ((*removed)[0].size(), 2u);  // both b bindings
  EXPECT_EQ((*removed)[1].size(), 2u);  // x on a and x on b: each filter reports its matches
  ASSERT_TRUE(a->add({allow_topic("c", "User:z", O::read)}).ok());
  io_.power_loss(3, /*torn=*/true);
  auto reopened = open();
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(reopened->list(AclFilter{}),
            std::vector<AclBinding>{allow_topic("c", "User:z", O::read)});
  EXPECT_TRUE(reopened->allowed(who("User:z"), O::describe, T::topic, "c"));
}

TEST_F(AuthorizerTest, BadFilesAreRefused) {
  std::string text = encode_acls({allow_topic("a", "User:x", O::read)});
  auto decoded = decode_acls(text);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->size(), 1u);
  EXPECT_FALSE(decode_acls("{").ok());
  EXPECT_FALSE(decode_acls(R"({"version":2,"acls":[]})").ok());
  EXPECT_FALSE(decode_acls(R"({"version":1,"acls":[{"resource_type":"TOPIC"}]})").ok());
  EXPECT_FALSE(decode_acls(R"({"version":1,"acls":[{"resource_type":"TOPIC","resource_name":"a",)"
                           R"("pattern_type":"MATCH","principal":"User:x","host":"*",)"
                           R"("operation":"READ","permission":"ALLOW"}]})")
                   .ok());
}

}  // namespace
}  // namespace cairn::broker::security
