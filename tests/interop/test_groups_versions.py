#!/usr/bin/python3
"""The consumer-group APIs at Kafka 3.9's versions, which the clients installed here do not
send: FindCoordinator v4/v6 (batched keys, KIP-699), OffsetFetch v8/v9 (batched groups,
KIP-709), OffsetCommit v9, JoinGroup v9 (protocol type in the answer, reason, skip_assignment:
KIP-559/800/814), SyncGroup v5 (protocol type and name checked, KIP-559), Heartbeat v4,
LeaveGroup v5 (per-member reason, KIP-800), ListGroups v5 (states and types filters,
KIP-518/848) and DescribeGroups v5. Every request is hand-encoded here from Kafka's message
specs (flexible versions: compact strings and arrays, tagged fields), independently of Cairn's
generated codecs, and every answer is decoded to its last byte.
"""
import socket
import struct
import time

import harness
import kafka_wire as kw
from kafka_wire import compact_string, uvarint

OFFSET_COMMIT, OFFSET_FETCH, FIND_COORDINATOR, JOIN_GROUP = 8, 9, 10, 11
HEARTBEAT, LEAVE_GROUP, SYNC_GROUP, DESCRIBE_GROUPS, LIST_GROUPS = 12, 13, 14, 15, 16

NONE = 0
ILLEGAL_GENERATION = 22
INCONSISTENT_GROUP_PROTOCOL = 23
INVALID_REQUEST = 42
MEMBER_ID_REQUIRED = 79

TOPIC = "versions"
NO_TAGS = b"\x00"


# ----- encoding -----------------------------------------------------------------------------

def nullable(text):
    return b"\x00" if text is None else compact_string(text)


def compact_bytes(data):
    return uvarint(len(data) + 1) + data


def compact_array(items):
    return b"\x00" if items is None else uvarint(len(items) + 1) + b"".join(items)


def i8(v):
    return struct.pack(">b", v)


def i16(v):
    return struct.pack(">h", v)


def i32(v):
    return struct.pack(">i", v)


def i64(v):
    return struct.pack(">q", v)


class Reader(kw.Reader):
    def compact_string(self):
        size = self.uvarint() - 1
        return None if size < 0 else self.take(size).decode()

    def compact_bytes(self):
        size = self.uvarint() - 1
        return None if size < 0 else self.take(size)

    def compact_array(self, item):
        count = self.uvarint() - 1
        return None if count < 0 else [item() for _ in range(count)]

    def int64(self):
        return struct.unpack(">q", self.take(8))[0]

    def boolean(self):
        return self.int8() != 0

    def tags(self):
        for _ in range(self.uvarint()):
            self.uvarint()
            self.take(self.uvarint())

    def item(self, **fields):
        """Reads fields in order (each a reader method name), then a tagged-field section."""
        out = {name: getattr(self, kind)() if isinstance(kind, str) else kind()
               for name, kind in fields.items()}
        self.tags()
        return out


# ----- the client ---------------------------------------------------------------------------

