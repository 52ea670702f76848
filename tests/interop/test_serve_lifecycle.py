"""`cairn serve` as a process: one broker per data directory, failed starts that leave the
directory alone, Ctrl-C, the wildcard listen address and the log lines `make run` shows.

1. Two brokers, one data directory: broker A holds acknowledged records; broker B started on
   the same directory exits at once (exit 1) naming A's pid, and A's records are all there,
   through A and after A restarts (before the lock, B wiped A's partitions).
2. A port already in use: the broker exits 1 and leaves nothing in its fresh data directory
   but the lock file (no meta/, no __consumer_offsets-*).
3. SIGINT (Ctrl-C under `make run`) stops the broker with exit 0, and what acks=all
   acknowledged is there after a restart; the start logs the data directory's absolute path.
4. `--listen :PORT` listens on every interface.
"""
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import confluent_kafka  # noqa: E402

import harness  # noqa: E402

EXIT_TIMEOUT_S = 60


def produce(bootstrap, topic, values):
    producer = confluent_kafka.Producer({"bootstrap.servers": bootstrap, "acks": "all",
                                         "linger.ms": 0})
    failures = []
    for value in values:
        producer.produce(topic, value=value.encode(), partition=0,
                         on_delivery=lambda err, _msg: err and failures.append(err))
    assert producer.flush(60) == 0, "undelivered records"
    assert not failures, failures


def consume_all(bootstrap, topic, count):
    consumer = confluent_kafka.Consumer({"bootstrap.servers": bootstrap, "group.id": "lifecycle",
                                         "auto.offset.reset": "earliest",
                                         "enable.auto.commit": False})
    consumer.assign([confluent_kafka.TopicPartition(topic, 0, 0)])
    values = []
    deadline = time.monotonic() + 60
    while len(values) < count and time.monotonic() < deadline:
        message = consumer.poll(0.5)
        if message is not None and message.error() is None:
            values.append(message.value().decode())
    consumer.close()
    return values


def run_to_exit(args):
    """Runs `cairn ARGS` to its exit; returns (exit code, stderr, seconds taken)."""
    started = time.monotonic()
    done = subprocess.run([harness.cairn_binary()] + args, stdin=subprocess.DEVNULL,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          timeout=EXIT_TIMEOUT_S)
    return done.returncode, done.stderr.decode("utf-8", "replace"), time.monotonic() - started


class ServeLifecycleTest(unittest.TestCase):
    def setUp(self):
        self.data_dir = tempfile.mkdtemp(prefix="cairn-lifecycle-")

    def tearDown(self):
        shutil.rmtree(self.data_dir, ignore_errors=True)

    def test_second_broker_on_the_data_dir_fails_and_touches_nothing(self):
        values = ["A%d" % i for i in range(1, 6)]
        with harness.Broker(data_dir=self.data_dir) as first:
            produce(first.bootstrap, "dup", values)
            code, stderr, _ = run_to_exit(["serve", "--listen", "127.0.0.1:0",
                                           "--admin-listen", "127.0.0.1:0",
                                           "--data-dir", self.data_dir])
            self.assertEqual(code, 1, stderr)
            self.assertIn("in use by another broker (pid %d)" % first.pid, stderr)
            self.assertNotIn("listening on", stderr)
            self.assertNotIn("wiping", stderr)
            self.assertTrue(first.alive())
            self.assertEqual(consume_all(first.bootstrap, "dup", 5), values)
        with harness.Broker(data_dir=self.data_dir) as again:
            self.assertEqual(consume_all(again.bootstrap, "dup", 5), values)

    def test_port_in_use_leaves_the_data_dir_alone(self):
        taken = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        fresh = os.path.join(self.data_dir, "fresh")
        try:
            code, stderr, _ = run_to_exit(["serve", "--listen", "127.0.0.1:%d" % port,
                                           "--admin-listen", "127.0.0.1:0",
                                           "--data-dir", fresh])
        finally:
            taken.close()
        self.assertEqual(code, 1, stderr)
        self.assertIn("cannot start", stderr)
        self.assertEqual(os.listdir(fresh), [".lock"])

    def test_sigint_stops_cleanly_and_keeps_acknowledged_records(self):
        broker = harness.Broker(data_dir=self.data_dir).start()
        try:
            self.assertIn("data directory %s" % os.path.realpath(self.data_dir),
                          broker.stderr())
            produce(broker.bootstrap, "ctrl-c", ["one", "two", "three"])
            broker.process.send_signal(signal.SIGINT)
            self.assertEqual(broker.process.wait(EXIT_TIMEOUT_S), 0, broker.stderr())
            broker._reader.join(10)
            broker.process.stderr.close()
            broker.check_clean()
            self.assertIn("received SIGINT", broker.stderr())
            self.assertIn("stopped", broker.stderr())
        finally:
            broker._kill()
            broker.process = None
        with harness.Broker(data_dir=self.data_dir) as again:
            self.assertEqual(consume_all(again.bootstrap, "ctrl-c", 3), ["one", "two", "three"])

    def test_listen_without_host_means_every_interface(self):
        process = subprocess.Popen([harness.cairn_binary(), "serve", "--listen", ":0",
                                    "--admin-listen", "127.0.0.1:0",
                                    "--advertise", "127.0.0.1:1", "--data-dir", self.data_dir,
                                    "--port-file", os.path.join(self.data_dir, "port")],
                                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.PIPE)
        try:
            port_file = os.path.join(self.data_dir, "port")
            deadline = time.monotonic() + harness.START_TIMEOUT_S
            while not os.path.exists(port_file) and time.monotonic() < deadline:
                self.assertIsNone(process.poll(), "broker exited")
                time.sleep(0.05)
            time.sleep(0.1)  # the port file is written whole; let it land
            with open(port_file) as f:
                port = int(f.read())
            with socket.create_connection(("127.0.0.1", port), timeout=10):
                pass
        finally:
            process.send_signal(signal.SIGTERM)
            stderr = process.communicate(timeout=EXIT_TIMEOUT_S)[1].decode()
        self.assertEqual(process.returncode, 0, stderr)
        self.assertIn("listening on 0.0.0.0:%d" % port, stderr)


if __name__ == "__main__":
    unittest.main()
