// make_tls_context's refusals: each bad setting is an error naming the file and why, never a
// crash or a context that would fail later. (Handshakes with real certificates are in
// tests/interop/test_tls_listeners.py, which makes its certificates with openssl.)
#include "net/tls.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

namespace cairn::net {
namespace {

class TlsContextTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/cairn-tls-test-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    directory_ = pattern;
    garbage_path_ = directory_ + "/garbage.pem";
    std::ofstream(garbage_path_) << "-----BEGIN CERTIFICATE-----\nnot base64\n";
  }
  void TearDown() override {
    std::remove(garbage_path_.c_str());
    rmdir(directory_.c_str());
  }

  std::string directory_;
  std::string garbage_path_;
};

TEST_F(TlsContextTest, NoCertificateFileIsRefused) {
  Result<std::shared_ptr<asio::ssl::context>> context = make_tls_context(TlsSettings{});
  ASSERT_FALSE(context.ok());
  EXPECT_EQ(context.status().code(), StatusCode::invalid_argument);
}

TEST_F(TlsContextTest, MissingCertificateFileIsNamed) {
  TlsSettings settings;
  settings.certificate_chain_path = directory_ + "/missing.pem";
  Result<std::shared_ptr<asio::ssl::context>> context = make_tls_context(settings);
  ASSERT_FALSE(context.ok());
  EXPECT_NE(context.status().message().find("cannot load the certificate chain " +
                                            settings.certificate_chain_path),
            std::string::npos)
      << context.status().message();
}

TEST_F(TlsContextTest, GarbageCertificateFileIsRefused) {
  TlsSettings settings;
  settings.certificate_chain_path = garbage_path_;
  Result<std::shared_ptr<asio::ssl::context>> context = make_tls_context(settings);
  ASSERT_FALSE(context.ok());
  EXPECT_NE(context.status().message().find(garbage_path_), std::string::npos);
}

TEST_F(TlsContextTest, NeitherVersionEnabledIsRefused) {
  TlsSettings settings;
  settings.certificate_chain_path = garbage_path_;
  settings.tls12_enabled = false;
  settings.tls13_enabled = false;
  Result<std::shared_ptr<asio::ssl::context>> context = make_tls_context(settings);
  ASSERT_FALSE(context.ok());
  EXPECT_NE(context.status().message().find("neither TLSv1.2 nor TLSv1.3"), std::string::npos);
}

}  // namespace
}  // namespace cairn::net
