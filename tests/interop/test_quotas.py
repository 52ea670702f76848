"""Client quotas: DescribeClientQuotas / AlterClientQuotas and byte-rate throttling.

No installed client has the quota admin API (confluent-kafka 2.0.2 and kafka-python 2.0.2
lack it), so the two requests are declared here with kafka-python's protocol types (plus a
float64) and sent with kafka_wire.Connection; Produce and Fetch come from confluent-kafka.

1. Describe with each match type (EXACT, DEFAULT, SPECIFIED; strict and not), remove ops,
   validate_only; v1 (flexible, what kafka-configs.sh sends) as well as v0.
2. Bad input gets INVALID_REQUEST per entry (unknown key, request_percentage, negative, zero or
   fractional rate, unknown or `ip` entity type, empty entity, a type twice) while a good entry
   in the same request is applied; a bad Describe filter fails the whole request.
3. Produce: a producer_byte_rate on one client-id throttles that producer (throttle_time_ms >
   0, throughput near the quota) while a second producer at the same time is not slowed.
4. Fetch: a consumer_byte_rate on one client-id slows that consumer, not another one.
   Client-ids over 128 bytes (kept as a hash in the throttle accounts) are still throttled,
   each on its own account: two long ids that differ only past byte 128 do not share one.
5. Quotas survive kill -9.
6. A broker stopped while a throttled response waits exits promptly and cleanly.
"""
import os
import shutil
import struct
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import confluent_kafka  # noqa: E402
from kafka.protocol.abstract import AbstractType  # noqa: E402
from kafka.protocol.api import Request, Response  # noqa: E402
from kafka.protocol.types import Array, Boolean, Int8, Int16, Int32, Schema, String  # noqa: E402

import kafka_wire  # noqa: E402
import produce_support  # noqa: E402
from harness import Broker  # noqa: E402
from kafka.protocol.produce import ProduceRequest  # noqa: E402

INVALID_REQUEST = 42
EXACT, DEFAULT, SPECIFIED = 0, 1, 2
PRODUCE_TOPIC = "quota-produce"
FETCH_TOPIC = "quota-fetch"


class Float64(AbstractType):
    @classmethod
    def encode(cls, value):
        return struct.pack(">d", value)

    @classmethod
    def decode(cls, data):
        return struct.unpack(">d", data.read(8))[0]


ENTITY = Array(('entity_type', String('utf-8')), ('entity_name', String('utf-8')))


class DescribeClientQuotasResponse_v0(Response):
    API_KEY = 48
    API_VERSION = 0
    SCHEMA = Schema(
        ('throttle_time_ms', Int32),
        ('error_code', Int16),
        ('error_message', String('utf-8')),
        ('entries', Array(
            ('entity', ENTITY),
            ('values', Array(('key', String('utf-8')), ('value', Float64))))))


class DescribeClientQuotasRequest_v0(Request):
    API_KEY = 48
    API_VERSION = 0
    RESPONSE_TYPE = DescribeClientQuotasResponse_v0
    SCHEMA = Schema(
        ('components', Array(
            ('entity_type', String('utf-8')),
            ('match_type', Int8),
            ('match', String('utf-8')))),
        ('strict', Boolean))


class AlterClientQuotasResponse_v0(Response):
    API_KEY = 49
    API_VERSION = 0
    SCHEMA = Schema(
        ('throttle_time_ms', Int32),
        ('entries', Array(
            ('error_code', Int16),
            ('error_message', String('utf-8')),
            ('entity', ENTITY))))


class AlterClientQuotasRequest_v0(Request):
    API_KEY = 49
    API_VERSION = 0
    RESPONSE_TYPE = AlterClientQuotasResponse_v0
    SCHEMA = Schema(
        ('entries', Array(
            ('entity', ENTITY),
            ('ops', Array(
                ('key', String('utf-8')),
                ('value', Float64),
                ('remove', Boolean))))),
        ('validate_only', Boolean))


CS = kafka_wire.CompactString
TAGS = ('tags', kafka_wire.TaggedFields)
ENTITY_V1 = kafka_wire.CompactArray(('entity_type', CS), ('entity_name', CS), TAGS)


