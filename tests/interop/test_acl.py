"""Kafka ACLs (authorizer.enabled) with real clients, through every ACL admin path.

One broker runs PLAINTEXT and SASL_PLAINTEXT listeners with authorizer.enabled=true,
super.users=User:admin and allow.everyone.if.no.acl.found=false; users alice (SCRAM-SHA-256),
bob and carol (SCRAM-SHA-512) are created by the bootstrap super user. ACLs are managed with
`cairn acl`, kafka-python's KafkaAdminClient (CreateAcls/DescribeAcls/DeleteAcls v1) and raw
requests for the error paths:

- the CLI: create (prefixed, every combination), list (json, MATCH filter), delete --dry-run,
  delete; the admin client: create, describe with filters, delete returning what matched;
- CreateAcls by a non-super user: CLUSTER_AUTHORIZATION_FAILED; bad bindings (CLUSTER not named
  kafka-cluster, principal without a type, MATCH pattern, ANY operation): INVALID_REQUEST each;
- confluent-kafka-python (librdkafka) as alice: produce where a PREFIXED WRITE allows it, and
  TOPIC_AUTHORIZATION_FAILED elsewhere; consume needs READ on the group too
  (GROUP_AUTHORIZATION_FAILED without it); Metadata lists only what alice may DESCRIBE; an
  anonymous PLAINTEXT client sees nothing; the super user sees everything;
- DENY beats ALLOW (a wildcard allow, a literal deny); an ACL for another host does not apply;
- idempotent producers need WRITE on some topic (carol: CLUSTER_AUTHORIZATION_FAILED), a
  transactional id needs its own WRITE (TRANSACTIONAL_ID_AUTHORIZATION_FAILED, then commits);
- user management needs ALTER on the cluster, client quotas DESCRIBE_CONFIGS / ALTER_CONFIGS;
  kcat refused a topic;
- what a principal may not DESCRIBE stays hidden: DeleteTopics v6 by topic id answers a null
  name (TOPIC_AUTHORIZATION_FAILED) without DESCRIBE, the name with DESCRIBE but no DELETE;
  DescribeTransactions leaves out the transaction's topics it may not DESCRIBE;
  ConsumerGroupDescribe refuses a group holding such a topic (TOPIC_AUTHORIZATION_FAILED);
- AddPartitionsToTxn refuses internal topics even to a super user (TOPIC_AUTHORIZATION_FAILED,
  the other partitions OPERATION_NOT_ATTEMPTED);
- OffsetCommit: a partition of a topic the principal may not read keeps
  TOPIC_AUTHORIZATION_FAILED when the group answers the others with an error of its own;
- ACLs survive kill -9; a bad super.users refuses to start; without authorizer.enabled the ACL
  APIs answer SECURITY_DISABLED.
"""
import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import unittest
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Broker, cairn_binary  # noqa: E402
import kafka_wire as kw  # noqa: E402
import sasl_support as sasl  # noqa: E402
import test_quotas as quotas  # noqa: E402  (its request types; its tests are not run here)
import tls_support as tls  # noqa: E402
import txn_wire  # noqa: E402
from kafka_wire import compact_string  # noqa: E402
from test_groups_kip848 import Kip848Client  # noqa: E402
from test_groups_versions import NO_TAGS, compact_array  # noqa: E402
from test_topic_ids import Wire  # noqa: E402  (DeleteTopics v6, Metadata v12, CreateTopics v7)

import confluent_kafka  # noqa: E402
from confluent_kafka import KafkaError  # noqa: E402
from confluent_kafka.admin import AdminClient  # noqa: E402
from kafka.admin import (ACL, ACLFilter, ACLOperation, ACLPermissionType,  # noqa: E402
                         ACLResourcePatternType, KafkaAdminClient, ResourcePattern,
                         ResourcePatternFilter, ResourceType)
import kafka.errors as kafka_errors  # noqa: E402
from kafka.protocol.commit import OffsetCommitRequest_v2  # noqa: E402

TIMEOUT_S = 60
ADMIN = ("admin", "admin-secret")
ALICE = ("alice", "alice-secret")
BOB = ("bob", "bob-secret")
CAROL = ("carol", "carol-secret")
TOPICS = {"orders-eu": 1, "orders-us": 1, "payments": 1, "secret": 1, "public-news": 1,
          "hosted": 1, "tx-out": 1, "txn-seen": 1, "txn-hidden": 1, "cgd-seen": 1,
          "cgd-hidden": 1}

CREATE_ACLS, DELETE_ACLS, DESCRIBE_ACLS = 30, 31, 29
INVALID_REQUEST = 42
CLUSTER_AUTHORIZATION_FAILED = 31
SECURITY_DISABLED = 54
TOPIC_AUTHORIZATION_FAILED = 29
DESCRIBE_TRANSACTIONS = 65


def wire_string(text):
    if text is None:
        return struct.pack(">h", -1)
    data = text.encode()
    return struct.pack(">h", len(data)) + data


