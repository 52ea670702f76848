"""confluent-kafka-python (librdkafka) and kafka-python produce keyed messages with headers
under every compression codec they support, and consume them back from Cairn.

For each client and codec: a 3-partition topic, 60 messages with keys, two headers and
explicit CreateTime timestamps, each sent to partition i % 3. Then:
- the batches stored on the broker carry that codec (read raw with a Fetch: attributes & 7),
  so the client really compressed (librdkafka silently sends uncompressed when the broker's
  Produce range starts above v0);
- the same client consumes everything back: same keys, values, headers and timestamps, and
  per-partition order kept.
"""
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import confluent_kafka  # noqa: E402
import kafka  # noqa: E402

from harness import Broker  # noqa: E402
import produce_support as ps  # noqa: E402

CODEC_IDS = {"none": 0, "gzip": 1, "snappy": 2, "lz4": 3, "zstd": 4}
PARTITIONS = 3
COUNT = 60
CONFLUENT_CODECS = ["none", "gzip", "snappy", "lz4", "zstd"]
KAFKA_PYTHON_CODECS = [None, "gzip", "snappy", "lz4", "zstd"]


def messages(tag):
    base = int(time.time() * 1000) - 60_000
    out = []
    for i in range(COUNT):
        key = ("key-%d" % (i % 7)).encode()
        value = ("%s message %d " % (tag, i)).encode() * 20  # compressible
        headers = [("trace", ("t-%d" % i).encode()), ("client", tag.encode())]
        out.append((i % PARTITIONS, key, value, headers, base + i))
    return out


def expected_by_partition(sent):
    by_partition = {p: [] for p in range(PARTITIONS)}
    for partition, key, value, headers, timestamp in sent:
        by_partition[partition].append((key, value, headers, timestamp))
    return by_partition


def topic_name(client, codec):
    return "clients-%s-%s" % (client, codec)


ALL_TOPICS = {topic_name("confluent", c): PARTITIONS for c in CONFLUENT_CODECS}
ALL_TOPICS.update({topic_name("kafka-python", c or "none"): PARTITIONS
                   for c in KAFKA_PYTHON_CODECS})


class PythonClientsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.broker = Broker(shards=2, topics=ALL_TOPICS).start()
        cls.wire = ps.WireClient(cls.broker.bootstrap)

    @classmethod
    def tearDownClass(cls):
        cls.wire.close()
        cls.broker.stop()

    def check_stored_codec(self, topic, codec):
        for partition in range(PARTITIONS):
            codecs = ps.codec_batches(self.wire, topic, partition)
            self.assertTrue(codecs, "no batches in %s-%d" % (topic, partition))
            self.assertEqual(set(codecs), {CODEC_IDS[codec]}, "%s-%d" % (topic, partition))

    def check_consumed(self, sent, consumed):
        """consumed: {partition: [(offset, key, value, headers, timestamp)]}."""
        expected = expected_by_partition(sent)
        for partition in range(PARTITIONS):
            got = consumed[partition]
            self.assertEqual([r[0] for r in got], list(range(len(got))))  # order, no gaps
            self.assertEqual([r[1:] for r in got], expected[partition])

    # ----- confluent-kafka (librdkafka)

    def confluent_round_trip(self, codec):
        topic = topic_name("confluent", codec)
        sent = messages("confluent-" + codec)
        producer = confluent_kafka.Producer({
            "bootstrap.servers": self.broker.bootstrap, "compression.codec": codec,
            "linger.ms": 20, "acks": "all"})
        errors = []
        for partition, key, value, headers, timestamp in sent:
            producer.produce(topic, value=value, key=key, partition=partition,
                             headers=headers, timestamp=timestamp,
                             on_delivery=lambda err, msg: err and errors.append(err))
        self.assertEqual(producer.flush(60), 0)
        self.assertEqual(errors, [])
        self.check_stored_codec(topic, codec)

        consumer = confluent_kafka.Consumer({
            "bootstrap.servers": self.broker.bootstrap, "group.id": "unused-" + topic,
            "enable.auto.commit": False})
        consumer.assign([confluent_kafka.TopicPartition(topic, p, confluent_kafka.OFFSET_BEGINNING)
                         for p in range(PARTITIONS)])
        consumed = {p: [] for p in range(PARTITIONS)}
        deadline = time.monotonic() + 60
        while sum(len(v) for v in consumed.values()) < COUNT and time.monotonic() < deadline:
            msg = consumer.poll(1.0)
            if msg is None:
                continue
            self.assertIsNone(msg.error())
            timestamp_type, timestamp = msg.timestamp()
            self.assertEqual(timestamp_type, confluent_kafka.TIMESTAMP_CREATE_TIME)
            consumed[msg.partition()].append(
                (msg.offset(), msg.key(), msg.value(), list(msg.headers() or []), timestamp))
        consumer.close()
        self.check_consumed(sent, consumed)

    def test_confluent_none(self):
        self.confluent_round_trip("none")

    def test_confluent_gzip(self):
        self.confluent_round_trip("gzip")

    def test_confluent_snappy(self):
        self.confluent_round_trip("snappy")

    def test_confluent_lz4(self):
        self.confluent_round_trip("lz4")

    def test_confluent_zstd(self):
        self.confluent_round_trip("zstd")

    # ----- kafka-python

    def kafka_python_round_trip(self, codec):
        name = codec or "none"
        topic = topic_name("kafka-python", name)
        sent = messages("kafka-python-" + name)
        producer = kafka.KafkaProducer(bootstrap_servers=self.broker.bootstrap,
                                       compression_type=codec, linger_ms=20, acks="all")
        futures = [producer.send(topic, value=value, key=key, partition=partition,
                                 headers=headers, timestamp_ms=timestamp)
                   for partition, key, value, headers, timestamp in sent]
        producer.flush(60)
        for future in futures:
            future.get(timeout=60)
        producer.close()
        self.check_stored_codec(topic, name)

        consumer = kafka.KafkaConsumer(bootstrap_servers=self.broker.bootstrap,
                                       enable_auto_commit=False, auto_offset_reset="earliest")
        consumer.assign([kafka.TopicPartition(topic, p) for p in range(PARTITIONS)])
        consumed = {p: [] for p in range(PARTITIONS)}
        deadline = time.monotonic() + 60
        while sum(len(v) for v in consumed.values()) < COUNT and time.monotonic() < deadline:
            for tp, records in consumer.poll(timeout_ms=1000).items():
                for r in records:
                    self.assertEqual(r.timestamp_type, 0)  # CreateTime
                    consumed[tp.partition].append(
                        (r.offset, r.key, r.value, list(r.headers), r.timestamp))
        consumer.close()
        self.check_consumed(sent, consumed)

    def test_kafka_python_none(self):
        self.kafka_python_round_trip(None)

    def test_kafka_python_gzip(self):
        self.kafka_python_round_trip("gzip")

    def test_kafka_python_snappy(self):
        self.kafka_python_round_trip("snappy")

    def test_kafka_python_lz4(self):
        self.kafka_python_round_trip("lz4")

    def test_kafka_python_zstd(self):
        self.kafka_python_round_trip("zstd")


if __name__ == "__main__":
    unittest.main(verbosity=2)
