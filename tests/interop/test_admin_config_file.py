#!/usr/bin/python3
"""`cairn serve --config FILE`: the YAML file's settings and Kafka broker configs reach the
broker (num.partitions shows up in an auto-created topic, log.retention.hours in every topic's
retention.ms as a STATIC_BROKER_CONFIG), flags beat the file, and a bad file or an unknown
Kafka config stops the broker with exit code 2 and a message naming the problem.
"""
import os
import shutil
import subprocess
import tempfile
import unittest

from kafka.protocol.metadata import MetadataRequest

import admin_wire as aw
import harness

CONFIG = """\
# cairn.yaml for test_admin_config_file.py
shards: 1
log-level: info
advertise: localhost:9999
kafka:
  num.partitions: 4
  log.retention.hours: 48
  message.max.bytes: 2000000
  group.initial.rebalance.delay.ms: 0
"""


def auto_create(admin, topic):
    """Metadata v4 with allow_auto_topic_creation; returns the partition count (or -error)."""
    response = admin.request(MetadataRequest[4](topics=[topic], allow_auto_topic_creation=True))
    for error_code, name, _internal, partitions in response.topics:
        if name == topic:
            return len(partitions) if error_code == aw.NONE else -error_code
    raise AssertionError("no answer for " + topic)


class ConfigFile(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="cairn-config-")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def write(self, text):
        path = os.path.join(self.dir, "cairn.yaml")
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_the_files_configs_reach_the_broker(self):
        path = self.write(CONFIG)
        with harness.Broker(shards=1, extra_args=["--config", path]) as broker:
            with aw.Admin(broker.bootstrap) as admin:
                self.assertEqual(4, auto_create(admin, "from-file"))
                broker_entries = {e[0]: e for e in admin.describe_configs(
                    [(aw.BROKER, "0", ["num.partitions", "log.retention.hours",
                                       "advertised.listeners"])])[0][4]}
                self.assertEqual("PLAINTEXT://localhost:9999",
                                 broker_entries["advertised.listeners"][1])
                self.assertEqual(("4", True, aw.STATIC_BROKER_CONFIG),
                                 broker_entries["num.partitions"][1:4])
                self.assertEqual(("48", False, aw.STATIC_BROKER_CONFIG),
                                 broker_entries["log.retention.hours"][1:4])
                configs = admin.topic_configs("from-file", include_synonyms=True)
                value, _, source, _, synonyms = configs["retention.ms"]
                self.assertEqual(("172800000", aw.STATIC_BROKER_CONFIG), (value, source))
                self.assertEqual(("log.retention.hours", "172800000", aw.STATIC_BROKER_CONFIG),
                                 tuple(synonyms[0]))
                self.assertEqual("2000000", configs["max.message.bytes"][0])
                # CreateTopics with -1 partitions takes num.partitions too.
                self.assertEqual(aw.NONE, admin.create_topic("default-count", -1, -1)[0])
                self.assertEqual({"default-count": 4}, admin.partition_counts(["default-count"]))
            self.assertIn("1 shard(s)", broker.stderr())

    def test_flags_beat_the_file(self):
        path = self.write(CONFIG)
        args = ["--config", path, "--num-partitions", "2", "--set", "log.retention.hours=1"]
        with harness.Broker(shards=2, extra_args=args) as broker:
            with aw.Admin(broker.bootstrap) as admin:
                self.assertEqual(2, auto_create(admin, "from-flags"))
                self.assertEqual("3600000", admin.topic_configs("from-flags")["retention.ms"][0])
            self.assertIn("2 shard(s)", broker.stderr())  # the harness's --shards 2

    def test_auto_creation_can_be_turned_off_in_the_file(self):
        path = self.write("kafka:\n  auto.create.topics.enable: false\n")
        with harness.Broker(shards=1, extra_args=["--config", path]) as broker:
            with aw.Admin(broker.bootstrap) as admin:
                self.assertEqual(-aw.UNKNOWN_TOPIC_OR_PARTITION, auto_create(admin, "not-made"))

    def refused(self, text, *extra, path=None):
        path = path or self.write(text)
        data_dir = os.path.join(self.dir, "data")
        process = subprocess.run(
            [harness.cairn_binary(), "serve", "--listen", "127.0.0.1:0", "--data-dir", data_dir,
             "--config", path] + list(extra),
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            timeout=120)
        stderr = process.stderr.decode()
        self.assertEqual(2, process.returncode, stderr)
        for marker in harness.REPORT_MARKERS:
            self.assertNotIn(marker, stderr)
        return stderr

    def test_bad_files_stop_the_broker_with_a_message(self):
        self.assertIn("zookeeper.connect", self.refused("kafka:\n  zookeeper.connect: zk:2181\n"))
        self.assertIn("num.partitions", self.refused("kafka:\n  num.partitions: many\n"))
        self.assertIn("default.replication.factor",
                      self.refused("kafka:\n  default.replication.factor: 3\n"))
        self.assertIn("line 2", self.refused("shards: 1\nshards: 2\n"))
        self.assertIn("unknown setting 'colour'", self.refused("colour: blue\n"))
        self.assertIn("shards", self.refused("shards: zero\n"))
        self.assertIn("line", self.refused("listen: [unclosed\n"))
        self.assertIn("no such file", self.refused("", path="/nonexistent/cairn.yaml"))
        self.assertIn("expected NAME=VALUE", self.refused("", "--set", "oops"))


if __name__ == "__main__":
    harness.main()
