#!/usr/bin/env python3
"""`cairn topic create|list|describe|alter-config|add-partitions|delete` against a real broker,
with exact output checks."""
import re
import sys
import unittest

import cli_support
from cli_support import BrokerTestCase


def section(text, title):
    """The lines of one `topic describe` section (between its ==== rule and a blank line)."""
    lines = text.splitlines()
    start = lines.index(title) + 2
    end = start
    while end < len(lines) and lines[end]:
        end += 1
    return lines[start:end]


def table(lines):
    return [re.split(r"\s{2,}", line.strip()) for line in lines]


class TopicCommands(BrokerTestCase):
    needs = cli_support.TOPIC_ADMIN_APIS

    def test_create_list_describe_delete(self):
        topic = self.unique_name("topic")
        created = self.cairn("topic", "create", topic, "-p", "3", "-r", "1")
        self.assertEqual(table(created.stdout.decode().splitlines()),
                         [["TOPIC", "STATUS"], [topic, "OK"]])
        listed = table(self.cairn("topic", "list").stdout.decode().splitlines())
        self.assertEqual(listed[0], ["NAME", "PARTITIONS", "REPLICAS"])
        self.assertIn([topic, "3", "1"], listed[1:])

        self.require([0, 2])  # Produce, ListOffsets for the watermarks
        self.cairn("produce", topic, "-p", "1", input=b"a\nb\n")
        described = self.cairn("topic", "describe", topic, "-s", "-p").stdout.decode()
        self.assertEqual(table(section(described, "SUMMARY")),
                         [["NAME", topic], ["PARTITIONS", "3"], ["REPLICAS", "1"]])
        partitions = table(section(described, "PARTITIONS"))
        self.assertEqual(partitions[0], ["PARTITION", "LEADER", "REPLICAS", "LOG-START-OFFSET",
                                         "HIGH-WATERMARK"])
        self.assertEqual([(p[0], p[3], p[4]) for p in partitions[1:]],
                         [("0", "0", "0"), ("1", "0", "2"), ("2", "0", "0")])
        leaders = {p[1] for p in partitions[1:]}
        self.assertEqual(len(leaders), 1)
        self.assertEqual(partitions[1][2], f"[{leaders.pop()}]")

        deleted = self.cairn("topic", "delete", topic)
        self.assertEqual(table(deleted.stdout.decode().splitlines()),
                         [["TOPIC", "STATUS"], [topic, "OK"]])
        gone = self.cairn("topic", "describe", topic, check=False)
        self.assertEqual(gone.returncode, 1)
        self.assertIn(f"topic '{topic}' does not exist".encode(), gone.stderr)

    def test_create_existing_topic_fails(self):
        topic = self.unique_name("topic")
        self.cairn("topic", "create", topic)
        again = self.cairn("topic", "create", topic, check=False)
        self.assertEqual(again.returncode, 1)
        self.assertIn(b"TOPIC_ALREADY_EXISTS", again.stdout)
        self.assertIn(b"1 of 1 failed", again.stderr)

    def test_dry_run_creates_nothing(self):
        topic = self.unique_name("topic")
        result = self.cairn("topic", "create", topic, "-p", "2", "--dry-run")
        self.assertIn(topic.encode() + b"  OK", result.stdout)
        names = [row[0] for row in table(self.cairn("topic", "list").stdout.decode()
                                         .splitlines())]
        self.assertNotIn(topic, names)

    def test_configs_at_create_and_alter(self):
        self.require([32, 33])  # DescribeConfigs, AlterConfigs
        topic = self.unique_name("topic")
        self.cairn("topic", "create", topic, "-c", "retention.ms=12345")

        def configs():
            text = self.cairn("topic", "describe", topic, "-c").stdout.decode()
            rows = table(section(text, "CONFIGS"))
            self.assertEqual(rows[0], ["KEY", "VALUE", "SOURCE"])
            # An empty value leaves two columns; the keys checked here all have values.
            return {row[0]: (row[1], row[2]) for row in rows[1:] if len(row) == 3}

        self.assertEqual(configs()["retention.ms"], ("12345", "DYNAMIC_TOPIC_CONFIG"))
        self.cairn("topic", "alter-config", topic, "--set", "cleanup.policy=compact", "--set",
                   "retention.ms=999")
        after_set = configs()
        self.assertEqual(after_set["retention.ms"], ("999", "DYNAMIC_TOPIC_CONFIG"))
        self.assertEqual(after_set["cleanup.policy"], ("compact", "DYNAMIC_TOPIC_CONFIG"))
        self.cairn("topic", "alter-config", topic, "--delete", "cleanup.policy")
        after_delete = configs()
        # The read-modify-write kept the other topic config.
        self.assertEqual(after_delete["retention.ms"], ("999", "DYNAMIC_TOPIC_CONFIG"))
        self.assertNotEqual(after_delete["cleanup.policy"][1], "DYNAMIC_TOPIC_CONFIG")

    def test_add_partitions(self):
        self.require([37])  # CreatePartitions
        topic = self.unique_name("topic")
        self.cairn("topic", "create", topic, "-p", "2")
        result = self.cairn("topic", "add-partitions", topic, "-n", "3")
        self.assertEqual(table(result.stdout.decode().splitlines()),
                         [["TOPIC", "STATUS"], [topic, "OK"]])
        summary = self.cairn("topic", "describe", topic, "-s").stdout.decode()
        self.assertIn(["PARTITIONS", "5"], table(section(summary, "SUMMARY")))


if __name__ == "__main__":
    unittest.main(verbosity=2, argv=[sys.argv[0]] + sys.argv[1:])
