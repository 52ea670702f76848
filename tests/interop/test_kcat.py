#!/usr/bin/python3
"""kcat (librdkafka 1.7) lists the broker, its topics and partitions (`kcat -L`)."""
import json
import subprocess

import harness


def kcat(*args):
    result = subprocess.run(["kcat"] + list(args), capture_output=True, text=True, timeout=120)
    return result.returncode, result.stdout, result.stderr


class KcatMetadata(harness.BrokerTestCase):
    broker_topics = {"orders": 3, "audit": 1}

    def test_list_prints_the_broker_and_topics(self):
        code, out, err = kcat("-L", "-b", self.broker.bootstrap)
        self.assertEqual(0, code, err)
        self.assertIn("1 brokers:", out)
        self.assertIn("broker 0 at %s (controller)" % self.broker.bootstrap, out)
        self.assertIn('topic "orders" with 3 partitions:', out)
        self.assertIn('topic "audit" with 1 partitions:', out)
        for p in range(3):
            self.assertIn("partition %d, leader 0, replicas: 0, isrs: 0" % p, out)
        self.assertBrokerHealthy()

    def test_json_listing(self):
        code, out, err = kcat("-L", "-J", "-b", self.broker.bootstrap)
        self.assertEqual(0, code, err)
        listing = json.loads(out)
        self.assertEqual(0, listing["controllerid"])
        self.assertEqual([{"id": 0, "name": self.broker.bootstrap}], listing["brokers"])
        topics = {t["topic"]: t for t in listing["topics"]}
        self.assertEqual({"orders", "audit", "__consumer_offsets", "__transaction_state"},
                         set(topics))
        orders = topics["orders"]["partitions"]
        self.assertEqual([0, 1, 2], sorted(p["partition"] for p in orders))
        for p in orders:
            self.assertEqual(0, p["leader"])
            self.assertEqual([{"id": 0}], p["replicas"])
            self.assertEqual([{"id": 0}], p["isrs"])

    def test_unknown_topic_is_reported(self):
        code, out, err = kcat("-L", "-b", self.broker.bootstrap, "-t", "no-such-topic",
                              "-X", "allow.auto.create.topics=false")  # else it is created
        self.assertIn('topic "no-such-topic"', out)
        self.assertIn("Broker: Unknown topic or partition", out + err)
        self.assertBrokerHealthy()


if __name__ == "__main__":
    harness.main()
