#!/usr/bin/env python3
"""Consumer groups beyond one library: members of librdkafka (confluent-kafka-python),
kafka-python and kafkajs in one group with a common assignor (Kafka's roundrobin); two groups
on one topic progressing independently while one of them is stalled; a static member
(group.instance.id) restarting within its session timeout without a rebalance; and a group
resuming from its committed offsets after the broker is killed with SIGKILL and restarted.
Helpers (members, producer, commit watcher) come from test_groups_clients.py.
"""
import os
import shutil
import signal
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402
from test_groups_clients import (PARTITIONS, CommitWatcher, GroupTestCase, Member,  # noqa: E402
                                 Producer, check_in_order, consumed_keys, covers_all,
                                 ensure_node_modules, high_watermarks, leave_and_drain,
                                 missing_apis, share_and_consume, wait_until, DATA_APIS,
                                 GROUP_APIS)


class MixedGroups(GroupTestCase):
    topics = {"mixed": PARTITIONS, "shared": PARTITIONS, "static": PARTITIONS}

    def test_three_libraries_one_group(self):
        ensure_node_modules()
        watcher = CommitWatcher(self.broker.bootstrap, "mixed-group")
        producer = Producer(self.broker.bootstrap, "mixed")
        rdkafka = self.member("librdkafka", "confluent", "mixed-group", "mixed", "roundrobin")
        python = self.member("kafka-python", "kafka-python", "mixed-group", "mixed",
                             "roundrobin")
        js = self.member("kafkajs", "kafkajs", "mixed-group", "mixed", "roundrobin")
        everyone = [rdkafka, python, js]
        share_and_consume(self, everyone)
        leave_and_drain(self, everyone, js, producer, watcher)

    def test_stalled_group_does_not_slow_another(self):
        producer = Producer(self.broker.bootstrap, "shared")
        fast = [self.member("fast-%d" % i, "confluent", "fast-group", "shared", "range")
                for i in range(2)]
        slow = self.member("slow", "kafka-python", "slow-group", "shared", "range")
        wait_until(lambda: covers_all(fast) and covers_all([slow]), "both groups assigned",
                   members=fast + [slow])
        wait_until(lambda: slow.messages(), "the slow group consuming", members=[slow])
        # Stall the slow group's only member (it stops polling and heartbeating).
        os.kill(slow.process.pid, signal.SIGSTOP)
        # Lines it printed just before the stop may still be in the pipe: count once the
        # reader has drained it (the count holds still).
        stalled_at = -1
        while stalled_at != len(slow.messages()):
            stalled_at = len(slow.messages())
            time.sleep(0.5)
        try:
            time.sleep(3)
            delivered = producer.stop()
            wait_until(lambda: set(delivered) <= consumed_keys(fast),
                       "the fast group consuming everything while the other is stalled",
                       members=fast)
            self.assertEqual(len(slow.messages()), stalled_at)
        finally:
            os.kill(slow.process.pid, signal.SIGCONT)
        # Resumed, the slow group catches up on its own (possibly after a rebalance, since its
        # session may have expired meanwhile).
        wait_until(lambda: set(delivered) <= consumed_keys([slow]),
                   "the slow group catching up", members=[slow])
        for member in fast + [slow]:
            member.stop()
        check_in_order(self, fast + [slow], delivered)

    def test_static_member_restart_keeps_assignment_without_rebalance(self):
        a = self.member("static-a", "confluent", "static-group", "static", "range", "inst-a")
        b = self.member("static-b", "confluent", "static-group", "static", "range", "inst-b")
        wait_until(lambda: covers_all([a, b]), "two static members", members=[a, b])
        a_events = len(a.assignment_events())
        b_owned = b.assignment()
        # A static member does not leave on close; a new process with the same instance id
        # within the session timeout takes its place.
        b.stop()
        b2 = self.member("static-b2", "confluent", "static-group", "static", "range", "inst-b")
        wait_until(lambda: b2.assignment() is not None, "the restarted member's assignment",
                   members=[a, b2])
        self.assertEqual(b2.assignment(), b_owned)
        time.sleep(2)  # a rebalance, had there been one, would reach `a` within a heartbeat
        self.assertEqual(len(a.assignment_events()), a_events,
                         "the other member saw no rebalance")
        a.stop()
        b2.stop()


class BrokerKilledUnderAGroup(unittest.TestCase):
    def test_group_resumes_from_committed_offsets_after_kill_9(self):
        data_dir = tempfile.mkdtemp(prefix="cairn-groups-kill-")
        try:
            harness.write_topics(data_dir, {"durable": PARTITIONS})
            broker = harness.Broker(data_dir=data_dir).start()
            missing = missing_apis(broker.bootstrap, DATA_APIS + GROUP_APIS)
            if missing:
                broker.stop()
                self.skipTest("broker does not serve " + ", ".join(missing))
            producer = Producer(broker.bootstrap, "durable", rate_per_s=300)
            time.sleep(2)
            first = producer.stop()
            member = Member("before", "confluent", broker.bootstrap, "durable-group", "durable",
                            "range")
            wait_until(lambda: set(first) <= consumed_keys([member]), "first batch consumed",
                       members=[member])
            member.stop()  # commits what it consumed
            committed = CommitWatcher(broker.bootstrap, "durable-group")
            wait_until(lambda: committed.polls > 0, "committed offsets")
            committed.stop()
            self.assertEqual(
                {p: committed.latest.get(("durable", p)) for p in range(PARTITIONS)},
                high_watermarks(broker.bootstrap, "durable"))

            os.kill(broker.pid, signal.SIGKILL)
            broker.process.wait()
            broker._reader.join(10)
            broker.process.stderr.close()
            broker.process = None

            broker = harness.Broker(data_dir=data_dir).start()
            producer = Producer(broker.bootstrap, "durable", rate_per_s=300)
            time.sleep(1)
            second = producer.stop()
            after = Member("after", "confluent", broker.bootstrap, "durable-group", "durable",
                           "range")
            wait_until(lambda: set(second) <= consumed_keys([after]),
                       "the new messages consumed after the restart", members=[after])
            after.stop()
            # Resumed exactly at the committed offsets: nothing from before is read again.
            self.assertEqual(consumed_keys([after]) & set(first), set())
            broker.stop()
        finally:
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    unittest.main(verbosity=2)
