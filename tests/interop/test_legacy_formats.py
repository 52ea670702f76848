#!/usr/bin/python3
"""Message formats v0 and v1 (clients from before Kafka 0.11): Produce v0-2 converted to v2
batches on arrival, Fetch v0-3 answered with converted messages.

- kafka-python told to speak as Kafka 0.8.2, 0.9 and 0.10 (api_version) produces magic 0 and
  magic 1 message sets, plain and compressed; kcat (librdkafka, v2) and kafka-python consumers
  of each era (Fetch v1 and v3, with a consumer group) read every record once, same contents.
- librdkafka (kcat) told the broker is Kafka 0.9 produces and consumes format v0.
- New to old: records from confluent-kafka (v2 batches, compressed, and a committed
  transaction whose marker old clients must step over) read by old consumers; zstd data is
  UNSUPPORTED_COMPRESSION_TYPE for them, as in Kafka.
- Raw requests built with kafka-python's own legacy record builder (an implementation
  independent of Cairn's): Produce v0/v1/v2 and Fetch v0/v2/v3 byte for byte, and bad message
  sets (CRC mismatch, nested compression, zstd, cut short) with Kafka's error codes.
- A batch damaged on disk is KAFKA_STORAGE_ERROR for an old fetcher, never re-sent with a fresh
  CRC.
- /metrics counts the conversions.
"""
import os
import struct
import subprocess
import time
import urllib.request
import uuid
import zlib

from confluent_kafka import Producer
from kafka import KafkaConsumer, KafkaProducer
from kafka.protocol.fetch import FetchRequest
from kafka.record.legacy_records import LegacyRecordBatchBuilder
from kafka.record.memory_records import MemoryRecords

import harness
import produce_support as ps

UNSUPPORTED_COMPRESSION_TYPE = 76
GZIP, SNAPPY, LZ4 = 1, 2, 3
TIMEOUT_S = 60


def legacy_set(magic, codec, records, first_offset=0):
    """A message set built by kafka-python: records are (key, value, timestamp_ms)."""
    builder = LegacyRecordBatchBuilder(magic=magic, compression_type=codec,
                                       batch_size=16 * 1024 * 1024)
    for i, (key, value, timestamp) in enumerate(records):
        builder.append(first_offset + i, timestamp=timestamp, key=key, value=value)
    return bytes(builder.build())


def message(magic, value, attributes=0, key=None, timestamp=0, offset=0):
    """One hand-made message (for shapes kafka-python's builder refuses to make)."""
    def blob(b):
        return struct.pack(">i", -1) if b is None else struct.pack(">i", len(b)) + b
    body = struct.pack(">bb", magic, attributes)
    if magic == 1:
        body += struct.pack(">q", timestamp)
    body += blob(key) + blob(value)
    crc = zlib.crc32(body) & 0xffffffff
    return struct.pack(">qiI", offset, len(body) + 4, crc) + body


def kcat_records(bootstrap, topic, count):
    """(key, value, timestamp) of the first `count` records of partition 0, read by kcat."""
    out = subprocess.run(
        ["kcat", "-C", "-b", bootstrap, "-t", topic, "-p", "0", "-o", "beginning",
         "-c", str(count), "-e", "-q", "-f", "%k|%s|%T\\n", "-X", "api.version.request=true"],
        check=True, capture_output=True, timeout=TIMEOUT_S, text=True).stdout
    rows = []
    for line in out.splitlines():
        key, value, timestamp = line.split("|")
        rows.append((key, value, int(timestamp)))
    return rows


def fetch_legacy(client, version, topic, offset, partition_max_bytes=1 << 20):
    """(error, high watermark, [(offset, magic, timestamp, key, value)]) from Fetch v0-3."""
    if version >= 3:
        request = FetchRequest[version](
            replica_id=-1, max_wait_time=0, min_bytes=0, max_bytes=50 << 20,
            topics=[(topic, [(0, offset, partition_max_bytes)])])
    else:
        request = FetchRequest[version](
            replica_id=-1, max_wait_time=0, min_bytes=0,
            topics=[(topic, [(0, offset, partition_max_bytes)])])
    p = client.request(request).topics[0][1][0]
    records = []
    memory = MemoryRecords(p[3])
    while memory.has_next():
        batch = memory.next_batch()
        for record in batch:
            records.append((record.offset, batch._magic, record.timestamp, record.key,
                            record.value))
    return p[1], p[2], records


