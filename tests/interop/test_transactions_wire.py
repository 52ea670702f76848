#!/usr/bin/env python3
"""Transactions request by request: the error paths of KIP-98 that real clients never walk,
each held to the error code Apache Kafka answers (3.8, transaction.partition.verification.enable
on, its default since 3.6). The Kafka sources each expectation comes from are named beside it:

- TransactionCoordinator.scala: handleInitProducerId / prepareInitProducerIdTransit,
  handleAddPartitionsToTransaction, endTransaction, handleVerifyPartitionsInTransaction;
- TransactionMetadata.scala: prepareIncrementProducerEpoch (KIP-360 bumps and retries);
- TransactionStateManager.scala: shouldExpire (transactional.id.expiration.ms);
- KafkaApis.scala: handleInitProducerIdRequest (half-given producer id/epoch), handleProduceRequest
  (transactional records need a transactional id), AddPartitionsToTxn's unknown topics, the
  PRODUCER_FENCED -> INVALID_PRODUCER_EPOCH downgrades of KIP-588;
- GroupCoordinator.scala handleTxnCommitOffsets + AddPartitionsToTxnManager.scala (KIP-890
  verification: TxnOffsetCommit asks the transaction coordinator, whose PRODUCER_FENCED reaches
  the client as INVALID_PRODUCER_EPOCH); GroupMetadataManager.getOffsets (require_stable);
- ReplicaManager.scala + ProducerAppendInfo.java (Produce: not-added partitions, plain batches
  inside a transaction, fenced epochs); UnifiedLog/TransactionIndex (aborted transactions in
  read_committed fetches); LogCleaner (records of aborted transactions are cleaned away).

Where Kafka writes markers after answering EndTxn (so the next request may meet
CONCURRENT_TRANSACTIONS, or UNSTABLE_OFFSET_COMMIT), the tests retry like a client does; Cairn
answers after the markers, so it never needs the retry. Requests are built in txn_wire.py with
kafka-python's protocol types. Standard library + kafka-python (Debian's python3-kafka).
"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import admin_wire  # noqa: E402
import produce_support  # noqa: E402
import txn_wire as tw  # noqa: E402
from harness import BrokerTestCase, main  # noqa: E402
from txn_wire import (CONCURRENT_TRANSACTIONS, INVALID_PRODUCER_EPOCH,  # noqa: E402
                      INVALID_PRODUCER_ID_MAPPING, INVALID_REQUEST, INVALID_TXN_STATE, NONE,
                      OPERATION_NOT_ATTEMPTED, PRODUCER_FENCED, READ_COMMITTED,
                      READ_UNCOMMITTED, TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
                      UNKNOWN_TOPIC_OR_PARTITION, UNSTABLE_OFFSET_COMMIT)

DEADLINE_S = 20


class TxnProducer:
    """A transactional producer driven one request at a time: its producer id and epoch, and
    the next sequence number of each partition (sequences are per partition and epoch)."""

    def __init__(self, client, transactional_id):
        self.client = client
        self.transactional_id = transactional_id
        self.producer_id, self.epoch = client.init_settled(transactional_id)
        self.sequences = {}

    def begin(self, topic, partitions):
        self.client.add_partitions_settled(self.transactional_id, self.producer_id, self.epoch,
                                           {topic: partitions})

    def send(self, topic, partition, values, keys=None, transactional=True,
             transactional_id="own"):
        """Produce v7 of one batch: (error_code, base_offset). A refused batch does not use up
        its sequence numbers."""
        sequence = self.sequences.get((topic, partition), 0)
        batch = tw.txn_batch(values, self.producer_id, self.epoch, sequence, keys,
                             transactional)
        if transactional_id == "own":
            transactional_id = self.transactional_id
        error, base = self.client.produce_batch(topic, partition, batch, transactional_id)
        if error == NONE:
            self.sequences[(topic, partition)] = sequence + len(values)
        return error, base

    def end(self, commit, version=2, epoch=None):
        return self.client.end_txn(self.transactional_id, self.producer_id,
                                   self.epoch if epoch is None else epoch, commit, version)

    def end_settled(self, commit):
        """EndTxn, retried while CONCURRENT_TRANSACTIONS: Kafka answers that to a retry that
        arrives while the first one's markers are still being written."""
        deadline = time.monotonic() + DEADLINE_S
        while True:
            error = self.end(commit)
            if error != CONCURRENT_TRANSACTIONS or time.monotonic() > deadline:
                return error
            time.sleep(0.05)


