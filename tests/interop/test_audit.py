#!/usr/bin/python3
"""The access audit log (audit.log.enabled, docs/audit.md) with real clients.

One broker runs PLAINTEXT (anonymous, a super user here, for the test's admin calls) and
SASL_PLAINTEXT listeners with ACLs on, the audit log in a file of the test's choosing and in
__cairn_audit. alice (SCRAM-SHA-256) may write and read the topics `patients` (which has
cairn.audit.access=true) and `news` (which has not), and nothing else. Checked:

- logins: a success, a wrong password and an unknown user (SCRAM), a wrong PLAIN password, each
  one line with its principal, mechanism, listener and client address;
- denials: alice producing to a topic she may see but not write is one authorization event
  (api Produce, WRITE, TOPIC, her client.id); listing every topic (Metadata), which hides the
  ones she may not see, records no denial;
- access: her reads and writes of `patients` are recorded with their partitions, those of
  `news` are not;
- __cairn_audit holds the same events as the file, is immutable (DeleteRecords, DeleteTopics,
  lowering retention.ms refused; raising it allowed) and clients cannot produce to it;
- SIGHUP after moving the file starts a new one; events survive kill -9, and a restart
  appends to the file rather than replacing it;
- a file the broker cannot create stops the start with a clear message.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import admin_wire as aw  # noqa: E402
from harness import Broker, cairn_binary  # noqa: E402
import kafka_wire as kw  # noqa: E402
import sasl_support as sasl  # noqa: E402
import tls_support as tls  # noqa: E402

import confluent_kafka  # noqa: E402
from confluent_kafka import KafkaError, TopicPartition  # noqa: E402
from confluent_kafka.admin import AdminClient  # noqa: E402
from kafka.admin import (ACL, ACLOperation, ACLPermissionType,  # noqa: E402
                         ACLResourcePatternType, KafkaAdminClient, ResourcePattern,
                         ResourceType)

TIMEOUT_S = 60
ADMIN = ("admin", "admin-secret")
ALICE = ("alice", "alice-secret")
AUDIT_TOPIC = "__cairn_audit"


class AuditTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.directory = tempfile.mkdtemp(prefix="cairn-audit-")
        cls.audit_file = os.path.join(cls.directory, "logs", "audit.log")
        cls.args = ["--listeners", "PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0",
                    "--set", "sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512",
                    "--set", "authorizer.enabled=true",
                    "--set", "super.users=User:admin;User:ANONYMOUS",
                    "--set", "audit.log.enabled=true",
                    "--set", "audit.log.file=" + cls.audit_file,
                    "--set", "audit.log.topic.enable=true",
                    "--set", "audit.log.topic.retention.ms=86400000",
                    "--bootstrap-user", "%s:%s:SCRAM-SHA-512" % ADMIN]
        cls.broker = Broker(shards=2, listen=None, extra_args=cls.args).start()
        cls.find_ports()
        with kw.Connection(cls.sasl_bootstrap) as conn:
            assert sasl.login(conn, "SCRAM-SHA-512", *ADMIN)[0] == 0
            results = sasl.alter_users(conn, upsert=[("alice", "SCRAM-SHA-256", ALICE[1], 4096)])
            assert all(e == (0, None) for e in results.values()), results
        with aw.Admin(cls.plain_bootstrap) as admin:
            created = admin.create_topic("patients", partitions=2,
                                         configs={"cairn.audit.access": "true"})
            assert created[0] == 0, created
            assert admin.create_topic("news", partitions=1)[0] == 0
            assert admin.create_topic("secret", partitions=1)[0] == 0
            assert admin.create_topic("hidden", partitions=1)[0] == 0
        acls = [ACL("User:alice", "*", operation, ACLPermissionType.ALLOW,
                    ResourcePattern(ResourceType.TOPIC, topic, ACLResourcePatternType.LITERAL))
                for topic in ("patients", "news")
                for operation in (ACLOperation.WRITE, ACLOperation.READ, ACLOperation.DESCRIBE)]
        # `secret`: alice may see it (DESCRIBE) but not write it; `hidden`: nothing at all.
        acls.append(ACL("User:alice", "*", ACLOperation.DESCRIBE, ACLPermissionType.ALLOW,
                        ResourcePattern(ResourceType.TOPIC, "secret",
                                        ACLResourcePatternType.LITERAL)))
        acls.append(ACL("User:alice", "*", ACLOperation.READ, ACLPermissionType.ALLOW,
                        ResourcePattern(ResourceType.GROUP, "audit-",
                                        ACLResourcePatternType.PREFIXED)))
        client = KafkaAdminClient(bootstrap_servers=cls.plain_bootstrap,
                                  request_timeout_ms=TIMEOUT_S * 1000)
        try:
            assert client.create_acls(acls)["failed"] == []
        finally:
            client.close()

    @classmethod
    def find_ports(cls):
        ports = tls.listeners(cls.broker.stderr())
        cls.plain_bootstrap = "127.0.0.1:%d" % ports["PLAINTEXT"][0]
        cls.sasl_bootstrap = "127.0.0.1:%d" % ports["SASL_PLAINTEXT"][0]

    @classmethod
    def tearDownClass(cls):
        cls.broker.stop()
        shutil.rmtree(cls.directory, True)

    # ----- helpers

    def events(self, path=None, want=None, timeout_s=TIMEOUT_S):
        """The file's events; with `want` (a predicate on the list), waits until it holds."""
        deadline = time.monotonic() + timeout_s
        while True:
            found = []
            if os.path.exists(path or self.audit_file):
                with open(path or self.audit_file) as f:
                    found = [json.loads(line) for line in f]
            if want is None or want(found) or time.monotonic() > deadline:
                return found
            time.sleep(0.1)

    def matching(self, want_count=1, path=None, **fields):
        """The events whose fields equal `fields`, once at least `want_count` exist."""
        def select(found):
            return [e for e in found if all(e.get(k) == v for k, v in fields.items())]
        found = self.events(path, want=lambda f: len(select(f)) >= want_count)
        return select(found)

    def client_config(self, user=ALICE, mechanism="SCRAM-SHA-256", client_id="audit-test"):
        return {"bootstrap.servers": self.sasl_bootstrap, "security.protocol": "SASL_PLAINTEXT",
                "sasl.mechanisms": mechanism, "sasl.username": user[0],
                "sasl.password": user[1], "client.id": client_id}

    def produce(self, topic, count=2, partition=None, client_id="audit-test"):
        producer = confluent_kafka.Producer(self.client_config(client_id=client_id))
        errors = []
        for i in range(count):
            kwargs = {} if partition is None else {"partition": partition}
            producer.produce(topic, b"m%d" % i, on_delivery=lambda e, m: errors.append(e),
                             **kwargs)
        producer.flush(TIMEOUT_S)
        self.assertEqual(len(errors), count)
        return errors

    def consume(self, topic, partitions, want, config=None):
        consumer = confluent_kafka.Consumer(dict(config or self.client_config(),
                                                 **{"group.id": "audit-readers",
                                                    "auto.offset.reset": "earliest",
                                                    "enable.auto.commit": False}))
        consumer.assign([TopicPartition(topic, p, 0) for p in partitions])
        got = []
        deadline = time.monotonic() + TIMEOUT_S
        try:
            while len(got) < want and time.monotonic() < deadline:
                message = consumer.poll(0.5)
                if message is not None and not message.error():
                    got.append(message)
        finally:
            consumer.close()
        self.assertGreaterEqual(len(got), want)
        return got

    def login(self, mechanism, user, password):
        with kw.Connection(self.sasl_bootstrap) as conn:
            answer = sasl.login(conn, mechanism, user, password)
            return conn.sock.getsockname()[1], answer

    # ----- authentication

    def test_logins_success_and_failures(self):
        port, answer = self.login("SCRAM-SHA-256", *ALICE)
        self.assertEqual(answer[0], 0)
        client = "127.0.0.1:%d" % port
        ok = self.matching(type="authentication", client=client)[0]
        self.assertEqual(ok["result"], "success")
        self.assertEqual(ok["principal"], "User:alice")
        self.assertEqual(ok["mechanism"], "SCRAM-SHA-256")
        self.assertEqual(ok["listener"], "SASL_PLAINTEXT")
        self.assertRegex(ok["time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")

        for mechanism, user, password in (("SCRAM-SHA-256", "alice", "wrong"),
                                          ("SCRAM-SHA-512", "nobody", "x"),
                                          ("PLAIN", "alice", "wrong")):
            port, answer = self.login(mechanism, user, password)
            self.assertNotEqual(answer and answer[0], 0)
            failed = self.matching(type="authentication", client="127.0.0.1:%d" % port)[0]
            self.assertEqual(failed["result"], "failure")
            self.assertEqual(failed["mechanism"], mechanism)
            self.assertEqual(failed["principal"], "User:" + user)  # the name it claimed
            self.assertTrue(failed["reason"])

    # ----- authorization

    def test_denials_are_recorded_and_filters_are_not(self):
        errors = self.produce("secret", count=1, client_id="denied-writer")
        self.assertEqual(errors[0].code(), KafkaError.TOPIC_AUTHORIZATION_FAILED)
        denied = self.matching(type="authorization", client_id="denied-writer", api="Produce")
        self.assertEqual(denied[0]["result"], "denied")
        self.assertEqual(denied[0]["principal"], "User:alice")
        self.assertEqual(denied[0]["operation"], "WRITE")
        self.assertEqual(denied[0]["resource_type"], "TOPIC")
        self.assertEqual(denied[0]["resource"], "secret")

        # Listing every topic hides `hidden` from alice without a denial event.
        admin = AdminClient(self.client_config(client_id="lister"))
        seen = set(admin.list_topics(timeout=TIMEOUT_S).topics)
        self.assertNotIn("hidden", seen)
        self.assertIn("secret", seen)
        self.assertIn("patients", seen)
        # A login after the listing: once its event is in, a denial from the listing would be.
        port, _ = self.login("SCRAM-SHA-256", *ALICE)
        self.matching(type="authentication", client="127.0.0.1:%d" % port)
        self.assertEqual([e for e in self.events() if e.get("client_id") == "lister"
                          and e["type"] == "authorization"], [])

    # ----- access to opted-in topics

    def test_reads_and_writes_of_audited_topics_only(self):
        self.assertEqual(self.produce("patients", count=2, partition=1,
                                      client_id="ward-writer"), [None, None])
        self.assertEqual(self.produce("news", count=2, client_id="ward-writer"), [None, None])
        port, _ = self.login("SCRAM-SHA-256", *ALICE)  # after both: its event comes last
        self.matching(type="authentication", client="127.0.0.1:%d" % port)
        writes = self.matching(type="access", client_id="ward-writer")
        self.assertEqual({(e["resource"], e["operation"]) for e in writes},
                         {("patients", "WRITE")})
        self.assertEqual(writes[0]["partitions"], [1])
        self.assertEqual(writes[0]["result"], "allowed")
        self.assertEqual(writes[0]["api"], "Produce")

        self.consume("patients", [1], 2, self.client_config(client_id="ward-reader"))
        self.consume("news", [0], 2, self.client_config(client_id="ward-reader"))
        port, _ = self.login("SCRAM-SHA-256", *ALICE)
        self.matching(type="authentication", client="127.0.0.1:%d" % port)
        reads = self.matching(type="access", client_id="ward-reader", operation="READ")
        self.assertEqual({e["resource"] for e in reads}, {"patients"})
        self.assertEqual(reads[0]["partitions"], [1])
        self.assertEqual(reads[0]["api"], "Fetch")
        self.assertEqual(reads[0]["principal"], "User:alice")

    # ----- __cairn_audit

    def test_audit_topic_holds_the_events_and_is_immutable(self):
        self.login("SCRAM-SHA-256", *ALICE)
        in_file = self.matching(type="authentication", result="success")
        plain = {"bootstrap.servers": self.plain_bootstrap}
        consumer_config = dict(plain, **{"group.id": "audit-topic-check",
                                         "auto.offset.reset": "earliest"})
        messages = self.consume(AUDIT_TOPIC, [0], len(in_file), consumer_config)
        in_topic = [json.loads(m.value()) for m in messages]
        for event in in_file:
            self.assertIn(event, in_topic)

        with aw.Admin(self.plain_bootstrap) as admin:
            configs = admin.topic_configs(AUDIT_TOPIC)
            self.assertEqual(configs["cairn.immutable"][0], "true")
            self.assertEqual(configs["retention.ms"][0], "86400000")
            self.assertEqual(admin.delete_records(AUDIT_TOPIC, {0: -1})[0][1],
                             aw.POLICY_VIOLATION)
            self.assertEqual(admin.delete_topics([AUDIT_TOPIC])[0][1], aw.POLICY_VIOLATION)
            lowered = admin.incremental_alter_configs(
                [(aw.TOPIC, AUDIT_TOPIC, [("retention.ms", 0, "1000")])])[0][0]
            self.assertEqual(lowered, aw.POLICY_VIOLATION)
            raised = admin.incremental_alter_configs(
                [(aw.TOPIC, AUDIT_TOPIC, [("retention.ms", 0, "172800000")])])[0][0]
            self.assertEqual(raised, aw.NONE)
        producer = confluent_kafka.Producer(plain)
        errors = []
        producer.produce(AUDIT_TOPIC, b"forged", on_delivery=lambda e, m: errors.append(e))
        producer.flush(TIMEOUT_S)
        self.assertEqual(errors[0].code(), KafkaError.TOPIC_EXCEPTION)

    # ----- the file's life (last: they restart the broker)

    def test_zy_sighup_reopens_a_moved_file(self):
        self.login("SCRAM-SHA-256", *ALICE)
        before = len(self.events())
        self.assertGreater(before, 0)
        rotated = self.audit_file + ".1"
        os.rename(self.audit_file, rotated)
        os.kill(self.broker.pid, signal.SIGHUP)
        deadline = time.monotonic() + TIMEOUT_S
        while not os.path.exists(self.audit_file) and time.monotonic() < deadline:
            self.login("SCRAM-SHA-256", *ALICE)
            time.sleep(0.2)
        port, _ = self.login("SCRAM-SHA-256", *ALICE)
        self.matching(type="authentication", client="127.0.0.1:%d" % port)
        self.assertEqual(self.matching(path=rotated, client="127.0.0.1:%d" % port,
                                       want_count=0), [])
        self.assertGreaterEqual(len(self.events(rotated)), before)

    def test_zz_events_survive_kill_9_and_a_restart_appends(self):
        port, _ = self.login("SCRAM-SHA-256", "alice", "wrong-before-kill")
        client = "127.0.0.1:%d" % port
        self.matching(type="authentication", client=client)
        lines_before = len(self.events())
        os.kill(self.broker.pid, signal.SIGKILL)
        self.broker.process.wait(30)
        type(self).broker = Broker(shards=2, listen=None, data_dir=self.broker.data_dir,
                                   extra_args=self.args).start()
        self.find_ports()
        port, _ = self.login("SCRAM-SHA-256", *ALICE)
        self.matching(type="authentication", client="127.0.0.1:%d" % port)
        after = self.events()
        self.assertGreater(len(after), lines_before)
        self.assertEqual([e for e in after if e["client"] == client][0]["result"], "failure")
        # The topic kept the event from before the kill too.
        consumer_config = {"bootstrap.servers": self.plain_bootstrap,
                           "group.id": "audit-after-kill", "auto.offset.reset": "earliest"}
        messages = self.consume(AUDIT_TOPIC, [0], 1, consumer_config)
        deadline = time.monotonic() + TIMEOUT_S
        values = [json.loads(m.value()) for m in messages]
        consumer = confluent_kafka.Consumer(consumer_config)
        consumer.assign([TopicPartition(AUDIT_TOPIC, 0, 0)])
        try:
            while (not any(v.get("client") == client for v in values)
                   and time.monotonic() < deadline):
                message = consumer.poll(0.5)
                if message is not None and not message.error():
                    values.append(json.loads(message.value()))
        finally:
            consumer.close()
        self.assertTrue(any(v.get("client") == client for v in values))


class SetupTest(unittest.TestCase):
    def test_an_unwritable_file_stops_the_start(self):
        directory = tempfile.mkdtemp(prefix="cairn-audit-")
        self.addCleanup(shutil.rmtree, directory, True)
        blocker = os.path.join(directory, "not-a-directory")
        with open(blocker, "w") as f:
            f.write("x")
        done = subprocess.run([cairn_binary(), "serve", "--data-dir",
                               os.path.join(directory, "data"), "--listen", "127.0.0.1:0",
                               "--set", "audit.log.enabled=true",
                               "--set", "audit.log.file=" + os.path.join(blocker, "audit.log")],
                              capture_output=True, text=True, timeout=TIMEOUT_S)
        self.assertNotEqual(done.returncode, 0)
        self.assertIn("audit log", done.stderr)

    def test_off_by_default(self):
        with Broker(shards=1) as broker:
            with aw.Admin(broker.bootstrap) as admin:
                self.assertEqual(admin.partition_counts([AUDIT_TOPIC])[AUDIT_TOPIC],
                                 -aw.UNKNOWN_TOPIC_OR_PARTITION)
            self.assertFalse(os.path.exists(os.path.join(broker.data_dir, "audit.log")))


if __name__ == "__main__":
    unittest.main()
