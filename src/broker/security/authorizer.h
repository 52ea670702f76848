// Authorizer: the ACLs (acl.h), kept durably in DATA_DIR/meta/acls.json (docs/format/meta.md),
// and the decision whether a principal may do an operation on a resource.
//
// The decision is Kafka's (docs/security.md):
//   1. a super user (super.users) may do everything;
//   2. the bindings that apply to the resource are its LITERAL name, the LITERAL wildcard "*"
//      and every PREFIXED name the resource's name starts with;
//   3. none apply: allow.everyone.if.no.acl.found decides;
//   4. a DENY for the principal (or User:*), the host (or *) and the operation (or ALL) wins;
//   5. else an ALLOW for the principal, host and operation allows; READ, WRITE, DELETE and
//      ALTER each imply DESCRIBE, ALTER_CONFIGS implies DESCRIBE_CONFIGS;
//   6. else denied.
// With authorizer.enabled false every check passes and the ACL APIs answer SECURITY_DISABLED.
//
// Checks read an immutable index through one atomic shared_ptr load, so they never wait for a
// change. A change (CreateAcls, DeleteAcls) rewrites the whole file with meta_file.h's
// replace-and-fsync before the new index is published: an acknowledged change survives kill
// -9, and no check ever sees an ACL a crash could take back.
//
// Thread safety: checks and list() from any thread; add() and remove() block for the fsync,
// so call them on the MetaWriter (meta_writer.h), never on a shard loop.
#pragma once

#include <atomic>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "broker/security/acl.h"
#include "broker/security/identity.h"
#include "storage/io.h"

namespace cairn::broker::security {

class Authorizer {
 public:
  struct Settings {
    bool enabled = false;
    std::vector<std::string> super_users;  // "User:admin"
    bool allow_everyone_if_no_acl_found = false;
  };
  // The most ACLs one broker keeps: CreateAcls beyond it fails (INVALID_REQUEST).
  static constexpr size_t kAclsMax = 100'000;

  // Reads `meta_dir`/acls.json (absent: no ACLs). corrupt if it does not parse.
  static Result<std::unique_ptr<Authorizer>> open(const std::filesystem::path& meta_dir,
                                                  storage::Io& io, Settings settings);
  ~Authorizer();

  bool enabled() const { return settings_.enabled; }
  bool is_super_user(std::string_view principal) const;

  // The decision above for `who` (principal and host).
  bool allowed(const SessionIdentity& who, AclOperation operation, AclResourceType type,
               std::string_view name) const;
  // Whether some resource of `type` allows `operation` to `who` (Kafka's default
  // authorizeByResourceType): allowed() on a made-up name first (super users, open worlds);
  // then a matching wildcard DENY refuses, a wildcard ALLOW allows, and otherwise an ALLOW
  // that no DENY of the same literal name or of a prefix of its name covers allows.
  bool allowed_on_some(const SessionIdentity& who, AclOperation operation,
                       AclResourceType type) const;
  // Kafka's authorized-operations bit field (bit N set: operation code N allowed) over the
  // operations that apply to `type`, for Metadata and the Describe APIs.
  int32_t authorized_operations(const SessionIdentity& who, AclResourceType type,
                                std::string_view name) const;

  // The bindings `filter` matches, in a stable order.
  std::vector<AclBinding> list(const AclFilter& filter) const;
  size_t size() const;

  // Adds `bindings` (each passed check_acl_binding; one already present stays once) and
  // persists the result; on an error nothing changes.
  Status add(const std::vector<AclBinding>& bindings);
  // Removes every binding a filter matches and persists the result; returns, per filter, what
  // it removed (a binding two filters match is reported by each, as Kafka does). On an error
  // nothing changes.
  Result<std::vector<std::vector<AclBinding>>> remove(const std::vector<AclFilter>& filters);

 private:
  struct Index;
  Authorizer(storage::Io& io, std::filesystem::path path, Settings settings,
             std::shared_ptr<const Index> index);
  Status publish(std::vector<AclBinding> bindings);

  storage::Io& io_;
  const std::filesystem::path path_;
  const Settings settings_;
  std::mutex write_mu_;  // one change at a time
  std::atomic<std::shared_ptr<const Index>> index_;
};

// Every operation that applies to `type`, as an authorized-operations bit field.
int32_t all_operations(AclResourceType type);

// The JSON text of the file, and back (exposed for tests).
std::string encode_acls(const std::vector<AclBinding>& bindings);
Result<std::vector<AclBinding>> decode_acls(std::string_view text);

}  // namespace cairn::broker::security
