#include "http/router.h"

#include <gtest/gtest.h>

#include <stdexcept>

#include "http/json.h"

namespace cairn::http {
namespace {

Request get(std::string path) { return Request{"GET", std::move(path), "", ""}; }

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
  EXPECT_EQ(router.dispatch(Request{"POST", "/v1/status/live", "", ""}).status, 204);
}

TEST(Router, UnknownPathIs404) {
  Router router = make_router();
  EXPECT_EQ(router.dispatch(get("/v1/status/liv")).status, 404);
  EXPECT_EQ(router.dispatch(get("/v1/status/live/")).status, 404);
  EXPECT_EQ(router.dispatch(get("")).status, 404);
}

TEST(Router, WrongMethodIs405WithAllow) {
  Router router = make_router();
  Response response = router.dispatch(Request{"DELETE", "/v1/status/live", "", ""});
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

TEST(Router, JsonResponseSurvivesInvalidUtf8) {
  Response response = json_response(503, {{"reason", std::string("bad \xff topic")}});
  EXPECT_EQ(response.status, 503);
  EXPECT_EQ(response.content_type, "application/json");
  EXPECT_NE(response.body.find("\"reason\""), std::string::npos);
}

}  // namespace
}  // namespace cairn::http
