#!/usr/bin/python3
"""confluent-kafka-python (librdkafka 2.0): AdminClient and Producer read the metadata."""
from confluent_kafka import KafkaError, Producer
from confluent_kafka.admin import AdminClient

import harness


class ConfluentMetadata(harness.BrokerTestCase):
    broker_topics = {"orders": 3, "audit": 1}

    def config(self):
        return {"bootstrap.servers": self.broker.bootstrap, "socket.timeout.ms": 30000}

    def test_admin_list_topics(self):
        metadata = AdminClient(self.config()).list_topics(timeout=60)
        self.assertEqual(self.broker.cluster_id(), metadata.cluster_id)
        self.assertEqual(22, len(metadata.cluster_id))
        self.assertEqual(0, metadata.controller_id)
        self.assertEqual([0], list(metadata.brokers))
        self.assertEqual(self.broker.host, metadata.brokers[0].host)
        self.assertEqual(self.broker.port, metadata.brokers[0].port)
        # All topics, the internal ones included (Kafka lists them too).
        self.assertEqual({"orders", "audit", "__consumer_offsets", "__transaction_state"},
                         set(metadata.topics))
        orders = metadata.topics["orders"]
        self.assertIsNone(orders.error)
        self.assertEqual({0, 1, 2}, set(orders.partitions))
        for partition in orders.partitions.values():
            self.assertIsNone(partition.error)
            self.assertEqual(0, partition.leader)
            self.assertEqual([0], partition.replicas)
            self.assertEqual([0], partition.isrs)
        self.assertBrokerHealthy()

    def test_producer_list_topics_of_one_topic(self):
        producer = Producer(self.config())
        metadata = producer.list_topics(topic="audit", timeout=60)
        self.assertEqual({"audit"}, set(metadata.topics))
        self.assertEqual({0}, set(metadata.topics["audit"].partitions))

    def test_unknown_topic_gets_unknown_topic_or_partition(self):
        # A producer asks for auto-creation by default, and Cairn auto-creates by default.
        producer = Producer(dict(self.config(), **{"allow.auto.create.topics": False}))
        metadata = producer.list_topics(topic="missing", timeout=60)
        self.assertEqual(KafkaError.UNKNOWN_TOPIC_OR_PART, metadata.topics["missing"].error.code())

    def test_cluster_id_is_kept_across_restarts(self):
        first = self.broker.cluster_id()
        with harness.Broker(shards=1) as other:
            second_broker_id = AdminClient({"bootstrap.servers": other.bootstrap}).list_topics(
                timeout=60).cluster_id
            self.assertNotEqual(first, second_broker_id)  # a new data dir: a new cluster
        data_dir = harness.tempfile.mkdtemp(prefix="cairn-interop-")
        try:
            ids = []
            for _ in range(2):
                with harness.Broker(shards=1, data_dir=data_dir) as broker:
                    ids.append(AdminClient({"bootstrap.servers": broker.bootstrap}).list_topics(
                        timeout=60).cluster_id)
            self.assertEqual(ids[0], ids[1])
        finally:
            harness.shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    harness.main()
