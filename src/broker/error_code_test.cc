// kafka_error: every internal StatusCode has its Kafka error. Storage trouble of any kind is
// KAFKA_STORAGE_ERROR (clients retry it); only a bug is UNKNOWN_SERVER_ERROR.
#include "broker/error_code.h"

#include <gtest/gtest.h>

namespace cairn::broker {
namespace {

TEST(KafkaError, EveryStatusCodeHasItsKafkaError) {
  struct Case {
    StatusCode status;
    ErrorCode expected;
  };
  for (Case c : {Case{StatusCode::ok, ErrorCode::none},
                 Case{StatusCode::not_found, ErrorCode::unknown_topic_or_partition},
                 Case{StatusCode::out_of_range, ErrorCode::offset_out_of_range},
                 Case{StatusCode::already_exists, ErrorCode::topic_already_exists},
                 Case{StatusCode::invalid_argument, ErrorCode::invalid_request},
                 Case{StatusCode::too_large, ErrorCode::policy_violation},
                 Case{StatusCode::io_error, ErrorCode::kafka_storage_error},
                 Case{StatusCode::no_space, ErrorCode::kafka_storage_error},
                 Case{StatusCode::fenced, ErrorCode::kafka_storage_error},
                 Case{StatusCode::corrupt, ErrorCode::kafka_storage_error},
                 Case{StatusCode::shutting_down, ErrorCode::kafka_storage_error},
                 Case{StatusCode::unsupported, ErrorCode::kafka_storage_error},
                 Case{StatusCode::timed_out, ErrorCode::request_timed_out},
                 Case{StatusCode::internal, ErrorCode::unknown_server_error}}) {
    Status status = c.status == StatusCode::ok ? Status() : error(c.status, "x");
    EXPECT_EQ(kafka_error(status), c.expected) << status_code_name(c.status);
  }
}

}  // namespace
}  // namespace cairn::broker