class LegacyFormats(harness.BrokerTestCase):
    # For the raw requests, which do not create topics the way clients' Metadata does.
    broker_topics = {"raw": 1, "bad": 1, "zstd": 1, "counted": 1, "damaged": 1}

    def topic(self):
        return "legacy-" + uuid.uuid4().hex[:8]

    def old_producer(self, api_version, codec):
        return KafkaProducer(bootstrap_servers=self.broker.bootstrap, api_version=api_version,
                             compression_type=codec, linger_ms=20, acks="all",
                             request_timeout_ms=30000, max_block_ms=30000)

    def old_consumer(self, api_version, topic, group):
        return KafkaConsumer(topic, bootstrap_servers=self.broker.bootstrap,
                             api_version=api_version, group_id=group,
                             auto_offset_reset="earliest", enable_auto_commit=False,
                             consumer_timeout_ms=15000, request_timeout_ms=40000,
                             session_timeout_ms=30000, heartbeat_interval_ms=3000)

    def consume(self, api_version, topic, count):
        consumer = self.old_consumer(api_version, topic, "g-" + uuid.uuid4().hex[:6])
        got = []
        try:
            deadline = time.monotonic() + TIMEOUT_S
            while len(got) < count and time.monotonic() < deadline:
                for batch in consumer.poll(timeout_ms=1000).values():
                    got.extend(batch)
            consumer.commit()
        finally:
            consumer.close()
        return got

    def test_old_producers_new_and_old_consumers(self):
        cases = [((0, 8, 2), "gzip", 0), ((0, 9), None, 0), ((0, 9), "snappy", 0),
                 ((0, 10, 0), None, 1), ((0, 10, 0), "gzip", 1), ((0, 10, 0), "snappy", 1),
                 ((0, 10, 1), "lz4", 1)]
        for api_version, codec, magic in cases:
            with self.subTest(api_version=api_version, codec=codec):
                topic = self.topic()
                producer = self.old_producer(api_version, codec)
                sent = []
                try:
                    for i in range(60):
                        key, value = b"k%d" % (i % 7), b"value-%d-" % i + b"x" * (i % 50)
                        ts = 1700000000000 + i
                        producer.send(topic, key=key, value=value, partition=0,
                                      timestamp_ms=ts if magic == 1 else None)
                        sent.append((key, value, ts))
                    producer.flush(30)
                finally:
                    producer.close(10)
                # kcat reads v2 batches: same keys and values; timestamps kept from magic 1,
                # none (-1) from magic 0.
                expected = [(k.decode(), v.decode(), ts if magic == 1 else -1)
                            for k, v, ts in sent]
                self.assertEqual(expected, kcat_records(self.broker.bootstrap, topic, 60))
                # Consumers of both eras, in a group: every record once, in order.
                for consumer_version in ((0, 9), (0, 10, 1)):
                    got = self.consume(consumer_version, topic, 60)
                    self.assertEqual([(k, v) for k, v, _ in sent],
                                     [(r.key, r.value) for r in got])
                    self.assertEqual(list(range(60)), [r.offset for r in got])
        self.assertBrokerHealthy()

    def test_librdkafka_as_a_kafka_0_9_client(self):
        # kcat without ApiVersions, told the broker is 0.9: Produce v1 and Fetch v1, format v0.
        topic = self.topic()
        old = ["-X", "api.version.request=false", "-X", "broker.version.fallback=0.9.0"]
        lines = "".join("key%d:value %d\n" % (i % 5, i) for i in range(300))
        for codec in ("none", "gzip", "snappy"):
            subprocess.run(["kcat", "-P", "-b", self.broker.bootstrap, "-t", topic, "-p", "0",
                            "-K", ":", "-z", codec] + old,
                           input=lines, text=True, check=True, timeout=TIMEOUT_S)
        expected = [line.split(":") for line in lines.splitlines()] * 3
        for flags in (old, []):
            out = subprocess.run(["kcat", "-C", "-b", self.broker.bootstrap, "-t", topic,
                                  "-p", "0", "-o", "beginning", "-e", "-q", "-f", "%k:%s\n"] +
                                 flags, check=True, capture_output=True, text=True,
                                 timeout=TIMEOUT_S).stdout
            self.assertEqual(expected, [line.split(":") for line in out.splitlines()])
        self.assertBrokerHealthy()

    def test_new_producer_old_consumers_with_a_transaction(self):
        topic = self.topic()
        producer = Producer({"bootstrap.servers": self.broker.bootstrap,
                             "compression.type": "lz4", "linger.ms": 5})
        for i in range(30):
            producer.produce(topic, key=b"plain-%d" % i, value=b"v%d" % i, partition=0)
        producer.flush(30)
        txn = Producer({"bootstrap.servers": self.broker.bootstrap,
                        "transactional.id": "legacy-" + topic, "compression.type": "gzip"})
        txn.init_transactions(30)
        txn.begin_transaction()
        for i in range(10):
            txn.produce(topic, key=b"txn-%d" % i, value=b"t%d" % i, partition=0)
        txn.commit_transaction(30)
        for i in range(5):  # after the marker: old clients must step over it to get here
            producer.produce(topic, key=b"after-%d" % i, value=b"a%d" % i, partition=0)
        producer.flush(30)
        for consumer_version in ((0, 9), (0, 10, 1)):
            got = self.consume(consumer_version, topic, 45)
            keys = [r.key for r in got]
            self.assertEqual([b"plain-%d" % i for i in range(30)] +
                             [b"txn-%d" % i for i in range(10)] +
                             [b"after-%d" % i for i in range(5)], keys)
        # Raw Fetch v2 from the marker's offset (40) gets the records after it.
        with ps.WireClient(self.broker.bootstrap) as client:
            error, high_watermark, records = fetch_legacy(client, 2, topic, 40)
            self.assertEqual(0, error)
            self.assertEqual(46, high_watermark)
            self.assertEqual([41, 42, 43, 44, 45], [r[0] for r in records])
        self.assertBrokerHealthy()

    def test_raw_produce_and_fetch_of_each_version(self):
        topic = "raw"
        with ps.WireClient(self.broker.bootstrap) as client:
            now = int(time.time() * 1000)
            produced = [
                (0, legacy_set(0, 0, [(b"a", b"plain v0", None), (None, b"no key", None)])),
                (1, legacy_set(0, GZIP, [(b"b", b"gzip v0", None), (b"c", None, None)])),
                (2, legacy_set(1, SNAPPY, [(b"d", b"snappy v1", now), (b"e", b"e", now + 1)])),
                (2, legacy_set(1, 0, [(b"f", b"plain v1", now + 2)])),
            ]
            offsets = []
            for version, message_set in produced:
                error, base = client.produce(topic, 0, message_set, version=version)
                self.assertEqual(0, error)
                offsets.append(base)
            self.assertEqual([0, 2, 4, 6], offsets)
            # A v2 reader sees v2 batches, with no producer id and the codec kept.
            error, _, records = client.fetch(topic, 0, 0)
            self.assertEqual(0, error)
            self.assertEqual([(0, b"a", b"plain v0"), (1, None, b"no key"),
                              (2, b"b", b"gzip v0"), (3, b"c", None),
                              (4, b"d", b"snappy v1"), (5, b"e", b"e"), (6, b"f", b"plain v1")],
                             [(r[0], r[2], r[3]) for r in records])
            self.assertEqual([-1, -1, -1, -1, now, now + 1, now + 2], [r[1] for r in records])
            self.assertEqual([0, GZIP, SNAPPY, 0], ps.batch_codecs(client.fetch_raw(topic, 0, 0)[1]))
            # Fetch v0/v1 get magic 0, v2/v3 magic 1; from an offset inside a batch.
            for version, magic in ((0, 0), (1, 0), (2, 1), (3, 1)):
                error, high_watermark, got = fetch_legacy(client, version, topic, 3)
                self.assertEqual((0, 7), (error, high_watermark))
                self.assertEqual([3, 4, 5, 6], [r[0] for r in got])
                self.assertEqual({magic}, {r[1] for r in got})
                self.assertEqual([b"c", b"d", b"e", b"f"], [r[3] for r in got])
                self.assertEqual([None, b"snappy v1", b"e", b"plain v1"], [r[4] for r in got])
                if magic == 1:
                    self.assertEqual([-1, now, now + 1, now + 2], [r[2] for r in got])
            # A small partition limit still returns the first batch, then goes on from there.
            error, _, got = fetch_legacy(client, 1, topic, 0, partition_max_bytes=10)
            self.assertEqual((0, [0, 1]), (error, [r[0] for r in got]))
        self.assertBrokerHealthy()

    def test_bad_message_sets_get_kafkas_errors(self):
        topic = "bad"
        good = legacy_set(1, 0, [(b"k", b"value", 1700000000000)])
        with ps.WireClient(self.broker.bootstrap) as client:
            bad_crc = bytearray(good)
            bad_crc[-1] ^= 0xff
            inner = legacy_set(1, GZIP, [(b"k", b"v", 1700000000000)])
            nested = message(1, zlib.compress(inner), attributes=GZIP, timestamp=1)
            zstd = message(1, b"\x28\xb5\x2f\xfd", attributes=4, timestamp=1)
            cases = [
                ("CRC mismatch", bytes(bad_crc), ps.CORRUPT_MESSAGE),
                ("cut short", good[:-3], ps.CORRUPT_MESSAGE),
                ("nested compression", nested, ps.CORRUPT_MESSAGE),
                ("gzip that is not", message(1, b"junk", attributes=GZIP), ps.CORRUPT_MESSAGE),
                ("zstd in magic 1", zstd, UNSUPPORTED_COMPRESSION_TYPE),
            ]
            for name, message_set, expected in cases:
                for version in (0, 2):
                    with self.subTest(name=name, version=version):
                        error, _ = client.produce(topic, 0, message_set, version=version)
                        self.assertEqual(expected, error)
            # Nothing was appended; the partition still takes good data.
            self.assertEqual((0, 0), client.produce(topic, 0, good, version=2))
            # A v2 batch in Produce v0-2 is taken as it is, as Kafka does.
            for version in (0, 2):
                error, _ = client.produce(topic, 0, ps.simple_batch(2), version=version)
                self.assertEqual(0, error)
            self.assertEqual(5, len(client.fetch(topic, 0, 0)[2]))
        self.assertBrokerHealthy()

    def test_zstd_data_is_unsupported_for_old_fetchers(self):
        topic = "zstd"
        with ps.WireClient(self.broker.bootstrap) as client:
            zstd = ps.simple_batch(3, compression=4)
            self.assertEqual(0, client.produce(topic, 0, zstd)[0])
            for version in (0, 3):
                error, _, records = fetch_legacy(client, version, topic, 0)
                self.assertEqual((UNSUPPORTED_COMPRESSION_TYPE, []), (error, records))
            self.assertEqual(3, len(client.fetch(topic, 0, 0)[2]))  # Fetch v4 reads it
        self.assertBrokerHealthy()

    def test_damaged_batch_on_disk_is_a_storage_error_not_resent(self):
        # A byte of a stored batch flipped on disk: the conversion would write a fresh CRC,
        # so the read checks the batch's own first (Log::copy), and the log is fenced.
        topic = "damaged"
        with ps.WireClient(self.broker.bootstrap) as client:
            value = b"precious-" + b"v" * 64
            self.assertEqual(0, client.produce(topic, 0, ps.build_batch([(b"k", value, [])]))[0])
            segment = os.path.join(self.broker.data_dir, "damaged-0", "%020d.log" % 0)
            with open(segment, "r+b") as f:
                data = f.read()
                at = data.index(value) + 3
                f.seek(at)
                f.write(bytes([data[at] ^ 0xFF]))
            error, _, records = fetch_legacy(client, 1, topic, 0)
            self.assertEqual((ps.KAFKA_STORAGE_ERROR, []), (error, records))
        self.assertBrokerHealthy()

    def test_conversions_are_counted_in_metrics(self):
        topic = "counted"
        with ps.WireClient(self.broker.bootstrap) as client:
            before = self.conversions()
            message_set = legacy_set(1, 0, [(b"k", b"v%d" % i, 1700000000000) for i in range(4)])
            self.assertEqual(0, client.produce(topic, 0, message_set, version=2)[0])
            self.assertEqual(4, len(fetch_legacy(client, 0, topic, 0)[2]))
            after = self.conversions()
        self.assertEqual(before["produce"] + 4, after["produce"])
        self.assertEqual(before["fetch"] + 4, after["fetch"])

    def conversions(self):
        with urllib.request.urlopen(self.broker.admin_url + "/metrics", timeout=30) as response:
            text = response.read().decode()
        counts = {}
        for line in text.splitlines():
            if line.startswith("cairn_kafka_message_conversions_total{"):
                direction = line.split('direction="')[1].split('"')[0]
                counts[direction] = float(line.rsplit(" ", 1)[1])
        return counts


if __name__ == "__main__":
    harness.main()
