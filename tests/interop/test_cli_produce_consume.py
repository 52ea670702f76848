#!/usr/bin/env python3
"""`cairn produce` and `cairn consume` against a real broker: keyed lines with headers under
every compression codec read back exactly with -f, --json and -n; offsets (N, +N, -N, ranges,
end) and timestamps; files and input formats; and kcat on the other side of each direction."""
import json
import os
import subprocess
import sys
import tempfile
import time
import unittest

import cli_support
from cli_support import BrokerTestCase

CODECS = ["none", "gzip", "snappy", "lz4", "zstd"]


def now_ms():
    return int(time.time() * 1000)


class ProduceConsume(BrokerTestCase):
    needs = cli_support.PRODUCE_CONSUME_APIS
    topics = {**{"codec-" + codec: 1 for codec in CODECS}, "default-json": 1, "offsets": 1,
              "timestamps": 1, "file": 1, "three": 3, "kcat-in": 1, "kcat-out": 1}

    def produce_lines(self, topic, lines, *flags):
        """Produces to partition 0 unless flags say otherwise, so the expected offsets hold
        also where the topic was auto-created with more partitions."""
        data = "".join(line + "\n" for line in lines).encode()
        if "-p" not in flags:
            flags = flags + ("-p", "0")
        return self.cairn("produce", topic, *flags, input=data)

    def test_keyed_lines_with_headers_under_every_codec(self):
        for codec in CODECS:
            with self.subTest(codec=codec):
                topic = self.topic("codec-" + codec)
                before = now_ms()
                produced = self.produce_lines(topic, ["k1:v1", "k2:v:2", "k3:"], "--key-delim",
                                              ":", "-H", "h1=a", "-H", "h2=b=c", "-z", codec,
                                              "-v")
                after = now_ms()
                self.assertEqual(produced.stdout.decode(),
                                 f"{topic} 0 0\n{topic} 0 1\n{topic} 0 2\n")
                formatted = self.cairn("consume", topic, "-e", "-f", "%k=%v|%h|%p|%o|%H\\n")
                self.assertEqual(formatted.stdout.decode(),
                                 "k1=v1|h1=a,h2=b=c|0|0|2\n"
                                 "k2=v:2|h1=a,h2=b=c|0|1|2\n"
                                 "k3=|h1=a,h2=b=c|0|2|2\n")
                as_json = self.cairn("consume", topic, "--json", "-n", "3")
                records = [json.loads(line) for line in as_json.stdout.decode().splitlines()]
                self.assertEqual(len(records), 3)
                for i, (key, value) in enumerate([("k1", "v1"), ("k2", "v:2"), ("k3", "")]):
                    record = records[i]
                    timestamp = record.pop("timestamp")
                    self.assertTrue(before <= timestamp <= after, (before, timestamp, after))
                    self.assertEqual(record, {
                        "topic": topic, "key": key, "value": value,
                        "headers": [{"key": "h1", "value": "a"}, {"key": "h2", "value": "b=c"}],
                        "partition": 0, "offset": i})

    def test_default_output_is_json_and_summary_goes_to_stderr(self):
        topic = self.topic("default-json")
        produced = self.produce_lines(topic, ["hello"])
        self.assertEqual(produced.stdout, b"")
        self.assertIn(f"Produced 1 record to topic '{topic}'".encode(), produced.stderr)
        record = json.loads(self.cairn("consume", topic, "-n", "1").stdout)
        self.assertEqual((record["key"], record["value"], record["headers"]), (None, "hello", []))

    def test_offsets_and_ranges(self):
        topic = self.topic("offsets")
        self.produce_lines(topic, [str(i) for i in range(10)])
        cases = [
            (["-o", "7", "-e"], "7 8 9 "),
            (["-o", "-3", "-e"], "7 8 9 "),
            (["--offset=-3", "-e"], "7 8 9 "),
            (["-o", "+2:5"], "2 3 4 "),
            (["-o", "3:6"], "3 4 5 "),
            (["-o", ":end", "-n", "2"], "0 1 "),
            (["-o", "start", "-n", "4"], "0 1 2 3 "),
            (["-o", "end", "-e"], ""),
            (["-o", "8:end"], "8 9 "),
            (["-o", "-20", "-e"], "0 1 2 3 4 5 6 7 8 9 "),
        ]
        for flags, expected in cases:
            with self.subTest(flags=flags):
                result = self.cairn("consume", topic, *flags, "-f", "%v ")
                self.assertEqual(result.stdout.decode(), expected)

    def test_from_a_timestamp(self):
        topic = self.topic("timestamps")
        self.produce_lines(topic, ["old1", "old2"])
        time.sleep(0.05)
        boundary = now_ms()
        time.sleep(0.05)
        self.produce_lines(topic, ["new1", "new2"])
        result = self.cairn("consume", topic, "-o", f"@{boundary}", "-e", "-f", "%v,%o\\n")
        self.assertEqual(result.stdout.decode(), "new1,2\nnew2,3\n")
        ranged = self.cairn("consume", topic, "-o", f"start:@{boundary}", "-f", "%v\\n")
        self.assertEqual(ranged.stdout.decode(), "old1\nold2\n")
        future = self.cairn("consume", topic, "-o", f"@{now_ms() + 3_600_000}", "-e")
        self.assertEqual(future.stdout, b"")

    def test_file_input_format_and_tombstones(self):
        topic = self.topic("file")
        with tempfile.NamedTemporaryFile("wb", delete=False) as f:
            f.write(b"a|1\nb|\nc|3")  # the last line has no newline
        try:
            self.cairn("produce", topic, "-f", f.name, "-Z", "%k|%v\\n", "--tombstone", "-p",
                       "0")
        finally:
            os.unlink(f.name)
        records = [json.loads(line) for line in
                   self.cairn("consume", topic, "-e").stdout.decode().splitlines()]
        self.assertEqual([(r["key"], r["value"]) for r in records],
                         [("a", "1"), ("b", None), ("c", "3")])
        formatted = self.cairn("consume", topic, "-e", "-f", "%K %V %v{hex}\\n")
        self.assertEqual(formatted.stdout.decode(), "1 1 31\n1 -1 \n1 1 33\n")

    def test_fixed_key_and_partition(self):
        topic = self.topic("three")
        self.produce_lines(topic, ["x", "y"], "-k", "K", "-p", "2")
        self.produce_lines(topic, ["z"], "-p", "0")
        two = self.cairn("consume", topic, "-p", "2", "-e", "-f", "%p %o %k %v\\n")
        self.assertEqual(two.stdout.decode(), "2 0 K x\n2 1 K y\n")
        everything = self.cairn("consume", topic, "-e", "-f", "%p %v\\n")
        self.assertEqual(sorted(everything.stdout.decode().splitlines()), ["0 z", "2 x", "2 y"])
        missing = self.cairn("consume", topic, "-p", "7", "-e", check=False)
        self.assertEqual(missing.returncode, 1)
        self.assertIn(b"has no partition 7", missing.stderr)

    def test_unknown_topic_is_an_error(self):
        result = self.cairn("consume", "no-such-topic-here", "-e", check=False)
        self.assertEqual(result.returncode, 1)
        self.assertIn(b"topic 'no-such-topic-here' does not exist", result.stderr)

    def test_kcat_produces_cairn_consumes(self):
        topic = self.topic("kcat-in")
        subprocess.run(["kcat", "-P", "-b", self.broker.bootstrap, "-t", topic, "-p", "0", "-K:",
                        "-H", "src=kcat", "-z", "lz4"],
                       input=b"a:1\nb:2\n", check=True, timeout=60, capture_output=True)
        result = self.cairn("consume", topic, "-e", "-f", "%k %v %h\\n")
        self.assertEqual(result.stdout.decode(), "a 1 src=kcat\nb 2 src=kcat\n")

    def test_cairn_produces_kcat_consumes(self):
        topic = self.topic("kcat-out")
        self.produce_lines(topic, ["a:1", "b:2"], "--key-delim", ":", "-H", "src=cairn", "-z",
                           "zstd")
        result = subprocess.run(["kcat", "-C", "-b", self.broker.bootstrap, "-t", topic, "-o",
                                 "beginning", "-e", "-q", "-f", "%k %s %h %o\\n"],
                                check=True, timeout=60, capture_output=True)
        self.assertEqual(result.stdout.decode(), "a 1 src=cairn 0\nb 2 src=cairn 1\n")


if __name__ == "__main__":
    unittest.main(verbosity=2, argv=[sys.argv[0]] + sys.argv[1:])
