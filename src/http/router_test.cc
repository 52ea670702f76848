#include "http/router.h"

#include <gtest/gtest.h>

#include <stdexcept>

#include "http/json.h"

namespace cairn::http {
namespace {

Request make_request(std::string method, std::string path) {
  Request request;
  request.method = std::move(method);
  request.path = std::move(path);
  return request;
}

Request get(std::string path) { return make_request("GET", std::move(path)); }

Router make_router() {
  Router router;
  router.get("/v1/status/live", [](const Request&) { return text_response(200, "ok\n"); });
  router.add("POST", "/v1/status/live", [](const Request&) { return text_response(204, ""); });
  router.get("/throws", [](const Request&) -> Response { throw std::runtime_error("boom"); });
  return router;
}

TEST(Router, ExactPathAndMethodFindTheHandler) {
  Router router = make_router();
  EXPECT_EQ(router.dispatch(get("/v1/status/live")).status, 200);
  EXPECT_EQ(router.dispatch(make_request("POST", "/v1/status/live")).status, 204);
}

TEST(Router, UnknownPathIs404) {
  Router router = make_router();
  EXPECT_EQ(router.dispatch(get("/v1/status/liv")).status, 404);
  EXPECT_EQ(router.dispatch(get("/v1/status/live/")).status, 404);
  EXPECT_EQ(router.dispatch(get("")).status, 404);
}

TEST(Router, WrongMethodIs405WithAllow) {
  Router router = make_router();
  Response response = router.dispatch(make_request("DELETE", "/v1/status/live"));
  EXPECT_EQ(response.status, 405);
  ASSERT_EQ(response.headers.size(), 1u);
  EXPECT_EQ(response.headers[0].first, "Allow");
  EXPECT_EQ(response.headers[0].second, "GET, POST");
}

TEST(Router, ThrowingHandlerIs500NotACrash) {
  Router router = make_router();
  Response response = router.dispatch(get("/throws"));
  EXPECT_EQ(response.status, 500);
  EXPECT_NE(response.body.find("boom"), std::string::npos);
}

Router make_parameter_router() {
  Router router;
  router.get("/v1/topics", [](const Request&) { return text_response(200, "list"); });
  router.get("/v1/topics/{topic}",
             [](const Request& r) { return text_response(200, "topic " + r.param("topic")); });
  router.add("DELETE", "/v1/topics/{topic}",
             [](const Request& r) { return text_response(204, "deleted " + r.param("topic")); });
  router.get("/v1/topics/{topic}/partitions/{partition}", [](const Request& r) {
    return text_response(200, r.param("topic") + "/" + r.param("partition"));
  });
  router.get("/v1/topics/special", [](const Request&) { return text_response(200, "exact"); });
  return router;
}

TEST(Router, ParameterSegmentsAreDecodedAndHandedToTheHandler) {
  Router router = make_parameter_router();
  EXPECT_EQ(router.dispatch(get("/v1/topics")).body, "list");
  EXPECT_EQ(router.dispatch(get("/v1/topics/orders")).body, "topic orders");
  EXPECT_EQ(router.dispatch(get("/v1/topics/a%2Fb%20c")).body, "topic a/b c");
  EXPECT_EQ(router.dispatch(get("/v1/topics/bad%zz%4")).body, "topic bad%zz%4");
  EXPECT_EQ(router.dispatch(get("/v1/topics/t/partitions/3")).body, "t/3");
  EXPECT_EQ(router.dispatch(make_request("DELETE", "/v1/topics/x")).body, "deleted x");
}

TEST(Router, ExactRouteWinsOverAPattern) {
  Router router = make_parameter_router();
  EXPECT_EQ(router.dispatch(get("/v1/topics/special")).body, "exact");
}

TEST(Router, EmptyOrExtraSegmentsDoNotMatchAPattern) {
  Router router = make_parameter_router();
  EXPECT_EQ(router.dispatch(get("/v1/topics/")).status, 404);
  EXPECT_EQ(router.dispatch(get("/v1/topics/t/partitions/")).status, 404);
  EXPECT_EQ(router.dispatch(get("/v1/topics/t/partitions/3/x")).status, 404);
  EXPECT_EQ(router.dispatch(get("/v1/topics//partitions/3")).status, 404);
  EXPECT_EQ(router.dispatch(get("v1/topics/t")).status, 404);
}

TEST(Router, PatternWithAnotherMethodIs405) {
  Router router = make_parameter_router();
  Response response = router.dispatch(make_request("PUT", "/v1/topics/t"));
  EXPECT_EQ(response.status, 405);
  ASSERT_EQ(response.headers.size(), 1u);
  EXPECT_EQ(response.headers[0].second, "DELETE, GET");
}

TEST(Router, JsonResponseSurvivesInvalidUtf8) {
  Response response = json_response(503, {{"reason", std::string("bad \xff topic")}});
  EXPECT_EQ(response.status, 503);
  EXPECT_EQ(response.content_type, "application/json");
  EXPECT_NE(response.body.find("\"reason\""), std::string::npos);
}

}  // namespace
}  // namespace cairn::http
