#!/usr/bin/python3
"""@platformatic/kafka (1.35.0, pinned in tests/interop/js/package-lock.json), a current
pure-JavaScript client that refuses brokers below Metadata v9, CreateTopics v7, FindCoordinator
v4, Fetch v12, JoinGroup v6 and OffsetFetch v8: it creates a topic (and gets its topic id),
produces keyed messages with headers, consumes them back with a consumer group committing each
one, lists topics and deletes the topic (tests/interop/js/platformatic.js).

tests/interop/js/node_modules is installed with `npm ci` when the client is missing (needs the
npm registry once; later runs are offline).
"""
import json
import os
import subprocess

import harness

JS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "js")
COUNT = 40


def ensure_node_modules():
    marker = os.path.join(JS_DIR, "node_modules", "@platformatic", "kafka", "package.json")
    if not os.path.exists(marker):
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=JS_DIR, check=True,
                       timeout=600)


class PlatformaticClient(harness.BrokerTestCase):
    @classmethod
    def setUpClass(cls):
        ensure_node_modules()
        super().setUpClass()

    def test_admin_produce_group_consume(self):
        out = subprocess.run(["node", "platformatic.js", self.broker.bootstrap, "platformatic",
                              str(COUNT)], cwd=JS_DIR, capture_output=True, text=True,
                             timeout=180)
        self.assertEqual(0, out.returncode, out.stderr + self.broker.stderr()[-4000:])
        seen = json.loads(out.stdout.strip().splitlines()[-1])
        created, = seen["created"]
        self.assertEqual(("platformatic", 2), (created["name"], created["partitions"]))
        self.assertNotEqual("00000000-0000-0000-0000-000000000000", created["id"])
        # Every message once, with its key and header; each partition in offset order.
        self.assertEqual(sorted("value-%d" % i for i in range(COUNT)),
                         sorted(m["value"] for m in seen["seen"]))
        for m in seen["seen"]:
            i = int(m["value"].split("-")[1])
            self.assertEqual(("key-%d" % (i % 5), str(i)), (m["key"], m["header"]))
        for partition in (0, 1):
            offsets = [m["offset"] for m in seen["seen"] if m["partition"] == partition]
            self.assertEqual(list(range(len(offsets))), offsets)
        self.assertTrue(seen["listed"])
        self.assertFalse(seen["listed_after_delete"])
        self.assertBrokerHealthy()


if __name__ == "__main__":
    harness.main()
