// `cairn user create|delete|list`: SCRAM users, like rpk's `rpk acl user` and Kafka's
// `kafka-configs.sh --entity-type users`, over DescribeUserScramCredentials and
// AlterUserScramCredentials (client/wire.h: librdkafka 2.0 has no API for them). The password
// never leaves this process: the salt and SaltedPassword are computed here, as Kafka's admin
// client does.
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <cstdlib>
#include <memory>

#include "client/wire.h"
#include "main/cli_common.h"
#include "main/cli_output.h"
#include "protocol/generated/alter_user_scram_credentials.h"
#include "protocol/generated/describe_user_scram_credentials.h"
#include "protocol/scram.h"

namespace cairn::cli {

namespace {

using client::WireConnection;
using scram::ScramMechanism;

Result<ScramMechanism> mechanism_of(const std::string& name) {
  auto mechanism = scram::parse_scram_mechanism(name);
  if (!mechanism) {
    return error(StatusCode::invalid_argument,
                 "--mechanism must be SCRAM-SHA-256 or SCRAM-SHA-512, not " + name);
  }
  return *mechanism;
}

Status alter(WireConnection& connection,
             const protocol::AlterUserScramCredentialsRequest& request) {
  auto answer = connection.call<protocol::AlterUserScramCredentialsResponse>(request);
  if (!answer.ok()) return answer.status();
  for (const auto& result : answer->results) {
    if (result.error_code == 0) continue;
    return error(
        StatusCode::invalid_argument,
        fmt::format("user {}: {} ({})", result.user, result.error_message.value_or("refused"),
                    client::wire_error(result.error_code, "error").message()));
  }
  return Status::ok_status();
}

using DescribeResult =
    protocol::DescribeUserScramCredentialsResponse::DescribeUserScramCredentialsResult;

Result<std::vector<DescribeResult>> describe(WireConnection& connection,
                                             std::optional<std::string> user) {
  protocol::DescribeUserScramCredentialsRequest request;
  if (user)
    request.users = std::vector<protocol::DescribeUserScramCredentialsRequest::UserName>{{*user}};
  auto answer = connection.call<protocol::DescribeUserScramCredentialsResponse>(request);
  if (!answer.ok()) return answer.status();
  RETURN_IF_ERROR(client::wire_error(answer->error_code, "describing users"));
  return std::move(answer->results);
}

struct CreateFlags {
  ConnectionFlags connection;
  std::string user;
  std::string password;
  std::string mechanism = "SCRAM-SHA-256";
  int32_t iterations = 4096;
};

Status run_create(const CreateFlags& flags) {
  auto mechanism = mechanism_of(flags.mechanism);
  if (!mechanism.ok()) return mechanism.status();
  std::string password = flags.password;
  if (password.empty()) {
    const char* env = std::getenv("CAIRN_USER_PASSWORD");
    if (env == nullptr || *env == '\0') {
      return error(StatusCode::invalid_argument, "give --password or $CAIRN_USER_PASSWORD");
    }
    password = env;
  }
  auto connected = connect_first_broker(flags.connection);
  if (!connected.ok()) return connected.status();
  protocol::AlterUserScramCredentialsRequest request;
  protocol::AlterUserScramCredentialsRequest::ScramCredentialUpsertion upsert;
  upsert.name = flags.user;
  upsert.mechanism = scram::scram_mechanism_type(*mechanism);
  upsert.iterations = flags.iterations;
  upsert.salt = scram::random_bytes(32);
  upsert.salted_password =
      scram::scram_salted_password(*mechanism, password, upsert.salt, flags.iterations);
  request.upsertions.push_back(std::move(upsert));
  RETURN_IF_ERROR(alter(*connected->connection, request));
  fmt::print("user {} ({}, {} iterations) set\n", flags.user, flags.mechanism, flags.iterations);
  return Status::ok_status();
}

struct DeleteFlags {
  ConnectionFlags connection;
  std::string user;
  std::string mechanism;  // empty: every mechanism the user has
};

Status run_delete(const DeleteFlags& flags) {
  auto connected = connect_first_broker(flags.connection);
  if (!connected.ok()) return connected.status();
  protocol::AlterUserScramCredentialsRequest request;
  if (!flags.mechanism.empty()) {
    auto mechanism = mechanism_of(flags.mechanism);
    if (!mechanism.ok()) return mechanism.status();
    request.deletions.push_back({flags.user, scram::scram_mechanism_type(*mechanism)});
  } else {
    auto described = describe(*connected->connection, flags.user);
    if (!described.ok()) return described.status();
    for (const auto& result : *described) {
      if (result.error_code != 0) {
        return error(StatusCode::not_found, fmt::format("user {} does not exist", flags.user));
      }
      for (const auto& info : result.credential_infos) {
        request.deletions.push_back({flags.user, info.mechanism});
      }
    }
  }
  RETURN_IF_ERROR(alter(*connected->connection, request));
  fmt::print("user {} deleted\n", flags.user);
  return Status::ok_status();
}

struct ListFlags {
  ConnectionFlags connection;
  std::string format = "text";
};

Status run_list(const ListFlags& flags) {
  auto connected = connect_first_broker(flags.connection);
  if (!connected.ok()) return connected.status();
  auto described = describe(*connected->connection, std::nullopt);
  if (!described.ok()) return described.status();
  std::vector<std::vector<std::string>> rows{{"USER", "MECHANISM", "ITERATIONS"}};
  Document document = Document::array();
  for (const auto& result : *described) {
    for (const auto& info : result.credential_infos) {
      auto mechanism = scram::scram_mechanism_from_type(info.mechanism);
      std::string name = mechanism ? std::string(scram::scram_mechanism_name(*mechanism))
                                   : std::to_string(info.mechanism);
      rows.push_back({result.user, name, std::to_string(info.iterations)});
      document.push_back(
          {{"user", result.user}, {"mechanism", name}, {"iterations", info.iterations}});
    }
  }
  if (flags.format == "text") {
    print_table(rows);
  } else {
    print_document(document, flags.format);
  }
  return Status::ok_status();
}

}  // namespace

void add_user_commands(CLI::App& app) {
  CLI::App* user = app.add_subcommand("user", "Create, delete and list SCRAM users");
  user->require_subcommand(1);

  auto create_flags = std::make_shared<CreateFlags>();
  CLI::App* create =
      user->add_subcommand("create", "Create a user, or set a new password for a mechanism");
  create->add_option("user", create_flags->user, "User name")->required();
  create->add_option("--password", create_flags->password,
                     "The password (else $CAIRN_USER_PASSWORD)");
  create->add_option("--mechanism", create_flags->mechanism, "SCRAM-SHA-256 or SCRAM-SHA-512")
      ->capture_default_str();
  create->add_option("--iterations", create_flags->iterations, "PBKDF2 iterations")
      ->capture_default_str()
      ->check(CLI::Range(4096, 16384));
  add_connection_flags(create, create_flags->connection);
  create->callback([create_flags]() { run_command([&]() { return run_create(*create_flags); }); });

  auto delete_flags = std::make_shared<DeleteFlags>();
  CLI::App* remove = user->add_subcommand("delete", "Delete a user's credentials");
  remove->add_option("user", delete_flags->user, "User name")->required();
  remove->add_option("--mechanism", delete_flags->mechanism,
                     "Only this mechanism's credential (default: all of them)");
  add_connection_flags(remove, delete_flags->connection);
  remove->callback([delete_flags]() { run_command([&]() { return run_delete(*delete_flags); }); });

  auto list_flags = std::make_shared<ListFlags>();
  CLI::App* list = user->add_subcommand("list", "List users and their mechanisms");
  list->alias("ls");
  add_format_flag(list, list_flags->format);
  add_connection_flags(list, list_flags->connection);
  list->callback([list_flags]() { run_command([&]() { return run_list(*list_flags); }); });
}

}  // namespace cairn::cli
