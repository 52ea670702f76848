"""Fetch and ListOffsets: replay from offset 0 and from a timestamp, a near-1 MB record,
KIP-74 oversized first batches, OFFSET_OUT_OF_RANGE, long polls woken by appends on other
shards, and fetched bytes equal to the stored segment bytes (served by sendfile).
"""
import os
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import confluent_kafka  # noqa: E402
import kafka  # noqa: E402

from harness import Broker  # noqa: E402
import produce_support as ps  # noqa: E402

REPLAY = "replay"
BIG = "big"
POLL = "poll"  # 4 partitions over 2 shards


class FetchReplayTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.broker = Broker(shards=2, topics={REPLAY: 1, BIG: 1, POLL: 4}).start()
        cls.client = ps.WireClient(cls.broker.bootstrap)
        # 100 records in batches of 10; record i has timestamp t0 + 1000 * i.
        cls.t0 = int(time.time() * 1000) - 3600 * 1000
        for b in range(10):
            records = [(b"k%d" % i, b"value-%d" % i, [("n", str(i).encode())])
                       for i in range(b * 10, b * 10 + 10)]
            timestamps = [cls.t0 + 1000 * i for i in range(b * 10, b * 10 + 10)]
            error, offset = cls.client.produce(REPLAY, 0, ps.build_batch(records,
                                                                           timestamps=timestamps))
            assert (error, offset) == (ps.NONE, b * 10), (error, offset)

    @classmethod
    def tearDownClass(cls):
        cls.client.close()
        cls.broker.stop()

    def test_replay_from_offset_zero(self):
        records = ps.fetch_all(self.client, REPLAY, 0, 100)
        self.assertEqual([r[0] for r in records], list(range(100)))
        self.assertEqual([r[3] for r in records], [b"value-%d" % i for i in range(100)])
        self.assertEqual([r[1] for r in records], [self.t0 + 1000 * i for i in range(100)])
        self.assertEqual([r[4] for r in records], [[("n", str(i).encode())] for i in range(100)])

    def test_list_offsets_earliest_latest_and_by_time(self):
        self.assertEqual(self.client.list_offset(REPLAY, 0, -2)[0:3:2], (ps.NONE, 0))
        self.assertEqual(self.client.list_offset(REPLAY, 0, -1)[0:3:2], (ps.NONE, 100))
        # Mid-batch: the first record at or after the time, not the batch start.
        self.assertEqual(self.client.list_offset(REPLAY, 0, self.t0 + 35_500),
                         (ps.NONE, self.t0 + 36_000, 36))
        self.assertEqual(self.client.list_offset(REPLAY, 0, self.t0), (ps.NONE, self.t0, 0))
        self.assertEqual(self.client.list_offset(REPLAY, 0, self.t0 + 10**9), (ps.NONE, -1, -1))
        self.assertEqual(self.client.list_offset(REPLAY, 9, -1)[0], ps.UNKNOWN_TOPIC_OR_PARTITION)

    def test_kafka_python_replays_from_a_timestamp(self):
        consumer = kafka.KafkaConsumer(bootstrap_servers=self.broker.bootstrap,
                                       enable_auto_commit=False)
        tp = kafka.TopicPartition(REPLAY, 0)
        consumer.assign([tp])
        found = consumer.offsets_for_times({tp: self.t0 + 72_000})[tp]
        self.assertEqual((found.offset, found.timestamp), (72, self.t0 + 72_000))
        consumer.seek(tp, found.offset)
        values = []
        deadline = time.monotonic() + 60
        while len(values) < 28 and time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=1000).values():
                values.extend(r.value for r in records)
        consumer.close()
        self.assertEqual(values, [b"value-%d" % i for i in range(72, 100)])

    def test_offset_out_of_range(self):
        self.assertEqual(self.client.fetch(REPLAY, 0, 101)[0], ps.OFFSET_OUT_OF_RANGE)
        self.assertEqual(self.client.fetch(REPLAY, 0, -1)[0], ps.OFFSET_OUT_OF_RANGE)
        error, high_watermark, records = self.client.fetch(REPLAY, 0, 100)
        self.assertEqual((error, high_watermark, records), (ps.NONE, 100, []))

    def test_first_batch_is_returned_whatever_its_size(self):
        error, _, records = self.client.fetch(REPLAY, 0, 15, partition_max_bytes=10)
        self.assertEqual(error, ps.NONE)
        self.assertEqual([r[0] for r in records], list(range(10, 20)))  # the whole batch

    def test_fetched_bytes_are_the_stored_bytes(self):
        _, message_set = self.client.fetch_raw(REPLAY, 0, 0, partition_max_bytes=1 << 20)
        path = os.path.join(self.broker.data_dir, REPLAY + "-0", "00000000000000000000.log")
        with open(path, "rb") as f:
            self.assertEqual(message_set, f.read())

    def test_near_one_megabyte_record_round_trips(self):
        value = bytes(range(256)) * (999_000 // 256)
        producer = confluent_kafka.Producer({"bootstrap.servers": self.broker.bootstrap,
                                             "acks": "all"})
        producer.produce(BIG, value=value, key=b"big", partition=0)
        self.assertEqual(producer.flush(60), 0)
        consumer = confluent_kafka.Consumer({"bootstrap.servers": self.broker.bootstrap,
                                             "group.id": "unused-big",
                                             "enable.auto.commit": False})
        consumer.assign([confluent_kafka.TopicPartition(BIG, 0, confluent_kafka.OFFSET_BEGINNING)])
        msg = None
        deadline = time.monotonic() + 60
        while msg is None and time.monotonic() < deadline:
            msg = consumer.poll(1.0)
        consumer.close()
        self.assertIsNotNone(msg)
        self.assertIsNone(msg.error())
        self.assertEqual((msg.key(), len(msg.value())), (b"big", len(value)))
        self.assertEqual(msg.value(), value)

    def test_long_poll_wakes_when_data_lands_on_another_shard(self):
        # A fetch of all 4 partitions (both shards) with a 120 s max wait: it must come back
        # with the record long before that; the socket gives up after 30 s.
        with ps.WireClient(self.broker.bootstrap) as waiter:
            hwms = [self.client.fetch(POLL, p, 0)[1] for p in range(4)]
            from kafka.protocol.fetch import FetchRequest
            request = FetchRequest[4](
                replica_id=-1, max_wait_time=120_000, min_bytes=1, max_bytes=1 << 20,
                isolation_level=0,
                topics=[(POLL, [(p, hwms[p], 1 << 20) for p in range(4)])])
            result = {}

            def wait():
                result["response"] = waiter.request(request)

            thread = threading.Thread(target=wait)
            thread.start()
            time.sleep(0.5)
            self.assertEqual(self.client.produce(POLL, 3, ps.simple_batch(1))[0], ps.NONE)
            thread.join(40)  # the waiter's socket gives up after 30 s
            self.assertFalse(thread.is_alive())
            self.assertIn("response", result, "the long poll was not woken by the append")
            partitions = result["response"].topics[0][1]
            got = {p[0]: ps.decode_batches(p[5]) for p in partitions}
            self.assertEqual(len(got[3]), 1)


if __name__ == "__main__":
    unittest.main(verbosity=2)
