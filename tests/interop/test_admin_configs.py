#!/usr/bin/python3
"""Topic and broker configs through the admin APIs, over the wire (admin_wire.py):
DescribeConfigs lists every config with its source and synonyms, AlterConfigs replaces the
whole override set, IncrementalAlterConfigs SET/DELETE/APPEND/SUBTRACT, dynamic broker
configs become every topic's default, validate_only changes nothing, and all of it survives
a restart. Retention changes delete old segments (needs Produce; skipped while it is absent).
"""
import glob
import os
import shutil
import tempfile
import time
import unittest

from kafka import KafkaProducer

import admin_wire as aw
import harness

# Every topic config Cairn knows (src/broker/configs/config_defs.cc).
TOPIC_CONFIG_COUNT = 33
PRODUCE = 0


class TopicConfigs(harness.BrokerTestCase):
    def setUp(self):
        self.admin = aw.Admin(self.broker.bootstrap)

    def tearDown(self):
        self.admin.close()
        self.assertBrokerHealthy()

    def test_describe_lists_every_config_with_its_source(self):
        self.assertEqual(aw.NONE, self.admin.create_topic(
            "cfg-describe", 2, 1, {"retention.ms": "3600000", "cleanup.policy": "compact"})[0])
        configs = self.admin.topic_configs("cfg-describe", include_synonyms=True)
        self.assertEqual(TOPIC_CONFIG_COUNT, len(configs))
        value, read_only, source, sensitive, synonyms = configs["retention.ms"]
        self.assertEqual(("3600000", False, aw.DYNAMIC_TOPIC_CONFIG, False),
                         (value, read_only, source, sensitive))
        self.assertEqual([("retention.ms", "3600000", aw.DYNAMIC_TOPIC_CONFIG),
                          ("log.retention.hours", "604800000", aw.DEFAULT_CONFIG)],
                         [tuple(s) for s in synonyms])
        self.assertEqual(("compact", aw.DYNAMIC_TOPIC_CONFIG), configs["cleanup.policy"][::2][:2])
        self.assertEqual(("1073741824", aw.DEFAULT_CONFIG), configs["segment.bytes"][::2][:2])
        self.assertEqual(("CreateTime", aw.DEFAULT_CONFIG),
                         configs["message.timestamp.type"][::2][:2])
        # v0: is_default instead of the source.
        v0 = self.admin.describe_configs([(aw.TOPIC, "cfg-describe", ["retention.ms",
                                                                      "segment.ms"])], version=0)
        self.assertEqual({"retention.ms": False, "segment.ms": True},
                         {entry[0]: entry[3] for entry in v0[0][4]})

    def test_alter_configs_replaces_the_whole_override_set(self):
        self.assertEqual(aw.NONE, self.admin.create_topic(
            "cfg-replace", 1, 1, {"retention.ms": "3600000", "segment.bytes": "1048576"})[0])
        result = self.admin.alter_configs([(aw.TOPIC, "cfg-replace",
                                            {"max.message.bytes": "2000000"})])
        self.assertEqual([(aw.NONE, None, aw.TOPIC, "cfg-replace")], result)
        configs = self.admin.topic_configs("cfg-replace")
        self.assertEqual(("2000000", aw.DYNAMIC_TOPIC_CONFIG), configs["max.message.bytes"][::2][:2])
        self.assertEqual(aw.DEFAULT_CONFIG, configs["retention.ms"][2])   # gone back
        self.assertEqual(aw.DEFAULT_CONFIG, configs["segment.bytes"][2])

    def test_validate_only_changes_nothing(self):
        self.assertEqual(aw.NONE, self.admin.create_topic("cfg-dry")[0])
        self.assertEqual(aw.NONE, self.admin.alter_configs(
            [(aw.TOPIC, "cfg-dry", {"retention.ms": "1"})], validate_only=True)[0][0])
        self.assertEqual(aw.NONE, self.admin.incremental_alter_configs(
            [(aw.TOPIC, "cfg-dry", [("retention.ms", aw.SET, "1")])], validate_only=True)[0][0])
        self.assertEqual(aw.DEFAULT_CONFIG, self.admin.topic_configs("cfg-dry")["retention.ms"][2])

    def test_incremental_set_delete_append_subtract(self):
        self.assertEqual(aw.NONE, self.admin.create_topic(
            "cfg-incremental", 1, 1, {"retention.bytes": "1000000"})[0])
        result = self.admin.incremental_alter_configs([(aw.TOPIC, "cfg-incremental", [
            ("retention.ms", aw.SET, "7200000"),
            ("retention.bytes", aw.DELETE, None),
            ("cleanup.policy", aw.APPEND, "compact"),
        ])])
        self.assertEqual(aw.NONE, result[0][0], result)
        configs = self.admin.topic_configs("cfg-incremental")
        self.assertEqual("7200000", configs["retention.ms"][0])
        self.assertEqual(("-1", aw.DEFAULT_CONFIG), configs["retention.bytes"][::2][:2])
        self.assertEqual("delete,compact", configs["cleanup.policy"][0])
        self.assertEqual(aw.NONE, self.admin.incremental_alter_configs([(aw.TOPIC, "cfg-incremental", [
            ("cleanup.policy", aw.SUBTRACT, "delete")])])[0][0])
        self.assertEqual("compact", self.admin.topic_configs("cfg-incremental")["cleanup.policy"][0])

    def test_reported_configs_are_kept(self):
        self.assertEqual(aw.NONE, self.admin.create_topic(
            "cfg-reported", 1, 1, {"min.insync.replicas": "2", "compression.type": "zstd",
                                   "follower.replication.throttled.replicas": "0:0"})[0])
        configs = self.admin.topic_configs("cfg-reported")
        self.assertEqual("2", configs["min.insync.replicas"][0])
        self.assertEqual("zstd", configs["compression.type"][0])
        self.assertEqual("0:0", configs["follower.replication.throttled.replicas"][0])

    def test_broker_configs(self):
        resources = self.admin.describe_configs([(aw.BROKER, "0", None)], include_synonyms=True)
        self.assertEqual(aw.NONE, resources[0][0])
        entries = {e[0]: e for e in resources[0][4]}
        self.assertEqual(("1", True, aw.DEFAULT_CONFIG), entries["num.partitions"][1:4])
        self.assertEqual(("168", False, aw.DEFAULT_CONFIG), entries["log.retention.hours"][1:4])
        self.assertIsNone(entries["log.retention.ms"][1])
        self.assertEqual("PLAINTEXT://127.0.0.1:%d" % self.broker.port,
                         entries["advertised.listeners"][1])
        self.assertEqual(("0", True, aw.STATIC_BROKER_CONFIG), entries["node.id"][1:4])


