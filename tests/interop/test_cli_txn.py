#!/usr/bin/env python3
"""`cairn txn` and the APIs behind it (ListTransactions, DescribeTransactions,
DescribeProducers, WriteTxnMarkers) against the real broker, with confluent-kafka
transactional producers making the transactions.

- An open transaction is listed (state filters included), described with its partitions,
  and shows on those partitions as an open transaction from its first offset; it is not
  hanging while its coordinator holds it. Committed, it shows as CompleteCommit with no
  partitions, and the partitions' producers have no open transaction.
- An unknown transactional id is TRANSACTIONAL_ID_NOT_FOUND (exit 1).
- A hanging transaction: the coordinator's state is lost (kill -9, __transaction_state
  removed) while a transaction is open. Its partition's last stable offset stays at the
  transaction's first offset, so read_committed consumers see nothing after it.
  `find-hanging` lists it (on its data partition and on its group's __consumer_offsets
  partition), `abort-hanging --dry-run` changes nothing, `abort-hanging` writes the ABORT
  markers: read_committed consumers then get every later record and none of the aborted ones,
  and the group's pending offsets are dropped.
"""
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import confluent_kafka  # noqa: E402
from confluent_kafka import TopicPartition  # noqa: E402

import harness  # noqa: E402
from cli_support import run_cairn  # noqa: E402
import produce_support as ps  # noqa: E402
from test_transactions import read_all  # noqa: E402

TIMEOUT_S = 60


def cairn_json(bootstrap, *args):
    result = run_cairn(list(args) + ["--format", "json"], brokers=bootstrap, check=True)
    return json.loads(result.stdout)


def txn_producer(bootstrap, transactional_id):
    producer = confluent_kafka.Producer({
        "bootstrap.servers": bootstrap, "transactional.id": transactional_id,
        "linger.ms": 5, "transaction.timeout.ms": 60000})
    producer.init_transactions(TIMEOUT_S)
    return producer


def read_committed_values(bootstrap, topic):
    return read_all(bootstrap, topic, 1, "read_committed")[0]


def read_committed_end(bootstrap, topic):
    consumer = confluent_kafka.Consumer({
        "bootstrap.servers": bootstrap, "group.id": "lso-%d" % time.time_ns(),
        "isolation.level": "read_committed"})
    _, high = consumer.get_watermark_offsets(TopicPartition(topic, 0), timeout=TIMEOUT_S)
    consumer.close()
    return high


class TxnCommandsTest(harness.BrokerTestCase):
    broker_topics = {"txn-cli": 2}

    def test_open_then_committed_transaction(self):
        bootstrap = self.broker.bootstrap
        producer = txn_producer(bootstrap, "cli-open")
        producer.begin_transaction()
        for p in (0, 1):
            producer.produce("txn-cli", value=b"v", partition=p)
        self.assertEqual(producer.flush(TIMEOUT_S), 0)

        listed = cairn_json(bootstrap, "txn", "list")
        mine = [t for t in listed if t["transactional_id"] == "cli-open"]
        self.assertEqual(len(mine), 1, listed)
        self.assertEqual(mine[0]["state"], "Ongoing")
        self.assertEqual(mine[0]["coordinator"], 0)
        producer_id = mine[0]["producer_id"]
        self.assertGreaterEqual(producer_id, 0)
        self.assertEqual(cairn_json(bootstrap, "txn", "list", "--state", "CompleteCommit"), [])
        self.assertEqual([t["transactional_id"] for t in
                          cairn_json(bootstrap, "txn", "list", "--state", "Ongoing")], ["cli-open"])
        typo = run_cairn(["txn", "list", "--state", "ongoing"], brokers=bootstrap, check=True)
        self.assertIn(b"'ongoing' is not a transaction state", typo.stderr)
        self.assertEqual(
            len(cairn_json(bootstrap, "txn", "list", "--producer-id", str(producer_id))), 1)

        [described] = cairn_json(bootstrap, "txn", "describe", "cli-open")
        self.assertEqual(described["state"], "Ongoing")
        self.assertEqual(described["producer_id"], producer_id)
        self.assertEqual(described["timeout_ms"], 60000)
        self.assertIsNotNone(described["start_time_ms"])
        self.assertEqual(described["partitions"],
                         [{"topic": "txn-cli", "partition": 0},
                          {"topic": "txn-cli", "partition": 1}])

        producers = cairn_json(bootstrap, "txn", "producers", "txn-cli")
        open_here = {(p["partition"], p["txn_start_offset"]) for p in producers
                     if p["producer_id"] == producer_id}
        self.assertEqual(open_here, {(0, 0), (1, 0)})
        # Held by its coordinator: not hanging, however old.
        self.assertEqual(cairn_json(bootstrap, "txn", "find-hanging",
                                    "--max-transaction-timeout", "0"), [])

        producer.commit_transaction(TIMEOUT_S)
        [described] = cairn_json(bootstrap, "txn", "describe", "cli-open")
        self.assertEqual(described["state"], "CompleteCommit")
        self.assertEqual(described["partitions"], [])
        self.assertIsNone(described["start_time_ms"])
        producers = cairn_json(bootstrap, "txn", "producers", "txn-cli", "-p", "0")
        mine = [p for p in producers if p["producer_id"] == producer_id]
        self.assertEqual(len(mine), 1, producers)
        self.assertIsNone(mine[0]["txn_start_offset"])
        self.assertEqual(mine[0]["coordinator_epoch"], 0)  # its COMMIT marker's
        text = run_cairn(["txn", "describe", "cli-open"], brokers=bootstrap, check=True)
        self.assertIn(b"CompleteCommit", text.stdout)
        self.assertBrokerHealthy()

    def test_unknown_id_and_topic(self):
        result = run_cairn(["txn", "describe", "no-such-id"], brokers=self.broker.bootstrap)
        self.assertEqual(result.returncode, 1)
        self.assertIn(b"TRANSACTIONAL_ID_NOT_FOUND", result.stderr)
        result = run_cairn(["txn", "producers", "no-such-topic"], brokers=self.broker.bootstrap)
        self.assertEqual(result.returncode, 1)
        self.assertIn(b"does not exist", result.stderr)
        self.assertBrokerHealthy()


