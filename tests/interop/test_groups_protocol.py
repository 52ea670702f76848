#!/usr/bin/env python3
"""Consumer-group protocol against the real broker, request by request: every error code a
client state machine depends on, KIP-394 two-step joins, KIP-345 static members, session
expiry on the broker's own timer, commit metadata round trips, and committed offsets that
survive a clean restart and kill -9.

Requests up to the versions kafka-python 2.0.2 knows are built with its protocol structs (an
implementation independent of Cairn's codecs); JoinGroup v4/v5, SyncGroup v3 and Heartbeat v3
(for KIP-394 and KIP-345) are hand-encoded below. Standard library + kafka-python.
"""
import io
import os
import shutil
import signal
import struct
import tempfile
import time
import unittest

from kafka.protocol.admin import (CreateTopicsRequest_v0, DeleteTopicsRequest_v0,
                                  DeleteGroupsRequest_v1, DescribeGroupsRequest_v1,
                                  ListGroupsRequest_v2)
from kafka.protocol.commit import (GroupCoordinatorRequest_v0, OffsetCommitRequest_v0,
                                   OffsetCommitRequest_v2, OffsetFetchRequest_v1,
                                   OffsetFetchRequest_v3)
from kafka.protocol.group import (HeartbeatRequest_v1, JoinGroupRequest_v0, JoinGroupRequest_v2,
                                  LeaveGroupRequest_v1, SyncGroupRequest_v1)

import harness
import kafka_wire

NONE = 0
UNKNOWN_TOPIC_OR_PARTITION = 3
COORDINATOR_LOAD_IN_PROGRESS = 14
ILLEGAL_GENERATION = 22
INCONSISTENT_GROUP_PROTOCOL = 23
UNKNOWN_MEMBER_ID = 25
INVALID_SESSION_TIMEOUT = 26
REBALANCE_IN_PROGRESS = 27
INVALID_REQUEST = 42
NON_EMPTY_GROUP = 68
GROUP_ID_NOT_FOUND = 69
MEMBER_ID_REQUIRED = 79
FENCED_INSTANCE_ID = 82

SESSION_MS = 6000
TOPIC = "orders"
# ConsumerProtocolSubscription v0 for [TOPIC]: version, topics, null user data.
SUBSCRIPTION = (struct.pack(">hih", 0, 1, len(TOPIC)) + TOPIC.encode() + struct.pack(">i", -1))
PROTOCOLS = [("range", SUBSCRIPTION)]


# ---- hand-encoded versions kafka-python 2.0.2 lacks ----------------------------------------

def _string(text):
    data = text.encode()
    return struct.pack(">h", len(data)) + data


def _nullable_string(text):
    return struct.pack(">h", -1) if text is None else _string(text)


def _bytes(data):
    return struct.pack(">i", len(data)) + data


class _Decoder:
    def __init__(self, data):
        self.stream = io.BytesIO(data)

    def unpack(self, fmt):
        size = struct.calcsize(fmt)
        return struct.unpack(fmt, self.stream.read(size))[0]

    def string(self):
        size = self.unpack(">h")
        return None if size < 0 else self.stream.read(size).decode()

    def blob(self):
        size = self.unpack(">i")
        return None if size < 0 else self.stream.read(size)


def raw_request(conn, api_key, version, correlation_id, body):
    conn.send(kafka_wire.framed(kafka_wire.raw_header_v1(api_key, version, correlation_id) +
                                body))
    payload = conn.read_frame()
    assert payload is not None, "broker closed the connection"
    decoder = _Decoder(payload)
    assert decoder.unpack(">i") == correlation_id
    return decoder


def join_v5(conn, group, member_id="", instance_id=None, version=5, session_ms=SESSION_MS):
    """JoinGroup v4/v5: returns (error, generation, protocol, leader, member_id, members)."""
    body = (_string(group) + struct.pack(">ii", session_ms, session_ms) + _string(member_id) +
            (_nullable_string(instance_id) if version >= 5 else b"") + _string("consumer") +
            struct.pack(">i", 1) + _string("range") + _bytes(SUBSCRIPTION))
    d = raw_request(conn, 11, version, 501, body)
    d.unpack(">i")  # throttle
    error, generation = d.unpack(">h"), d.unpack(">i")
    protocol, leader, member = d.string(), d.string(), d.string()
    members = []
    for _ in range(d.unpack(">i")):
        members.append((d.string(), d.string() if version >= 5 else None, d.blob()))
    return error, generation, protocol, leader, member, members


