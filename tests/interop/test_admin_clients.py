#!/usr/bin/python3
"""The Python admin clients against Cairn: confluent-kafka-python's AdminClient (librdkafka
2.0) and kafka-python's KafkaAdminClient (2.0.2) create, describe, alter, grow and delete
topics, and get Kafka's errors for bad requests, including validate_only dry runs and the
read-modify-write of configs that tools do (describe, change one, alter with all of them).
"""
from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import (AdminClient, ConfigResource, ConfigSource, NewPartitions,
                                   NewTopic)
from kafka import errors as kafka_errors
from kafka.admin import ConfigResource as KPConfigResource
from kafka.admin import ConfigResourceType, KafkaAdminClient
from kafka.admin import NewPartitions as KPNewPartitions
from kafka.admin import NewTopic as KPNewTopic

import admin_wire as aw
import harness

TIMEOUT_S = 60


def error_code(future):
    """The Kafka error code a confluent-kafka admin future ended with (0: success)."""
    try:
        future.result(timeout=TIMEOUT_S)
        return 0
    except KafkaException as e:
        return e.args[0].code()


class ConfluentAdmin(harness.BrokerTestCase):
    def setUp(self):
        self.client = AdminClient({"bootstrap.servers": self.broker.bootstrap,
                                   "socket.timeout.ms": 30000})

    def tearDown(self):
        self.assertBrokerHealthy()

    def create(self, *topics, validate_only=False):
        futures = self.client.create_topics(list(topics), validate_only=validate_only,
                                            operation_timeout=30)
        return {name: error_code(f) for name, f in futures.items()}

    def partitions(self, topic):
        """The partition count, or None if there is no such topic. (Not list_topics(topic=):
        that Metadata request may auto-create the topic.)"""
        with aw.Admin(self.broker.bootstrap) as admin:
            count = admin.partition_counts([topic])[topic]
        return None if count < 0 else count

    def test_create_describe_alter_grow_delete(self):
        self.assertEqual({"ck-orders": 0}, self.create(
            NewTopic("ck-orders", 3, 1, config={"retention.ms": "3600000"})))
        self.assertEqual(3, self.partitions("ck-orders"))
        resource = ConfigResource("topic", "ck-orders")
        configs = self.client.describe_configs([resource])[resource].result(timeout=TIMEOUT_S)
        self.assertEqual(33, len(configs))
        self.assertEqual("3600000", configs["retention.ms"].value)
        self.assertEqual(ConfigSource.DYNAMIC_TOPIC_CONFIG.value, configs["retention.ms"].source)
        self.assertEqual(ConfigSource.DEFAULT_CONFIG.value, configs["segment.bytes"].source)
        self.assertFalse(configs["retention.ms"].is_read_only)

        # Read-modify-write as tools do it: every current override plus the change.
        overrides = {name: entry.value for name, entry in configs.items()
                     if entry.source == ConfigSource.DYNAMIC_TOPIC_CONFIG.value}
        overrides["max.message.bytes"] = "2000000"
        change = ConfigResource("topic", "ck-orders", set_config=overrides)
        self.assertEqual(0, error_code(self.client.alter_configs([change])[change]))
        configs = self.client.describe_configs([resource])[resource].result(timeout=TIMEOUT_S)
        self.assertEqual("3600000", configs["retention.ms"].value)
        self.assertEqual("2000000", configs["max.message.bytes"].value)

        futures = self.client.create_partitions([NewPartitions("ck-orders", 6)])
        self.assertEqual(0, error_code(futures["ck-orders"]))
        self.assertEqual(6, self.partitions("ck-orders"))
        futures = self.client.delete_topics(["ck-orders"], operation_timeout=30)
        self.assertEqual(0, error_code(futures["ck-orders"]))
        self.assertIsNone(self.partitions("ck-orders"))

    def test_default_partition_count_and_validate_only(self):
        self.assertEqual({"ck-default": 0}, self.create(NewTopic("ck-default", -1, -1)))
        self.assertEqual(1, self.partitions("ck-default"))
        self.assertEqual({"ck-dry": 0}, self.create(NewTopic("ck-dry", 2, 1), validate_only=True))
        self.assertIsNone(self.partitions("ck-dry"))

    def test_errors(self):
        self.assertEqual({"ck-exists": 0}, self.create(NewTopic("ck-exists", 1, 1)))
        self.assertEqual({"ck-exists": KafkaError.TOPIC_ALREADY_EXISTS},
                         self.create(NewTopic("ck-exists", 1, 1)))
        self.assertEqual({"ck-rf": KafkaError.INVALID_REPLICATION_FACTOR},
                         self.create(NewTopic("ck-rf", 1, 3)))
        self.assertEqual({"ck-config": KafkaError.INVALID_CONFIG},
                         self.create(NewTopic("ck-config", 1, 1, config={"retention.ms": "x"})))
        self.assertEqual({"ck bad": KafkaError.TOPIC_EXCEPTION},
                         self.create(NewTopic("ck bad", 1, 1)))
        shrink = self.client.create_partitions([NewPartitions("ck-exists", 1)])
        self.assertEqual(KafkaError.INVALID_PARTITIONS, error_code(shrink["ck-exists"]))
        missing = self.client.delete_topics(["ck-missing"], operation_timeout=30)
        self.assertEqual(KafkaError.UNKNOWN_TOPIC_OR_PART, error_code(missing["ck-missing"]))
        resource = ConfigResource("topic", "ck-missing")
        self.assertEqual(KafkaError.UNKNOWN_TOPIC_OR_PART,
                         error_code(self.client.describe_configs([resource])[resource]))

    def test_broker_configs(self):
        resource = ConfigResource("broker", "0")
        configs = self.client.describe_configs([resource])[resource].result(timeout=TIMEOUT_S)
        self.assertEqual("1", configs["num.partitions"].value)
        self.assertTrue(configs["num.partitions"].is_read_only)
        self.assertEqual(ConfigSource.DEFAULT_CONFIG.value, configs["log.segment.bytes"].source)


