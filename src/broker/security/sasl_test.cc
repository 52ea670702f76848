// SCRAM against RFC 7677's SCRAM-SHA-256 example, the SASL exchanges (PLAIN and SCRAM over
// the store), and the credential store's durability under power loss (FaultIo).
#include "broker/security/sasl.h"

#include <gtest/gtest.h>

#include "broker/security/scram_store.h"
#include "testing/fault_io.h"

namespace cairn::broker::security {
namespace {

std::span<const uint8_t> as_bytes(std::string_view text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

// RFC 7677, section 3: user "user", password "pencil".
constexpr std::string_view kClientNonce = "rOprNGfwEbeRWgbNEkqO";
constexpr std::string_view kServerNonce = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
constexpr std::string_view kSalt = "W22ZaJ0SNY7soEsUEjb6gQ==";
constexpr std::string_view kClientFirst = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO";
constexpr std::string_view kServerFirst =
    "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
constexpr std::string_view kClientFinal =
    "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
    "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
constexpr std::string_view kServerFinal = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";

ScramCredential rfc_credential(std::string_view password = "pencil") {
  Bytes salt = *base64_decode(kSalt);
  Bytes salted = scram_salted_password(ScramMechanism::sha256, password, salt, 4096);
  return scram_credential_from_salted(ScramMechanism::sha256, salt, 4096, salted);
}

ScramLookup only(const std::string& name, ScramCredential credential) {
  return [name, credential](const std::string& user) -> std::optional<ScramCredential> {
    if (user == name) return credential;
    return std::nullopt;
  };
}

TEST(Scram, ServerSideOfRfc7677) {
  ScramServer server(ScramMechanism::sha256, only("user", rfc_credential()),
                     std::string(kServerNonce));
  auto first = server.first(kClientFirst);
  ASSERT_TRUE(first.ok()) << first.status().to_string();
  EXPECT_EQ(*first, kServerFirst);
  auto final = server.final(kClientFinal);
  ASSERT_TRUE(final.ok()) << final.status().to_string();
  EXPECT_EQ(*final, kServerFinal);
  EXPECT_EQ(server.user(), "user");
}

TEST(Scram, ClientSideOfRfc7677) {
  ScramClient client(ScramMechanism::sha256, "user", "pencil", std::string(kClientNonce));
  EXPECT_EQ(client.first(), kClientFirst);
  auto final = client.final(kServerFirst);
  ASSERT_TRUE(final.ok());
  EXPECT_EQ(*final, kClientFinal);
  EXPECT_TRUE(client.verify(kServerFinal).ok());
  EXPECT_FALSE(client.verify("v=AAAA").ok());
  EXPECT_FALSE(client.verify("e=invalid-proof").ok());
}

TEST(Scram, WrongPasswordAndUnknownUserFailAtTheProof) {
  for (const char* user : {"user", "nobody"}) {
    ScramServer server(ScramMechanism::sha256, only("user", rfc_credential("other")));
    ScramClient client(ScramMechanism::sha256, user, "pencil");
    auto first = server.first(client.first());
    ASSERT_TRUE(first.ok()) << user;  // an unknown user is not told apart here
    auto final = client.final(*first);
    ASSERT_TRUE(final.ok());
    EXPECT_EQ(server.final(*final).status().code(), StatusCode::invalid_argument) << user;
  }
}

TEST(Scram, Sha512RoundTripAndEscapedNames) {
  ScramCredential credential = scram_credential(ScramMechanism::sha512, "s3cret", 4096);
  EXPECT_EQ(credential.stored_key.size(), 64u);
  ScramServer server(ScramMechanism::sha512, only("a,b=c", credential));
  ScramClient client(ScramMechanism::sha512, "a,b=c", "s3cret");
  std::string first = client.first();
  EXPECT_NE(first.find("n=a=2Cb=3Dc,"), std::string::npos);
  auto server_first = server.first(first);
  ASSERT_TRUE(server_first.ok());
  auto final = client.final(*server_first);
  auto server_final = server.final(*final);
  ASSERT_TRUE(server_final.ok()) << server_final.status().to_string();
  EXPECT_TRUE(client.verify(*server_final).ok());
  EXPECT_EQ(server.user(), "a,b=c");
}

TEST(Scram, MalformedMessagesAreRefused) {
  for (std::string_view bad :
       {"", "n,,", "p=tls-unique,,n=user,r=abc", "n,,r=abc,n=user", "n,,n=user", "n,,n=us=er,r=x",
        "n,,n=,r=abc", "n,a=other,n=user,r=abc", "n,,n=user,r=abc,tokenauth=true", "x"}) {
    ScramServer server(ScramMechanism::sha256, only("user", rfc_credential()));
    EXPECT_FALSE(server.first(bad).ok()) << bad;
  }
  ScramServer server(ScramMechanism::sha256, only("user", rfc_credential()),
                     std::string(kServerNonce));
  ASSERT_TRUE(server.first(kClientFirst).ok());
  // A nonce that is not the server's, then nothing is accepted any more.
  EXPECT_FALSE(server.final("c=biws,r=rOprNGfwEbeRWgbNEkqO,p=dHzb").ok());
  EXPECT_FALSE(server.final(kClientFinal).ok());
}

TEST(Scram, Base64) {
  EXPECT_EQ(base64_encode(as_bytes("")), "");
  EXPECT_EQ(base64_encode(as_bytes("f")), "Zg==");
  EXPECT_EQ(base64_encode(as_bytes("fooba")), "Zm9vYmE=");
  EXPECT_EQ(*base64_decode("Zm9vYmE="), Bytes({'f', 'o', 'o', 'b', 'a'}));
  EXPECT_EQ(*base64_decode("Zg=="), Bytes({'f'}));
  EXPECT_FALSE(base64_decode("Zg=").has_value());
  EXPECT_FALSE(base64_decode("Z g=").has_value());
  EXPECT_FALSE(base64_decode("Zm9v\n").has_value());
}

class SaslStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(io_.make_dirs("/d/meta").ok());
    auto store = ScramStore::open("/d/meta", io_);
    ASSERT_TRUE(store.ok());
    store_ = std::move(store).value();
  }
  void add(const std::string& user, ScramMechanism mechanism, const std::string& password) {
    ASSERT_TRUE(
        store_->apply({{user, mechanism, scram_credential(mechanism, password, 4096)}}).ok());
  }