class Client:
    def __init__(self, bootstrap):
        self.conn = kw.Connection(bootstrap)
        self.correlation = 0

    def close(self):
        self.conn.close()

    def call(self, api_key, version, body):
        """Sends a flexible request; returns a Reader positioned after the response header."""
        self.correlation += 1
        self.conn.send(kw.framed(kw.raw_header_v2(api_key, version, self.correlation) + body))
        payload = self.conn.read_frame()
        assert payload is not None, "broker closed the connection (api %d v%d)" % (
            api_key, version)
        r = Reader(payload)
        assert r.int32() == self.correlation
        r.tags()  # response header v1
        return r

    # FindCoordinator v4+: [key_type, coordinator_keys] -> [coordinators]
    def find_coordinators(self, version, key_type, keys):
        r = self.call(FIND_COORDINATOR, version,
                      i8(key_type) + compact_array([compact_string(k) for k in keys]) + NO_TAGS)
        r.int32()
        out = r.compact_array(lambda: r.item(key="compact_string", node_id="int32",
                                             host="compact_string", port="int32",
                                             error="int16", message="compact_string"))
        r.tags()
        assert r.done()
        return out

    # OffsetCommit v9 (the v8 layout; `version` 8 sends the same bytes as v8).
    def commit(self, group, generation, member, offsets, version=9):
        """offsets: {(topic, partition): (offset, metadata)}; returns {(topic, p): error}."""
        by_topic = {}
        for (topic, partition), (offset, metadata) in offsets.items():
            by_topic.setdefault(topic, []).append(
                i32(partition) + i64(offset) + i32(-1) + nullable(metadata) + NO_TAGS)
        topics = [compact_string(t) + compact_array(ps) + NO_TAGS for t, ps in by_topic.items()]
        body = (compact_string(group) + i32(generation) + compact_string(member) + nullable(None) +
                compact_array(topics) + NO_TAGS)
        r = self.call(OFFSET_COMMIT, version, body)
        r.int32()
        errors = {}
        for topic in r.compact_array(lambda: r.item(
                name="compact_string",
                partitions=lambda: r.compact_array(lambda: r.item(index="int32", error="int16")))):
            for p in topic["partitions"]:
                errors[(topic["name"], p["index"])] = p["error"]
        r.tags()
        assert r.done()
        return errors

    # OffsetFetch v8/v9: groups [(group_id, {topic: [partitions]} or None)]; v9 sends `member`
    # and `epoch` (KIP-848; null and -1 for a classic group) with every group.
    def fetch_offsets(self, version, groups, require_stable=False, member=None, epoch=-1):
        items = []
        for group_id, topics in groups:
            item = compact_string(group_id)
            if version >= 9:
                item += nullable(member) + i32(epoch)
            item += compact_array(None if topics is None else [
                compact_string(t) + compact_array([i32(p) for p in ps]) + NO_TAGS
                for t, ps in topics.items()])
            items.append(item + NO_TAGS)
        body = compact_array(items) + struct.pack(">?", require_stable) + NO_TAGS
        r = self.call(OFFSET_FETCH, version, body)
        r.int32()

        def partition():
            return r.item(index="int32", offset="int64", leader_epoch="int32",
                          metadata="compact_string", error="int16")

        def group():
            out = {"group_id": r.compact_string()}
            out["topics"] = r.compact_array(lambda: r.item(
                name="compact_string", partitions=lambda: r.compact_array(partition)))
            out["error"] = r.int16()
            r.tags()
            return out

        out = r.compact_array(group)
        r.tags()
        assert r.done()
        return out

    # JoinGroup v9
    def join(self, group, member, protocols, instance=None, reason=None, version=9):
        items = [compact_string(name) + compact_bytes(meta) + NO_TAGS for name, meta in protocols]
        body = (compact_string(group) + i32(10000) + i32(10000) + compact_string(member) +
                nullable(instance) + compact_string("consumer") + compact_array(items) +
                nullable(reason) + NO_TAGS)
        r = self.call(JOIN_GROUP, version, body)
        out = {"throttle": r.int32(), "error": r.int16(), "generation": r.int32(),
               "protocol_type": r.compact_string(), "protocol_name": r.compact_string(),
               "leader": r.compact_string(), "skip_assignment": r.boolean(),
               "member_id": r.compact_string()}
        out["members"] = r.compact_array(lambda: r.item(
            member_id="compact_string", instance="compact_string", metadata="compact_bytes"))
        r.tags()
        assert r.done()
        return out

    # SyncGroup v5
    def sync(self, group, generation, member, protocol_type, protocol_name, assignments,
             instance=None):
        items = [compact_string(m) + compact_bytes(a) + NO_TAGS for m, a in assignments]
        body = (compact_string(group) + i32(generation) + compact_string(member) +
                nullable(instance) + nullable(protocol_type) + nullable(protocol_name) +
                compact_array(items) + NO_TAGS)
        r = self.call(SYNC_GROUP, 5, body)
        out = r.item(throttle="int32", error="int16", protocol_type="compact_string",
                     protocol_name="compact_string", assignment="compact_bytes")
        assert r.done()
        return out

    # Heartbeat v4
    def heartbeat(self, group, generation, member):
        body = (compact_string(group) + i32(generation) + compact_string(member) +
                nullable(None) + NO_TAGS)
        r = self.call(HEARTBEAT, 4, body)
        out = r.item(throttle="int32", error="int16")
        assert r.done()
        return out["error"]

    # LeaveGroup v5: members [(member_id, instance, reason)]
    def leave(self, group, members):
        items = [compact_string(m) + nullable(i) + nullable(why) + NO_TAGS
                 for m, i, why in members]
        r = self.call(LEAVE_GROUP, 5, compact_string(group) + compact_array(items) + NO_TAGS)
        out = {"throttle": r.int32(), "error": r.int16()}
        out["members"] = r.compact_array(lambda: r.item(
            member_id="compact_string", instance="compact_string", error="int16"))
        r.tags()
        assert r.done()
        return out

    # ListGroups v5
    def list_groups(self, states=(), types=()):
        body = (compact_array([compact_string(s) for s in states]) +
                compact_array([compact_string(t) for t in types]) + NO_TAGS)
        r = self.call(LIST_GROUPS, 5, body)
        out = {"throttle": r.int32(), "error": r.int16()}
        out["groups"] = r.compact_array(lambda: r.item(
            group_id="compact_string", protocol_type="compact_string",
            state="compact_string", type="compact_string"))
        r.tags()
        assert r.done()
        return out

    # DescribeGroups v5
    def describe(self, groups):
        body = compact_array([compact_string(g) for g in groups]) + b"\x01" + NO_TAGS
        r = self.call(DESCRIBE_GROUPS, 5, body)
        r.int32()

        def member():
            return r.item(member_id="compact_string", instance="compact_string",
                          client_id="compact_string", client_host="compact_string",
                          metadata="compact_bytes", assignment="compact_bytes")

        out = r.compact_array(lambda: r.item(
            error="int16", group_id="compact_string", state="compact_string",
            protocol_type="compact_string", protocol_data="compact_string",
            members=lambda: r.compact_array(member), operations="int32"))
        r.tags()
        assert r.done()
        return out


