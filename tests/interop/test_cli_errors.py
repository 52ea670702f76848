#!/usr/bin/env python3
"""`cairn` client commands without a reachable cluster and with bad arguments: each exits 1
with an "error: ..." line on stderr, within its --timeout (no test here needs a broker)."""
import socket
import sys
import unittest

import cli_support
from cli_support import run_cairn


def closed_port():
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"127.0.0.1:{sock.getsockname()[1]}"


class UnreachableCluster(unittest.TestCase):
    COMMANDS = [
        ["topic", "list"],
        ["topic", "describe", "t"],
        ["topic", "create", "t"],
        ["topic", "delete", "t"],
        ["topic", "alter-config", "t", "--set", "retention.ms=1"],
        ["topic", "add-partitions", "t", "-n", "1"],
        ["consume", "t", "-n", "1"],
        ["consume", "t", "-g", "g", "-n", "1"],
        ["group", "list"],
        ["group", "describe", "g"],
        ["group", "seek", "g", "--to", "start"],
        ["group", "delete", "g"],
    ]

    def test_every_command_fails_within_its_timeout(self):
        brokers = closed_port()
        for command in self.COMMANDS:
            with self.subTest(command=command):
                # 2s --timeout; the subprocess limit only catches a hang.
                result = run_cairn(command + ["--timeout", "2s"], brokers=brokers, timeout_s=60)
                self.assertEqual(result.returncode, 1, result.stderr)
                self.assertTrue(result.stderr.startswith(b"error: "), result.stderr)
                self.assertEqual(result.stdout, b"")

    def test_refused_connection_is_named(self):
        result = run_cairn(["topic", "list", "--timeout", "2s"], brokers=closed_port())
        self.assertEqual(result.returncode, 1)
        self.assertIn(b"Connection refused", result.stderr)

    def test_produce_reports_undelivered_records(self):
        result = run_cairn(["produce", "t", "--timeout", "2s"], brokers=closed_port(),
                           input=b"a\nb\n")
        self.assertEqual(result.returncode, 1)
        self.assertIn(b"2 of 2 records were not delivered", result.stderr)


class BadArguments(unittest.TestCase):
    CASES = [
        (["consume", "t", "-o", "bogus"], b"offset 'bogus'"),
        (["consume", "t", "-o", "5:start"], b"cannot end at 'start'"),
        (["consume", "t", "-p", "1,x"], b"partition 'x'"),
        (["consume", "t", "-f", "%q"], b"unknown format field '%q'"),
        (["consume", "t", "-g", "g", "-o", "5"], b"with -g, -o is start or end"),
        (["produce", "t", "-z", "brotli"], b"--compression 'brotli'"),
        (["produce", "t", "--acks", "2"], b"--acks '2'"),
        (["produce", "t", "-Z", "%k"], b"no %v"),
        (["produce", "t", "-Z", "%k:%v\\n", "--key-delim", ":"], b"not both"),
        (["produce", "t", "-H", "novalue"], b"header 'novalue'"),
        (["topic", "list", "-X", "no.such.property=1"], b"no.such.property"),
        (["topic", "list", "-X", "novalue"], b"key=value"),
        (["topic", "list", "--timeout", "soon"], b"duration 'soon'"),
        (["topic", "list", "--timeout", "0"], b"--timeout must be"),
        (["topic", "create", "t", "-c", "retention.ms"], b"key=value"),
        (["topic", "alter-config", "t"], b"nothing to do"),
        (["group", "seek", "g", "--to", "1:5"], b"not a range"),
    ]

    def test_each_bad_argument_is_explained(self):
        brokers = closed_port()
        for command, message in self.CASES:
            with self.subTest(command=command):
                if "--timeout" not in command:
                    command = command + ["--timeout", "2s"]
                result = run_cairn(command, brokers=brokers, input=b"")
                self.assertEqual(result.returncode, 1, result.stderr)
                self.assertIn(message, result.stderr)

    def test_usage_errors_exit_1(self):
        for command in (["topic", "create"], ["consume"], ["produce", "t", "--no-such-flag"],
                        ["topic", "list", "--timeout"], ["frobnicate"]):
            with self.subTest(command=command):
                result = run_cairn(command)
                self.assertEqual(result.returncode, 1, result.stderr)
                self.assertNotEqual(result.stderr, b"")

    def test_help_lists_the_commands(self):
        for command, words in [([], [b"topic", b"produce", b"consume", b"group"]),
                               (["topic"], [b"create", b"describe", b"alter-config"]),
                               (["group"], [b"list", b"describe", b"seek", b"delete"])]:
            result = run_cairn(command + ["--help"])
            self.assertEqual(result.returncode, 0)
            for word in words:
                self.assertIn(word, result.stdout)


if __name__ == "__main__":
    unittest.main(verbosity=2, argv=[sys.argv[0]] + sys.argv[1:])
