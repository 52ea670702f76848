// AdminHttp: `cairn serve`'s admin HTTP server (default 127.0.0.1:9644, --admin-listen):
//
//   GET /v1/status/live   200 {"status":"live"} once the process is up
//   GET /v1/status/ready  200 {"status":"ready"} when the broker serves (listener bound, logs
//                         recovered, consumer groups loaded); 503 {"status":"not_ready",
//                         "reason":...} before that and while it stops
//   GET /metrics          Prometheus text format (docs/observability.md)
//   /v1/brokers, /v1/cluster, /v1/topics..., /v1/groups...: the admin JSON API
//                         (docs/admin-api.md, broker/admin/admin_api.h); 503 until attach()
//
// It starts while the broker starts, right after the Kafka port is bound (Server::start's
// on_listening), so probes get answers during a long recovery, and stops after the broker. The HTTP
// server runs on its own threads (http/server.h); the broker's metrics join once the broker runs
// (attach) and leave before it stops (detach), so a scrape never waits for shards that are shutting
// down.
//
// Lifecycle: the main thread calls start, attach, detach and the destructor, in that order.
#pragma once

#include <chrono>
#include <memory>
#include <shared_mutex>
#include <string>

#include "base/status.h"
#include "broker/server.h"
#include "broker/startup_progress.h"
#include "http/server.h"
#include "metrics/registry.h"

namespace cairn::cli {

// The running broker as the admin API's routes see it: null before attach() and after
// detach(). Routes hold the lock shared while they use the broker, so detach() waits for them.
struct BrokerLink {
  std::shared_mutex mu;
  const broker::Server* server = nullptr;  // guarded by mu
};

class AdminHttp {
 public:
  // `listen`: IP:PORT (":PORT" is every interface; "localhost" is 127.0.0.1). `progress`
  // must outlive this object.
  static Result<std::unique_ptr<AdminHttp>> start(const std::string& listen,
                                                  const broker::StartupProgress* progress);
  ~AdminHttp();
  AdminHttp(const AdminHttp&) = delete;
  AdminHttp& operator=(const AdminHttp&) = delete;

  std::string bound_address() const;
  // REQUIRES: `server` runs until detach().
  void attach(const broker::Server* server);
  void detach();

 private:
  AdminHttp() = default;

  std::shared_ptr<metrics::Registry> registry_ = std::make_shared<metrics::Registry>();
  std::shared_ptr<BrokerLink> broker_ = std::make_shared<BrokerLink>();
  std::unique_ptr<http::Server> server_;
  metrics::Registry::CollectorId broker_collector_ = 0;
};

// The router of the admin server, apart from its sockets (tests).
std::shared_ptr<http::Router> admin_router(const broker::StartupProgress* progress,
                                           std::shared_ptr<const metrics::Registry> registry,
                                           std::shared_ptr<BrokerLink> broker);

}  // namespace cairn::cli
