"""kafkajs (2.2.4, pinned in tests/interop/js/package-lock.json) produces keyed messages with
headers under each codec it has here (none, gzip built in; snappy via kafkajs-snappy) and
consumes them back with a consumer group from Cairn: same keys, values, headers and
timestamps, per-partition order kept; the stored batches carry the codec.

tests/interop/js/node_modules is installed with `npm ci` when missing (needs the npm registry
once; later runs are offline).
"""
import json
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Broker  # noqa: E402
import produce_support as ps  # noqa: E402

JS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "js")
CODECS = {"none": 0, "gzip": 1, "snappy": 2}
PARTITIONS = 3
COUNT = 60


def ensure_node_modules():
    marker = os.path.join(JS_DIR, "node_modules", "kafkajs", "package.json")
    if os.path.exists(marker):
        return
    subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=JS_DIR, check=True,
                   timeout=600)


class KafkajsClientTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        ensure_node_modules()
        cls.broker = Broker(shards=2, topics={"kafkajs-" + c: PARTITIONS for c in CODECS}).start()
        cls.wire = ps.WireClient(cls.broker.bootstrap)

    @classmethod
    def tearDownClass(cls):
        cls.wire.close()
        cls.broker.stop()

    def round_trip(self, codec):
        topic = "kafkajs-" + codec
        out = subprocess.run(
            ["node", "produce_consume.js", self.broker.bootstrap, topic, codec, str(COUNT),
             str(PARTITIONS)],
            cwd=JS_DIR, check=True, timeout=180, stdout=subprocess.PIPE).stdout.decode()
        for partition in range(PARTITIONS):
            self.assertEqual(set(ps.codec_batches(self.wire, topic, partition)), {CODECS[codec]})
        got = {p: [] for p in range(PARTITIONS)}
        for line in out.splitlines():
            message = json.loads(line)
            got[message["partition"]].append(message)
        self.assertEqual(sum(len(v) for v in got.values()), COUNT)
        # What the script sent, read back independently over the wire (kafka-python decoder).
        for partition in range(PARTITIONS):
            messages = got[partition]
            self.assertEqual([m["offset"] for m in messages], list(range(len(messages))))
            stored = ps.fetch_all(self.wire, topic, partition, len(messages))
            self.assertEqual(len(stored), len(messages))
            for message, (offset, timestamp, key, value, headers) in zip(messages, stored):
                self.assertEqual(message["key"].encode(), key)
                self.assertEqual(message["value"].encode(), value)
                self.assertEqual(int(message["timestamp"]), timestamp)
                self.assertEqual({k: v.decode() for k, v in headers}, message["headers"])
                i = int(message["headers"]["trace"][2:])
                self.assertEqual(i % PARTITIONS, partition)
                self.assertEqual(message["key"], "key-%d" % (i % 7))
            indexes = [int(m["headers"]["trace"][2:]) for m in messages]
            self.assertEqual(indexes, sorted(indexes))

    def test_none(self):
        self.round_trip("none")

    def test_gzip(self):
        self.round_trip("gzip")

    def test_snappy(self):
        self.round_trip("snappy")


if __name__ == "__main__":
    unittest.main(verbosity=2)
