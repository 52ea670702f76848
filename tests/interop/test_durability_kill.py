"""Durability: acknowledged messages survive a clean restart and a kill -9.

1. Clean restart: confluent-kafka (librdkafka) with acks=all sends 400 numbered messages, the
   broker stops (SIGTERM) and starts again on the same data directory: all 400 are there,
   once each, in order.
2. kill -9 under load: an idempotent librdkafka producer with acks=all keeps sending numbered
   messages from a thread; once some hundreds are acknowledged the broker gets SIGKILL and is
   started again on the same port and data directory; the producer reconnects and finishes.
   Every acknowledged value is present exactly once, and the partition holds each value once,
   in the order sent (idempotence: retries after the crash add no duplicates).
"""
import os
import shutil
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import confluent_kafka  # noqa: E402

from harness import write_topics  # noqa: E402
import produce_support as ps  # noqa: E402

TOPIC = "durable"


def read_values(bootstrap, count_at_least):
    with ps.WireClient(bootstrap) as client:
        high_watermark = client.fetch(TOPIC, 0, 0)[1]
        assert high_watermark >= count_at_least, (high_watermark, count_at_least)
        records = ps.fetch_all(client, TOPIC, 0, high_watermark)
    return [int(r[3]) for r in records]


class DurabilityKillTest(unittest.TestCase):
    def setUp(self):
        self.data_dir = tempfile.mkdtemp(prefix="cairn-durability-")
        write_topics(self.data_dir, {TOPIC: 1})
        self.broker = None

    def tearDown(self):
        if self.broker is not None and self.broker.process is not None:
            self.broker.stop()
        shutil.rmtree(self.data_dir, ignore_errors=True)

    def test_clean_restart_keeps_everything(self):
        self.broker = ps.start_broker(self.data_dir)
        producer = confluent_kafka.Producer({"bootstrap.servers": self.broker.bootstrap,
                                             "acks": "all", "linger.ms": 5})
        for i in range(400):
            producer.produce(TOPIC, value=str(i).encode(), partition=0)
        self.assertEqual(producer.flush(60), 0)
        self.broker.stop()
        self.broker = ps.start_broker(self.data_dir)
        self.assertEqual(read_values(self.broker.bootstrap, 400), list(range(400)))

    def test_kill9_under_acks_all_loses_no_acknowledged_message(self):
        self.broker = ps.start_broker(self.data_dir)
        port = self.broker.port
        total = 3000
        acked = []
        failed = []
        lock = threading.Lock()

        def on_delivery(err, msg):
            with lock:
                (failed if err else acked).append(int(msg.value()) if not err else err)

        producer = confluent_kafka.Producer({
            "bootstrap.servers": self.broker.bootstrap, "acks": "all",
            "enable.idempotence": True, "linger.ms": 2, "message.timeout.ms": 120000,
            "reconnect.backoff.ms": 50, "reconnect.backoff.max.ms": 500})

        def send():
            for i in range(total):
                while True:
                    try:
                        producer.produce(TOPIC, value=str(i).encode(), partition=0,
                                         on_delivery=on_delivery)
                        break
                    except BufferError:
                        producer.poll(0.05)
                producer.poll(0)
                if i % 10 == 0:
                    time.sleep(0.01)  # a stream of a few seconds, so the kill lands mid-way
            producer.flush(180)

        sender = threading.Thread(target=send)
        sender.start()
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            with lock:
                if len(acked) >= 500:
                    break
            time.sleep(0.01)
        with lock:
            acked_before_kill = list(acked)
        self.assertGreaterEqual(len(acked_before_kill), 500)
        ps.kill9(self.broker)
        with lock:
            self.assertLess(len(acked), total, "the kill came after the stream ended")
        self.broker = ps.start_broker(self.data_dir, port=port)
        sender.join(240)
        self.assertFalse(sender.is_alive())
        self.assertEqual(failed, [])

        values = read_values(self.broker.bootstrap, len(acked_before_kill))
        # Every value acknowledged before the kill, and every value at all, exactly once and
        # in the order sent.
        self.assertEqual(values, list(range(total)))
        self.assertEqual(sorted(acked), list(range(total)))


if __name__ == "__main__":
    unittest.main(verbosity=2)
