#include "client/admin.h"

#include <fmt/format.h>

#include <algorithm>

namespace cairn::client {

namespace {

// Owns an rd_kafka_event_t for the length of a scope.
struct EventGuard {
  rd_kafka_event_t* event;
  ~EventGuard() { rd_kafka_event_destroy(event); }
};

struct OptionsGuard {
  rd_kafka_AdminOptions_t* options;
  ~OptionsGuard() { rd_kafka_AdminOptions_destroy(options); }
};

struct PartitionListGuard {
  rd_kafka_topic_partition_list_t* list;
  ~PartitionListGuard() { rd_kafka_topic_partition_list_destroy(list); }
};

std::vector<ItemResult> topic_results(const rd_kafka_topic_result_t** results, size_t count) {
  std::vector<ItemResult> items;
  for (size_t i = 0; i < count; i++) {
    const char* name = rd_kafka_topic_result_name(results[i]);
    rd_kafka_resp_err_t err = rd_kafka_topic_result_error(results[i]);
    ItemResult item{name, Status::ok_status()};
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      const char* message = rd_kafka_topic_result_error_string(results[i]);
      item.status = error(status_code_for(err),
                          fmt::format("topic '{}': {} ({})", name,
                                      message != nullptr ? message : rd_kafka_err2str(err),
                                      rd_kafka_err2name(err)));
    }
    items.push_back(std::move(item));
  }
  return items;
}

std::vector<ItemResult> group_results(const rd_kafka_group_result_t** results, size_t count) {
  std::vector<ItemResult> items;
  for (size_t i = 0; i < count; i++) {
    const char* name = rd_kafka_group_result_name(results[i]);
    items.push_back({name, kafka_status(rd_kafka_group_result_error(results[i]),
                                        fmt::format("group '{}'", name))});
  }
  return items;
}

std::vector<TopicPartitionOffset> partition_offsets(const rd_kafka_topic_partition_list_t* list,
                                                    const std::string& group) {
  std::vector<TopicPartitionOffset> offsets;
  if (list == nullptr) return offsets;
  for (int i = 0; i < list->cnt; i++) {
    const rd_kafka_topic_partition_t& tp = list->elems[i];
    offsets.push_back({tp.topic, tp.partition, tp.offset,
                       kafka_status(tp.err, fmt::format("group '{}' topic '{}' partition {}", group,
                                                        tp.topic, tp.partition))});
  }
  std::sort(offsets.begin(), offsets.end(), [](const auto& a, const auto& b) {
    return std::tie(a.topic, a.partition) < std::tie(b.topic, b.partition);
  });
  return offsets;
}

// The committed offsets in the one group result a group-offsets admin call returns.
Result<std::vector<TopicPartitionOffset>> single_group_offsets(
    const rd_kafka_group_result_t** results, size_t count, const std::string& group) {
  if (count != 1) {
    return error(StatusCode::internal, fmt::format("{} group results, expected 1", count));
  }
  Status status =
      kafka_status(rd_kafka_group_result_error(results[0]), fmt::format("group '{}'", group));
  if (!status.ok()) return status;
  return partition_offsets(rd_kafka_group_result_partitions(results[0]), group);
}

}  // namespace

Admin::Admin(std::unique_ptr<KafkaHandle> handle)
    : handle_(std::move(handle)), queue_(rd_kafka_queue_new(handle_->get())) {}

Admin::~Admin() {
  if (failed_group_requests_ > 0) {
    // The handle object stays alive too: librdkafka's threads keep calling its log callback.
    (void)handle_.release();
    return;
  }
  if (queue_ != nullptr) rd_kafka_queue_destroy(queue_);
}

Result<std::unique_ptr<Admin>> Admin::connect(const ClientOptions& options) {
  // A producer handle: it never joins a group, and admin requests work on any handle.
  auto handle =
      KafkaHandle::create(HandleKind::producer, options, {{"allow.auto.create.topics", "false"}});
  if (!handle.ok()) return handle.status();
  return std::unique_ptr<Admin>(new Admin(std::move(*handle)));
}

rd_kafka_AdminOptions_t* Admin::options(rd_kafka_admin_op_t op, bool validate_only) const {
  rd_kafka_AdminOptions_t* options = rd_kafka_AdminOptions_new(handle_->get(), op);
  char errstr[256];
  rd_kafka_AdminOptions_set_request_timeout(options, handle_->timeout_ms(), errstr, sizeof(errstr));
  if (op == RD_KAFKA_ADMIN_OP_CREATETOPICS || op == RD_KAFKA_ADMIN_OP_DELETETOPICS ||
      op == RD_KAFKA_ADMIN_OP_CREATEPARTITIONS) {
    rd_kafka_AdminOptions_set_operation_timeout(options, handle_->timeout_ms(), errstr,
                                                sizeof(errstr));
  }
  if (validate_only) {
    rd_kafka_AdminOptions_set_validate_only(options, 1, errstr, sizeof(errstr));
  }
  return options;
}