def create_acls_v1(conn, creations, correlation_id=21):
    """CreateAcls v1 with raw bindings (type, name, pattern, principal, host, op, permission);
    returns [(error_code, message)]."""
    body = struct.pack(">i", len(creations))
    for rtype, name, pattern, principal, host, op, permission in creations:
        body += struct.pack(">b", rtype) + wire_string(name) + struct.pack(">b", pattern)
        body += wire_string(principal) + wire_string(host) + struct.pack(">bb", op, permission)
    conn.send(kw.framed(kw.raw_header_v1(CREATE_ACLS, 1, correlation_id) + body))
    r = kw.Reader(conn.read_frame())
    assert r.int32() == correlation_id
    r.int32()  # throttle
    return r.array(lambda: (r.int16(), r.string()))


def describe_acls_v1_error(conn, correlation_id=22):
    """The top-level error of DescribeAcls v1 matching everything."""
    body = struct.pack(">b", 1) + wire_string(None) + struct.pack(">b", 1)
    body += wire_string(None) + wire_string(None) + struct.pack(">bb", 1, 1)
    conn.send(kw.framed(kw.raw_header_v1(DESCRIBE_ACLS, 1, correlation_id) + body))
    r = kw.Reader(conn.read_frame())
    assert r.int32() == correlation_id
    r.int32()
    return r.int16()


def describe_transactions(client, ids):
    """DescribeTransactions v0 (flexible) on a test_groups_versions.Client; [state dict]."""
    r = client.call(DESCRIBE_TRANSACTIONS, 0,
                    compact_array([compact_string(i) for i in ids]) + NO_TAGS)
    r.int32()  # throttle
    out = r.compact_array(lambda: r.item(
        error="int16", transactional_id="compact_string", state="compact_string",
        timeout_ms="int32", start_ms="int64", producer_id="int64", producer_epoch="int16",
        topics=lambda: r.compact_array(lambda: r.item(
            topic="compact_string", partitions=lambda: r.compact_array(r.int32)))))
    r.tags()
    assert r.done()
    return out


class AclTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.args = ["--listeners", "PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0",
                    "--set", "sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512",
                    "--set", "authorizer.enabled=true",
                    "--set", "super.users=User:admin;User:ops",
                    "--bootstrap-user", "%s:%s:SCRAM-SHA-512" % ADMIN]
        cls.broker = Broker(shards=2, listen=None, extra_args=cls.args, topics=TOPICS).start()
        cls.find_ports()
        with kw.Connection(cls.sasl_bootstrap) as conn:
            assert sasl.login(conn, "SCRAM-SHA-512", *ADMIN)[0] == 0
            results = sasl.alter_users(conn, upsert=[
                ("alice", "SCRAM-SHA-256", ALICE[1], 4096),
                ("bob", "SCRAM-SHA-512", BOB[1], 4096),
                ("carol", "SCRAM-SHA-512", CAROL[1], 4096)])
            assert all(e == (0, None) for e in results.values()), results

    @classmethod
    def find_ports(cls):
        ports = tls.listeners(cls.broker.stderr())
        cls.plain_bootstrap = "127.0.0.1:%d" % ports["PLAINTEXT"][0]
        cls.sasl_bootstrap = "127.0.0.1:%d" % ports["SASL_PLAINTEXT"][0]

    @classmethod
    def tearDownClass(cls):
        cls.broker.stop()

    # ----- helpers

    def admin(self, user=ADMIN, mechanism="SCRAM-SHA-512"):
        client = KafkaAdminClient(bootstrap_servers=self.sasl_bootstrap,
                                  security_protocol="SASL_PLAINTEXT", sasl_mechanism=mechanism,
                                  sasl_plain_username=user[0], sasl_plain_password=user[1],
                                  request_timeout_ms=TIMEOUT_S * 1000)
        self.addCleanup(client.close)
        return client

    def grant(self, *acls):
        result = self.admin().create_acls(list(acls))
        self.assertEqual(result["failed"], [])
        self.assertEqual(len(result["succeeded"]), len(acls))

    def cli(self, *args, user=ADMIN, check=True):
        command = [cairn_binary(), "acl"] + list(args) + [
            "-b", self.sasl_bootstrap, "-X", "security.protocol=SASL_PLAINTEXT",
            "-X", "sasl.mechanisms=SCRAM-SHA-512", "-X", "sasl.username=" + user[0],
            "-X", "sasl.password=" + user[1]]
        done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_S)
        if check:
            self.assertEqual(done.returncode, 0, done.stderr + done.stdout)
        return done

    def client_config(self, user, mechanism):
        return {"bootstrap.servers": self.sasl_bootstrap, "security.protocol": "SASL_PLAINTEXT",
                "sasl.mechanisms": mechanism, "sasl.username": user[0],
                "sasl.password": user[1]}

    def produce(self, user, mechanism, topic, count=3, extra=None):
        """Delivery errors (None for success) of `count` messages."""
        producer = confluent_kafka.Producer(dict(self.client_config(user, mechanism),
                                                 **(extra or {})))
        errors = []
        for i in range(count):
            producer.produce(topic, b"m%d" % i, on_delivery=lambda e, m: errors.append(e))
        producer.flush(TIMEOUT_S)
        self.assertEqual(len(errors), count)
        return errors

    def consume(self, user, mechanism, topic, group, want):
        consumer = confluent_kafka.Consumer(dict(
            self.client_config(user, mechanism), **{"group.id": group,
                                                    "auto.offset.reset": "earliest"}))
        consumer.subscribe([topic])
        got, errors = [], []
        deadline = time.monotonic() + TIMEOUT_S
        try:
            while len(got) < want and not errors and time.monotonic() < deadline:
                message = consumer.poll(0.5)
                if message is None:
                    continue
                if message.error():
                    errors.append(message.error().code())
                else:
                    got.append(message.value())
        finally:
            consumer.close()
        return got, errors

    def new_user(self, name):
        """A fresh SCRAM-SHA-512 user with no ACLs (ACLs granted by earlier tests to alice, bob
        and carol stay in place)."""
        user = (name, name + "-secret")
        with kw.Connection(self.sasl_bootstrap) as conn:
            self.assertEqual(sasl.login(conn, "SCRAM-SHA-512", *ADMIN)[0], 0)
            answer = sasl.alter_users(conn, upsert=[(name, "SCRAM-SHA-512", user[1], 4096)])
            self.assertEqual(answer[name], (0, None))
        return user

    def logged_in(self, user, make=Wire):
        """A raw-wire client (a test_groups_versions.Client) logged in over SCRAM-SHA-512."""
        client = make(self.sasl_bootstrap)
        self.addCleanup(client.close)
        self.assertEqual(sasl.login(client.conn, "SCRAM-SHA-512", *user)[0], 0)
        return client

    def topic_ids(self):
        """{name: topic id bytes} of every topic, from Metadata v12 as the super user."""
        return {t["name"]: t["topic_id"] for t in self.logged_in(ADMIN).metadata(None)}

    def topics_seen(self, config):
        admin = AdminClient(config)
        return set(admin.list_topics(timeout=TIMEOUT_S).topics)

    # ----- managing ACLs

    def test_cli_creates_lists_and_deletes(self):
        out = self.cli("create", "--allow-principal", "User:dora", "--allow-principal",
                       "User:erin", "--operation", "read,describe", "--topic", "cli-",
                       "--group", "cli-group", "--resource-pattern-type", "prefixed").stdout
        self.assertEqual(out.count("OK"), 8, out)  # 2 principals x 2 ops x 2 resources
        listed = json.loads(self.cli("list", "--principal", "User:dora", "--format",
                                     "json").stdout)
        self.assertEqual(sorted((a["resource_type"], a["resource_name"], a["pattern_type"],
                                 a["operation"]) for a in listed),
                         [("GROUP", "cli-group", "PREFIXED", "DESCRIBE"),
                          ("GROUP", "cli-group", "PREFIXED", "READ"),
                          ("TOPIC", "cli-", "PREFIXED", "DESCRIBE"),
                          ("TOPIC", "cli-", "PREFIXED", "READ")])
        # MATCH: every ACL that applies to the topic cli-orders, the prefixed ones included.
        matching = json.loads(self.cli("list", "--topic", "cli-orders", "--resource-pattern-type",
                                       "match", "--format", "json").stdout)
        self.assertEqual(len(matching), 4)
        dry = self.cli("delete", "--principal", "User:erin", "--dry-run").stdout
        self.assertIn("dry run", dry)
        self.assertEqual(len(json.loads(self.cli("list", "--principal", "User:erin", "--format",
                                                 "json").stdout)), 4)
        deleted = self.cli("delete", "--principal", "User:erin", "--format", "json").stdout
        self.assertEqual(len(json.loads(deleted)), 4)
        self.assertEqual(json.loads(self.cli("list", "--principal", "User:erin", "--format",
                                             "json").stdout), [])
        refused = self.cli("delete", check=False)
        self.assertNotEqual(refused.returncode, 0)
        self.assertIn("--all", refused.stderr)
        # A user that is not a super user (and has no ALTER on the cluster) is refused.
        denied = self.cli("create", "--allow-principal", "User:x", "--operation", "read",
                          "--topic", "t", user=BOB, check=False)
        self.assertNotEqual(denied.returncode, 0)
        self.assertIn("CLUSTER_AUTHORIZATION_FAILED", denied.stdout + denied.stderr)

    def test_admin_client_describe_and_delete_with_filters(self):
        pattern = ResourcePattern(ResourceType.TOPIC, "kp-topic")
        acls = [ACL("User:frank", "*", ACLOperation.WRITE, ACLPermissionType.ALLOW, pattern),
                ACL("User:frank", "10.0.0.1", ACLOperation.READ, ACLPermissionType.DENY,
                    pattern)]
        self.grant(*acls)
        found, error = self.admin().describe_acls(ACLFilter(
            "User:frank", None, ACLOperation.ANY, ACLPermissionType.ANY,
            ResourcePatternFilter(ResourceType.ANY, None, ACLResourcePatternType.ANY)))
        self.assertIs(error, kafka_errors.NoError)
        self.assertEqual(sorted((a.host, a.operation, a.permission_type) for a in found),
                         [("*", ACLOperation.WRITE, ACLPermissionType.ALLOW),
                          ("10.0.0.1", ACLOperation.READ, ACLPermissionType.DENY)])
        results = self.admin().delete_acls([ACLFilter(
            None, None, ACLOperation.ANY, ACLPermissionType.DENY,
            ResourcePatternFilter(ResourceType.TOPIC, "kp-topic", ACLResourcePatternType.LITERAL))])
        self.assertEqual(len(results), 1)
        _, matched, error = results[0]
        self.assertIs(error, kafka_errors.NoError)
        self.assertEqual([(acl.principal, acl.host) for acl, _ in matched],
                         [("User:frank", "10.0.0.1")])
        found, _ = self.admin().describe_acls(ACLFilter(
            "User:frank", None, ACLOperation.ANY, ACLPermissionType.ANY,
            ResourcePatternFilter(ResourceType.ANY, None, ACLResourcePatternType.ANY)))
        self.assertEqual(len(found), 1)
        with self.assertRaises(kafka_errors.ClusterAuthorizationFailedError):
            self.admin(BOB).describe_acls(ACLFilter(
                None, None, ACLOperation.ANY, ACLPermissionType.ANY,
                ResourcePatternFilter(ResourceType.ANY, None, ACLResourcePatternType.ANY)))

    def test_bad_bindings_are_invalid_request_each(self):
        with kw.Connection(self.sasl_bootstrap) as conn:
            self.assertEqual(sasl.login(conn, "SCRAM-SHA-512", *ADMIN)[0], 0)
            answers = create_acls_v1(conn, [
                (4, "my-cluster", 3, "User:x", "*", 7, 3),   # CLUSTER not named kafka-cluster
                (2, "t", 3, "nobody", "*", 3, 3),            # principal without a type
                (2, "t", 2, "User:x", "*", 3, 3),            # MATCH is for filters
                (2, "t", 3, "User:x", "*", 1, 3),            # ANY operation
                (2, "t", 3, "User:x", "*", 3, 1),            # ANY permission
                (2, "", 3, "User:x", "*", 3, 3),             # empty name
                (2, "bad-ok", 3, "User:x", "*", 3, 3)])      # a good one goes through
            self.assertEqual([e for e, _ in answers], [INVALID_REQUEST] * 6 + [0])
            self.assertIn("kafka-cluster", answers[0][1])
        found, _ = self.admin().describe_acls(ACLFilter(
            "User:x", None, ACLOperation.ANY, ACLPermissionType.ANY,
            ResourcePatternFilter(ResourceType.ANY, None, ACLResourcePatternType.ANY)))
        self.assertEqual([a.resource_pattern.resource_name for a in found], ["bad-ok"])

    # ----- what ACLs allow

    def test_produce_and_consume_follow_the_acls(self):
        self.grant(ACL("User:alice", "*", ACLOperation.WRITE, ACLPermissionType.ALLOW,
                       ResourcePattern(ResourceType.TOPIC, "orders-",
                                       ACLResourcePatternType.PREFIXED)))
        self.assertEqual(self.produce(ALICE, "SCRAM-SHA-256", "orders-eu"), [None] * 3)
        errors = self.produce(ALICE, "SCRAM-SHA-256", "payments", count=1)
        self.assertEqual(errors[0].code(), KafkaError.TOPIC_AUTHORIZATION_FAILED)
        # Reading needs READ on the topic and on the group.
        self.grant(ACL("User:alice", "*", ACLOperation.READ, ACLPermissionType.ALLOW,
                       ResourcePattern(ResourceType.TOPIC, "orders-eu")))
        got, errors = self.consume(ALICE, "SCRAM-SHA-256", "orders-eu", "alice-denied", 3)
        self.assertEqual(errors, [KafkaError.GROUP_AUTHORIZATION_FAILED])
        self.grant(ACL("User:alice", "*", ACLOperation.READ, ACLPermissionType.ALLOW,
                       ResourcePattern(ResourceType.GROUP, "alice-",
                                       ACLResourcePatternType.PREFIXED)))
        got, errors = self.consume(ALICE, "SCRAM-SHA-256", "orders-eu", "alice-readers", 3)
        self.assertEqual(errors, [])
        self.assertEqual(got, [b"m0", b"m1", b"m2"])

    def test_metadata_lists_only_what_the_principal_may_describe(self):
        self.grant(ACL("User:alice", "*", ACLOperation.WRITE, ACLPermissionType.ALLOW,
                       ResourcePattern(ResourceType.TOPIC, "orders-",
                                       ACLResourcePatternType.PREFIXED)))
        seen = self.topics_seen(self.client_config(ALICE, "SCRAM-SHA-256"))
        self.assertIn("orders-eu", seen)
        self.assertIn("orders-us", seen)
        self.assertNotIn("payments", seen)
        self.assertNotIn("secret", seen)
        anonymous = self.topics_seen({"bootstrap.servers": self.plain_bootstrap})
        self.assertEqual({t for t in anonymous if not t.startswith("__")}, set())
        everything = self.topics_seen(self.client_config(ADMIN, "SCRAM-SHA-512"))
        self.assertTrue(set(TOPICS) <= everything, everything)

    def test_deny_beats_allow_and_hosts_must_match(self):
        read_all = ACL("User:bob", "*", ACLOperation.READ, ACLPermissionType.ALLOW,
                       ResourcePattern(ResourceType.TOPIC, "*"))
        deny_secret = ACL("User:bob", "*", ACLOperation.READ, ACLPermissionType.DENY,
                          ResourcePattern(ResourceType.TOPIC, "secret"))
        other_host = ACL("User:carol", "10.9.9.9", ACLOperation.ALL, ACLPermissionType.ALLOW,
                         ResourcePattern(ResourceType.TOPIC, "hosted"))
        # librdkafka looks up the coordinator of its group.id even for assigned partitions.
        groups = ACL("User:bob", "*", ACLOperation.READ, ACLPermissionType.ALLOW,
                     ResourcePattern(ResourceType.GROUP, "unused-",
                                     ACLResourcePatternType.PREFIXED))
        self.grant(read_all, deny_secret, other_host, groups)
        self.produce(ADMIN, "SCRAM-SHA-512", "public-news", count=1)
        self.produce(ADMIN, "SCRAM-SHA-512", "secret", count=1)
        bob = self.client_config(BOB, "SCRAM-SHA-512")
        self.assertEqual(self.read_partition(bob, "public-news"), None)
        self.assertEqual(self.read_partition(bob, "secret"),
                         KafkaError.TOPIC_AUTHORIZATION_FAILED)
        self.assertEqual(self.produce(CAROL, "SCRAM-SHA-512", "hosted", count=1)[0].code(),
                         KafkaError.TOPIC_AUTHORIZATION_FAILED)

    def read_partition(self, config, topic):
        """Reads partition 0 from the start without a group: None once a message arrives, else
        the error code."""
        consumer = confluent_kafka.Consumer(dict(config, **{"group.id": "unused-" + topic}))
        consumer.assign([confluent_kafka.TopicPartition(topic, 0, confluent_kafka.OFFSET_BEGINNING)])
        deadline = time.monotonic() + TIMEOUT_S
        try:
            while time.monotonic() < deadline:
                message = consumer.poll(0.5)
                if message is None:
                    continue
                return message.error().code() if message.error() else None
        finally:
            consumer.close()
        self.fail("nothing read from %s" % topic)

    def test_idempotence_and_transactions_need_their_acls(self):
        # carol may see tx-out (DESCRIBE) but WRITE nothing: no producer id for her.
        self.grant(ACL("User:carol", "*", ACLOperation.DESCRIBE, ACLPermissionType.ALLOW,
                       ResourcePattern(ResourceType.TOPIC, "tx-out")))
        producer = confluent_kafka.Producer(dict(self.client_config(CAROL, "SCRAM-SHA-512"),
                                                 **{"enable.idempotence": True}))
        # librdkafka makes the refused InitProducerId a fatal error; produce() then raises it.
        deadline = time.monotonic() + TIMEOUT_S
        with self.assertRaises(confluent_kafka.KafkaException) as fatal:
            while time.monotonic() < deadline:
                producer.produce("tx-out", b"x")
                producer.flush(1)
        self.assertEqual(fatal.exception.args[0].code(), KafkaError.CLUSTER_AUTHORIZATION_FAILED)
        self.assertTrue(fatal.exception.args[0].fatal())
        self.grant(ACL("User:alice", "*", ACLOperation.WRITE, ACLPermissionType.ALLOW,
                       ResourcePattern(ResourceType.TOPIC, "tx-out")))
        config = dict(self.client_config(ALICE, "SCRAM-SHA-256"),
                      **{"transactional.id": "alice-tx"})
        producer = confluent_kafka.Producer(config)
        with self.assertRaises(confluent_kafka.KafkaException) as refused:
            producer.init_transactions(TIMEOUT_S)
        self.assertEqual(refused.exception.args[0].code(),
                         KafkaError.TRANSACTIONAL_ID_AUTHORIZATION_FAILED)
        self.grant(ACL("User:alice", "*", ACLOperation.WRITE, ACLPermissionType.ALLOW,
                       ResourcePattern(ResourceType.TRANSACTIONAL_ID, "alice-tx")))
        producer = confluent_kafka.Producer(config)
        producer.init_transactions(TIMEOUT_S)
        producer.begin_transaction()
        producer.produce("tx-out", b"committed")
        producer.commit_transaction(TIMEOUT_S)

    def test_user_management_needs_alter_on_the_cluster(self):
        with kw.Connection(self.sasl_bootstrap) as conn:
            self.assertEqual(sasl.login(conn, "SCRAM-SHA-256", *ALICE)[0], 0)
            answer = sasl.alter_users(conn, upsert=[("mallory", "SCRAM-SHA-256", "pw", 4096)])
            self.assertEqual(answer["mallory"][0], CLUSTER_AUTHORIZATION_FAILED)
            self.assertEqual(sasl.describe_users(conn)[0], CLUSTER_AUTHORIZATION_FAILED)
        with kw.Connection(self.plain_bootstrap) as conn:  # anonymous
            answer = sasl.alter_users(conn, upsert=[("mallory", "SCRAM-SHA-256", "pw", 4096)])
            self.assertEqual(answer["mallory"][0], CLUSTER_AUTHORIZATION_FAILED)
        self.grant(ACL("User:alice", "*", ACLOperation.ALTER, ACLPermissionType.ALLOW,
                       ResourcePattern(ResourceType.CLUSTER, "kafka-cluster")))
        with kw.Connection(self.sasl_bootstrap) as conn:
            self.assertEqual(sasl.login(conn, "SCRAM-SHA-256", *ALICE)[0], 0)
            answer = sasl.alter_users(conn, upsert=[("mallory", "SCRAM-SHA-256", "pw", 4096)])
            self.assertEqual(answer["mallory"], (0, None))
            # ALTER implies DESCRIBE.
            self.assertEqual(sasl.describe_users(conn)[0], 0)
        self.admin().delete_acls([ACLFilter(
            "User:alice", None, ACLOperation.ALTER, ACLPermissionType.ALLOW,
            ResourcePatternFilter(ResourceType.CLUSTER, None, ACLResourcePatternType.ANY))])

    def test_quotas_need_the_configs_operations_on_the_cluster(self):
        alter = quotas.AlterClientQuotasRequest_v0(
            [([("user", "x")], [("producer_byte_rate", 1000.0, False)])], False)
        describe = quotas.DescribeClientQuotasRequest_v0([], False)
        with kw.Connection(self.plain_bootstrap) as conn:  # anonymous
            self.assertEqual(conn.request(describe, 31).error_code, CLUSTER_AUTHORIZATION_FAILED)
            self.assertEqual(conn.request(alter, 32).entries[0][0], CLUSTER_AUTHORIZATION_FAILED)
        with kw.Connection(self.sasl_bootstrap) as conn:
            self.assertEqual(sasl.login(conn, "SCRAM-SHA-512", *ADMIN)[0], 0)
            self.assertEqual(conn.request(alter, 33).entries[0][0], 0)
            answer = conn.request(describe, 34)
            self.assertEqual(answer.error_code, 0)
            self.assertEqual(len(answer.entries), 1)

    def test_kcat_is_refused_a_topic_it_may_not_write(self):
        done = subprocess.run(
            ["kcat", "-b", self.sasl_bootstrap, "-X", "security.protocol=SASL_PLAINTEXT",
             "-X", "sasl.mechanisms=SCRAM-SHA-512", "-X", "sasl.username=" + CAROL[0],
             "-X", "sasl.password=" + CAROL[1], "-P", "-t", "payments"],
            input=b"x\n", capture_output=True, timeout=TIMEOUT_S)
        self.assertIn(b"authoriz", (done.stderr + done.stdout).lower())

    # ----- what a principal may not DESCRIBE stays hidden

    def test_delete_topics_by_id_hides_the_name_without_describe(self):
        admin = self.logged_in(ADMIN)
        error, topic_id = admin.create_topic("ids-acl-doomed", 1)
        self.assertEqual(error, 0)
        vera = self.new_user("vera")
        wire = self.logged_in(vera)
        # Proves a principal without DESCRIBE cannot learn a topic's name from its id.
        hidden, = wire.delete([(None, topic_id)])
        self.assertEqual((hidden["error"], hidden["name"], hidden["topic_id"]),
                         (TOPIC_AUTHORIZATION_FAILED, None, topic_id))
        self.assertNotIn("ids-acl-doomed", hidden["message"] or "")
        # Proves DESCRIBE alone shows the name but DELETE is still needed to delete.
        self.grant(ACL("User:vera", "*", ACLOperation.DESCRIBE, ACLPermissionType.ALLOW,
                       ResourcePattern(ResourceType.TOPIC, "ids-acl-doomed")))
        shown, = wire.delete([(None, topic_id)])
        self.assertEqual((shown["error"], shown["name"], shown["topic_id"]),
                         (TOPIC_AUTHORIZATION_FAILED, "ids-acl-doomed", topic_id))
        self.assertIn("ids-acl-doomed", self.topic_ids())
        # Control: with DELETE the same request deletes the topic.
        self.grant(ACL("User:vera", "*", ACLOperation.DELETE, ACLPermissionType.ALLOW,
                       ResourcePattern(ResourceType.TOPIC, "ids-acl-doomed")))
        deleted, = wire.delete([(None, topic_id)])
        self.assertEqual((deleted["error"], deleted["name"]), (0, "ids-acl-doomed"))
        self.assertNotIn("ids-acl-doomed", self.topic_ids())

    def test_describe_transactions_leaves_out_topics_it_may_not_describe(self):
        transactional_id = "acl-described-tx"
        producer = confluent_kafka.Producer(dict(self.client_config(ADMIN, "SCRAM-SHA-512"),
                                                 **{"transactional.id": transactional_id}))
        producer.init_transactions(TIMEOUT_S)
        producer.begin_transaction()
        producer.produce("txn-seen", b"a", partition=0)
        producer.produce("txn-hidden", b"b", partition=0)
        self.assertEqual(producer.flush(TIMEOUT_S), 0)  # both partitions are in the transaction
        try:
            walt = self.new_user("walt")
            self.grant(ACL("User:walt", "*", ACLOperation.DESCRIBE, ACLPermissionType.ALLOW,
                           ResourcePattern(ResourceType.TRANSACTIONAL_ID, transactional_id)),
                       ACL("User:walt", "*", ACLOperation.DESCRIBE, ACLPermissionType.ALLOW,
                           ResourcePattern(ResourceType.TOPIC, "txn-seen")))
            # Control: the super user sees both topics of the open transaction.
            full, = describe_transactions(self.logged_in(ADMIN), [transactional_id])
            self.assertEqual((full["error"], full["state"]), (0, "Ongoing"))
            self.assertEqual(sorted((t["topic"], t["partitions"]) for t in full["topics"]),
                             [("txn-hidden", [0]), ("txn-seen", [0])])
            # Proves the topic walt may not DESCRIBE is left out (the rest of the answer kept).
            seen, = describe_transactions(self.logged_in(walt), [transactional_id])
            self.assertEqual((seen["error"], seen["state"], seen["producer_id"]),
                             (0, "Ongoing", full["producer_id"]))
            self.assertEqual([(t["topic"], t["partitions"]) for t in seen["topics"]],
                             [("txn-seen", [0])])
        finally:
            producer.abort_transaction(TIMEOUT_S)

    def test_consumer_group_describe_refuses_a_group_with_hidden_topics(self):
        group, member = "acl-cgd-group", "acl-cgd-member"
        ids = self.topic_ids()
        member_client = self.logged_in(ADMIN, lambda b: Kip848Client(b, ids))
        joined = member_client.consumer_heartbeat(
            group, member, 0, rebalance_timeout=30000, topics=["cgd-seen", "cgd-hidden"],
            owned={})
        self.assertEqual(joined["error"], 0, joined)
        self.assertEqual(joined["assignment"], {"cgd-seen": [0], "cgd-hidden": [0]})
        try:
            xena = self.new_user("xena")
            self.grant(ACL("User:xena", "*", ACLOperation.DESCRIBE, ACLPermissionType.ALLOW,
                           ResourcePattern(ResourceType.GROUP, group)),
                       ACL("User:xena", "*", ACLOperation.DESCRIBE, ACLPermissionType.ALLOW,
                           ResourcePattern(ResourceType.TOPIC, "cgd-seen")))
            # Control: the super user gets the group and its member's assignment.
            full, = member_client.consumer_describe([group])
            self.assertEqual(full["error"], 0)
            self.assertEqual(full["members"][0]["assignment"],
                             {"cgd-seen": [0], "cgd-hidden": [0]})
            # Proves a group assigned a topic xena may not DESCRIBE is refused whole, members
            # (and so the hidden topic's name) left out.
            refused, = self.logged_in(xena, lambda b: Kip848Client(b, ids)).consumer_describe(
                [group])
            self.assertEqual((refused["group_id"], refused["error"], refused["members"]),
                             (group, TOPIC_AUTHORIZATION_FAILED, []))
            self.assertNotIn("cgd-hidden", refused["message"] or "")
        finally:
            left = member_client.consumer_heartbeat(group, member, -1)
            self.assertEqual(left["error"], 0, left)

    def test_add_partitions_to_txn_refuses_internal_topics_even_to_super_users(self):
        client = txn_wire.TxnClient(self.sasl_bootstrap)
        self.addCleanup(client.close)
        self.assertEqual(sasl.login(client.connection, "SCRAM-SHA-512", *ADMIN)[0], 0)
        transactional_id = "acl-internal-tx"
        producer_id, epoch = client.init_settled(transactional_id)
        # Proves internal topics are refused even to the super user, before anything is added.
        errors = client.add_partitions(transactional_id, producer_id, epoch, {
            "__consumer_offsets": [0], "__transaction_state": [0], "tx-out": [0]})
        self.assertEqual(errors, {("__consumer_offsets", 0): TOPIC_AUTHORIZATION_FAILED,
                                  ("__transaction_state", 0): TOPIC_AUTHORIZATION_FAILED,
                                  ("tx-out", 0): txn_wire.OPERATION_NOT_ATTEMPTED})
        # Control: the same producer may add an ordinary topic.
        errors = client.add_partitions(transactional_id, producer_id, epoch, {"tx-out": [0]})
        self.assertEqual(errors, {("tx-out", 0): txn_wire.NONE})
        self.assertEqual(client.end_txn(transactional_id, producer_id, epoch, False),
                         txn_wire.NONE)

    def test_offset_commit_keeps_topic_refusals_beside_group_errors(self):
        """A group error (here: a generation the group never had) answers the partitions alice
        may read; the topic she may not read keeps TOPIC_AUTHORIZATION_FAILED (Kafka merges
        the two answers, it does not let the group's error overwrite the refusal)."""
        self.grant(ACL("User:alice", "*", ACLOperation.READ, ACLPermissionType.ALLOW,
                       ResourcePattern(ResourceType.GROUP, "acl-commit",
                                       ACLResourcePatternType.LITERAL)),
                   ACL("User:alice", "*", ACLOperation.READ, ACLPermissionType.ALLOW,
                       ResourcePattern(ResourceType.TOPIC, "public-news",
                                       ACLResourcePatternType.LITERAL)))
        with kw.Connection(self.sasl_bootstrap) as conn:
            self.assertEqual(sasl.login(conn, "SCRAM-SHA-256", *ALICE)[0], 0)
            response = conn.request(OffsetCommitRequest_v2(
                "acl-commit", 5, "ghost", -1,
                [("public-news", [(0, 1, "")]), ("secret", [(0, 1, "")])]), 31)
        errors = {topic: partitions[0][1] for topic, partitions in response.topics}
        self.assertEqual(errors["secret"], 29)  # TOPIC_AUTHORIZATION_FAILED
        self.assertNotIn(errors["public-news"], (0, 29))  # the group's own error

    # ----- durability (last: restarts the broker)

    def test_zz_acls_survive_kill_9(self):
        self.grant(ACL("User:bob", "*", ACLOperation.WRITE, ACLPermissionType.ALLOW,
                       ResourcePattern(ResourceType.TOPIC, "durable-",
                                       ACLResourcePatternType.PREFIXED)))
        results = self.admin().delete_acls([ACLFilter(
            "User:bob", None, ACLOperation.READ, ACLPermissionType.ALLOW,
            ResourcePatternFilter(ResourceType.TOPIC, "*", ACLResourcePatternType.LITERAL))])
        self.assertEqual(len(results[0][1]), 1)
        os.kill(self.broker.pid, signal.SIGKILL)
        self.broker.process.wait(30)
        type(self).broker = Broker(shards=2, listen=None, data_dir=self.broker.data_dir,
                                   extra_args=self.args).start()
        self.find_ports()
        found, _ = self.admin().describe_acls(ACLFilter(
            "User:bob", None, ACLOperation.ANY, ACLPermissionType.ANY,
            ResourcePatternFilter(ResourceType.ANY, None, ACLResourcePatternType.ANY)))
        names = sorted((a.resource_pattern.resource_name, a.operation) for a in found)
        self.assertIn(("durable-", ACLOperation.WRITE), names)
        self.assertNotIn(("*", ACLOperation.READ), names)
        # WRITE but no CREATE: the auto-creation Metadata asks for is refused.
        self.assertEqual(self.produce(BOB, "SCRAM-SHA-512", "durable-topic", count=1)[0].code(),
                         KafkaError.TOPIC_AUTHORIZATION_FAILED)
        self.produce(ADMIN, "SCRAM-SHA-512", "durable-topic", count=1)  # super: auto-creates
        self.assertEqual(self.produce(BOB, "SCRAM-SHA-512", "durable-topic", count=1), [None])


class SetupTest(unittest.TestCase):
    def test_security_disabled_without_the_authorizer(self):
        with Broker(shards=1) as broker:
            with kw.Connection(broker.bootstrap) as conn:
                self.assertEqual(describe_acls_v1_error(conn), SECURITY_DISABLED)
                answers = create_acls_v1(conn, [(2, "t", 3, "User:x", "*", 3, 3)])
                self.assertEqual([e for e, _ in answers], [SECURITY_DISABLED])

    def test_bad_super_users_refuse_to_start(self):
        directory = tempfile.mkdtemp(prefix="cairn-acl-")
        self.addCleanup(shutil.rmtree, directory, True)
        done = subprocess.run([cairn_binary(), "serve", "--data-dir", directory, "--listen",
                               "127.0.0.1:0", "--set", "super.users=admin"],
                              capture_output=True, text=True, timeout=TIMEOUT_S)
        self.assertNotEqual(done.returncode, 0)
        self.assertIn("super.users", done.stderr)


if __name__ == "__main__":
    unittest.main()
