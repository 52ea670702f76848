#!/usr/bin/env python3
"""docs/cli.md is a test: every command of its examples runs, as written, against a fresh
broker, in document order (one session: the topics created early are used later).

Which commands: each line of a ```sh block, and each `$ ...` line of a ``` transcript block,
when it calls `cairn`. They run under `bash -c` (so `printf ... | cairn produce ...` works),
with a directory holding a `cairn` symlink to $CAIRN_BIN first on PATH and CAIRN_BROKERS
pointing at the broker, so the text needs no -b. Each must exit 0, or N after a
`<!-- doc-test: exit N -->` comment just before its block; `<!-- doc-test: skip (why) -->`
skips the block, reported as a skipped subtest with the reason.

A `consume` that follows the log (no -e, no -n, no A:B range) never ends by itself: it runs
for FOLLOW_S and is then stopped with SIGTERM, which must make it exit 0 as documented.

For a transcript with output, the output's structure must match the document, not its values
(offsets, ids and counts vary): its header lines (all-caps columns, ==== rules), the keys of
its KEY value rows, lines starting with "(", "error:" or "Usage:", and the keys of JSON, in
the same order; an output with none of these must have as many lines of as many words.
"""
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import tempfile
import time
import unittest

import cli_support

DOC = os.path.join(cli_support.ROOT, "docs", "cli.md")
FOLLOW_S = 3
COMMAND_TIMEOUT_S = 120
MARKER = re.compile(r"<!--\s*doc-test:\s*(skip|exit)\s*(.*?)\s*-->")
CAPS = re.compile(r"^(?:[A-Z][A-Z-]*|=+)$")
LITERAL_PREFIXES = ("(", "error:", "Usage:")


class Example:
    def __init__(self, line, command, expected, skip, exit_code):
        self.line = line            # line number in docs/cli.md
        self.command = command
        self.expected = expected    # output lines of a transcript, or None (sh block)
        self.skip = skip            # reason, or None
        self.exit_code = exit_code


def examples(path=DOC):
    """The runnable examples of the document, in order."""
    with open(path) as f:
        lines = f.read().split("\n")
    found = []
    marker = None
    i = 0
    while i < len(lines):
        text = lines[i].strip()
        match = MARKER.search(text)
        if match:
            marker = match.groups()
        elif text.startswith("```"):
            language = text[3:].strip()
            end = i + 1
            while end < len(lines) and not lines[end].strip().startswith("```"):
                end += 1
            found += block_examples(lines[i + 1:end], i + 2, language, marker)
            marker = None
            i = end
        elif text:
            marker = None  # a marker applies only to the block right after it
        i += 1
    return found


def block_examples(body, first_line, language, marker):
    skip = marker[1].strip("() ") if marker and marker[0] == "skip" else None
    exit_code = int(marker[1]) if marker and marker[0] == "exit" else 0
    result = []
    if language == "sh":
        for offset, line in enumerate(body):
            if re.search(r"\bcairn\b", line) and not line.lstrip().startswith("#"):
                result.append(Example(first_line + offset, line, None, skip, exit_code))
        return result
    if language or not body or not body[0].startswith("$ "):
        return result
    for offset, line in enumerate(body):
        if line.startswith("$ "):
            result.append(Example(first_line + offset, line[2:], [], skip, exit_code))
        elif result:
            result[-1].expected.append(line)
    return [e for e in result if re.search(r"\bcairn\b", e.command)]


def follows(command):
    """True for a `cairn consume` that only stops on a signal."""
    words = shlex.split(command, comments=True)
    if "cairn" not in words or "consume" not in words[words.index("cairn"):]:
        return False
    for i, word in enumerate(words):
        if word in ("-e", "--exit-at-end", "-n", "--num") or word.startswith("--num="):
            return False
        if word in ("-o", "--offset") and i + 1 < len(words) and ":" in words[i + 1]:
            return False
        if word.startswith("--offset=") and ":" in word:
            return False
    return True


def columns(line):
    return re.split(r"\s{2,}", line.strip())


def signature(line):
    """What must match in a line of output, or None for a line of values."""
    if line.startswith(LITERAL_PREFIXES):
        return ("literal", line.strip())
    stripped = line.strip()
    if stripped.startswith("{"):
        try:
            return ("json", list(json.loads(stripped)))
        except ValueError:
            return None
    cells = columns(line)
    if all(CAPS.match(cell) for cell in cells):
        return ("header", cells)
    if CAPS.match(cells[0]) and len(cells) == 2:
        return ("key", cells[0])
    return None


