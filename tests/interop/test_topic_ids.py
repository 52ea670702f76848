#!/usr/bin/python3
"""Topic ids (KIP-516) on the wire: CreateTopics v7 answers the new topic's id, Metadata v12
answers ids and looks topics up by id, Fetch v13 and v17 read by id, DeleteTopics v6 deletes by
name or by id; a stale id (after delete and re-create) is UNKNOWN_TOPIC_ID everywhere, and an
id survives a restart.

Every request is hand-encoded from Kafka's message specs (flexible versions), independently of
Cairn's generated codecs, and every answer decoded to its last byte (the helpers of
test_groups_versions.py). Records are produced with confluent-kafka and decoded with
kafka-python's MemoryRecords.
"""
import shutil
import tempfile
import unittest
import uuid

from confluent_kafka import Producer
from kafka.record.memory_records import MemoryRecords

import harness
from test_groups_versions import NO_TAGS, Client, compact_array, i8, i16, i32, i64, nullable
from kafka_wire import compact_string

FETCH, METADATA, CREATE_TOPICS, DELETE_TOPICS = 1, 3, 19, 20
NONE, INVALID_REQUEST, UNKNOWN_TOPIC_ID = 0, 42, 100
ZERO = bytes(16)


class Wire(Client):
    def uuid(self, r):
        return r.take(16)

    def create_topic(self, name, partitions):
        """CreateTopics v7: (error, topic id)."""
        topic = (compact_string(name) + i32(partitions) + i16(-1) + compact_array([]) +
                 compact_array([]) + NO_TAGS)
        r = self.call(CREATE_TOPICS, 7, compact_array([topic]) + i32(30000) + i8(0) + NO_TAGS)
        r.int32()  # throttle
        results = r.compact_array(lambda: r.item(
            name="compact_string", topic_id=lambda: self.uuid(r), error="int16",
            message="compact_string", partitions="int32", replication="int16",
            configs=lambda: r.compact_array(lambda: r.item(
                name="compact_string", value="compact_string", read_only="boolean",
                source="int8", sensitive="boolean"))))
        r.tags()
        assert r.done()
        assert results[0]["name"] == name
        return results[0]["error"], results[0]["topic_id"]

    def metadata(self, topics):
        """Metadata v12; topics: [(name or None, id bytes)], None for all. Returns [topic]."""
        body = compact_array(None if topics is None else
                             [ident + nullable(name) + NO_TAGS for name, ident in topics])
        r = self.call(METADATA, 12, body + i8(0) + i8(0) + NO_TAGS)
        r.int32()  # throttle
        r.compact_array(lambda: r.item(node="int32", host="compact_string", port="int32",
                                       rack="compact_string"))
        r.compact_string()  # cluster id
        r.int32()  # controller
        out = r.compact_array(lambda: r.item(
            error="int16", name="compact_string", topic_id=lambda: self.uuid(r),
            internal="boolean", partitions=lambda: r.compact_array(lambda: r.item(
                error="int16", index="int32", leader="int32", epoch="int32",
                replicas=lambda: r.compact_array(r.int32),
                isr=lambda: r.compact_array(r.int32),
                offline=lambda: r.compact_array(r.int32))),
            operations="int32"))
        r.tags()
        assert r.done()
        return out

    def fetch(self, version, topic_id, partition, offset):
        """Fetch v13+ of one partition by topic id: (error, high watermark, [(offset, value)])."""
        part = (i32(partition) + i32(-1) + i64(offset) + i32(-1) + i64(-1) + i32(1 << 20) +
                NO_TAGS)
        head = b"" if version >= 15 else i32(-1)  # replica_id, a tagged field from v15
        body = (head + i32(0) + i32(0) + i32(50 << 20) + i8(0) + i32(0) + i32(-1) +
                compact_array([topic_id + compact_array([part]) + NO_TAGS]) +
                compact_array([]) + compact_string("") + NO_TAGS)
        r = self.call(FETCH, version, body)
        r.int32()  # throttle
        assert r.int16() == NONE
        r.int32()  # session id
        topics = self.fetch_topics(r, by_id=True)
        assert topics[0]["topic"] == topic_id
        p = topics[0]["partitions"][0]
        records = []
        memory = MemoryRecords(p["records"] or b"")
        while memory.has_next():
            for record in memory.next_batch():
                records.append((record.offset, record.value))
        return p["error"], p["high_watermark"], records

    def fetch_topics(self, r, by_id):
        """The rest of a Fetch v12+ answer after its session id: [topic], each topic by id
        (v13+) or by name, with its partitions; checks the answer ends there."""
        topics = r.compact_array(lambda: r.item(
            topic=(lambda: self.uuid(r)) if by_id else "compact_string",
            partitions=lambda: r.compact_array(lambda: r.item(
                index="int32", error="int16", high_watermark="int64", lso="int64",
                log_start="int64",
                aborted=lambda: r.compact_array(lambda: r.item(producer="int64", first="int64")),
                preferred="int32", records="compact_bytes"))))
        r.tags()
        assert r.done()
        return topics

    def delete(self, entries):
        """DeleteTopics v6; entries: [(name or None, id bytes)]. Returns [result dict]."""
        body = compact_array([nullable(name) + ident + NO_TAGS for name, ident in entries])
        r = self.call(DELETE_TOPICS, 6, body + i32(30000) + NO_TAGS)
        r.int32()
        out = r.compact_array(lambda: r.item(name="compact_string", topic_id=lambda: self.uuid(r),
                                             error="int16", message="compact_string"))
        r.tags()
        assert r.done()
        return out