class DynamicBrokerConfigs(harness.BrokerTestCase):
    """Its own broker: these tests change the defaults of every topic."""

    def test_a_cluster_default_becomes_every_topics_default(self):
        with aw.Admin(self.broker.bootstrap) as admin:
            self.assertEqual(aw.NONE, admin.create_topic("dyn-plain")[0])
            self.assertEqual(aw.NONE, admin.create_topic("dyn-own", 1, 1,
                                                         {"segment.bytes": "65536"})[0])
            result = admin.incremental_alter_configs([(aw.BROKER, "", [
                ("log.segment.bytes", aw.SET, "2097152")])])
            self.assertEqual(aw.NONE, result[0][0], result)
            plain = admin.topic_configs("dyn-plain", include_synonyms=True)["segment.bytes"]
            self.assertEqual(("2097152", aw.DYNAMIC_DEFAULT_BROKER_CONFIG), plain[::2][:2])
            self.assertEqual(("log.segment.bytes", "2097152", aw.DYNAMIC_DEFAULT_BROKER_CONFIG),
                             tuple(plain[4][0]))
            self.assertEqual("65536", admin.topic_configs("dyn-own")["segment.bytes"][0])
            # Per-broker beats the cluster default; "" lists the cluster defaults only.
            self.assertEqual(aw.NONE, admin.alter_configs(
                [(aw.BROKER, "0", {"log.retention.minutes": "90"})])[0][0])
            self.assertEqual(("5400000", aw.DYNAMIC_BROKER_CONFIG),
                             admin.topic_configs("dyn-plain")["retention.ms"][::2][:2])
            default = admin.describe_configs([(aw.BROKER, "", None)])[0]
            self.assertEqual([("log.segment.bytes", "2097152", aw.DYNAMIC_DEFAULT_BROKER_CONFIG)],
                             [(e[0], e[1], e[3]) for e in default[4]])
            self.assertEqual(aw.NONE, admin.incremental_alter_configs([(aw.BROKER, "", [
                ("log.segment.bytes", aw.DELETE, None)])])[0][0])
            self.assertEqual(aw.NONE, admin.alter_configs([(aw.BROKER, "0", {})])[0][0])
            plain = admin.topic_configs("dyn-plain")
            self.assertEqual(aw.DEFAULT_CONFIG, plain["segment.bytes"][2])
            self.assertEqual(aw.DEFAULT_CONFIG, plain["retention.ms"][2])
        self.assertBrokerHealthy()


