// listeners, advertised.listeners and listener.security.protocol.map as Kafka writes them.
#include "broker/security/listeners.h"

#include <gtest/gtest.h>

namespace cairn::broker::security {
namespace {

TEST(Listeners, SeveralNamedListenersWithTheDefaultMap) {
  auto listeners =
      parse_listeners("PLAINTEXT://127.0.0.1:9092, SSL://0.0.0.0:9093", kDefaultProtocolMap);
  ASSERT_TRUE(listeners.ok()) << listeners.status().message();
  ASSERT_EQ(listeners->size(), 2u);
  EXPECT_EQ((*listeners)[0].name, "PLAINTEXT");
  EXPECT_EQ((*listeners)[0].protocol, SecurityProtocol::plaintext);
  EXPECT_EQ((*listeners)[0].address.host, "127.0.0.1");
  EXPECT_EQ((*listeners)[0].address.port, 9092);
  EXPECT_EQ((*listeners)[1].name, "SSL");
  EXPECT_EQ((*listeners)[1].protocol, SecurityProtocol::ssl);
}

TEST(Listeners, CustomNamesGoThroughTheProtocolMap) {
  auto listeners =
      parse_listeners("internal://:9094,EXTERNAL://[::1]:9095", "INTERNAL:PLAINTEXT,EXTERNAL:SSL");
  ASSERT_TRUE(listeners.ok()) << listeners.status().message();
  EXPECT_EQ((*listeners)[0].name, "INTERNAL");
  EXPECT_EQ((*listeners)[0].address.host, "0.0.0.0");  // empty host: every interface
  EXPECT_EQ((*listeners)[1].protocol, SecurityProtocol::ssl);
  EXPECT_EQ((*listeners)[1].address.host, "::1");
}

TEST(Listeners, SaslProtocolsParse) {
  auto listeners = parse_listeners("SASL_SSL://:9096", kDefaultProtocolMap);
  ASSERT_TRUE(listeners.ok());
  EXPECT_EQ((*listeners)[0].protocol, SecurityProtocol::sasl_ssl);
}

TEST(Listeners, BadListenersAreRejected) {
  for (const char* text :
       {"", "127.0.0.1:9092", "PLAINTEXT://127.0.0.1", "FOO://:1", "PLAINTEXT://:1,PLAINTEXT://:2",
        "PLAINTEXT://h:1,SSL://h:1", "PLAIN TEXT://:1", "PLAINTEXT://h:70000"}) {
    EXPECT_FALSE(parse_listeners(text, kDefaultProtocolMap).ok()) << text;
  }
  EXPECT_FALSE(parse_listeners("A://:1", "A:KERBEROS").ok());
  EXPECT_FALSE(parse_listeners("A://:1", "A").ok());
  EXPECT_FALSE(parse_listeners("A://:1", "A:SSL,A:PLAINTEXT").ok());
}

TEST(Listeners, PortZeroMayRepeat) {
  EXPECT_TRUE(
      parse_listeners("PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0", kDefaultProtocolMap).ok());
}

TEST(Listeners, AdvertisedListenersByName) {
  auto listeners = parse_listeners("PLAINTEXT://:9092,SSL://:9093", kDefaultProtocolMap);
  ASSERT_TRUE(listeners.ok());
  ASSERT_TRUE(apply_advertised_listeners("SSL://kafka.example.com:443", *listeners).ok());
  EXPECT_FALSE((*listeners)[0].advertised.has_value());
  ASSERT_TRUE((*listeners)[1].advertised.has_value());
  EXPECT_EQ((*listeners)[1].advertised->host, "kafka.example.com");
  EXPECT_EQ((*listeners)[1].advertised->port, 443);
  for (const char* text : {"OTHER://h:1", "SSL://h:0", "SSL://:9093", "SSL://h:1,SSL://h:2"}) {
    EXPECT_FALSE(apply_advertised_listeners(text, *listeners).ok()) << text;
  }
}

}  // namespace
}  // namespace cairn::broker::security
