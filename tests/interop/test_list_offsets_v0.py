#!/usr/bin/python3
"""ListOffsets v0 keeps Kafka 0.8's meaning, "offsets before a time", which old clients ask
for (kafka-node's Offset.fetch asks with the time now unless told otherwise, and Kafka 0.8's
getOffsetsBefore with any time): the answer comes from the log's segments, up to
max_num_offsets offsets, largest first.

A topic whose segments roll after every batch (segment.bytes 1024) holds three one-record
batches stamped three, two and one hour ago, at offsets 0, 1 and 2, one segment each:

    entries:  (0, -3 h)  (1, -2 h)  (2, -1 h)  (3 = high watermark, now)

-1 starts at the last entry, -2 at the first, a time at the last entry at or before it.
Before the fix, v0 answered v1's "first record at or after the time" with at most one offset:
a time after the last record answered nothing, which kafka-node's default fetch hits.
"""
import time

from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic
from kafka.protocol.offset import OffsetRequest

import harness
import kafka_wire

TOPIC = "offsets-before"
HOUR_MS = 3600 * 1000
TIMEOUT_S = 60


class ListOffsetsV0(harness.BrokerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        admin = AdminClient({"bootstrap.servers": cls.broker.bootstrap})
        created = admin.create_topics([NewTopic(TOPIC, 1, 1, config={"segment.bytes": "1024"})])
        created[TOPIC].result(TIMEOUT_S)
        cls.now_ms = int(time.time() * 1000)
        producer = Producer({"bootstrap.servers": cls.broker.bootstrap, "linger.ms": 0})
        for hours_ago in (3, 2, 1):
            producer.produce(TOPIC, value=b"v" * 700, partition=0,
                             timestamp=cls.now_ms - hours_ago * HOUR_MS)
            assert producer.flush(TIMEOUT_S) == 0  # one batch, so one segment, each
        cls.connection = kafka_wire.Connection(cls.broker.bootstrap)
        cls.correlation = 0

    @classmethod
    def tearDownClass(cls):
        cls.connection.close()
        super().tearDownClass()

    def offsets(self, version, timestamp, max_num_offsets=1):
        """v0: (error, old_style_offsets); v1: (error, timestamp, offset)."""
        type(self).correlation += 1
        if version == 0:
            request = OffsetRequest[0](replica_id=-1,
                                       topics=[(TOPIC, [(0, timestamp, max_num_offsets)])])
        else:
            request = OffsetRequest[1](replica_id=-1, topics=[(TOPIC, [(0, timestamp)])])
        response = self.connection.request(request, self.correlation)
        (name, partitions), = response.topics
        (partition, error, *answer), = partitions
        return (error, *answer)

    def test_latest_lists_the_high_watermark_then_segment_bases(self):
        self.assertEqual((0, [3, 2, 1, 0]), self.offsets(0, -1, 10))
        self.assertEqual((0, [3, 2]), self.offsets(0, -1, 2))
        self.assertEqual((0, [3]), self.offsets(0, -1))

    def test_max_num_offsets_zero_answers_none(self):
        self.assertEqual((0, []), self.offsets(0, -1, 0))
        self.assertEqual((0, []), self.offsets(0, self.now_ms, 0))

    def test_earliest_is_the_log_start_alone(self):
        self.assertEqual((0, [0]), self.offsets(0, -2, 10))

    def test_time_after_the_last_append_answers_the_high_watermark(self):
        self.assertEqual((0, [3]), self.offsets(0, self.now_ms + HOUR_MS))

    def test_time_now_answers_the_segment_of_the_last_records(self):
        # The (high watermark, now) entry is newer than a time taken before the request, as
        # in Kafka: a time that is "now" for the client answers the active segment's base.
        self.assertEqual((0, [2, 1, 0]), self.offsets(0, int(time.time() * 1000) - 1000, 5))

    def test_time_between_segments_answers_the_older_segments(self):
        self.assertEqual((0, [1, 0]), self.offsets(0, self.now_ms - HOUR_MS * 3 // 2, 5))
        self.assertEqual((0, [0]), self.offsets(0, self.now_ms - HOUR_MS * 5 // 2, 5))

    def test_time_before_every_record_answers_none(self):
        self.assertEqual((0, []), self.offsets(0, self.now_ms - 4 * HOUR_MS, 5))

    def test_v1_still_answers_the_first_record_at_or_after_the_time(self):
        self.assertEqual((0, self.now_ms - HOUR_MS, 2),
                         self.offsets(1, self.now_ms - HOUR_MS * 3 // 2))
        self.assertEqual((0, -1, -1), self.offsets(1, self.now_ms + HOUR_MS))
        self.assertBrokerHealthy()


if __name__ == "__main__":
    harness.main()
