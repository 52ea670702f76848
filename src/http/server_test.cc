// The server on a real loopback socket (port 0: a free port), driven by raw HTTP/1.1 bytes.
#include "http/server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace cairn::http {
namespace {

int connect_to(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  EXPECT_GE(fd, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  timeval timeout{10, 0};  // a broken server fails the test instead of hanging it
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  return fd;
}

// Sends `raw`, then reads until the server closes (or the 10 s receive timeout).
std::string exchange(uint16_t port, const std::string& raw) {
  int fd = connect_to(port);
  EXPECT_EQ(::send(fd, raw.data(), raw.size(), MSG_NOSIGNAL), static_cast<ssize_t>(raw.size()));
  std::string reply;
  char buffer[4096];
  for (;;) {
    ssize_t n = ::recv(fd, buffer, sizeof(buffer), 0);
    if (n <= 0) break;
    reply.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  return reply;
}

std::string request(const std::string& method, const std::string& path) {
  return method + " " + path + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
}

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto router = std::make_shared<Router>();
    router->get("/hello", [](const Request& r) { return text_response(200, "hi " + r.query); });
    ServerOptions options;
    options.port = 0;
    Result<std::unique_ptr<Server>> started = Server::start(options, router);
    ASSERT_TRUE(started.ok()) << started.status().to_string();
    server_ = std::move(started).value();
    ASSERT_NE(server_->port(), 0);
  }
  std::unique_ptr<Server> server_;
};

TEST_F(ServerTest, AnswersARouteWithStatusHeadersAndBody) {
  std::string reply = exchange(server_->port(), request("GET", "/hello?x=1"));
  EXPECT_TRUE(reply.starts_with("HTTP/1.1 200 OK\r\n")) << reply;
  EXPECT_NE(reply.find("Content-Type: text/plain; charset=utf-8\r\n"), std::string::npos);
  EXPECT_TRUE(reply.ends_with("\r\n\r\nhi x=1")) << reply;
}

TEST_F(ServerTest, UnknownPathIs404AndWrongMethodIs405) {
  EXPECT_TRUE(exchange(server_->port(), request("GET", "/nope")).starts_with("HTTP/1.1 404 "));
  std::string reply = exchange(server_->port(), request("POST", "/hello"));
  EXPECT_TRUE(reply.starts_with("HTTP/1.1 405 ")) << reply;
  EXPECT_NE(reply.find("Allow: GET\r\n"), std::string::npos) << reply;
}

TEST_F(ServerTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  std::string two = "GET /hello?a HTTP/1.1\r\nHost: x\r\n\r\n" + request("GET", "/hello?b");
  std::string reply = exchange(server_->port(), two);
  EXPECT_NE(reply.find("hi a"), std::string::npos) << reply;
  EXPECT_TRUE(reply.ends_with("hi b")) << reply;
}

TEST_F(ServerTest, GarbageAndOversizedRequestsDoNotStopTheServer) {
  exchange(server_->port(), "\x16\x03\x01\x02\x00garbage that is not HTTP\r\n\r\n");
  exchange(server_->port(), "GET /" + std::string(20000, 'a') + " HTTP/1.1\r\n\r\n");
  exchange(server_->port(), "POST /hello HTTP/1.1\r\nContent-Length: 99999999\r\n\r\nxx");
  std::string many_headers = "GET /hello HTTP/1.1\r\n";
  for (int i = 0; i < 500; i++) many_headers += "X-" + std::to_string(i) + ": y\r\n";
  exchange(server_->port(), many_headers + "\r\n");
  int silent = connect_to(server_->port());  // connects and says nothing
  EXPECT_TRUE(exchange(server_->port(), request("GET", "/hello")).starts_with("HTTP/1.1 200 "));
  ::close(silent);
}

TEST_F(ServerTest, StopIsIdempotentAndFreesThePort) {
  uint16_t port = server_->port();
  server_->stop();
  server_->stop();
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_NE(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  ::close(fd);
}

TEST(Server, TakenPortIsAnErrorNotACrash) {
  auto router = std::make_shared<Router>();
  ServerOptions options;
  options.port = 0;
  Result<std::unique_ptr<Server>> first = Server::start(options, router);
  ASSERT_TRUE(first.ok());
  options.port = (*first)->port();
  Result<std::unique_ptr<Server>> second = Server::start(options, router);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::io_error);
}

TEST(Server, HostThatIsNotAnAddressIsInvalid) {
  ServerOptions options;
  options.host = "not an address";
  Result<std::unique_ptr<Server>> started = Server::start(options, std::make_shared<Router>());
  ASSERT_FALSE(started.ok());
  EXPECT_EQ(started.status().code(), StatusCode::invalid_argument);
}

}  // namespace
}  // namespace cairn::http