class KafkaPythonAdmin(harness.BrokerTestCase):
    def setUp(self):
        self.client = KafkaAdminClient(bootstrap_servers=self.broker.bootstrap,
                                       request_timeout_ms=30000)

    def tearDown(self):
        self.client.close()
        self.assertBrokerHealthy()

    def test_create_describe_alter_grow_delete(self):
        self.client.create_topics([KPNewTopic("kp-orders", 2, 1,
                                              topic_configs={"segment.bytes": "1048576"})])
        with aw.Admin(self.broker.bootstrap) as admin:
            self.assertEqual({"kp-orders": 2}, admin.partition_counts(["kp-orders"]))
        described = self.client.describe_configs(
            [KPConfigResource(ConfigResourceType.TOPIC, "kp-orders")])
        entries = {e[0]: e[1] for e in described[0].resources[0][4]}
        self.assertEqual(33, len(entries))
        self.assertEqual("1048576", entries["segment.bytes"])

        self.client.alter_configs([KPConfigResource(ConfigResourceType.TOPIC, "kp-orders",
                                                    configs={"retention.ms": "7200000"})])
        with aw.Admin(self.broker.bootstrap) as admin:
            configs = admin.topic_configs("kp-orders")
            self.assertEqual(("7200000", aw.DYNAMIC_TOPIC_CONFIG), (configs["retention.ms"][0],
                                                                     configs["retention.ms"][2]))
            self.assertEqual(aw.DEFAULT_CONFIG, configs["segment.bytes"][2])  # replaced

        self.client.create_partitions({"kp-orders": KPNewPartitions(4)})
        self.client.delete_topics(["kp-orders"])
        with aw.Admin(self.broker.bootstrap) as admin:
            self.assertEqual({"kp-orders": -aw.UNKNOWN_TOPIC_OR_PARTITION},
                             admin.partition_counts(["kp-orders"]))

    def test_errors_raise_the_matching_exceptions(self):
        self.client.create_topics([KPNewTopic("kp-exists", 1, 1)])
        with self.assertRaises(kafka_errors.TopicAlreadyExistsError):
            self.client.create_topics([KPNewTopic("kp-exists", 1, 1)])
        with self.assertRaises(kafka_errors.InvalidReplicationFactorError):
            self.client.create_topics([KPNewTopic("kp-rf", 1, 2)])
        with self.assertRaises(kafka_errors.InvalidPartitionsError):
            self.client.create_partitions({"kp-exists": KPNewPartitions(1)})
        with self.assertRaises(kafka_errors.UnknownTopicOrPartitionError):
            self.client.delete_topics(["kp-missing"])
        self.client.create_topics([KPNewTopic("kp-dry", 1, 1)], validate_only=True)
        with aw.Admin(self.broker.bootstrap) as admin:
            self.assertEqual({"kp-dry": -aw.UNKNOWN_TOPIC_OR_PARTITION},
                             admin.partition_counts(["kp-dry"]))


if __name__ == "__main__":
    harness.main()
