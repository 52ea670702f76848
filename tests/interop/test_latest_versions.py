#!/usr/bin/python3
"""The last Kafka 3.9 versions of Produce (v8-v11), ListOffsets (v6-v9), InitProducerId (v5),
AddOffsetsToTxn / EndTxn / TxnOffsetCommit (v4), AddPartitionsToTxn (v4-v5) and ApiVersions
(v4), which the clients installed here do not send:

- Produce v8+ explains a refused batch (KIP-467): the records at fault by index in the batch
  (record_errors) and an error_message; v9+ is flexible; v10/v11 add nothing Cairn must send.
- ListOffsets v7-v9 answer MAX_TIMESTAMP (-3, KIP-734: the first record with the highest
  timestamp), EARLIEST_LOCAL (-4: the log start) and LATEST_TIERED (-5: offset -1, nothing is
  tiered).
- A transaction driven entirely at the new versions commits its records and its offsets.
- AddPartitionsToTxn v4/v5 (KIP-890, the brokers' batched form) adds for several transactions
  at once, or only verifies (verify_only) what each transaction holds.

Requests are hand-encoded from Kafka's message specs and answers decoded to their last byte
(the helpers of test_groups_versions.py); batches come from kafka-python's own builder.
"""
import shutil
import tempfile
import time
import unittest

from kafka.record.default_records import DefaultRecordBatchBuilder

import harness
import kafka_wire as kw
from kafka_wire import compact_string
from produce_support import (INVALID_RECORD, INVALID_TIMESTAMP, NONE, build_batch,
                             write_topics_with_configs)
from test_groups_versions import NO_TAGS, Client, compact_array, compact_bytes, i8, i16, i32, i64
from test_groups_versions import Reader, nullable

PRODUCE, LIST_OFFSETS, OFFSET_FETCH, FIND_COORDINATOR = 0, 2, 9, 10
API_VERSIONS, INIT_PRODUCER_ID, ADD_PARTITIONS, ADD_OFFSETS, END_TXN, TXN_OFFSET_COMMIT = (
    18, 22, 24, 25, 26, 28)
MAX_TIMESTAMP, EARLIEST_LOCAL, LATEST_TIERED = -3, -4, -5
UNKNOWN_TOPIC_OR_PARTITION, INVALID_TXN_STATE, INVALID_PRODUCER_ID_MAPPING = 3, 48, 49
OPERATION_NOT_ATTEMPTED, PRODUCER_FENCED, TRANSACTION_ABORTABLE = 55, 90, 120

TOPIC, COMPACTED, STRICT, TIMES = "latest", "latest-compacted", "latest-strict", "latest-times"


def legacy_string(text):
    data = text.encode()
    return i16(len(data)) + data


def first_partition_error(r):
    """The first partition's error of a [throttle, [topic, [partition, error]]] answer."""
    r.int32()  # throttle
    topics = r.compact_array(lambda: r.item(
        name="compact_string", partitions=lambda: r.compact_array(lambda: r.item(
            index="int32", error="int16"))))
    r.tags()
    assert r.done()
    return topics[0]["partitions"][0]["error"]


