#!/usr/bin/env python3
"""Produce to a compacted topic (cleanup.policy=compact), with confluent-kafka (librdkafka):
keyed records are taken; a record without a key is refused with INVALID_RECORD, as Kafka
does ("Compacted topic cannot accept message without key"), and nothing of its batch is
stored. A topic with cleanup.policy=delete takes keyless records.
"""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import confluent_kafka  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

from harness import BrokerTestCase, main  # noqa: E402
from test_transactions import read_all  # noqa: E402

TIMEOUT_S = 60


class CompactedProduceTest(BrokerTestCase):
    def produce(self, topic, key, value):
        results = []
        producer = confluent_kafka.Producer({"bootstrap.servers": self.broker.bootstrap,
                                             "message.send.max.retries": 0, "linger.ms": 0})
        producer.produce(topic, key=key, value=value, partition=0,
                         on_delivery=lambda err, msg: results.append(err))
        producer.flush(TIMEOUT_S)
        self.assertEqual(len(results), 1)
        return results[0]

    def test_keyless_records_are_refused_on_compacted_topics(self):
        admin = AdminClient({"bootstrap.servers": self.broker.bootstrap})
        futures = admin.create_topics([
            NewTopic("table", 1, 1, config={"cleanup.policy": "compact"}),
            NewTopic("stream", 1, 1)])
        for future in futures.values():
            future.result(TIMEOUT_S)
        self.assertIsNone(self.produce("table", b"k1", b"v1"))
        err = self.produce("table", None, b"no key")
        self.assertIsNotNone(err)
        self.assertEqual(err.code(), confluent_kafka.KafkaError.INVALID_RECORD, err)
        self.assertIsNone(self.produce("stream", None, b"no key"))
        self.assertEqual(read_all(self.broker.bootstrap, "table", 1, "read_uncommitted")[0],
                         ["v1"])
        self.assertBrokerHealthy()


if __name__ == "__main__":
    main()
