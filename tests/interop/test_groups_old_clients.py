#!/usr/bin/python3
"""Old clients in one consumer group with a newer one, on Kafka's roundrobin assignor:
kafka-node 5.0.0 (JoinGroup, SyncGroup, Heartbeat and LeaveGroup v0; its session timeout is
also its rebalance timeout), sarama 1.22.1 speaking as Kafka 0.10.2 (JoinGroup v1) and
kafka-python 2.0.2 (as it negotiates). They share the partitions, all consume, the others take
over kafka-node's partitions when it leaves, every produced message is consumed, each member
reads its partitions in order, and the committed offsets never go back. Members and helpers
come from test_groups_clients.py; the sarama program is built by go_support.py.

Not librdkafka: sarama 1.22 cannot decode the subscription librdkafka (1.4 and later) sends,
version 1 with its owned partitions (KIP-429), and leaves the group with "error decoding
packet: invalid length", whatever the broker (the broker passes the bytes on untouched).
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import go_support  # noqa: E402
import js_support  # noqa: E402
from test_groups_clients import (PARTITIONS, CommitWatcher, GroupTestCase, Producer,  # noqa: E402
                                 leave_and_drain, share_and_consume)

TOPIC = "old-clients"
GROUP = "old-clients-group"


class OldClientsGroup(go_support.SaramaClientMixin, GroupTestCase):
    topics = {TOPIC: PARTITIONS}

    @classmethod
    def setUpClass(cls):
        js_support.ensure_node_modules("kafka-node")
        super().setUpClass()

    def test_kafka_node_sarama_and_kafka_python_one_group(self):
        watcher = CommitWatcher(self.broker.bootstrap, GROUP)
        self.addCleanup(watcher.stop)
        producer = Producer(self.broker.bootstrap, TOPIC)
        self.addCleanup(producer.stop, check=False)
        node = self.member("kafka-node", "kafka-node", GROUP, TOPIC, "roundrobin")
        sarama = self.member("sarama", "sarama", GROUP, TOPIC, "roundrobin",
                             program=[self.sarama_client, "0.10.2.0"])
        python = self.member("kafka-python", "kafka-python", GROUP, TOPIC, "roundrobin")
        everyone = [node, sarama, python]
        share_and_consume(self, everyone)
        leave_and_drain(self, everyone, node, producer, watcher)


if __name__ == "__main__":
    import unittest
    unittest.main(verbosity=2)