def same_shape(got, want):
    """Whether two JSON values have the same structure: the same keys in the same order, and
    the same types; null, and an empty list, match anything (a value that varies)."""
    if got is None or want is None:
        return True
    if isinstance(want, dict):
        return (isinstance(got, dict) and list(got) == list(want)
                and all(same_shape(got[k], want[k]) for k in want))
    if isinstance(want, list):
        return isinstance(got, list) and (not got or not want or same_shape(got[0], want[0]))
    return type(got) is type(want)


class DocumentedCommands(unittest.TestCase):
    maxDiff = None

    @classmethod
    def setUpClass(cls):
        # The authorizer is on (for `cairn acl`), open to everyone where no ACL says otherwise.
        cls.broker = cli_support.Broker({}, extra_args=[
            "--set", "authorizer.enabled=true", "--set", "allow.everyone.if.no.acl.found=true"])
        cls.bin_dir = tempfile.mkdtemp(prefix="cairn-doc-")
        os.symlink(os.path.abspath(cli_support.cairn_binary()),
                   os.path.join(cls.bin_dir, "cairn"))
        cls.env = cli_support.cli_env()
        cls.env["PATH"] = cls.bin_dir + os.pathsep + cls.env.get("PATH", "")
        cls.env["CAIRN_BROKERS"] = cls.broker.bootstrap

    @classmethod
    def tearDownClass(cls):
        os.unlink(os.path.join(cls.bin_dir, "cairn"))
        os.rmdir(cls.bin_dir)
        cls.broker.stop()

    def run_example(self, example):
        """(exit status, stdout and stderr as one text) of the command; a following consume
        is stopped with SIGTERM after FOLLOW_S."""
        process = subprocess.Popen(["bash", "-o", "pipefail", "-c", example.command],
                                   env=self.env, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   start_new_session=True)
        limit_s = FOLLOW_S if follows(example.command) else COMMAND_TIMEOUT_S
        try:
            output, _ = process.communicate(timeout=limit_s)
        except subprocess.TimeoutExpired:
            if limit_s == COMMAND_TIMEOUT_S:
                os.killpg(process.pid, signal.SIGKILL)
                process.communicate()
                self.fail(f"still running after {limit_s} s")
            os.killpg(process.pid, signal.SIGTERM)
            output, _ = process.communicate(timeout=60)
        return process.returncode, output.decode("utf-8", "replace")

    def check_structure(self, expected, actual):
        expected = [line for line in expected if line.strip() and line.strip() != "..."]
        actual = [line for line in actual.splitlines() if line.strip()]
        if not expected:
            return
        try:
            want = json.loads("\n".join(expected))
        except ValueError:
            want = None  # not one JSON document: a table or lines of text
        if isinstance(want, (dict, list)):
            got = json.loads("\n".join(actual))
            self.assertTrue(same_shape(got, want), f"output {got} is not shaped like {want}")
            return
        wanted = [s for s in map(signature, expected) if s is not None]
        if not wanted:
            self.assertEqual([len(line.split()) for line in actual],
                             [len(line.split()) for line in expected])
            return
        got = [s for s in map(signature, actual) if s is not None]
        position = 0
        for item in wanted:
            while position < len(got) and got[position] != item:
                position += 1
            self.assertLess(position, len(got),
                            f"{item} missing (in order) from the output:\n" + "\n".join(actual))
            position += 1

    def test_every_documented_command(self):
        found = examples()
        self.assertGreater(len(found), 20, "docs/cli.md lost its examples?")
        for example in found:
            with self.subTest(line=example.line, command=example.command):
                if example.skip is not None:
                    self.skipTest(example.skip)
                status, output = self.run_example(example)
                self.assertEqual(status, example.exit_code,
                                 f"docs/cli.md:{example.line}: `{example.command}` exited "
                                 f"{status}; output:\n{output}")
                if example.expected is not None:
                    self.check_structure(example.expected, output)
        self.assertTrue(self.broker.local is None or self.broker.local.alive())


if __name__ == "__main__":
    unittest.main(verbosity=2, argv=[sys.argv[0]] + sys.argv[1:])