def sync_v3(conn, group, generation, member_id, instance_id, assignments=()):
    body = (_string(group) + struct.pack(">i", generation) + _string(member_id) +
            _nullable_string(instance_id) + struct.pack(">i", len(assignments)) +
            b"".join(_string(m) + _bytes(a) for m, a in assignments))
    d = raw_request(conn, 14, 3, 502, body)
    d.unpack(">i")
    return d.unpack(">h"), d.blob()


def heartbeat_v3(conn, group, generation, member_id, instance_id):
    body = (_string(group) + struct.pack(">i", generation) + _string(member_id) +
            _nullable_string(instance_id))
    d = raw_request(conn, 12, 3, 503, body)
    d.unpack(">i")
    return d.unpack(">h")


# ---- the tests ------------------------------------------------------------------------------

class GroupProtocol(harness.BrokerTestCase):
    broker_topics = {TOPIC: 4}

    def setUp(self):
        self.conn = kafka_wire.Connection(self.broker.bootstrap)
        self.correlation = 0

    def tearDown(self):
        self.conn.close()
        self.assertBrokerHealthy()

    def call(self, request, conn=None):
        self.correlation += 1
        return (conn or self.conn).request(request, self.correlation)

    def group(self, name):
        return "%s-%s" % (name, self._testMethodName)

    def join(self, group, member_id="", conn=None, session_ms=SESSION_MS, protocols=PROTOCOLS,
             protocol_type="consumer"):
        return self.call(JoinGroupRequest_v2(group, session_ms, session_ms, member_id,
                                             protocol_type, protocols), conn)

    def sync(self, group, generation, member_id, assignments=(), conn=None):
        return self.call(SyncGroupRequest_v1(group, generation, member_id, list(assignments)),
                         conn)

    def heartbeat(self, group, generation, member_id):
        return self.call(HeartbeatRequest_v1(group, generation, member_id)).error_code

    def describe(self, group):
        return self.call(DescribeGroupsRequest_v1([group])).groups[0]

    def stable_member(self, group):
        joined = self.join(group)
        self.assertEqual(joined.error_code, NONE)
        synced = self.sync(group, joined.generation_id, joined.member_id,
                           [(joined.member_id, b"assignment")])
        self.assertEqual(synced.error_code, NONE)
        return joined

    def test_find_coordinator_names_this_broker(self):
        response = self.call(GroupCoordinatorRequest_v0("g"))
        self.assertEqual((response.error_code, response.host, response.port),
                         (NONE, self.broker.host, self.broker.port))
        # v1 by hand: kafka-python 2.0.2's v1 response schema lacks throttle_time_ms.
        for key, key_type, expected in (("g", 0, NONE), ("txn", 1, NONE),
                                        ("g", 7, INVALID_REQUEST)):
            d = raw_request(self.conn, 10, 1, 504, _string(key) + struct.pack(">b", key_type))
            d.unpack(">i")  # throttle
            error, _message, node = d.unpack(">h"), d.string(), d.unpack(">i")
            host, port = d.string(), d.unpack(">i")
            self.assertEqual(error, expected)
            if expected == NONE:
                self.assertEqual((host, port), (self.broker.host, self.broker.port))

    def test_single_member_lifecycle(self):
        group = self.group("life")
        joined = self.call(JoinGroupRequest_v0(group, SESSION_MS, "", "consumer", PROTOCOLS))
        self.assertEqual(joined.error_code, NONE)
        self.assertEqual(joined.generation_id, 1)
        self.assertEqual(joined.leader_id, joined.member_id)
        self.assertEqual(joined.group_protocol, "range")
        self.assertEqual([m[0] for m in joined.members], [joined.member_id])
        self.assertEqual(joined.members[0][1], SUBSCRIPTION)
        synced = self.sync(group, 1, joined.member_id, [(joined.member_id, b"all of it")])
        self.assertEqual((synced.error_code, synced.member_assignment), (NONE, b"all of it"))
        self.assertEqual(self.heartbeat(group, 1, joined.member_id), NONE)

        described = self.describe(group)
        self.assertEqual((described[0], described[1], described[2], described[3], described[4]),
                         (NONE, group, "Stable", "consumer", "range"))
        self.assertEqual(described[5][0][0], joined.member_id)
        self.assertEqual(described[5][0][4], b"all of it")
        listed = {g[0]: g[1] for g in self.call(ListGroupsRequest_v2()).groups}
        self.assertEqual(listed.get(group), "consumer")

        left = self.call(LeaveGroupRequest_v1(group, joined.member_id))
        self.assertEqual(left.error_code, NONE)
        self.assertEqual(self.describe(group)[2], "Empty")
        self.assertEqual(self.heartbeat(group, 1, joined.member_id), UNKNOWN_MEMBER_ID)

    def test_membership_error_codes(self):
        group = self.group("errors")
        self.assertEqual(self.join(group, session_ms=10).error_code, INVALID_SESSION_TIMEOUT)
        self.assertEqual(self.join(group, member_id="nobody").error_code, UNKNOWN_MEMBER_ID)
        a = self.stable_member(group)
        self.assertEqual(self.heartbeat(group, a.generation_id + 5, a.member_id),
                         ILLEGAL_GENERATION)
        self.assertEqual(self.heartbeat(group, a.generation_id, "nobody"), UNKNOWN_MEMBER_ID)
        self.assertEqual(self.join(group, protocol_type="connect").error_code,
                         INCONSISTENT_GROUP_PROTOCOL)
        self.assertEqual(self.join(group, protocols=[("roundrobin", b"")]).error_code,
                         INCONSISTENT_GROUP_PROTOCOL)
        # A second member starts a rebalance: its JoinGroup waits, A is told to rejoin.
        other = kafka_wire.Connection(self.broker.bootstrap)
        try:
            other.send(kafka_wire.encode_request(
                JoinGroupRequest_v2(group, SESSION_MS, SESSION_MS, "", "consumer", PROTOCOLS),
                correlation_id=77))
            deadline = time.monotonic() + 30
            while self.heartbeat(group, a.generation_id, a.member_id) != REBALANCE_IN_PROGRESS:
                self.assertLess(time.monotonic(), deadline, "no rebalance started")
                time.sleep(0.05)
            self.assertEqual(self.sync(group, a.generation_id, a.member_id).error_code,
                             REBALANCE_IN_PROGRESS)
            self.assertEqual(self.call(DeleteGroupsRequest_v1([group])).results[0][1],
                             NON_EMPTY_GROUP)
            a2 = self.join(group, member_id=a.member_id)
            self.assertEqual(a2.error_code, NONE)
            self.assertEqual(a2.generation_id, a.generation_id + 1)
            self.assertEqual(len(a2.members), 2)
            b = kafka_wire.decode_response(
                JoinGroupRequest_v2(group, 0, 0, "", "", []), other.read_frame(), 77)
            self.assertEqual(b.error_code, NONE)
            self.assertEqual(b.generation_id, a2.generation_id)
            self.assertEqual(b.members, [])
        finally:
            other.close()
        self.assertEqual(self.call(DeleteGroupsRequest_v1(["no-such-group"])).results[0][1],
                         GROUP_ID_NOT_FOUND)

    def test_member_id_required_then_join(self):
        group = self.group("kip394")
        error, _, _, _, member_id, _ = join_v5(self.conn, group, version=4)
        self.assertEqual(error, MEMBER_ID_REQUIRED)
        self.assertTrue(member_id)
        error, generation, protocol, leader, member, members = join_v5(
            self.conn, group, member_id=member_id, version=4)
        self.assertEqual((error, generation, protocol, leader, member),
                         (NONE, 1, "range", member_id, member_id))
        self.assertEqual(len(members), 1)

    def test_static_member_restarts_without_rebalance(self):
        group = self.group("static")
        a = join_v5(self.conn, group, instance_id="instance-a")
        self.assertEqual(a[0], NONE)
        a_id = a[4]
        self.assertEqual(sync_v3(self.conn, group, a[1], a_id, "instance-a",
                                 [(a_id, b"partitions of a")]), (NONE, b"partitions of a"))
        generation = a[1]
        # The process restarts: same instance id, no member id.
        again = join_v5(self.conn, group, instance_id="instance-a")
        self.assertEqual(again[0], NONE)
        self.assertEqual(again[1], generation, "no rebalance: the generation stays")
        self.assertNotEqual(again[4], a_id)
        self.assertEqual(sync_v3(self.conn, group, generation, again[4], "instance-a"),
                         (NONE, b"partitions of a"))
        self.assertEqual(heartbeat_v3(self.conn, group, generation, again[4], "instance-a"),
                         NONE)
        self.assertEqual(heartbeat_v3(self.conn, group, generation, a_id, "instance-a"),
                         FENCED_INSTANCE_ID)
        self.assertEqual(self.describe(group)[2], "Stable")

    def test_silent_member_expires_on_broker_timer(self):
        group = self.group("silent")
        self.stable_member(group)
        # Nothing talks to the group from now on: only the broker's timer can end the session.
        deadline = time.monotonic() + SESSION_MS / 1000 + 20
        state = None
        while time.monotonic() < deadline:
            time.sleep(0.5)
            state = self.describe(group)[2]
            if state == "Empty":
                break
        self.assertEqual(state, "Empty")

    def test_commits_from_outside_and_metadata_round_trip(self):
        group = self.group("commits")
        committed = self.call(OffsetCommitRequest_v2(
            group, -1, "", -1, [(TOPIC, [(0, 42, "checkpoint-a"), (3, 7, "")]),
                                ("no-such-topic", [(0, 1, "")])]))
        errors = {(t, p): e for t, parts in committed.topics for p, e in parts}
        self.assertEqual(errors, {(TOPIC, 0): NONE, (TOPIC, 3): NONE,
                                  ("no-such-topic", 0): UNKNOWN_TOPIC_OR_PARTITION})
        fetched = self.call(OffsetFetchRequest_v1(group, [(TOPIC, [0, 1, 3])]))
        got = {p: (o, m, e) for t, parts in fetched.topics for p, o, m, e in parts}
        self.assertEqual(got, {0: (42, "checkpoint-a", NONE), 1: (-1, "", NONE),
                               3: (7, "", NONE)})
        everything = self.call(OffsetFetchRequest_v3(group, None))
        self.assertEqual(everything.error_code, NONE)
        self.assertEqual(sorted(p for t, parts in everything.topics for p, *_ in parts), [0, 3])
        # v0 commits carry no generation: accepted for a group without members.
        v0 = self.call(OffsetCommitRequest_v0(group, [(TOPIC, [(1, 5, "v0")])]))
        self.assertEqual(v0.topics[0][1][0][1], NONE)
        # Once the group has a member, commits from outside are refused.
        member = self.stable_member(group)
        refused = self.call(OffsetCommitRequest_v2(group, -1, "", -1, [(TOPIC, [(0, 1, "")])]))
        self.assertEqual(refused.topics[0][1][0][1], UNKNOWN_MEMBER_ID)
        stale = self.call(OffsetCommitRequest_v2(group, member.generation_id + 1,
                                                 member.member_id, -1, [(TOPIC, [(0, 1, "")])]))
        self.assertEqual(stale.topics[0][1][0][1], ILLEGAL_GENERATION)
        ok = self.call(OffsetCommitRequest_v2(group, member.generation_id, member.member_id, -1,
                                              [(TOPIC, [(0, 43, "by member")])]))
        self.assertEqual(ok.topics[0][1][0][1], NONE)


    def test_deleted_topic_offsets_do_not_apply_to_a_new_topic_of_that_name(self):
        group = self.group("recreated")
        topic = "recreated-topic"
        create = CreateTopicsRequest_v0([(topic, 2, 1, [], [])], 10000)
        self.assertEqual(self.call(create).topic_errors[0][1], NONE)
        committed = self.call(OffsetCommitRequest_v2(group, -1, "", -1,
                                                     [(topic, [(0, 10, "old")])]))
        self.assertEqual(committed.topics[0][1][0][1], NONE)
        deleted = self.call(DeleteTopicsRequest_v0([topic], 10000))
        self.assertEqual(deleted.topic_error_codes[0][1], NONE)
        self.assertEqual(self.call(create).topic_errors[0][1], NONE)
        fetched = self.call(OffsetFetchRequest_v1(group, [(topic, [0])]))
        got = {p: (o, m, e) for t, parts in fetched.topics for p, o, m, e in parts}
        self.assertEqual(got, {0: (-1, "", NONE)})

