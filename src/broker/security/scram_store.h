// ScramStore: the SCRAM credentials of every user, kept durably in DATA_DIR/meta/scram.json
// (format: docs/format/meta.md) and in memory for the logins.
//
// A change (AlterUserScramCredentials, `cairn user`, the bootstrap user) rewrites the whole
// file with meta_file.h's replace-and-fsync before it becomes visible, so a login never
// succeeds with a credential a crash could take back, and an acknowledged change survives
// kill -9. The file holds salts, iteration counts and the derived StoredKey / ServerKey, never
// a password or a SaltedPassword.
//
// Thread safety: lookups from any thread (a shared lock); apply() blocks for the fsync, so
// call it on the MetaWriter (meta_writer.h), never on a shard loop.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <vector>

#include "base/status.h"
#include "protocol/scram.h"
#include "storage/io.h"

namespace cairn::broker::security {

// SCRAM's arithmetic lives in protocol/scram.h (the CLI's wire client uses it too).
using scram::base64_decode;
using scram::base64_encode;
using scram::Bytes;
using scram::kScramIterationsMax;
using scram::kScramIterationsMin;
using scram::parse_scram_mechanism;
using scram::random_bytes;
using scram::scram_credential;
using scram::scram_credential_from_salted;
using scram::scram_mechanism_from_type;
using scram::scram_mechanism_name;
using scram::scram_mechanism_type;
using scram::scram_password_matches;
using scram::scram_salted_password;
using scram::ScramClient;
using scram::ScramCredential;
using scram::ScramLookup;
using scram::ScramMechanism;
using scram::ScramServer;

class ScramStore {
 public:
  struct Change {
    std::string user;
    ScramMechanism mechanism = ScramMechanism::sha256;
    std::optional<ScramCredential> credential;  // nullopt: delete the user's credential
  };
  struct UserCredentials {
    std::string user;
    std::vector<std::pair<ScramMechanism, int32_t>> mechanisms;  // with their iterations
  };

  // Reads `meta_dir`/scram.json (absent: no users). corrupt if it does not parse.
  static Result<std::unique_ptr<ScramStore>> open(const std::filesystem::path& meta_dir,
                                                  storage::Io& io);

  std::optional<ScramCredential> lookup(const std::string& user, ScramMechanism mechanism) const;
  // Every user with at least one credential, by name.
  std::vector<UserCredentials> list() const;
  size_t user_count() const;

  // Applies `changes` in order and persists the result; on an error nothing changes. A
  // deletion of a credential that does not exist is not an error here (callers check first).
  Status apply(const std::vector<Change>& changes);

 private:
  using Users = std::map<std::string, std::map<ScramMechanism, ScramCredential>>;
  ScramStore(storage::Io& io, std::filesystem::path path, Users users)
      : io_(io), path_(std::move(path)), users_(std::move(users)) {}

  storage::Io& io_;
  const std::filesystem::path path_;
  std::mutex write_mu_;  // one apply() at a time
  mutable std::shared_mutex mu_;
  Users users_;
};

// The JSON text of the file, and back (exposed for tests).
std::string encode_scram_users(
    const std::map<std::string, std::map<ScramMechanism, ScramCredential>>& users);
Result<std::map<std::string, std::map<ScramMechanism, ScramCredential>>> decode_scram_users(
    std::string_view text);

}  // namespace cairn::broker::security
