#!/usr/bin/env python3
"""Transactions with real clients: confluent-kafka (librdkafka) transactional producers and
read_committed / read_uncommitted consumers against the real broker.

- Commit and abort: read_committed consumers see every committed record once and nothing of
  aborted transactions; read_uncommitted consumers see the aborted records too (Kafka does).
- An open transaction holds read_committed consumers back at its first offset (the LSO) until
  it commits; read_uncommitted consumers read past it.
- Consume-transform-produce with send_offsets_to_transaction: the group's committed offsets
  move with the committed output, and not at all for an aborted transaction.
- Timeouts: transaction.timeout.ms above transaction.max.timeout.ms is refused; a
  transaction left open past its timeout is aborted by the broker.
- Fencing: a second producer with the same transactional.id aborts the first one's open
  transaction and fences it (its commit fails; none of its records become visible).
- kill -9 in the middle of a run of transactions, restart: every transaction whose commit was
  acknowledged is visible exactly once and complete, no aborted one is, and the transactional
  id keeps working — with segments small enough that older aborts come from .txnindex files.
"""
import os
import shutil
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import confluent_kafka  # noqa: E402
from confluent_kafka import TopicPartition  # noqa: E402

from harness import BrokerTestCase, main, write_topics  # noqa: E402
import produce_support as ps  # noqa: E402

TIMEOUT_S = 60


def txn_producer(bootstrap, transactional_id, **extra):
    config = {"bootstrap.servers": bootstrap, "transactional.id": transactional_id,
              "linger.ms": 5, "transaction.timeout.ms": 60000}
    config.update(extra)
    producer = confluent_kafka.Producer(config)
    producer.init_transactions(TIMEOUT_S)
    return producer


def read_all(bootstrap, topic, partitions, isolation, idle_s=2.0, group=None):
    """Every value of `topic` visible to a consumer with `isolation`, per partition, in order.
    Stops once nothing new arrived for idle_s."""
    consumer = confluent_kafka.Consumer({
        "bootstrap.servers": bootstrap, "group.id": group or "reader-%f" % time.time(),
        "enable.auto.commit": False, "isolation.level": isolation,
        "auto.offset.reset": "earliest", "enable.partition.eof": False})
    consumer.assign([TopicPartition(topic, p, confluent_kafka.OFFSET_BEGINNING)
                     for p in range(partitions)])
    values = {p: [] for p in range(partitions)}
    last = time.monotonic()
    deadline = time.monotonic() + TIMEOUT_S
    while time.monotonic() - last < idle_s and time.monotonic() < deadline:
        msg = consumer.poll(0.2)
        if msg is None:
            continue
        if msg.error():
            raise AssertionError(msg.error())
        values[msg.partition()].append(msg.value().decode())
        last = time.monotonic()
    consumer.close()
    return values


def flat(values):
    return sorted(v for vs in values.values() for v in vs)


