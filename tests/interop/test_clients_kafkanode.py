#!/usr/bin/python3
"""kafka-node (5.0.0, pinned in tests/interop/js/package-lock.json), a JavaScript client of the
Kafka 0.9-1.0 era: it knows Produce v0-2, Fetch v0-2, Metadata v0-1, OffsetFetch v0-1 and the
first versions of the group APIs, so it writes message formats v0/v1 that Cairn converts to v2
batches, and reads what Cairn converts back (tests/interop/js/kafka_node.js).

- Round trip, as kafka-node negotiates (Produce v2 and Fetch v2: magic 1) and capped at
  Produce v0 / Fetch v0 (magic 0): createTopics, listTopics, loadMetadataForTopics and
  describeConfigs; plain, keyed and gzip-compressed sends; a ConsumerGroup reads every message
  exactly once in offset order; the latest offsets (ListOffsets v0) and the committed ones
  (OffsetFetch v1) agree; Offset.fetch's default ("offsets before now") answers an offset;
  ListGroups and DescribeGroups show the group empty once it left.
- kafka-node capped at magic 0 compresses a magic 1 set inside a magic 0 wrapper; Kafka
  refuses that, and Cairn too, with CORRUPT_MESSAGE (kafka-node calls it "InvalidMessage").
- Old to new: what kafka-node writes (magic 1 and magic 0) is read by kcat and by a
  confluent-kafka consumer group (v2 batches), same keys and values; magic 1 timestamps kept,
  magic 0 messages have none.
- New to old: confluent-kafka's v2 batches (gzip and uncompressed, with headers) are read by
  kafka-node's ConsumerGroup at magic 1 and at magic 0.
"""
import subprocess
import time

from confluent_kafka import Consumer, Producer

import harness
import js_support

COUNT = 30
TIMEOUT_S = 60
FORMAT_V0 = "--format-v0"


def kafka_node_messages(count, with_gzip=True):
    """What kafka_node.js sends for `count`, per partition in send (so offset) order:
    {partition: [(key, value)]}: the plain messages, then the keyed ones, then the gzip set."""
    plain = [(0, None, "plain-%d" % i) for i in range(0, count, 3)]
    keyed = [(i % 2, "key-%d" % (i % 5), "keyed-%d" % i) for i in range(2, count, 3)]
    gzip = [(1, "gzip-key", "gzip-%d-%s" % (i, "z" * (i % 40))) for i in range(1, count, 3)]
    out = {0: [], 1: []}
    for partition, key, value in plain + keyed + (gzip if with_gzip else []):
        out[partition].append((key, value))
    return out


def by_partition(rows):
    """{partition: [(key, value)] in offset order} of rows with partition, offset, key, value;
    fails if an offset repeats or one is missing."""
    out = {0: [], 1: []}
    for partition in out:
        mine = sorted((r["offset"], r["key"], r["value"]) for r in rows
                      if r["partition"] == partition)
        if [offset for offset, _, _ in mine] != list(range(len(mine))):
            raise AssertionError("partition %d offsets %s" % (partition, [m[0] for m in mine]))
        out[partition] = [(key, value) for _, key, value in mine]
    return out


def kcat_rows(bootstrap, topic, count):
    """Every record of `topic` read by kcat (librdkafka, v2 batches): dicts with partition,
    offset, key (None when absent) and value, and the timestamp."""
    out = subprocess.run(
        ["kcat", "-C", "-b", bootstrap, "-t", topic, "-o", "beginning", "-c", str(count), "-e",
         "-q", "-Z", "-f", "%p|%o|%k|%s|%T\\n"],
        check=True, capture_output=True, timeout=TIMEOUT_S, text=True).stdout
    rows = []
    for line in out.splitlines():
        partition, offset, key, value, timestamp = line.split("|")
        rows.append({"partition": int(partition), "offset": int(offset),
                     "key": None if key == "NULL" else key, "value": value,
                     "timestamp": int(timestamp)})
    return rows


