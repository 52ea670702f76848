// DescribeUserScramCredentials (key 50) and AlterUserScramCredentials (key 51): the SCRAM
// users (security/scram_store.h), as Kafka's tools and admin clients manage them.
//
// Describe: no users (or null) lists every user; a user named twice is DUPLICATE_RESOURCE, one
// without credentials RESOURCE_NOT_FOUND. Alter: upsertions carry the salt and SaltedPassword
// the client computed, of which only StoredKey and ServerKey are kept. Checked per user as
// Kafka does: a user altered twice for one mechanism is DUPLICATE_RESOURCE, an empty name or
// iterations outside [4096, 16384], a name or salt over 1 KiB UNACCEPTABLE_CREDENTIAL, an unknown
// mechanism UNSUPPORTED_SASL_MECHANISM, deleting a credential that does not exist
// RESOURCE_NOT_FOUND; a user with any error gets none of its changes, the others are applied
// together and made durable (MetaWriter, fsync) before the answer.
//
// Authorization: DESCRIBE / ALTER on the CLUSTER, as Kafka asks (CLUSTER_AUTHORIZATION_FAILED:
// top level for Describe, every user for Alter); with authorizer.enabled false every client
// that reached the broker (and logged in, on SASL listeners) may do both.
#include <map>
#include <set>

#include "broker/error_code.h"
#include "broker/handlers/handlers.h"
#include "broker/meta_writer.h"
#include "broker/security/scram_store.h"
#include "protocol/generated/alter_user_scram_credentials.h"
#include "protocol/generated/describe_user_scram_credentials.h"

