#!/usr/bin/python3
"""Immutable topics (cairn.immutable=true, docs/immutable-topics.md), over the wire
(admin_wire.py) with records produced by confluent-kafka-python:

- creating one pins retention.ms and retention.bytes as topic overrides; with compaction it is
  refused; setting the flag later on a compacted topic is refused too;
- while it holds records within retention: DeleteRecords, DeleteTopics, unsetting the flag
  (AlterConfigs and IncrementalAlterConfigs), lowering retention.ms or retention.bytes and
  changing cleanup.policy are refused with POLICY_VIOLATION (validate_only too), and nothing
  changed; raising retention is allowed;
- an empty immutable topic, and one whose records aged out of retention, may be deleted;
- the flag and the refusals survive kill -9.
"""
import os
import signal
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import admin_wire as aw  # noqa: E402
import harness  # noqa: E402

import confluent_kafka  # noqa: E402

IMMUTABLE = "cairn.immutable"
SET, DELETE = 0, 1


class ImmutableTopics(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.broker = harness.Broker(shards=2).start()

    @classmethod
    def tearDownClass(cls):
        cls.broker.stop()

    def setUp(self):
        self.admin = aw.Admin(self.broker.bootstrap)
        self.addCleanup(self.admin.close)

    def produce(self, topic, count=5):
        producer = confluent_kafka.Producer({"bootstrap.servers": self.broker.bootstrap})
        errors = []
        for i in range(count):
            producer.produce(topic, b"entry-%d" % i, partition=i % 2,
                             on_delivery=lambda e, m: errors.append(e))
        producer.flush(30)
        self.assertEqual(errors, [None] * count)

    def alter(self, topic, configs, validate_only=False):
        return self.admin.alter_configs([(aw.TOPIC, topic, configs)], validate_only)[0][0]

    def incremental(self, topic, ops, validate_only=False):
        return self.admin.incremental_alter_configs([(aw.TOPIC, topic, ops)], validate_only)[0][0]

    def value(self, topic, name):
        return self.admin.topic_configs(topic)[name][0]

    def test_creation_pins_retention_and_refuses_compaction(self):
        self.assertEqual(self.admin.create_topic("ledger-pin", 2, 1, {IMMUTABLE: "true"})[0],
                         aw.NONE)
        configs = self.admin.topic_configs("ledger-pin")
        self.assertEqual(configs[IMMUTABLE][0], "true")
        self.assertEqual(configs["retention.ms"][:3:2], ("604800000", aw.DYNAMIC_TOPIC_CONFIG))
        self.assertEqual(configs["retention.bytes"][:3:2], ("-1", aw.DYNAMIC_TOPIC_CONFIG))
        code, message = self.admin.create_topic(
            "ledger-compact", 1, 1, {IMMUTABLE: "true", "cleanup.policy": "compact"})
        self.assertEqual(code, aw.POLICY_VIOLATION)
        self.assertIn("cleanup.policy", message)
        self.assertEqual(self.admin.create_topic("compacted", 1, 1,
                                                 {"cleanup.policy": "compact"})[0], aw.NONE)
        self.assertEqual(self.incremental("compacted", [(IMMUTABLE, SET, "true")]),
                         aw.POLICY_VIOLATION)

    def test_records_within_retention_lock_the_topic(self):
        self.assertEqual(self.admin.create_topic("ledger", 2, 1, {IMMUTABLE: "true",
                                                                  "retention.ms": "3600000"})[0],
                         aw.NONE)
        self.produce("ledger")
        self.assertEqual(self.admin.delete_records("ledger", {0: 1, 1: -1}),
                         {0: (-1, aw.POLICY_VIOLATION), 1: (-1, aw.POLICY_VIOLATION)})
        self.assertEqual(self.admin.delete_topics(["ledger"])[0][1], aw.POLICY_VIOLATION)
        refused = [
            self.alter("ledger", {IMMUTABLE: "false", "retention.ms": "3600000"}),
            self.alter("ledger", {"retention.ms": "3600000"}),  # drops the flag
            self.incremental("ledger", [(IMMUTABLE, DELETE, None)]),
            self.incremental("ledger", [(IMMUTABLE, SET, "false")], validate_only=True),
            self.incremental("ledger", [("retention.ms", SET, "60000")]),
            self.incremental("ledger", [("retention.ms", DELETE, None)]),  # default: 7 days,
            self.incremental("ledger", [("retention.bytes", SET, "1000000")]),
            self.incremental("ledger", [("cleanup.policy", SET, "compact")]),
        ]
        # Deleting retention.ms falls back to 7 days, more than 1 h: that one is a raise.
        self.assertEqual(refused, [aw.POLICY_VIOLATION] * 5 + [aw.NONE] + [aw.POLICY_VIOLATION] * 2)
        self.assertEqual(self.value("ledger", "retention.ms"), "604800000")
        self.assertEqual(self.incremental("ledger", [("retention.ms", SET, "-1")]), aw.NONE)
        self.assertEqual(self.incremental("ledger", [("retention.ms", SET, "86400000")]),
                         aw.POLICY_VIOLATION)  # -1 (forever) is the top
        self.assertEqual(self.value("ledger", IMMUTABLE), "true")
        self.assertEqual(self.value("ledger", "retention.ms"), "-1")

    def test_empty_and_aged_out_topics_may_go(self):
        self.assertEqual(self.admin.create_topic("ledger-empty", 1, 1, {IMMUTABLE: "true"})[0],
                         aw.NONE)
        self.assertEqual(self.admin.delete_topics(["ledger-empty"])[0][1], aw.NONE)
        self.assertEqual(self.admin.create_topic("ledger-short", 2, 1, {
            IMMUTABLE: "true", "retention.ms": "1500"})[0], aw.NONE)
        self.produce("ledger-short")
        self.assertEqual(self.admin.delete_topics(["ledger-short"])[0][1], aw.POLICY_VIOLATION)
        time.sleep(2.5)  # the records age out of retention.ms
        self.assertEqual(self.incremental("ledger-short", [(IMMUTABLE, SET, "false")]), aw.NONE)
        self.assertEqual(self.admin.delete_topics(["ledger-short"])[0][1], aw.NONE)

    def test_zz_the_lock_survives_kill_9(self):
        self.assertEqual(self.admin.create_topic("ledger-durable", 2, 1, {IMMUTABLE: "true"})[0],
                         aw.NONE)
        self.produce("ledger-durable")
        self.admin.close()
        os.kill(self.broker.pid, signal.SIGKILL)
        self.broker.process.wait(30)
        type(self).broker = harness.Broker(shards=2, data_dir=self.broker.data_dir).start()
        self.admin = aw.Admin(self.broker.bootstrap)
        self.assertEqual(self.admin.delete_topics(["ledger-durable"])[0][1], aw.POLICY_VIOLATION)
        self.assertEqual(self.admin.delete_records("ledger-durable", {0: -1}),
                         {0: (-1, aw.POLICY_VIOLATION)})


if __name__ == "__main__":
    unittest.main()