Result<rd_kafka_event_t*> Admin::wait(std::string_view what) {
  // librdkafka answers every admin request by its request timeout; the margin only guards
  // against a client bug turning into a hang.
  rd_kafka_event_t* event = rd_kafka_queue_poll(queue_, handle_->timeout_ms() + 5'000);
  if (event == nullptr) {
    return handle_->explain(
        error(StatusCode::timed_out, fmt::format("{}: no answer from the cluster", what)));
  }
  rd_kafka_resp_err_t err = rd_kafka_event_error(event);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    const char* message = rd_kafka_event_error_string(event);
    Status status = error(status_code_for(err),
                          fmt::format("{}: {} ({})", what, message != nullptr ? message : "",
                                      rd_kafka_err2name(err)));
    rd_kafka_event_destroy(event);
    return handle_->explain(status);
  }
  return event;
}

Result<std::vector<ItemResult>> Admin::create_topics(const std::vector<TopicSpec>& topics,
                                                     bool validate_only) {
  std::vector<rd_kafka_NewTopic_t*> requests;
  char errstr[512];
  Status build_error;
  for (const TopicSpec& spec : topics) {
    rd_kafka_NewTopic_t* topic = rd_kafka_NewTopic_new(spec.name.c_str(), spec.partitions,
                                                       spec.replicas, errstr, sizeof(errstr));
    if (topic == nullptr) {
      build_error =
          error(StatusCode::invalid_argument, fmt::format("topic '{}': {}", spec.name, errstr));
      break;
    }
    requests.push_back(topic);
    for (const auto& [key, value] : spec.configs) {
      rd_kafka_resp_err_t err = rd_kafka_NewTopic_set_config(topic, key.c_str(), value.c_str());
      if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        build_error = kafka_status(err, fmt::format("topic '{}' config {}", spec.name, key));
      }
    }
  }
  if (!build_error.ok()) {
    rd_kafka_NewTopic_destroy_array(requests.data(), requests.size());
    return build_error;
  }
  OptionsGuard opts{options(RD_KAFKA_ADMIN_OP_CREATETOPICS, validate_only)};
  rd_kafka_CreateTopics(handle_->get(), requests.data(), requests.size(), opts.options, queue_);
  rd_kafka_NewTopic_destroy_array(requests.data(), requests.size());
  auto event = wait("creating topics");
  if (!event.ok()) return event.status();
  EventGuard guard{*event};
  size_t count = 0;
  const rd_kafka_topic_result_t** results =
      rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(*event), &count);
  return topic_results(results, count);
}

Result<std::vector<ItemResult>> Admin::delete_topics(const std::vector<std::string>& topics) {
  std::vector<rd_kafka_DeleteTopic_t*> requests;
  for (const std::string& name : topics) requests.push_back(rd_kafka_DeleteTopic_new(name.c_str()));
  OptionsGuard opts{options(RD_KAFKA_ADMIN_OP_DELETETOPICS)};
  rd_kafka_DeleteTopics(handle_->get(), requests.data(), requests.size(), opts.options, queue_);
  rd_kafka_DeleteTopic_destroy_array(requests.data(), requests.size());
  auto event = wait("deleting topics");
  if (!event.ok()) return event.status();
  EventGuard guard{*event};
  size_t count = 0;
  const rd_kafka_topic_result_t** results =
      rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(*event), &count);
  return topic_results(results, count);
}

Result<std::vector<ItemResult>> Admin::create_partitions(const std::string& topic,
                                                         int32_t total_partitions,
                                                         bool validate_only) {
  char errstr[512];
  rd_kafka_NewPartitions_t* request =
      rd_kafka_NewPartitions_new(topic.c_str(), total_partitions, errstr, sizeof(errstr));
  if (request == nullptr) {
    return error(StatusCode::invalid_argument, fmt::format("topic '{}': {}", topic, errstr));
  }
  OptionsGuard opts{options(RD_KAFKA_ADMIN_OP_CREATEPARTITIONS, validate_only)};
  rd_kafka_CreatePartitions(handle_->get(), &request, 1, opts.options, queue_);
  rd_kafka_NewPartitions_destroy(request);
  auto event = wait("adding partitions");
  if (!event.ok()) return event.status();
  EventGuard guard{*event};
  size_t count = 0;
  const rd_kafka_topic_result_t** results = rd_kafka_CreatePartitions_result_topics(
      rd_kafka_event_CreatePartitions_result(*event), &count);
  return topic_results(results, count);
}

