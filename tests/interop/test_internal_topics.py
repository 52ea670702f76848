#!/usr/bin/env python3
"""__consumer_offsets is a topic like any other for readers, and the broker's alone to write.

Checked against the real broker with real clients:
- Metadata lists it with is_internal=true and Kafka's partition count (16).
- An offset committed by confluent-kafka (librdkafka) is read back by kafka-python consuming
  __consumer_offsets directly, from the partition Kafka's own rule names (abs(Java hashCode of
  the group id) % 16), and decoded with Kafka's schemas (OffsetCommitKey v1, OffsetCommitValue
  v1/v3) by the decoder below, written from Kafka's schema files, not from Cairn's encoder. A
  reader parked in a long poll sees the next commit (the coordinator's appends wake Fetches).
- Clients cannot write it: Produce gets INVALID_TOPIC_EXCEPTION (librdkafka reports the
  delivery as failed), DeleteRecords too; `cairn topic list` hides it unless --internal.
"""
import os
import struct
import subprocess
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import admin_wire as aw  # noqa: E402
from cli_support import cli_env  # noqa: E402
from harness import BrokerTestCase, cairn_binary, main  # noqa: E402
from kafka.protocol.metadata import MetadataRequest  # noqa: E402

OFFSETS = "__consumer_offsets"
OFFSETS_PARTITIONS = 16
READ_TIMEOUT_S = 45
# Longer than READ_TIMEOUT_S: a parked Fetch that is not woken by the next commit returns too
# late for the test to see the commit.
FETCH_MAX_WAIT_MS = 120000


def java_string_hash(text):
    """Java's String.hashCode: over UTF-16 code units, in 32-bit two's complement."""
    encoded = text.encode("utf-16-be")
    value = 0
    for i in range(0, len(encoded), 2):
        value = (31 * value + int.from_bytes(encoded[i:i + 2], "big")) & 0xFFFFFFFF
    return value - (1 << 32) if value >= 1 << 31 else value


def offsets_partition(group):
    """Kafka's GroupCoordinator.partitionFor: Utils.abs(hashCode) % partitions."""
    h = java_string_hash(group)
    magnitude = 0 if h == -(1 << 31) else abs(h)
    return magnitude % OFFSETS_PARTITIONS


class Cursor:
    def __init__(self, data):
        self.data = data
        self.pos = 0

    def take(self, fmt):
        values = struct.unpack_from(fmt, self.data, self.pos)
        self.pos += struct.calcsize(fmt)
        return values[0]

    def string(self):
        size = self.take(">h")
        if size < 0:
            return None
        text = self.data[self.pos:self.pos + size].decode()
        self.pos += size
        return text


def decode_key(key):
    """(version, group, topic, partition) for an offset commit key; (2, group) for
    GroupMetadataKey."""
    cursor = Cursor(key)
    version = cursor.take(">h")
    group = cursor.string()
    if version in (0, 1):
        return version, group, cursor.string(), cursor.take(">i")
    return version, group


def decode_commit_value(value):
    """{"offset", "leader_epoch", "metadata", "commit_timestamp"} of OffsetCommitValue v0-3."""
    cursor = Cursor(value)
    version = cursor.take(">h")
    out = {"version": version, "offset": cursor.take(">q"), "leader_epoch": -1}
    if version >= 3:
        out["leader_epoch"] = cursor.take(">i")
    out["metadata"] = cursor.string()
    out["commit_timestamp"] = cursor.take(">q")
    if version == 1:
        out["expire_timestamp"] = cursor.take(">q")
    return out