# A child process opens a transaction, writes to it (records and its group's offsets) and
# exits without ending it.
OPEN_AND_EXIT = """
import os, sys, confluent_kafka
from confluent_kafka import TopicPartition
p = confluent_kafka.Producer({"bootstrap.servers": sys.argv[1], "transactional.id": "lost",
                              "transaction.timeout.ms": 900000})
c = confluent_kafka.Consumer({"bootstrap.servers": sys.argv[1], "group.id": "hang-group"})
p.init_transactions(60)
p.begin_transaction()
for i in range(3):
    p.produce("hang", value=b"aborted-%d" % i, partition=0)
assert p.flush(60) == 0
p.send_offsets_to_transaction([TopicPartition("hang", 0, 3)], c.consumer_group_metadata(), 60)
os._exit(0)
"""


def committed_offset(bootstrap, group):
    consumer = confluent_kafka.Consumer({"bootstrap.servers": bootstrap, "group.id": group})
    [tp] = consumer.committed([TopicPartition("hang", 0)], timeout=TIMEOUT_S)
    consumer.close()
    return tp.offset


class HangingTransactionTest(unittest.TestCase):
    def setUp(self):
        self.data_dir = tempfile.mkdtemp(prefix="cairn-txn-hang-")
        self.broker = harness.Broker(data_dir=self.data_dir, topics={"hang": 1}).start()

    def tearDown(self):
        if self.broker is not None:
            self.broker.stop()
        shutil.rmtree(self.data_dir, ignore_errors=True)

    def test_find_and_abort_a_hanging_transaction(self):
        subprocess.run([sys.executable, "-c", OPEN_AND_EXIT, self.broker.bootstrap],
                       check=True, timeout=TIMEOUT_S)
        # The coordinator's state is lost while the transaction is open.
        ps.kill9(self.broker)
        removed = glob.glob(os.path.join(self.data_dir, "__transaction_state-*"))
        self.assertTrue(removed)
        for path in removed:
            shutil.rmtree(path)
        self.broker = harness.Broker(data_dir=self.data_dir).start()
        bootstrap = self.broker.bootstrap
        self.assertEqual(run_cairn(["txn", "list"], brokers=bootstrap, check=True).stdout
                         .decode().strip().splitlines()[1:], [])
        plain = confluent_kafka.Producer({"bootstrap.servers": bootstrap})
        for i in range(2):
            plain.produce("hang", value=b"later-%d" % i, partition=0)
        self.assertEqual(plain.flush(TIMEOUT_S), 0)
        self.assertEqual(read_committed_end(bootstrap, "hang"), 0)  # held at offset 0
        self.assertEqual(read_committed_values(bootstrap, "hang"), [])

        hanging = cairn_json(bootstrap, "txn", "find-hanging", "--max-transaction-timeout", "0")
        # The records, and the group's pending offsets on its __consumer_offsets partition.
        self.assertEqual(sorted(h["topic"] for h in hanging), ["__consumer_offsets", "hang"])
        self.assertIn(("hang", 0, 0),
                      [(h["topic"], h["partition"], h["start_offset"]) for h in hanging])
        # Not older than the default 15 minutes yet.
        self.assertEqual(cairn_json(bootstrap, "txn", "find-hanging"), [])
        dry = run_cairn(["txn", "abort-hanging", "--max-transaction-timeout", "0", "--dry-run"],
                        brokers=bootstrap, check=True).stdout.decode()
        self.assertIn("(dry run: nothing was changed)", dry)
        self.assertIn("OK (dry run)", dry)
        self.assertEqual(read_committed_end(bootstrap, "hang"), 0)

        aborted = cairn_json(bootstrap, "txn", "abort-hanging", "--max-transaction-timeout", "0")
        self.assertEqual(sorted((a["topic"], a["status"]) for a in aborted),
                         [("__consumer_offsets", "OK"), ("hang", "OK")])
        # The aborted transaction's offsets are gone with it.
        self.assertEqual(committed_offset(bootstrap, "hang-group"), confluent_kafka.OFFSET_INVALID)
        self.assertEqual(read_committed_values(bootstrap, "hang"), ["later-0", "later-1"])
        self.assertEqual(read_committed_end(bootstrap, "hang"), 6)  # 3 + marker + 2
        self.assertEqual(cairn_json(bootstrap, "txn", "find-hanging",
                                    "--max-transaction-timeout", "0"), [])
        self.broker.check_clean()


if __name__ == "__main__":
    harness.main()