class Wire(Client):
    def call_v1(self, api_key, version, body):
        """A request with header v1 (non-flexible versions); the answer after header v0."""
        self.correlation += 1
        self.conn.send(kw.framed(kw.raw_header_v1(api_key, version, self.correlation) + body))
        payload = self.conn.read_frame()
        assert payload is not None, "broker closed the connection (api %d v%d)" % (
            api_key, version)
        r = Reader(payload)
        assert r.int32() == self.correlation
        return r

    def produce(self, version, topic, batch, transactional_id=None):
        """One partition (0) of `topic`: its answer as a dict."""
        if version >= 9:
            partition = i32(0) + compact_bytes(batch) + NO_TAGS
            body = (nullable(transactional_id) + i16(-1) + i32(30000) +
                    compact_array([compact_string(topic) + compact_array([partition]) +
                                   NO_TAGS]) + NO_TAGS)
            r = self.call(PRODUCE, version, body)
            array, string, tags = r.compact_array, r.compact_string, r.tags
        else:
            txn = i16(-1) if transactional_id is None else legacy_string(transactional_id)
            partition = i32(0) + i32(len(batch)) + batch
            body = (txn + i16(-1) + i32(30000) + i32(1) + legacy_string(topic) + i32(1) +
                    partition)
            r = self.call_v1(PRODUCE, version, body)
            array, string, tags = r.array, r.string, (lambda: None)

        def record_error():
            out = {"index": r.int32(), "message": string()}
            tags()
            return out

        def partition_answer():
            out = {"index": r.int32(), "error": r.int16(), "base_offset": r.int64(),
                   "log_append_time": r.int64(), "log_start_offset": r.int64(),
                   "record_errors": array(record_error), "error_message": string()}
            tags()
            return out

        def topic_answer():
            out = {"name": string(), "partitions": array(partition_answer)}
            tags()
            return out

        topics = array(topic_answer)
        r.int32()  # throttle
        tags()
        assert r.done()
        assert topics[0]["name"] == topic
        return topics[0]["partitions"][0]

    def list_offsets(self, version, topic, timestamps, isolation=0):
        """ListOffsets v6+ on partition 0 of `topic`: [(error, timestamp, offset, epoch)]."""
        partitions = [i32(0) + i32(-1) + i64(t) + NO_TAGS for t in timestamps]
        body = (i32(-1) + i8(isolation) +
                compact_array([compact_string(topic) + compact_array(partitions) + NO_TAGS]) +
                NO_TAGS)
        r = self.call(LIST_OFFSETS, version, body)
        r.int32()  # throttle
        topics = r.compact_array(lambda: r.item(
            name="compact_string", partitions=lambda: r.compact_array(lambda: r.item(
                index="int32", error="int16", timestamp="int64", offset="int64",
                epoch="int32"))))
        r.tags()
        assert r.done()
        return [(p["error"], p["timestamp"], p["offset"], p["epoch"])
                for p in topics[0]["partitions"]]

    def init_producer_id(self, transactional_id):
        r = self.call(INIT_PRODUCER_ID, 5, nullable(transactional_id) + i32(60000) + i64(-1) +
                      i16(-1) + NO_TAGS)
        out = r.item(throttle="int32", error="int16", producer_id="int64", epoch="int16")
        assert r.done()
        return out

    def add_partition(self, transactional_id, producer, topic):
        """AddPartitionsToTxn v3 (the clients' last version): the partition's error."""
        body = (compact_string(transactional_id) + i64(producer["producer_id"]) +
                i16(producer["epoch"]) +
                compact_array([compact_string(topic) + compact_array([i32(0)]) + NO_TAGS]) +
                NO_TAGS)
        return first_partition_error(self.call(ADD_PARTITIONS, 3, body))

    def add_partitions_batched(self, version, transactions):
        """AddPartitionsToTxn v4+ (the brokers' form). transactions: [(id, producer id, epoch,
        verify_only, {topic: [partitions]})]. Returns {id: {(topic, partition): error}}."""
        encoded = [compact_string(txn_id) + i64(producer_id) + i16(epoch) + i8(verify) +
                   compact_array([compact_string(t) + compact_array([i32(p) for p in ps]) +
                                  NO_TAGS for t, ps in topics.items()]) + NO_TAGS
                   for txn_id, producer_id, epoch, verify, topics in transactions]
        r = self.call(ADD_PARTITIONS, version, compact_array(encoded) + NO_TAGS)
        r.int32()  # throttle
        self.last_top_level_error = r.int16()
        results = r.compact_array(lambda: r.item(
            txn_id="compact_string", topics=lambda: r.compact_array(lambda: r.item(
                name="compact_string", partitions=lambda: r.compact_array(lambda: r.item(
                    index="int32", error="int16"))))))
        r.tags()
        assert r.done()
        return {txn["txn_id"]: {(t["name"], p["index"]): p["error"]
                                for t in txn["topics"] for p in t["partitions"]}
                for txn in results}

    def add_offsets(self, transactional_id, producer, group):
        body = (compact_string(transactional_id) + i64(producer["producer_id"]) +
                i16(producer["epoch"]) + compact_string(group) + NO_TAGS)
        out = self.call(ADD_OFFSETS, 4, body).item(throttle="int32", error="int16")
        return out["error"]

    def txn_offset_commit(self, transactional_id, producer, group, topic, offset):
        partition = i32(0) + i64(offset) + i32(-1) + nullable(None) + NO_TAGS
        body = (compact_string(transactional_id) + compact_string(group) +
                i64(producer["producer_id"]) + i16(producer["epoch"]) + i32(-1) +
                compact_string("") + nullable(None) +
                compact_array([compact_string(topic) + compact_array([partition]) + NO_TAGS]) +
                NO_TAGS)
        return first_partition_error(self.call(TXN_OFFSET_COMMIT, 4, body))

    def end_txn(self, transactional_id, producer, commit):
        body = (compact_string(transactional_id) + i64(producer["producer_id"]) +
                i16(producer["epoch"]) + i8(1 if commit else 0) + NO_TAGS)
        r = self.call(END_TXN, 4, body)
        out = r.item(throttle="int32", error="int16")
        assert r.done()
        return out["error"]

    def committed(self, group, topic):
        """OffsetFetch v7 (one group): partition 0's committed offset."""
        body = (compact_string(group) +
                compact_array([compact_string(topic) + compact_array([i32(0)]) + NO_TAGS]) +
                i8(1) + NO_TAGS)
        r = self.call(OFFSET_FETCH, 7, body)
        r.int32()
        topics = r.compact_array(lambda: r.item(
            name="compact_string", partitions=lambda: r.compact_array(lambda: r.item(
                index="int32", offset="int64", epoch="int32", metadata="compact_string",
                error="int16"))))
        r.int16()
        r.tags()
        assert r.done()
        return topics[0]["partitions"][0]["offset"]


