// JSON responses for the admin API (nlohmann::json, which the broker already uses for its
// metadata files). Any thread.
#pragma once

#include <nlohmann/json.hpp>

#include "http/router.h"

namespace cairn::http {

inline Response json_response(int status, const nlohmann::json& body) {
  Response response;
  response.status = status;
  response.content_type = "application/json";
  // replace: a topic name with invalid UTF-8 must not make the answer throw.
  response.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  return response;
}

}  // namespace cairn::http
