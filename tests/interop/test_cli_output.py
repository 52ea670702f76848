#!/usr/bin/env python3
"""Output of the `cairn` client commands against a real broker: --format json|yaml of the
listing commands (the same data as the text tables, under snake_case names), dry runs marked
as such, and produce's per-record and summary lines."""
import json
import re
import sys
import unittest

import cli_support
from cli_support import BrokerTestCase

try:
    import yaml
except ImportError:  # python3-yaml is not a declared dependency; YAML checks then skip
    yaml = None

DRY_RUN_NOTE = "(dry run: nothing was changed)"


def table(text):
    return [re.split(r"\s{2,}", line.strip()) for line in text.splitlines() if line.strip()]


class Formats(BrokerTestCase):
    needs = cli_support.PRODUCE_CONSUME_APIS + cli_support.TOPIC_ADMIN_APIS
    topics = {"shapes": 2, "described": 2}

    def documents(self, *command):
        """The command's output as JSON and (when PyYAML is there) YAML: equal documents."""
        as_json = json.loads(self.cairn(*command, "--format", "json").stdout)
        if yaml is not None:
            as_yaml = yaml.safe_load(self.cairn(*command, "--format", "yaml").stdout)
            self.assertEqual(as_yaml, as_json)
        return as_json

    def test_topic_list(self):
        topic = self.topic("shapes")
        text = table(self.cairn("topic", "list").stdout.decode())
        self.assertEqual(text[0], ["NAME", "PARTITIONS", "REPLICAS"])
        document = self.documents("topic", "list")
        self.assertIsInstance(document, list)
        self.assertIn({"name": topic, "partitions": 2, "replicas": 1}, document)
        self.assertEqual(len(document), len(text) - 1)
        for row in document:
            self.assertEqual(list(row), ["name", "partitions", "replicas"])

    def test_topic_describe(self):
        topic = self.topic("described")
        self.require([2, 32])  # ListOffsets, DescribeConfigs
        self.cairn("produce", topic, "-p", "1", input=b"a\nb\n")
        document = self.documents("topic", "describe", topic)
        self.assertEqual(list(document), ["summary", "configs", "partitions"])
        self.assertEqual(document["summary"], {"name": topic, "partitions": 2, "replicas": 1})
        for entry in document["configs"]:
            self.assertEqual(list(entry), ["key", "value", "source"])
            # Strings in YAML too (documents() compared): "86400000" must be quoted there.
            self.assertIsInstance(entry["value"], (str, type(None)))
        self.assertEqual([(p["partition"], p["log_start_offset"], p["high_watermark"])
                          for p in document["partitions"]], [(0, 0, 0), (1, 0, 2)])
        self.assertEqual(list(document["partitions"][0]),
                         ["partition", "leader", "replicas", "log_start_offset", "high_watermark"])
        self.assertIsInstance(document["partitions"][0]["replicas"], list)
        only = self.documents("topic", "describe", topic, "-s")
        self.assertEqual(list(only), ["summary"])

    def test_dry_runs_are_marked(self):
        topic = self.topic("shapes")
        new = self.unique_name("dry")
        self.require([19, 32, 33, 37])
        for command in (["topic", "create", new, "--dry-run"],
                        ["topic", "alter-config", topic, "--set", "retention.ms=1", "--dry-run"],
                        ["topic", "add-partitions", topic, "-n", "1", "--dry-run"]):
            with self.subTest(command=command):
                lines = self.cairn(*command).stdout.decode().splitlines()
                self.assertEqual(lines[0], DRY_RUN_NOTE)
                self.assertEqual(table("\n".join(lines[1:]))[1][-1], "OK (dry run)")
        names = [row[0] for row in table(self.cairn("topic", "list").stdout.decode())]
        self.assertNotIn(new, names)

    def test_produce_output(self):
        topic = self.topic("shapes")
        one = self.cairn("produce", topic, input=b"x\n")
        self.assertEqual(one.stderr, f"Produced 1 record to topic '{topic}'.\n".encode())
        two = self.cairn("produce", topic, input=b"x\ny\n")
        self.assertEqual(two.stderr, f"Produced 2 records to topic '{topic}'.\n".encode())
        # acks=0: no answer, so no offset; printed as "-" instead of librdkafka's -1001.
        unacked = self.cairn("produce", topic, "--acks", "0", "-p", "0", "-v", input=b"z\n")
        self.assertEqual(unacked.stdout, f"{topic} 0 -\n".encode())
        acked = self.cairn("produce", topic, "-p", "0", "-v", input=b"z\n")
        self.assertRegex(acked.stdout.decode(), rf"^{re.escape(topic)} 0 \d+\n$")


class GroupFormats(BrokerTestCase):
    needs = cli_support.PRODUCE_CONSUME_APIS + cli_support.GROUP_APIS
    topics = {"grouped": 1}

    def test_group_list_describe_seek(self):
        topic = self.topic("grouped")
        group = self.unique_name("g")
        self.cairn("produce", topic, input=b"a\nb\nc\n")
        self.cairn("consume", topic, "-g", group, "-n", "2", timeout_s=120)
        listed = json.loads(self.cairn("group", "list", "--format", "json").stdout)
        self.assertIn({"group": group, "state": "Empty"}, listed)
        documents = [json.loads(self.cairn("group", "describe", group, "--format", "json").stdout)]
        if yaml is not None:
            yaml_text = self.cairn("group", "describe", group, "--format", "yaml").stdout
            documents.append(yaml.safe_load(yaml_text))
        for document in documents:
            self.assertEqual(len(document), 1)
            described = document[0]
            self.assertEqual(list(described), ["group", "coordinator", "state", "balancer",
                                               "members", "total_lag", "partitions"])
            self.assertEqual((described["group"], described["state"], described["members"],
                              described["total_lag"]), (group, "Empty", 0, 1))
            self.assertEqual(described["partitions"], [{
                "topic": topic, "partition": 0, "current_offset": 2, "log_start_offset": 0,
                "log_end_offset": 3, "lag": 1, "member_id": None, "client_id": None,
                "host": None}])
        missing = self.cairn("group", "describe", group, "no-such-group", "--format", "json",
                             check=False)
        self.assertEqual(missing.returncode, 1)
        self.assertEqual([d["group"] for d in json.loads(missing.stdout)], [group])
        self.assertIn(b"consumer group 'no-such-group' does not exist", missing.stderr)

        seek = self.cairn("group", "seek", group, "--to", "start", "--dry-run")
        lines = seek.stdout.decode().splitlines()
        self.assertEqual(lines[0], DRY_RUN_NOTE)
        self.assertEqual(table("\n".join(lines[1:]))[1], [topic, "0", "2", "0", "OK (dry run)"])
        described = json.loads(self.cairn("group", "describe", group, "--format", "json").stdout)
        self.assertEqual(described[0]["partitions"][0]["current_offset"], 2)  # not moved


if __name__ == "__main__":
    unittest.main(verbosity=2, argv=[sys.argv[0]] + sys.argv[1:])