# ----- the tests ----------------------------------------------------------------------------

class GroupVersions(harness.BrokerTestCase):
    broker_topics = {TOPIC: 2}

    def setUp(self):
        self.client = Client(self.broker.bootstrap)

    def tearDown(self):
        self.client.close()
        self.assertBrokerHealthy()

    def test_api_versions_advertise_the_new_versions(self):
        with kw.Connection(self.broker.bootstrap) as conn:
            conn.send(kw.api_versions_v3_request(1))
            _, error, apis = kw.decode_api_versions_v3(conn.read_frame())
        self.assertEqual(error, NONE)
        expected = {OFFSET_COMMIT: 9, OFFSET_FETCH: 9, FIND_COORDINATOR: 6, JOIN_GROUP: 9,
                    HEARTBEAT: 4, LEAVE_GROUP: 5, SYNC_GROUP: 5, DESCRIBE_GROUPS: 5,
                    LIST_GROUPS: 5}
        for key, high in expected.items():
            self.assertEqual(apis[key], (0, high), "api %d" % key)

    def test_find_coordinator_batched(self):
        host, port = self.broker.bootstrap.rsplit(":", 1)
        for version in (4, 5, 6):
            for key_type in (0, 1):  # a group, transactional ids
                keys = ["g-one", "g-two"] if key_type == 0 else ["txn-a", "txn-b"]
                found = self.client.find_coordinators(version, key_type, keys)
                self.assertEqual([c["key"] for c in found], keys)
                for c in found:
                    self.assertEqual((c["error"], c["message"]), (NONE, None))
                    self.assertGreaterEqual(c["node_id"], 0)
                    self.assertEqual(c["port"], int(port))
                    self.assertIn(c["host"], (host, "localhost", socket.gethostname()))
        # v6 may name a share group (key type 2): share groups are off, as in a default Kafka
        # 3.9, so each key gets INVALID_REQUEST and no node.
        found = self.client.find_coordinators(6, 2, ["share-a", "share-b"])
        self.assertEqual([c["key"] for c in found], ["share-a", "share-b"])
        for c in found:
            self.assertEqual((c["error"], c["node_id"], c["port"]), (INVALID_REQUEST, -1, -1))
        self.assertEqual(self.client.find_coordinators(4, 0, []), [])

    def test_offset_fetch_batched_with_unknown_group(self):
        errors = self.client.commit("fetch-a", -1, "", {(TOPIC, 0): (42, "meta-a"),
                                                       ("no-such-topic", 0): (1, None)})
        self.assertEqual(errors, {(TOPIC, 0): NONE, ("no-such-topic", 0): 3})
        for version in (8, 9):
            groups = self.client.fetch_offsets(version, [
                ("fetch-a", {TOPIC: [0, 1]}), ("fetch-unknown", None),
                ("fetch-unknown-2", {TOPIC: [1]}), ("fetch-a", None)])
            self.assertEqual([g["group_id"] for g in groups],
                             ["fetch-a", "fetch-unknown", "fetch-unknown-2", "fetch-a"])
            self.assertEqual([g["error"] for g in groups], [NONE] * 4)
            asked = groups[0]["topics"]
            self.assertEqual([t["name"] for t in asked], [TOPIC])
            by_partition = {p["index"]: p for p in asked[0]["partitions"]}
            self.assertEqual((by_partition[0]["offset"], by_partition[0]["metadata"],
                              by_partition[0]["error"]), (42, "meta-a", NONE))
            self.assertEqual((by_partition[1]["offset"], by_partition[1]["error"]), (-1, NONE))
            self.assertEqual(groups[1]["topics"], [])
            unknown = groups[2]["topics"][0]["partitions"][0]
            self.assertEqual((unknown["index"], unknown["offset"], unknown["error"]),
                             (1, -1, NONE))
            everything = groups[3]["topics"]
            self.assertEqual([(t["name"], [p["index"] for p in t["partitions"]])
                              for t in everything], [(TOPIC, [0])])
        self.assertEqual(self.client.fetch_offsets(8, [], require_stable=True), [])

    def join_round(self, group, instance=None):
        """JoinGroup v9 twice (MEMBER_ID_REQUIRED, then the real join); returns the answer."""
        first = self.client.join(group, "", [("range", b"\x00\x01sub")], instance=instance,
                                 reason="starting up")
        if instance is None:
            self.assertEqual(first["error"], MEMBER_ID_REQUIRED)
            self.assertIsNone(first["protocol_type"])
            self.assertIsNone(first["protocol_name"])
            first = self.client.join(group, first["member_id"], [("range", b"\x00\x01sub")],
                                     reason="member id required")
        self.assertEqual(first["error"], NONE)
        return first

    def test_join_sync_heartbeat_leave_latest_versions(self):
        group = "round"
        joined = self.join_round(group)
        member = joined["member_id"]
        self.assertEqual((joined["protocol_type"], joined["protocol_name"]), ("consumer", "range"))
        self.assertEqual(joined["leader"], member)
        self.assertFalse(joined["skip_assignment"])
        self.assertEqual([(m["member_id"], m["metadata"]) for m in joined["members"]],
                         [(member, b"\x00\x01sub")])
        generation = joined["generation"]

        # SyncGroup v5 names the protocol: a missing or different one is inconsistent.
        for protocol_type, protocol_name in ((None, "range"), ("consumer", None),
                                             ("connect", "range"), ("consumer", "roundrobin")):
            synced = self.client.sync(group, generation, member, protocol_type, protocol_name,
                                      [(member, b"assigned")])
            self.assertEqual(synced["error"], INCONSISTENT_GROUP_PROTOCOL,
                             (protocol_type, protocol_name))
            self.assertIsNone(synced["protocol_type"])
        stale = self.client.sync(group, generation + 1, member, "connect", "range", [])
        self.assertEqual(stale["error"], ILLEGAL_GENERATION)  # generation is checked first
        synced = self.client.sync(group, generation, member, "consumer", "range",
                                  [(member, b"assigned")])
        self.assertEqual(synced, {"throttle": 0, "error": NONE, "protocol_type": "consumer",
                                  "protocol_name": "range", "assignment": b"assigned"})
        self.assertEqual(self.client.heartbeat(group, generation, member), NONE)

        described = self.client.describe([group, "never-seen"])
        self.assertEqual([(d["error"], d["group_id"], d["state"]) for d in described],
                         [(NONE, group, "Stable"), (NONE, "never-seen", "Dead")])
        self.assertEqual((described[0]["protocol_type"], described[0]["protocol_data"]),
                         ("consumer", "range"))
        self.assertEqual([(m["member_id"], m["assignment"]) for m in described[0]["members"]],
                         [(member, b"assigned")])
        self.assertNotEqual(described[0]["operations"], -2147483648)

        left = self.client.leave(group, [(member, None, "test says goodbye"),
                                         ("nobody", None, None)])
        self.assertEqual(left["error"], NONE)
        self.assertEqual([(m["member_id"], m["error"]) for m in left["members"]],
                         [(member, NONE), ("nobody", 25)])  # UNKNOWN_MEMBER_ID
        self.assertEqual(self.client.describe([group])[0]["state"], "Empty")
        harness_wait(lambda: "test says goodbye" in self.broker.stderr(),
                     "the leave reason in the broker's log")

    def test_static_leader_rejoin_skips_assignment(self):
        group = "static"
        joined = self.join_round(group, instance="inst-1")
        member = joined["member_id"]
        self.assertFalse(joined["skip_assignment"])
        synced = self.client.sync(group, joined["generation"], member, "consumer", "range",
                                  [(member, b"kept")])
        self.assertEqual(synced["error"], NONE)
        # The static leader restarts (new member id) with the same protocols: no rebalance, it
        # gets the members to see their subscriptions and is told to skip the assignment.
        again = self.client.join(group, "", [("range", b"\x00\x01sub")], instance="inst-1")
        self.assertEqual(again["error"], NONE)
        self.assertNotEqual(again["member_id"], member)
        self.assertEqual((again["generation"], again["leader"]),
                         (joined["generation"], again["member_id"]))
        self.assertTrue(again["skip_assignment"])
        self.assertEqual([(m["member_id"], m["instance"]) for m in again["members"]],
                         [(again["member_id"], "inst-1")])
        synced = self.client.sync(group, again["generation"], again["member_id"], "consumer",
                                  "range", [])
        self.assertEqual((synced["error"], synced["assignment"]), (NONE, b"kept"))
        self.client.leave(group, [("", "inst-1", "done")])

    def test_list_groups_state_and_type_filters(self):
        joined = self.join_round("listed-stable")
        self.client.sync("listed-stable", joined["generation"], joined["member_id"], "consumer",
                         "range", [])
        self.client.commit("listed-empty", -1, "", {(TOPIC, 1): (7, None)})

        def listed(states=(), types=()):
            answer = self.client.list_groups(states, types)
            self.assertEqual(answer["error"], NONE)
            return {g["group_id"]: (g["state"], g["type"]) for g in answer["groups"]
                    if g["group_id"].startswith("listed-")}

        both = {"listed-stable": ("Stable", "classic"), "listed-empty": ("Empty", "classic")}
        self.assertEqual(listed(), both)
        self.assertEqual(listed(types=["classic"]), both)
        self.assertEqual(listed(types=["CLASSIC", "consumer"]), both)
        self.assertEqual(listed(types=["consumer"]), {})
        self.assertEqual(listed(types=["share", "no-such-type"]), {})
        self.assertEqual(listed(states=["stable"]), {"listed-stable": ("Stable", "classic")})
        self.assertEqual(listed(states=["Empty"], types=["classic"]),
                         {"listed-empty": ("Empty", "classic")})
        self.assertEqual(listed(states=["Empty"], types=["consumer"]), {})
        self.client.leave("listed-stable", [(joined["member_id"], None, None)])


def harness_wait(predicate, what, timeout_s=10):
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(0.05)


if __name__ == "__main__":
    harness.main()