class DescribeClientQuotasResponse_v1(Response):
    API_KEY = 48
    API_VERSION = 1
    SCHEMA = Schema(
        ('throttle_time_ms', Int32), ('error_code', Int16), ('error_message', CS),
        ('entries', kafka_wire.CompactArray(
            ('entity', ENTITY_V1),
            ('values', kafka_wire.CompactArray(('key', CS), ('value', Float64), TAGS)),
            TAGS)),
        TAGS)


class DescribeClientQuotasRequest_v1(Request):
    API_KEY = 48
    API_VERSION = 1
    FLEXIBLE = True
    RESPONSE_TYPE = DescribeClientQuotasResponse_v1
    SCHEMA = Schema(
        ('components', kafka_wire.CompactArray(
            ('entity_type', CS), ('match_type', Int8), ('match', CS), TAGS)),
        ('strict', Boolean), TAGS)


class AlterClientQuotasResponse_v1(Response):
    API_KEY = 49
    API_VERSION = 1
    SCHEMA = Schema(
        ('throttle_time_ms', Int32),
        ('entries', kafka_wire.CompactArray(
            ('error_code', Int16), ('error_message', CS), ('entity', ENTITY_V1), TAGS)),
        TAGS)


class AlterClientQuotasRequest_v1(Request):
    API_KEY = 49
    API_VERSION = 1
    FLEXIBLE = True
    RESPONSE_TYPE = AlterClientQuotasResponse_v1
    SCHEMA = Schema(
        ('entries', kafka_wire.CompactArray(
            ('entity', ENTITY_V1),
            ('ops', kafka_wire.CompactArray(
                ('key', CS), ('value', Float64), ('remove', Boolean), TAGS)),
            TAGS)),
        ('validate_only', Boolean), TAGS)


class QuotaAdmin:
    """kafka-configs.sh's two requests on one connection. Entities are dicts
    {"user": "alice" | None, "client-id": ...} (None: the default)."""

    def __init__(self, bootstrap):
        self.connection = kafka_wire.Connection(bootstrap)
        self.correlation_id = 0

    def close(self):
        self.connection.close()

    def _send(self, request):
        self.correlation_id += 1
        return self.connection.request(request, self.correlation_id)

    def alter(self, entries, validate_only=False):
        """entries: [(entity, {key: value or None to remove})]; returns the error codes."""
        wire_entries = []
        for entity, ops in entries:
            wire_ops = [(key, 0.0 if value is None else float(value), value is None)
                        for key, value in ops.items()]
            wire_entries.append((list(entity.items()), wire_ops))
        response = self._send(AlterClientQuotasRequest_v0(wire_entries, validate_only))
        return [entry[0] for entry in response.entries]

    def describe(self, components, strict=False):
        """components: [(type, match_type, match)]; returns (error_code, {entity: values})
        with entity a frozenset of (type, name) pairs."""
        response = self._send(DescribeClientQuotasRequest_v0(components, strict))
        if response.entries is None:
            return response.error_code, None
        found = {}
        for entity, values in response.entries:
            found[frozenset(entity)] = dict(values)
        return response.error_code, found


def entity_key(entity):
    return frozenset(entity.items())


ALICE = {"user": "alice"}
ALICE_APP = {"user": "alice", "client-id": "app"}
DEFAULT_USER = {"user": None}
DEFAULT_CLIENT = {"client-id": None}
DEFAULT_USER_APP = {"user": None, "client-id": "app"}


