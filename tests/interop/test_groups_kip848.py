#!/usr/bin/python3
"""The consumer group protocol (KIP-848) in raw protocol: ConsumerGroupHeartbeat v0 and
ConsumerGroupDescribe v0, hand-encoded from Kafka's message specs (reusing the flexible-version
helpers of test_groups_versions.py), against the real broker: two members split the
partitions, a third one only gets partitions after their owners revoked them, a leave hands
them back, stale epochs are fenced, classic and consumer groups do not mix (an empty classic
group converts), OffsetCommit v9 takes the member epoch as its generation, and ListGroups /
DescribeGroups show the group.
"""
import json
import os
import uuid

import cli_support
import harness
import kafka_wire as kw
from kafka_wire import compact_string
from test_groups_versions import (NO_TAGS, Client, compact_array, i32, nullable)

CONSUMER_GROUP_HEARTBEAT, CONSUMER_GROUP_DESCRIBE = 68, 69

NONE = 0
INCONSISTENT_GROUP_PROTOCOL = 23
UNKNOWN_MEMBER_ID = 25
GROUP_ID_NOT_FOUND = 69
FENCED_MEMBER_EPOCH = 110
UNSUPPORTED_ASSIGNOR = 112
STALE_MEMBER_EPOCH = 113

TOPIC = "kip848"
PARTITIONS = 6


class Kip848Client(Client):
    def __init__(self, bootstrap, topic_ids):
        super().__init__(bootstrap)
        self.topic_ids = topic_ids  # name -> 16 bytes
        self.topic_names = {v: k for k, v in topic_ids.items()}

    def owned(self, partitions):
        """{topic: [partitions]} -> the TopicPartitions array (None stays null)."""
        if partitions is None:
            return compact_array(None)
        return compact_array([self.topic_ids[t] + compact_array([i32(p) for p in ps]) + NO_TAGS
                              for t, ps in sorted(partitions.items())])

    def topic_partitions(self, r):
        topic_id = r.take(16)
        partitions = r.compact_array(r.int32)
        r.tags()
        return self.topic_names[topic_id], partitions

    # ConsumerGroupHeartbeat v0
    def consumer_heartbeat(self, group, member, epoch, instance=None, rebalance_timeout=-1,
                           topics=None, assignor=None, owned=None):
        body = (compact_string(group) + compact_string(member) + i32(epoch) + nullable(instance) +
                nullable(None) + i32(rebalance_timeout) +
                compact_array(None if topics is None else [compact_string(t) for t in topics]) +
                nullable(assignor) + self.owned(owned) + NO_TAGS)
        r = self.call(CONSUMER_GROUP_HEARTBEAT, 0, body)
        out = {"throttle": r.int32(), "error": r.int16(), "message": r.compact_string(),
               "member_id": r.compact_string(), "epoch": r.int32(), "interval": r.int32()}
        out["assignment"] = None
        if r.int8() >= 0:
            out["assignment"] = dict(r.compact_array(lambda: self.topic_partitions(r)))
            r.tags()
        r.tags()
        assert r.done()
        return out

    def join848(self, group, member, instance=None, assignor=None):
        return self.consumer_heartbeat(group, member, 0, instance=instance,
                                       rebalance_timeout=30000, topics=[TOPIC],
                                       assignor=assignor, owned={})

    # ConsumerGroupDescribe v0
    def consumer_describe(self, groups):
        body = compact_array([compact_string(g) for g in groups]) + b"\x00" + NO_TAGS
        r = self.call(CONSUMER_GROUP_DESCRIBE, 0, body)
        r.int32()

        def partitions():
            r.take(16)
            out = (r.compact_string(), r.compact_array(r.int32))
            r.tags()
            return out

        def assignment():
            out = dict(r.compact_array(partitions))
            r.tags()
            return out

        def member():
            return r.item(member_id="compact_string", instance="compact_string",
                          rack="compact_string", epoch="int32", client_id="compact_string",
                          client_host="compact_string",
                          topics=lambda: r.compact_array(r.compact_string),
                          regex="compact_string", assignment=assignment, target=assignment)

        out = r.compact_array(lambda: r.item(
            error="int16", message="compact_string", group_id="compact_string",
            state="compact_string", group_epoch="int32", assignment_epoch="int32",
            assignor="compact_string", members=lambda: r.compact_array(member),
            operations="int32"))
        r.tags()
        assert r.done()
        return out


