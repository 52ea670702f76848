#include "broker/producers/producer_state.h"

#include <gtest/gtest.h>

#include <limits>

namespace cairn::broker::producers {
namespace {

ProducerBatch batch(int64_t id, int16_t epoch, int32_t first, int32_t count, int64_t offset) {
  ProducerBatch b;
  b.producer_id = ProducerId(id);
  b.epoch = ProducerEpoch(epoch);
  b.first_sequence = Sequence(first);
  b.last_sequence = last_sequence_of(Sequence(first), count - 1);
  b.first_offset = Offset(offset);
  b.last_offset = Offset(offset + count - 1);
  b.max_timestamp = TimestampMs(1000);
  return b;
}

TEST(ProducerStateTable, UnknownProducerTakesAnySequence) {
  ProducerStateTable table;
  EXPECT_EQ(table.check(batch(7, 0, 42, 3, 0)).verdict, SequenceVerdict::append);
}

TEST(ProducerStateTable, NextSequenceIsAppended) {
  ProducerStateTable table;
  table.record(batch(7, 0, 0, 3, 0));
  EXPECT_EQ(table.check(batch(7, 0, 3, 2, 3)).verdict, SequenceVerdict::append);
}

TEST(ProducerStateTable, ResentBatchIsDuplicateWithOriginalOffsets) {
  ProducerStateTable table;
  table.record(batch(7, 0, 0, 3, 10));
  table.record(batch(7, 0, 3, 2, 13));
  SequenceCheck check = table.check(batch(7, 0, 0, 3, -1));
  EXPECT_EQ(check.verdict, SequenceVerdict::duplicate);
  EXPECT_EQ(check.original.first_offset, Offset(10));
  EXPECT_EQ(check.original.last_offset, Offset(12));
}

TEST(ProducerStateTable, OnlyTheLastFiveBatchesAreRemembered) {
  ProducerStateTable table;
  for (int i = 0; i < 6; i++) table.record(batch(7, 0, i, 1, i));
  EXPECT_EQ(table.check(batch(7, 0, 0, 1, -1)).verdict, SequenceVerdict::out_of_order);
  EXPECT_EQ(table.check(batch(7, 0, 1, 1, -1)).verdict, SequenceVerdict::duplicate);
}

TEST(ProducerStateTable, GapIsOutOfOrder) {
  ProducerStateTable table;
  table.record(batch(7, 0, 0, 5, 0));
  EXPECT_EQ(table.check(batch(7, 0, 10, 1, -1)).verdict, SequenceVerdict::out_of_order);
}

TEST(ProducerStateTable, OlderEpochIsInvalid) {
  ProducerStateTable table;
  table.record(batch(7, 3, 0, 1, 0));
  EXPECT_EQ(table.check(batch(7, 2, 1, 1, -1)).verdict, SequenceVerdict::invalid_epoch);
}

TEST(ProducerStateTable, NewEpochMustStartAtZero) {
  ProducerStateTable table;
  table.record(batch(7, 0, 0, 5, 0));
  EXPECT_EQ(table.check(batch(7, 1, 5, 1, -1)).verdict, SequenceVerdict::out_of_order);
  EXPECT_EQ(table.check(batch(7, 1, 0, 1, -1)).verdict, SequenceVerdict::append);
  table.record(batch(7, 1, 0, 1, 5));
  EXPECT_EQ(table.check(batch(7, 0, 5, 1, -1)).verdict, SequenceVerdict::invalid_epoch);
}

TEST(ProducerStateTable, SequenceWrapsPastInt32Max) {
  constexpr int32_t kMax = std::numeric_limits<int32_t>::max();
  EXPECT_EQ(last_sequence_of(Sequence(kMax - 1), 2), Sequence(0));
  ProducerStateTable table;
  table.record(batch(7, 0, kMax - 1, 3, 0));  // sequences kMax-1, kMax, 0
  EXPECT_EQ(table.check(batch(7, 0, 1, 1, -1)).verdict, SequenceVerdict::append);
}

TEST(ProducerStateTable, ForgetBelowDropsProducersWhoseBatchesAreGone) {
  ProducerStateTable table;
  table.record(batch(1, 0, 0, 1, 0));
  table.record(batch(2, 0, 0, 1, 5));
  table.forget_below(Offset(3));
  EXPECT_EQ(table.find(ProducerId(1)), nullptr);
  EXPECT_NE(table.find(ProducerId(2)), nullptr);
}

TEST(ProducerStateTable, SnapshotRoundTrips) {
  ProducerStateTable table;
  for (int i = 0; i < 8; i++) table.record(batch(3, 1, i * 2, 2, 100 + i * 2));
  table.record(batch(9, 0, 0, 1, 200));
  std::vector<uint8_t> bytes = table.encode(Offset(201));
  ProducerStateTable decoded;
  Result<Offset> valid = decoded.decode(bytes);
  ASSERT_TRUE(valid.ok()) << valid.status().to_string();
  EXPECT_EQ(*valid, Offset(201));
  ASSERT_EQ(decoded.size(), 2u);
  EXPECT_EQ(decoded.find(ProducerId(3))->batches.size(), kBatchesPerProducer);
  EXPECT_EQ(decoded.check(batch(3, 1, 14, 2, -1)).verdict, SequenceVerdict::duplicate);
  EXPECT_EQ(decoded.check(batch(3, 1, 16, 1, -1)).verdict, SequenceVerdict::append);
}

TEST(ProducerStateTable, CorruptSnapshotIsRefused) {
  ProducerStateTable table;
  table.record(batch(3, 1, 0, 2, 0));
  std::vector<uint8_t> bytes = table.encode(Offset(2));
  for (size_t i = 0; i < bytes.size(); i++) {
    std::vector<uint8_t> damaged = bytes;
    damaged[i] ^= 0x40;
    ProducerStateTable decoded;
    EXPECT_FALSE(decoded.decode(damaged).ok()) << "byte " << i;
  }
  ProducerStateTable decoded;
  EXPECT_FALSE(decoded.decode(std::span(bytes).first(bytes.size() - 1)).ok());
}

TEST(ProducerStateTable, EvictsLeastRecentlyUsedPastTheBound) {
  ProducerStateTable table;
  for (size_t i = 0; i <= kProducersPerPartitionMax; i++) {
    table.record(batch(static_cast<int64_t>(i), 0, 0, 1, static_cast<int64_t>(i)));
  }
  EXPECT_EQ(table.size(), kProducersPerPartitionMax);
  EXPECT_EQ(table.find(ProducerId(0)), nullptr);
  EXPECT_NE(table.find(ProducerId(1)), nullptr);
}


ProducerBatch txn(int64_t id, int16_t epoch, int32_t first, int32_t count, int64_t offset) {
  ProducerBatch b = batch(id, epoch, first, count, offset);
  b.transactional = true;
  return b;
}

TEST(ProducerStateTable, TransactionalBatchNeedsThePartitionInTheTransaction) {
  ProducerStateTable table;
  EXPECT_EQ(table.check(txn(7, 0, 0, 1, -1)).verdict, SequenceVerdict::invalid_txn_state);
  table.allow_transaction(ProducerId(7), ProducerEpoch(1));  // another epoch
  EXPECT_EQ(table.check(txn(7, 0, 0, 1, -1)).verdict, SequenceVerdict::invalid_txn_state);
  table.allow_transaction(ProducerId(7), ProducerEpoch(0));
  EXPECT_EQ(table.check(txn(7, 0, 0, 1, -1)).verdict, SequenceVerdict::append);
  table.record(txn(7, 0, 0, 1, 5));
  // While it is open: more transactional batches go on; a plain batch is refused.
  EXPECT_EQ(table.check(txn(7, 0, 1, 1, -1)).verdict, SequenceVerdict::append);
  EXPECT_EQ(table.check(batch(7, 0, 1, 1, -1)).verdict, SequenceVerdict::invalid_txn_state);
  table.complete_transaction(ProducerId(7), ProducerEpoch(0), true, Offset(6));
  // After the marker the partition must be added again.
  EXPECT_EQ(table.check(txn(7, 0, 1, 1, -1)).verdict, SequenceVerdict::invalid_txn_state);
  EXPECT_EQ(table.check(batch(7, 0, 1, 1, -1)).verdict, SequenceVerdict::append);
}

TEST(ProducerStateTable, LastStableOffsetIsTheFirstOpenTransaction) {
  ProducerStateTable table;
  EXPECT_EQ(table.last_stable_offset(Offset(10)), Offset(10));
  table.allow_transaction(ProducerId(1), ProducerEpoch(0));
  table.allow_transaction(ProducerId(2), ProducerEpoch(0));
  table.record(txn(1, 0, 0, 2, 10));
  table.record(batch(3, 0, 0, 2, 12));
  table.record(txn(2, 0, 0, 1, 14));
  table.record(txn(1, 0, 2, 1, 15));
  EXPECT_EQ(table.last_stable_offset(Offset(16)), Offset(10));
  EXPECT_EQ(table.open_transactions(), 2u);
  table.complete_transaction(ProducerId(1), ProducerEpoch(0), true, Offset(16));
  EXPECT_EQ(table.last_stable_offset(Offset(17)), Offset(14));
  table.complete_transaction(ProducerId(2), ProducerEpoch(0), false, Offset(17));
  EXPECT_EQ(table.last_stable_offset(Offset(18)), Offset(18));
  ASSERT_EQ(table.aborted().size(), 1u);
  EXPECT_EQ(table.aborted()[0],
            (AbortedTxn{ProducerId(2), Offset(14), Offset(17), Offset(18)}));
}

TEST(ProducerStateTable, AbortedBetweenListsOverlappingAborts) {
  ProducerStateTable table;
  // Producer 1: [0, 2] aborted at 9 while producer 2's [5, 6] stays open until 12 (aborted).
  table.allow_transaction(ProducerId(1), ProducerEpoch(0));
  table.allow_transaction(ProducerId(2), ProducerEpoch(0));
  table.record(txn(1, 0, 0, 3, 0));
  table.record(txn(2, 0, 0, 2, 5));
  table.complete_transaction(ProducerId(1), ProducerEpoch(0), false, Offset(9));
  table.complete_transaction(ProducerId(2), ProducerEpoch(0), false, Offset(12));
  table.allow_transaction(ProducerId(1), ProducerEpoch(0));
  table.record(txn(1, 0, 3, 1, 20));
  table.complete_transaction(ProducerId(1), ProducerEpoch(0), false, Offset(21));
  ASSERT_EQ(table.aborted().size(), 3u);
  EXPECT_EQ(table.aborted()[0].last_stable_offset, Offset(5));  // producer 2 still open
  auto ids = [](const std::vector<AbortedTxn>& list) {
    std::vector<int64_t> out;
    for (const AbortedTxn& a : list) out.push_back(a.first_offset.value());
    return out;
  };
  EXPECT_EQ(ids(table.aborted_between(Offset(0), Offset(5))), (std::vector<int64_t>{0}));
  EXPECT_EQ(ids(table.aborted_between(Offset(0), Offset(13))), (std::vector<int64_t>{0, 5}));
  EXPECT_EQ(ids(table.aborted_between(Offset(10), Offset(30))), (std::vector<int64_t>{5, 20}));
  EXPECT_EQ(ids(table.aborted_between(Offset(13), Offset(20))), (std::vector<int64_t>{}));
  EXPECT_EQ(ids(table.aborted_between(Offset(22), Offset(30))), (std::vector<int64_t>{}));
  table.forget_below(Offset(10));
  EXPECT_EQ(table.aborted().size(), 2u);
}

// The cleaner removed the ABORT marker at 12 (after the transaction's data): only that entry
// goes; another producer's id at the same offset, or an offset with no entry, changes nothing.
TEST(ProducerStateTable, ForgetAbortedDropsTheTransactionOfThatMarker) {
  ProducerStateTable table;
  for (int64_t id : {1, 2}) table.allow_transaction(ProducerId(id), ProducerEpoch(0));
  table.record(txn(1, 0, 0, 3, 0));
  table.record(txn(2, 0, 0, 2, 5));
  table.complete_transaction(ProducerId(1), ProducerEpoch(0), false, Offset(9));
  table.complete_transaction(ProducerId(2), ProducerEpoch(0), false, Offset(12));
  table.forget_aborted(ProducerId(1), Offset(12));
  table.forget_aborted(ProducerId(2), Offset(10));
  ASSERT_EQ(table.aborted().size(), 2u);
  table.forget_aborted(ProducerId(2), Offset(12));
  ASSERT_EQ(table.aborted().size(), 1u);
  EXPECT_EQ(table.aborted()[0].last_offset, Offset(9));
  EXPECT_TRUE(table.aborted_between(Offset(10), Offset(30)).empty());
}

TEST(ProducerStateTable, MarkerOfANewerEpochFencesTheOldOne) {
  ProducerStateTable table;
  table.allow_transaction(ProducerId(7), ProducerEpoch(3));
  table.record(txn(7, 3, 0, 2, 0));
  EXPECT_FALSE(table.marker_allowed(ProducerId(7), ProducerEpoch(2)));
  ASSERT_TRUE(table.marker_allowed(ProducerId(7), ProducerEpoch(4)));
  table.complete_transaction(ProducerId(7), ProducerEpoch(4), false, Offset(2));
  EXPECT_EQ(table.check(batch(7, 3, 2, 1, -1)).verdict, SequenceVerdict::invalid_epoch);
  EXPECT_EQ(table.check(batch(7, 4, 0, 1, -1)).verdict, SequenceVerdict::append);
  EXPECT_EQ(table.last_stable_offset(Offset(3)), Offset(3));
}

TEST(ProducerStateTable, SnapshotKeepsTransactions) {
  ProducerStateTable table;
  table.allow_transaction(ProducerId(1), ProducerEpoch(0));
  table.allow_transaction(ProducerId(2), ProducerEpoch(0));
  table.record(txn(1, 0, 0, 2, 0));
  table.record(txn(2, 0, 0, 2, 2));
  table.complete_transaction(ProducerId(1), ProducerEpoch(0), false, Offset(4));
  std::vector<uint8_t> bytes = table.encode(Offset(5));
  ProducerStateTable decoded;
  ASSERT_EQ(decoded.decode(bytes).value(), Offset(5));
  EXPECT_EQ(decoded.last_stable_offset(Offset(5)), Offset(2));
  EXPECT_EQ(decoded.aborted(), table.aborted());
  EXPECT_EQ(decoded.check(txn(2, 0, 2, 1, -1)).verdict, SequenceVerdict::append);
  EXPECT_EQ(decoded.check(batch(2, 0, 2, 1, -1)).verdict, SequenceVerdict::invalid_txn_state);
  // The KIP-890 permission is not persisted: the coordinator grants it again.
  EXPECT_EQ(decoded.check(txn(1, 0, 2, 1, -1)).verdict, SequenceVerdict::invalid_txn_state);
}

TEST(ProducerStateTable, OpenTransactionsAreNeverEvicted) {
  ProducerStateTable table;
  table.allow_transaction(ProducerId(0), ProducerEpoch(0));
  table.record(txn(0, 0, 0, 1, 0));
  for (size_t i = 1; i <= kProducersPerPartitionMax; i++) {
    table.record(batch(static_cast<int64_t>(i), 0, 0, 1, static_cast<int64_t>(i)));
  }
  EXPECT_NE(table.find(ProducerId(0)), nullptr);
  EXPECT_EQ(table.find(ProducerId(1)), nullptr);
  EXPECT_EQ(table.last_stable_offset(Offset(100'000)), Offset(0));
}

}  // namespace
}  // namespace cairn::broker::producers
