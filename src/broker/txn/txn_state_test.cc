#include "broker/txn/txn_state.h"

#include <gtest/gtest.h>

namespace cairn::broker::txn {
namespace {

TxnMetadata sample() {
  TxnMetadata m;
  m.transactional_id = "ledger-1";
  m.producer_id = ProducerId(4001);
  m.epoch = ProducerEpoch(7);
  m.timeout_ms = 60'000;
  m.state = TxnState::ongoing;
  m.partitions = {{"payments", 0}, {"payments", 3}, {"__consumer_offsets", 11}};
  m.last_update_ms = 1'700'000'000'123;
  m.start_ms = 1'700'000'000'000;
  return m;
}

void expect_same(const TxnMetadata& a, const TxnMetadata& b) {
  EXPECT_EQ(a.transactional_id, b.transactional_id);
  EXPECT_EQ(a.producer_id, b.producer_id);
  EXPECT_EQ(a.epoch, b.epoch);
  EXPECT_EQ(a.timeout_ms, b.timeout_ms);
  EXPECT_EQ(a.state, b.state);
  EXPECT_EQ(a.partitions, b.partitions);
  EXPECT_EQ(a.last_update_ms, b.last_update_ms);
  EXPECT_EQ(a.start_ms, b.start_ms);
}

TEST(TxnState, KeyAndValueRoundTrip) {
  TxnMetadata m = sample();
  std::vector<uint8_t> key = encode_txn_key(m.transactional_id);
  EXPECT_EQ(decode_txn_key(key).value(), "ledger-1");
  Result<TxnMetadata> decoded = decode_txn_value("ledger-1", encode_txn_value(m));
  ASSERT_TRUE(decoded.ok()) << decoded.status().to_string();
  expect_same(*decoded, m);
}

TEST(TxnState, KafkaLayoutOfTheValue) {
  // Version 0 as Kafka's TransactionLogValue writes it: big-endian fields, topics grouped.
  TxnMetadata m;
  m.producer_id = ProducerId(1);
  m.epoch = ProducerEpoch(2);
  m.timeout_ms = 3;
  m.state = TxnState::prepare_commit;
  m.partitions = {{"t", 5}};
  m.last_update_ms = 6;
  m.start_ms = 7;
  std::vector<uint8_t> expected = {0, 0,                       // version
                                   0, 0, 0, 0, 0, 0, 0,   1,   // producer id
                                   0, 2,                       // epoch
                                   0, 0, 0, 3,                 // timeout
                                   2,                          // PrepareCommit
                                   0, 0, 0, 1, 0, 1, 't',      // one topic "t"
                                   0, 0, 0, 1, 0, 0, 0,   5,   // partitions [5]
                                   0, 0, 0, 0, 0, 0, 0,   6,   // last update
                                   0, 0, 0, 0, 0, 0, 0,   7};  // start
  EXPECT_EQ(encode_txn_value(m), expected);
}

TEST(TxnState, DamagedBytesAreErrorsNotCrashes) {
  std::vector<uint8_t> value = encode_txn_value(sample());
  for (size_t cut = 0; cut < value.size(); cut++) {
    std::vector<uint8_t> part(value.begin(), value.begin() + static_cast<ptrdiff_t>(cut));
    EXPECT_FALSE(decode_txn_value("x", part).ok()) << "cut at " << cut;
  }
  std::vector<uint8_t> bad_state = value;
  bad_state[16] = 9;
  EXPECT_FALSE(decode_txn_value("x", bad_state).ok());
  std::vector<uint8_t> future = value;
  future[1] = 5;
  EXPECT_EQ(decode_txn_value("x", future).status().code(), StatusCode::unsupported);
  EXPECT_FALSE(decode_txn_key(std::vector<uint8_t>{0, 0, 0, 9, 'a'}).ok());
}

TEST(TxnState, StateNamesAreKafkas) {
  EXPECT_STREQ(state_name(TxnState::prepare_epoch_fence), "PrepareEpochFence");
  EXPECT_STREQ(state_name(TxnState::complete_abort), "CompleteAbort");
}

}  // namespace
}  // namespace cairn::broker::txn
