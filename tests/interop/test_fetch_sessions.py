#!/usr/bin/python3
"""Incremental fetch sessions (KIP-227) on the wire: a full Fetch with epoch 0 creates a
session; incremental Fetches name only what changed and get only the partitions with something
to say; forgotten_topics_data removes partitions; FETCH_SESSION_ID_NOT_FOUND (70),
INVALID_FETCH_SESSION_EPOCH (71) and FETCH_SESSION_TOPIC_ID_ERROR (106) come alone at the top
level; epoch -1 closes a session; max.incremental.fetch.session.cache.slots=0 keeps none; a
restart forgets them; and librdkafka reads many partitions right (librdkafka 2.0.2, Debian's,
sends sessionless fetches: session id 0, epoch -1).

Fetch v12 (names) and v13 (topic ids) are hand-encoded from Kafka's message spec, and the
answers decoded to their last byte, with the helpers of test_groups_versions.py; Fetch v7
(the first with sessions, not flexible) goes through kafka-python's own codec.
"""
import re
import shutil
import tempfile
import unittest
import urllib.request

from confluent_kafka import Consumer, Producer, TopicPartition
from kafka.protocol.fetch import FetchRequest
from kafka.record.memory_records import MemoryRecords

import harness
import kafka_wire as kw
from kafka_wire import compact_string
from test_groups_versions import NO_TAGS, Reader, compact_array, i8, i32, i64
from test_topic_ids import Wire

FETCH = 1
NONE = 0
UNKNOWN_TOPIC_OR_PARTITION = 3
FETCH_SESSION_ID_NOT_FOUND, INVALID_FETCH_SESSION_EPOCH = 70, 71
FETCH_SESSION_TOPIC_ID_ERROR = 106


class SessionWire(Wire):
    def fetch_session(self, version, session_id, epoch, topics, forgotten=(), max_wait_ms=0,
                      min_bytes=0):
        """Fetch v12/v13 with a session. topics: [(name or id, [(partition, offset)])],
        forgotten: [(name or id, [partition])]. Returns (error, session id, {(topic,
        partition): (error, high watermark, [offsets])}) with topics as the answer names them."""
        body = self.fetch_body(version, session_id, epoch, topics, forgotten, max_wait_ms,
                               min_bytes)
        return self.fetch_answer(self.call(FETCH, version, body), version)

    @staticmethod
    def fetch_body(version, session_id, epoch, topics, forgotten, max_wait_ms, min_bytes):
        def topic_field(topic):
            return topic if version >= 13 else compact_string(topic)

        def part(partition, offset):
            return (i32(partition) + i32(-1) + i64(offset) + i32(-1) + i64(-1) + i32(1 << 20) +
                    NO_TAGS)

        return (i32(-1) + i32(max_wait_ms) + i32(min_bytes) + i32(50 << 20) + i8(0) +
                i32(session_id) + i32(epoch) +
                compact_array([topic_field(t) + compact_array([part(p, o) for p, o in parts]) +
                               NO_TAGS for t, parts in topics]) +
                compact_array([topic_field(t) + compact_array([i32(p) for p in parts]) + NO_TAGS
                               for t, parts in forgotten]) +
                compact_string("") + NO_TAGS)

    def fetch_answer(self, r, version):
        r.int32()  # throttle
        error = r.int16()
        answer_session = r.int32()
        out = {}
        for topic in self.fetch_topics(r, by_id=version >= 13):
            for p in topic["partitions"]:
                offsets = []
                memory = MemoryRecords(p["records"] or b"")
                while memory.has_next():
                    offsets.extend(record.offset for record in memory.next_batch())
                out[(topic["topic"], p["index"])] = (p["error"], p["high_watermark"], offsets)
        return error, answer_session, out

    def pipelined(self, version, requests):
        """Sends every request (fetch_body arguments after `version`) before reading any
        answer; returns the answers in request order."""
        first = self.correlation + 1
        for args in requests:
            self.correlation += 1
            body = self.fetch_body(version, *args)
            self.conn.send(kw.framed(kw.raw_header_v2(FETCH, version, self.correlation) + body))
        answers = []
        for correlation in range(first, self.correlation + 1):
            r = Reader(self.conn.read_frame())
            assert r.int32() == correlation
            r.tags()
            answers.append(self.fetch_answer(r, version))
        return answers


