#!/usr/bin/env python3
"""The cleaner's broker configs reach the shards' cleaner loops (docs/compaction.md): with
log.cleaner.backoff.ms=100 a compacted topic is cleaned within moments (a committed run leaves
DATA_DIR/<topic>-<p>/cleaner.checkpoint, and a consumer reads one value per key); with
log.cleaner.enable=false it is never cleaned, every value stays. Written with
confluent-kafka (librdkafka), one batch per record so that segments roll at segment.bytes.
"""
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import confluent_kafka  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

from harness import BrokerTestCase, main  # noqa: E402
from test_transactions import read_all  # noqa: E402

TIMEOUT_S = 60
KEYS = 5
ROUNDS = 20


def create_compacted(bootstrap, topic):
    admin = AdminClient({"bootstrap.servers": bootstrap})
    futures = admin.create_topics([NewTopic(topic, 1, 1, config={
        "cleanup.policy": "compact", "segment.bytes": "1024",
        "min.cleanable.dirty.ratio": "0.01"})])
    for future in futures.values():
        future.result(TIMEOUT_S)


def fill(bootstrap, topic):
    """ROUNDS values for each of KEYS keys; the last value of key k is "v<ROUNDS-1>-k"."""
    producer = confluent_kafka.Producer({"bootstrap.servers": bootstrap, "linger.ms": 0})
    for r in range(ROUNDS):
        for k in range(KEYS):
            producer.produce(topic, key=b"k%d" % k, value=b"v%d-%d" % (r, k) + b"." * 200,
                             partition=0)
            producer.flush(TIMEOUT_S)  # one batch each


def checkpoint(data_dir, topic):
    return os.path.join(data_dir, "%s-0" % topic, "cleaner.checkpoint")


class CleanerBackoff(BrokerTestCase):
    broker_args = ("--set", "log.cleaner.backoff.ms=100")

    def test_compacted_topic_is_cleaned_quickly(self):
        create_compacted(self.broker.bootstrap, "table")
        fill(self.broker.bootstrap, "table")
        deadline = time.monotonic() + TIMEOUT_S
        while not os.path.exists(checkpoint(self.broker.data_dir, "table")):
            self.assertLess(time.monotonic(), deadline, "no cleaner run committed")
            time.sleep(0.1)
        values = read_all(self.broker.bootstrap, "table", 1, "read_uncommitted")[0]
        latest = {"v%d-%d" % (ROUNDS - 1, k) for k in range(KEYS)}
        self.assertLess(len(values), KEYS * ROUNDS)  # older values of each key are gone
        self.assertTrue(latest <= {v.rstrip(".") for v in values})
        self.assertBrokerHealthy()


class CleanerDisabled(BrokerTestCase):
    broker_args = ("--set", "log.cleaner.enable=false", "--set", "log.cleaner.backoff.ms=100")

    def test_compacted_topic_is_not_cleaned(self):
        create_compacted(self.broker.bootstrap, "table")
        fill(self.broker.bootstrap, "table")
        time.sleep(2)  # twenty backoffs
        self.assertFalse(os.path.exists(checkpoint(self.broker.data_dir, "table")))
        values = read_all(self.broker.bootstrap, "table", 1, "read_uncommitted")[0]
        self.assertEqual(len(values), KEYS * ROUNDS)
        self.assertBrokerHealthy()


if __name__ == "__main__":
    main()
