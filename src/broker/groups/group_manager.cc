// GroupManager: membership (JoinGroup, SyncGroup, Heartbeat, LeaveGroup) and timers. Offsets,
// admin operations and loading are in group_manager_offsets.cc.
#include "broker/groups/group_manager.h"

#include <algorithm>
#include <cstdio>
#include <random>

namespace cairn::broker::groups {

namespace {

JoinResult join_error(ErrorCode error, std::string member_id) {
  JoinResult result;
  result.error = error;
  result.member_id = std::move(member_id);
  return result;
}

SyncResult sync_error(ErrorCode error) {
  SyncResult result;
  result.error = error;
  return result;
}

void update_member_from(Member& member, const JoinRequest& request) {
  member.client_id = request.client_id;
  member.client_host = request.client_host;
  member.session_timeout_ms = request.session_timeout_ms;
  member.rebalance_timeout_ms = request.rebalance_timeout_ms;
  member.protocol_type = request.protocol_type;
  member.protocols = request.protocols;
}

}  // namespace

MemberIdFn random_member_ids() {
  auto engine = std::make_shared<std::mt19937_64>(std::random_device{}());
  return [engine](const std::string& prefix) {
    uint64_t high = (*engine)();
    uint64_t low = (*engine)();
    char uuid[40];
    std::snprintf(uuid, sizeof(uuid), "%08x-%04x-%04x-%04x-%012llx",
                  static_cast<uint32_t>(high >> 32), static_cast<uint32_t>(high >> 16) & 0xffff,
                  (static_cast<uint32_t>(high) & 0x0fff) | 0x4000,
                  (static_cast<uint32_t>(low >> 48) & 0x3fff) | 0x8000,
                  static_cast<unsigned long long>(low & 0xffffffffffffULL));
    return prefix + "-" + uuid;
  };
}

GroupManager::GroupManager(GroupConfig config, MemberIdFn member_ids, StoreGroupFn store_group)
    : config_(config), member_ids_(std::move(member_ids)), store_group_(std::move(store_group)) {
  ASSERT(member_ids_);
  ASSERT(config_.min_session_timeout_ms > 0);
  ASSERT(config_.min_session_timeout_ms <= config_.max_session_timeout_ms);
  ASSERT(config_.offsets_topic_partition_count >= 1);
  ASSERT(config_.max_group_size >= 1);
}

Group* GroupManager::group(const std::string& group_id) {
  auto it = groups_.find(group_id);
  return it == groups_.end() ? nullptr : it->second.get();
}

const Group* GroupManager::find_group(const std::string& group_id) const {
  auto it = groups_.find(group_id);
  return it == groups_.end() ? nullptr : it->second.get();
}

Group& GroupManager::get_or_create(const std::string& group_id, int64_t now_ms) {
  auto& slot = groups_[group_id];
  if (!slot) {
    slot = std::make_unique<Group>();
    slot->group_id = group_id;
    slot->state_timestamp_ms = now_ms;
  }
  return *slot;
}

void GroupManager::remove_group(const std::string& group_id) {
  auto it = groups_.find(group_id);
  if (it == groups_.end()) return;
  Group& g = *it->second;
  ASSERT(g.members.empty());
  if (g.scheduled_deadline_ms.has_value()) {
    deadlines_.erase({*g.scheduled_deadline_ms, group_id});
  }
  g.transition_to(GroupState::dead, last_now_ms_);
  groups_.erase(it);
}

// A group that a refused first JoinGroup created and nothing else uses: drop it, so garbage
// requests cannot fill memory with empty groups.
void GroupManager::remove_if_unused(const std::string& group_id) {
  Group* g = group(group_id);
  if (g == nullptr) return;
  if (g->is(GroupState::empty) && g->generation_id == 0 && g->members.empty() &&
      g->pending_members.empty() && g->offsets.empty()) {
    remove_group(group_id);
  }
}

// ---------------------------------------------------------------------------------------------
// JoinGroup

void GroupManager::join_group(JoinRequest request, int64_t now_ms, JoinCallback callback) {
  ASSERT(callback);
  last_now_ms_ = std::max(last_now_ms_, now_ms);
  if (request.group_id.empty()) {
    return callback(join_error(ErrorCode::invalid_group_id, request.member_id));
  }
  if (is_loading(request.group_id)) {
    return callback(join_error(ErrorCode::coordinator_load_in_progress, request.member_id));
  }
  if (request.session_timeout_ms < config_.min_session_timeout_ms ||
      request.session_timeout_ms > config_.max_session_timeout_ms) {
    return callback(join_error(ErrorCode::invalid_session_timeout, request.member_id));
  }
  if (request.rebalance_timeout_ms <= 0) request.rebalance_timeout_ms = request.session_timeout_ms;
  const std::string group_id = request.group_id;
  const bool new_member = request.member_id.empty();
  Group* g = group(group_id);
  if (g != nullptr && g->is_consumer_protocol()) {
    // Kafka's online migration (classic members inside a consumer group) is not done: a
    // consumer group with members refuses classic joins; an empty one becomes classic again.
    if (g->has_members()) {
      return callback(join_error(ErrorCode::inconsistent_group_protocol, request.member_id));
    }
    g->consumer.reset();
  }
  if (g == nullptr) {
    if (!new_member) return callback(join_error(ErrorCode::unknown_member_id, request.member_id));
    g = &get_or_create(group_id, now_ms);
  }
  bool known = g->has_member(request.member_id) || g->is_pending(request.member_id) ||
               (request.group_instance_id.has_value() &&
                g->static_member_id(*request.group_instance_id).has_value());
  if (!known && g->members.size() + g->pending_members.size() >= config_.max_group_size) {
    callback(join_error(ErrorCode::group_max_size_reached, request.member_id));
  } else if (new_member) {
    join_new_member(*g, std::move(request), now_ms, std::move(callback));
  } else {
    join_known_member(*g, std::move(request), now_ms, std::move(callback));
  }
  if (Group* after = group(group_id); after != nullptr) maybe_complete_join(*after, now_ms);
  remove_if_unused(group_id);
  reschedule(group_id);
}

void GroupManager::join_new_member(Group& g, JoinRequest request, int64_t now_ms,
                                   JoinCallback callback) {
  if (!g.supports_protocols(request.protocol_type, request.protocols)) {
    return callback(join_error(ErrorCode::inconsistent_group_protocol, ""));
  }
  const std::string& prefix =
      request.group_instance_id.has_value() ? *request.group_instance_id : request.client_id;
  std::string member_id = member_ids_(prefix);
  ASSERT(!g.has_member(member_id) && !g.is_pending(member_id));
  if (request.group_instance_id.has_value()) {
    return join_static_new_member(g, std::move(request), std::move(member_id), now_ms,
                                  std::move(callback));
  }
  if (request.require_known_member_id) {
    // KIP-394: hand out the id and wait for the member to come back with it. Until it does
    // (or its session timeout passes), the group's join phase waits for it too.
    g.pending_members[member_id] = now_ms + request.session_timeout_ms;
    return callback(join_error(ErrorCode::member_id_required, std::move(member_id)));
  }
  add_member_and_rebalance(g, request, std::move(member_id), now_ms, std::move(callback));
}

void GroupManager::join_static_new_member(Group& g, JoinRequest request, std::string new_member_id,
                                          int64_t now_ms, JoinCallback callback) {
  std::optional<std::string> old_member_id = g.static_member_id(*request.group_instance_id);
  if (old_member_id.has_value()) {
    update_static_member_and_rebalance(g, request, *old_member_id, std::move(new_member_id), now_ms,
                                       std::move(callback));
  } else {
    add_member_and_rebalance(g, request, std::move(new_member_id), now_ms, std::move(callback));
  }
}

void GroupManager::join_known_member(Group& g, JoinRequest request, int64_t now_ms,
                                     JoinCallback callback) {
  const std::string& member_id = request.member_id;
  if (!g.supports_protocols(request.protocol_type, request.protocols)) {
    return callback(join_error(ErrorCode::inconsistent_group_protocol, member_id));
  }
  if (g.is_pending(member_id)) {
    // The second step of KIP-394. Pending ids are handed only to dynamic members.
    if (request.group_instance_id.has_value()) {
      return callback(join_error(ErrorCode::unknown_member_id, member_id));
    }
    std::string id = member_id;
    return add_member_and_rebalance(g, request, std::move(id), now_ms, std::move(callback));
  }
  if (g.is_static_member_fenced(member_id, request.group_instance_id)) {
    return callback(join_error(ErrorCode::fenced_instance_id, member_id));
  }
  if (!g.has_member(member_id)) {
    return callback(join_error(ErrorCode::unknown_member_id, member_id));
  }
  Member& member = g.members.at(member_id);
  switch (g.state) {
    case GroupState::preparing_rebalance:
      return update_member_and_rebalance(g, member, request, now_ms, std::move(callback));
    case GroupState::completing_rebalance:
      // A member that lost the JoinGroup response asks again: same answer, no new rebalance.
      if (member.protocols == request.protocols) {
        refresh_session(member, now_ms);
        return callback(current_generation_result(g, member_id, g.is_leader(member_id)));
      }
      return update_member_and_rebalance(g, member, request, now_ms, std::move(callback));
    case GroupState::stable:
      // A follower with unchanged metadata learns the current generation; a leader rejoining
      // (or anyone with new metadata) means the assignment must be recomputed.
      if (!g.is_leader(member_id) && member.protocols == request.protocols) {
        refresh_session(member, now_ms);
        return callback(current_generation_result(g, member_id, false));
      }
      return update_member_and_rebalance(g, member, request, now_ms, std::move(callback));
    case GroupState::empty:
    case GroupState::dead:
      return callback(join_error(ErrorCode::unknown_member_id, member_id));
  }
}

void GroupManager::add_member_and_rebalance(Group& g, const JoinRequest& request,
                                            std::string member_id, int64_t now_ms,
                                            JoinCallback callback) {
  Member member;
  member.member_id = member_id;
  member.group_instance_id = request.group_instance_id;
  update_member_from(member, request);
  member.awaiting_join = std::move(callback);
  member.is_new = true;
  // A new member cannot heartbeat before its JoinGroup returns, and a client that gave up on
  // a long rebalance retries with a fresh join: bound how long a new member may wait.
  member.session_deadline_ms = now_ms + config_.new_member_join_timeout_ms;
  if (g.is(GroupState::preparing_rebalance) && g.generation_id == 0) g.new_member_added = true;
  g.pending_members.erase(member_id);
  g.add_member(std::move(member));
  maybe_prepare_rebalance(g, now_ms);
}

void GroupManager::update_member_and_rebalance(Group& g, Member& member, const JoinRequest& request,
                                               int64_t now_ms, JoinCallback callback) {
  if (member.is_awaiting_join()) {
    // A duplicate JoinGroup (the client retried): the older request is answered now.
    JoinCallback older = std::move(member.awaiting_join);
    member.awaiting_join = nullptr;
    older(join_error(ErrorCode::rebalance_in_progress, member.member_id));
  }
  update_member_from(member, request);
  member.awaiting_join = std::move(callback);
  maybe_prepare_rebalance(g, now_ms);
}

void GroupManager::update_static_member_and_rebalance(Group& g, const JoinRequest& request,
                                                      const std::string& old_member_id,
                                                      std::string new_member_id, int64_t now_ms,
                                                      JoinCallback callback) {
  Member& old_member = g.members.at(old_member_id);
  JoinCallback fenced_join = std::move(old_member.awaiting_join);
  SyncCallback fenced_sync = std::move(old_member.awaiting_sync);
  Member& member =
      g.replace_static_member(*request.group_instance_id, old_member_id, new_member_id);
  // Whoever still waits under the old id is a fenced instance now.
  if (fenced_join) fenced_join(join_error(ErrorCode::fenced_instance_id, old_member_id));
  if (fenced_sync) fenced_sync(sync_error(ErrorCode::fenced_instance_id));
  update_member_from(member, request);
  refresh_session(member, now_ms);
  switch (g.state) {
    case GroupState::stable:
      // KIP-345: a static member restarting with unchanged protocols takes its old place
      // without a rebalance; its SyncGroup returns the assignment it had.
      if (g.protocol_name.has_value() && g.select_protocol() == *g.protocol_name) {
        bool leader = g.is_leader(new_member_id);
        JoinResult rejoined =
            current_generation_result(g, new_member_id, leader && request.supports_skip_assignment);
        rejoined.skip_assignment = leader && request.supports_skip_assignment;
        if (leader && !request.supports_skip_assignment) rejoined.leader_id = old_member_id;
        callback(std::move(rejoined));
        if (store_group_) store_group_(g, [](ErrorCode) {});
        return;
      }
      member.awaiting_join = std::move(callback);
      return prepare_rebalance(g, now_ms);
    case GroupState::completing_rebalance:
      // The leader may be assigning to the old id: start over.
      member.awaiting_join = std::move(callback);
      return prepare_rebalance(g, now_ms);
    case GroupState::preparing_rebalance:
      member.awaiting_join = std::move(callback);
      return;
    case GroupState::empty:
    case GroupState::dead:
      ASSERT(false && "a group with a static member is neither Empty nor Dead");
  }
}

JoinResult GroupManager::current_generation_result(const Group& g, const std::string& member_id,
                                                   bool with_members) const {
  ASSERT(g.protocol_name.has_value());
  JoinResult result;
  result.generation_id = g.generation_id;
  result.protocol_type = g.protocol_type;
  result.protocol_name = *g.protocol_name;
  result.leader_id = g.leader_id.value_or("");
  result.member_id = member_id;
  if (with_members) {
    for (const auto& [id, m] : g.members) {
      result.members.push_back({id, m.group_instance_id, m.metadata_for(*g.protocol_name)});
    }
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// Rebalance phases

void GroupManager::maybe_prepare_rebalance(Group& g, int64_t now_ms) {
  if (g.is(GroupState::stable) || g.is(GroupState::completing_rebalance) ||
      g.is(GroupState::empty)) {
    prepare_rebalance(g, now_ms);
  }
}

void GroupManager::prepare_rebalance(Group& g, int64_t now_ms) {
  if (g.is(GroupState::completing_rebalance)) {
    reset_and_propagate_error(g, ErrorCode::rebalance_in_progress);
  }
  bool was_empty = g.is(GroupState::empty);
  g.storing_assignment = false;
  g.transition_to(GroupState::preparing_rebalance, now_ms);
  int64_t rebalance_timeout_ms = g.rebalance_timeout_ms();
  if (was_empty && config_.initial_rebalance_delay_ms > 0) {
    g.in_initial_delay = true;
    g.new_member_added = false;
    g.join_deadline_ms = now_ms + config_.initial_rebalance_delay_ms;
    g.initial_delay_remaining_ms =
        std::max<int64_t>(rebalance_timeout_ms - config_.initial_rebalance_delay_ms, 0);
  } else {
    g.in_initial_delay = false;
    g.join_deadline_ms = now_ms + rebalance_timeout_ms;
  }
  // Everybody may have joined already (the last member just left, or the only one rejoined).
  maybe_complete_join(g, now_ms);
}

void GroupManager::maybe_complete_join(Group& g, int64_t now_ms) {
  if (g.is(GroupState::preparing_rebalance) && !g.in_initial_delay && g.all_members_joined()) {
    complete_join(g, now_ms);
  }
}

void GroupManager::join_deadline_passed(Group& g, int64_t now_ms) {
  ASSERT(g.is(GroupState::preparing_rebalance));
  if (g.in_initial_delay) {
    if (g.new_member_added && g.initial_delay_remaining_ms > 0) {
      // Members keep arriving: wait a little longer, within the rebalance timeout.
      int64_t delay_ms =
          std::min<int64_t>(config_.initial_rebalance_delay_ms, g.initial_delay_remaining_ms);
      g.new_member_added = false;
      g.initial_delay_remaining_ms -= delay_ms;
      g.join_deadline_ms = now_ms + delay_ms;
      return;
    }
    g.in_initial_delay = false;
  }
  complete_join(g, now_ms);
}

void GroupManager::complete_join(Group& g, int64_t now_ms) {
  ASSERT(g.is(GroupState::preparing_rebalance));
  g.in_initial_delay = false;
  // Members that did not rejoin in time are out (their JoinGroup never came).
  std::vector<std::string> missing;
  for (const auto& [id, member] : g.members) {
    if (!member.is_awaiting_join()) missing.push_back(id);
  }
  std::vector<SyncCallback> orphaned_syncs;
  for (const std::string& id : missing) {
    Member& member = g.members.at(id);
    if (member.awaiting_sync) orphaned_syncs.push_back(std::move(member.awaiting_sync));
    g.remove_member(id);
  }
  ++g.generation_id;
  if (!g.has_members()) {
    g.protocol_name.reset();
    g.leader_id.reset();
    g.transition_to(GroupState::empty, now_ms);
    store_empty_group(g);
  } else {
    ASSERT(g.leader_id.has_value() && g.has_member(*g.leader_id));
    g.protocol_name = g.select_protocol();
    g.transition_to(GroupState::completing_rebalance, now_ms);
  }
  std::vector<std::pair<JoinCallback, JoinResult>> answers;
  for (auto& [id, member] : g.members) {
    ASSERT(member.is_awaiting_join());
    answers.emplace_back(std::move(member.awaiting_join),
                         current_generation_result(g, id, g.is_leader(id)));
    member.awaiting_join = nullptr;
    member.is_new = false;
    refresh_session(member, now_ms);
  }
  for (SyncCallback& sync : orphaned_syncs) sync(sync_error(ErrorCode::unknown_member_id));
  for (auto& [callback, result] : answers) callback(std::move(result));
}

void GroupManager::store_empty_group(Group& g) {
  if (store_group_) store_group_(g, [](ErrorCode) {});
}

void GroupManager::remove_member_and_update(Group& g, const std::string& member_id,
                                            int64_t now_ms) {
  Member& member = g.members.at(member_id);
  JoinCallback join = std::move(member.awaiting_join);
  SyncCallback sync = std::move(member.awaiting_sync);
  g.remove_member(member_id);
  // A member dropped while its JoinGroup waits hears UNKNOWN_MEMBER_ID, so a live client
  // rejoins from scratch.
  if (join) join(join_error(ErrorCode::unknown_member_id, member_id));
  if (sync) sync(sync_error(ErrorCode::unknown_member_id));
  switch (g.state) {
    case GroupState::stable:
    case GroupState::completing_rebalance:
      return maybe_prepare_rebalance(g, now_ms);
    case GroupState::preparing_rebalance:
      return maybe_complete_join(g, now_ms);
    case GroupState::empty:
    case GroupState::dead:
      return;
  }
}

// ---------------------------------------------------------------------------------------------
// SyncGroup

void GroupManager::sync_group(SyncRequest request, int64_t now_ms, SyncCallback callback) {
  ASSERT(callback);
  last_now_ms_ = std::max(last_now_ms_, now_ms);
  if (is_loading(request.group_id)) {
    return callback(sync_error(ErrorCode::coordinator_load_in_progress));
  }
  Group* g = group(request.group_id);
  if (g == nullptr) return callback(sync_error(ErrorCode::unknown_member_id));
  if (g->is_static_member_fenced(request.member_id, request.group_instance_id)) {
    return callback(sync_error(ErrorCode::fenced_instance_id));
  }
  if (!g->has_member(request.member_id)) {
    return callback(sync_error(ErrorCode::unknown_member_id));
  }
  if (request.generation_id != g->generation_id) {
    return callback(sync_error(ErrorCode::illegal_generation));
  }
  // Kafka compares with the group's protocol only once it has one (not while Empty).
  if ((request.protocol_type.has_value() && *request.protocol_type != g->protocol_type) ||
      (request.protocol_name.has_value() && g->protocol_name.has_value() &&
       *request.protocol_name != *g->protocol_name)) {
    return callback(sync_error(ErrorCode::inconsistent_group_protocol));
  }
  Member& member = g->members.at(request.member_id);
  const std::string group_id = request.group_id;
  switch (g->state) {
    case GroupState::empty:
    case GroupState::dead:
      return callback(sync_error(ErrorCode::unknown_member_id));
    case GroupState::preparing_rebalance:
      return callback(sync_error(ErrorCode::rebalance_in_progress));
    case GroupState::stable:
      refresh_session(member, now_ms);
      callback(SyncResult{ErrorCode::none, member.assignment});
      return reschedule(group_id);
    case GroupState::completing_rebalance:
      break;
  }
  if (member.is_awaiting_sync()) {
    SyncCallback older = std::move(member.awaiting_sync);
    member.awaiting_sync = nullptr;
    older(sync_error(ErrorCode::rebalance_in_progress));
  }
  member.awaiting_sync = std::move(callback);
  if (g->is_leader(request.member_id) && !g->storing_assignment) {
    sync_as_leader(*g, std::move(request), now_ms);
  }
  reschedule(group_id);
}

void GroupManager::sync_as_leader(Group& g, SyncRequest request, int64_t now_ms) {
  // Members the leader left out get empty assignment bytes (clients parse those as "nothing");
  // entries for ids that are not members are ignored.
  for (auto& [id, member] : g.members) member.assignment.clear();
  for (auto& [id, bytes] : request.assignments) {
    auto it = g.members.find(id);
    if (it != g.members.end()) it->second.assignment = std::move(bytes);
  }
  g.storing_assignment = true;
  const std::string group_id = g.group_id;
  const int32_t generation_id = g.generation_id;
  if (!store_group_) return finish_assignment_store(group_id, generation_id, ErrorCode::none);
  store_group_(g, [this, group_id, generation_id](ErrorCode error) {
    finish_assignment_store(group_id, generation_id, error);
  });
}

void GroupManager::finish_assignment_store(const std::string& group_id, int32_t generation_id,
                                           ErrorCode error) {
  Group* g = group(group_id);
  // A rebalance that started meanwhile already answered the waiting SyncGroups.
  if (g == nullptr || !g->is(GroupState::completing_rebalance) ||
      g->generation_id != generation_id || !g->storing_assignment) {
    return;
  }
  g->storing_assignment = false;
  if (error != ErrorCode::none) {
    reset_and_propagate_error(*g, error);
    maybe_prepare_rebalance(*g, last_now_ms_);
    return reschedule(group_id);
  }
  g->transition_to(GroupState::stable, last_now_ms_);
  std::vector<std::pair<SyncCallback, SyncResult>> answers;
  for (auto& [id, member] : g->members) {
    if (!member.is_awaiting_sync()) continue;
    answers.emplace_back(std::move(member.awaiting_sync),
                         SyncResult{ErrorCode::none, member.assignment});
    member.awaiting_sync = nullptr;
    refresh_session(member, last_now_ms_);
  }
  reschedule(group_id);
  for (auto& [callback, result] : answers) callback(std::move(result));
}

void GroupManager::reset_and_propagate_error(Group& g, ErrorCode error) {
  ASSERT(g.is(GroupState::completing_rebalance));
  std::vector<SyncCallback> waiting;
  for (auto& [id, member] : g.members) {
    member.assignment.clear();
    if (member.is_awaiting_sync()) {
      waiting.push_back(std::move(member.awaiting_sync));
      member.awaiting_sync = nullptr;
      // Its session was on hold while it waited; it starts again from now.
      refresh_session(member, last_now_ms_);
    }
  }
  for (SyncCallback& callback : waiting) callback(sync_error(error));
}

// ---------------------------------------------------------------------------------------------
// Heartbeat and LeaveGroup

ErrorCode GroupManager::heartbeat(const HeartbeatRequest& request, int64_t now_ms) {
  last_now_ms_ = std::max(last_now_ms_, now_ms);
  if (is_loading(request.group_id)) return ErrorCode::coordinator_load_in_progress;
  Group* g = group(request.group_id);
  if (g == nullptr) return ErrorCode::unknown_member_id;
  if (g->is_static_member_fenced(request.member_id, request.group_instance_id)) {
    return ErrorCode::fenced_instance_id;
  }
  if (!g->has_member(request.member_id)) return ErrorCode::unknown_member_id;
  if (request.generation_id != g->generation_id) return ErrorCode::illegal_generation;
  Member& member = g->members.at(request.member_id);
  ErrorCode result = ErrorCode::none;
  switch (g->state) {
    case GroupState::empty:
    case GroupState::dead:
      return ErrorCode::unknown_member_id;
    case GroupState::preparing_rebalance:
      result = ErrorCode::rebalance_in_progress;
      break;
    case GroupState::completing_rebalance:
    case GroupState::stable:
      break;
  }
  refresh_session(member, now_ms);
  reschedule(request.group_id);
  return result;
}

LeaveResult GroupManager::leave_group(const std::string& group_id,
                                      const std::vector<LeaveMember>& leaving, int64_t now_ms) {
  last_now_ms_ = std::max(last_now_ms_, now_ms);
  LeaveResult result;
  if (is_loading(group_id)) {
    result.error = ErrorCode::coordinator_load_in_progress;
    return result;
  }
  Group* g = group(group_id);
  for (const LeaveMember& leaver : leaving) {
    if (g == nullptr) {
      result.member_errors.push_back(ErrorCode::unknown_member_id);
      continue;
    }
    std::string member_id = leaver.member_id;
    if (member_id.empty() && leaver.group_instance_id.has_value()) {
      std::optional<std::string> bound = g->static_member_id(*leaver.group_instance_id);
      if (!bound.has_value()) {
        result.member_errors.push_back(ErrorCode::unknown_member_id);
        continue;
      }
      member_id = *bound;
    } else if (g->is_static_member_fenced(member_id, leaver.group_instance_id)) {
      result.member_errors.push_back(ErrorCode::fenced_instance_id);
      continue;
    }
    if (g->is_pending(member_id)) {
      g->pending_members.erase(member_id);
      maybe_complete_join(*g, now_ms);
    } else if (g->has_member(member_id)) {
      remove_member_and_update(*g, member_id, now_ms);
    } else {
      result.member_errors.push_back(ErrorCode::unknown_member_id);
      continue;
    }
    result.member_errors.push_back(ErrorCode::none);
  }
  reschedule(group_id);
  return result;
}

void GroupManager::fail_waiting_requests(ErrorCode error) {
  std::vector<std::pair<JoinCallback, std::string>> joins;
  std::vector<SyncCallback> syncs;
  for (auto& [group_id, group] : groups_) {
    for (auto& [id, member] : group->members) {
      if (member.is_awaiting_join()) joins.emplace_back(std::move(member.awaiting_join), id);
      if (member.is_awaiting_sync()) syncs.push_back(std::move(member.awaiting_sync));
      member.awaiting_join = nullptr;
      member.awaiting_sync = nullptr;
    }
  }
  for (auto& [callback, member_id] : joins) callback(join_error(error, member_id));
  for (SyncCallback& callback : syncs) callback(sync_error(error));
}

// ---------------------------------------------------------------------------------------------
// Timers

std::optional<int64_t> GroupManager::earliest_deadline(const Group& g) const {
  std::optional<int64_t> earliest;
  auto consider = [&](int64_t deadline_ms) {
    if (!earliest.has_value() || deadline_ms < *earliest) earliest = deadline_ms;
  };
  if (g.is(GroupState::preparing_rebalance)) consider(g.join_deadline_ms);
  for (const auto& [id, member] : g.members) {
    if (member.session_applies()) consider(member.session_deadline_ms);
  }
  for (const auto& [id, deadline_ms] : g.pending_members) consider(deadline_ms);
  if (g.is_consumer_protocol()) {
    if (std::optional<int64_t> deadline_ms = g.consumer->next_deadline_ms()) consider(*deadline_ms);
  }
  return earliest;
}

void GroupManager::reschedule(const std::string& group_id) {
  Group* g = group(group_id);
  if (g == nullptr) return;
  if (g->scheduled_deadline_ms.has_value()) {
    deadlines_.erase({*g->scheduled_deadline_ms, group_id});
  }
  g->scheduled_deadline_ms = earliest_deadline(*g);
  if (g->scheduled_deadline_ms.has_value())
    deadlines_.insert({*g->scheduled_deadline_ms, group_id});
}

std::optional<int64_t> GroupManager::next_deadline_ms() const {
  if (deadlines_.empty()) return std::nullopt;
  return deadlines_.begin()->first;
}

void GroupManager::expire_members(Group& g, int64_t now_ms) {
  if (g.is_consumer_protocol()) {
    g.consumer->expire(now_ms);
    return sync_consumer_state(g, now_ms);
  }
  bool pending_expired = false;
  for (auto it = g.pending_members.begin(); it != g.pending_members.end();) {
    if (it->second <= now_ms) {
      it = g.pending_members.erase(it);
      pending_expired = true;
    } else {
      ++it;
    }
  }
  std::vector<std::string> expired;
  for (const auto& [id, member] : g.members) {
    if (member.session_applies() && member.session_deadline_ms <= now_ms) expired.push_back(id);
  }
  for (const std::string& id : expired) {
    if (g.has_member(id)) remove_member_and_update(g, id, now_ms);
  }
  if (pending_expired) maybe_complete_join(g, now_ms);
  if (g.is(GroupState::preparing_rebalance) && g.join_deadline_ms <= now_ms) {
    join_deadline_passed(g, now_ms);
  }
}

void GroupManager::advance(int64_t now_ms) {
  last_now_ms_ = std::max(last_now_ms_, now_ms);
  // Each round removes or pushes past `now_ms` every deadline it handles, so this ends; the
  // bound turns a bug into an assertion rather than a hung shard.
  for (size_t round = 0; !deadlines_.empty() && deadlines_.begin()->first <= now_ms; ++round) {
    ASSERT(round <= 4 * groups_.size() + 16);
    std::string group_id = deadlines_.begin()->second;
    deadlines_.erase(deadlines_.begin());
    Group* g = group(group_id);
    ASSERT(g != nullptr);
    g->scheduled_deadline_ms.reset();
    expire_members(*g, now_ms);
    reschedule(group_id);
    if (Group* after = group(group_id); after != nullptr && after->scheduled_deadline_ms) {
      ASSERT(*after->scheduled_deadline_ms > now_ms);
    }
  }
}

}  // namespace cairn::broker::groups