def wait_stable(client, topic, partition):
    """Waits until the partition's last stable offset reaches its high watermark (Kafka writes
    the markers of a finished transaction after answering EndTxn); returns that offset."""
    deadline = time.monotonic() + DEADLINE_S
    while True:
        committed = client.latest_offset(topic, partition, READ_COMMITTED)
        uncommitted = client.latest_offset(topic, partition, READ_UNCOMMITTED)
        if committed == uncommitted or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert committed == uncommitted and committed[0] == NONE, (committed, uncommitted)
    return committed[1]


class TxnWireTest(BrokerTestCase):
    broker_topics = {"src": 2, "data": 1, "apt": 1, "guarded": 3, "fenced": 2, "no-id": 1,
                     "aborted": 1, "lso": 1}

    def setUp(self):
        self.client = tw.TxnClient(self.broker.bootstrap)

    def tearDown(self):
        self.client.close()
        self.assertBrokerHealthy()

    def tid(self, suffix=""):
        return self._testMethodName + suffix

    # ----- OffsetFetch v7 require_stable (KIP-447) -------------------------------------------

    def test_offset_fetch_require_stable_waits_for_pending_transactional_offsets(self):
        group = self.tid("-group")
        committed, other = ("src", 0), ("src", 1)
        self.client.commit_offsets(group, {committed: 5, other: 7})
        producer = TxnProducer(self.client, self.tid())
        # (offset committed in the transaction, commit?, offset before EndTxn, after it)
        for offset, commit, before, after in ((42, True, 5, 42), (99, False, 42, 42)):
            self.assertEqual(self.client.add_offsets_settled(
                producer.transactional_id, producer.producer_id, producer.epoch, group), NONE)
            self.assertEqual(self.client.txn_offset_commit(
                producer.transactional_id, group, producer.producer_id, producer.epoch,
                {committed: offset}), {committed: NONE})
            # GroupMetadataManager.getOffsets: a partition with a pending transactional commit
            # is UNSTABLE_OFFSET_COMMIT with offset -1; the others answer as usual.
            error, got = self.client.offset_fetch(group, [committed, other], require_stable=True)
            self.assertEqual((error, got[other]), (NONE, (7, NONE)))
            self.assertEqual(got[committed][1], UNSTABLE_OFFSET_COMMIT)
            with self.subTest("offset of the unstable partition", offset=offset):
                self.assertEqual(got[committed][0], -1)
            # Without require_stable the pending offset is simply not visible yet.
            error, got = self.client.offset_fetch(group, [committed], require_stable=False)
            self.assertEqual((error, got), (NONE, {committed: (before, NONE)}))
            self.assertEqual(producer.end_settled(commit), NONE)
            self.assertEqual(self.client.stable_offsets(group, [committed, other]),
                             {committed: after, other: 7})

    # ----- TxnOffsetCommit ----------------------------------------------------------------

    def test_txn_offset_commit_without_add_offsets_is_invalid_txn_state(self):
        group = self.tid("-group")
        producer = TxnProducer(self.client, self.tid())
        # handleVerifyPartitionsInTransaction: the group's partition is not in the transaction.
        for version in (2, 3):  # no transaction at all (Empty)
            self.assertEqual(self.client.txn_offset_commit(
                producer.transactional_id, group, producer.producer_id, producer.epoch,
                {("src", 0): 10}, version=version), {("src", 0): INVALID_TXN_STATE})
        producer.begin("data", [0])  # a transaction, but without AddOffsetsToTxn
        self.assertEqual(self.client.txn_offset_commit(
            producer.transactional_id, group, producer.producer_id, producer.epoch,
            {("src", 0): 11}), {("src", 0): INVALID_TXN_STATE})
        self.assertEqual(producer.end_settled(commit=True), NONE)
        self.assertEqual(self.client.stable_offsets(group, [("src", 0)]), {("src", 0): -1})

    def test_txn_offset_commit_from_fenced_producer_is_invalid_producer_epoch(self):
        group = self.tid("-group")
        zombie = TxnProducer(self.client, self.tid())
        self.assertEqual(self.client.add_offsets(zombie.transactional_id, zombie.producer_id,
                                                 zombie.epoch, group), NONE)
        self.assertEqual(self.client.txn_offset_commit(
            zombie.transactional_id, group, zombie.producer_id, zombie.epoch,
            {("src", 0): 10}), {("src", 0): NONE})
        # A new producer of the same id fences the zombie: its transaction is aborted with the
        # epoch bumped, and the new producer gets the epoch after that.
        successor = TxnProducer(self.client, zombie.transactional_id)
        self.assertEqual((successor.producer_id, successor.epoch),
                         (zombie.producer_id, zombie.epoch + 2))
        # The coordinator answers the verification PRODUCER_FENCED, which
        # AddPartitionsToTxnManager turns into INVALID_PRODUCER_EPOCH ("Producers expect to
        # handle INVALID_PRODUCER_EPOCH in this scenario") - at every TxnOffsetCommit version.
        for version in (3, 2, 0):
            with self.subTest(version=version):
                self.assertEqual(self.client.txn_offset_commit(
                    zombie.transactional_id, group, zombie.producer_id, zombie.epoch,
                    {("src", 0): 11}, version=version), {("src", 0): INVALID_PRODUCER_EPOCH})
        self.assertEqual(self.client.stable_offsets(group, [("src", 0)]), {("src", 0): -1})

    def test_txn_offset_commit_is_verified_with_the_transaction_coordinator(self):
        group = self.tid("-group")
        old = TxnProducer(self.client, self.tid())
        new = TxnProducer(self.client, self.tid())  # Empty state: a plain epoch bump
        self.assertEqual(new.epoch, old.epoch + 1)
        # The old epoch never touched the group's partition; the coordinator fences it before
        # looking at the partitions (handleVerifyPartitionsInTransaction).
        for version in (3, 2):
            with self.subTest("fenced epoch", version=version):
                self.assertEqual(self.client.txn_offset_commit(
                    old.transactional_id, group, old.producer_id, old.epoch, {("src", 1): 3},
                    version=version), {("src", 1): INVALID_PRODUCER_EPOCH})
        # A transactional id the coordinator does not know.
        with self.subTest("unknown transactional id"):
            self.assertEqual(self.client.txn_offset_commit(
                self.tid("-unknown"), group, new.producer_id, 0, {("src", 1): 3}),
                {("src", 1): INVALID_PRODUCER_ID_MAPPING})
        self.assertEqual(self.client.stable_offsets(group, [("src", 1)]), {("src", 1): -1})

    # ----- InitProducerId (KIP-360, KIP-588) ------------------------------------------------

    def test_init_producer_id_kip360_bump_retry_and_fencing(self):
        transactional_id = self.tid()
        error, producer_id, epoch = self.client.init_producer_id(transactional_id)
        self.assertEqual((error, epoch), (NONE, 0))
        # A producer recovering with its current id and epoch gets the epoch bumped...
        self.assertEqual(self.client.init_producer_id(transactional_id, producer_id, 0),
                         (NONE, producer_id, 1))
        # ...and a retry of that request (its answer lost) the same answer, not another bump.
        self.assertEqual(self.client.init_producer_id(transactional_id, producer_id, 0),
                         (NONE, producer_id, 1))
        self.assertEqual(self.client.init_producer_id(transactional_id, producer_id, 1),
                         (NONE, producer_id, 2))
        # An epoch that is neither the current one (2) nor the last (1): fenced.
        for stale in (0, 5):
            with self.subTest(epoch=stale):
                self.assertEqual(self.client.init_producer_id(transactional_id, producer_id,
                                                              stale)[0], PRODUCER_FENCED)
                self.assertEqual(self.client.init_producer_id(transactional_id, producer_id,
                                                              stale, version=3)[0],
                                 INVALID_PRODUCER_EPOCH)
        # Another producer id than the id's.
        self.assertEqual(self.client.init_producer_id(transactional_id, producer_id + 1000, 2)[0],
                         PRODUCER_FENCED)
        # None of that moved the epoch.
        self.assertEqual(self.client.init_producer_id(transactional_id, producer_id, 2),
                         (NONE, producer_id, 3))

    def test_init_producer_id_kip360_retry_after_a_new_producer_is_fenced(self):
        transactional_id = self.tid()
        _, producer_id, _ = self.client.init_producer_id(transactional_id)
        self.assertEqual(self.client.init_producer_id(transactional_id, producer_id, 0),
                         (NONE, producer_id, 1))
        # A new producer of the id (no producer id given) bumps the epoch and, in Kafka,
        # clears the last epoch (prepareIncrementProducerEpoch: "bump the current epoch and
        # set the last epoch to -1")...
        self.assertEqual(self.client.init_producer_id(transactional_id),
                         (NONE, producer_id, 2))
        # ...so the first producer's late KIP-360 retry, naming epoch 1, is fenced rather than
        # handed the new producer's epoch.
        for version, fenced in ((4, PRODUCER_FENCED), (3, INVALID_PRODUCER_EPOCH)):
            with self.subTest(version=version):
                self.assertEqual(self.client.init_producer_id(transactional_id, producer_id, 1,
                                                              version=version)[0], fenced)

    def test_init_producer_id_with_half_of_producer_id_and_epoch_is_invalid_request(self):
        transactional_id = self.tid()
        _, producer_id, epoch = self.client.init_producer_id(transactional_id)
        # KafkaApis.handleInitProducerIdRequest: both -1 or neither.
        for given in ((producer_id, -1), (-1, epoch)):
            with self.subTest(given=given):
                self.assertEqual(self.client.init_producer_id(transactional_id, *given)[0],
                                 INVALID_REQUEST)

    # ----- EndTxn -------------------------------------------------------------------------

    def test_end_txn_state_machine_errors(self):
        first = TxnProducer(self.client, self.tid())
        producer = TxnProducer(self.client, self.tid())
        self.assertEqual(producer.epoch, first.epoch + 1)
        # Empty: nothing to end, either way.
        self.assertEqual(producer.end(commit=True), INVALID_TXN_STATE)
        self.assertEqual(producer.end(commit=False), INVALID_TXN_STATE)
        producer.begin("data", [0])
        self.assertEqual(producer.send("data", 0, [b"end-txn"])[0], NONE)
        # A fenced epoch (KIP-588: PRODUCER_FENCED from EndTxn v2), another producer id, an
        # unknown transactional id.
        self.assertEqual(producer.end(commit=True, epoch=first.epoch), PRODUCER_FENCED)
        self.assertEqual(producer.end(commit=True, epoch=first.epoch, version=1),
                         INVALID_PRODUCER_EPOCH)
        self.assertEqual(self.client.end_txn(producer.transactional_id,
                                             producer.producer_id + 1000, producer.epoch, True),
                         INVALID_PRODUCER_ID_MAPPING)
        self.assertEqual(self.client.end_txn(self.tid("-unknown"), producer.producer_id,
                                             producer.epoch, True), INVALID_PRODUCER_ID_MAPPING)
        # None of those ended the transaction: the commit goes through. Its retry is answered
        # NONE (CompleteCommit and a commit); an abort of the committed transaction is not.
        # (end_settled: Kafka answers CONCURRENT_TRANSACTIONS while it completes the first.)
        self.assertEqual(producer.end(commit=True), NONE)
        self.assertEqual(producer.end_settled(commit=False), INVALID_TXN_STATE)
        self.assertEqual(producer.end_settled(commit=True), NONE)
        self.assertEqual(producer.end_settled(commit=False), INVALID_TXN_STATE)
        # The same for an abort.
        producer.begin("data", [0])
        self.assertEqual(producer.end(commit=False), NONE)
        self.assertEqual(producer.end_settled(commit=True), INVALID_TXN_STATE)
        self.assertEqual(producer.end_settled(commit=False), NONE)
        self.assertEqual(producer.end_settled(commit=True), INVALID_TXN_STATE)

    # ----- AddPartitionsToTxn -------------------------------------------------------------

    def test_add_partitions_with_unknown_topic_adds_nothing(self):
        producer = TxnProducer(self.client, self.tid())
        missing = self.tid("-missing")
        errors = self.client.add_partitions(producer.transactional_id, producer.producer_id,
                                            producer.epoch, {"apt": [0, 5], missing: [0]})
        self.assertEqual(errors, {("apt", 0): OPERATION_NOT_ATTEMPTED,
                                  ("apt", 5): UNKNOWN_TOPIC_OR_PARTITION,
                                  (missing, 0): UNKNOWN_TOPIC_OR_PARTITION})
        # Nothing was added: apt-0 takes no transactional batch, and there is no transaction.
        self.assertEqual(producer.send("apt", 0, [b"x"])[0], INVALID_TXN_STATE)
        self.assertEqual(producer.end(commit=True), INVALID_TXN_STATE)
        # Nor was the topic created on the way.
        with admin_wire.Admin(self.broker.bootstrap) as admin:
            self.assertEqual(admin.partition_counts([missing]),
                             {missing: -UNKNOWN_TOPIC_OR_PARTITION})

    # ----- Produce ------------------------------------------------------------------------

    def test_produce_guards_partitions_of_the_transaction(self):
        producer = TxnProducer(self.client, self.tid())
        # KIP-890: a transactional batch for a partition not added to the transaction.
        self.assertEqual(producer.send("guarded", 0, [b"early"])[0], INVALID_TXN_STATE)
        producer.begin("guarded", [0])
        self.assertEqual(producer.send("guarded", 0, [b"inside"]), (NONE, 0))
        self.assertEqual(producer.send("guarded", 1, [b"elsewhere"])[0], INVALID_TXN_STATE)
        # ProducerAppendInfo: a plain (idempotent) batch from the producer while its
        # transaction is open on the partition.
        self.assertEqual(producer.send("guarded", 0, [b"plain"], transactional=False)[0],
                         INVALID_TXN_STATE)
        self.assertEqual(producer.end_settled(commit=True), NONE)
        wait_stable(self.client, "guarded", 0)
        # Once the transaction is over the same plain batch is an ordinary idempotent write.
        self.assertEqual(producer.send("guarded", 0, [b"plain"], transactional=False)[0], NONE)
        fetched = self.client.fetch11("guarded", 0, 0, READ_UNCOMMITTED)
        self.assertEqual([v for _, _, v in fetched.data_records()], [b"inside", b"plain"])
        for partition in (1, 2):
            self.assertEqual(self.client.fetch11("guarded", partition, 0,
                                                 READ_UNCOMMITTED).high_watermark, 0)

    def test_produce_from_fenced_epoch_is_invalid_producer_epoch(self):
        zombie = TxnProducer(self.client, self.tid())
        zombie.begin("fenced", [0])
        self.assertEqual(zombie.send("fenced", 0, [b"zombie-0"])[0], NONE)
        successor = TxnProducer(self.client, zombie.transactional_id)
        self.assertEqual(successor.epoch, zombie.epoch + 2)
        wait_stable(self.client, "fenced", 0)  # the fencing ABORT marker is in fenced-0
        # fenced-0 has seen the bumped epoch (ProducerAppendInfo.checkProducerEpoch).
        self.assertEqual(zombie.send("fenced", 0, [b"zombie-1"])[0], INVALID_PRODUCER_EPOCH)
        # fenced-1 never has: the verification with the coordinator fences the old epoch
        # (PRODUCER_FENCED, answered to Produce as INVALID_PRODUCER_EPOCH).
        with self.subTest("partition outside the fenced transaction"):
            self.assertEqual(zombie.send("fenced", 1, [b"zombie-2"])[0],
                             INVALID_PRODUCER_EPOCH)
        fetched = self.client.fetch11("fenced", 0, 0, READ_COMMITTED)
        self.assertEqual(fetched.data_records()[0][2], b"zombie-0")
        self.assertEqual(len(fetched.data_records()), 1)
        self.assertEqual([(b.control, b.producer_epoch) for b in fetched.batches],
                         [(False, zombie.epoch), (True, zombie.epoch + 1)])
        self.assertEqual(fetched.aborted_transactions, [(zombie.producer_id, 0)])
        self.assertEqual(self.client.fetch11("fenced", 1, 0, READ_UNCOMMITTED).high_watermark, 0)

    def test_produce_transactional_batch_without_transactional_id(self):
        producer = TxnProducer(self.client, self.tid())
        producer.begin("no-id", [0])
        # KafkaApis.handleProduceRequest: transactional records in a request without a
        # transactional id fail the whole request.
        self.assertEqual(producer.send("no-id", 0, [b"anonymous"], transactional_id=None)[0],
                         TRANSACTIONAL_ID_AUTHORIZATION_FAILED)
        self.assertEqual(producer.end_settled(commit=False), NONE)
        self.assertEqual(self.client.fetch11("no-id", 0, 0, READ_UNCOMMITTED).data_records(), [])

    # ----- read_committed: Fetch and ListOffsets ------------------------------------------

    def test_read_committed_fetch_lists_aborted_transactions(self):
        topic = "aborted"
        committer = TxnProducer(self.client, self.tid("-commit"))
        aborter = TxnProducer(self.client, self.tid("-abort"))
        bases = {}
        for producer, values, commit in ((committer, [b"c0", b"c1"], True),
                                         (aborter, [b"a0", b"a1"], False),
                                         (committer, [b"c2", b"c3"], True)):
            producer.begin(topic, [0])
            error, bases[values[0]] = producer.send(topic, 0, values)
            self.assertEqual(error, NONE)
            self.assertEqual(producer.end_settled(commit), NONE)
            end = wait_stable(self.client, topic, 0)

        fetched = self.client.fetch11(topic, 0, 0, READ_COMMITTED)
        self.assertEqual((fetched.error_code, fetched.high_watermark,
                          fetched.last_stable_offset), (NONE, end, end))
        # The broker sends the aborted records too; the list tells the client to drop them.
        self.assertEqual(fetched.aborted_transactions, [(aborter.producer_id, bases[b"a0"])])
        self.assertEqual([v for _, _, v in fetched.data_records()],
                         [b"c0", b"c1", b"a0", b"a1", b"c2", b"c3"])
        markers = [b for b in fetched.batches if b.control]
        self.assertEqual([b.producer_id for b in markers],
                         [committer.producer_id, aborter.producer_id, committer.producer_id])
        abort_marker = markers[1].base_offset
        # An aborted transaction is listed while the fetch starts at or before its marker.
        self.assertEqual(self.client.fetch11(topic, 0, abort_marker,
                                             READ_COMMITTED).aborted_transactions,
                         [(aborter.producer_id, bases[b"a0"])])
        self.assertEqual(self.client.fetch11(topic, 0, abort_marker + 1,
                                             READ_COMMITTED).aborted_transactions, [])
        # read_uncommitted: no list at all (null).
        self.assertIsNone(self.client.fetch11(topic, 0, 0, READ_UNCOMMITTED).aborted_transactions)

    def test_last_stable_offset_while_a_transaction_is_open(self):
        topic = "lso"
        with produce_support.WireClient(self.broker.bootstrap) as plain:
            self.assertEqual(plain.produce(topic, 0, produce_support.simple_batch(2)), (NONE, 0))
            producer = TxnProducer(self.client, self.tid())
            producer.begin(topic, [0])
            self.assertEqual(producer.send(topic, 0, [b"open"]), (NONE, 2))
            self.assertEqual(plain.produce(topic, 0, produce_support.simple_batch(1)), (NONE, 3))
        self.assertEqual(self.client.latest_offset(topic, 0, READ_COMMITTED), (NONE, 2))
        self.assertEqual(self.client.latest_offset(topic, 0, READ_UNCOMMITTED), (NONE, 4))
        fetched = self.client.fetch11(topic, 0, 0, READ_COMMITTED)
        self.assertEqual((fetched.high_watermark, fetched.last_stable_offset), (4, 2))
        self.assertEqual([o for o, _, _ in fetched.data_records()], [0, 1])
        uncommitted = self.client.fetch11(topic, 0, 0, READ_UNCOMMITTED)
        self.assertEqual([o for o, _, _ in uncommitted.data_records()], [0, 1, 2, 3])
        self.assertEqual(producer.end_settled(commit=True), NONE)
        self.assertEqual(wait_stable(self.client, topic, 0), 5)  # the marker is offset 4