  testing::FaultIo io_;
  std::unique_ptr<ScramStore> store_;
};

TEST_F(SaslStoreTest, PlainChecksThePasswordAgainstTheScramCredential) {
  add("alice", ScramMechanism::sha256, "wonderland");
  auto login = [&](std::string_view token) {
    SaslExchange exchange(SaslMechanism::plain, store_.get());
    return exchange.step(as_bytes(token)).kind;
  };
  using Kind = SaslStep::Kind;
  using namespace std::string_view_literals;
  EXPECT_EQ(login("\0alice\0wonderland"sv), Kind::done);
  EXPECT_EQ(login("alice\0alice\0wonderland"sv), Kind::done);
  EXPECT_EQ(login("\0alice\0wrong"sv), Kind::failed);
  EXPECT_EQ(login("\0bob\0wonderland"sv), Kind::failed);
  EXPECT_EQ(login("bob\0alice\0wonderland"sv), Kind::failed);
  EXPECT_EQ(login("\0alice"sv), Kind::failed);
  EXPECT_EQ(login("\0alice\0wonderland\0"sv), Kind::failed);
  EXPECT_EQ(login(""sv), Kind::failed);
}

TEST_F(SaslStoreTest, ScramExchangeOverTheStore) {
  add("bob", ScramMechanism::sha512, "builder");
  SaslExchange exchange(SaslMechanism::scram_sha512, store_.get());
  ScramClient client(ScramMechanism::sha512, "bob", "builder");
  SaslStep first = exchange.step(as_bytes(client.first()));
  ASSERT_EQ(first.kind, SaslStep::Kind::challenge);
  SaslStep done = exchange.step(as_bytes(*client.final(first.token)));
  ASSERT_EQ(done.kind, SaslStep::Kind::done) << done.message;
  EXPECT_TRUE(client.verify(done.token).ok());
  EXPECT_EQ(exchange.user(), "bob");
  // bob has no SCRAM-SHA-256 credential.
  SaslExchange other(SaslMechanism::scram_sha256, store_.get());
  ScramClient client256(ScramMechanism::sha256, "bob", "builder");
  SaslStep first256 = other.step(as_bytes(client256.first()));
  EXPECT_EQ(other.step(as_bytes(*client256.final(first256.token))).kind, SaslStep::Kind::failed);
}

TEST_F(SaslStoreTest, ChangesSurvivePowerLossAndDeletionsToo) {
  add("carol", ScramMechanism::sha256, "one");
  add("dave", ScramMechanism::sha512, "two");
  ASSERT_TRUE(store_->apply({{"carol", ScramMechanism::sha256, std::nullopt}}).ok());
  io_.power_loss(7, /*torn=*/true);
  auto reopened = ScramStore::open("/d/meta", io_);
  ASSERT_TRUE(reopened.ok()) << reopened.status().to_string();
  EXPECT_FALSE((*reopened)->lookup("carol", ScramMechanism::sha256).has_value());
  auto dave = (*reopened)->lookup("dave", ScramMechanism::sha512);
  ASSERT_TRUE(dave.has_value());
  EXPECT_TRUE(scram_password_matches(*dave, "two"));
  EXPECT_FALSE(scram_password_matches(*dave, "three"));
  ASSERT_EQ((*reopened)->list().size(), 1u);
}

TEST_F(SaslStoreTest, TheFileHoldsNoPasswordAndBadFilesAreRefused) {
  add("erin", ScramMechanism::sha256, "plaintext-password");
  std::string text = encode_scram_users(
      {{"erin", {{ScramMechanism::sha256, *store_->lookup("erin", ScramMechanism::sha256)}}}});
  EXPECT_EQ(text.find("plaintext-password"), std::string::npos);
  EXPECT_TRUE(decode_scram_users(text).ok());
  EXPECT_FALSE(decode_scram_users("{").ok());
  EXPECT_FALSE(decode_scram_users(R"({"version":2,"users":{}})").ok());
  EXPECT_FALSE(decode_scram_users(R"({"version":1,"users":{"x":{"MD5":{}}}})").ok());
  EXPECT_FALSE(
      decode_scram_users(R"({"version":1,"users":{"x":{"SCRAM-SHA-256":{"salt":"!"}}}})").ok());
}

TEST(SaslConfig, MechanismListsAndBootstrapUsers) {
  auto list = parse_sasl_mechanisms("SCRAM-SHA-512, PLAIN");
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(*list, (std::vector<SaslMechanism>{SaslMechanism::scram_sha512, SaslMechanism::plain}));
  EXPECT_FALSE(parse_sasl_mechanisms("GSSAPI").ok());
  auto user = parse_bootstrap_user("admin:pa:ss:SCRAM-SHA-512");
  ASSERT_TRUE(user.ok());
  EXPECT_EQ(user->name, "admin");
  EXPECT_EQ(user->password, "pa:ss");
  EXPECT_EQ(user->mechanism, ScramMechanism::sha512);
  EXPECT_EQ(parse_bootstrap_user("admin:secret")->mechanism, ScramMechanism::sha256);
  EXPECT_FALSE(parse_bootstrap_user("admin").ok());
  EXPECT_FALSE(parse_bootstrap_user(":secret").ok());
  EXPECT_FALSE(parse_bootstrap_user("admin:").ok());
}

}  // namespace
}  // namespace cairn::broker::security
