#!/usr/bin/python3
"""OffsetCommit and OffsetFetch against a consumer group of the KIP-848 protocol, as Kafka 4.0
checks them (ConsumerGroup.validateOffsetCommit / validateOffsetFetch): a member must commit
with OffsetCommit v9+ (UNSUPPORTED_VERSION below), with its current member epoch
(STALE_MEMBER_EPOCH) and as a member (UNKNOWN_MEMBER_ID); a commit with epoch -1 and no member
id is accepted only while the group has no members. OffsetFetch v9 naming a member is checked
the same way; without one (null, -1: admin tools) it is not. And group.consumer.assignors
limits the server assignors members may ask for. Raw protocol.
"""
import shutil

import harness
from test_groups_kip848 import (NONE, STALE_MEMBER_EPOCH, TOPIC, UNKNOWN_MEMBER_ID,
                                UNSUPPORTED_ASSIGNOR, Kip848Client, read_topic_ids)

UNSUPPORTED_VERSION = 35
GROUP = "offsets-848"


class Kip848Offsets(harness.BrokerTestCase):
    broker_topics = {TOPIC: 2}

    def setUp(self):
        self.client = Kip848Client(self.broker.bootstrap, read_topic_ids(self.broker.data_dir))

    def tearDown(self):
        self.client.close()
        self.assertBrokerHealthy()

    def commit(self, epoch, member, offset, version=9):
        errors = self.client.commit(GROUP, epoch, member, {(TOPIC, 0): (offset, "")},
                                    version=version)
        return errors[(TOPIC, 0)]

    def fetch(self, member, epoch, version=9):
        """(group error, committed offset of partition 0 or None)."""
        group = self.client.fetch_offsets(version, [(GROUP, {TOPIC: [0]})], member=member,
                                          epoch=epoch)[0]
        if group["error"] != NONE:
            return group["error"], None
        return NONE, group["topics"][0]["partitions"][0]["offset"]

    def test_commit_and_fetch_checks(self):
        joined = self.client.join848(GROUP, "member-a")
        self.assertEqual((joined["error"], joined["epoch"]), (NONE, 1))

        # OffsetCommit: the member's epoch, with v9.
        self.assertEqual(self.commit(1, "member-a", 10), NONE)
        self.assertEqual(self.commit(1, "member-a", 11, version=8), UNSUPPORTED_VERSION)
        self.assertEqual(self.commit(0, "member-a", 12), STALE_MEMBER_EPOCH)
        self.assertEqual(self.commit(2, "member-a", 12), STALE_MEMBER_EPOCH)
        # Kafka checks membership before the version.
        self.assertEqual(self.commit(1, "member-x", 13, version=8), UNKNOWN_MEMBER_ID)
        self.assertEqual(self.commit(1, "member-x", 13), UNKNOWN_MEMBER_ID)
        # From outside the group (admin tools) while it has members.
        self.assertEqual(self.commit(-1, "", 14), UNKNOWN_MEMBER_ID)
        self.assertEqual(self.commit(-1, "", 14, version=8), UNKNOWN_MEMBER_ID)

        # OffsetFetch v9: checked when it names a member.
        self.assertEqual(self.fetch("member-a", 1), (NONE, 10))
        self.assertEqual(self.fetch("member-a", 3), (STALE_MEMBER_EPOCH, None))
        self.assertEqual(self.fetch("member-x", 1), (UNKNOWN_MEMBER_ID, None))
        self.assertEqual(self.fetch("", 1), (UNKNOWN_MEMBER_ID, None))
        self.assertEqual(self.fetch(None, -1), (NONE, 10))
        self.assertEqual(self.fetch(None, -1, version=8), (NONE, 10))

        # Once the group is empty, commits from outside it are accepted, at any version.
        left = self.client.consumer_heartbeat(GROUP, "member-a", -1)
        self.assertEqual(left["error"], NONE)
        self.assertEqual(self.commit(-1, "", 20), NONE)
        self.assertEqual(self.commit(-1, "", 21, version=8), NONE)
        self.assertEqual(self.fetch(None, -1), (NONE, 21))
        # A member that left is unknown to both.
        self.assertEqual(self.commit(1, "member-a", 22), UNKNOWN_MEMBER_ID)
        self.assertEqual(self.fetch("member-a", 1), (UNKNOWN_MEMBER_ID, None))


class ConfiguredAssignors(harness.BrokerTestCase):
    """group.consumer.assignors: only the listed assignors may be asked for; the first one is
    the default."""
    broker_topics = {TOPIC: 2}
    broker_args = ("--set", "group.consumer.assignors=range")

    def test_only_configured_assignors(self):
        client = Kip848Client(self.broker.bootstrap, read_topic_ids(self.broker.data_dir))
        try:
            refused = client.join848("assignors", "member-a", assignor="uniform")
            self.assertEqual(refused["error"], UNSUPPORTED_ASSIGNOR)
            joined = client.join848("assignors", "member-a")
            self.assertEqual(joined["error"], NONE)
            self.assertEqual(client.consumer_describe(["assignors"])[0]["assignor"], "range")
        finally:
            client.close()
        self.assertBrokerHealthy()

    def test_an_unknown_assignor_is_refused_at_start(self):
        broker = harness.Broker(extra_args=("--set", "group.consumer.assignors=uniform,sticky"))
        try:
            with self.assertRaises(harness.BrokerFailure) as refused:
                broker.start()
            self.assertIn("group.consumer.assignors", str(refused.exception))
        finally:
            if broker.process is not None:
                broker.process.stderr.close()
            shutil.rmtree(broker.data_dir, ignore_errors=True)


if __name__ == "__main__":
    harness.main()