class ConfigsSurviveRestart(unittest.TestCase):
    def test_topics_overrides_and_dynamic_configs_survive_a_restart(self):
        data_dir = tempfile.mkdtemp(prefix="cairn-interop-")
        try:
            with harness.Broker(shards=2, data_dir=data_dir) as broker:
                with aw.Admin(broker.bootstrap) as admin:
                    self.assertEqual(aw.NONE, admin.create_topic(
                        "kept", 3, 1, {"retention.ms": "3600000"})[0])
                    self.assertEqual(aw.NONE, admin.create_topic("dropped")[0])
                    self.assertEqual(aw.NONE, admin.incremental_alter_configs([(aw.TOPIC, "kept", [
                        ("cleanup.policy", aw.SET, "compact,delete")])])[0][0])
                    self.assertEqual(aw.NONE, admin.create_partitions([("kept", 5, None)])[0][1])
                    self.assertEqual([("dropped", aw.NONE)], admin.delete_topics(["dropped"]))
                    self.assertEqual(aw.NONE, admin.alter_configs(
                        [(aw.BROKER, "0", {"message.max.bytes": "3000000"})])[0][0])
                    before = admin.topic_configs("kept")
            with harness.Broker(shards=3, data_dir=data_dir) as broker:
                with aw.Admin(broker.bootstrap) as admin:
                    self.assertEqual({"kept": 5, "dropped": -aw.UNKNOWN_TOPIC_OR_PARTITION},
                                     admin.partition_counts(["kept", "dropped"]))
                    after = admin.topic_configs("kept")
                    self.assertEqual(before, after)
                    self.assertEqual("3600000", after["retention.ms"][0])
                    self.assertEqual("compact,delete", after["cleanup.policy"][0])
                    self.assertEqual(("3000000", aw.DYNAMIC_BROKER_CONFIG),
                                     after["max.message.bytes"][::2][:2])
        finally:
            shutil.rmtree(data_dir, ignore_errors=True)


def segment_count(data_dir, topic, partition=0):
    return len(glob.glob(os.path.join(data_dir, "%s-%d" % (topic, partition), "*.log")))


def wait_for(condition, what, timeout_s=120):
    """Polls `condition` (retention runs on a timer); fails after a generous bound."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError("timed out waiting for " + what)


class RetentionChangesDeleteSegments(harness.BrokerTestCase):
    broker_args = ("--set", "log.retention.check.interval.ms=100")

    def setUp(self):
        self.admin = aw.Admin(self.broker.bootstrap)
        if PRODUCE not in self.admin.api_versions():
            self.skipTest("Produce is not served yet")

    def tearDown(self):
        self.admin.close()
        self.assertBrokerHealthy()

    def fill(self, topic, count, timestamp_ms=None):
        producer = KafkaProducer(bootstrap_servers=self.broker.bootstrap, linger_ms=0,
                                 batch_size=1, acks="all", api_version=(2, 0, 0))
        for i in range(count):
            producer.send(topic, value=b"v" * 400, key=b"k%d" % i, partition=0,
                          timestamp_ms=timestamp_ms)
            producer.flush()  # one batch each, so segments roll at segment.bytes
        producer.close()

    def low_watermark(self, topic):
        return self.admin.delete_records(topic, {0: 0})[0][0]  # offset 0: changes nothing

    def test_lower_retention_bytes_deletes_old_segments(self):
        self.assertEqual(aw.NONE, self.admin.create_topic(
            "ret-bytes", 1, 1, {"segment.bytes": "2048"})[0])
        self.fill("ret-bytes", 40)
        data_dir = self.broker.data_dir
        before = segment_count(data_dir, "ret-bytes")
        self.assertGreater(before, 5)
        self.assertEqual(0, self.low_watermark("ret-bytes"))
        self.assertEqual(aw.NONE, self.admin.incremental_alter_configs([(aw.TOPIC, "ret-bytes", [
            ("retention.bytes", aw.SET, "4096")])])[0][0])
        wait_for(lambda: segment_count(data_dir, "ret-bytes") <= 4, "retention.bytes")
        self.assertGreater(self.low_watermark("ret-bytes"), 0)

    def test_lower_retention_ms_deletes_old_segments(self):
        self.assertEqual(aw.NONE, self.admin.create_topic(
            "ret-ms", 1, 1, {"segment.bytes": "2048"})[0])
        an_hour_ago = int(time.time() * 1000) - 3600 * 1000
        self.fill("ret-ms", 20, timestamp_ms=an_hour_ago)
        data_dir = self.broker.data_dir
        self.assertGreater(segment_count(data_dir, "ret-ms"), 3)
        time.sleep(0.5)  # a few retention checks with the default retention: nothing goes
        self.assertEqual(0, self.low_watermark("ret-ms"))
        self.assertEqual(aw.NONE, self.admin.alter_configs([(aw.TOPIC, "ret-ms", {
            "segment.bytes": "2048", "retention.ms": "60000"})])[0][0])
        wait_for(lambda: segment_count(data_dir, "ret-ms") <= 1, "retention.ms")
        self.assertGreater(self.low_watermark("ret-ms"), 0)

    def test_delete_records_moves_the_low_watermark(self):
        self.assertEqual(aw.NONE, self.admin.create_topic("ret-records", 1)[0])
        self.fill("ret-records", 10)
        self.assertEqual({0: (4, aw.NONE)}, self.admin.delete_records("ret-records", {0: 4}))
        self.assertEqual({0: (4, aw.NONE)}, self.admin.delete_records("ret-records", {0: 2}))
        self.assertEqual({0: (-1, aw.OFFSET_OUT_OF_RANGE)},
                         self.admin.delete_records("ret-records", {0: 11}))
        self.assertEqual({0: (10, aw.NONE)}, self.admin.delete_records("ret-records", {0: -1}))


if __name__ == "__main__":
    harness.main()