class TransactionalIdExpiry(BrokerTestCase):
    """transactional.id.expiration.ms: Kafka removes an id idle that long in Empty,
    CompleteCommit or CompleteAbort (TransactionStateManager.shouldExpire), never one whose
    transaction is open; InitProducerId for a removed id starts over with a new producer id."""

    EXPIRATION_MS = 2500
    broker_topics = {"expiry": 1}
    broker_args = ("--set", "transactional.id.expiration.ms=%d" % EXPIRATION_MS,
                   "--set", "transaction.remove.expired.transaction.cleanup.interval.ms=100",
                   "--set", "transaction.abort.timed.out.transaction.cleanup.interval.ms=100")

    def test_idle_ids_expire_and_ids_with_open_transactions_do_not(self):
        with tw.TxnClient(self.broker.bootstrap) as client:
            idle_since = time.monotonic()
            idle = TxnProducer(client, "expiry-idle")  # Empty
            done = TxnProducer(client, "expiry-done")
            done.begin("expiry", [0])
            self.assertEqual(done.send("expiry", 0, [b"done"])[0], NONE)
            self.assertEqual(done.end_settled(commit=True), NONE)  # CompleteCommit
            busy = TxnProducer(client, "expiry-busy")
            busy.begin("expiry", [0])  # Ongoing, with a 60 s transaction timeout
            busy_since = time.monotonic()
            # Before expiry EndTxn reads each state without changing it (checked only if this
            # machine got here in time: the ids may be gone already on a loaded one)...
            if time.monotonic() - idle_since < self.EXPIRATION_MS / 1000 / 2:
                self.assertEqual(idle.end(commit=True), INVALID_TXN_STATE)
                self.assertEqual(done.end_settled(commit=True), NONE)
            # ...and after it, the ids are unknown.
            for producer in (idle, done):
                deadline = time.monotonic() + DEADLINE_S
                while producer.end(commit=True) != INVALID_PRODUCER_ID_MAPPING:
                    self.assertLess(time.monotonic(), deadline,
                                    "%s never expired" % producer.transactional_id)
                    time.sleep(0.1)
            # Well past the expiration of the open transaction's id, it is still there.
            time.sleep(max(0.0, busy_since + 2 * self.EXPIRATION_MS / 1000 - time.monotonic()))
            self.assertEqual(busy.send("expiry", 0, [b"busy"])[0], NONE)
            self.assertEqual(busy.end_settled(commit=True), NONE)
            # A removed id starts over: a new producer id with epoch 0, also for a KIP-360
            # re-initialization naming the old producer id.
            error, producer_id, epoch = client.init_producer_id(idle.transactional_id)
            self.assertEqual((error, epoch), (NONE, 0))
            error, again_id, again_epoch = client.init_producer_id(
                done.transactional_id, done.producer_id, done.epoch)
            self.assertEqual((error, again_epoch), (NONE, 0))
            old_ids = {idle.producer_id, done.producer_id, busy.producer_id}
            self.assertNotIn(producer_id, old_ids)
            self.assertNotIn(again_id, old_ids | {producer_id})
        self.assertBrokerHealthy()


