#include "broker/groups/group.h"

#include <algorithm>
#include <array>

namespace cairn::broker::groups {

namespace {

constexpr std::array<std::pair<GroupState, const char*>, 5> kStateNames = {{
    {GroupState::empty, "Empty"},
    {GroupState::preparing_rebalance, "PreparingRebalance"},
    {GroupState::completing_rebalance, "CompletingRebalance"},
    {GroupState::stable, "Stable"},
    {GroupState::dead, "Dead"},
}};

bool transition_allowed(GroupState from, GroupState to) {
  switch (to) {
    case GroupState::empty:
      return from == GroupState::preparing_rebalance;
    case GroupState::preparing_rebalance:
      return from == GroupState::stable || from == GroupState::completing_rebalance ||
             from == GroupState::empty;
    case GroupState::completing_rebalance:
      return from == GroupState::preparing_rebalance;
    case GroupState::stable:
      return from == GroupState::completing_rebalance;
    case GroupState::dead:
      return true;
  }
  return false;
}

}  // namespace

const char* group_state_name(GroupState state) {
  for (const auto& [s, name] : kStateNames) {
    if (s == state) return name;
  }
  ASSERT(false);
  return "";
}

std::optional<GroupState> parse_group_state(std::string_view name) {
  for (const auto& [s, state_name] : kStateNames) {
    // Kafka matches ListGroups v4 state filters case-insensitively.
    if (name.size() == std::string_view(state_name).size() &&
        std::equal(name.begin(), name.end(), state_name, [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) ==
                 std::tolower(static_cast<unsigned char>(b));
        })) {
      return s;
    }
  }
  return std::nullopt;
}

const std::vector<uint8_t>& Member::metadata_for(const std::string& protocol) const {
  for (const Protocol& p : protocols) {
    if (p.name == protocol) return p.metadata;
  }
  ASSERT(false && "member does not support the protocol");
  return protocols.front().metadata;
}

bool Member::supports(const std::string& protocol) const {
  return std::any_of(protocols.begin(), protocols.end(),
                     [&](const Protocol& p) { return p.name == protocol; });
}

bool Group::is_static_member_fenced(const std::string& member_id,
                                    const std::optional<std::string>& instance_id) const {
  if (!instance_id.has_value()) return false;
  auto it = static_members.find(*instance_id);
  return it != static_members.end() && it->second != member_id;
}

std::optional<std::string> Group::static_member_id(const std::string& instance_id) const {
  auto it = static_members.find(instance_id);
  if (it == static_members.end()) return std::nullopt;
  return it->second;
}

int32_t Group::rebalance_timeout_ms() const {
  int32_t timeout_ms = 0;
  for (const auto& [id, member] : members) {
    timeout_ms = std::max(timeout_ms, member.rebalance_timeout_ms);
  }
  return timeout_ms;
}

bool Group::supports_protocols(const std::string& type,
                               const std::vector<Protocol>& protocols) const {
  if (members.empty()) return !type.empty() && !protocols.empty();
  if (type != protocol_type) return false;
  for (const Protocol& candidate : protocols) {
    bool everyone = std::all_of(members.begin(), members.end(), [&](const auto& entry) {
      return entry.second.supports(candidate.name);
    });
    if (everyone) return true;
  }
  return false;
}

std::string Group::select_protocol() const {
  ASSERT(!members.empty());
  // Candidates in the preference order of the first member, so ties break the same way on
  // every run. Each member votes for the first candidate in its own list.
  const Member& first = members.begin()->second;
  std::vector<std::string> candidates;
  for (const Protocol& p : first.protocols) {
    bool everyone = std::all_of(members.begin(), members.end(),
                                [&](const auto& entry) { return entry.second.supports(p.name); });
    if (everyone) candidates.push_back(p.name);
  }
  ASSERT(!candidates.empty());
  std::map<std::string, size_t> votes;
  for (const auto& [id, member] : members) {
    for (const Protocol& p : member.protocols) {
      if (std::find(candidates.begin(), candidates.end(), p.name) != candidates.end()) {
        ++votes[p.name];
        break;
      }
    }
  }
  std::string best = candidates.front();
  for (const std::string& candidate : candidates) {
    if (votes[candidate] > votes[best]) best = candidate;
  }
  return best;
}

bool Group::all_members_joined() const {
  if (!pending_members.empty()) return false;
  return std::all_of(members.begin(), members.end(),
                     [](const auto& entry) { return entry.second.is_awaiting_join(); });
}

Member& Group::add_member(Member member) {
  ASSERT(!member.member_id.empty());
  ASSERT(!members.contains(member.member_id));
  ASSERT(!member.protocols.empty());
  if (members.empty()) protocol_type = member.protocol_type;
  if (!leader_id.has_value()) leader_id = member.member_id;
  if (member.group_instance_id.has_value()) {
    static_members[*member.group_instance_id] = member.member_id;
  }
  std::string id = member.member_id;
  auto [it, inserted] = members.emplace(id, std::move(member));
  ASSERT(inserted);
  return it->second;
}

void Group::remove_member(const std::string& member_id) {
  auto it = members.find(member_id);
  ASSERT(it != members.end());
  if (it->second.group_instance_id.has_value()) {
    auto bound = static_members.find(*it->second.group_instance_id);
    if (bound != static_members.end() && bound->second == member_id) static_members.erase(bound);
  }
  members.erase(it);
  if (is_leader(member_id)) {
    leader_id.reset();
    if (!members.empty()) leader_id = members.begin()->first;
  }
}

Member& Group::replace_static_member(const std::string& instance_id,
                                     const std::string& old_member_id,
                                     const std::string& new_member_id) {
  auto it = members.find(old_member_id);
  ASSERT(it != members.end());
  ASSERT(!members.contains(new_member_id));
  ASSERT(static_member_id(instance_id) == old_member_id);
  Member member = std::move(it->second);
  members.erase(it);
  member.member_id = new_member_id;
  member.awaiting_join = nullptr;
  member.awaiting_sync = nullptr;
  static_members[instance_id] = new_member_id;
  if (is_leader(old_member_id)) leader_id = new_member_id;
  auto [inserted_it, inserted] = members.emplace(new_member_id, std::move(member));
  ASSERT(inserted);
  return inserted_it->second;
}

void Group::transition_to(GroupState next, int64_t now_ms) {
  ASSERT(transition_allowed(state, next));
  state = next;
  state_timestamp_ms = now_ms;
}

}  // namespace cairn::broker::groups
