// Admin: the Kafka Admin API calls the CLI makes (topics, configs, consumer groups), each a
// blocking call bounded by the handle's timeout. A thin layer over librdkafka's asynchronous
// admin functions: it builds the request, waits on a private result queue, converts the result
// into plain values from record.h and maps errors to Status. One thread at a time.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "client/kafka_handle.h"
#include "client/record.h"

namespace cairn::client {

struct TopicSpec {
  std::string name;
  int32_t partitions = -1;  // -1: the broker's default
  int16_t replicas = -1;    // -1: the broker's default
  Settings configs;
};

struct ConfigEntry {
  std::string name;
  std::optional<std::string> value;  // nullopt: null (e.g. sensitive)
  std::string source;                // e.g. DYNAMIC_TOPIC_CONFIG, DEFAULT_CONFIG
  bool is_default = false;
  bool is_read_only = false;
  bool is_sensitive = false;
  bool is_dynamic_topic_config = false;  // set on the topic itself (AlterConfigs keeps these)
};

struct GroupListing {
  std::string group_id;
  std::string state;  // Stable, Empty, Dead, PreparingRebalance, ... or Unknown
  bool is_simple = false;
};

struct GroupMember {
  std::string member_id;
  std::string instance_id;
  std::string client_id;
  std::string host;
  std::vector<TopicPartition> assignment;
};

struct GroupDescription {
  std::string group_id;
  std::string state;
  std::string assignor;
  int32_t coordinator_id = -1;
  std::string coordinator_host;
  bool is_simple = false;
  std::vector<GroupMember> members;
  Status status;
};

class Admin {
 public:
  static Result<std::unique_ptr<Admin>> connect(const ClientOptions& options);

  const KafkaHandle& handle() const { return *handle_; }

  Result<std::vector<ItemResult>> create_topics(const std::vector<TopicSpec>& topics,
                                                bool validate_only);
  Result<std::vector<ItemResult>> delete_topics(const std::vector<std::string>& topics);
  // Grows `topic` to `total_partitions` partitions.
  Result<std::vector<ItemResult>> create_partitions(const std::string& topic,
                                                    int32_t total_partitions, bool validate_only);
  Result<std::vector<ConfigEntry>> describe_topic_configs(const std::string& topic);
  // Replaces the topic's whole set of dynamic configs with `configs` (AlterConfigs semantics:
  // any dynamic config not listed returns to its default).
  Status alter_topic_configs(const std::string& topic, const Settings& configs, bool validate_only);

  Result<std::vector<GroupListing>> list_groups();
  Result<std::vector<GroupDescription>> describe_groups(const std::vector<std::string>& groups);
  // Committed offsets of every partition the group has committed.
  Result<std::vector<TopicPartitionOffset>> list_group_offsets(const std::string& group);
  Result<std::vector<TopicPartitionOffset>> alter_group_offsets(
      const std::string& group, const std::vector<TopicPartitionOffset>& offsets);
  Result<std::vector<ItemResult>> delete_groups(const std::vector<std::string>& groups);

  ~Admin();

 private:
  explicit Admin(std::unique_ptr<KafkaHandle> handle);
  rd_kafka_AdminOptions_t* options(rd_kafka_admin_op_t op, bool validate_only = false) const;
  // Waits for the result of the request just sent; the caller destroys the returned event.
  Result<rd_kafka_event_t*> wait(std::string_view what);

  // librdkafka 2.0.2 can abort the process (an assertion on a librdkafka thread) when
  // DescribeConsumerGroups or DeleteGroups meets a broker without the group APIs. ListGroups
  // fails cleanly there, so it is asked first (once) as the probe.
  Status check_group_support();

  // A group admin request counts as failed unless marked ok before the scope ends; after any
  // failed one the destructor leaks the client instead of destroying it, because destroying
  // it then can hit the same librdkafka 2.0.2 assertion (confluentinc/librdkafka#3663, #4605).
  // Admin lives as long as one CLI command, so the leak ends with the process.
  struct GroupRequest {
    int& failures;
    bool ok = false;
    ~GroupRequest() {
      if (!ok) failures++;
    }
  };

  std::unique_ptr<KafkaHandle> handle_;
  rd_kafka_queue_t* queue_ = nullptr;
  int failed_group_requests_ = 0;
  std::optional<Status> group_support_;
};

}  // namespace cairn::client
