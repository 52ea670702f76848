#include "main/admin_http.h"

#include <spdlog/spdlog.h>

#include <cctype>
#include <string_view>

#include "broker/admin/admin_api.h"
#include "http/json.h"
#include "main/commands.h"
#include "metrics/process.h"
#include "net/listener.h"

namespace cairn::cli {
namespace {

// "cairn 0.1.0 (v0.1.0-12-gabc-dirty)" -> {"0.1.0", "v0.1.0-12-gabc-dirty"}.
std::pair<std::string, std::string> version_and_revision() {
  std::string text = version_text();
  std::string version = "unknown";
  std::string revision = "unknown";
  size_t space = text.find(' ');
  size_t open = text.find(" (");
  if (space != std::string::npos && open != std::string::npos && open > space) {
    version = text.substr(space + 1, open - space - 1);
    size_t close = text.rfind(')');
    if (close != std::string::npos && close > open + 2) {
      revision = text.substr(open + 2, close - open - 2);
    }
  }
  return {version, revision};
}

void collect_application(std::chrono::steady_clock::time_point started, metrics::Exposition& out) {
  static const std::pair<std::string, std::string> kBuild = version_and_revision();
  out.family("cairn_application_build", "Build of the running broker (value 1)",
             metrics::Type::gauge);
  out.sample("cairn_application_build", {{"version", kBuild.first}, {"revision", kBuild.second}},
             uint64_t{1});
  double uptime = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  out.family("cairn_application_uptime_seconds_total", "Seconds since the broker process started",
             metrics::Type::counter);
  out.sample("cairn_application_uptime_seconds_total", {}, uptime);
}

using broker::admin::Answer;
using BrokerCall = std::function<Answer(const broker::BrokerState&, const http::Request&)>;

// Whether a POST or PUT says its body is JSON. Required so that a web page in a browser cannot
// make the admin API act (produce, reset offsets) through the operator's browser: a page may
// send a cross-origin POST with a text/plain body without asking first, but not one with
// application/json, which needs a CORS preflight this server never grants.
bool acceptable_content_type(const http::Request& request) {
  if (request.method != "POST" && request.method != "PUT") return true;
  std::string_view type = request.content_type;
  type = type.substr(0, type.find(';'));
  while (!type.empty() && type.back() == ' ') type.remove_suffix(1);
  if (type.size() != 16) return false;
  std::string lower(type);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower == "application/json";
}

// A route of the admin JSON API: `call` runs with the broker's state while the broker is
// attached, and 503 answers before that (the broker still recovering) and once it stops.
http::Handler broker_route(std::shared_ptr<BrokerLink> link, BrokerCall call) {
  return [link = std::move(link), call = std::move(call)](const http::Request& request) {
    if (!acceptable_content_type(request)) {
      return http::json_response(415,
                                 {{"error", "send the body as Content-Type: application/json"}});
    }
    std::shared_lock lock(link->mu);
    if (link->server == nullptr) {
      return http::json_response(503, {{"error", "the broker is not serving yet (or stopping)"}});
    }
    Answer answer = call(link->server->state(), request);
    return http::json_response(answer.status, answer.body);
  };
}

void add_topic_routes(http::Router& router, const std::shared_ptr<BrokerLink>& link) {
  namespace admin = broker::admin;
  static const admin::AdminOptions kOptions;
  using State = const broker::BrokerState&;
  using Request = const http::Request&;
  router.get("/v1/brokers",
             broker_route(link, [](State state, Request) { return admin::list_brokers(state); }));
  router.get("/v1/cluster", broker_route(link, [](State state, Request) {
               return admin::describe_cluster(state);
             }));
  router.get("/v1/topics", broker_route(link, [](State state, Request) {
               return admin::list_topics(state, kOptions);
             }));
  router.add("POST", "/v1/topics", broker_route(link, [](State state, Request request) {
               return admin::create_topic(state, kOptions, request.body);
             }));
  router.get("/v1/topics/{topic}", broker_route(link, [](State state, Request request) {
               return admin::describe_topic(state, kOptions, request.param("topic"));
             }));
  router.add("DELETE", "/v1/topics/{topic}", broker_route(link, [](State state, Request request) {
               return admin::delete_topic(state, kOptions, request.param("topic"));
             }));
  router.add(
      "PUT", "/v1/topics/{topic}/configs", broker_route(link, [](State state, Request request) {
        return admin::alter_topic_configs(state, kOptions, request.param("topic"), request.body);
      }));
  router.add("POST", "/v1/topics/{topic}/records",
             broker_route(link, [](State state, Request request) {
               return admin::produce_record(state, kOptions, request.param("topic"), request.body);
             }));
}

void add_group_routes(http::Router& router, const std::shared_ptr<BrokerLink>& link) {
  namespace admin = broker::admin;
  static const admin::AdminOptions kOptions;
  using State = const broker::BrokerState&;
  using Request = const http::Request&;
  router.get("/v1/groups", broker_route(link, [](State state, Request) {
               return admin::list_groups(state, kOptions);
             }));
  router.get("/v1/groups/{group}", broker_route(link, [](State state, Request request) {
               return admin::describe_group(state, kOptions, request.param("group"));
             }));
  router.add("POST", "/v1/groups/{group}/reset-offsets",
             broker_route(link, [](State state, Request request) {
               return admin::reset_group_offsets(state, kOptions, request.param("group"),
                                                 request.body);
             }));
}

}  // namespace

std::shared_ptr<http::Router> admin_router(const broker::StartupProgress* progress,
                                           std::shared_ptr<const metrics::Registry> registry,
                                           std::shared_ptr<BrokerLink> broker) {
  auto router = std::make_shared<http::Router>();
  add_topic_routes(*router, broker);
  add_group_routes(*router, broker);
  router->get("/v1/status/live", [](const http::Request&) {
    return http::json_response(200, {{"status", "live"}});
  });
  router->get("/v1/status/ready", [progress](const http::Request&) {
    broker::StartupProgress::Readiness readiness = progress->readiness();
    if (readiness.ready) return http::json_response(200, {{"status", "ready"}});
    return http::json_response(503, {{"status", "not_ready"}, {"reason", readiness.reason}});
  });
  router->get("/metrics", [registry](const http::Request&) {
    http::Response response;
    response.content_type = std::string(metrics::kContentType);
    response.body = registry->scrape();
    return response;
  });
  return router;
}

Result<std::unique_ptr<AdminHttp>> AdminHttp::start(const std::string& listen,
                                                    const broker::StartupProgress* progress) {
  std::string text = listen.starts_with(':') ? "0.0.0.0" + listen : listen;
  Result<net::HostPort> address = net::parse_host_port(text);
  if (!address.ok()) {
    return error(StatusCode::invalid_argument, "--admin-listen: " + address.status().message());
  }
  if (address->host == "localhost") address->host = "127.0.0.1";  // the one name we take
  std::unique_ptr<AdminHttp> admin(new AdminHttp());
  auto started = std::chrono::steady_clock::now();
  admin->registry_->add([started](metrics::Exposition& out) {
    collect_application(started, out);
    metrics::collect_process(out);
  });
  http::ServerOptions options;
  options.host = address->host;
  options.port = address->port;
  Result<std::unique_ptr<http::Server>> server =
      http::Server::start(options, admin_router(progress, admin->registry_, admin->broker_));
  if (!server.ok()) return server.status();
  admin->server_ = std::move(server).value();
  return admin;
}

AdminHttp::~AdminHttp() {
  detach();
  if (server_ != nullptr) server_->stop();  // null when start() failed
}

std::string AdminHttp::bound_address() const {
  return server_->host() + ":" + std::to_string(server_->port());
}

void AdminHttp::attach(const broker::Server* server) {
  ASSERT(broker_collector_ == 0);
  broker_collector_ =
      registry_->add([server](metrics::Exposition& out) { server->collect_metrics(out); });
  std::unique_lock lock(broker_->mu);
  broker_->server = server;
}

void AdminHttp::detach() {
  if (broker_collector_ == 0) return;
  {
    std::unique_lock lock(broker_->mu);  // waits for the admin requests using the broker
    broker_->server = nullptr;
  }
  registry_->remove(broker_collector_);  // waits for a scrape that is running it
  broker_collector_ = 0;
}

}  // namespace cairn::cli