def fetch_when_loaded(bootstrap, group, partitions, timeout_s=60):
    """OffsetFetch v3 of `partitions` of TOPIC, retried while the broker is loading."""
    deadline = time.monotonic() + timeout_s
    while True:
        with kafka_wire.Connection(bootstrap) as conn:
            response = conn.request(OffsetFetchRequest_v3(group, [(TOPIC, partitions)]), 1)
        if response.error_code != COORDINATOR_LOAD_IN_PROGRESS:
            break
        assert time.monotonic() < deadline, "still loading after %d s" % timeout_s
        time.sleep(0.1)
    assert response.error_code == NONE, response.error_code
    return {p: (o, m) for _, parts in response.topics for p, o, m, _ in parts}


class CommittedOffsetsSurviveRestarts(unittest.TestCase):
    def test_clean_restart_and_kill_9(self):
        data_dir = tempfile.mkdtemp(prefix="cairn-groups-restart-")
        try:
            harness.write_topics(data_dir, {TOPIC: 4})
            broker = harness.Broker(data_dir=data_dir).start()
            with kafka_wire.Connection(broker.bootstrap) as conn:
                for group, offset in (("restart-a", 100), ("restart-b", 200)):
                    response = conn.request(OffsetCommitRequest_v2(
                        group, -1, "", -1, [(TOPIC, [(p, offset + p, "m%d" % p)
                                                     for p in range(4)])]), 1)
                    self.assertTrue(all(e == NONE for _, parts in response.topics
                                        for _, e in parts))
            broker.stop()

            broker = harness.Broker(data_dir=data_dir).start()
            self.assertEqual(fetch_when_loaded(broker.bootstrap, "restart-a", [0, 3]),
                             {0: (100, "m0"), 3: (103, "m3")})
            with kafka_wire.Connection(broker.bootstrap) as conn:
                conn.request(OffsetCommitRequest_v2("restart-b", -1, "", -1,
                                                    [(TOPIC, [(1, 999, "after restart")])]), 1)
            # kill -9: no clean shutdown at all. Everything acknowledged must be there.
            os.kill(broker.pid, signal.SIGKILL)
            broker.process.wait()
            broker._reader.join(10)
            broker.process.stderr.close()
            broker.process = None

            broker = harness.Broker(data_dir=data_dir).start()
            self.assertEqual(fetch_when_loaded(broker.bootstrap, "restart-b", [0, 1]),
                             {0: (200, "m0"), 1: (999, "after restart")})
            self.assertEqual(fetch_when_loaded(broker.bootstrap, "restart-a", [2]),
                             {2: (102, "m2")})
            broker.stop()
        finally:
            shutil.rmtree(data_dir, ignore_errors=True)