class QuotaAdminTest(unittest.TestCase):
    def test_describe_match_types(self):
        with Broker(shards=2) as broker:
            admin = QuotaAdmin(broker.bootstrap)
            errors = admin.alter([(ALICE, {"consumer_byte_rate": 1000}),
                                  (ALICE_APP, {"producer_byte_rate": 2000}),
                                  (DEFAULT_USER, {"producer_byte_rate": 3000}),
                                  (DEFAULT_CLIENT, {"producer_byte_rate": 4000}),
                                  (DEFAULT_USER_APP, {"consumer_byte_rate": 5000})])
            self.assertEqual(errors, [0] * 5)

            def names(components, strict=False):
                error, found = admin.describe(components, strict)
                self.assertEqual(error, 0)
                return set(found)

            k = entity_key
            self.assertEqual(names([("user", EXACT, "alice")]), {k(ALICE), k(ALICE_APP)})
            self.assertEqual(names([("user", EXACT, "alice")], strict=True), {k(ALICE)})
            self.assertEqual(names([("user", DEFAULT, None)]),
                             {k(DEFAULT_USER), k(DEFAULT_USER_APP)})
            self.assertEqual(names([("user", DEFAULT, None)], strict=True), {k(DEFAULT_USER)})
            self.assertEqual(names([("user", SPECIFIED, None)], strict=True),
                             {k(ALICE), k(DEFAULT_USER)})
            self.assertEqual(names([("user", SPECIFIED, None)]),
                             {k(ALICE), k(ALICE_APP), k(DEFAULT_USER), k(DEFAULT_USER_APP)})
            self.assertEqual(names([("user", EXACT, "alice"), ("client-id", EXACT, "app")],
                                   strict=True), {k(ALICE_APP)})
            self.assertEqual(names([("client-id", DEFAULT, None)], strict=True),
                             {k(DEFAULT_CLIENT)})
            self.assertEqual(len(names([])), 5)
            self.assertEqual(names([], strict=True), set())
            self.assertEqual(names([("ip", SPECIFIED, None)]), set())
            _, found = admin.describe([("user", EXACT, "alice"), ("client-id", EXACT, "app")])
            self.assertEqual(found[k(ALICE_APP)], {"producer_byte_rate": 2000.0})

            # validate_only stores nothing; a remove op drops the key, and the entity with it.
            self.assertEqual(admin.alter([({"user": "bob"}, {"producer_byte_rate": 7})],
                                         validate_only=True), [0])
            self.assertEqual(names([("user", EXACT, "bob")]), set())
            self.assertEqual(admin.alter([(ALICE, {"consumer_byte_rate": None})]), [0])
            self.assertEqual(names([("user", EXACT, "alice")]), {k(ALICE_APP)})
            admin.close()

    def test_flexible_v1_as_kafka_configs_sends_it(self):
        with Broker(shards=2) as broker:
            admin = QuotaAdmin(broker.bootstrap)
            response = admin._send(AlterClientQuotasRequest_v1(
                [([("user", "carol", {}), ("client-id", None, {})],
                  [("producer_byte_rate", 4096.0, False, {})], {})], False, {}))
            self.assertEqual([e[0] for e in response.entries], [0])
            self.assertEqual(sorted(e[:2] for e in response.entries[0][2]),
                             [("client-id", None), ("user", "carol")])
            response = admin._send(DescribeClientQuotasRequest_v1(
                [("user", EXACT, "carol", {})], True, {}))
            self.assertEqual(response.error_code, 0)
            self.assertEqual(len(response.entries), 0)  # strict: carol has a client-id part
            response = admin._send(DescribeClientQuotasRequest_v1(
                [("user", EXACT, "carol", {}), ("client-id", DEFAULT, None, {})], True, {}))
            self.assertEqual(len(response.entries), 1)
            entity, values, _ = response.entries[0]
            self.assertEqual(sorted(e[:2] for e in entity),
                             [("client-id", None), ("user", "carol")])
            self.assertEqual([v[:2] for v in values], [("producer_byte_rate", 4096.0)])
            admin.close()

    def test_bad_input_is_invalid_request(self):
        with Broker(shards=2) as broker:
            admin = QuotaAdmin(broker.bootstrap)
            good = {"client-id": "good"}
            errors = admin.alter([
                ({"client-id": "a"}, {"unknown_rate": 10}),
                ({"client-id": "b"}, {"request_percentage": 50}),
                ({"client-id": "c"}, {"producer_byte_rate": -5}),
                ({"client-id": "d"}, {"producer_byte_rate": 0}),
                ({"client-id": "e"}, {"consumer_byte_rate": 1.5}),
                ({"group": "g"}, {"producer_byte_rate": 10}),
                ({"ip": "1.2.3.4"}, {"connection_creation_rate": 10}),
                ({}, {"producer_byte_rate": 10}),
                ({"client-id": ""}, {"producer_byte_rate": 10}),
                (good, {"producer_byte_rate": 1024}),
            ])
            self.assertEqual(errors, [INVALID_REQUEST] * 9 + [0])
            # A type given twice (a dict cannot hold it: send the raw entity list).
            response = admin._send(AlterClientQuotasRequest_v0(
                [([("user", "x"), ("user", "y")], [("producer_byte_rate", 10.0, False)])], False))
            self.assertEqual(response.entries[0][0], INVALID_REQUEST)
            error, found = admin.describe([])
            self.assertEqual(error, 0)
            self.assertEqual(found, {entity_key(good): {"producer_byte_rate": 1024.0}})
            for components in ([("group", SPECIFIED, None)], [("user", EXACT, None)],
                               [("user", DEFAULT, "alice")], [("user", 7, None)],
                               [("user", SPECIFIED, None), ("user", DEFAULT, None)]):
                error, found = admin.describe(components)
                self.assertEqual(error, INVALID_REQUEST, components)
                self.assertIsNone(found)
            admin.close()
            self.assertTrue(broker.alive())

    def test_quotas_survive_kill9(self):
        data_dir = tempfile.mkdtemp(prefix="cairn-quotas-")
        try:
            broker = Broker(shards=2, data_dir=data_dir).start()
            admin = QuotaAdmin(broker.bootstrap)
            self.assertEqual(admin.alter([(ALICE_APP, {"producer_byte_rate": 2048,
                                                       "consumer_byte_rate": 4096}),
                                          (DEFAULT_CLIENT, {"producer_byte_rate": 512})]),
                             [0, 0])
            admin.close()
            broker.check_clean()
            broker._kill()  # SIGKILL right after the answer: nothing is flushed on the way out
            with Broker(shards=2, data_dir=data_dir) as restarted:
                admin = QuotaAdmin(restarted.bootstrap)
                error, found = admin.describe([])
                admin.close()
            self.assertEqual(error, 0)
            self.assertEqual(found, {
                entity_key(ALICE_APP): {"producer_byte_rate": 2048.0,
                                        "consumer_byte_rate": 4096.0},
                entity_key(DEFAULT_CLIENT): {"producer_byte_rate": 512.0}})
        finally:
            shutil.rmtree(data_dir, ignore_errors=True)


