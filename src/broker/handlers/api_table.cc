#include "broker/handlers/api_table.h"

#include <algorithm>
#include <iterator>

#include "base/assert.h"
#include "broker/handlers/handlers.h"
#include "protocol/generated/add_offsets_to_txn.h"
#include "protocol/generated/add_partitions_to_txn.h"
#include "protocol/generated/alter_client_quotas.h"
#include "protocol/generated/alter_configs.h"
#include "protocol/generated/alter_user_scram_credentials.h"
#include "protocol/generated/api_versions.h"
#include "protocol/generated/consumer_group_describe.h"
#include "protocol/generated/consumer_group_heartbeat.h"
#include "protocol/generated/create_acls.h"
#include "protocol/generated/create_partitions.h"
#include "protocol/generated/create_topics.h"
#include "protocol/generated/delete_acls.h"
#include "protocol/generated/delete_groups.h"
#include "protocol/generated/delete_records.h"
#include "protocol/generated/delete_topics.h"
#include "protocol/generated/describe_acls.h"
#include "protocol/generated/describe_client_quotas.h"
#include "protocol/generated/describe_configs.h"
#include "protocol/generated/describe_groups.h"
#include "protocol/generated/describe_producers.h"
#include "protocol/generated/describe_transactions.h"
#include "protocol/generated/describe_user_scram_credentials.h"
#include "protocol/generated/end_txn.h"
#include "protocol/generated/fetch.h"
#include "protocol/generated/find_coordinator.h"
#include "protocol/generated/heartbeat.h"
#include "protocol/generated/incremental_alter_configs.h"
#include "protocol/generated/init_producer_id.h"
#include "protocol/generated/join_group.h"
#include "protocol/generated/leave_group.h"
#include "protocol/generated/list_groups.h"
#include "protocol/generated/list_offsets.h"
#include "protocol/generated/list_transactions.h"
#include "protocol/generated/metadata.h"
#include "protocol/generated/offset_commit.h"
#include "protocol/generated/offset_delete.h"
#include "protocol/generated/offset_fetch.h"
#include "protocol/generated/produce.h"
#include "protocol/generated/sasl_authenticate.h"
#include "protocol/generated/sasl_handshake.h"
#include "protocol/generated/sync_group.h"
#include "protocol/generated/txn_offset_commit.h"
#include "protocol/generated/write_txn_markers.h"

namespace cairn::broker {
namespace {

// A row with the versions of the generated catalog (the versions the codecs serve).
constexpr ApiEntry row(int16_t api_key, Handler handler) {
  for (const protocol::ApiInfo& info : protocol::kApiCatalog) {
    if (info.api_key == api_key) {
      return ApiEntry{
          info.api_key, info.name, info.min_version, info.max_version, info.first_flexible_version,
          handler};
    }
  }
  ASSERT(false && "API missing from the generated catalog");
  return ApiEntry{};
}

// Sorted by api_key. One row per handler file in handlers/.
const ApiEntry kApiTable[] = {
    row(protocol::ProduceRequest::kApiKey, handle_produce),
    row(protocol::FetchRequest::kApiKey, handle_fetch),
    row(protocol::ListOffsetsRequest::kApiKey, handle_list_offsets),
    row(protocol::MetadataRequest::kApiKey, handle_metadata),
    row(protocol::OffsetCommitRequest::kApiKey, handle_offset_commit),
    row(protocol::OffsetFetchRequest::kApiKey, handle_offset_fetch),
    row(protocol::FindCoordinatorRequest::kApiKey, handle_find_coordinator),
    row(protocol::JoinGroupRequest::kApiKey, handle_join_group),
    row(protocol::HeartbeatRequest::kApiKey, handle_heartbeat),
    row(protocol::LeaveGroupRequest::kApiKey, handle_leave_group),
    row(protocol::SyncGroupRequest::kApiKey, handle_sync_group),
    row(protocol::DescribeGroupsRequest::kApiKey, handle_describe_groups),
    row(protocol::ListGroupsRequest::kApiKey, handle_list_groups),
    row(protocol::SaslHandshakeRequest::kApiKey, handle_sasl_handshake),
    row(protocol::ApiVersionsRequest::kApiKey, handle_api_versions),
    row(protocol::CreateTopicsRequest::kApiKey, handle_create_topics),
    row(protocol::DeleteTopicsRequest::kApiKey, handle_delete_topics),
    row(protocol::DeleteRecordsRequest::kApiKey, handle_delete_records),
    row(protocol::InitProducerIdRequest::kApiKey, handle_init_producer_id),
    row(protocol::AddPartitionsToTxnRequest::kApiKey, handle_add_partitions_to_txn),
    row(protocol::AddOffsetsToTxnRequest::kApiKey, handle_add_offsets_to_txn),
    row(protocol::EndTxnRequest::kApiKey, handle_end_txn),
    row(protocol::WriteTxnMarkersRequest::kApiKey, handle_write_txn_markers),
    row(protocol::TxnOffsetCommitRequest::kApiKey, handle_txn_offset_commit),
    row(protocol::DescribeAclsRequest::kApiKey, handle_describe_acls),
    row(protocol::CreateAclsRequest::kApiKey, handle_create_acls),
    row(protocol::DeleteAclsRequest::kApiKey, handle_delete_acls),
    row(protocol::DescribeConfigsRequest::kApiKey, handle_describe_configs),
    row(protocol::AlterConfigsRequest::kApiKey, handle_alter_configs),
    row(protocol::SaslAuthenticateRequest::kApiKey, handle_sasl_authenticate),
    row(protocol::CreatePartitionsRequest::kApiKey, handle_create_partitions),
    row(protocol::DeleteGroupsRequest::kApiKey, handle_delete_groups),
    row(protocol::IncrementalAlterConfigsRequest::kApiKey, handle_incremental_alter_configs),
    row(protocol::OffsetDeleteRequest::kApiKey, handle_offset_delete),
    row(protocol::DescribeClientQuotasRequest::kApiKey, handle_describe_client_quotas),
    row(protocol::AlterClientQuotasRequest::kApiKey, handle_alter_client_quotas),
    row(protocol::DescribeUserScramCredentialsRequest::kApiKey,
        handle_describe_user_scram_credentials),
    row(protocol::AlterUserScramCredentialsRequest::kApiKey, handle_alter_user_scram_credentials),
    row(protocol::DescribeProducersRequest::kApiKey, handle_describe_producers),
    row(protocol::DescribeTransactionsRequest::kApiKey, handle_describe_transactions),
    row(protocol::ListTransactionsRequest::kApiKey, handle_list_transactions),
    row(protocol::ConsumerGroupHeartbeatRequest::kApiKey, handle_consumer_group_heartbeat),
    row(protocol::ConsumerGroupDescribeRequest::kApiKey, handle_consumer_group_describe),
};

}  // namespace

std::span<const ApiEntry> api_table() { return kApiTable; }

const ApiEntry* find_api_entry(int16_t api_key) {
  auto it = std::lower_bound(std::begin(kApiTable), std::end(kApiTable), api_key,
                             [](const ApiEntry& e, int16_t key) { return e.api_key < key; });
  if (it == std::end(kApiTable) || it->api_key != api_key) return nullptr;
  return &*it;
}

}  // namespace cairn::broker
