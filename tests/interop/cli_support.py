"""Support for the `cairn` CLI interop tests (test_cli_*.py).

Runs the real `cairn` binary as a command-line program against a real Kafka-compatible
cluster: by default a `cairn serve` started by the broker harness (harness.py) on a free
loopback port with a fresh data directory; with CAIRN_TEST_BROKERS=host:port it runs against
that cluster instead (any Kafka-compatible broker), which is how the CLI is checked against
other implementations.

Tests that need a broker API declare it; when the broker's ApiVersions answer lacks it the
test is skipped with the API's name, so it turns on by itself once the broker serves it.

Environment: CAIRN_BIN (the binary; default: the newest of build/*/cairn and
build/*/src/main/cairn).
"""
import os
import socket
import struct
import subprocess
import time
import unittest

import harness

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# Kafka API keys the tests ask about.
API_NAMES = {
    0: "Produce", 1: "Fetch", 2: "ListOffsets", 3: "Metadata", 8: "OffsetCommit",
    9: "OffsetFetch", 10: "FindCoordinator", 11: "JoinGroup", 12: "Heartbeat",
    13: "LeaveGroup", 14: "SyncGroup", 15: "DescribeGroups", 16: "ListGroups",
    18: "ApiVersions", 19: "CreateTopics", 20: "DeleteTopics", 32: "DescribeConfigs",
    33: "AlterConfigs", 37: "CreatePartitions", 42: "DeleteGroups",
}
PRODUCE_CONSUME_APIS = (0, 1, 2, 3)
TOPIC_ADMIN_APIS = (3, 19, 20)
GROUP_APIS = (8, 9, 10, 11, 12, 13, 14, 15, 16, 42)

# librdkafka 2.0.2 leaks a few bytes on some error paths; keep LeakSanitizer (in ASan builds)
# quiet about leaks whose stack is inside librdkafka only.
LSAN_SUPPRESSIONS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "lsan_librdkafka.supp")


def cairn_binary():
    explicit = os.environ.get("CAIRN_BIN")
    if explicit:
        return explicit
    candidates = []
    build = os.path.join(ROOT, "build")
    if os.path.isdir(build):
        for name in os.listdir(build):
            for path in (os.path.join(build, name, "cairn"),
                         os.path.join(build, name, "src", "main", "cairn")):
                if os.path.isfile(path) and os.access(path, os.X_OK):
                    candidates.append(path)
    if not candidates:
        raise RuntimeError("no cairn binary: build it or set CAIRN_BIN")
    return max(candidates, key=os.path.getmtime)


def cli_env():
    env = dict(os.environ)
    env.pop("CAIRN_BROKERS", None)
    env["LSAN_OPTIONS"] = "suppressions=" + LSAN_SUPPRESSIONS
    return env


def api_versions(host, port, timeout_s=10):
    """The broker's ApiVersions v0 answer: {api_key: (min_version, max_version)}."""
    correlation_id = 7
    client_id = b"cairn-cli-test"
    body = struct.pack(">hhih", 18, 0, correlation_id, len(client_id)) + client_id
    with socket.create_connection((host, port), timeout=timeout_s) as sock:
        sock.sendall(struct.pack(">i", len(body)) + body)
        size = struct.unpack(">i", _read_exactly(sock, 4))[0]
        payload = _read_exactly(sock, size)
    got_correlation, error_code, count = struct.unpack(">ihi", payload[:10])
    assert got_correlation == correlation_id, got_correlation
    assert error_code == 0, f"ApiVersions error {error_code}"
    versions = {}
    for i in range(count):
        key, low, high = struct.unpack(">hhh", payload[10 + 6 * i:16 + 6 * i])
        versions[key] = (low, high)
    return versions


def _read_exactly(sock, size):
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError("broker closed the connection")
        data += chunk
    return data


class Broker:
    """A running cluster to test against: a fresh `cairn serve` started by harness.Broker
    (which also fails the test if the broker printed a sanitizer report), or the external
    cluster named by CAIRN_TEST_BROKERS. `topics` ({name: partitions}) exist from the start:
    written to the registry of a fresh broker, created with `cairn topic create` on an
    external one."""

    def __init__(self, topics, extra_args=()):
        self.local = None
        self.suffix = ""
        external = os.environ.get("CAIRN_TEST_BROKERS")
        if external:
            self.bootstrap = external
            self.suffix = "-" + str(time.time_ns())  # an external cluster keeps old topics
            if self.missing_apis([19]):
                return  # no CreateTopics: the topics appear when first produced to
            for name, partitions in topics.items():
                run_cairn(["topic", "create", name + self.suffix, "-p", str(partitions)],
                          brokers=external, check=True)
            return
        os.environ.setdefault("CAIRN_BIN", cairn_binary())
        self.local = harness.Broker(topics=topics, extra_args=extra_args).start()
        self.bootstrap = self.local.bootstrap

    def host_port(self):
        host, port = self.bootstrap.split(",")[0].rsplit(":", 1)
        return host, int(port)

    def missing_apis(self, keys):
        versions = api_versions(*self.host_port())
        return [API_NAMES.get(k, str(k)) for k in keys if k not in versions]

    def stop(self):
        if self.local is not None:
            self.local.stop()


def run_cairn(args, brokers=None, input=None, timeout_s=60, check=False):
    """Runs `cairn ARGS [-b brokers]`; returns the CompletedProcess (text=False: bytes)."""
    command = [cairn_binary()] + list(args)
    if brokers is not None:
        command += ["-b", brokers]
    result = subprocess.run(command, input=input, capture_output=True, timeout=timeout_s,
                            env=cli_env())
    if check and result.returncode != 0:
        raise AssertionError(f"{command} exited {result.returncode}\n"
                             f"stdout: {result.stdout!r}\nstderr: {result.stderr!r}")
    return result


class BrokerTestCase(unittest.TestCase):
    """One broker for the whole class. `needs` lists the API keys every test requires;
    `topics` ({name: partitions}) are the topics the tests use, reached through topic(name)."""

    needs = PRODUCE_CONSUME_APIS
    topics = {}
    broker = None

    @classmethod
    def setUpClass(cls):
        cls.broker = Broker(cls.topics)

    @classmethod
    def tearDownClass(cls):
        cls.broker.stop()

    def setUp(self):
        self.require(self.needs)

    def require(self, keys):
        missing = self.broker.missing_apis(keys)
        if missing:
            self.skipTest("broker does not serve " + ", ".join(missing) + " yet")

    def topic(self, name):
        assert name in self.topics, name
        return name + self.broker.suffix

    def unique_name(self, prefix):
        return f"{prefix}-{time.time_ns()}"

    def cairn(self, *args, input=None, timeout_s=60, check=True):
        return run_cairn(args, brokers=self.broker.bootstrap, input=input, timeout_s=timeout_s,
                         check=check)
