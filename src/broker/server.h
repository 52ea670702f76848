// Server: the whole broker process — data directory, shards, listener, shared state.
//
// start() locks the data directory (one broker per directory), binds every listener,
// opens DATA_DIR/meta (cluster id, topic registry), opens every partition's log,
// starts the shards and starts accepting. stop() stops accepting,
// closes every connection, lets each shard finish what it is doing (bounded by a grace
// period, then abandons it), joins the shard threads and closes the logs cleanly. Call
// start/stop/bound_address/reload_tls* from one controlling thread (main).
#pragma once

#include <chrono>
#include <functional>
#include <memory>

#include "base/status.h"
#include "broker/broker_state.h"
#include "broker/config.h"
#include "broker/configs/broker_configs.h"
#include "broker/data_dir_lock.h"
#include "broker/groups/coordinator.h"
#include "broker/meta_writer.h"
#include "broker/partitions/partition_manager.h"
#include "broker/producers/producer_id_allocator.h"
#include "broker/quotas/quota_store.h"
#include "broker/quotas/throttle.h"
#include "broker/security/audit_log.h"
#include "broker/security/authorizer.h"
#include "broker/security/principal.h"
#include "broker/security/scram_store.h"
#include "broker/startup_progress.h"
#include "broker/txn/txn_coordinator.h"
#include "metrics/exposition.h"
#include "net/listener.h"
#include "net/shard_set.h"
#include "storage/flusher.h"

namespace cairn::broker {

class Server {
 public:
  // `progress` (may be null; must outlive the Server) hears of each step of the start, for
  // the readiness probe, including while start() still runs (recovery). `on_listening` (may
  // be empty) runs once the Kafka listener is bound, before any data is read; its error fails
  // the start. `cairn serve` starts the admin HTTP server there: after the Kafka bind, so its
  // own port can never take the Kafka port a restart wants back, and before recovery, so
  // probes answer while the logs recover.
  static Result<std::unique_ptr<Server>> start(BrokerConfig config,
                                               StartupProgress* progress = nullptr,
                                               const std::function<Status()>& on_listening = {});
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // The address the first listener actually bound (the real port when the config asked for
  // port 0).
  net::HostPort bound_address() const;
  // Reads the TLS certificate, key and CA files again (SIGHUP): new connections get the new
  // ones, open connections keep theirs. On error nothing changes and the error is returned.
  // OK when no listener uses TLS.
  Status reload_tls();
  // reload_tls() if one of the files changed since they were last read; false if none did.
  Result<bool> reload_tls_if_changed();
  // Reopens audit.log.file (SIGHUP, after logrotate moved it); nothing when the log is off.
  void reopen_audit_log();
  const BrokerState& state() const { return *state_; }
  // The broker's /metrics families (metrics_collector.h). Any thread but a shard's, while
  // the server runs (before stop()).
  void collect_metrics(metrics::Exposition& out) const;
  // Idempotent.
  void stop(std::chrono::milliseconds grace = std::chrono::seconds(10));

 private:
  Server() = default;
  Status bind_listeners(const BrokerConfig& config);
  Status open_data(const BrokerConfig& config);
  // Part of open_data: the transaction coordinator (its log is replayed once the shards run).
  void open_transactions(const TopicInfo& txn_topic, const txn::TxnConfig& txn_config);
  // Part of open_users: the client quotas (meta/quotas.json) and the tracker that measures
  // traffic against them.
  Status open_quotas(const std::filesystem::path& meta_dir, storage::Io& io);
  Status open_users(const BrokerConfig& config, const std::filesystem::path& meta_dir,
                    storage::Io& io);
  // Part of open_data: the access audit log and __cairn_audit, when configured.
  Status open_audit(const BrokerConfig& config, storage::Io& io);
  // The session of a new connection on listener `index`, or null to refuse it (its client
  // certificate maps to no principal).
  std::unique_ptr<net::Session> make_session(uint32_t index, const net::ConnectionInfo& info,
                                             const net::PeerIdentity& peer) const;
  // An mTLS login in the audit log: `failure` empty when the certificate mapped to a principal.
  void audit_certificate_login(const security::SessionIdentity& identity, const std::string& client,
                               const std::string& failure) const;

  // Destruction order matters: the lock goes last, after every file is closed; the listener
  // and shards go before the state they point to; the partitions (their logs) go before the
  // flusher that syncs them.
  std::unique_ptr<DataDirLock> data_dir_lock_;
  // Reset by stop() once the shards have joined, before their coroutine frames go.
  std::unique_ptr<MetaWriter> meta_writer_;
  std::unique_ptr<TopicRegistry> topics_;
  std::unique_ptr<configs::DynamicConfigStore> dynamic_configs_;
  std::unique_ptr<storage::Flusher> flusher_;
  std::unique_ptr<producers::ProducerIdAllocator> producer_ids_;
  std::unique_ptr<security::ScramStore> scram_;
  std::unique_ptr<security::Authorizer> authorizer_;
  std::unique_ptr<quotas::QuotaStore> quotas_;
  std::unique_ptr<quotas::ThrottleTracker> throttles_;
  std::unique_ptr<PartitionManager> partitions_;
  std::unique_ptr<BrokerState> state_;
  std::unique_ptr<net::ShardSet> shards_;
  // Destroyed after the listener (connections hop to it), before the shards (its timers).
  std::unique_ptr<groups::GroupCoordinator> groups_;
  std::unique_ptr<txn::TxnCoordinator> txn_;
  // Destroyed before the state and shards its topic sink uses; stop() flushes it.
  std::unique_ptr<security::AuditLog> audit_;
  // PLAIN's password checks (PBKDF2), off the shards; joined by stop() after the shards.
  std::unique_ptr<asio::thread_pool> password_checks_;
  StartupProgress own_progress_;  // when start() was given none
  StartupProgress* progress_ = &own_progress_;
  // Shared by every SSL listener; null when none.
  std::shared_ptr<net::TlsContextSource> tls_;
  std::unique_ptr<security::PrincipalMapper> principal_mapper_;
  std::vector<std::unique_ptr<net::Listener>> listeners_;  // as in state_->listeners
  bool started_ = false;
  bool stopped_ = false;
};

}  // namespace cairn::broker
