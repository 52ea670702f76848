#!/usr/bin/env python3
"""Partition admission and open files: the broker hosts only as many partitions as it can
serve, and never fails to start for want of file descriptors.

- The hostile-input reproducer (one 39-byte CreateTopics v0 asking for 7,000 partitions)
  under a 1,024 open files limit is refused at once with POLICY_VIOLATION naming the limit;
  nothing is created, the broker keeps serving, and it restarts after kill -9.
- --max-partitions-per-shard caps what CreateTopics and CreatePartitions may add (internal
  topics count), with POLICY_VIOLATION; validate_only reports the same.
- A data directory holding more partitions than a lower open files limit allows still starts:
  the logs that fit are opened and serve, the others answer KAFKA_STORAGE_ERROR (an error
  line says how to raise the limit), and with the limit back every record is there.
"""
import os
import resource
import shutil
import socket
import struct
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import confluent_kafka  # noqa: E402
from confluent_kafka.admin import AdminClient, NewPartitions, NewTopic  # noqa: E402

from harness import main  # noqa: E402
import produce_support as ps  # noqa: E402

TIMEOUT_S = 60
POLICY_VIOLATION = 44
KAFKA_STORAGE_ERROR = 56

# The reproducer: CreateTopics v0, correlation id 0, client id "", topic "x" with 7,000
# partitions, replication factor 1, timeout 60 s.
HOSTILE = bytes.fromhex("00000023001300000000000100000000000100017800001b580001"
                        "00000000000000000000ea60")


def nofile(limit):
    """A preexec function giving the child `limit` open files (soft and hard)."""
    def lower():
        resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))
    return lower


def start(data_dir, limit, extra_args=(), port=0):
    return ps.start_broker(data_dir, port=port, extra_args=extra_args, preexec=nofile(limit))


def create_topics_error(bootstrap, frame):
    """Sends one raw CreateTopics v0 frame; returns the first topic's (name, error code)."""
    host, port = bootstrap.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=TIMEOUT_S) as sock:
        sock.sendall(frame)
        data = b""
        while len(data) < 4 or len(data) < 4 + struct.unpack(">i", data[:4])[0]:
            chunk = sock.recv(65536)
            if not chunk:
                raise AssertionError("broker closed the connection")
            data += chunk
    # size, correlation id, topic count, name (int16 length + bytes), error code
    name_length = struct.unpack(">h", data[12:14])[0]
    name = data[14:14 + name_length].decode()
    (error,) = struct.unpack(">h", data[14 + name_length:16 + name_length])
    return name, error


def admin_error(future):
    try:
        future.result(TIMEOUT_S)
    except confluent_kafka.KafkaException as failure:
        return failure.args[0]
    return None


class PartitionLimitsTest(unittest.TestCase):
    def setUp(self):
        self.data_dir = tempfile.mkdtemp(prefix="cairn-partition-limits-")
        self.broker = None

    def tearDown(self):
        if self.broker is not None and self.broker.process is not None:
            self.broker.stop()
        shutil.rmtree(self.data_dir, ignore_errors=True)

    def round_trip(self, topic, partition, value):
        with ps.WireClient(self.broker.bootstrap) as client:
            error, offset = client.produce(topic, partition, ps.build_batch([(None, value, [])]))
            if error != 0:
                return error
            error, _, batches = client.fetch(topic, partition, offset)
            self.assertEqual(error, 0)
            self.assertIn(value, [record[3] for record in batches])
            return 0

    def test_hostile_create_topics_is_refused_and_the_broker_restarts(self):
        self.broker = start(self.data_dir, 1024)
        name, error = create_topics_error(self.broker.bootstrap, HOSTILE)
        self.assertEqual((name, error), ("x", POLICY_VIOLATION))
        self.assertFalse(os.path.exists(os.path.join(self.data_dir, "x-0")))
        admin = AdminClient({"bootstrap.servers": self.broker.bootstrap})
        refused = admin_error(admin.create_topics([NewTopic("y", 7000, 1)])["y"])
        self.assertEqual(refused.code(), confluent_kafka.KafkaError.POLICY_VIOLATION)
        self.assertIn("open files", refused.str())
        self.assertIsNone(admin_error(admin.create_topics([NewTopic("small", 8, 1)])["small"]))
        self.assertEqual(self.round_trip("small", 7, b"after"), 0)
        port = self.broker.port
        ps.kill9(self.broker)
        self.broker = start(self.data_dir, 1024, port=port)
        self.assertEqual(self.round_trip("small", 3, b"restarted"), 0)
        metadata = AdminClient({"bootstrap.servers": self.broker.bootstrap}).list_topics(
            timeout=TIMEOUT_S)
        self.assertNotIn("x", metadata.topics)

    def test_partition_ceiling_refuses_creations_past_it(self):
        # 2 shards x 40 = 80; the internal topics hold 32 (16 + 16 partitions).
        self.broker = start(self.data_dir, 4096, ["--max-partitions-per-shard", "40"])
        admin = AdminClient({"bootstrap.servers": self.broker.bootstrap})
        self.assertIsNone(admin_error(admin.create_topics([NewTopic("a", 40, 1)])["a"]))
        refused = admin_error(admin.create_topics([NewTopic("b", 10, 1)])["b"])
        self.assertIsNotNone(refused)
        self.assertEqual(refused.code(), confluent_kafka.KafkaError.POLICY_VIOLATION)
        self.assertIn("limit is 80", refused.str())
        validated = admin_error(admin.create_topics([NewTopic("b", 10, 1)],
                                                    validate_only=True)["b"])
        self.assertEqual(validated.code(), confluent_kafka.KafkaError.POLICY_VIOLATION)
        grown = admin_error(admin.create_partitions([NewPartitions("a", 50)])["a"])
        self.assertEqual(grown.code(), confluent_kafka.KafkaError.POLICY_VIOLATION)
        self.assertIsNone(admin_error(admin.create_partitions([NewPartitions("a", 48)])["a"]))
        metadata = admin.list_topics(timeout=TIMEOUT_S)
        self.assertNotIn("b", metadata.topics)
        self.assertEqual(len(metadata.topics["a"].partitions), 48)

    def test_start_with_too_few_open_files_serves_what_fits(self):
        self.broker = start(self.data_dir, 4096)
        admin = AdminClient({"bootstrap.servers": self.broker.bootstrap})
        self.assertIsNone(admin_error(admin.create_topics([NewTopic("wide", 150, 1)])["wide"]))
        for p in (0, 149):
            self.assertEqual(self.round_trip("wide", p, b"before-%d" % p), 0)
        port = self.broker.port
        self.broker.stop()

        # 512 descriptors, 256 kept for connections: the internal topics and some of "wide"
        # are opened, the rest are not; the broker starts and answers.
        self.broker = start(self.data_dir, 512, port=port)
        self.assertIn("partition(s) not opened", self.broker.stderr())
        self.assertEqual(self.round_trip("wide", 0, b"during-0"), 0)
        self.assertEqual(self.round_trip("wide", 149, b"during-149"), KAFKA_STORAGE_ERROR)
        self.broker.stop()

        self.broker = start(self.data_dir, 4096, port=port)
        self.assertNotIn("not opened", self.broker.stderr())
        for p in (0, 149):
            with ps.WireClient(self.broker.bootstrap) as client:
                error, _, batches = client.fetch("wide", p, 0)
                self.assertEqual(error, 0)
                values = [record[3] for record in batches]
                self.assertIn(b"before-%d" % p, values)
        self.assertEqual(self.round_trip("wide", 149, b"after-149"), 0)


if __name__ == "__main__":
    main()