PRODUCE_QUOTA = 100_000  # bytes per second
RUN_S = 15.0
FREE_TARGET = 1_000_000  # what the unthrottled producer tries to send per second
VALUE = b"x" * 1000


def run_producer(bootstrap, client_id, bytes_per_second, result):
    """Produces for RUN_S at up to `bytes_per_second` (None: as fast as it can); records the
    acknowledged bytes and the largest throttle_time_ms librdkafka reported."""
    result.update(acked=0, throttle_ms_max=0)

    def on_throttle(event):
        result["throttle_ms_max"] = max(result["throttle_ms_max"], event.throttle_time * 1000)

    def on_delivery(err, msg):
        if err is None:
            result["acked"] += len(msg.value())

    producer = confluent_kafka.Producer({
        "bootstrap.servers": bootstrap, "client.id": client_id, "acks": 1, "linger.ms": 5,
        "batch.size": 16384, "queue.buffering.max.kbytes": 256, "throttle_cb": on_throttle})
    start = time.monotonic()
    sent = 0
    while time.monotonic() - start < RUN_S:
        elapsed = time.monotonic() - start
        if bytes_per_second is not None and sent >= bytes_per_second * elapsed:
            producer.poll(0.005)
            continue
        try:
            producer.produce(PRODUCE_TOPIC, value=VALUE, partition=0, on_delivery=on_delivery)
            sent += len(VALUE)
        except BufferError:
            producer.poll(0.05)
        producer.poll(0)
    result["elapsed_s"] = time.monotonic() - start
    producer.flush(30)


