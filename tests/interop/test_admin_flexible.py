#!/usr/bin/python3
"""Admin APIs at their flexible versions (KIP-482 compact encodings and tagged fields), which
the Java tools use and the clients installed here do not: CreateTopics v5 returns the new
topic's partition count, replication factor and every config with its source (also for
validate_only); DescribeConfigs v4 returns config types and, when asked, documentation.
Hand-encoded here from the Kafka spec, independently of Cairn's generated codecs.
"""
import struct

import admin_wire as aw
import harness
import kafka_wire as kw
from kafka_wire import compact_string, uvarint

CREATE_TOPICS = 19
DESCRIBE_CONFIGS = 32
TOPIC_CONFIG_COUNT = 33
LONG, INT, LIST = 5, 3, 7  # DescribeConfigs v3+ config_type


def compact_array(items):
    return uvarint(len(items) + 1) + b"".join(items)


def compact_nullable_string(text):
    return b"\x00" if text is None else compact_string(text)


class FlexibleReader(kw.Reader):
    def compact_string(self):
        size = self.uvarint() - 1
        return None if size < 0 else self.take(size).decode()

    def compact_array(self, item):
        count = self.uvarint() - 1
        return None if count < 0 else [item() for _ in range(count)]

    def boolean(self):
        return self.int8() != 0

    def tags(self):
        """Skips a tagged-field section; returns {tag: bytes}."""
        fields = {}
        for _ in range(self.uvarint()):
            tag = self.uvarint()
            fields[tag] = self.take(self.uvarint())
        return fields


def create_topics_v5(correlation_id, name, partitions, replication, configs, validate_only):
    config_items = [compact_string(k) + compact_nullable_string(v) + b"\x00"
                    for k, v in configs.items()]
    topic = (compact_string(name) + struct.pack(">ih", partitions, replication) +
             compact_array([]) + compact_array(config_items) + b"\x00")
    body = compact_array([topic]) + struct.pack(">i?", 30000, validate_only) + b"\x00"
    return kw.framed(kw.raw_header_v2(CREATE_TOPICS, 5, correlation_id) + body)


def decode_create_topics_v5(payload):
    r = FlexibleReader(payload)
    r.int32()  # correlation id
    r.tags()   # response header v1
    r.int32()  # throttle_time_ms

    def config():
        entry = (r.compact_string(), r.compact_string(), r.boolean(), r.int8(), r.boolean())
        r.tags()
        return entry

    def topic():
        result = {"name": r.compact_string(), "error_code": r.int16(),
                  "error_message": r.compact_string(), "num_partitions": r.int32(),
                  "replication_factor": r.int16(), "configs": r.compact_array(config)}
        result["tags"] = r.tags()
        return result

    topics = r.compact_array(topic)
    r.tags()
    assert r.done(), "trailing bytes in CreateTopics v5 response"
    return topics


def describe_configs_v4(correlation_id, name, include_documentation):
    resource = (struct.pack(">b", aw.TOPIC) + compact_string(name) + b"\x00" + b"\x00")
    body = compact_array([resource]) + struct.pack(">??", True, include_documentation) + b"\x00"
    return kw.framed(kw.raw_header_v2(DESCRIBE_CONFIGS, 4, correlation_id) + body)


def decode_describe_configs_v4(payload):
    r = FlexibleReader(payload)
    r.int32()
    r.tags()
    r.int32()

    def synonym():
        entry = (r.compact_string(), r.compact_string(), r.int8())
        r.tags()
        return entry

    def config():
        entry = {"name": r.compact_string(), "value": r.compact_string(),
                 "read_only": r.boolean(), "source": r.int8(), "sensitive": r.boolean(),
                 "synonyms": r.compact_array(synonym), "type": r.int8(),
                 "documentation": r.compact_string()}
        r.tags()
        return entry

    def resource():
        entry = {"error_code": r.int16(), "error_message": r.compact_string(),
                 "type": r.int8(), "name": r.compact_string(),
                 "configs": r.compact_array(config)}
        r.tags()
        return entry

    resources = r.compact_array(resource)
    r.tags()
    assert r.done(), "trailing bytes in DescribeConfigs v4 response"
    return resources


class FlexibleAdmin(harness.BrokerTestCase):
    def exchange(self, frame):
        with kw.Connection(self.broker.bootstrap) as conn:
            conn.send(frame)
            payload = conn.read_frame()
        self.assertIsNotNone(payload, "broker closed the connection")
        return payload

    def create(self, name, partitions, replication, configs, validate_only=False):
        frame = create_topics_v5(7, name, partitions, replication, configs, validate_only)
        return decode_create_topics_v5(self.exchange(frame))[0]

    def test_create_topics_v5_returns_the_topic(self):
        for validate_only in (True, False):
            topic = self.create("flex-orders", -1, -1, {"retention.ms": "3600000"},
                                validate_only)
            self.assertEqual((aw.NONE, None), (topic["error_code"], topic["error_message"]))
            self.assertEqual((1, 1), (topic["num_partitions"], topic["replication_factor"]))
            configs = {c[0]: c[1:] for c in topic["configs"]}
            self.assertEqual(TOPIC_CONFIG_COUNT, len(configs))
            self.assertEqual(("3600000", False, aw.DYNAMIC_TOPIC_CONFIG, False),
                             configs["retention.ms"])
            self.assertEqual(("delete", False, aw.DEFAULT_CONFIG, False),
                             configs["cleanup.policy"])
        with aw.Admin(self.broker.bootstrap) as admin:
            self.assertEqual({"flex-orders": 1}, admin.partition_counts(["flex-orders"]))
        self.assertBrokerHealthy()

    def test_create_topics_v5_errors(self):
        topic = self.create("flex-bad", 3, 2, {})
        self.assertEqual(aw.INVALID_REPLICATION_FACTOR, topic["error_code"])
        self.assertTrue(topic["error_message"])
        self.assertEqual((-1, -1), (topic["num_partitions"], topic["replication_factor"]))
        topic = self.create("flex-bad", 3, 1, {"retention.ms": None})
        self.assertEqual(aw.INVALID_CONFIG, topic["error_code"])
        self.assertBrokerHealthy()

    def test_describe_configs_v4_types_and_documentation(self):
        with aw.Admin(self.broker.bootstrap) as admin:
            self.assertEqual(aw.NONE, admin.create_topic("flex-described")[0])
        for with_documentation in (False, True):
            payload = self.exchange(describe_configs_v4(9, "flex-described", with_documentation))
            resource = decode_describe_configs_v4(payload)[0]
            self.assertEqual(aw.NONE, resource["error_code"])
            configs = {c["name"]: c for c in resource["configs"]}
            self.assertEqual(TOPIC_CONFIG_COUNT, len(configs))
            self.assertEqual(LONG, configs["retention.ms"]["type"])
            self.assertEqual(INT, configs["segment.bytes"]["type"])
            self.assertEqual(LIST, configs["cleanup.policy"]["type"])
            self.assertEqual([("log.retention.hours", "604800000", aw.DEFAULT_CONFIG)],
                             configs["retention.ms"]["synonyms"])
            documentation = configs["retention.ms"]["documentation"]
            if with_documentation:
                self.assertIn("older than", documentation)
            else:
                self.assertIsNone(documentation)
        self.assertBrokerHealthy()


if __name__ == "__main__":
    harness.main()