class ShutdownWithParkedJoin(unittest.TestCase):
    def test_parked_join_group_does_not_hold_up_shutdown(self):
        # Regression: a JoinGroup waiting for a rebalance kept its connection's shard busy
        # until the stop grace period ran out and the shard's work was abandoned.
        broker = harness.Broker(topics={TOPIC: 1}).start()
        first = kafka_wire.Connection(broker.bootstrap)
        second = kafka_wire.Connection(broker.bootstrap)
        try:
            joined = first.request(JoinGroupRequest_v2("parked", SESSION_MS, 30000, "",
                                                       "consumer", PROTOCOLS), 1)
            first.request(SyncGroupRequest_v1("parked", joined.generation_id, joined.member_id,
                                              []), 2)
            # The second member's JoinGroup waits for the first to rejoin (up to 30 s).
            second.send(kafka_wire.encode_request(JoinGroupRequest_v2(
                "parked", SESSION_MS, 30000, "", "consumer", PROTOCOLS), 3))
            deadline = time.monotonic() + 30
            while self.describe_state(broker, "parked") != "PreparingRebalance":
                self.assertLess(time.monotonic(), deadline, "the second JoinGroup never parked")
                time.sleep(0.05)
            log = broker.stop()
            self.assertNotIn("abandoning their work", log)
        finally:
            first.close()
            second.close()

    def describe_state(self, broker, group):
        with kafka_wire.Connection(broker.bootstrap) as conn:
            return conn.request(DescribeGroupsRequest_v1([group]), 1).groups[0][2]


if __name__ == "__main__":
    harness.main()