Result<std::vector<ConfigEntry>> Admin::describe_topic_configs(const std::string& topic) {
  rd_kafka_ConfigResource_t* resource =
      rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic.c_str());
  OptionsGuard opts{options(RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS)};
  rd_kafka_DescribeConfigs(handle_->get(), &resource, 1, opts.options, queue_);
  rd_kafka_ConfigResource_destroy(resource);
  auto event = wait(fmt::format("describing the configs of topic '{}'", topic));
  if (!event.ok()) return event.status();
  EventGuard guard{*event};
  size_t count = 0;
  const rd_kafka_ConfigResource_t** resources = rd_kafka_DescribeConfigs_result_resources(
      rd_kafka_event_DescribeConfigs_result(*event), &count);
  if (count != 1) {
    return error(StatusCode::internal,
                 fmt::format("describing configs: {} resources in the answer, expected 1", count));
  }
  rd_kafka_resp_err_t err = rd_kafka_ConfigResource_error(resources[0]);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    const char* message = rd_kafka_ConfigResource_error_string(resources[0]);
    return error(
        status_code_for(err),
        fmt::format("topic '{}' configs: {} ({})", topic,
                    message != nullptr ? message : rd_kafka_err2str(err), rd_kafka_err2name(err)));
  }
  size_t entry_count = 0;
  const rd_kafka_ConfigEntry_t** entries =
      rd_kafka_ConfigResource_configs(resources[0], &entry_count);
  std::vector<ConfigEntry> configs;
  for (size_t i = 0; i < entry_count; i++) {
    const rd_kafka_ConfigEntry_t* e = entries[i];
    ConfigEntry entry;
    entry.name = rd_kafka_ConfigEntry_name(e);
    const char* value = rd_kafka_ConfigEntry_value(e);
    if (value != nullptr) entry.value = value;
    rd_kafka_ConfigSource_t source = rd_kafka_ConfigEntry_source(e);
    entry.source = rd_kafka_ConfigSource_name(source);
    entry.is_default = rd_kafka_ConfigEntry_is_default(e) != 0;
    entry.is_read_only = rd_kafka_ConfigEntry_is_read_only(e) != 0;
    entry.is_sensitive = rd_kafka_ConfigEntry_is_sensitive(e) != 0;
    // Brokers answering DescribeConfigs v0 report no source; there a non-default, writable
    // entry is the best sign that it was set on the topic.
    entry.is_dynamic_topic_config = source == RD_KAFKA_CONFIG_SOURCE_DYNAMIC_TOPIC_CONFIG ||
                                    (source == RD_KAFKA_CONFIG_SOURCE_UNKNOWN_CONFIG &&
                                     !entry.is_default && !entry.is_read_only);
    configs.push_back(std::move(entry));
  }
  std::sort(configs.begin(), configs.end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });
  return configs;
}

Status Admin::alter_topic_configs(const std::string& topic, const Settings& configs,
                                  bool validate_only) {
  rd_kafka_ConfigResource_t* resource =
      rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic.c_str());
  for (const auto& [key, value] : configs) {
    rd_kafka_resp_err_t err =
        rd_kafka_ConfigResource_set_config(resource, key.c_str(), value.c_str());
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      rd_kafka_ConfigResource_destroy(resource);
      return kafka_status(err, fmt::format("topic '{}' config {}", topic, key));
    }
  }
  OptionsGuard opts{options(RD_KAFKA_ADMIN_OP_ALTERCONFIGS, validate_only)};
  rd_kafka_AlterConfigs(handle_->get(), &resource, 1, opts.options, queue_);
  rd_kafka_ConfigResource_destroy(resource);
  auto event = wait(fmt::format("altering the configs of topic '{}'", topic));
  if (!event.ok()) return event.status();
  EventGuard guard{*event};
  size_t count = 0;
  const rd_kafka_ConfigResource_t** resources =
      rd_kafka_AlterConfigs_result_resources(rd_kafka_event_AlterConfigs_result(*event), &count);
  for (size_t i = 0; i < count; i++) {
    rd_kafka_resp_err_t err = rd_kafka_ConfigResource_error(resources[i]);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) continue;
    const char* message = rd_kafka_ConfigResource_error_string(resources[i]);
    return error(
        status_code_for(err),
        fmt::format("topic '{}': {} ({})", topic,
                    message != nullptr ? message : rd_kafka_err2str(err), rd_kafka_err2name(err)));
  }
  return Status::ok_status();
}

