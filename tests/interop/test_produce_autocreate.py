"""Topic auto-creation (auto.create.topics.enable, on by default; num.partitions, default 1).

- A librdkafka producer writing to a topic that does not exist gets it created through its
  Metadata request and its messages delivered; the topic then has num.partitions partitions.
- A Metadata v4 request with allow_auto_topic_creation=false creates nothing and answers
  UNKNOWN_TOPIC_OR_PARTITION; an illegal name is INVALID_TOPIC_EXCEPTION.
"""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import confluent_kafka  # noqa: E402
from kafka.protocol.metadata import MetadataRequest  # noqa: E402

from harness import Broker  # noqa: E402
import produce_support as ps  # noqa: E402


class AutoCreateTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.broker = Broker(shards=2).start()

    @classmethod
    def tearDownClass(cls):
        cls.broker.stop()

    def metadata(self, topics, allow):
        with ps.WireClient(self.broker.bootstrap) as client:
            response = client.request(MetadataRequest[4](topics=topics,
                                                         allow_auto_topic_creation=allow))
        return {t[1]: (t[0], len(t[3])) for t in response.topics}

    def test_producer_auto_creates_its_topic(self):
        producer = confluent_kafka.Producer({"bootstrap.servers": self.broker.bootstrap,
                                             "acks": "all"})
        delivered = []
        for i in range(5):
            producer.produce("auto-created", value=b"v%d" % i,
                             on_delivery=lambda err, msg: delivered.append((err, msg.offset())))
        self.assertEqual(producer.flush(60), 0)
        self.assertEqual(delivered, [(None, i) for i in range(5)])
        self.assertEqual(self.metadata(["auto-created"], False), {"auto-created": (0, 1)})
        with ps.WireClient(self.broker.bootstrap) as client:
            _, _, records = client.fetch("auto-created", 0, 0)
        self.assertEqual([r[3] for r in records], [b"v%d" % i for i in range(5)])

    def test_metadata_without_permission_creates_nothing(self):
        self.assertEqual(self.metadata(["not-created"], False),
                         {"not-created": (ps.UNKNOWN_TOPIC_OR_PARTITION, 0)})
        self.assertEqual(self.metadata(["not-created"], False),
                         {"not-created": (ps.UNKNOWN_TOPIC_OR_PARTITION, 0)})
        self.assertEqual(self.metadata(["bad/name"], True), {"bad/name": (17, 0)})

    def test_metadata_with_permission_creates(self):
        self.assertEqual(self.metadata(["created-by-metadata"], True),
                         {"created-by-metadata": (0, 1)})
        with ps.WireClient(self.broker.bootstrap) as client:
            self.assertEqual(client.produce("created-by-metadata", 0, ps.simple_batch(2)),
                             (ps.NONE, 0))


if __name__ == "__main__":
    unittest.main(verbosity=2)
