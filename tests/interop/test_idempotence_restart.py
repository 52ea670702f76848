"""An idempotent librdkafka producer whose connections are cut mid-request leaves no
duplicates.

confluent-kafka (librdkafka 2.0) with enable.idempotence=true and acks=all streams numbered
messages to a 2-partition topic while the broker is restarted under it twice (SIGTERM, start
again on the same port and data directory): requests in flight at the cut are retried by the
client with their original sequence numbers, and the broker's producer state (saved at the
clean stop, replayed from the log) turns the ones it already has into duplicates answered with
their original offsets. Afterwards each partition holds every value sent to it exactly once,
in order.
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

TOPIC = "idem-restart"
PARTITIONS = 2
TOTAL = 4000


class IdempotenceRestartTest(unittest.TestCase):
    def test_restarts_under_an_idempotent_producer_leave_no_duplicates(self):
        data_dir = tempfile.mkdtemp(prefix="cairn-idem-restart-")
        write_topics(data_dir, {TOPIC: PARTITIONS})
        broker = ps.start_broker(data_dir)
        port = broker.port
        acked = []
        failed = []
        lock = threading.Lock()

        def on_delivery(err, msg):
            with lock:
                if err:
                    failed.append(err)
                else:
                    acked.append(int(msg.value()))

        producer = confluent_kafka.Producer({
            "bootstrap.servers": broker.bootstrap, "acks": "all", "enable.idempotence": True,
            "linger.ms": 1, "message.timeout.ms": 120000, "reconnect.backoff.ms": 50,
            "reconnect.backoff.max.ms": 500})

        def send():
            for i in range(TOTAL):
                while True:
                    try:
                        producer.produce(TOPIC, value=str(i).encode(), partition=i % PARTITIONS,
                                         on_delivery=on_delivery)
                        break
                    except BufferError:
                        producer.poll(0.05)
                producer.poll(0)
                if i % 10 == 0:
                    time.sleep(0.01)  # a stream of a few seconds, so the restarts land in it
            producer.flush(180)

        try:
            sender = threading.Thread(target=send)
            sender.start()
            for threshold in (600, 1800):
                deadline = time.monotonic() + 120
                while time.monotonic() < deadline:
                    with lock:
                        if len(acked) >= threshold:
                            break
                    time.sleep(0.01)
                with lock:
                    self.assertLess(len(acked), TOTAL, "the restart came after the stream ended")
                broker.stop()
                broker = ps.start_broker(data_dir, port=port)
            sender.join(240)
            self.assertFalse(sender.is_alive())
            self.assertEqual(failed, [])
            self.assertEqual(sorted(acked), list(range(TOTAL)))

            with ps.WireClient(broker.bootstrap) as client:
                for partition in range(PARTITIONS):
                    high_watermark = client.fetch(TOPIC, partition, 0)[1]
                    records = ps.fetch_all(client, TOPIC, partition, high_watermark)
                    values = [int(r[3]) for r in records]
                    self.assertEqual(values, list(range(partition, TOTAL, PARTITIONS)))
        finally:
            broker.stop()
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    unittest.main(verbosity=2)
