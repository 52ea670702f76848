"""harness: start the real `cairn` binary for an interop test, and check it stayed healthy.

Every interop test uses it:

    from harness import Broker, BrokerTestCase

    class MyTest(BrokerTestCase):          # one broker for the whole class
        def test_x(self):
            run_something(self.broker.bootstrap)   # "127.0.0.1:PORT"

    with Broker(shards=2) as broker:       # or by hand
        ...

Broker.start() runs `cairn serve --listen 127.0.0.1:0 --admin-listen 127.0.0.1:0 --data-dir
<temp dir>` (the binary comes from $CAIRN_BIN, which CTest sets), reads the real ports from the
"listening on HOST:PORT" and "admin http on HOST:PORT" lines on stderr (Broker.admin_url), and
collects all of stderr. Broker.stop() sends SIGTERM and fails (BrokerFailure) if
the broker died early, exited non-zero, or printed a sanitizer report or a failed ASSERT.
Standard library only; Debian's /usr/bin/python3.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import unittest
import uuid

LISTENING = re.compile(r"listening on (\S+):(\d+)")
# The admin HTTP server's line (/metrics, /v1/status/*), logged before LISTENING.
ADMIN_LISTENING = re.compile(r"admin http on (\S+):(\d+)")
# What ASan, LSan, UBSan and our ASSERT print when something is wrong.
REPORT_MARKERS = (
    "ERROR: AddressSanitizer",
    "ERROR: LeakSanitizer",
    "AddressSanitizer:DEADLYSIGNAL",
    "runtime error:",
    "UndefinedBehaviorSanitizer",
    "ASSERT failed",
)
START_TIMEOUT_S = 120  # an ASan build on a loaded 2-core machine starts slowly
STOP_TIMEOUT_S = 60


class BrokerFailure(AssertionError):
    pass


def cairn_binary():
    path = os.environ.get("CAIRN_BIN")
    if not path:
        raise BrokerFailure("CAIRN_BIN is not set (CTest sets it to the built cairn binary)")
    if not os.access(path, os.X_OK):
        raise BrokerFailure("CAIRN_BIN=%s is not an executable" % path)
    return path


def write_topics(data_dir, topics):
    """Writes DATA_DIR/meta/topics.json holding `topics` ({name: partition_count})."""
    entries = [{"name": name, "topic_id": uuid.uuid4().hex, "partitions": count, "configs": {}}
               for name, count in sorted(topics.items())]
    os.makedirs(os.path.join(data_dir, "meta"), exist_ok=True)
    with open(os.path.join(data_dir, "meta", "topics.json"), "w") as f:
        json.dump({"format": 1, "topics": entries}, f)


class Broker:
    def __init__(self, shards=2, extra_args=(), data_dir=None, topics=None,
                 listen="127.0.0.1:0", preexec=None):
        """topics: {name: partition_count} written to the registry file before the start
        (docs/format/meta.md), for tests that need topics before topic creation exists.
        listen: the --listen address; None leaves --listen out (for tests that pass
        --listeners in extra_args; `port` is then the first listener's).
        preexec: run in the child before exec (e.g. to lower its resource limits)."""
        self.listen = listen
        self.preexec = preexec
        self.shards = shards
        self.topics = dict(topics or {})
        self.extra_args = list(extra_args)
        self._own_data_dir = data_dir is None
        self.data_dir = data_dir
        self.process = None
        self.host = None
        self.port = None
        self.admin_port = None
        self._lines = []
        self._lines_lock = threading.Lock()
        self._reader = None

    # ----- lifecycle

    def start(self):
        if self._own_data_dir:
            self.data_dir = tempfile.mkdtemp(prefix="cairn-interop-")
        if self.topics:
            write_topics(self.data_dir, self.topics)
        # --admin-listen=... as one argument: produce_support.start_broker swaps the argument
        # "127.0.0.1:0" (the Kafka port) for a fixed port on restarts.
        args = [cairn_binary(), "serve", "--admin-listen=127.0.0.1:0", "--data-dir",
                self.data_dir, "--shards", str(self.shards)]
        if self.listen is not None:
            args += ["--listen", self.listen]
        args += self.extra_args
        env = dict(os.environ)
        env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=1")
        env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
        self.process = subprocess.Popen(args, stdin=subprocess.DEVNULL,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                        env=env, preexec_fn=self.preexec)
        self._reader = threading.Thread(target=self._read_stderr, daemon=True)
        self._reader.start()
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            match = LISTENING.search(self.stderr())
            if match:
                self.host, self.port = match.group(1), int(match.group(2))
                admin = ADMIN_LISTENING.search(self.stderr())
                self.admin_port = int(admin.group(2)) if admin else None
                return self
            if self.process.poll() is not None:
                self._reader.join(5)
                raise BrokerFailure("broker exited with %s before listening:\n%s"
                                    % (self.process.returncode, self.stderr()))
            time.sleep(0.05)
        self._kill()
        raise BrokerFailure("broker did not listen within %d s:\n%s"
                            % (START_TIMEOUT_S, self.stderr()))

    def stop(self):
        """SIGTERM, wait, then check the exit code and stderr. Returns stderr."""
        if self.process is None:
            return ""
        process = self.process
        try:
            if process.poll() is not None:
                raise BrokerFailure("broker died during the test (exit %s):\n%s"
                                    % (process.returncode, self.stderr()))
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                raise BrokerFailure("broker did not stop within %d s of SIGTERM:\n%s"
                                    % (STOP_TIMEOUT_S, self.stderr()))
            self._reader.join(10)
            process.stderr.close()
            self.check_clean()
            if process.returncode != 0:
                raise BrokerFailure("broker exited with %s:\n%s"
                                    % (process.returncode, self.stderr()))
            return self.stderr()
        finally:
            self._kill()
            self.process = None
            if self._own_data_dir and self.data_dir:
                shutil.rmtree(self.data_dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.stop()
        else:
            try:
                self.stop()
            except BrokerFailure as failure:  # keep the test's own exception, show both
                print(failure)
        return False

    # ----- observation

    @property
    def bootstrap(self):
        return "%s:%d" % (self.host, self.port)

    @property
    def admin_url(self):
        """http://127.0.0.1:PORT of the admin HTTP server."""
        if self.admin_port is None:
            raise BrokerFailure("the broker logged no 'admin http on' line")
        return "http://127.0.0.1:%d" % self.admin_port

    @property
    def pid(self):
        return self.process.pid

    def alive(self):
        return self.process is not None and self.process.poll() is None

    def stderr(self):
        with self._lines_lock:
            return "".join(self._lines)

    def check_clean(self):
        """Fails if the broker printed a sanitizer report or a failed ASSERT."""
        text = self.stderr()
        for marker in REPORT_MARKERS:
            if marker in text:
                raise BrokerFailure("broker printed '%s':\n%s" % (marker, text))

    def cluster_id(self):
        """The cluster id the broker keeps in DATA_DIR/meta/cluster_id."""
        with open(os.path.join(self.data_dir, "meta", "cluster_id")) as f:
            return f.read().strip()

    def rss_kib(self):
        """Resident set size (VmRSS) of the broker process, in KiB."""
        with open("/proc/%d/status" % self.pid) as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise BrokerFailure("no VmRSS in /proc/%d/status" % self.pid)

    # ----- internals

    def _read_stderr(self):
        for raw in iter(self.process.stderr.readline, b""):
            with self._lines_lock:
                self._lines.append(raw.decode("utf-8", "replace"))

    def _kill(self):
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
            self._reader.join(10)
            self.process.stderr.close()


class BrokerTestCase(unittest.TestCase):
    """One broker per test class, started before the first test and checked after the last."""

    broker_shards = 2
    broker_args = ()
    broker_topics = None

    @classmethod
    def setUpClass(cls):
        cls.broker = Broker(shards=cls.broker_shards, extra_args=cls.broker_args,
                            topics=cls.broker_topics).start()

    @classmethod
    def tearDownClass(cls):
        cls.broker.stop()

    def assertBrokerHealthy(self):
        self.assertTrue(self.broker.alive(), "broker died:\n" + self.broker.stderr())
        self.broker.check_clean()


def main():
    """unittest.main with verbose output (CTest shows it on failure)."""
    unittest.main(verbosity=2)
