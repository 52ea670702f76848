#!/usr/bin/python3
"""A consumer group of the KIP-848 protocol survives broker restarts, clean and kill -9: its
group epoch, assignment epoch, members, their epochs and current and target assignments come
back from __consumer_offsets (ConsumerGroupDescribe shows the same group), members carry on
heartbeating with their epochs (a revocation in flight completes after the restart), what a
heartbeat answer announced just before a kill -9 is there after it, and a member that never
comes back is removed by its session timeout. Raw protocol, as test_groups_kip848.py.
"""
import os
import shutil
import signal
import tempfile
import time
import unittest

import harness
from kafka_wire import compact_string
from test_groups_kip848 import (GROUP_ID_NOT_FOUND, NONE, PARTITIONS, TOPIC, Kip848Client,
                                read_topic_ids)
from test_groups_versions import NO_TAGS, compact_array

COORDINATOR_LOAD_IN_PROGRESS = 14
DELETE_GROUPS = 42
GROUP = "restart-848"


def kill_9(broker):
    os.kill(broker.pid, signal.SIGKILL)
    broker.process.wait()
    broker._reader.join(10)
    broker.process.stderr.close()
    broker.process = None


class ConsumerGroupSurvivesRestarts(unittest.TestCase):
    def setUp(self):
        self.data_dir = tempfile.mkdtemp(prefix="cairn-kip848-restart-")
        harness.write_topics(self.data_dir, {TOPIC: PARTITIONS})
        self.broker = None
        self.client = None

    def tearDown(self):
        if self.client is not None:
            self.client.close()
        if self.broker is not None and self.broker.process is not None:
            self.broker.stop()
        shutil.rmtree(self.data_dir, ignore_errors=True)

    def start(self, *args):
        if self.client is not None:
            self.client.close()
        self.broker = harness.Broker(data_dir=self.data_dir, extra_args=args).start()
        self.client = Kip848Client(self.broker.bootstrap, read_topic_ids(self.data_dir))

    def describe(self):
        """ConsumerGroupDescribe of GROUP once loaded: (summary, {member id: member})."""
        deadline = time.monotonic() + 60
        while True:
            described = self.client.consumer_describe([GROUP])[0]
            if described["error"] != COORDINATOR_LOAD_IN_PROGRESS:
                break
            self.assertLess(time.monotonic(), deadline, "still loading")
            time.sleep(0.1)
        self.assertEqual(described["error"], NONE, described)
        return described, {m["member_id"]: m for m in described["members"]}

    def delete_group(self, group):
        """DeleteGroups v2 of one group: its error."""
        r = self.client.call(DELETE_GROUPS, 2, compact_array([compact_string(group)]) + NO_TAGS)
        r.int32()
        results = r.compact_array(lambda: r.item(group_id="compact_string", error="int16"))
        r.tags()
        return results[0]["error"]

    def beat(self, member, epoch, owned):
        out = self.client.consumer_heartbeat(GROUP, member, epoch, owned=owned)
        self.assertEqual(out["error"], NONE, out)
        return out

    def view(self):
        summary, members = self.describe()
        return ((summary["state"], summary["group_epoch"], summary["assignment_epoch"],
                 summary["assignor"]),
                {m: (x["epoch"], x["assignment"], x["target"], x["topics"], x["instance"])
                 for m, x in members.items()})

    def test_clean_restart_then_kill_9(self):
        self.start()
        a = self.client.join848(GROUP, "member-a", instance="instance-a")
        self.assertEqual((a["error"], a["epoch"]), (NONE, 1))
        b = self.client.join848(GROUP, "member-b")
        self.assertEqual((b["error"], b["epoch"]), (NONE, 2))
        # a is told to give up half of its partitions, and has not yet: a revocation in flight.
        a = self.beat("member-a", 1, {TOPIC: list(range(PARTITIONS))})
        kept = a["assignment"][TOPIC]
        self.assertEqual((a["epoch"], len(kept)), (1, PARTITIONS // 2))
        before = self.view()
        self.assertEqual(before[0], ("Reconciling", 2, 2, "uniform"))
        self.assertEqual(before[1]["member-a"][4], "instance-a")

        self.broker.stop()
        self.start()
        self.assertEqual(self.view(), before)
        # The members carry on with their epochs: a acknowledges, b gets what a gave up.
        a = self.beat("member-a", 1, {TOPIC: kept})
        self.assertEqual(a["epoch"], 2)
        b = self.beat("member-b", 2, {})
        given = b["assignment"][TOPIC]
        self.assertEqual(sorted(kept + given), list(range(PARTITIONS)))
        self.assertEqual(self.describe()[0]["state"], "Stable")

        # A third member; what the answers announced (epoch 3, its partitions once released)
        # is durable: kill -9 right after the last answer.
        c = self.client.join848(GROUP, "member-c")
        self.assertEqual(c["epoch"], 3)
        a = self.beat("member-a", 2, {TOPIC: kept})
        b = self.beat("member-b", 2, {TOPIC: given})
        a = self.beat("member-a", 2, a["assignment"])
        b = self.beat("member-b", 2, b["assignment"])
        c = self.beat("member-c", 3, {})
        self.assertEqual(len(c["assignment"][TOPIC]), 2)
        before = self.view()
        self.assertEqual(before[1]["member-c"][:2], (3, c["assignment"]))
        kill_9(self.broker)

        self.start()
        self.assertEqual(self.view(), before)
        for member, out in (("member-a", a), ("member-b", b), ("member-c", c)):
            again = self.beat(member, out["epoch"], out["assignment"])
            self.assertEqual(again["epoch"], out["epoch"])
        # Fencing still holds after the restart.
        stale = self.client.consumer_heartbeat(GROUP, "member-c", 1)
        self.assertNotEqual(stale["error"], NONE)
        self.broker.check_clean()

    def test_members_that_never_come_back_expire(self):
        self.start()
        self.assertEqual(self.client.join848(GROUP, "member-a")["error"], NONE)
        self.assertEqual(self.client.join848(GROUP, "member-b")["error"], NONE)
        kill_9(self.broker)
        # Restored members get a fresh session: b heartbeats, a does not and goes.
        self.start("--set", "group.consumer.session.timeout.ms=3000")
        _, members = self.describe()
        self.assertEqual(sorted(members), ["member-a", "member-b"])
        epoch = members["member-b"]["epoch"]
        deadline = time.monotonic() + 30
        while "member-a" in self.describe()[1]:
            self.assertLess(time.monotonic(), deadline, "member-a never expired")
            epoch = self.beat("member-b", epoch, None)["epoch"]
            time.sleep(0.5)
        summary, members = self.describe()
        self.assertEqual(sorted(members), ["member-b"])
        # b ends up with every partition at the new epoch.
        out = self.beat("member-b", epoch, {TOPIC: members["member-b"]["assignment"].get(TOPIC, [])})
        out = self.beat("member-b", out["epoch"], out["assignment"])
        self.assertEqual(out["epoch"], summary["group_epoch"])
        self.assertEqual(out["assignment"], {TOPIC: list(range(PARTITIONS))})
        # And the removal is durable too.
        self.broker.stop()
        self.start()
        self.assertEqual(sorted(self.describe()[1]), ["member-b"])

    def test_deleted_group_stays_deleted(self):
        self.start()
        self.assertEqual(self.client.join848(GROUP, "member-a")["error"], NONE)
        self.assertEqual(self.client.join848("kept", "member-k")["error"], NONE)
        left = self.client.consumer_heartbeat(GROUP, "member-a", -1)
        self.assertEqual(left["error"], NONE)
        self.assertEqual(self.describe()[0]["state"], "Empty")
        self.assertEqual(self.delete_group(GROUP), NONE)
        kill_9(self.broker)
        self.start()
        self.assertEqual(self.describe_until_loaded(GROUP)["error"], GROUP_ID_NOT_FOUND)
        self.assertEqual(self.describe_until_loaded("kept")["error"], NONE)
        # A new group of that name starts from epoch 1.
        joined = self.client.join848(GROUP, "member-b")
        self.assertEqual((joined["error"], joined["epoch"]), (NONE, 1))

    def describe_until_loaded(self, group):
        deadline = time.monotonic() + 60
        while True:
            described = self.client.consumer_describe([group])[0]
            if described["error"] != COORDINATOR_LOAD_IN_PROGRESS:
                return described
            self.assertLess(time.monotonic(), deadline, "still loading")
            time.sleep(0.1)


if __name__ == "__main__":
    harness.main()