def now_ms():
    return int(time.time() * 1000)


def transactional_batch(producer, sequence, values):
    builder = DefaultRecordBatchBuilder(
        magic=2, compression_type=0, is_transactional=True,
        producer_id=producer["producer_id"], producer_epoch=producer["epoch"],
        base_sequence=sequence, batch_size=1 << 20)
    for offset, value in enumerate(values):
        builder.append(offset, timestamp=now_ms(), key=b"k", value=value, headers=[])
    return bytes(builder.build())


class LatestVersionsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.data_dir = tempfile.mkdtemp(prefix="cairn-latest-")
        write_topics_with_configs(cls.data_dir, {
            TOPIC: (1, {}),
            COMPACTED: (1, {"cleanup.policy": "compact"}),
            STRICT: (1, {"message.timestamp.difference.max.ms": "60000"}),
            TIMES: (1, {}),
        })
        cls.broker = harness.Broker(data_dir=cls.data_dir).start()
        cls.wire = Wire(cls.broker.bootstrap)

    @classmethod
    def tearDownClass(cls):
        cls.wire.close()
        cls.broker.stop()  # fails the class on a sanitizer report or a bad exit
        shutil.rmtree(cls.data_dir, ignore_errors=True)

    def test_api_versions_advertises_the_latest(self):
        r = self.wire.call_v1(API_VERSIONS, 0, b"")
        self.assertEqual(r.int16(), NONE)
        apis = {key: (low, high) for key, low, high in
                r.array(lambda: (r.int16(), r.int16(), r.int16()))}
        for key, high in [(PRODUCE, 11), (LIST_OFFSETS, 9), (API_VERSIONS, 4), (ADD_PARTITIONS, 5),
                          (INIT_PRODUCER_ID, 5), (ADD_OFFSETS, 4), (END_TXN, 4),
                          (TXN_OFFSET_COMMIT, 4)]:
            self.assertEqual(apis[key], (0, high), key)
        # ApiVersions v4 itself: a flexible request, answered with response header v0.
        self.wire.correlation += 1
        body = compact_string("cairn-test") + compact_string("1.0") + NO_TAGS
        self.wire.conn.send(kw.framed(kw.raw_header_v2(API_VERSIONS, 4, self.wire.correlation) +
                                      body))
        r = Reader(self.wire.conn.read_frame())
        self.assertEqual(r.int32(), self.wire.correlation)
        self.assertEqual(r.int16(), NONE)
        apis = r.compact_array(lambda: r.item(key="int16", low="int16", high="int16"))
        self.assertIn({"key": PRODUCE, "low": 0, "high": 11}, apis)
        r.int32()  # throttle
        r.tags()
        self.assertTrue(r.done())

    def test_produce_every_new_version(self):
        offsets = []
        for version in (8, 9, 10, 11):
            answer = self.wire.produce(version, TOPIC, build_batch([(b"k", b"v%d" % version, [])]))
            self.assertEqual(answer["error"], NONE, answer)
            self.assertEqual(answer["record_errors"], [])
            self.assertIsNone(answer["error_message"])
            offsets.append(answer["base_offset"])
        self.assertEqual(offsets, sorted(offsets))
        self.assertEqual(len(set(offsets)), 4)

    def test_keyless_records_on_a_compacted_topic_are_named(self):
        records = [(b"a", b"1", []), (None, b"2", []), (b"c", b"3", []), (None, b"4", [])]
        for version in (8, 9, 11):
            answer = self.wire.produce(version, COMPACTED, build_batch(records))
            self.assertEqual(answer["error"], INVALID_RECORD)
            self.assertEqual([e["index"] for e in answer["record_errors"]], [1, 3])
            self.assertIn("key", answer["record_errors"][0]["message"])
            self.assertIn("compact", answer["error_message"])
            self.assertEqual(answer["base_offset"], -1)
        self.assertEqual(self.wire.list_offsets(9, COMPACTED, [-1])[0][2], 0)  # nothing appended
        # A batch of many keyless records names the first 100 and counts them all.
        answer = self.wire.produce(11, COMPACTED, build_batch([(None, b"v", [])] * 150))
        self.assertEqual(answer["error"], INVALID_RECORD)
        self.assertEqual([e["index"] for e in answer["record_errors"]], list(range(100)))
        self.assertIn("150 record(s)", answer["error_message"])

    def test_timestamps_out_of_range_are_named(self):
        now = now_ms()
        batch = build_batch([(b"k", b"ok", []), (b"k", b"old", []), (b"k", b"new", [])],
                            timestamps=[now, now - 3_600_000, now + 3_600_000])
        answer = self.wire.produce(11, STRICT, batch)
        self.assertEqual(answer["error"], INVALID_TIMESTAMP)
        self.assertEqual([e["index"] for e in answer["record_errors"]], [1, 2])
        self.assertIn(str(now - 3_600_000), answer["record_errors"][0]["message"])
        self.assertIn("60000", answer["error_message"])

    def test_list_offsets_special_timestamps(self):
        topic = TIMES
        base = 1_700_000_000_000
        # Three batches, the highest timestamp in the middle one's second record.
        for stamps in ([base + 10, base + 20], [base + 30, base + 90, base + 40], [base + 50]):
            batch = build_batch([(b"k", b"v", [])] * len(stamps), timestamps=stamps)
            self.assertEqual(self.wire.produce(11, topic, batch)["error"], NONE)
        for version in (7, 8, 9):
            answers = self.wire.list_offsets(
                version, topic, [-2, -1, MAX_TIMESTAMP, EARLIEST_LOCAL, LATEST_TIERED, base + 35])
            self.assertEqual(answers, [
                (NONE, -1, 0, 0),               # earliest
                (NONE, -1, 6, 0),               # latest
                (NONE, base + 90, 3, 0),        # max timestamp: offset 3
                (NONE, -1, 0, 0),               # earliest local
                (NONE, -1, -1, -1),             # latest tiered: none
                (NONE, base + 90, 3, 0),        # first record at or after base + 35
            ], version)

    def test_transaction_at_the_new_versions(self):
        txn_id, group = "latest-txn", "latest-group"
        producer = self.wire.init_producer_id(txn_id)
        self.assertEqual(producer["error"], NONE)
        self.assertGreaterEqual(producer["producer_id"], 0)
        self.assertEqual(self.wire.add_partition(txn_id, producer, TOPIC), NONE)
        answer = self.wire.produce(11, TOPIC, transactional_batch(producer, 0, [b"t1", b"t2"]),
                                   transactional_id=txn_id)
        self.assertEqual(answer["error"], NONE, answer)
        self.assertEqual(self.wire.add_offsets(txn_id, producer, group), NONE)
        self.assertEqual(self.wire.txn_offset_commit(txn_id, producer, group, TOPIC, 42), NONE)
        self.assertEqual(self.wire.end_txn(txn_id, producer, commit=True), NONE)
        self.assertEqual(self.wire.committed(group, TOPIC), 42)
        # read_committed sees the committed records below the LSO.
        latest = self.wire.list_offsets(9, TOPIC, [-1], isolation=1)[0]
        self.assertGreaterEqual(latest[2], answer["base_offset"] + 2)

    def test_add_partitions_batched_and_verify_only(self):
        """AddPartitionsToTxn v4/v5: several transactions at once, added or only verified."""
        first, second = (self.wire.init_producer_id(i) for i in ("batched-1", "batched-2"))
        pid1, epoch1 = first["producer_id"], first["epoch"]
        pid2, epoch2 = second["producer_id"], second["epoch"]
        added = self.wire.add_partitions_batched(5, [
            ("batched-1", pid1, epoch1, False, {TOPIC: [0]}),
            ("batched-2", pid2, epoch2, False, {TOPIC: [0], "no-such-topic": [0]}),
        ])
        self.assertEqual(self.wire.last_top_level_error, NONE)
        self.assertEqual(added, {
            "batched-1": {(TOPIC, 0): NONE},
            "batched-2": {(TOPIC, 0): OPERATION_NOT_ATTEMPTED,
                          ("no-such-topic", 0): UNKNOWN_TOPIC_OR_PARTITION},
        })
        verified = self.wire.add_partitions_batched(5, [
            ("batched-1", pid1, epoch1, True, {TOPIC: [0], COMPACTED: [0]}),
            ("batched-2", pid2, epoch2, True, {TOPIC: [0]}),
            ("never-initialized", 12345, 0, True, {TOPIC: [0]}),
        ])
        self.assertEqual(verified, {
            "batched-1": {(TOPIC, 0): NONE, (COMPACTED, 0): TRANSACTION_ABORTABLE},
            "batched-2": {(TOPIC, 0): TRANSACTION_ABORTABLE},  # its add was not attempted
            "never-initialized": {(TOPIC, 0): INVALID_PRODUCER_ID_MAPPING},
        })
        # v4 predates TRANSACTION_ABORTABLE; a stale epoch is fenced.
        self.assertEqual(
            self.wire.add_partitions_batched(4, [("batched-1", pid1, epoch1, True,
                                                  {COMPACTED: [0]})]),
            {"batched-1": {(COMPACTED, 0): INVALID_TXN_STATE}})
        self.assertEqual(
            self.wire.add_partitions_batched(5, [("batched-1", pid1, epoch1 - 1, True,
                                                  {TOPIC: [0]})]),
            {"batched-1": {(TOPIC, 0): PRODUCER_FENCED}})
        self.assertEqual(self.wire.end_txn("batched-1", first, commit=False), NONE)
        # Once the transaction is over, nothing is in it any more.
        self.assertEqual(
            self.wire.add_partitions_batched(5, [("batched-1", pid1, epoch1, True,
                                                  {TOPIC: [0]})]),
            {"batched-1": {(TOPIC, 0): TRANSACTION_ABORTABLE}})


if __name__ == "__main__":
    harness.main()