Result<std::vector<GroupListing>> Admin::list_groups() {
  GroupRequest tracker{failed_group_requests_};
  OptionsGuard opts{options(RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPS)};
  rd_kafka_ListConsumerGroups(handle_->get(), opts.options, queue_);
  auto event = wait("listing consumer groups");
  if (!event.ok()) return event.status();
  EventGuard guard{*event};
  const rd_kafka_ListConsumerGroups_result_t* result =
      rd_kafka_event_ListConsumerGroups_result(*event);
  size_t error_count = 0;
  const rd_kafka_error_t** errors = rd_kafka_ListConsumerGroups_result_errors(result, &error_count);
  if (error_count > 0) return handle_->explain(kafka_status(errors[0], "listing consumer groups"));
  size_t count = 0;
  const rd_kafka_ConsumerGroupListing_t** listings =
      rd_kafka_ListConsumerGroups_result_valid(result, &count);
  std::vector<GroupListing> groups;
  for (size_t i = 0; i < count; i++) {
    groups.push_back(
        {rd_kafka_ConsumerGroupListing_group_id(listings[i]),
         rd_kafka_consumer_group_state_name(rd_kafka_ConsumerGroupListing_state(listings[i])),
         rd_kafka_ConsumerGroupListing_is_simple_consumer_group(listings[i]) != 0});
  }
  std::sort(groups.begin(), groups.end(),
            [](const auto& a, const auto& b) { return a.group_id < b.group_id; });
  tracker.ok = true;
  return groups;
}

Status Admin::check_group_support() {
  if (!group_support_) {
    auto groups = list_groups();
    group_support_ = groups.ok() ? Status::ok_status() : groups.status();
  }
  return *group_support_;
}

namespace {

GroupDescription convert_group(const rd_kafka_ConsumerGroupDescription_t* source) {
  GroupDescription group;
  group.group_id = rd_kafka_ConsumerGroupDescription_group_id(source);
  group.status = kafka_status(rd_kafka_ConsumerGroupDescription_error(source),
                              fmt::format("group '{}'", group.group_id));
  group.state = rd_kafka_consumer_group_state_name(rd_kafka_ConsumerGroupDescription_state(source));
  const char* assignor = rd_kafka_ConsumerGroupDescription_partition_assignor(source);
  group.assignor = assignor != nullptr ? assignor : "";
  group.is_simple = rd_kafka_ConsumerGroupDescription_is_simple_consumer_group(source) != 0;
  const rd_kafka_Node_t* coordinator = rd_kafka_ConsumerGroupDescription_coordinator(source);
  if (coordinator != nullptr) {
    group.coordinator_id = rd_kafka_Node_id(coordinator);
    const char* host = rd_kafka_Node_host(coordinator);
    group.coordinator_host = host != nullptr ? host : "";
  }
  size_t member_count = rd_kafka_ConsumerGroupDescription_member_count(source);
  for (size_t i = 0; i < member_count; i++) {
    const rd_kafka_MemberDescription_t* m = rd_kafka_ConsumerGroupDescription_member(source, i);
    GroupMember member;
    member.member_id = rd_kafka_MemberDescription_consumer_id(m);
    const char* instance = rd_kafka_MemberDescription_group_instance_id(m);
    member.instance_id = instance != nullptr ? instance : "";
    member.client_id = rd_kafka_MemberDescription_client_id(m);
    member.host = rd_kafka_MemberDescription_host(m);
    const rd_kafka_MemberAssignment_t* assignment = rd_kafka_MemberDescription_assignment(m);
    const rd_kafka_topic_partition_list_t* partitions =
        assignment != nullptr ? rd_kafka_MemberAssignment_partitions(assignment) : nullptr;
    for (int j = 0; partitions != nullptr && j < partitions->cnt; j++) {
      member.assignment.push_back({partitions->elems[j].topic, partitions->elems[j].partition});
    }
    std::sort(member.assignment.begin(), member.assignment.end());
    group.members.push_back(std::move(member));
  }
  return group;
}

}  // namespace