class ConsumerOffsetsTopicTest(BrokerTestCase):
    def test_metadata_lists_it_as_internal(self):
        with aw.Admin(self.broker.bootstrap) as admin:
            response = admin.request(MetadataRequest[1](topics=None))
        topics = {name: (code, internal, len(partitions))
                  for code, name, internal, partitions in response.topics}
        self.assertEqual((0, True, OFFSETS_PARTITIONS), topics[OFFSETS])
        # The transaction coordinator's topic exists from the start too (16 partitions).
        self.assertEqual((0, True, 16), topics["__transaction_state"])
        self.assertBrokerHealthy()

    def test_commit_by_librdkafka_is_read_by_kafka_python(self):
        from confluent_kafka import Consumer, Producer, TopicPartition
        from kafka import KafkaConsumer
        from kafka import TopicPartition as KTopicPartition
        topic, group = "ledger-postings", "ledger-audit"
        producer = Producer({"bootstrap.servers": self.broker.bootstrap})
        for i in range(5):
            producer.produce(topic, value=b"posting-%d" % i)
        self.assertEqual(0, producer.flush(30))

        committer = Consumer({"bootstrap.servers": self.broker.bootstrap, "group.id": group,
                              "enable.auto.commit": False})
        committer.commit(offsets=[TopicPartition(topic, 0, 3)], asynchronous=False)

        partition = offsets_partition(group)
        reader = KafkaConsumer(bootstrap_servers=self.broker.bootstrap, group_id=None,
                               enable_auto_commit=False, auto_offset_reset="earliest",
                               fetch_max_wait_ms=FETCH_MAX_WAIT_MS,
                               request_timeout_ms=FETCH_MAX_WAIT_MS + 60000)
        try:
            reader.assign([KTopicPartition(OFFSETS, partition)])
            reader.seek_to_beginning()
            commit = self.read_commit(reader, group, topic, lambda value: True)
            self.assertEqual(3, commit["offset"])
            self.assertGreater(commit["commit_timestamp"], (time.time() - 3600) * 1000)

            # Park the reader at the end in a long poll; the next commit must wake it.
            reader.poll(timeout_ms=2000)
            committer.commit(offsets=[TopicPartition(topic, 0, 5)], asynchronous=False)
            commit = self.read_commit(reader, group, topic, lambda value: value["offset"] == 5)
            self.assertEqual(5, commit["offset"])
        finally:
            reader.close()
            committer.close()
        self.assertBrokerHealthy()

    def read_commit(self, reader, group, topic, wanted):
        deadline = time.time() + READ_TIMEOUT_S
        seen = []
        while time.time() < deadline:
            for message in reader.poll(timeout_ms=1000).get(
                    next(iter(reader.assignment())), []):
                key = decode_key(message.key)
                seen.append(key)
                if key[0] in (0, 1) and key[1:] == (group, topic, 0) and \
                        message.value is not None:
                    value = decode_commit_value(message.value)
                    if wanted(value):
                        return value
        self.fail("no matching commit of %s in %s; saw keys %r" % (group, OFFSETS, seen))

    def test_clients_cannot_write_it(self):
        from confluent_kafka import KafkaError, Producer
        reports = []
        producer = Producer({"bootstrap.servers": self.broker.bootstrap,
                             "message.timeout.ms": 20000})
        producer.produce(OFFSETS, key=b"k", value=b"v", partition=0,
                         on_delivery=lambda err, msg: reports.append(err))
        producer.flush(30)
        self.assertEqual(1, len(reports))
        self.assertIsNotNone(reports[0])
        self.assertEqual(KafkaError.TOPIC_EXCEPTION, reports[0].code(), reports[0])

        with aw.Admin(self.broker.bootstrap) as admin:
            self.assertEqual({0: (-1, aw.INVALID_TOPIC_EXCEPTION)},
                             admin.delete_records(OFFSETS, {0: 0}))
        self.assertBrokerHealthy()

    def test_topic_list_hides_it_unless_asked(self):
        def listed(*flags):
            result = subprocess.run(
                [cairn_binary(), "topic", "list", "-b", self.broker.bootstrap, *flags],
                capture_output=True, text=True, timeout=60, env=cli_env(), check=True)
            return [line.split()[0] for line in result.stdout.splitlines()[1:]]
        self.assertNotIn(OFFSETS, listed())
        self.assertNotIn("__transaction_state", listed())
        self.assertIn(OFFSETS, listed("--internal"))
        self.assertIn("__transaction_state", listed("--internal"))


if __name__ == "__main__":
    main()
