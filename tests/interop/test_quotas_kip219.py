#!/usr/bin/python3
"""How a throttled client is held back, by request version (KIP-219, docs/quotas.md), with raw
Produce and Fetch requests under a producer_byte_rate / consumer_byte_rate:

- Produce v7 and Fetch v11 (KIP-219 clients): the response comes at once with
  throttle_time_ms, and the broker mutes the connection for that long: a request sent right
  after it is answered only once the throttle time is over; the throttled Fetch is empty and
  the records come with a later one, once the window allows them;
- Produce v5 and Fetch v4 (older clients): the response itself waits for the throttle time;
- a connection of another client is neither muted nor delayed meanwhile.
"""
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from kafka.protocol.fetch import FetchRequest  # noqa: E402
from kafka.protocol.produce import ProduceRequest  # noqa: E402

from harness import Broker  # noqa: E402
import kafka_wire  # noqa: E402
import produce_support as ps  # noqa: E402
from test_quotas import QuotaAdmin  # noqa: E402

TOPIC = "kip219"
QUOTA = 50_000  # bytes per second; a new account may send 10 s worth (500 KB) at once
THROTTLED = "kip219-client"  # under the quota; Produce v7 / Fetch v11
OLD_CLIENT = "pre-kip219-client"  # under its own quota; Produce v5 / Fetch v4


class Connection:
    """One connection; requests timed from send to answer."""

    def __init__(self, bootstrap, client_id=THROTTLED):
        self.connection = kafka_wire.Connection(bootstrap)
        self.client_id = client_id
        self.correlation_id = 0

    def close(self):
        self.connection.close()

    def send(self, request):
        self.correlation_id += 1
        self.connection.send(kafka_wire.encode_request(request, self.correlation_id,
                                                       client_id=self.client_id))
        return self.correlation_id

    def answer(self, request, correlation_id):
        payload = self.connection.read_frame()
        assert payload is not None, "the broker closed the connection"
        return kafka_wire.decode_response(request, payload, correlation_id)

    def timed(self, request):
        """(response, seconds from send to answer)."""
        started = time.monotonic()
        response = self.answer(request, self.send(request))
        return response, time.monotonic() - started


def produce_request(version, size):
    batch = ps.simple_batch(count=1, size=size)
    return ProduceRequest[version](transactional_id=None, required_acks=1, timeout=30000,
                                   topics=[(TOPIC, [(0, batch)])])


def fetch_request(version, partition_max_bytes=1 << 20):
    """Fetch v4 or v11 of partition 0 from offset 0, sessionless, answering at once."""
    common = dict(replica_id=-1, max_wait_time=0, min_bytes=0, max_bytes=50 << 20,
                  isolation_level=0)
    if version == 4:
        return FetchRequest[4](topics=[(TOPIC, [(0, 0, partition_max_bytes)])], **common)
    assert version == 11
    # partition: (index, current_leader_epoch, fetch_offset, log_start_offset, max_bytes)
    return FetchRequest[11](session_id=0, session_epoch=-1,
                            topics=[(TOPIC, [(0, -1, 0, -1, partition_max_bytes)])],
                            forgotten_topics_data=[], rack_id="", **common)


class Kip219Test(unittest.TestCase):
    def setUp(self):
        self.broker = Broker(shards=2, topics={TOPIC: 1}).start()
        self.addCleanup(self.broker.stop)

    def set_quota(self, key):
        """`key` for THROTTLED and OLD_CLIENT, each an account of its own."""
        admin = QuotaAdmin(self.broker.bootstrap)
        self.assertEqual(admin.alter([({"client-id": THROTTLED}, {key: QUOTA}),
                                      ({"client-id": OLD_CLIENT}, {key: QUOTA})]), [0, 0])
        admin.close()

    def connect(self, client_id=THROTTLED):
        connection = Connection(self.broker.bootstrap, client_id)
        self.addCleanup(connection.close)
        return connection

    def until_throttled(self, connection, request):
        """Sends `request` until an answer carries a throttle time: (response, seconds)."""
        for _ in range(6):
            response, elapsed_s = connection.timed(request)
            if response.throttle_time_ms > 0:
                return response, elapsed_s
        self.fail("never throttled")

    def check_muted(self, connection, response, elapsed_s):
        """A KIP-219 answer: at once, and the next request waits out the throttle time."""
        throttle_s = response.throttle_time_ms / 1000
        self.assertGreaterEqual(throttle_s, 1.0, response)
        self.assertLess(elapsed_s, throttle_s / 2)
        _, probe_s = connection.timed(kafka_wire.ApiVersionRequest[0]())
        self.assertGreater(elapsed_s + probe_s, throttle_s * 0.8)
        # Another client is not held back meanwhile.
        _, other_s = self.connect("someone-else").timed(kafka_wire.ApiVersionRequest[0]())
        self.assertLess(other_s, 1.0)

    def check_delayed(self, response, elapsed_s):
        """An answer to a client from before KIP-219: only after the throttle time."""
        self.assertGreaterEqual(response.throttle_time_ms, 1000, response)
        self.assertGreater(elapsed_s, response.throttle_time_ms / 1000 * 0.8)

    def test_produce(self):
        self.set_quota("producer_byte_rate")
        # 300 KB twice against 500 KB of credit: about 2 s of throttle on the second.
        for version, client_id, check in ((7, THROTTLED, self.check_muted),
                                          (5, OLD_CLIENT, None)):
            connection = self.connect(client_id)
            response, elapsed_s = self.until_throttled(connection,
                                                       produce_request(version, 300_000))
            print("Produce v%d: answered in %.2f s with throttle_time_ms %d"
                  % (version, elapsed_s, response.throttle_time_ms))
            self.assertEqual(response.topics[0][1][0][1], 0)
            if check:
                check(connection, response, elapsed_s)
            else:
                self.check_delayed(response, elapsed_s)

    def test_fetch(self):
        producer = self.connect("filler")
        for _ in range(3):
            response, _ = producer.timed(produce_request(7, 300_000))
            self.assertEqual(response.topics[0][1][0][1], 0)
        self.set_quota("consumer_byte_rate")
        for version, client_id in ((11, THROTTLED), (4, OLD_CLIENT)):
            connection = self.connect(client_id)
            response, elapsed_s = self.until_throttled(connection, fetch_request(version))
            print("Fetch v%d: answered in %.2f s with throttle_time_ms %d"
                  % (version, elapsed_s, response.throttle_time_ms))
            if version == 11:
                # Answered empty (the records stay), as Kafka answers a throttled KIP-219
                # Fetch; the next Fetch after the throttle time gets them.
                self.assertEqual(response.topics, [])
                self.check_muted(connection, response, elapsed_s)
                # Fetches keep coming back empty, each after its mute, until the window lets
                # the records through: they were not lost.
                deadline = time.monotonic() + 30
                while True:
                    again, _ = connection.timed(fetch_request(version))
                    if again.topics:
                        break
                    self.assertLess(time.monotonic(), deadline, "the records never came")
                self.assertGreater(len(again.topics[0][1][0][-1]), 0)  # the records
            else:
                self.check_delayed(response, elapsed_s)


if __name__ == "__main__":
    unittest.main()