class ThrottleTest(unittest.TestCase):
    def test_produce_quota_slows_only_its_client(self):
        with Broker(shards=2, topics={PRODUCE_TOPIC: 1}) as broker:
            admin = QuotaAdmin(broker.bootstrap)
            self.assertEqual(admin.alter([({"client-id": "throttled"},
                                           {"producer_byte_rate": PRODUCE_QUOTA})]), [0])
            admin.close()
            throttled, free = {}, {}
            threads = [
                threading.Thread(target=run_producer,
                                 args=(broker.bootstrap, "throttled", None, throttled)),
                threading.Thread(target=run_producer,
                                 args=(broker.bootstrap, "free", FREE_TARGET, free)),
            ]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            # The window lets a new client send the quota's 10 s worth at once, then holds
            # it to the quota: about PRODUCE_QUOTA * (RUN_S + 10.5) bytes at most.
            burst = PRODUCE_QUOTA * 10.5
            steady_rate = (throttled["acked"] - burst) / RUN_S
            print("throttled: %d bytes in %.1f s (%.0f B/s after the first window's burst; "
                  "quota %d B/s), throttle_time_ms max %d; free: %d bytes (%.0f B/s), "
                  "throttle_time_ms max %d" % (
                      throttled["acked"], throttled["elapsed_s"], steady_rate, PRODUCE_QUOTA,
                      throttled["throttle_ms_max"], free["acked"],
                      free["acked"] / free["elapsed_s"], free["throttle_ms_max"]))
            self.assertGreater(throttled["throttle_ms_max"], 0)
            self.assertEqual(free["throttle_ms_max"], 0)
            self.assertLess(throttled["acked"], PRODUCE_QUOTA * (RUN_S + 11) * 1.15)
            self.assertGreater(throttled["acked"], PRODUCE_QUOTA * RUN_S * 0.5)
            self.assertGreater(free["acked"], FREE_TARGET * RUN_S * 0.8)

    def test_fetch_quota_slows_only_its_client(self):
        quota = 100_000
        total = 2_000_000
        with Broker(shards=2, topics={FETCH_TOPIC: 1}) as broker:
            producer = confluent_kafka.Producer({"bootstrap.servers": broker.bootstrap,
                                                 "client.id": "filler", "linger.ms": 5})
            for _ in range(total // len(VALUE)):
                producer.produce(FETCH_TOPIC, value=VALUE, partition=0)
                producer.poll(0)
            self.assertEqual(producer.flush(60), 0)
            admin = QuotaAdmin(broker.bootstrap)
            self.assertEqual(admin.alter([({"client-id": "slow-reader"},
                                           {"consumer_byte_rate": quota})]), [0])
            admin.close()
            slow, fast = {}, {}
            threads = [threading.Thread(target=consume_all,
                                        args=(broker.bootstrap, "slow-reader", total, slow)),
                       threading.Thread(target=consume_all,
                                        args=(broker.bootstrap, "fast-reader", total, fast))]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            print("slow-reader: %d bytes in %.1f s, throttle_time_ms max %d; fast-reader: "
                  "%d bytes in %.1f s, throttle_time_ms max %d" % (
                      slow["bytes"], slow["elapsed_s"], slow["throttle_ms_max"],
                      fast["bytes"], fast["elapsed_s"], fast["throttle_ms_max"]))
            self.assertEqual(slow["bytes"], total)
            self.assertEqual(fast["bytes"], total)
            self.assertGreater(slow["throttle_ms_max"], 0)
            self.assertEqual(fast["throttle_ms_max"], 0)
            # Past the first window's 10.5 s of credit the rest comes at the quota.
            self.assertGreater(slow["elapsed_s"], (total - quota * 11) / quota * 0.7)
            self.assertLess(fast["elapsed_s"], slow["elapsed_s"] / 2)


def produce_as(bootstrap, client_id, value):
    """One Produce v7 of `value` to PRODUCE_TOPIC partition 0 on a new connection, sent with
    `client_id` in the request header; (error_code, throttle_time_ms)."""
    request = ProduceRequest[7](
        transactional_id=None, required_acks=1, timeout=30000,
        topics=[(PRODUCE_TOPIC, [(0, produce_support.build_batch([(None, value, [])]))])])
    with kafka_wire.Connection(bootstrap) as conn:
        conn.send(kafka_wire.encode_request(request, 7, client_id=client_id))
        response = kafka_wire.decode_response(request, conn.read_frame(), 7)
    return response.topics[0][1][0][1], response.throttle_time_ms


class LongClientIdTest(unittest.TestCase):
    def test_long_client_ids_are_throttled_each_on_its_own_account(self):
        quota = 10_000
        prefix = "long-client-" + "x" * 200  # well past the 128 bytes kept as they are
        heavy, light = prefix + "-heavy", prefix + "-light"  # same length, differ at the end
        with Broker(shards=2, topics={PRODUCE_TOPIC: 1}) as broker:
            admin = QuotaAdmin(broker.bootstrap)
            self.assertEqual(admin.alter([(DEFAULT_CLIENT, {"producer_byte_rate": quota})]),
                             [0])
            admin.close()
            # 11.5 s of quota at once: over the 10-11 s window by 0.5-1.5 s.
            error, throttle_ms = produce_as(broker.bootstrap, heavy, b"h" * int(quota * 11.5))
            # Proves a client-id over 128 bytes is still counted against its quota.
            self.assertEqual(error, 0)
            self.assertGreater(throttle_ms, 0)
            self.assertLessEqual(throttle_ms, 2000)
            # Proves the account is the whole name's (a hash), not its first 128 bytes: a
            # client-id sharing those is not throttled for the other's bytes.
            self.assertEqual(produce_as(broker.bootstrap, light, b"l" * 100), (0, 0))
            # Proves the long name maps to the same account from a new connection.
            error, again_ms = produce_as(broker.bootstrap, heavy, b"h" * 100)
            self.assertEqual(error, 0)
            self.assertGreater(again_ms, 0)
            self.assertTrue(broker.alive())
        # Leaving the `with` stopped the broker and checked its exit and stderr (sanitizers).


class StopTest(unittest.TestCase):
    def test_stop_while_a_response_is_throttled(self):
        """A throttled response waits on a timer; SIGTERM ends the wait instead of waiting for
        it (up to 11 s), and the broker exits cleanly."""
        broker = Broker(shards=2, topics={PRODUCE_TOPIC: 1}).start()
        admin = QuotaAdmin(broker.bootstrap)
        self.assertEqual(admin.alter([({"client-id": "tiny"}, {"producer_byte_rate": 1000})]),
                         [0])
        admin.close()
        producer = confluent_kafka.Producer({"bootstrap.servers": broker.bootstrap,
                                             "client.id": "tiny", "linger.ms": 0})
        for _ in range(3):  # 60 KB at 1 KB/s: the second request already waits 11 s
            producer.produce(PRODUCE_TOPIC, value=b"y" * 20000, partition=0)
            producer.poll(0.5)
        start = time.monotonic()
        broker.stop()  # fails on a sanitizer report or a bad exit
        stop_s = time.monotonic() - start
        print("stopped %.1f s after SIGTERM with a throttled produce waiting" % stop_s)
        self.assertLess(stop_s, 8)
        producer.flush(0)


def consume_all(bootstrap, client_id, total, result):
    result.update(bytes=0, throttle_ms_max=0)

    def on_throttle(event):
        result["throttle_ms_max"] = max(result["throttle_ms_max"], event.throttle_time * 1000)

    start = time.monotonic()
    consumer = confluent_kafka.Consumer({
        "bootstrap.servers": bootstrap, "client.id": client_id, "group.id": client_id,
        "auto.offset.reset": "earliest", "enable.auto.commit": False,
        "throttle_cb": on_throttle})
    consumer.assign([confluent_kafka.TopicPartition(FETCH_TOPIC, 0, 0)])
    while result["bytes"] < total and time.monotonic() - start < 120:
        message = consumer.poll(0.2)
        if message is not None and message.error() is None:
            result["bytes"] += len(message.value())
    result["elapsed_s"] = time.monotonic() - start
    consumer.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