class CompactionDropsAbortedRecords(BrokerTestCase):
    """The cleaner removes the records of aborted transactions from a compacted topic and keeps
    committed ones at their offsets (Kafka's LogCleaner discards aborted batches). The broker's
    cleaner looks for work every 15 s; small segments make the data cleanable at once."""

    TOPIC = "ledger"
    CONFIGS = {"cleanup.policy": "compact", "segment.bytes": "1024",
               "min.cleanable.dirty.ratio": "0.01"}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.started = time.monotonic()
        with admin_wire.Admin(cls.broker.bootstrap) as admin:
            error, message = admin.create_topic(cls.TOPIC, configs=cls.CONFIGS)
            assert error == NONE, (error, message)

    def write(self, client):
        """Two committed and one aborted transaction, distinct keys, then plain records that
        roll the segments past them. Returns the keys of the aborted records."""
        value = b"v" * 150
        producer = TxnProducer(client, "compaction")
        for name, commit in (("commit-a", True), ("abort", False), ("commit-b", True)):
            producer.begin(self.TOPIC, [0])
            keys = [b"%s-%d" % (name.encode(), i) for i in range(3)]
            self.assertEqual(producer.send(self.TOPIC, 0, [value] * 3, keys=keys)[0], NONE)
            self.assertEqual(producer.end_settled(commit), NONE)
        wait_stable(client, self.TOPIC, 0)
        for i in range(8):
            batch = produce_support.build_batch([(b"plain-%d" % i, value * 2, [])])
            self.assertEqual(client.produce(self.TOPIC, 0, batch)[0], NONE)
        return {b"abort-%d" % i for i in range(3)}

    def records(self, client):
        batches, _ = client.fetch_all(self.TOPIC, 0, READ_UNCOMMITTED)
        return [r for b in batches if not b.control for r in b.records]

    def test_cleaner_drops_aborted_records_and_keeps_committed_ones(self):
        with tw.TxnClient(self.broker.bootstrap) as client:
            aborted_keys = self.write(client)
            before = self.records(client)
            self.assertEqual(len(before), 17)
            self.assertEqual({k for _, k, _ in before} & aborted_keys, aborted_keys)
            deadline = self.started + 45
            after = before
            while {k for _, k, _ in after} & aborted_keys and time.monotonic() < deadline:
                time.sleep(0.5)
                after = self.records(client)
            self.assertEqual({k for _, k, _ in after} & aborted_keys, set(),
                             "aborted records still there after %d s" % (deadline - self.started))
            self.assertEqual(after, [r for r in before if r[1] not in aborted_keys])
        self.assertBrokerHealthy()


if __name__ == "__main__":
    main()
