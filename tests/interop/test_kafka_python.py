#!/usr/bin/python3
"""kafka-python 2.0.2: probes with ApiVersions v0, infers a broker version, reads metadata."""
from kafka import KafkaAdminClient, KafkaConsumer

import harness
import kafka_wire


def inferred_version_floor(apis):
    """The broker version kafka-python 2.0.2 must infer at least, given the advertised ranges
    (its _infer_broker_version_from_api_versions, restricted to what a test can rely on)."""
    def serves(key, version):
        return key in apis and apis[key][0] <= version <= apis[key][1]
    if serves(1, 8):  # Fetch v8
        return (2, 0, 0)
    if serves(3, 5):  # Metadata v5
        return (1, 0, 0)
    return (0, 10, 0)


class KafkaPythonMetadata(harness.BrokerTestCase):
    broker_topics = {"orders": 3, "audit": 1}

    def test_consumer_infers_a_modern_broker_and_lists_topics(self):
        apis = kafka_wire.check_api_versions(self.broker.bootstrap)
        consumer = KafkaConsumer(bootstrap_servers=self.broker.bootstrap,
                                 request_timeout_ms=60000, api_version_auto_timeout_ms=30000)
        try:
            inferred = consumer.config["api_version"]
            self.assertGreaterEqual(inferred, inferred_version_floor(apis))
            self.assertGreaterEqual(inferred, (1, 0, 0))
            # The consumer leaves out internal topics (exclude_internal_topics: Metadata's
            # is_internal), the admin client lists them.
            self.assertEqual({"orders", "audit"}, consumer.topics())
            self.assertEqual({0, 1, 2}, consumer.partitions_for_topic("orders"))
        finally:
            consumer.close()
        self.assertBrokerHealthy()

    def test_admin_client_describes_cluster_and_topics(self):
        admin = KafkaAdminClient(bootstrap_servers=self.broker.bootstrap,
                                 request_timeout_ms=60000, api_version_auto_timeout_ms=30000)
        try:
            cluster = admin.describe_cluster()
            self.assertEqual(self.broker.cluster_id(), cluster["cluster_id"])
            self.assertEqual(0, cluster["controller_id"])
            self.assertEqual([(0, self.broker.host, self.broker.port)],
                             [(b["node_id"], b["host"], b["port"]) for b in cluster["brokers"]])
            self.assertEqual({"orders", "audit", "__consumer_offsets", "__transaction_state"},
                             set(admin.list_topics()))
            described = {t["topic"]: t for t in admin.describe_topics(["orders", "missing"])}
            self.assertEqual(0, described["orders"]["error_code"])
            self.assertEqual(3, len(described["orders"]["partitions"]))
            self.assertEqual(kafka_wire.UNKNOWN_TOPIC_OR_PARTITION,
                             described["missing"]["error_code"])
        finally:
            admin.close()
        self.assertBrokerHealthy()


if __name__ == "__main__":
    harness.main()
