#!/usr/bin/env python3
"""`cairn` client commands without a reachable cluster and with bad arguments: each exits 1
with an "error: ..." line on stderr, within its --timeout (no test here needs a broker)."""
import os
import re
import socket
import sys
import time
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

    def test_refused_connection_fails_fast(self):
        # Regression: every command waited its whole --timeout (10 s by default) although
        # each bootstrap broker refused at once. Now about a second after the last refusal.
        first, second = closed_port(), closed_port()
        for command in self.COMMANDS + [["produce", "t"]]:
            with self.subTest(command=command):
                start = time.monotonic()
                result = run_cairn(command + ["--timeout", "30s"], brokers=first, input=b"a\n")
                elapsed_s = time.monotonic() - start
                self.assertEqual(result.returncode, 1, result.stderr)
                self.assertEqual(result.stderr.decode(),
                                 f"error: cannot connect to {first}: Connection refused\n")
                self.assertLess(elapsed_s, 8)  # generous for an ASan build on a busy machine
        result = run_cairn(["topic", "list"], brokers=f"{first},{second}")
        self.assertEqual(result.returncode, 1)
        self.assertIn(f"{first}: Connection refused".encode(), result.stderr)
        self.assertIn(f"{second}: Connection refused".encode(), result.stderr)


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
        (["produce", "t", "-f", "/no/such/file"],
         b"error: cannot open /no/such/file: No such file or directory\n"),
        (["topic", "list", "--format", "xml"], b"--format"),
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

    def test_unknown_command_is_named_with_usage(self):
        for command, message, usage in [
                (["bogus"], b"error: unknown command 'bogus' for 'cairn'", b"Subcommands:"),
                (["topic", "bogus"], b"error: unknown command 'bogus' for 'cairn topic'",
                 b"Usage: cairn topic [OPTIONS] SUBCOMMAND"),
                (["group", "bogus", "x"], b"error: unknown command 'bogus' for 'cairn group'",
                 b"seek"),
                (["topic"], b"error: 'cairn topic' needs a command", b"add-partitions")]:
            with self.subTest(command=command):
                result = run_cairn(command)
                self.assertEqual(result.returncode, 1, result.stderr)
                self.assertTrue(result.stderr.startswith(message + b"\n"), result.stderr)
                self.assertIn(usage, result.stderr)
                self.assertNotIn(b"A subcommand is required", result.stderr)

    def test_version(self):
        with open(os.path.join(cli_support.ROOT, "CMakeLists.txt")) as f:
            version = re.search(r"project\(cairn VERSION (\S+)", f.read()).group(1)
        for command in (["--version"], ["version"]):
            with self.subTest(command=command):
                result = run_cairn(command)
                self.assertEqual(result.returncode, 0, result.stderr)
                match = re.fullmatch(rb"cairn (\S+) \((\S+)\)\n", result.stdout)
                self.assertIsNotNone(match, result.stdout)
                self.assertEqual(match.group(1).decode(), version)
                # `git describe --always --dirty`: a tag or abbreviated hash, or "unknown".
                self.assertRegex(match.group(2).decode(),
                                 r"^(unknown|[0-9a-f]{7,}(-dirty)?|\S+-g[0-9a-f]{7,}(-dirty)?)$")

    def test_help_describes_every_command(self):
        result = run_cairn(["--help"])
        self.assertEqual(result.returncode, 0)
        text = result.stdout.decode()
        lines = text[text.index("Subcommands:"):].splitlines()[1:]
        described = {}
        for line in lines:
            if not line.strip():
                break
            parts = line.split(None, 1)
            self.assertEqual(len(parts), 2, f"no description: {line!r}")
            self.assertLessEqual(len(line), 100, f"description is not one short line: {line!r}")
            described[parts[0]] = parts[1]
        for name in ("serve", "version", "topic", "produce", "consume", "group"):
            self.assertIn(name, described)

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
