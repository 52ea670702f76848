#!/usr/bin/python3
"""sarama (1.22.1, Debian's golang-github-shopify-sarama-dev), the Go client, speaking as
Kafka 0.10.2, 1.0 and 2.2 (config.Version): tests/interop/go/sarama_client/main.go creates a
topic with ClusterAdmin, lists it, describes its configs, produces with a SyncProducer under
each codec (none, gzip, snappy, lz4), consumes everything with a consumer group, reads the
committed offsets back, alters a config, adds a partition, deletes records, lists and
describes the group, deletes the topic and lists again. As Kafka 2.2 it also tries zstd, which
sarama 1.22 sends with Produce v3: refused with UNSUPPORTED_COMPRESSION_TYPE, as Kafka does
(zstd needs Produce v7).

As Kafka 0.10.2 sarama writes message format v1 (Produce v2) and reads with Fetch v3, which
Cairn converts; as 1.0 and 2.2 it writes v2 batches with headers (Produce v3, Fetch v4).
Below 0.11 sarama has no DescribeConfigs, AlterConfigs, DeleteRecords or CreatePartitions
(Kafka 0.10.2 had none) and refuses them before sending; its ClusterAdmin.ListTopics needs
DescribeConfigs, so at 0.10.2 the program lists through Metadata.

The program is built once per run (go_support.py: offline, against Debian's packaged sources).
"""
import json
import subprocess

import go_support
import harness

COUNT = 20  # per codec
CODECS = ("none", "gzip", "snappy", "lz4")
RUN_TIMEOUT_S = 180
# sarama's texts for ErrUnsupportedVersion and ErrUnsupportedCompressionType.
UNSUPPORTED_VERSION = "kafka server: The version of API is not supported."
UNSUPPORTED_COMPRESSION_TYPE = ("kafka server: The requesting client does not support the "
                                "compression type of given partition.")


class Sarama(go_support.SaramaClientMixin, harness.BrokerTestCase):
    def run_client(self, version, topic):
        out = subprocess.run(
            [self.sarama_client, self.broker.bootstrap, version, topic, str(COUNT)],
            capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
        self.assertEqual(0, out.returncode, out.stderr + self.broker.stderr()[-4000:])
        return json.loads(out.stdout.strip().splitlines()[-1])

    def check_version(self, version, topic, record_batches):
        result = self.run_client(version, topic)
        self.assertEqual(2, result["listed_partitions"])
        self.assertFalse(result["listed_after_delete"])
        self.check_messages(result, record_batches)
        self.assertEqual(("consumer", "Empty"), (result["group_protocol_type"],
                                                 result["group_state"]))
        self.assertBrokerHealthy()
        return result

    def check_messages(self, result, record_batches):
        sent = result["sent"]
        self.assertEqual(COUNT * len(CODECS), len(sent))
        for i, message in enumerate(sent):
            codec, n = CODECS[i // COUNT], i % COUNT
            self.assertEqual((n % 2, "key-%d" % (n % 5), str(n) if record_batches else ""),
                             (message["partition"], message["key"], message["header"]))
            self.assertTrue(message["value"].startswith("sarama-%s-%d-" % (codec, n)))
        # Every message once, as sent (key, value, header) at the offset the produce answered.
        key = lambda m: (m["partition"], m["offset"])
        self.assertEqual(sorted(sent, key=key), sorted(result["seen"], key=key))
        for partition in (0, 1):
            offsets = sorted(m["offset"] for m in sent if m["partition"] == partition)
            self.assertEqual(list(range(len(offsets))), offsets)
            self.assertEqual(len(offsets), result["committed"][str(partition)])

    def check_admin(self, result):
        """What the admin calls of Kafka 0.11 and 1.0 did: retention.ms altered, a third
        partition, records below offset 2 of partition 0 deleted."""
        self.assertEqual("delete", result["cleanup_policy"])
        self.assertEqual(("3600000", 3, 2), (result["retention_ms"], result["partitions_after"],
                                             result["oldest_after_delete"]))

    def test_as_kafka_0_10_2(self):
        result = self.check_version("0.10.2.0", "sarama-0-10-2", record_batches=False)
        # Kafka 0.10.2 had none of these APIs: sarama refuses them before sending.
        self.assertEqual({call: UNSUPPORTED_VERSION for call in
                          ("DescribeConfig", "AlterConfig", "CreatePartitions", "DeleteRecords")},
                         result["errors"])

    def test_as_kafka_1_0(self):
        result = self.check_version("1.0.0", "sarama-1-0", record_batches=True)
        self.assertEqual({}, result["errors"])
        self.check_admin(result)

    def test_as_kafka_2_2(self):
        result = self.check_version("2.2.0", "sarama-2-2", record_batches=True)
        # sarama 1.22 sends zstd in Produce v3; zstd needs v7 (KIP-110).
        self.assertEqual({"zstd": UNSUPPORTED_COMPRESSION_TYPE}, result["errors"])
        self.check_admin(result)


if __name__ == "__main__":
    harness.main()