def produce(bootstrap, topic, values):
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5})
    for value in values:
        producer.produce(topic, value=value, partition=0)
    assert producer.flush(30) == 0


class TopicIds(harness.BrokerTestCase):
    def setUp(self):
        self.wire = Wire(self.broker.bootstrap)

    def tearDown(self):
        self.wire.close()

    def test_create_metadata_fetch_delete_by_id(self):
        error, topic_id = self.wire.create_topic("ids-orders", 2)
        self.assertEqual(NONE, error)
        self.assertNotEqual(ZERO, topic_id)
        # Metadata by name and by id agree; an unknown id is UNKNOWN_TOPIC_ID with no name.
        by_name, = self.wire.metadata([("ids-orders", ZERO)])
        self.assertEqual((NONE, topic_id, 2), (by_name["error"], by_name["topic_id"],
                                              len(by_name["partitions"])))
        by_id, = self.wire.metadata([(None, topic_id)])
        self.assertEqual((NONE, "ids-orders"), (by_id["error"], by_id["name"]))
        stranger = uuid.uuid4().bytes
        unknown, = self.wire.metadata([(None, stranger)])
        self.assertEqual((UNKNOWN_TOPIC_ID, None, stranger),
                         (unknown["error"], unknown["name"], unknown["topic_id"]))
        # Every topic's answer carries its id, internal topics included.
        everything = {t["name"]: t["topic_id"] for t in self.wire.metadata(None)}
        self.assertEqual(topic_id, everything["ids-orders"])
        self.assertNotIn(ZERO, everything.values())
        self.assertIn("__consumer_offsets", everything)
        self.assertEqual([], self.wire.metadata([]))  # an empty list asks for none (v1+)

        produce(self.broker.bootstrap, "ids-orders", [b"a", b"b", b"c"])
        for version in (13, 17):
            error, high_watermark, records = self.wire.fetch(version, topic_id, 0, 0)
            self.assertEqual((NONE, 3), (error, high_watermark))
            self.assertEqual([(0, b"a"), (1, b"b"), (2, b"c")], records)
            error, _, _ = self.wire.fetch(version, stranger, 0, 0)
            self.assertEqual(UNKNOWN_TOPIC_ID, error)

        # Delete by id; the id goes stale, and the name's next topic has a new id.
        deleted, = self.wire.delete([(None, topic_id)])
        self.assertEqual((NONE, "ids-orders", topic_id),
                         (deleted["error"], deleted["name"], deleted["topic_id"]))
        error, again = self.wire.create_topic("ids-orders", 1)
        self.assertEqual(NONE, error)
        self.assertNotEqual(topic_id, again)
        self.assertEqual(UNKNOWN_TOPIC_ID, self.wire.fetch(13, topic_id, 0, 0)[0])
        self.assertEqual(UNKNOWN_TOPIC_ID, self.wire.metadata([(None, topic_id)])[0]["error"])
        self.assertEqual((NONE, 0, []), self.wire.fetch(13, again, 0, 0))
        self.assertBrokerHealthy()

    def test_delete_topics_v6_errors(self):
        error, topic_id = self.wire.create_topic("ids-doomed", 1)
        self.assertEqual(NONE, error)
        results = self.wire.delete([("ids-doomed", topic_id), (None, uuid.uuid4().bytes),
                                    (None, ZERO)])
        self.assertEqual([INVALID_REQUEST, UNKNOWN_TOPIC_ID, INVALID_REQUEST],
                         [r["error"] for r in results])
        # By name: deleted, and the answer names its id.
        deleted, = self.wire.delete([("ids-doomed", ZERO)])
        self.assertEqual((NONE, topic_id), (deleted["error"], deleted["topic_id"]))
        self.assertBrokerHealthy()


class TopicIdsAcrossRestart(unittest.TestCase):
    def test_an_id_survives_a_restart(self):
        data_dir = tempfile.mkdtemp(prefix="cairn-topic-ids-")
        with harness.Broker(data_dir=data_dir) as broker:
            wire = Wire(broker.bootstrap)
            error, topic_id = wire.create_topic("ids-kept", 1)
            self.assertEqual(NONE, error)
            wire.close()
            produce(broker.bootstrap, "ids-kept", [b"kept"])
        with harness.Broker(data_dir=data_dir) as broker:
            wire = Wire(broker.bootstrap)
            topic, = wire.metadata([("ids-kept", ZERO)])
            self.assertEqual(topic_id, topic["topic_id"])
            self.assertEqual((NONE, 1, [(0, b"kept")]), wire.fetch(13, topic_id, 0, 0))
            wire.close()
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    harness.main()