def produce(bootstrap, topic, counts):
    """counts: {partition: records to append}."""
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5})
    for partition, count in counts.items():
        for i in range(count):
            producer.produce(topic, value=b"v%d" % i, partition=partition)
    assert producer.flush(30) == 0


def scrape(broker, name):
    with urllib.request.urlopen(broker.admin_url + "/metrics", timeout=10) as response:
        text = response.read().decode()
    found = re.search(r"^%s (\S+)$" % re.escape(name), text, re.MULTILINE)
    assert found, name + " not in /metrics"
    return float(found.group(1))


class FetchSessions(harness.BrokerTestCase):
    def setUp(self):
        self.wire = SessionWire(self.broker.bootstrap)

    def tearDown(self):
        self.wire.close()

    def all_partitions(self, topic, count, offset=0):
        return [(topic, [(p, offset) for p in range(count)])]

    def test_incremental_fetches_answer_only_what_changed(self):
        self.assertEqual(NONE, self.wire.create_topic("inc", 4)[0])
        produce(self.broker.bootstrap, "inc", {0: 3, 1: 2})
        error, session, answer = self.wire.fetch_session(12, 0, 0, self.all_partitions("inc", 4))
        self.assertEqual(NONE, error)
        self.assertNotEqual(0, session)
        self.assertEqual({("inc", 0): (NONE, 3, [0, 1, 2]), ("inc", 1): (NONE, 2, [0, 1]),
                          ("inc", 2): (NONE, 0, []), ("inc", 3): (NONE, 0, [])}, answer)
        self.assertGreaterEqual(scrape(self.broker, "cairn_kafka_fetch_sessions"), 1)

        # The client moves partitions 0 and 1 on; nothing else changed: an empty answer.
        error, same, answer = self.wire.fetch_session(
            12, session, 1, [("inc", [(0, 3), (1, 2)])])
        self.assertEqual((NONE, session, {}), (error, same, answer))

        # New records on partition 2 only: only partition 2 is answered, from the cached offset.
        produce(self.broker.bootstrap, "inc", {2: 2})
        error, _, answer = self.wire.fetch_session(12, session, 2, [])
        self.assertEqual((NONE, {("inc", 2): (NONE, 2, [0, 1])}), (error, answer))

        # Forget partition 2: its new records are not answered; partition 3's are.
        error, _, answer = self.wire.fetch_session(12, session, 3, [], forgotten=[("inc", [2])])
        self.assertEqual((NONE, {}), (error, answer))
        produce(self.broker.bootstrap, "inc", {2: 1, 3: 1})
        error, _, answer = self.wire.fetch_session(12, session, 4, [])
        self.assertEqual((NONE, {("inc", 3): (NONE, 1, [0])}), (error, answer))

        # A partition added back is answered; partition 3, moved on past its record, is not.
        error, _, answer = self.wire.fetch_session(12, session, 5, [("inc", [(2, 2), (3, 1)])])
        self.assertEqual((NONE, {("inc", 2): (NONE, 3, [2])}), (error, answer))
        self.assertBrokerHealthy()

    def test_session_errors_come_alone(self):
        self.assertEqual(NONE, self.wire.create_topic("errs", 2)[0])
        _, session, _ = self.wire.fetch_session(12, 0, 0, self.all_partitions("errs", 2))
        self.assertNotEqual(0, session)
        self.assertEqual((INVALID_FETCH_SESSION_EPOCH, 0, {}),
                         self.wire.fetch_session(12, session, 7, self.all_partitions("errs", 2)))
        stranger = session + 1 if session < 2**31 - 1 else session - 1
        self.assertEqual((FETCH_SESSION_ID_NOT_FOUND, 0, {}),
                         self.wire.fetch_session(12, stranger, 1, []))
        # The errors left the session as it was: epoch 1 is still the one it expects.
        self.assertEqual((NONE, session, {}), self.wire.fetch_session(12, session, 1, []))
        self.assertEqual((INVALID_FETCH_SESSION_EPOCH, 0, {}),
                         self.wire.fetch_session(12, session, 1, []))

    def test_requests_no_session_could_hold_get_none(self):
        """A name no topic can have (over 249 characters) is never copied into a session: a
        full fetch naming one is answered without a session, an incremental one closes it."""
        self.assertEqual(NONE, self.wire.create_topic("holdable", 1)[0])
        long_name = "x" * 300
        error, session, answer = self.wire.fetch_session(
            12, 0, 0, [("holdable", [(0, 0)]), (long_name, [(p, 0) for p in range(50)])])
        self.assertEqual((NONE, 0), (error, session))
        self.assertEqual(UNKNOWN_TOPIC_OR_PARTITION, answer[(long_name, 49)][0])
        _, session, _ = self.wire.fetch_session(12, 0, 0, [("holdable", [(0, 0)])])
        self.assertNotEqual(0, session)
        self.assertEqual((FETCH_SESSION_ID_NOT_FOUND, 0, {}),
                         self.wire.fetch_session(12, session, 1, [(long_name, [(0, 0)])]))
        self.assertEqual((FETCH_SESSION_ID_NOT_FOUND, 0, {}),
                         self.wire.fetch_session(12, session, 2, []))  # it was closed
        self.assertBrokerHealthy()

    def test_final_epoch_closes_the_session(self):
        self.assertEqual(NONE, self.wire.create_topic("closing", 2)[0])
        produce(self.broker.bootstrap, "closing", {0: 1})
        _, session, _ = self.wire.fetch_session(12, 0, 0, self.all_partitions("closing", 2))
        self.assertNotEqual(0, session)
        # Epoch -1 with the session's id: closed, and this fetch is a sessionless full one.
        error, answer_session, answer = self.wire.fetch_session(
            12, session, -1, self.all_partitions("closing", 2))
        self.assertEqual((NONE, 0), (error, answer_session))
        self.assertEqual({("closing", 0): (NONE, 1, [0]), ("closing", 1): (NONE, 0, [])}, answer)
        self.assertEqual((FETCH_SESSION_ID_NOT_FOUND, 0, {}),
                         self.wire.fetch_session(12, session, 1, []))
        # Session id 0, epoch -1: sessionless, nothing cached.
        self.assertEqual(0, self.wire.fetch_session(12, 0, -1,
                                                    self.all_partitions("closing", 2))[1])

    def test_sessions_by_topic_id(self):
        error, topic_id = self.wire.create_topic("byid", 2)
        self.assertEqual(NONE, error)
        produce(self.broker.bootstrap, "byid", {1: 2})
        error, session, answer = self.wire.fetch_session(13, 0, 0, self.all_partitions(topic_id, 2))
        self.assertEqual(NONE, error)
        self.assertNotEqual(0, session)
        self.assertEqual({(topic_id, 0): (NONE, 0, []), (topic_id, 1): (NONE, 2, [0, 1])}, answer)
        # The session names topics by id: a v12 request (names) may not use it.
        self.assertEqual((FETCH_SESSION_TOPIC_ID_ERROR, 0, {}),
                         self.wire.fetch_session(12, session, 1, []))
        error, _, answer = self.wire.fetch_session(13, session, 1, [(topic_id, [(1, 2)])],
                                                   forgotten=[(topic_id, [0])])
        self.assertEqual((NONE, {}), (error, answer))
        produce(self.broker.bootstrap, "byid", {0: 1, 1: 1})
        error, _, answer = self.wire.fetch_session(13, session, 2, [])
        self.assertEqual((NONE, {(topic_id, 1): (NONE, 3, [2])}), (error, answer))

    def test_closing_request_overtakes_a_waiting_one(self):
        # A long-polls (epoch 1); B, sent right after it, forgets every partition, which closes
        # the session. B completes first (replies still go out in request order); A then finds
        # the session's epoch moved on.
        self.assertEqual(NONE, self.wire.create_topic("overtake", 2)[0])
        _, session, _ = self.wire.fetch_session(12, 0, 0, self.all_partitions("overtake", 2))
        self.assertNotEqual(0, session)
        waiting, closing = self.wire.pipelined(12, [
            (session, 1, [], (), 3000, 1),
            (session, 2, [], [("overtake", [0, 1])], 0, 0)])
        self.assertEqual((NONE, 0, {}), closing)
        self.assertEqual((INVALID_FETCH_SESSION_EPOCH, session, {}), waiting)
        self.assertBrokerHealthy()

    def test_fetch_v7_with_kafka_python_codec(self):
        """The first session version, not flexible, encoded by kafka-python's own structs."""
        self.assertEqual(NONE, self.wire.create_topic("v7", 2)[0])
        produce(self.broker.bootstrap, "v7", {0: 2})
        conn = kw.Connection(self.broker.bootstrap)
        try:
            def fetch(session, epoch, partitions, correlation_id):
                return conn.request(FetchRequest[7](
                    -1, 0, 0, 1 << 20, 0, session, epoch,
                    [("v7", [(p, offset, -1, 1 << 20) for p, offset in partitions])] if partitions
                    else [], []), correlation_id)

            full = fetch(0, 0, [(0, 0), (1, 0)], 1)
            self.assertEqual(NONE, full.error_code)
            self.assertNotEqual(0, full.session_id)
            self.assertEqual([(0, 2), (1, 0)], [(p[0], p[2]) for p in full.topics[0][1]])
            incremental = fetch(full.session_id, 1, [(0, 2)], 2)
            self.assertEqual((NONE, full.session_id, []),
                             (incremental.error_code, incremental.session_id, incremental.topics))
        finally:
            conn.close()

    def test_librdkafka_reads_many_partitions(self):
        partitions, per_partition = 64, 10
        self.assertEqual(NONE, self.wire.create_topic("many", partitions)[0])
        produce(self.broker.bootstrap, "many", {p: per_partition for p in range(partitions)})
        consumer = Consumer({"bootstrap.servers": self.broker.bootstrap, "group.id": "many",
                             "enable.auto.commit": False, "fetch.wait.max.ms": 50})
        consumer.assign([TopicPartition("many", p, 0) for p in range(partitions)])
        seen = {}
        try:
            deadline = 600
            while sum(len(v) for v in seen.values()) < partitions * per_partition and deadline:
                deadline -= 1
                for message in consumer.consume(500, timeout=0.2):
                    self.assertIsNone(message.error())
                    seen.setdefault(message.partition(), []).append(message.offset())
        finally:
            consumer.close()
        self.assertEqual({p: list(range(per_partition)) for p in range(partitions)}, seen)
        self.assertBrokerHealthy()


