#include "broker/server.h"

#include <unistd.h>

#include <spdlog/spdlog.h>

#include "broker/audit_topic.h"
#include "broker/cluster_id.h"
#include "broker/configs/resolve.h"
#include "broker/data_dir_lock.h"
#include "broker/kafka_session.h"
#include "broker/metrics_collector.h"
#include "broker/security/listeners.h"
#include "broker/security/sasl.h"
#include "net/connection_quota.h"
#include "net/tls.h"

namespace cairn::broker {
namespace {

bool is_wildcard(const std::string& host) {
  return host == "0.0.0.0" || host == "::" || host == "[::]";
}

// Without an advertised address: the listen host, except that a wildcard host is not an
// address a client can connect to, so use this machine's host name (as Kafka does).
net::HostPort default_advertised(const net::HostPort& listen, uint16_t bound_port) {
  std::string host = listen.host;
  if (is_wildcard(host)) {
    char name[256] = {};
    if (gethostname(name, sizeof(name) - 1) == 0 && name[0] != '\0') {
      host = name;
    } else {
      host = "localhost";
    }
    spdlog::warn(
        "listening on a wildcard address; advertising '{}' (set --advertise or "
        "advertised.listeners)",
        host);
  }
  return net::HostPort{host, bound_port};
}

}  // namespace

Result<std::unique_ptr<Server>> Server::start(BrokerConfig config, StartupProgress* progress,
                                              const std::function<Status()>& on_listening) {
  std::unique_ptr<Server> server(new Server());
  if (progress != nullptr) server->progress_ = progress;
  RETURN_IF_ERROR(configs::finish_broker_config(config));
  // The lock comes before anything reads or writes the data directory, and the listen address
  // is bound before any log is opened: a broker that cannot run (another one owns the
  // directory, the port is taken) leaves the directory as it found it.
  Result<std::unique_ptr<DataDirLock>> lock = DataDirLock::acquire(config.data_dir);
  if (!lock.ok()) return lock.status();
  server->data_dir_lock_ = std::move(lock).value();
  std::error_code ec;
  spdlog::info("data directory {}", std::filesystem::absolute(config.data_dir, ec).string());
  server->shards_ = std::make_unique<net::ShardSet>(config.shard_count);
  server->progress_->expect_group_shards(config.shard_count);
  server->state_ = std::make_unique<BrokerState>();
  RETURN_IF_ERROR(server->bind_listeners(config));
  server->progress_->listener_bound();
  if (on_listening) RETURN_IF_ERROR(on_listening());
  RETURN_IF_ERROR(server->open_data(config));
  server->progress_->storage_recovered();

  BrokerState& state = *server->state_;
  state.config = std::move(config);
  server->shards_->start();
  server->groups_->start();
  server->txn_->start();
  server->partitions_->start();
  for (auto& listener : server->listeners_) listener->start();
  server->started_ = true;
  for (const ListenerEndpoint& endpoint : state.listeners) {
    spdlog::info("listener {} ({}) on {}:{}, advertising {}:{}", endpoint.name,
                 security::security_protocol_name(endpoint.protocol), endpoint.bound.host,
                 endpoint.bound.port, endpoint.advertised.host, endpoint.advertised.port);
  }
  spdlog::info("cluster id {}, node {}, {} shard(s)", state.cluster_id, state.node_id.value(),
               state.shards->count());
  return server;
}

// Binds every listener (before any data is read, so a taken port leaves the directory as it
// was) and loads the TLS files once for all SSL listeners.
Status Server::bind_listeners(const BrokerConfig& config) {
  Result<security::PrincipalMapper> mapper =
      security::PrincipalMapper::parse(config.principal_mapping_rules);
  if (!mapper.ok()) return mapper.status();
  principal_mapper_ = std::make_unique<security::PrincipalMapper>(std::move(mapper).value());
  for (const ListenerConfig& listener : config.listeners) {
    if (!uses_tls(listener.protocol) || tls_ != nullptr) continue;
    Result<std::shared_ptr<net::TlsContextSource>> tls = net::TlsContextSource::create(config.tls);
    if (!tls.ok()) return error(tls.status().code(), "TLS: " + tls.status().message());
    tls_ = std::move(tls).value();
  }
  state_->connection_quota = std::make_shared<net::ConnectionQuota>(config.connection_quota);
  // One thread: a flood of PLAIN logins then queues there instead of stalling the shards.
  password_checks_ = std::make_unique<asio::thread_pool>(1);
  for (uint32_t index = 0; index < config.listeners.size(); index++) {
    const ListenerConfig& wanted = config.listeners[index];
    net::ListenerOptions options;
    options.index = index;
    options.quota = state_->connection_quota;
    if (uses_tls(wanted.protocol)) options.tls = tls_;
    Result<std::unique_ptr<net::Listener>> listener = net::Listener::bind(
        *shards_, wanted.address, config.limits,
        [this, index](const net::ConnectionInfo& info, const net::PeerIdentity& peer) {
          return make_session(index, info, peer);
        },
        std::move(options));
    if (!listener.ok()) {
      return error(listener.status().code(),
                   "listener " + wanted.name + ": " + listener.status().message());
    }
    uint16_t port = (*listener)->local_endpoint().port();
    state_->listeners.push_back(
        ListenerEndpoint{wanted.name, wanted.protocol, net::HostPort{wanted.address.host, port},
                         wanted.advertised.value_or(default_advertised(wanted.address, port))});
    listeners_.push_back(std::move(listener).value());
  }
  return Status::ok_status();
}

// An mTLS login (a client certificate mapped to a principal, or not) in the audit log.
void Server::audit_certificate_login(const security::SessionIdentity& identity,
                                     const std::string& client, const std::string& failure) const {
  if (audit_ == nullptr) return;
  security::AuditEvent event;
  event.type = security::AuditEvent::Type::authentication;
  event.allowed = failure.empty();
  if (failure.empty()) event.principal = identity.principal;
  event.listener = identity.listener;
  event.client = client;
  event.mechanism = "SSL";
  event.reason = failure;
  audit_->record(std::move(event));
}

std::unique_ptr<net::Session> Server::make_session(uint32_t index, const net::ConnectionInfo& info,
                                                   const net::PeerIdentity& peer) const {
  const ListenerEndpoint& listener = state_->listeners[index];
  auto identity = std::make_shared<security::SessionIdentity>();
  identity->listener = listener.name;
  identity->protocol = listener.protocol;
  identity->host = security::normalize_acl_host(info.peer.address().to_string());
  std::string peer_text = info.peer.address().to_string() + ":" + std::to_string(info.peer.port());
  // On SASL_SSL the principal comes from SASL, not from a client certificate (as in Kafka).
  if (peer.certificate_subject.has_value() && listener.protocol == SecurityProtocol::ssl) {
    Result<std::string> name = principal_mapper_->map(*peer.certificate_subject);
    if (!name.ok()) {
      spdlog::info("connection {} from {} on listener {}: {}; closing", info.id, peer_text,
                   listener.name, name.status().message());
      audit_certificate_login(*identity, peer_text, name.status().message());
      return nullptr;
    }
    identity->principal = "User:" + *name;
    audit_certificate_login(*identity, peer_text, "");
  }
  // The one line per TLS connection that says who it is (docs/security.md).
  if (peer.tls) {
    spdlog::info("connection {} from {} on listener {}: {}, principal {}", info.id, peer_text,
                 listener.name, peer.tls_version, identity->principal);
  }
  return std::make_unique<KafkaSession>(state_.get(), info, std::move(identity),
                                        password_checks_.get());
}

void Server::reopen_audit_log() {
  if (audit_ != nullptr) audit_->reopen();
}

Status Server::reload_tls() {
  if (tls_ == nullptr) return Status::ok_status();
  return tls_->reload();
}

Result<bool> Server::reload_tls_if_changed() {
  if (tls_ == nullptr) return false;
  return tls_->reload_if_changed();
}

// Opens what the data directory holds: metadata, every partition's log (internal topics
// included), consumer groups.
Status Server::open_data(const BrokerConfig& config) {
  std::filesystem::path meta_dir = config.data_dir / "meta";
  // Everything the broker persists goes through this one Io (the fault tests swap in FaultIo).
  storage::Io& io = storage::posix_io();
  Result<std::string> cluster_id = load_or_create_cluster_id(meta_dir, io);
  if (!cluster_id.ok()) return cluster_id.status();
  Result<std::unique_ptr<TopicRegistry>> topics = TopicRegistry::open(meta_dir, io);
  if (!topics.ok()) return topics.status();
  topics_ = std::move(topics).value();
  Result<groups::GroupConfig> group_config = groups::group_config_from(config.kafka_configs);
  if (!group_config.ok()) return group_config.status();
  Result<TopicInfo> offsets_topic = groups::ensure_offsets_topic(
      io, *topics_, config.data_dir, group_config->offsets_topic_partition_count,
      group_config->offsets_topic_segment_bytes);
  if (!offsets_topic.ok()) return offsets_topic.status();
  Result<txn::TxnConfig> txn_config = txn::txn_config_from(config.kafka_configs);
  if (!txn_config.ok()) return txn_config.status();
  Result<TopicInfo> txn_topic = txn::ensure_txn_topic(
      io, *topics_, config.data_dir, txn_config->partition_count, txn_config->segment_bytes);
  if (!txn_topic.ok()) return txn_topic.status();
  Result<std::unique_ptr<configs::DynamicConfigStore>> dynamic_configs =
      configs::DynamicConfigStore::open(meta_dir, io);
  if (!dynamic_configs.ok()) return dynamic_configs.status();
  dynamic_configs_ = std::move(dynamic_configs).value();
  Result<std::unique_ptr<producers::ProducerIdAllocator>> producer_ids =
      producers::ProducerIdAllocator::open(meta_dir, io);
  if (!producer_ids.ok()) return producer_ids.status();
  producer_ids_ = std::move(producer_ids).value();
  RETURN_IF_ERROR(open_users(config, meta_dir, io));
  RETURN_IF_ERROR(open_audit(config, io));
  flusher_ = std::make_unique<storage::Flusher>();
  meta_writer_ = std::make_unique<MetaWriter>();
  PartitionManagerOptions partition_options;
  partition_options.data_dir = config.data_dir;
  partition_options.shards = shards_.get();
  partition_options.flusher = flusher_.get();
  partition_options.io = &io;
  partition_options.meta_writer = meta_writer_.get();
  partition_options.resolver =
      configs::partition_resolver(config.kafka_configs, dynamic_configs_.get());
  partition_options.retention_check_interval = configs::retention_check_interval(config);
  partition_options.max_partitions_per_shard = config.max_partitions_per_shard;
  configs::set_cleaner_options(config, shards_->count(), partition_options);
  Result<std::unique_ptr<PartitionManager>> partitions =
      PartitionManager::open(std::move(partition_options), *topics_->snapshot());
  if (!partitions.ok()) return partitions.status();
  partitions_ = std::move(partitions).value();
  BrokerState& state = *state_;
  state.node_id = config.node_id;
  state.cluster_id = std::move(cluster_id).value();
  state.topics = topics_.get();
  state.dynamic_configs = dynamic_configs_.get();
  state.shards = shards_.get();
  state.partitions = partitions_.get();
  // A fetch session holds at most as many partitions as the broker may host.
  size_t session_partitions_max =
      static_cast<size_t>(config.max_partitions_per_shard) * shards_->count();
  state.fetch_sessions =
      make_fetch_session_caches(config.max_incremental_fetch_session_cache_slots,
                                session_partitions_max, shards_->count(), state.metrics.get());
  state.producer_ids = producer_ids_.get();
  state.meta_writer = meta_writer_.get();
  // Consumer groups: __consumer_offsets is replayed once the shards run.
  groups::CoordinatorOptions group_options{.config = *group_config, .progress = progress_};
  groups_ = groups::GroupCoordinator::open(*shards_, partitions_.get(), *offsets_topic,
                                           std::move(group_options));
  state.groups = groups_.get();
  open_transactions(*txn_topic, *txn_config);
  return Status();
}

Status Server::open_quotas(const std::filesystem::path& meta_dir, storage::Io& io) {
  Result<std::unique_ptr<quotas::QuotaStore>> store = quotas::QuotaStore::open(meta_dir, io);
  if (!store.ok()) return store.status();
  quotas_ = std::move(store).value();
  throttles_ = std::make_unique<quotas::ThrottleTracker>();
  state_->client_quotas = quotas_.get();
  state_->quota_throttles = throttles_.get();
  return Status();
}

// The client quotas (meta/quotas.json), the SCRAM credentials (meta/scram.json), the ACLs
// (meta/acls.json), and the bootstrap user if one is configured and has no credential for its
// mechanism yet (a later password change is not undone).
Status Server::open_users(const BrokerConfig& config, const std::filesystem::path& meta_dir,
                          storage::Io& io) {
  RETURN_IF_ERROR(open_quotas(meta_dir, io));
  Result<std::unique_ptr<security::ScramStore>> scram = security::ScramStore::open(meta_dir, io);
  if (!scram.ok()) return scram.status();
  scram_ = std::move(scram).value();
  security::Authorizer::Settings acl_settings{config.authorizer_enabled, config.super_users,
                                              config.allow_everyone_if_no_acl_found};
  Result<std::unique_ptr<security::Authorizer>> authorizer =
      security::Authorizer::open(meta_dir, io, std::move(acl_settings));
  if (!authorizer.ok()) return authorizer.status();
  authorizer_ = std::move(authorizer).value();
  state_->scram = scram_.get();
  state_->authorizer = authorizer_.get();
  if (config.bootstrap_user.empty()) return Status();
  Result<security::BootstrapUser> user = security::parse_bootstrap_user(config.bootstrap_user);
  if (!user.ok()) return user.status();
  if (scram_->lookup(user->name, user->mechanism)) return Status();
  security::ScramCredential credential =
      security::scram_credential(user->mechanism, user->password, security::kScramIterationsMin);
  RETURN_IF_ERROR(scram_->apply({{user->name, user->mechanism, std::move(credential)}}));
  spdlog::info("created the bootstrap user {} ({})", user->name,
               security::scram_mechanism_name(user->mechanism));
  return Status();
}

Status Server::open_audit(const BrokerConfig& config, storage::Io& io) {
  if (!config.audit_log_enabled) {
    if (config.audit_log_topic) {
      spdlog::warn("audit.log.topic.enable is set but audit.log.enabled is not: no audit log");
    }
    return Status();
  }
  std::filesystem::path file =
      config.audit_log_file.empty() ? config.data_dir / "audit.log" : config.audit_log_file;
  Result<std::unique_ptr<security::AuditLog>> audit = security::AuditLog::open(io, file);
  if (!audit.ok()) return error(audit.status().code(), "audit log: " + audit.status().message());
  audit_ = std::move(audit).value();
  if (config.audit_log_topic) {
    Result<TopicInfo> topic =
        ensure_audit_topic(io, *topics_, config.data_dir, config.audit_log_topic_retention_ms);
    if (!topic.ok()) return topic.status();
    audit_->set_sink(audit_topic_sink(state_.get()));
  }
  state_->audit = audit_.get();
  spdlog::info("access audit log: {}{}", file.string(),
               config.audit_log_topic ? " and " + std::string(kAuditTopic) : "");
  return Status();
}

void Server::open_transactions(const TopicInfo& txn_topic, const txn::TxnConfig& txn_config) {
  txn::TxnCoordinatorDeps txn_deps;
  txn_deps.shards = shards_.get();
  txn_deps.partitions = partitions_.get();
  txn_deps.groups = groups_.get();
  txn_deps.producer_ids = producer_ids_.get();
  txn_deps.meta_writer = meta_writer_.get();
  txn_ = txn::TxnCoordinator::open(txn_deps, txn_topic, txn_config);
  state_->txn = txn_.get();
}

net::HostPort Server::bound_address() const {
  ASSERT(!listeners_.empty());
  asio::ip::tcp::endpoint endpoint = listeners_.front()->local_endpoint();
  return net::HostPort{endpoint.address().to_string(), endpoint.port()};
}

void Server::collect_metrics(metrics::Exposition& out) const {
  ASSERT(started_ && !stopped_);
  collect_request_metrics(*state_->metrics, out);
  collect_security_metrics(*state_, out);
  collect_flush_metrics(flusher_->metrics(), out);
  collect_partition_metrics(*state_, std::chrono::seconds(2), out);
}

void Server::stop(std::chrono::milliseconds grace) {
  if (!started_ || stopped_) return;
  stopped_ = true;
  progress_->stopping();
  for (auto& listener : listeners_) listener->stop();
  if (groups_ != nullptr) groups_->stop();
  if (txn_ != nullptr) txn_->stop();
  partitions_->stop();
  shards_->request_stop();
  if (!shards_->wait_stopped(grace)) {
    spdlog::warn("shards still busy after {} ms; abandoning their work", grace.count());
    shards_->stop_now();
  }
  shards_->join();
  // A password check still running answers into a shard that is gone: its result is dropped.
  if (password_checks_ != nullptr) {  // checks not started yet are dropped
    password_checks_->stop();
    password_checks_->join();
  }
  // No request records events now; write what is queued to the file only (the shards that
  // would append it to __cairn_audit are gone).
  if (audit_ != nullptr) {
    audit_->set_sink({});
    audit_->flush();
  }
  // Finish the queued metadata writes now: their closures point into coroutine frames, which
  // live until the shards are destroyed. (After stop_now, nothing resumes them.)
  meta_writer_.reset();
  Status closed = partitions_->close();
  if (!closed.ok()) spdlog::error("closing the logs: {}", closed.to_string());
}

Server::~Server() {
  stop();  // a start that failed midway started no thread: nothing to stop
}

}  // namespace cairn::broker
