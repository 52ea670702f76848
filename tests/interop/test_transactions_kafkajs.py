#!/usr/bin/env python3
"""kafkajs (2.2.4) transactions against the real broker: a transactional producer commits,
aborts and commits again, with sendOffsets (AddOffsetsToTxn + TxnOffsetCommit) in the first
transaction; a kafkajs consumer (read_committed, kafkajs's default isolation) sees exactly the
committed messages, the group's committed offset is the one sent in the transaction, and a
read_uncommitted confluent-kafka consumer also sees the aborted ones.
"""
import json
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import BrokerTestCase, main  # noqa: E402
from test_clients_kafkajs import JS_DIR, ensure_node_modules  # noqa: E402
from test_transactions import flat, read_all  # noqa: E402


class KafkajsTransactionsTest(BrokerTestCase):
    broker_topics = {"js-out": 2, "js-out-in": 1}

    @classmethod
    def setUpClass(cls):
        ensure_node_modules()
        super().setUpClass()

    def test_commit_abort_and_send_offsets(self):
        out = subprocess.run(["node", "transactions.js", self.broker.bootstrap, "js-out",
                              "js-copier"], cwd=JS_DIR, check=True, timeout=240,
                             stdout=subprocess.PIPE).stdout.decode()
        result = json.loads(out.strip().splitlines()[-1])
        self.assertEqual(sorted(result["values"]), sorted("c%d" % i for i in range(15)))
        self.assertEqual(result["offset"], "5")
        uncommitted = read_all(self.broker.bootstrap, "js-out", 2, "read_uncommitted")
        self.assertEqual(flat(uncommitted),
                         sorted(["c%d" % i for i in range(15)] + ["a%d" % i for i in range(5)]))
        self.assertBrokerHealthy()


if __name__ == "__main__":
    main()
