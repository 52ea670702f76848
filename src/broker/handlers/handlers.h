// Declarations of the request handlers, one per Kafka API, each defined in its own file in
// this folder and listed in api_table.cc. See request_context.h for how a handler is written.
// Handlers run on the connection's shard.
#pragma once

#include <asio.hpp>

#include "broker/request_context.h"
#include "net/frame.h"

namespace cairn::broker {

asio::awaitable<net::Reply> handle_api_versions(RequestContext ctx);
asio::awaitable<net::Reply> handle_metadata(RequestContext ctx);
// Partition data path (partitions/, producers/).
asio::awaitable<net::Reply> handle_produce(RequestContext ctx);
asio::awaitable<net::Reply> handle_fetch(RequestContext ctx);
asio::awaitable<net::Reply> handle_list_offsets(RequestContext ctx);
asio::awaitable<net::Reply> handle_init_producer_id(RequestContext ctx);
// Transactions (txn/).
asio::awaitable<net::Reply> handle_add_partitions_to_txn(RequestContext ctx);
asio::awaitable<net::Reply> handle_add_offsets_to_txn(RequestContext ctx);
asio::awaitable<net::Reply> handle_end_txn(RequestContext ctx);
asio::awaitable<net::Reply> handle_txn_offset_commit(RequestContext ctx);
asio::awaitable<net::Reply> handle_write_txn_markers(RequestContext ctx);
asio::awaitable<net::Reply> handle_describe_producers(RequestContext ctx);
asio::awaitable<net::Reply> handle_describe_transactions(RequestContext ctx);
asio::awaitable<net::Reply> handle_list_transactions(RequestContext ctx);
asio::awaitable<net::Reply> handle_consumer_group_heartbeat(RequestContext ctx);
asio::awaitable<net::Reply> handle_consumer_group_describe(RequestContext ctx);
asio::awaitable<net::Reply> handle_sasl_handshake(RequestContext ctx);
asio::awaitable<net::Reply> handle_sasl_authenticate(RequestContext ctx);
asio::awaitable<net::Reply> handle_describe_user_scram_credentials(RequestContext ctx);
asio::awaitable<net::Reply> handle_alter_user_scram_credentials(RequestContext ctx);
asio::awaitable<net::Reply> handle_describe_acls(RequestContext ctx);
asio::awaitable<net::Reply> handle_create_acls(RequestContext ctx);
asio::awaitable<net::Reply> handle_delete_acls(RequestContext ctx);
// Client quotas (quotas/).
asio::awaitable<net::Reply> handle_describe_client_quotas(RequestContext ctx);
asio::awaitable<net::Reply> handle_alter_client_quotas(RequestContext ctx);
// Consumer groups (groups/).
asio::awaitable<net::Reply> handle_find_coordinator(RequestContext ctx);
asio::awaitable<net::Reply> handle_join_group(RequestContext ctx);
asio::awaitable<net::Reply> handle_sync_group(RequestContext ctx);
asio::awaitable<net::Reply> handle_heartbeat(RequestContext ctx);
asio::awaitable<net::Reply> handle_leave_group(RequestContext ctx);
asio::awaitable<net::Reply> handle_offset_commit(RequestContext ctx);
asio::awaitable<net::Reply> handle_offset_fetch(RequestContext ctx);
asio::awaitable<net::Reply> handle_list_groups(RequestContext ctx);
asio::awaitable<net::Reply> handle_describe_groups(RequestContext ctx);
asio::awaitable<net::Reply> handle_delete_groups(RequestContext ctx);
asio::awaitable<net::Reply> handle_offset_delete(RequestContext ctx);
asio::awaitable<net::Reply> handle_create_topics(RequestContext ctx);
asio::awaitable<net::Reply> handle_delete_topics(RequestContext ctx);
asio::awaitable<net::Reply> handle_delete_records(RequestContext ctx);
asio::awaitable<net::Reply> handle_describe_configs(RequestContext ctx);
asio::awaitable<net::Reply> handle_alter_configs(RequestContext ctx);
asio::awaitable<net::Reply> handle_create_partitions(RequestContext ctx);
asio::awaitable<net::Reply> handle_incremental_alter_configs(RequestContext ctx);

}  // namespace cairn::broker
