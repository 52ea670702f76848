"""Produce: every bad input gets its Kafka error code, and the broker keeps serving.

Raw Produce requests (produce_support.WireClient) with batches built by kafka-python's own
batch builder, then tampered with: a bad CRC, a non-zero base offset, acks=2, an unknown topic
with auto-creation off, a batch over max.message.bytes, over segment.bytes, a CreateTime out of
message.timestamp.difference.max.ms, a malformed legacy Produce v2, and a partition whose log cannot be
opened (KAFKA_STORAGE_ERROR). After each, a good batch still appends and reads back.
"""
import json
import os
import shutil
import struct
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Broker  # noqa: E402
import produce_support as ps  # noqa: E402

TOPIC = "errors"
SMALL = "small-messages"     # max.message.bytes=2000
TINY_SEGMENT = "tiny-segment"  # segment.bytes=4096 (the minimum kept by Log is 1 KiB)
STRICT_TIME = "strict-time"  # message.timestamp.difference.max.ms=60000
BROKEN = "broken"            # partition 0's log cannot be opened


def crc32c_fix_free_tamper(batch):
    """Flips one byte of the last record's value: the CRC no longer matches."""
    data = bytearray(batch)
    data[-2] ^= 0xFF
    return bytes(data)


class ProduceErrorsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.data_dir = tempfile.mkdtemp(prefix="cairn-produce-errors-")
        ps.write_topics_with_configs(cls.data_dir, {
            TOPIC: (2, {}),
            SMALL: (1, {"max.message.bytes": "2000"}),
            TINY_SEGMENT: (1, {"segment.bytes": "4096", "max.message.bytes": "100000"}),
            STRICT_TIME: (1, {"message.timestamp.difference.max.ms": "60000"}),
            BROKEN: (1, {}),
        })
        # A segment file that is a directory: the partition's log cannot open.
        broken_dir = os.path.join(cls.data_dir, BROKEN + "-0")
        with open(os.path.join(cls.data_dir, "meta", "topics.json")) as f:
            topic_id = [t["topic_id"] for t in json.load(f)["topics"] if t["name"] == BROKEN][0]
        os.makedirs(os.path.join(broken_dir, "00000000000000000000.log"))
        with open(os.path.join(broken_dir, "topic_id"), "w") as f:
            f.write(topic_id + "\n")
        cls.broker = Broker(shards=2, data_dir=cls.data_dir).start()
        cls.client = ps.WireClient(cls.broker.bootstrap)

    @classmethod
    def tearDownClass(cls):
        cls.client.close()
        try:
            cls.broker.stop()
        finally:
            shutil.rmtree(cls.data_dir, ignore_errors=True)

    def assert_still_serving(self):
        error, offset = self.client.produce(TOPIC, 0, ps.simple_batch(3))
        self.assertEqual(error, ps.NONE)
        error, _, records = self.client.fetch(TOPIC, 0, offset)
        self.assertEqual(error, ps.NONE)
        self.assertEqual([r[0] for r in records], [offset, offset + 1, offset + 2])

    def test_bad_crc_is_corrupt_message(self):
        batch = crc32c_fix_free_tamper(ps.simple_batch(2))
        self.assertEqual(self.client.produce(TOPIC, 0, batch)[0], ps.CORRUPT_MESSAGE)
        self.assert_still_serving()

    def test_truncated_batch_is_corrupt_message(self):
        batch = ps.simple_batch(2)[:-5]
        self.assertEqual(self.client.produce(TOPIC, 1, batch)[0], ps.CORRUPT_MESSAGE)
        self.assert_still_serving()

    def test_nonzero_base_offset_is_invalid_record(self):
        batch = bytearray(ps.simple_batch(2))
        batch[0:8] = struct.pack(">q", 5)  # base offset is outside the CRC
        self.assertEqual(self.client.produce(TOPIC, 0, bytes(batch))[0], ps.INVALID_RECORD)
        self.assert_still_serving()

    def test_bad_acks_is_invalid_required_acks(self):
        error, _ = self.client.produce(TOPIC, 0, ps.simple_batch(1), acks=2)
        self.assertEqual(error, ps.INVALID_REQUIRED_ACKS)
        self.assert_still_serving()

    def test_unknown_partition(self):
        self.assertEqual(self.client.produce(TOPIC, 7, ps.simple_batch(1))[0],
                         ps.UNKNOWN_TOPIC_OR_PARTITION)
        self.assertEqual(self.client.produce(TOPIC, -1, ps.simple_batch(1))[0],
                         ps.UNKNOWN_TOPIC_OR_PARTITION)
        self.assert_still_serving()

    def test_over_max_message_bytes_is_message_too_large(self):
        batch = ps.build_batch([(b"k", b"x" * 3000, [])])
        self.assertEqual(self.client.produce(SMALL, 0, batch)[0], ps.MESSAGE_TOO_LARGE)
        self.assertEqual(self.client.produce(SMALL, 0, ps.simple_batch(1))[0], ps.NONE)
        self.assert_still_serving()

    def test_over_segment_bytes_is_record_list_too_large(self):
        batch = ps.build_batch([(b"k", b"x" * 6000, [])])
        self.assertEqual(self.client.produce(TINY_SEGMENT, 0, batch)[0],
                         ps.RECORD_LIST_TOO_LARGE)
        # Batches under the segment size still roll segments fine.
        for _ in range(5):
            self.assertEqual(self.client.produce(TINY_SEGMENT, 0, ps.simple_batch(5, 300))[0],
                             ps.NONE)
        self.assert_still_serving()

    def test_old_create_time_is_invalid_timestamp(self):
        hour_ago = int(time.time() * 1000) - 3600 * 1000
        batch = ps.simple_batch(2, timestamp_ms=hour_ago)
        self.assertEqual(self.client.produce(STRICT_TIME, 0, batch)[0], ps.INVALID_TIMESTAMP)
        self.assertEqual(self.client.produce(STRICT_TIME, 0, ps.simple_batch(2))[0], ps.NONE)
        self.assert_still_serving()

    def test_malformed_legacy_produce_v2_is_corrupt_message(self):
        # Magic 0 where a v2 batch has its magic, and a message size of 0: a broken message set
        # (well-formed ones are converted: test_legacy_formats.py).
        error, _ = self.client.produce(TOPIC, 0, b"\x00" * 40, version=2)
        self.assertEqual(error, ps.CORRUPT_MESSAGE)
        self.assert_still_serving()

    def test_unopenable_log_is_kafka_storage_error(self):
        self.assertEqual(self.client.produce(BROKEN, 0, ps.simple_batch(1))[0],
                         ps.KAFKA_STORAGE_ERROR)
        error, _, _ = self.client.fetch(BROKEN, 0, 0)
        self.assertEqual(error, ps.KAFKA_STORAGE_ERROR)
        self.assert_still_serving()

    def test_unknown_topic_without_auto_create(self):
        # Produce never creates topics (only Metadata does, and kafka_wire sends none here).
        self.assertEqual(self.client.produce("no-such-topic", 0, ps.simple_batch(1))[0],
                         ps.UNKNOWN_TOPIC_OR_PARTITION)
        self.assert_still_serving()


if __name__ == "__main__":
    unittest.main(verbosity=2)
