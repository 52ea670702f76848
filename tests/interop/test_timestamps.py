"""Batches the broker rewrites before storing them keep a valid CRC.

Produce appends each batch straight from the request frame and does not check its CRC a second
time, so the rewrites it makes there must recompute it: LogAppendTime stamps the broker's clock
into the batch header, and a CreateTime batch whose header max timestamp disagrees with its
records gets the records' highest timestamp. librdkafka (check.crcs) and kafka-python check the
stored CRC on the way back.
"""
import os
import shutil
import struct
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import confluent_kafka  # noqa: E402
from kafka.record.default_records import DefaultRecordBatch  # noqa: E402
from kafka.record.memory_records import MemoryRecords  # noqa: E402
from kafka.record.util import calc_crc32c  # noqa: E402

from harness import Broker  # noqa: E402
import produce_support as ps  # noqa: E402

APPEND_TIME = "append-time"
CREATE_TIME = "create-time"
MAX_TIMESTAMP_AT = 35  # baseOffset 8, length 4, leaderEpoch 4, magic 1, crc 4, attributes 2,
#                        lastOffsetDelta 4, firstTimestamp 8


def stored_batches(client, topic):
    error, message_set = client.fetch_raw(topic, 0, 0)
    assert error == ps.NONE, error
    records = MemoryRecords(message_set)
    batches = []
    while records.has_next():
        batches.append(records.next_batch())
    return batches


class TimestampRewriteTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.data_dir = tempfile.mkdtemp(prefix="cairn-timestamps-")
        ps.write_topics_with_configs(cls.data_dir, {
            APPEND_TIME: (1, {"message.timestamp.type": "LogAppendTime"}),
            CREATE_TIME: (1, {}),
        })
        cls.broker = Broker(shards=2, data_dir=cls.data_dir).start()
        cls.client = ps.WireClient(cls.broker.bootstrap)

    @classmethod
    def tearDownClass(cls):
        cls.client.close()
        try:
            cls.broker.stop()
        finally:
            shutil.rmtree(cls.data_dir, ignore_errors=True)

    def test_log_append_time_is_stamped_and_the_crc_still_holds(self):
        hour_ago = int(time.time() * 1000) - 3600 * 1000
        before = int(time.time() * 1000)
        producer = confluent_kafka.Producer({"bootstrap.servers": self.broker.bootstrap,
                                             "linger.ms": 5})
        for i in range(20):
            producer.produce(APPEND_TIME, value=b"v%d" % i, partition=0, timestamp=hour_ago)
        self.assertEqual(producer.flush(30), 0)
        after = int(time.time() * 1000)

        consumer = confluent_kafka.Consumer({
            "bootstrap.servers": self.broker.bootstrap, "group.id": "timestamps",
            "enable.auto.commit": False, "check.crcs": True})
        consumer.assign([confluent_kafka.TopicPartition(APPEND_TIME, 0, 0)])
        seen = []
        deadline = time.monotonic() + 30
        while len(seen) < 20 and time.monotonic() < deadline:
            message = consumer.poll(1.0)
            if message is None:
                continue
            self.assertIsNone(message.error(), message.error())
            seen.append(message.timestamp())
        consumer.close()
        self.assertEqual(len(seen), 20)
        for kind, timestamp in seen:
            self.assertEqual(kind, confluent_kafka.TIMESTAMP_LOG_APPEND_TIME)
            self.assertTrue(before <= timestamp <= after, (before, timestamp, after))

        for batch in stored_batches(self.client, APPEND_TIME):
            self.assertTrue(batch.validate_crc())
            self.assertEqual(batch.timestamp_type, DefaultRecordBatch.LOG_APPEND_TIME)

    def test_create_time_max_timestamp_is_corrected_and_the_crc_still_holds(self):
        t0 = int(time.time() * 1000) - 60 * 1000
        batch = bytearray(ps.build_batch([(None, b"a", []), (None, b"b", [])],
                                         timestamps=[t0, t0 + 5000]))
        # A header max timestamp below the records' highest, with a CRC that matches it.
        struct.pack_into(">q", batch, MAX_TIMESTAMP_AT, t0 + 1000)
        crc_at = DefaultRecordBatch.CRC_OFFSET
        struct.pack_into(">I", batch, crc_at,
                         calc_crc32c(bytes(batch[DefaultRecordBatch.ATTRIBUTES_OFFSET:])))
        self.assertEqual(self.client.produce(CREATE_TIME, 0, bytes(batch)), (ps.NONE, 0))

        [stored] = stored_batches(self.client, CREATE_TIME)
        self.assertTrue(stored.validate_crc())
        self.assertEqual(stored.max_timestamp, t0 + 5000)
        self.assertEqual([r.timestamp for r in stored], [t0, t0 + 5000])


if __name__ == "__main__":
    unittest.main()
