// The admin routes on a real loopback socket (port 0): probes follow StartupProgress, /metrics
// is the registry's text, unknown paths and methods are refused.
#include "main/admin_http.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <string>

#include "main/commands.h"

namespace cairn::cli {

const char* version_text() { return "cairn 9.9.9 (test-revision)"; }

namespace {

// One HTTP/1.1 exchange over a new connection; the whole reply.
std::string get(uint16_t port, const std::string& method, const std::string& path) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  timeval timeout{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  std::string request = method + " " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  EXPECT_EQ(::send(fd, request.data(), request.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(request.size()));
  std::string reply;
  char buffer[4096];
  for (ssize_t n; (n = ::recv(fd, buffer, sizeof(buffer), 0)) > 0;) {
    reply.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  return reply;
}

std::string body_of(const std::string& reply) {
  size_t end = reply.find("\r\n\r\n");
  return end == std::string::npos ? "" : reply.substr(end + 4);
}

uint16_t port_of(const AdminHttp& admin) {
  std::string address = admin.bound_address();
  return static_cast<uint16_t>(std::stoi(address.substr(address.rfind(':') + 1)));
}

TEST(AdminHttp, LiveAtOnceReadyOnlyOnceTheBrokerIsUp) {
  broker::StartupProgress progress;
  Result<std::unique_ptr<AdminHttp>> admin = AdminHttp::start("127.0.0.1:0", &progress);
  ASSERT_TRUE(admin.ok()) << admin.status().to_string();
  uint16_t port = port_of(**admin);

  std::string live = get(port, "GET", "/v1/status/live");
  EXPECT_TRUE(live.starts_with("HTTP/1.1 200 ")) << live;
  EXPECT_EQ(body_of(live), "{\"status\":\"live\"}\n");

  std::string ready = get(port, "GET", "/v1/status/ready");
  EXPECT_TRUE(ready.starts_with("HTTP/1.1 503 ")) << ready;
  EXPECT_NE(ready.find("Content-Type: application/json"), std::string::npos);
  EXPECT_EQ(body_of(ready),
            "{\"reason\":\"kafka listener not bound yet\",\"status\":\"not_ready\"}\n");

  progress.expect_group_shards(1);
  progress.listener_bound();
  progress.storage_recovered();
  EXPECT_NE(body_of(get(port, "GET", "/v1/status/ready")).find("loading consumer groups"),
            std::string::npos);
  progress.group_shard_loaded();
  ready = get(port, "GET", "/v1/status/ready");
  EXPECT_TRUE(ready.starts_with("HTTP/1.1 200 ")) << ready;
  EXPECT_EQ(body_of(ready), "{\"status\":\"ready\"}\n");
  progress.stopping();
  EXPECT_NE(get(port, "GET", "/v1/status/ready").find("shutting down"), std::string::npos);
}

TEST(AdminHttp, MetricsServeTheProcessAndBuildInPrometheusFormat) {
  broker::StartupProgress progress;
  Result<std::unique_ptr<AdminHttp>> admin = AdminHttp::start("127.0.0.1:0", &progress);
  ASSERT_TRUE(admin.ok());
  std::string reply = get(port_of(**admin), "GET", "/metrics");
  EXPECT_TRUE(reply.starts_with("HTTP/1.1 200 ")) << reply;
  EXPECT_NE(reply.find("Content-Type: text/plain; version=0.0.4; charset=utf-8"),
            std::string::npos);
  std::string body = body_of(reply);
  EXPECT_NE(body.find("cairn_application_build{version=\"9.9.9\",revision=\"test-revision\"} 1\n"),
            std::string::npos)
      << body;
  EXPECT_NE(body.find("# TYPE process_open_fds gauge\n"), std::string::npos);
  EXPECT_NE(body.find("# TYPE cairn_application_uptime_seconds_total counter\n"),
            std::string::npos);
}

TEST(AdminHttp, UnknownPathsAndMethodsAreRefused) {
  broker::StartupProgress progress;
  Result<std::unique_ptr<AdminHttp>> admin = AdminHttp::start("127.0.0.1:0", &progress);
  ASSERT_TRUE(admin.ok());
  uint16_t port = port_of(**admin);
  EXPECT_TRUE(get(port, "GET", "/").starts_with("HTTP/1.1 404 "));
  EXPECT_TRUE(get(port, "GET", "/metrics/x").starts_with("HTTP/1.1 404 "));
  std::string wrong = get(port, "PUT", "/metrics");
  EXPECT_TRUE(wrong.starts_with("HTTP/1.1 405 ")) << wrong;
  EXPECT_NE(wrong.find("Allow: GET"), std::string::npos);
}

TEST(AdminHttp, BadListenAddressIsAnError) {
  broker::StartupProgress progress;
  EXPECT_FALSE(AdminHttp::start("no-port", &progress).ok());
  EXPECT_FALSE(AdminHttp::start("cairn.invalid:9644", &progress).ok());  // IPs only
}

}  // namespace
}  // namespace cairn::cli