def read_topic_ids(data_dir):
    with open(os.path.join(data_dir, "meta", "topics.json")) as f:
        entries = json.load(f)["topics"]
    return {e["name"]: uuid.UUID(e["topic_id"]).bytes for e in entries}


class Kip848(harness.BrokerTestCase):
    broker_topics = {TOPIC: PARTITIONS}

    def setUp(self):
        self.client = Kip848Client(self.broker.bootstrap, read_topic_ids(self.broker.data_dir))

    def tearDown(self):
        self.client.close()
        self.assertBrokerHealthy()

    def beat(self, group, member, epoch, owned):
        out = self.client.consumer_heartbeat(group, member, epoch, owned=owned)
        self.assertEqual(out["error"], NONE, out)
        return out

    def test_api_versions_advertise_the_new_apis(self):
        with kw.Connection(self.broker.bootstrap) as conn:
            conn.send(kw.api_versions_v3_request(1))
            _, error, apis = kw.decode_api_versions_v3(conn.read_frame())
        self.assertEqual(error, NONE)
        self.assertEqual(apis[CONSUMER_GROUP_HEARTBEAT], (0, 0))
        self.assertEqual(apis[CONSUMER_GROUP_DESCRIBE], (0, 0))

    def test_split_revoke_then_assign_leave_and_fencing(self):
        group = "split"
        a = self.client.join848(group, "member-a")
        self.assertEqual((a["error"], a["member_id"], a["epoch"]), (NONE, "member-a", 1))
        self.assertEqual(a["interval"], 5000)
        self.assertEqual(a["assignment"], {TOPIC: list(range(PARTITIONS))})

        # b joins: it gets nothing until a has revoked half of its partitions.
        b = self.client.join848(group, "member-b")
        self.assertEqual((b["error"], b["epoch"], b["assignment"]), (NONE, 2, {}))
        a = self.beat(group, "member-a", 1, {TOPIC: list(range(PARTITIONS))})
        self.assertEqual(a["epoch"], 1)
        kept = a["assignment"][TOPIC]
        self.assertEqual(len(kept), 3)
        b = self.beat(group, "member-b", 2, {})
        self.assertEqual(b["assignment"], {})
        a = self.beat(group, "member-a", 1, {TOPIC: kept})  # revocation acknowledged
        self.assertEqual(a["epoch"], 2)
        b = self.beat(group, "member-b", 2, {})
        given = b["assignment"][TOPIC]
        self.assertEqual(sorted(kept + given), list(range(PARTITIONS)))

        described = self.client.consumer_describe([group])[0]
        self.assertEqual((described["error"], described["state"], described["group_epoch"],
                          described["assignment_epoch"], described["assignor"]),
                         (NONE, "Stable", 2, 2, "uniform"))
        members = {m["member_id"]: m for m in described["members"]}
        self.assertEqual(members["member-a"]["assignment"], {TOPIC: kept})
        self.assertEqual(members["member-b"]["target"], {TOPIC: given})
        self.assertEqual(members["member-b"]["topics"], [TOPIC])

        # A third member: each of a and b gives up one partition first.
        c = self.client.join848(group, "member-c")
        self.assertEqual((c["epoch"], c["assignment"]), (3, {}))
        a = self.beat(group, "member-a", 2, {TOPIC: kept})
        b = self.beat(group, "member-b", 2, {TOPIC: given})
        self.assertEqual((a["epoch"], b["epoch"]), (2, 2))
        self.assertEqual(len(a["assignment"][TOPIC]) + len(b["assignment"][TOPIC]), 4)
        self.assertEqual(self.client.consumer_describe([group])[0]["state"], "Reconciling")
        a = self.beat(group, "member-a", 2, a["assignment"])
        b = self.beat(group, "member-b", 2, b["assignment"])
        c = self.beat(group, "member-c", 3, {})
        self.assertEqual(len(c["assignment"][TOPIC]), 2)
        self.assertEqual(sorted(a["assignment"][TOPIC] + b["assignment"][TOPIC] +
                                c["assignment"][TOPIC]), list(range(PARTITIONS)))

        # Fencing: an epoch from the future, or one that is too old.
        fenced = self.client.consumer_heartbeat(group, "member-c", 9)
        self.assertEqual(fenced["error"], FENCED_MEMBER_EPOCH)
        fenced = self.client.consumer_heartbeat(group, "member-c", 1)
        self.assertEqual(fenced["error"], FENCED_MEMBER_EPOCH)
        unknown = self.client.consumer_heartbeat(group, "member-z", 3)
        self.assertEqual(unknown["error"], UNKNOWN_MEMBER_ID)

        # OffsetCommit v9: the member epoch is the generation.
        c_epoch = c["epoch"]
        partition = c["assignment"][TOPIC][0]
        errors = self.client.commit(group, c_epoch, "member-c", {(TOPIC, partition): (7, "m")})
        self.assertEqual(errors, {(TOPIC, partition): NONE})
        errors = self.client.commit(group, c_epoch - 1, "member-c", {(TOPIC, partition): (8, "")})
        self.assertEqual(errors, {(TOPIC, partition): STALE_MEMBER_EPOCH})
        fetched = self.client.fetch_offsets(8, [(group, {TOPIC: [partition]})])
        self.assertEqual(fetched[0]["topics"][0]["partitions"][0]["offset"], 7)

        # c leaves: its partitions go back to a and b.
        left = self.client.consumer_heartbeat(group, "member-c", -1)
        self.assertEqual((left["error"], left["epoch"]), (NONE, -1))
        a = self.beat(group, "member-a", a["epoch"], a["assignment"])
        b = self.beat(group, "member-b", b["epoch"], b["assignment"])
        self.assertEqual(len(a["assignment"][TOPIC]) + len(b["assignment"][TOPIC]), PARTITIONS)

    def test_errors_and_assignor_choice(self):
        bad = self.client.join848("errors", "m", assignor="sticky")
        self.assertEqual(bad["error"], UNSUPPORTED_ASSIGNOR)
        ranged = self.client.join848("errors", "m", assignor="range")
        self.assertEqual(ranged["error"], NONE)
        self.assertEqual(self.client.consumer_describe(["errors"])[0]["assignor"], "range")
        missing = self.client.consumer_describe(["never-seen"])[0]
        self.assertEqual(missing["error"], GROUP_ID_NOT_FOUND)
        # The broker names a member that joins without an id (ConsumerGroupHeartbeat v0).
        named = self.client.join848("errors", "")
        self.assertEqual(named["error"], NONE)
        self.assertTrue(named["member_id"])

    def test_classic_and_consumer_groups(self):
        # A classic group with a member: a consumer-protocol join is refused.
        first = self.client.join("mixed", "", [("range", b"\x00\x01sub")])
        joined = self.client.join("mixed", first["member_id"], [("range", b"\x00\x01sub")])
        self.assertEqual(joined["error"], NONE)
        refused = self.client.join848("mixed", "new-member")
        self.assertEqual(refused["error"], GROUP_ID_NOT_FOUND)
        self.client.leave("mixed", [(joined["member_id"], None, None)])

        # Now empty (with a committed offset): the first new-protocol member converts it.
        errors = self.client.commit("mixed", -1, "", {(TOPIC, 0): (11, "")})
        self.assertEqual(errors, {(TOPIC, 0): NONE})
        converted = self.client.join848("mixed", "new-member")
        self.assertEqual(converted["error"], NONE)
        fetched = self.client.fetch_offsets(8, [("mixed", {TOPIC: [0]})])
        self.assertEqual(fetched[0]["topics"][0]["partitions"][0]["offset"], 11)

        # A classic JoinGroup to a consumer group with members is inconsistent.
        classic = self.client.join("mixed", "", [("range", b"\x00\x01sub")])
        self.assertEqual(classic["error"], INCONSISTENT_GROUP_PROTOCOL)

        listed = self.client.list_groups(types=["consumer"])
        self.assertIn(("mixed", "consumer", "consumer", "Stable"),
                      [(g["group_id"], g["protocol_type"], g["type"], g["state"])
                       for g in listed["groups"]])
        described = self.client.describe(["mixed"])[0]
        self.assertEqual((described["state"], described["protocol_type"],
                          described["protocol_data"]), ("Stable", "consumer", "uniform"))
        self.assertEqual([m["member_id"] for m in described["members"]], ["new-member"])

        # `cairn group describe` (librdkafka's DescribeGroups) shows the member and its
        # partitions.
        shown = cli_support.run_cairn(["group", "describe", "mixed"],
                                      brokers=self.broker.bootstrap, check=True)
        text = shown.stdout.decode()
        self.assertIn("new-member", text)
        self.assertIn("Stable", text)
        self.assertIn(TOPIC, text)


if __name__ == "__main__":
    harness.main()