class NoSessionSlots(harness.BrokerTestCase):
    broker_args = ("--set", "max.incremental.fetch.session.cache.slots=0")

    def test_full_fetch_answers_session_zero(self):
        wire = SessionWire(self.broker.bootstrap)
        try:
            self.assertEqual(NONE, wire.create_topic("noslots", 1)[0])
            error, session, answer = wire.fetch_session(12, 0, 0, [("noslots", [(0, 0)])])
            self.assertEqual((NONE, 0, {("noslots", 0): (NONE, 0, [])}), (error, session, answer))
            self.assertEqual((FETCH_SESSION_ID_NOT_FOUND, 0, {}),
                             wire.fetch_session(12, 12345, 1, []))
        finally:
            wire.close()


class RestartForgetsSessions(unittest.TestCase):
    def test_session_unknown_after_restart(self):
        data_dir = tempfile.mkdtemp(prefix="cairn-fetch-sessions-")
        with harness.Broker(data_dir=data_dir, shards=1) as broker:
            wire = SessionWire(broker.bootstrap)
            self.assertEqual(NONE, wire.create_topic("restart", 1)[0])
            _, session, _ = wire.fetch_session(12, 0, 0, [("restart", [(0, 0)])])
            self.assertNotEqual(0, session)
            self.assertEqual(NONE, wire.fetch_session(12, session, 1, [])[0])
            wire.close()
        with harness.Broker(data_dir=data_dir, shards=1) as broker:
            wire = SessionWire(broker.bootstrap)
            self.assertEqual((FETCH_SESSION_ID_NOT_FOUND, 0, {}),
                             wire.fetch_session(12, session, 2, []))
            # The client starts over with a full fetch, which the topic still answers.
            error, again, answer = wire.fetch_session(12, session, 0, [("restart", [(0, 0)])])
            self.assertEqual((NONE, {("restart", 0): (NONE, 0, [])}), (error, answer))
            self.assertNotEqual(0, again)
            wire.close()
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    harness.main()
