// The admin JSON API's operations (docs/admin-api.md lists the routes that call them): the
// brokers, topics and consumer groups as JSON, and the actions a console needs (create,
// delete and reconfigure topics, produce a record, reset a group's offsets).
//
// Each function answers an HTTP status and a JSON body; bad input is a 400/404/409 answer with
// {"error": ...}, never an exception or a crash. Reads of shard-owned state (partition offsets
// and sizes, groups) are posted to the owning shards and waited for (shard_call.h); actions go
// through the Kafka handlers themselves (kafka_call.h), so they obey the same rules as a Kafka
// client's request. A shard that does not answer within `timeout` makes the answer 504.
//
// Thread safety: any non-shard thread (the admin HTTP threads), several at once, while the
// broker runs (between Server::start and Server::stop). `body` is the request body (bounded
// by the HTTP server, 1 MiB).
#pragma once

#include <chrono>
#include <string>

#include <nlohmann/json.hpp>

#include "broker/broker_state.h"

namespace cairn::broker::admin {

struct Answer {
  int status = 200;
  nlohmann::json body;
};

struct AdminOptions {
  std::chrono::milliseconds timeout{10'000};
};

// GET /v1/brokers, GET /v1/cluster
Answer list_brokers(const BrokerState& state);
Answer describe_cluster(const BrokerState& state);

// GET /v1/topics, GET /v1/topics/{topic}
Answer list_topics(const BrokerState& state, const AdminOptions& options);
Answer describe_topic(const BrokerState& state, const AdminOptions& options,
                      const std::string& topic);
// POST /v1/topics, DELETE /v1/topics/{topic}, PUT /v1/topics/{topic}/configs
Answer create_topic(const BrokerState& state, const AdminOptions& options, const std::string& body);
Answer delete_topic(const BrokerState& state, const AdminOptions& options,
                    const std::string& topic);
Answer alter_topic_configs(const BrokerState& state, const AdminOptions& options,
                           const std::string& topic, const std::string& body);
// POST /v1/topics/{topic}/records
Answer produce_record(const BrokerState& state, const AdminOptions& options,
                      const std::string& topic, const std::string& body);

// GET /v1/groups, GET /v1/groups/{group}
Answer list_groups(const BrokerState& state, const AdminOptions& options);
Answer describe_group(const BrokerState& state, const AdminOptions& options,
                      const std::string& group);
// POST /v1/groups/{group}/reset-offsets
Answer reset_group_offsets(const BrokerState& state, const AdminOptions& options,
                           const std::string& group, const std::string& body);

}  // namespace cairn::broker::admin