def confluent_group_rows(bootstrap, topic, count):
    """Every record of `topic` read by a confluent-kafka consumer group, waiting a little
    after the last expected one so that a duplicate would be seen."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": topic + "-confluent",
                         "auto.offset.reset": "earliest", "enable.auto.commit": False})
    rows = []
    try:
        consumer.subscribe([topic])
        deadline = time.monotonic() + TIMEOUT_S
        settle_until = None
        while time.monotonic() < deadline and (settle_until is None
                                               or time.monotonic() < settle_until):
            message = consumer.poll(0.5)
            if message is None or message.error() is not None:
                continue
            rows.append({"partition": message.partition(), "offset": message.offset(),
                         "key": None if message.key() is None else message.key().decode(),
                         "value": message.value().decode()})
            if len(rows) == count:
                settle_until = time.monotonic() + 1.5
    finally:
        consumer.close()
    return rows


class KafkaNode(harness.BrokerTestCase):
    # For the mixed tests; the round trips create their topics with kafka-node's createTopics.
    broker_topics = {"kn-out": 2, "kn-out-v0": 2, "kn-in": 2, "kn-in-v0": 2}

    @classmethod
    def setUpClass(cls):
        js_support.ensure_node_modules("kafka-node")
        super().setUpClass()

    def kafka_node(self, topic, mode, flags, count=COUNT):
        return js_support.run_json(
            "kafka_node.js", [self.broker.bootstrap, topic, count, mode] + flags,
            context=lambda: self.broker.stderr()[-4000:])

    def check_round_trip(self, topic, flags):
        result = self.kafka_node(topic, "all", flags)
        self.assertEqual([], result["create_errors"])
        self.assertEqual((2, 2, 1), (result["listed_partitions"], result["loaded_partitions"],
                                     result["brokers"]))
        self.assertEqual("delete", result["cleanup_policy"])
        expected = kafka_node_messages(COUNT, with_gzip=not flags)
        self.assertEqual(sum(map(len, expected.values())), len(result["sent"]))
        self.assertEqual(expected, by_partition(result["seen"]))
        self.assertEqual([len(expected[0]), len(expected[1])], result["latest"])
        self.check_offsets_before(result)
        self.assertEqual(result["latest"], result["committed"])
        self.check_group_left(result)
        self.assertBrokerHealthy()
        return result

    def check_offsets_before(self, result):
        """Offset.fetch (ListOffsets v0, Kafka 0.8's "offsets before a time"): with its
        default time, now, the base offset of the one segment, or the high watermark when the
        broker's clock has not moved on since the client read its own (Kafka answers alike);
        an hour ahead, the high watermark."""
        for partition, latest in enumerate(result["latest"]):
            self.assertIn(result["before_now"][partition], ([0], [latest]))
        self.assertEqual([[latest] for latest in result["latest"]],
                         result["before_an_hour_from_now"])

    def check_group_left(self, result):
        self.assertEqual(("consumer", "Empty", 0), (result["group_protocol_type"],
                                                    result["group_state"],
                                                    result["group_members"]))

    def test_round_trip(self):
        result = self.check_round_trip("kafka-node-rt", [])
        self.assertNotIn("gzip_error", result)

    def test_round_trip_format_v0(self):
        result = self.check_round_trip("kafka-node-rt-v0", [FORMAT_V0])
        self.assertEqual("InvalidMessage", result["gzip_error"])

    def test_kafka_node_records_read_by_v2_clients(self):
        for topic, flags in (("kn-out", []), ("kn-out-v0", [FORMAT_V0])):
            with self.subTest(flags=flags):
                started_ms = int(time.time() * 1000)
                result = self.kafka_node(topic, "produce", flags)
                expected = kafka_node_messages(COUNT, with_gzip=not flags)
                total = len(result["sent"])
                rows = kcat_rows(self.broker.bootstrap, topic, total)
                self.assertEqual(expected, by_partition(rows))
                for row in rows:
                    if flags:  # magic 0 messages carry no timestamp
                        self.assertEqual(-1, row["timestamp"])
                    else:
                        self.assertGreaterEqual(row["timestamp"], started_ms - 60000)
                        self.assertLessEqual(row["timestamp"], int(time.time() * 1000))
                self.assertEqual(expected, by_partition(
                    confluent_group_rows(self.broker.bootstrap, topic, total)))
        self.assertBrokerHealthy()

    def produce_v2(self, topic):
        """COUNT messages through confluent-kafka: keyed and gzip to partition 0, without keys
        and uncompressed (with a header old formats drop) to partition 1."""
        expected = {0: [], 1: []}
        for partition, codec in ((0, "gzip"), (1, "none")):
            producer = Producer({"bootstrap.servers": self.broker.bootstrap,
                                 "compression.type": codec, "linger.ms": 20})
            for i in range(partition, COUNT, 2):
                key = "v2-key-%d" % (i % 4) if partition == 0 else None
                value = "v2-%s-%d-%s" % (codec, i, "y" * (i % 30))
                producer.produce(topic, value=value, key=key, partition=partition,
                                 headers={"n": str(i)})
                expected[partition].append((key, value))
            self.assertEqual(0, producer.flush(TIMEOUT_S))
        return expected

    def test_v2_records_read_by_kafka_node(self):
        for topic, flags in (("kn-in", []), ("kn-in-v0", [FORMAT_V0])):
            with self.subTest(flags=flags):
                expected = self.produce_v2(topic)
                result = self.kafka_node(topic, "consume", flags)
                self.assertEqual(expected, by_partition(result["seen"]))
                self.assertEqual([len(expected[0]), len(expected[1])], result["committed"])
                self.check_group_left(result)
        self.assertBrokerHealthy()


if __name__ == "__main__":
    harness.main()