Result<std::vector<GroupDescription>> Admin::describe_groups(
    const std::vector<std::string>& groups) {
  RETURN_IF_ERROR(check_group_support());
  GroupRequest tracker{failed_group_requests_};
  std::vector<const char*> names;
  for (const std::string& group : groups) names.push_back(group.c_str());
  OptionsGuard opts{options(RD_KAFKA_ADMIN_OP_DESCRIBECONSUMERGROUPS)};
  rd_kafka_DescribeConsumerGroups(handle_->get(), names.data(), names.size(), opts.options, queue_);
  auto event = wait("describing consumer groups");
  if (!event.ok()) return event.status();
  EventGuard guard{*event};
  size_t count = 0;
  const rd_kafka_ConsumerGroupDescription_t** results =
      rd_kafka_DescribeConsumerGroups_result_groups(
          rd_kafka_event_DescribeConsumerGroups_result(*event), &count);
  std::vector<GroupDescription> descriptions;
  tracker.ok = true;
  for (size_t i = 0; i < count; i++) {
    descriptions.push_back(convert_group(results[i]));
    descriptions.back().status = handle_->explain(descriptions.back().status);
    if (!descriptions.back().status.ok()) tracker.ok = false;
  }
  return descriptions;
}

Result<std::vector<TopicPartitionOffset>> Admin::list_group_offsets(const std::string& group) {
  GroupRequest tracker{failed_group_requests_};
  rd_kafka_ListConsumerGroupOffsets_t* request =
      rd_kafka_ListConsumerGroupOffsets_new(group.c_str(), nullptr);
  OptionsGuard opts{options(RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPOFFSETS)};
  rd_kafka_ListConsumerGroupOffsets(handle_->get(), &request, 1, opts.options, queue_);
  rd_kafka_ListConsumerGroupOffsets_destroy(request);
  auto event = wait(fmt::format("listing the committed offsets of group '{}'", group));
  if (!event.ok()) return event.status();
  EventGuard guard{*event};
  size_t count = 0;
  const rd_kafka_group_result_t** results = rd_kafka_ListConsumerGroupOffsets_result_groups(
      rd_kafka_event_ListConsumerGroupOffsets_result(*event), &count);
  Result<std::vector<TopicPartitionOffset>> result = single_group_offsets(results, count, group);
  tracker.ok = result.ok();
  return result;
}

Result<std::vector<TopicPartitionOffset>> Admin::alter_group_offsets(
    const std::string& group, const std::vector<TopicPartitionOffset>& offsets) {
  GroupRequest tracker{failed_group_requests_};
  PartitionListGuard list{rd_kafka_topic_partition_list_new(static_cast<int>(offsets.size()))};
  for (const TopicPartitionOffset& tpo : offsets) {
    rd_kafka_topic_partition_list_add(list.list, tpo.topic.c_str(), tpo.partition)->offset =
        tpo.offset;
  }
  rd_kafka_AlterConsumerGroupOffsets_t* request =
      rd_kafka_AlterConsumerGroupOffsets_new(group.c_str(), list.list);
  OptionsGuard opts{options(RD_KAFKA_ADMIN_OP_ALTERCONSUMERGROUPOFFSETS)};
  rd_kafka_AlterConsumerGroupOffsets(handle_->get(), &request, 1, opts.options, queue_);
  rd_kafka_AlterConsumerGroupOffsets_destroy(request);
  auto event = wait(fmt::format("altering the committed offsets of group '{}'", group));
  if (!event.ok()) return event.status();
  EventGuard guard{*event};
  size_t count = 0;
  const rd_kafka_group_result_t** results = rd_kafka_AlterConsumerGroupOffsets_result_groups(
      rd_kafka_event_AlterConsumerGroupOffsets_result(*event), &count);
  Result<std::vector<TopicPartitionOffset>> result = single_group_offsets(results, count, group);
  tracker.ok = result.ok();
  return result;
}

Result<std::vector<ItemResult>> Admin::delete_groups(const std::vector<std::string>& groups) {
  RETURN_IF_ERROR(check_group_support());
  GroupRequest tracker{failed_group_requests_};
  std::vector<rd_kafka_DeleteGroup_t*> requests;
  for (const std::string& group : groups)
    requests.push_back(rd_kafka_DeleteGroup_new(group.c_str()));
  OptionsGuard opts{options(RD_KAFKA_ADMIN_OP_DELETEGROUPS)};
  rd_kafka_DeleteGroups(handle_->get(), requests.data(), requests.size(), opts.options, queue_);
  rd_kafka_DeleteGroup_destroy_array(requests.data(), requests.size());
  auto event = wait("deleting consumer groups");
  if (!event.ok()) return event.status();
  EventGuard guard{*event};
  size_t count = 0;
  const rd_kafka_group_result_t** results =
      rd_kafka_DeleteGroups_result_groups(rd_kafka_event_DeleteGroups_result(*event), &count);
  std::vector<ItemResult> items = group_results(results, count);
  tracker.ok = std::all_of(items.begin(), items.end(), [](const auto& i) { return i.status.ok(); });
  return items;
}

}  // namespace cairn::client