class TransactionsTest(BrokerTestCase):
    broker_topics = {"txn-out": 2, "txn-open": 1, "copy-in": 1, "copy-out": 1, "fence": 1}

    def test_commit_and_abort(self):
        producer = txn_producer(self.broker.bootstrap, "commit-abort")
        producer.begin_transaction()
        for i in range(10):
            producer.produce("txn-out", value=b"c%d" % i, partition=i % 2)
        producer.commit_transaction(TIMEOUT_S)
        producer.begin_transaction()
        for i in range(10):
            producer.produce("txn-out", value=b"a%d" % i, partition=i % 2)
        producer.flush(TIMEOUT_S)  # the aborted records are in the log
        producer.abort_transaction(TIMEOUT_S)
        producer.begin_transaction()
        for i in range(10, 15):
            producer.produce("txn-out", value=b"c%d" % i, partition=i % 2)
        producer.commit_transaction(TIMEOUT_S)

        committed = read_all(self.broker.bootstrap, "txn-out", 2, "read_committed")
        self.assertEqual(flat(committed), sorted("c%d" % i for i in range(15)))
        for p in range(2):  # in produce order within each partition
            self.assertEqual(committed[p], ["c%d" % i for i in range(15) if i % 2 == p])
        uncommitted = read_all(self.broker.bootstrap, "txn-out", 2, "read_uncommitted")
        self.assertEqual(flat(uncommitted),
                         sorted(["c%d" % i for i in range(15)] + ["a%d" % i for i in range(10)]))
        self.assertBrokerHealthy()

    def test_open_transaction_holds_read_committed_back(self):
        plain = confluent_kafka.Producer({"bootstrap.servers": self.broker.bootstrap})
        plain.produce("txn-open", value=b"before", partition=0)
        plain.flush(TIMEOUT_S)
        producer = txn_producer(self.broker.bootstrap, "open-one")
        producer.begin_transaction()
        producer.produce("txn-open", value=b"inside", partition=0)
        producer.flush(TIMEOUT_S)
        plain.produce("txn-open", value=b"after", partition=0)  # behind the open transaction
        plain.flush(TIMEOUT_S)

        self.assertEqual(read_all(self.broker.bootstrap, "txn-open", 1, "read_committed")[0],
                         ["before"])
        self.assertEqual(read_all(self.broker.bootstrap, "txn-open", 1, "read_uncommitted")[0],
                         ["before", "inside", "after"])
        # ListOffsets: the latest offset is the LSO for read_committed, the high watermark
        # for read_uncommitted.
        for isolation, expected in (("read_committed", 1), ("read_uncommitted", 3)):
            consumer = confluent_kafka.Consumer({"bootstrap.servers": self.broker.bootstrap,
                                                 "group.id": "wm", "isolation.level": isolation})
            marks = consumer.get_watermark_offsets(TopicPartition("txn-open", 0), TIMEOUT_S)
            consumer.close()
            self.assertEqual(marks, (0, expected), isolation)
        producer.commit_transaction(TIMEOUT_S)
        self.assertEqual(read_all(self.broker.bootstrap, "txn-open", 1, "read_committed")[0],
                         ["before", "inside", "after"])

    def test_consume_transform_produce_commits_offsets_with_output(self):
        plain = confluent_kafka.Producer({"bootstrap.servers": self.broker.bootstrap})
        for i in range(60):
            plain.produce("copy-in", value=b"%d" % i, partition=0)
        plain.flush(TIMEOUT_S)
        consumer = confluent_kafka.Consumer({
            "bootstrap.servers": self.broker.bootstrap, "group.id": "copier",
            "enable.auto.commit": False, "auto.offset.reset": "earliest",
            "isolation.level": "read_committed"})
        consumer.assign([TopicPartition("copy-in", 0)])
        producer = txn_producer(self.broker.bootstrap, "copier-txn")

        def copy_batch(count, commit):
            producer.begin_transaction()
            taken = 0
            deadline = time.monotonic() + TIMEOUT_S
            while taken < count and time.monotonic() < deadline:
                msg = consumer.poll(0.5)
                if msg is None or msg.error():
                    continue
                producer.produce("copy-out", value=b"x" + msg.value(), partition=0)
                taken += 1
            self.assertEqual(taken, count)
            producer.send_offsets_to_transaction(consumer.position(consumer.assignment()),
                                                 consumer.consumer_group_metadata(), TIMEOUT_S)
            if commit:
                producer.commit_transaction(TIMEOUT_S)
            else:
                producer.abort_transaction(TIMEOUT_S)

        def committed_offset():
            return consumer.committed([TopicPartition("copy-in", 0)], TIMEOUT_S)[0].offset

        copy_batch(20, commit=True)
        self.assertEqual(committed_offset(), 20)
        copy_batch(20, commit=False)
        self.assertEqual(committed_offset(), 20)  # the abort left the group's offset alone
        # Rewind to the committed position, as an application does after an abort.
        consumer.seek(TopicPartition("copy-in", 0, 20))
        copy_batch(20, commit=True)
        copy_batch(20, commit=True)
        self.assertEqual(committed_offset(), 60)
        consumer.close()
        out = read_all(self.broker.bootstrap, "copy-out", 1, "read_committed")[0]
        self.assertEqual(out, ["x%d" % i for i in range(60)])  # each input once, in order

    def test_second_producer_fences_the_first(self):
        zombie = txn_producer(self.broker.bootstrap, "fenced-id")
        zombie.begin_transaction()
        zombie.produce("fence", value=b"zombie", partition=0)
        zombie.flush(TIMEOUT_S)
        successor = txn_producer(self.broker.bootstrap, "fenced-id")
        with self.assertRaises(confluent_kafka.KafkaException) as raised:
            zombie.commit_transaction(TIMEOUT_S)
        self.assertTrue(raised.exception.args[0].fatal() or
                        raised.exception.args[0].txn_requires_abort(), raised.exception)
        successor.begin_transaction()
        successor.produce("fence", value=b"successor", partition=0)
        successor.commit_transaction(TIMEOUT_S)
        self.assertEqual(read_all(self.broker.bootstrap, "fence", 1, "read_committed")[0],
                         ["successor"])
        self.assertBrokerHealthy()


