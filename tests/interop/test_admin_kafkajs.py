#!/usr/bin/python3
"""kafkajs (2.2.4, tests/interop/js) admin client against Cairn: createTopics (also
validateOnly and an existing topic), describeConfigs, alterConfigs, createPartitions,
deleteTopicRecords, fetchTopicOffsets, deleteTopics, and the errors it reports for a bad
replication factor, a bad config, shrinking partitions and deleting a missing topic. The
scenario is tests/interop/js/admin.js; this test checks what it printed. Needs Produce for the
deleteTopicRecords part (skipped while the broker does not serve it).

tests/interop/js/node_modules is installed with `npm ci` when missing.
"""
import json
import os
import subprocess
import unittest

import admin_wire as aw
import harness

JS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "js")


def ensure_node_modules():
    marker = os.path.join(JS_DIR, "node_modules", "kafkajs", "package.json")
    if not os.path.exists(marker):
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=JS_DIR, check=True,
                       timeout=600)


class KafkajsAdmin(unittest.TestCase):
    def test_admin_scenario(self):
        ensure_node_modules()
        with harness.Broker(shards=2) as broker:
            with aw.Admin(broker.bootstrap) as admin:
                if 0 not in admin.api_versions():
                    self.skipTest("Produce is not served yet")
            run = subprocess.run(["node", "admin.js", broker.bootstrap], cwd=JS_DIR,
                                 timeout=300, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            self.assertEqual(0, run.returncode, run.stderr.decode())
            out = json.loads(run.stdout.decode())
            broker.check_clean()

        self.assertTrue(out["created"])
        self.assertFalse(out["createdAgain"])  # kafkajs: false for TOPIC_ALREADY_EXISTS
        self.assertTrue(out["validated"])
        self.assertEqual({"error": ["INVALID_REPLICATION_FACTOR"]}, out["badReplication"])
        self.assertEqual({"error": ["INVALID_CONFIG"]}, out["badConfig"])
        # validateOnly created nothing; listTopics includes internal topics, as against Kafka
        self.assertEqual(["__consumer_offsets", "__transaction_state", "kjs-orders"],
                         out["topics"])

        before = out["configsBefore"]
        self.assertEqual(33, len(before))
        self.assertEqual({"value": "3600000", "isDefault": False, "source": 1,
                          "readOnly": False}, before["retention.ms"])
        self.assertEqual({"value": "delete", "isDefault": True, "source": 5,
                          "readOnly": False}, before["cleanup.policy"])
        after = out["configsAfter"]
        self.assertEqual("compact,delete", after["cleanup.policy"]["value"])
        self.assertEqual("2000000", after["max.message.bytes"]["value"])
        self.assertEqual(5, after["retention.ms"]["source"])  # AlterConfigs replaced it
        self.assertEqual([["num.partitions", "1"]], out["brokerConfigs"])

        self.assertIn("ok", out["grown"])
        self.assertEqual({"error": ["INVALID_PARTITIONS"]}, out["shrink"])
        self.assertEqual(5, out["partitions"])
        self.assertIn("ok", out["deletedRecords"])
        self.assertEqual({"low": "4", "high": "10"}, out["offsetsAfterDelete"])
        self.assertIn("ok", out["deletedToEnd"])
        self.assertEqual({"low": "10", "high": "10"}, out["offsetsAtEnd"])
        self.assertIn("ok", out["deleted"])
        self.assertEqual({"error": ["UNKNOWN_TOPIC_OR_PARTITION"]}, out["deleteMissing"])
        self.assertEqual(["__consumer_offsets", "__transaction_state"], out["topicsAfter"])


if __name__ == "__main__":
    harness.main()
