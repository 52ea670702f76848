"""The README's quick start, run as written.

Reads README.md's shell blocks: the `make run` line, and the kcat lines under "Produce and
consume with kcat". Starts `make run` from the repository root (a free loopback port and a
fresh data directory through the Makefile's LISTEN and DATA_DIR), waits until the broker says
where it listens and where its data is, runs each kcat line with the port substituted, and
compares the last line's output with the `text` block the README shows after it. Then Ctrl-C
(SIGINT to the process group, as a terminal sends it) must stop the broker cleanly.

A change that breaks a documented command (the Makefile's binary path, a flag, the kcat
lines) fails this test. Runs against the release build: `make run` builds the release preset
and starts build/release/cairn (already built when `make test` gets here).
"""
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DOCUMENTED_ADDRESS = "127.0.0.1:9092"
START_TIMEOUT_S = 1800  # `make run` builds first; on a fresh checkout that takes a while
COMMAND_TIMEOUT_S = 60
STOP_TIMEOUT_S = 60


def markdown_blocks(path):
    """[(heading, language, [lines])] for every fenced block, with the heading above it."""
    blocks, heading, language, lines = [], "", None, []
    with open(path) as f:
        for line in f.read().splitlines():
            if language is None:
                if line.startswith("#"):
                    heading = line.lstrip("#").strip()
                elif line.startswith("```"):
                    language, lines = line[3:].strip(), []
            elif line.startswith("```"):
                blocks.append((heading, language, lines))
                language = None
            else:
                lines.append(line)
    return blocks


def strip_comment(line):
    """A shell line without its trailing `  # comment` (the README aligns them)."""
    return re.sub(r"\s{2,}#\s.*$", "", line).strip()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ReadmeQuickStartTest(unittest.TestCase):
    def setUp(self):
        self.blocks = markdown_blocks(os.path.join(ROOT, "README.md"))
        self.data_dir = tempfile.mkdtemp(prefix="cairn-readme-")
        self.output = []
        self.output_lock = threading.Lock()
        self.process = None

    def tearDown(self):
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        shutil.rmtree(self.data_dir, ignore_errors=True)

    def make_run_line(self):
        for _, language, lines in self.blocks:
            if language != "sh":
                continue
            for line in lines:
                if line.startswith("make run"):
                    return strip_comment(line)
        self.fail("README.md has no `make run` line in a sh block")

    def kcat_section(self):
        """The kcat lines of the "Produce and consume with kcat" section and the text block
        showing what the last one prints."""
        commands, expected = None, None
        for heading, language, lines in self.blocks:
            if heading != "Produce and consume with kcat":
                continue
            if language == "sh" and commands is None:
                commands = [strip_comment(line) for line in lines if line.strip()]
            elif language == "text" and commands is not None and expected is None:
                expected = "\n".join(lines) + "\n"
        self.assertTrue(commands, "README.md: no sh block under 'Produce and consume with kcat'")
        self.assertIsNotNone(expected, "README.md: no text block showing the kcat output")
        return commands, expected

    def console(self):
        with self.output_lock:
            return "".join(self.output)

    def read_output(self):
        for raw in iter(self.process.stdout.readline, b""):
            with self.output_lock:
                self.output.append(raw.decode("utf-8", "replace"))

    def wait_for(self, pattern, timeout_s):
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            match = re.search(pattern, self.console())
            if match:
                return match
            if self.process.poll() is not None:
                time.sleep(0.2)  # let the reader drain the last lines
                self.fail("`make run` exited with %s before %r:\n%s"
                          % (self.process.returncode, pattern, self.console()))
            time.sleep(0.1)
        self.fail("no %r within %d s:\n%s" % (pattern, timeout_s, self.console()))

    def test_quick_start(self):
        make_run = self.make_run_line()
        commands, expected = self.kcat_section()
        port = free_port()
        address = "127.0.0.1:%d" % port
        argv = make_run.split() + ["LISTEN=" + address, "DATA_DIR=" + self.data_dir]
        self.process = subprocess.Popen(argv, cwd=ROOT, stdin=subprocess.DEVNULL,
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                        start_new_session=True)
        reader = threading.Thread(target=self.read_output, daemon=True)
        reader.start()
        self.wait_for(r"listening on %s" % re.escape(address), START_TIMEOUT_S)
        self.assertIn("data directory %s" % os.path.realpath(self.data_dir), self.console())

        last_output = None
        for command in commands:
            self.assertIn(DOCUMENTED_ADDRESS, command, "a kcat line without the broker address")
            command = command.replace(DOCUMENTED_ADDRESS, address)
            done = subprocess.run(["bash", "-c", command], cwd=self.data_dir,
                                  capture_output=True, timeout=COMMAND_TIMEOUT_S)
            self.assertEqual(done.returncode, 0, "%s\n%s" % (command, done.stderr.decode()))
            last_output = done.stdout.decode()
            if command.startswith("kcat -L"):
                self.assertIn("broker 0 at %s" % address, last_output)
        self.assertEqual(last_output, expected)

        os.killpg(self.process.pid, signal.SIGINT)  # Ctrl-C in the terminal
        self.process.wait(STOP_TIMEOUT_S)
        reader.join(10)
        console = self.console()
        self.assertIn("received SIGINT", console)
        self.assertRegex(console, r"\] stopped")
        self.assertNotIn("[error]", console)
        topic = re.search(r" -t (\S+)", commands[-1]).group(1)
        self.assertTrue(os.path.isdir(os.path.join(self.data_dir, topic + "-0")), console)


if __name__ == "__main__":
    unittest.main()