class TransactionTimeoutTest(BrokerTestCase):
    """The broker's side of transaction.timeout.ms: a timeout above transaction.max.timeout.ms
    is refused (INVALID_TRANSACTION_TIMEOUT); an open transaction older than its timeout is
    aborted by the broker with the epoch bumped, so read_committed consumers move past it and
    its producer is fenced."""
    broker_args = ("--set", "transaction.max.timeout.ms=60000",
                   "--set", "transaction.abort.timed.out.transaction.cleanup.interval.ms=200")
    broker_topics = {"slow": 1}

    def test_timeout_above_the_maximum_is_refused(self):
        producer = confluent_kafka.Producer({
            "bootstrap.servers": self.broker.bootstrap, "transactional.id": "too-long",
            "transaction.timeout.ms": 60001})
        with self.assertRaises(confluent_kafka.KafkaException) as raised:
            producer.init_transactions(TIMEOUT_S)
        self.assertEqual(raised.exception.args[0].code(),
                         confluent_kafka.KafkaError.INVALID_TRANSACTION_TIMEOUT)

    def test_open_transaction_past_its_timeout_is_aborted(self):
        producer = txn_producer(self.broker.bootstrap, "slow-writer",
                                **{"transaction.timeout.ms": 1500})
        producer.begin_transaction()
        producer.produce("slow", value=b"late", partition=0)
        producer.flush(TIMEOUT_S)
        plain = confluent_kafka.Producer({"bootstrap.servers": self.broker.bootstrap})
        plain.produce("slow", value=b"plain", partition=0)
        plain.flush(TIMEOUT_S)
        # Without the broker's abort the open transaction would hold "plain" back for good.
        deadline = time.monotonic() + TIMEOUT_S
        seen = []
        while time.monotonic() < deadline and seen != ["plain"]:
            seen = read_all(self.broker.bootstrap, "slow", 1, "read_committed", idle_s=0.5)[0]
        self.assertEqual(seen, ["plain"])
        with self.assertRaises(confluent_kafka.KafkaException):
            producer.commit_transaction(TIMEOUT_S)
        self.assertEqual(read_all(self.broker.bootstrap, "slow", 1, "read_committed")[0],
                         ["plain"])
        self.assertBrokerHealthy()


class TransactionsKillTest(unittest.TestCase):
    TOPIC = "ledger"

    def setUp(self):
        self.data_dir = tempfile.mkdtemp(prefix="cairn-txn-kill-")
        write_topics(self.data_dir, {self.TOPIC: 2})
        self.broker = None

    def tearDown(self):
        if self.broker is not None and self.broker.process is not None:
            self.broker.stop()
        shutil.rmtree(self.data_dir, ignore_errors=True)

    # Small segments and a quick retention check: segments roll during the run and their
    # aborts move into .txnindex files, so the restarts read them from there.
    BROKER_ARGS = ["--log-segment-bytes", "1024", "--set", "log.retention.check.interval.ms=50"]

    def index_files(self):
        return [name for p in range(2)
                for name in os.listdir(os.path.join(self.data_dir, "%s-%d" % (self.TOPIC, p)))
                if name.endswith(".txnindex")]

    def test_kill9_keeps_committed_and_hides_aborted(self):
        self.broker = ps.start_broker(self.data_dir, extra_args=self.BROKER_ARGS)
        port = self.broker.port
        producer = txn_producer(self.broker.bootstrap, "ledger-writer",
                                **{"message.timeout.ms": 10000})
        committed, aborted = [], []
        txn = 0
        while len(committed) < 40:
            producer.begin_transaction()
            for i in range(5):
                producer.produce(self.TOPIC, value=b"t%d-%d" % (txn, i), partition=i % 2)
            if txn % 3 == 2:
                producer.flush(TIMEOUT_S)  # in the log, then aborted
                producer.abort_transaction(TIMEOUT_S)
                aborted.append(txn)
            else:
                producer.commit_transaction(TIMEOUT_S)
                committed.append(txn)
            txn += 1
        # One more left open and one in flight when the broker dies.
        producer.begin_transaction()
        for i in range(5):
            producer.produce(self.TOPIC, value=b"t%d-%d" % (txn, i), partition=i % 2)
        producer.flush(TIMEOUT_S)
        open_txn = txn
        deadline = time.monotonic() + TIMEOUT_S
        while not self.index_files() and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertTrue(self.index_files(), "no aborted-transaction index file was written")
        ps.kill9(self.broker)
        del producer
        self.broker = ps.start_broker(self.data_dir, port=port, extra_args=self.BROKER_ARGS)
        # The id works again: initializing aborts the open transaction (fences the old epoch).
        producer = txn_producer(self.broker.bootstrap, "ledger-writer")
        producer.begin_transaction()
        producer.produce(self.TOPIC, value=b"after-0", partition=0)
        producer.commit_transaction(TIMEOUT_S)

        visible = flat(read_all(self.broker.bootstrap, self.TOPIC, 2, "read_committed"))
        expected = sorted(["t%d-%d" % (t, i) for t in committed for i in range(5)] +
                          ["after-0"])
        self.assertEqual(visible, expected)
        everything = flat(read_all(self.broker.bootstrap, self.TOPIC, 2, "read_uncommitted"))
        self.assertEqual(len(everything), 5 * (txn + 1) + 1)  # aborted data is still there
        self.assertIn("t%d-0" % open_txn, everything)
        # And once more after a clean restart (the snapshot and the index files).
        self.broker.stop()
        self.assertTrue(self.index_files())
        self.broker = ps.start_broker(self.data_dir, port=port, extra_args=self.BROKER_ARGS)
        self.assertEqual(flat(read_all(self.broker.bootstrap, self.TOPIC, 2, "read_committed")),
                         expected)


if __name__ == "__main__":
    main()