namespace cairn::broker {

namespace {

using protocol::AlterUserScramCredentialsRequest;
using protocol::AlterUserScramCredentialsResponse;
using protocol::DescribeUserScramCredentialsRequest;
using protocol::DescribeUserScramCredentialsResponse;
using security::ScramMechanism;
using security::ScramStore;

// Bounds that keep one request from bloating scram.json (and every server-first message).
constexpr size_t kUserNameBytesMax = 1024;
constexpr size_t kSaltBytesMax = 1024;

struct UserError {
  ErrorCode code = ErrorCode::none;
  std::string message;
};

void fail(std::map<std::string, UserError>& errors, const std::string& user, ErrorCode code,
          std::string message) {
  UserError& e = errors[user];
  if (e.code == ErrorCode::none) e = UserError{code, std::move(message)};
}

// Checks one change; records the first error of its user.
void check_change(const std::string& user, int8_t type,
                  std::set<std::pair<std::string, int8_t>>& seen,
                  std::map<std::string, UserError>& errors) {
  errors.try_emplace(user);
  if (user.empty()) fail(errors, user, ErrorCode::unacceptable_credential, "empty user name");
  if (user.size() > kUserNameBytesMax) {
    fail(errors, user, ErrorCode::unacceptable_credential,
         "user name longer than " + std::to_string(kUserNameBytesMax) + " bytes");
  }
  if (!security::scram_mechanism_from_type(type)) {
    fail(errors, user, ErrorCode::unsupported_sasl_mechanism, "unknown SCRAM mechanism");
  }
  if (!seen.emplace(user, type).second) {
    fail(errors, user, ErrorCode::duplicate_resource,
         "a user credential cannot be altered twice in one request");
  }
}

std::map<std::string, UserError> check_alter(const AlterUserScramCredentialsRequest& request,
                                             const ScramStore& store) {
  std::map<std::string, UserError> errors;
  std::set<std::pair<std::string, int8_t>> seen;
  for (const auto& d : request.deletions) {
    check_change(d.name, d.mechanism, seen, errors);
    auto mechanism = security::scram_mechanism_from_type(d.mechanism);
    if (mechanism && !store.lookup(d.name, *mechanism)) {
      fail(errors, d.name, ErrorCode::resource_not_found,
           "attempt to delete a user credential that does not exist");
    }
  }
  for (const auto& u : request.upsertions) {
    check_change(u.name, u.mechanism, seen, errors);
    if (u.iterations < security::kScramIterationsMin) {
      fail(errors, u.name, ErrorCode::unacceptable_credential,
           "too few iterations (at least " + std::to_string(security::kScramIterationsMin) + ")");
    } else if (u.iterations > security::kScramIterationsMax) {
      fail(errors, u.name, ErrorCode::unacceptable_credential,
           "too many iterations (at most " + std::to_string(security::kScramIterationsMax) + ")");
    }
    auto mechanism = security::scram_mechanism_from_type(u.mechanism);
    size_t digest_bytes = mechanism == ScramMechanism::sha256 ? 32 : 64;
    if (mechanism && (u.salt.empty() || u.salt.size() > kSaltBytesMax ||
                      u.salted_password.size() != digest_bytes)) {
      fail(errors, u.name, ErrorCode::unacceptable_credential,
           "salt empty or over " + std::to_string(kSaltBytesMax) +
               " bytes, or salted password of the wrong length");
    }
  }
  return errors;
}

std::vector<ScramStore::Change> changes_without_errors(
    const AlterUserScramCredentialsRequest& request,
    const std::map<std::string, UserError>& errors) {
  std::vector<ScramStore::Change> changes;
  for (const auto& d : request.deletions) {
    if (errors.at(d.name).code != ErrorCode::none) continue;
    changes.push_back({d.name, *security::scram_mechanism_from_type(d.mechanism), std::nullopt});
  }
  for (const auto& u : request.upsertions) {
    if (errors.at(u.name).code != ErrorCode::none) continue;
    ScramMechanism mechanism = *security::scram_mechanism_from_type(u.mechanism);
    changes.push_back({u.name, mechanism,
                       security::scram_credential_from_salted(mechanism, u.salt, u.iterations,
                                                              u.salted_password)});
  }
  return changes;
}

DescribeUserScramCredentialsResponse::DescribeUserScramCredentialsResult describe_one(
    const std::string& user, const std::vector<ScramStore::UserCredentials>& all) {
  DescribeUserScramCredentialsResponse::DescribeUserScramCredentialsResult result;
  result.user = user;
  result.error_message = std::nullopt;
  for (const auto& entry : all) {
    if (entry.user != user) continue;
    for (const auto& [mechanism, iterations] : entry.mechanisms) {
      result.credential_infos.push_back({security::scram_mechanism_type(mechanism), iterations});
    }
  }
  if (result.credential_infos.empty()) {
    result.error_code = wire(ErrorCode::resource_not_found);
    result.error_message = "attempt to describe a user credential that does not exist";
  }
  return result;
}

}  // namespace

asio::awaitable<net::Reply> handle_describe_user_scram_credentials(RequestContext ctx) {
  DescribeUserScramCredentialsRequest request;
  if (!ctx.decode(request)) co_return net::Reply::close();
  DescribeUserScramCredentialsResponse response;
  response.error_message = std::nullopt;
  if (!ctx.allowed_on_cluster(AclOperation::describe)) {
    response.error_code = wire(ErrorCode::cluster_authorization_failed);
    response.error_message = "not authorized to describe the cluster's users";
    co_return respond(ctx, response);
  }
  std::vector<ScramStore::UserCredentials> all = ctx.broker->scram->list();
  if (!request.users || request.users->empty()) {
    for (const auto& entry : all) response.results.push_back(describe_one(entry.user, all));
    co_return respond(ctx, response);
  }
  std::map<std::string, int> named;
  for (const auto& u : *request.users) named[u.name]++;
  std::set<std::string> answered;
  for (const auto& u : *request.users) {
    if (!answered.insert(u.name).second) continue;
    if (named[u.name] > 1) {
      DescribeUserScramCredentialsResponse::DescribeUserScramCredentialsResult duplicate;
      duplicate.user = u.name;
      duplicate.error_code = wire(ErrorCode::duplicate_resource);
      duplicate.error_message = "cannot describe the same user twice in one request";
      response.results.push_back(std::move(duplicate));
      continue;
    }
    response.results.push_back(describe_one(u.name, all));
  }
  co_return respond(ctx, response);
}

asio::awaitable<net::Reply> handle_alter_user_scram_credentials(RequestContext ctx) {
  AlterUserScramCredentialsRequest request;
  if (!ctx.decode(request)) co_return net::Reply::close();
  ScramStore& store = *ctx.broker->scram;
  std::map<std::string, UserError> errors = check_alter(request, store);
  if (!ctx.allowed_on_cluster(AclOperation::alter)) {  // every user refused, nothing changed
    for (auto& [user, e] : errors) {
      e = UserError{ErrorCode::cluster_authorization_failed,
                    "not authorized to alter the cluster's users"};
    }
  }
  std::vector<ScramStore::Change> changes = changes_without_errors(request, errors);
  if (!changes.empty()) {
    Status applied = co_await ctx.broker->meta_writer->run([&] { return store.apply(changes); });
    if (!applied.ok()) {
      for (const auto& change : changes) {
        fail(errors, change.user, ErrorCode::unknown_server_error,
             "credentials not stored: " + applied.message());
      }
    }
  }
  AlterUserScramCredentialsResponse response;
  for (const auto& [user, e] : errors) {
    AlterUserScramCredentialsResponse::AlterUserScramCredentialsResult result;
    result.user = user;
    result.error_code = wire(e.code);
    if (e.code == ErrorCode::none) {
      result.error_message = std::nullopt;
    } else {
      result.error_message = e.message;
    }
    response.results.push_back(std::move(result));
  }
  co_return respond(ctx, response);
}

}  // namespace cairn::broker
