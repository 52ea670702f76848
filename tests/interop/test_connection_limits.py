#!/usr/bin/python3
"""max.connections, max.connections.per.ip and max.connections.per.ip.overrides
(docs/security.md) with real sockets from several loopback addresses (127.0.0.x):

- a client address at its cap has its next connection closed at once, while its open ones and
  other addresses' keep working; closing one frees its slot;
- the broker-wide cap holds over every listener and address; an override of 0 refuses an
  address, a larger one lets it past the default;
- librdkafka over the cap is refused and then gets in once a slot frees;
- refusals are counted in /metrics; a bad override stops the start with a clear message.
"""
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Broker, cairn_binary  # noqa: E402
import kafka_wire as kw  # noqa: E402
import tls_support as tls  # noqa: E402

import confluent_kafka  # noqa: E402

TIMEOUT_S = 30


def connect(port, source="127.0.0.1"):
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.settimeout(TIMEOUT_S)
    sock.bind((source, 0))
    sock.connect(("127.0.0.1", port))
    return sock


def answers(sock, correlation_id=1):
    """Whether the connection answers ApiVersions (False: the broker closed it)."""
    try:
        sock.sendall(kw.api_versions_v3_request(correlation_id))
        prefix = sock.recv(4)
        return len(prefix) == 4
    except (ConnectionResetError, BrokenPipeError):
        return False


class ConnectionLimits(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.broker = Broker(shards=2, listen=None, extra_args=[
            "--listeners", "PLAINTEXT://127.0.0.1:0,INTERNAL://127.0.0.1:0",
            "--set", "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,INTERNAL:PLAINTEXT",
            "--set", "max.connections=6",
            "--set", "max.connections.per.ip=2",
            "--set", "max.connections.per.ip.overrides=127.0.0.9:0,127.0.0.8:3"]).start()
        ports = tls.listeners(cls.broker.stderr())
        cls.port = ports["PLAINTEXT"][0]
        cls.internal_port = ports["INTERNAL"][0]

    @classmethod
    def tearDownClass(cls):
        cls.broker.stop()

    def open(self, source, port=None):
        sock = connect(port or self.port, source)
        self.addCleanup(sock.close)
        return sock

    def refused(self, sock):
        """The broker closed `sock` without reading a request."""
        sock.settimeout(TIMEOUT_S)
        try:
            sock.sendall(kw.api_versions_v3_request(7))
            return sock.recv(4) == b""
        except (ConnectionResetError, BrokenPipeError):
            return True

    def metric(self, reason):
        with urllib.request.urlopen(self.broker.admin_url + "/metrics", timeout=TIMEOUT_S) as r:
            text = r.read().decode()
        match = re.search(r'^cairn_connections_refused_total\{reason="%s"\} (\d+)' % reason,
                          text, re.M)
        self.assertIsNotNone(match, text)
        return int(match.group(1))

    def wait_until(self, predicate):
        deadline = time.monotonic() + TIMEOUT_S
        while not predicate():
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.05)

    def test_per_ip_cap_and_release(self):
        first, second = self.open("127.0.0.2"), self.open("127.0.0.2", self.internal_port)
        for sock in (first, second):
            self.assertTrue(answers(sock))
        refused_before = self.metric("max_connections_per_ip")
        self.assertTrue(self.refused(self.open("127.0.0.2")))  # over 2, on either listener
        self.assertEqual(self.metric("max_connections_per_ip"), refused_before + 1)
        other = self.open("127.0.0.3")
        self.assertTrue(answers(other))  # another address is not affected
        second.close()
        # The slot frees once the broker has seen the close.
        self.wait_until(lambda: answers(self.open("127.0.0.2")))

    def test_overrides(self):
        self.assertTrue(self.refused(self.open("127.0.0.9")))  # 0: never
        held = [self.open("127.0.0.8") for _ in range(3)]
        for sock in held:
            self.assertTrue(answers(sock))
        self.assertTrue(self.refused(self.open("127.0.0.8")))

    def test_total_cap_then_librdkafka_gets_in(self):
        # Fill what is left of max.connections from fresh addresses, one each.
        held = []
        source = 20
        while True:
            sock = self.open("127.0.0.%d" % source)
            source += 1
            if not answers(sock):
                break
            held.append(sock)
        self.assertGreater(len(held), 0)
        refused_before = self.metric("max_connections")
        self.assertTrue(self.refused(self.open("127.0.0.%d" % source)))
        self.assertGreater(self.metric("max_connections"), refused_before)
        # librdkafka cannot get in while the broker is full, and gets in once a slot frees.
        producer = confluent_kafka.Producer({"bootstrap.servers": "127.0.0.1:%d" % self.port,
                                             "reconnect.backoff.ms": 50,
                                             "reconnect.backoff.max.ms": 200})
        errors = []
        producer.produce("limits", b"m", on_delivery=lambda e, m: errors.append(e))
        self.assertEqual(producer.flush(1.0), 1)  # still queued: no connection
        for sock in held:
            sock.close()
        producer.flush(TIMEOUT_S)
        self.assertEqual(errors, [None])


class BadConfig(unittest.TestCase):
    def test_bad_override_refuses_to_start(self):
        directory = tempfile.mkdtemp(prefix="cairn-limits-")
        self.addCleanup(shutil.rmtree, directory, True)
        done = subprocess.run([cairn_binary(), "serve", "--data-dir", directory, "--listen",
                               "127.0.0.1:0", "--set",
                               "max.connections.per.ip.overrides=example.com:3"],
                              capture_output=True, text=True, timeout=TIMEOUT_S)
        self.assertNotEqual(done.returncode, 0)
        self.assertIn("max.connections.per.ip.overrides", done.stderr)


if __name__ == "__main__":
    unittest.main()
