"""kcat produces keyed messages with headers under every codec it has (none, gzip, snappy,
lz4, zstd via -X compression.codec) and consumes them back from Cairn.

For each codec: kcat -P -K: -H ... -z CODEC -p P sends 30 keyed lines to each of 2 partitions;
the batches stored on the broker must carry the codec (read raw with a Fetch: attributes & 7 —
librdkafka falls back to uncompressed batches silently if the broker's Produce range does not
reach v0, and to no lz4 without FindCoordinator v0); then kcat -C -J -e reads everything back:
same keys, values, headers, per-partition order, CreateTime timestamps within the run.
"""
import json
import os
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Broker  # noqa: E402
import produce_support as ps  # noqa: E402

CODEC_IDS = {"none": 0, "gzip": 1, "snappy": 2, "lz4": 3, "zstd": 4}
PARTITIONS = 2
PER_PARTITION = 30
TIMEOUT_S = 120


def topic_name(codec):
    return "kcat-" + codec


class KcatClientTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.broker = Broker(shards=2, topics={topic_name(c): PARTITIONS for c in CODEC_IDS}).start()
        cls.wire = ps.WireClient(cls.broker.bootstrap)

    @classmethod
    def tearDownClass(cls):
        cls.wire.close()
        cls.broker.stop()

    def round_trip(self, codec):
        topic = topic_name(codec)
        started_ms = int(time.time() * 1000)
        sent = {}
        for partition in range(PARTITIONS):
            lines = ["key-%d:%s value %d-%d %s" % (i % 4, codec, partition, i, "x" * 50)
                     for i in range(PER_PARTITION)]
            sent[partition] = [line.split(":", 1) for line in lines]
            args = ["kcat", "-b", self.broker.bootstrap, "-P", "-t", topic, "-p", str(partition),
                    "-K:", "-H", "origin=kcat", "-H", "codec=" + codec,
                    "-X", "linger.ms=50", "-X", "acks=all"]
            if codec != "none":
                args += ["-X", "compression.codec=" + codec]
            subprocess.run(args, input=("\n".join(lines) + "\n").encode(), check=True,
                           timeout=TIMEOUT_S)
        ended_ms = int(time.time() * 1000)

        for partition in range(PARTITIONS):
            codecs = ps.codec_batches(self.wire, topic, partition)
            self.assertTrue(codecs)
            self.assertEqual(set(codecs), {CODEC_IDS[codec]})

        out = subprocess.run(["kcat", "-b", self.broker.bootstrap, "-C", "-t", topic,
                              "-o", "beginning", "-e", "-J"],
                             check=True, timeout=TIMEOUT_S, stdout=subprocess.PIPE).stdout
        got = {p: [] for p in range(PARTITIONS)}
        for line in out.decode().splitlines():
            if not line.strip():
                continue
            record = json.loads(line)
            self.assertEqual(record["tstype"], "create")
            self.assertGreaterEqual(record["ts"], started_ms - 1000)
            self.assertLessEqual(record["ts"], ended_ms + 1000)
            got[record["partition"]].append(record)
        for partition in range(PARTITIONS):
            records = got[partition]
            self.assertEqual([r["offset"] for r in records], list(range(PER_PARTITION)))
            self.assertEqual([[r["key"], r["payload"]] for r in records], sent[partition])
            for r in records:
                self.assertEqual(r["headers"], ["origin", "kcat", "codec", codec])

    def test_none(self):
        self.round_trip("none")

    def test_gzip(self):
        self.round_trip("gzip")

    def test_snappy(self):
        self.round_trip("snappy")

    def test_lz4(self):
        self.round_trip("lz4")

    def test_zstd(self):
        self.round_trip("zstd")


if __name__ == "__main__":
    unittest.main(verbosity=2)
