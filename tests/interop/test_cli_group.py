#!/usr/bin/env python3
"""`cairn consume -g` and `cairn group list|describe|seek|delete` against a real broker.
Skipped (naming the missing APIs) until the broker serves the consumer group APIs."""
import re
import sys
import time
import unittest

import cli_support
from cli_support import BrokerTestCase


def table(text):
    return [re.split(r"\s{2,}", line.strip()) for line in text.splitlines() if line.strip()]


class GroupCommands(BrokerTestCase):
    needs = cli_support.PRODUCE_CONSUME_APIS + cli_support.GROUP_APIS
    topics = {"basic": 1, "by-time": 1}

    def consume_group(self, topic, group, *flags):
        result = self.cairn("consume", topic, "-g", group, "-f", "%v ", *flags, timeout_s=120)
        return result.stdout.decode()

    def describe(self, group):
        rows = table(self.cairn("group", "describe", group).stdout.decode())
        summary = {row[0]: row[1] for row in rows if len(row) == 2}
        header = next(i for i, row in enumerate(rows) if row[0] == "TOPIC")
        partitions = [dict(zip(rows[header], row)) for row in rows[header + 1:]]
        return summary, partitions

    def test_consume_commit_describe_seek_delete(self):
        topic = self.topic("basic")
        group = self.unique_name("g")
        self.cairn("produce", topic, input=b"".join(b"%d\n" % i for i in range(6)))

        self.assertEqual(self.consume_group(topic, group, "-n", "4"), "0 1 2 3 ")
        summary, partitions = self.describe(group)
        self.assertEqual((summary["GROUP"], summary["STATE"], summary["MEMBERS"],
                          summary["TOTAL-LAG"]), (group, "Empty", "0", "2"))
        self.assertEqual(len(partitions), 1)
        self.assertEqual(
            {k: partitions[0][k] for k in ("TOPIC", "PARTITION", "CURRENT-OFFSET",
                                           "LOG-START-OFFSET", "LOG-END-OFFSET", "LAG")},
            {"TOPIC": topic, "PARTITION": "0", "CURRENT-OFFSET": "4", "LOG-START-OFFSET": "0",
             "LOG-END-OFFSET": "6", "LAG": "2"})
        listed = table(self.cairn("group", "list").stdout.decode())
        self.assertEqual(listed[0], ["GROUP", "STATE"])
        self.assertIn([group, "Empty"], listed[1:])

        # The group resumes at its committed offset and stops at the end with -e.
        self.assertEqual(self.consume_group(topic, group, "-e"), "4 5 ")

        seek = self.cairn("group", "seek", group, "--to", "start")
        self.assertEqual(table(seek.stdout.decode()),
                         [["TOPIC", "PARTITION", "PRIOR-OFFSET", "CURRENT-OFFSET", "STATUS"],
                          [topic, "0", "6", "0", "OK"]])
        self.assertEqual(self.consume_group(topic, group, "-n", "2"), "0 1 ")
        self.cairn("group", "seek", group, "--to", "-1", "--topics", topic)
        self.assertEqual(self.consume_group(topic, group, "-e"), "5 ")

        deleted = self.cairn("group", "delete", group)
        self.assertEqual(table(deleted.stdout.decode()), [["GROUP", "STATUS"], [group, "OK"]])
        names = [row[0] for row in table(self.cairn("group", "list").stdout.decode())]
        self.assertNotIn(group, names)

    def test_seek_to_timestamp(self):
        topic = self.topic("by-time")
        group = self.unique_name("g")
        self.cairn("produce", topic, input=b"a\nb\n")
        time.sleep(0.05)
        boundary = int(time.time() * 1000)
        time.sleep(0.05)
        self.cairn("produce", topic, input=b"c\n")
        self.cairn("group", "seek", group, "--to", f"@{boundary}", "--topics", topic)
        self.assertEqual(self.consume_group(topic, group, "-e"), "c ")

    def test_describe_unknown_group(self):
        # Regression: it printed "STATE Dead" and exited 0.
        result = self.cairn("group", "describe", "no-such-group-here", check=False)
        self.assertEqual(result.returncode, 1)
        self.assertEqual(result.stdout, b"")
        self.assertEqual(result.stderr,
                         b"error: consumer group 'no-such-group-here' does not exist\n")


if __name__ == "__main__":
    unittest.main(verbosity=2, argv=[sys.argv[0]] + sys.argv[1:])
