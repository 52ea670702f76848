"""SASL (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512) with real clients, and SCRAM users managed through
DescribeUserScramCredentials / AlterUserScramCredentials.

One broker runs PLAINTEXT, SASL_PLAINTEXT and SASL_SSL listeners with all three mechanisms and
a bootstrap user (--bootstrap-user admin:...:SCRAM-SHA-512):

- users created and deleted with AlterUserScramCredentials (SaltedPassword computed here with
  hashlib), listed with Describe, and every Kafka error of those APIs;
- kcat (SCRAM-SHA-256), confluent-kafka-python (SCRAM-SHA-512 over SASL_SSL), kafka-python 2.0
  (PLAIN and SCRAM over SaslHandshake v0 and bare tokens) and kafkajs (PLAIN, SCRAM-SHA-512)
  produce and consume; data crosses listeners;
- negative paths: a wrong password and an unknown user (SASL_AUTHENTICATION_FAILED, then the
  connection closes; frames pipelined after a failed login never run; an unknown user's
  server-first looks like a known one's), a request before the login (closed), a mechanism not enabled
  (UNSUPPORTED_SASL_MECHANISM), SaslAuthenticate without SaslHandshake (ILLEGAL_SASL_STATE),
  a frame over 512 KiB before the login (closed), SaslHandshake on the PLAINTEXT listener;
- 200 failed logins then a good one; 300 idle unauthenticated connections while an
  authenticated client produces; the failure counter in /metrics;
- users survive kill -9 (and a deletion stays deleted).

ReauthTest: connections.max.reauth.ms (KIP-368): the session lifetime is announced, a request
after it closes the connection, a re-login on the same connection extends it, and a re-login as
someone else is refused. BootstrapFromEnvTest: CAIRN_BOOTSTRAP_USER, and --print-config does
not show the password.
"""
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Broker, cairn_binary  # noqa: E402
import js_support  # noqa: E402
import kafka_wire as kw  # noqa: E402
import sasl_support as sasl  # noqa: E402
import tls_support as tls  # noqa: E402

TIMEOUT_S = 120
ADMIN = ("admin", "admin-secret")
MECHANISMS = "PLAIN,SCRAM-SHA-256,SCRAM-SHA-512"


def metadata_v1_frame(correlation_id=9):
    return kw.framed(kw.raw_header_v1(3, 1, correlation_id) + b"\xff\xff\xff\xff")


def closed(conn):
    try:
        return conn.closed_by_broker()
    except socket.timeout:
        return False


class SaslTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.directory = tempfile.mkdtemp(prefix="cairn-sasl-")
        pki = tls.Pki(os.path.join(cls.directory, "ca"))
        cls.ca = pki.ca_cert
        cert, key = pki.issue("server", "/CN=localhost/O=Cairn Test", server=True)
        cls.args = ["--listeners",
                    "PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0,SASL_SSL://127.0.0.1:0",
                    "--ssl-keystore-location", cert, "--ssl-key-location", key,
                    "--set", "sasl.enabled.mechanisms=" + MECHANISMS,
                    "--bootstrap-user", "%s:%s:SCRAM-SHA-512" % ADMIN]
        cls.broker = Broker(shards=2, listen=None, extra_args=cls.args,
                            topics={"sasl-kcat": 1, "sasl-confluent": 1, "sasl-kafka-python": 1,
                                    "sasl-kafkajs": 1, "sasl-load": 1}).start()
        cls.find_ports()
        with kw.Connection(cls.sasl_bootstrap) as conn:
            answer = sasl.login(conn, "SCRAM-SHA-512", *ADMIN)
            assert answer[0] == 0, answer
            results = sasl.alter_users(conn, upsert=[
                ("alice", "SCRAM-SHA-256", "alice-secret", 8192),
                ("bob", "SCRAM-SHA-512", "bob-secret", 4096),
                ("bob", "SCRAM-SHA-256", "bob-secret-256", 4096)])
            assert results == {"alice": (0, None), "bob": (0, None)}, results

    @classmethod
    def find_ports(cls):
        ports = tls.listeners(cls.broker.stderr())
        cls.plain_bootstrap = "127.0.0.1:%d" % ports["PLAINTEXT"][0]
        cls.sasl_bootstrap = "127.0.0.1:%d" % ports["SASL_PLAINTEXT"][0]
        cls.sasl_ssl_bootstrap = "127.0.0.1:%d" % ports["SASL_SSL"][0]

    @classmethod
    def tearDownClass(cls):
        cls.broker.stop()
        shutil.rmtree(cls.directory, ignore_errors=True)

    def kcat(self, mechanism, user, password, *args, stdin=None, check=True):
        command = ["kcat", "-b", self.sasl_bootstrap, "-X", "security.protocol=SASL_PLAINTEXT",
                   "-X", "sasl.mechanisms=" + mechanism, "-X", "sasl.username=" + user,
                   "-X", "sasl.password=" + password] + list(args)
        return subprocess.run(command, input=stdin, check=check, timeout=TIMEOUT_S,
                              capture_output=True)

    # ----- users

    def test_describe_lists_the_users_with_their_iterations(self):
        with kw.Connection(self.sasl_bootstrap) as conn:
            self.assertEqual(sasl.login(conn, "SCRAM-SHA-512", *ADMIN)[0], 0)
            error, users = sasl.describe_users(conn)
            self.assertEqual(error, 0)
            self.assertEqual(users["alice"], (0, [(1, 8192)]))
            self.assertEqual(sorted(users["bob"][1]), [(1, 4096), (2, 4096)])
            self.assertEqual(users["admin"], (0, [(2, 4096)]))
            error, users = sasl.describe_users(conn, ["alice", "nobody", "bob", "bob"])
            self.assertEqual(users["alice"][0], 0)
            self.assertEqual(users["nobody"][0], sasl.RESOURCE_NOT_FOUND)
            self.assertEqual(users["bob"][0], sasl.DUPLICATE_RESOURCE)

    def test_alter_errors_are_kafkas_and_per_user(self):
        with kw.Connection(self.plain_bootstrap) as conn:
            results = sasl.alter_users(
                conn,
                upsert=[("", "SCRAM-SHA-256", "x", 4096),
                        ("few", "SCRAM-SHA-256", "x", 1000),
                        ("many", "SCRAM-SHA-256", "x", 20000),
                        ("weird", 3, "x", 4096),
                        ("twice", "SCRAM-SHA-256", "x", 4096),
                        ("twice", "SCRAM-SHA-256", "y", 4096),
                        ("good", "SCRAM-SHA-256", "good-secret", 4096),
                        ("mixed", "SCRAM-SHA-256", "m", 4096)],
                delete=[("ghost", "SCRAM-SHA-256"), ("mixed", "SCRAM-SHA-512")])
            self.assertEqual(results[""][0], sasl.UNACCEPTABLE_CREDENTIAL)
            self.assertEqual(results["few"][0], sasl.UNACCEPTABLE_CREDENTIAL)
            self.assertEqual(results["many"][0], sasl.UNACCEPTABLE_CREDENTIAL)
            self.assertEqual(results["weird"][0], sasl.UNSUPPORTED_SASL_MECHANISM)
            self.assertEqual(results["twice"][0], sasl.DUPLICATE_RESOURCE)
            self.assertEqual(results["ghost"][0], sasl.RESOURCE_NOT_FOUND)
            self.assertEqual(results["mixed"][0], sasl.RESOURCE_NOT_FOUND)
            self.assertEqual(results["good"], (0, None))
            big = sasl.alter_users(conn, upsert=[("bigsalt", "SCRAM-SHA-256", "x", 4096)],
                                   salt_bytes=2000)
            self.assertEqual(big["bigsalt"][0], sasl.UNACCEPTABLE_CREDENTIAL)
            long_name = sasl.alter_users(conn, upsert=[("n" * 1100, "SCRAM-SHA-256", "x", 4096)])
            self.assertEqual(long_name["n" * 1100][0], sasl.UNACCEPTABLE_CREDENTIAL)
            _, users = sasl.describe_users(conn, ["good", "mixed", "twice", "few"])
            self.assertEqual(users["good"][0], 0)
            for name in ("mixed", "twice", "few"):  # nothing of a failed user was applied
                self.assertEqual(users[name][0], sasl.RESOURCE_NOT_FOUND, name)
        with kw.Connection(self.sasl_bootstrap) as conn:
            self.assertEqual(sasl.login(conn, "SCRAM-SHA-256", "good", "good-secret")[0], 0)

    def cairn(self, *args, password=ADMIN[1], check=True):
        command = [cairn_binary()] + list(args) + [
            "-b", self.sasl_bootstrap, "-X", "security.protocol=sasl_plaintext",
            "-X", "sasl.mechanisms=SCRAM-SHA-512", "-X", "sasl.username=" + ADMIN[0],
            "-X", "sasl.password=" + password]
        return subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_S,
                              check=check)

    def test_cairn_user_commands_over_sasl(self):
        out = self.cairn("user", "create", "gina", "--password", "gina-secret", "--mechanism",
                         "SCRAM-SHA-256", "--iterations", "5000").stdout
        self.assertIn("user gina (SCRAM-SHA-256, 5000 iterations) set", out)
        listed = json.loads(self.cairn("user", "list", "--format", "json").stdout)
        self.assertIn({"user": "gina", "mechanism": "SCRAM-SHA-256", "iterations": 5000}, listed)
        with kw.Connection(self.sasl_bootstrap) as conn:
            self.assertEqual(sasl.login(conn, "SCRAM-SHA-256", "gina", "gina-secret")[0], 0)
        # librdkafka's commands log in the same way.
        self.assertIn("sasl-kcat", self.cairn("topic", "list").stdout)
        self.cairn("user", "delete", "gina")
        with kw.Connection(self.sasl_bootstrap) as conn:
            self.assertEqual(sasl.login(conn, "PLAIN", "gina", "gina-secret")[0],
                             sasl.SASL_AUTHENTICATION_FAILED)
        gone = self.cairn("user", "delete", "gina", check=False)
        self.assertEqual(gone.returncode, 1)
        self.assertIn("user gina does not exist", gone.stderr)
        denied = self.cairn("user", "list", password="wrong", check=False)
        self.assertEqual(denied.returncode, 1)
        self.assertIn("SASL login", denied.stderr)

    def test_cairn_user_commands_over_sasl_ssl(self):
        def run(*args, bootstrap=self.sasl_ssl_bootstrap, ca=self.ca):
            command = [cairn_binary()] + list(args) + [
                "-b", bootstrap, "-X", "security.protocol=SASL_SSL",
                "-X", "sasl.mechanisms=SCRAM-SHA-512", "-X", "sasl.username=" + ADMIN[0],
                "-X", "sasl.password=" + ADMIN[1]]
            if ca:
                command += ["-X", "ssl.ca.location=" + ca]
            return subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_S)
        done = run("user", "create", "hank", "--password", "hank-secret", "--mechanism",
                   "SCRAM-SHA-256")
        self.assertEqual(done.returncode, 0, done.stderr)
        # By host name too: the broker's certificate names localhost and 127.0.0.1.
        done = run("user", "list", "--format", "json",
                   bootstrap=self.sasl_ssl_bootstrap.replace("127.0.0.1", "localhost"))
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertIn({"user": "hank", "mechanism": "SCRAM-SHA-256", "iterations": 4096},
                      json.loads(done.stdout))
        with kw.Connection(self.sasl_bootstrap) as conn:
            self.assertEqual(sasl.login(conn, "SCRAM-SHA-256", "hank", "hank-secret")[0], 0)
        # Without our CA the broker's certificate does not verify (the system CAs do not know
        # it), and the command says so.
        untrusted = run("user", "list", ca=None)
        self.assertEqual(untrusted.returncode, 1)
        self.assertIn("certificate verify failed", untrusted.stderr)
        self.assertEqual(run("user", "delete", "hank").returncode, 0)

    # ----- clients

    def test_kcat_scram_sha_256(self):
        lines = ["kcat sasl %d" % i for i in range(100)]
        self.kcat("SCRAM-SHA-256", "alice", "alice-secret", "-P", "-t", "sasl-kcat", "-p", "0",
                  stdin=("\n".join(lines) + "\n").encode())
        out = self.kcat("SCRAM-SHA-256", "alice", "alice-secret", "-C", "-t", "sasl-kcat",
                        "-p", "0", "-o", "beginning", "-e", "-q").stdout.decode()
        self.assertEqual(out.splitlines(), lines)
        self.assertRegex(self.broker.stderr(), r"authenticated as User:alice \(SCRAM-SHA-256\)")
        # Produced with SASL, read on the PLAINTEXT listener.
        out = subprocess.run(["kcat", "-b", self.plain_bootstrap, "-C", "-t", "sasl-kcat", "-p",
                              "0", "-o", "beginning", "-e", "-q"], check=True,
                             capture_output=True, timeout=TIMEOUT_S).stdout.decode()
        self.assertEqual(out.splitlines(), lines)

    def test_kcat_with_a_wrong_password_gets_nothing(self):
        out = self.kcat("SCRAM-SHA-256", "alice", "wrong", "-L", check=False)
        self.assertNotEqual(out.returncode, 0)
        self.assertIn(b"authentication failed", (out.stderr + out.stdout).lower())

    def test_confluent_scram_sha_512_over_sasl_ssl(self):
        from confluent_kafka import Consumer, Producer
        config = {"bootstrap.servers": self.sasl_ssl_bootstrap, "security.protocol": "SASL_SSL",
                  "ssl.ca.location": self.ca, "sasl.mechanisms": "SCRAM-SHA-512",
                  "sasl.username": "bob", "sasl.password": "bob-secret"}
        values = [("confluent %d" % i).encode() + os.urandom(2000) for i in range(100)]
        producer = Producer(dict(config))
        for value in values:
            producer.produce("sasl-confluent", value=value, partition=0)
        self.assertEqual(producer.flush(TIMEOUT_S), 0)
        consumer = Consumer(dict(config, **{"group.id": "sasl-confluent",
                                            "auto.offset.reset": "earliest"}))
        consumer.subscribe(["sasl-confluent"])
        got = []
        deadline = time.monotonic() + TIMEOUT_S
        while len(got) < len(values) and time.monotonic() < deadline:
            message = consumer.poll(1.0)
            if message is not None and not message.error():
                got.append(message.value())
        consumer.close()
        self.assertEqual(got, values)

    def test_kafka_python_plain_and_scram_over_bare_tokens(self):
        from kafka import KafkaConsumer, KafkaProducer
        for mechanism, user, password in (("PLAIN", "alice", "alice-secret"),
                                          ("SCRAM-SHA-256", "bob", "bob-secret-256")):
            settings = {"bootstrap_servers": self.sasl_bootstrap,
                        "security_protocol": "SASL_PLAINTEXT", "sasl_mechanism": mechanism,
                        "sasl_plain_username": user, "sasl_plain_password": password}
            producer = KafkaProducer(**settings)
            for i in range(20):
                producer.send("sasl-kafka-python", ("%s %d" % (mechanism, i)).encode(),
                              partition=0)
            producer.flush(TIMEOUT_S)
            producer.close()
        consumer = KafkaConsumer("sasl-kafka-python", consumer_timeout_ms=10000,
                                 auto_offset_reset="earliest", **settings)
        values = [m.value.decode() for m in consumer]
        consumer.close()
        self.assertEqual(values, ["PLAIN %d" % i for i in range(20)]
                         + ["SCRAM-SHA-256 %d" % i for i in range(20)])

    def test_kafkajs_plain_and_scram_sha_512(self):
        js_support.ensure_node_modules("kafkajs")
        for mechanism, user, password in (("plain", "alice", "alice-secret"),
                                          ("scram-sha-512", "bob", "bob-secret")):
            out = subprocess.run(["node", "sasl_round_trip.js", self.sasl_bootstrap,
                                  "sasl-kafkajs", "10", mechanism, user, password],
                                 cwd=js_support.JS_DIR, capture_output=True, text=True,
                                 timeout=TIMEOUT_S)
            self.assertEqual(out.returncode, 0, out.stderr)
            self.assertEqual(len(out.stdout.splitlines()), 10)
        out = subprocess.run(["node", "sasl_round_trip.js", self.sasl_ssl_bootstrap,
                              "sasl-kafkajs", "10", "scram-sha-256", "alice", "nope", self.ca],
                             cwd=js_support.JS_DIR, capture_output=True, text=True,
                             timeout=TIMEOUT_S)
        self.assertEqual(out.returncode, 3, out.stdout + out.stderr)
        self.assertIn("AUTH_FAILED", out.stdout)

    # ----- negative paths on the wire

    def test_wrong_password_and_unknown_user_fail_then_close(self):
        for user, password in (("alice", "wrong"), ("nobody", "x")):
            for mechanism in ("PLAIN", "SCRAM-SHA-256"):
                with kw.Connection(self.sasl_bootstrap) as conn:
                    started = time.monotonic()
                    answer = sasl.login(conn, mechanism, user, password)
                    self.assertEqual(answer[0], sasl.SASL_AUTHENTICATION_FAILED,
                                     (user, mechanism, answer))
                    self.assertGreaterEqual(time.monotonic() - started, 0.09)  # the delay
                    self.assertTrue(closed(conn))

    def test_requests_before_the_login_close_the_connection(self):
        with kw.Connection(self.sasl_bootstrap) as conn:
            conn.send(kw.api_versions_v3_request(1))  # allowed
            self.assertIsNotNone(conn.read_frame())
            conn.send(metadata_v1_frame())
            self.assertTrue(closed(conn))
        with kw.Connection(self.sasl_bootstrap) as conn:
            self.assertEqual(sasl.handshake(conn, "PLAIN"), (0, MECHANISMS.split(",")))
            conn.send(metadata_v1_frame())  # handshake done, login not
            self.assertTrue(closed(conn))

    def test_mechanism_not_enabled_and_out_of_order_requests(self):
        with kw.Connection(self.sasl_bootstrap) as conn:
            error, mechanisms = sasl.handshake(conn, "GSSAPI")
            self.assertEqual(error, sasl.UNSUPPORTED_SASL_MECHANISM)
            self.assertEqual(mechanisms, MECHANISMS.split(","))
            self.assertTrue(closed(conn))
        with kw.Connection(self.sasl_bootstrap) as conn:
            answer = sasl.authenticate(conn, b"\0alice\0alice-secret", 2)
            self.assertEqual(answer[0], sasl.ILLEGAL_SASL_STATE)
            self.assertTrue(closed(conn))
        with kw.Connection(self.sasl_bootstrap) as conn:
            self.assertEqual(sasl.handshake(conn, "PLAIN")[0], 0)
            self.assertEqual(sasl.handshake(conn, "PLAIN", correlation_id=2)[0],
                             sasl.ILLEGAL_SASL_STATE)
            self.assertTrue(closed(conn))

    def test_frames_pipelined_after_a_failed_login_never_run(self):
        # Bare tokens (SaslHandshake v0): a bad token and two more frames in one write.
        with kw.Connection(self.sasl_bootstrap) as conn:
            self.assertEqual(sasl.handshake(conn, "SCRAM-SHA-256", version=0)[0], 0)
            conn.send(kw.framed(b"junk") + kw.framed(b"more junk") + metadata_v1_frame())
            self.assertTrue(closed(conn))
        # SaslAuthenticate with a wrong password, then a Metadata request, in one write.
        with kw.Connection(self.sasl_bootstrap) as conn:
            self.assertEqual(sasl.handshake(conn, "PLAIN")[0], 0)
            conn.send(kw.framed(kw.raw_header_v1(sasl.SASL_AUTHENTICATE, 1, 2)
                                + sasl.byte_string(b"\0alice\0wrong")) + metadata_v1_frame(3))
            payload = conn.read_frame()
            self.assertIsNotNone(payload)
            self.assertEqual(kw.Reader(payload).int32(), 2)  # only the SaslAuthenticate answer
            self.assertTrue(closed(conn))
        self.assertTrue(self.broker.alive())
        with kw.Connection(self.sasl_bootstrap) as conn:
            self.assertEqual(sasl.login(conn, "SCRAM-SHA-256", "alice", "alice-secret")[0], 0)

    def test_unknown_users_look_like_known_ones_in_server_first(self):
        def salt_of(user):
            with kw.Connection(self.sasl_bootstrap) as conn:
                self.assertEqual(sasl.handshake(conn, "SCRAM-SHA-256")[0], 0)
                client = sasl.ScramClient("SCRAM-SHA-256", user, "x")
                answer = sasl.authenticate(conn, client.first(), 2)
                self.assertEqual(answer[0], 0)
                attrs = dict(p.split("=", 1) for p in answer[2].decode().split(","))
                return attrs["s"], attrs["i"]
        self.assertEqual(salt_of("nobody"), salt_of("nobody"))
        self.assertEqual(salt_of("nobody")[1], "4096")
        self.assertNotEqual(salt_of("nobody"), salt_of("someone-else"))

    def test_large_frame_before_login_is_refused(self):
        with kw.Connection(self.sasl_bootstrap) as conn:
            conn.send(b"\x00\x09\x00\x00")  # 576 KiB announced, nothing allocated
            self.assertTrue(closed(conn))
        with kw.Connection(self.sasl_bootstrap) as conn:  # after a login the cap is lifted
            self.assertEqual(sasl.login(conn, "SCRAM-SHA-256", "alice", "alice-secret")[0], 0)
            big = kw.framed(kw.raw_header_v1(3, 1, 5) + b"\xff\xff\xff\xff" + b"\0" * 600000)
            conn.send(big)
            self.assertIsNotNone(conn.read_frame())

    def test_sasl_handshake_on_the_plaintext_listener(self):
        with kw.Connection(self.plain_bootstrap) as conn:
            self.assertEqual(sasl.handshake(conn, "PLAIN")[0], sasl.ILLEGAL_SASL_STATE)

    def test_many_failed_logins_then_a_good_one_and_idle_connections(self):
        idle = [socket.create_connection(("127.0.0.1", int(self.sasl_bootstrap.split(":")[1])))
                for _ in range(300)]
        failures = []

        def fail_ten():
            for _ in range(10):
                with kw.Connection(self.sasl_bootstrap) as conn:
                    failures.append(sasl.login(conn, "PLAIN", "alice", "guess")[0])

        threads = [threading.Thread(target=fail_ten) for _ in range(20)]
        for t in threads:
            t.start()
        # Meanwhile an authenticated client works.
        lines = ["under load %d" % i for i in range(200)]
        self.kcat("SCRAM-SHA-256", "alice", "alice-secret", "-P", "-t", "sasl-load", "-p", "0",
                  stdin=("\n".join(lines) + "\n").encode())
        for t in threads:
            t.join(TIMEOUT_S)
        self.assertEqual(failures, [sasl.SASL_AUTHENTICATION_FAILED] * 200)
        with kw.Connection(self.sasl_bootstrap) as conn:
            self.assertEqual(sasl.login(conn, "PLAIN", "alice", "alice-secret")[0], 0)
        out = self.kcat("SCRAM-SHA-256", "alice", "alice-secret", "-C", "-t", "sasl-load", "-p",
                        "0", "-o", "beginning", "-e", "-q").stdout.decode()
        self.assertEqual(out.splitlines(), lines)
        for s in idle:
            s.close()
        metrics = urllib.request.urlopen(self.broker.admin_url + "/metrics",
                                         timeout=30).read().decode()
        failed = [line for line in metrics.splitlines()
                  if line.startswith('cairn_authentication_total{result="failure"}')]
        self.assertEqual(len(failed), 1, metrics)
        self.assertGreaterEqual(float(failed[0].split()[-1]), 200)

    # ----- durability (last: restarts the broker)

    def test_zz_users_survive_kill_9(self):
        with kw.Connection(self.plain_bootstrap) as conn:
            self.assertEqual(sasl.alter_users(conn, upsert=[("durable", "SCRAM-SHA-512",
                                                             "d-secret", 4096)]),
                             {"durable": (0, None)})
            self.assertEqual(sasl.alter_users(conn, delete=[("bob", "SCRAM-SHA-256")]),
                             {"bob": (0, None)})
        os.kill(self.broker.pid, signal.SIGKILL)
        self.broker.process.wait(30)
        type(self).broker = Broker(shards=2, listen=None, data_dir=self.broker.data_dir,
                                   extra_args=self.args).start()
        self.find_ports()
        with kw.Connection(self.sasl_bootstrap) as conn:
            self.assertEqual(sasl.login(conn, "SCRAM-SHA-512", "durable", "d-secret")[0], 0)
        with kw.Connection(self.sasl_bootstrap) as conn:
            self.assertEqual(sasl.login(conn, "SCRAM-SHA-256", "bob", "bob-secret-256")[0],
                             sasl.SASL_AUTHENTICATION_FAILED)
        with kw.Connection(self.sasl_bootstrap) as conn:
            self.assertEqual(sasl.login(conn, "SCRAM-SHA-512", "bob", "bob-secret")[0], 0)


class ReauthTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.broker = Broker(shards=1, listen=None, extra_args=[
            "--listeners", "SASL_PLAINTEXT://127.0.0.1:0",
            "--set", "connections.max.reauth.ms=2000",
            "--set", "connection.failed.authentication.delay.ms=0",
            "--bootstrap-user", "carol:carol-secret"]).start()
        cls.bootstrap = "127.0.0.1:%d" % cls.broker.port
        with kw.Connection(cls.bootstrap) as conn:
            assert sasl.login(conn, "SCRAM-SHA-256", "carol", "carol-secret")[0] == 0
            assert sasl.alter_users(conn, upsert=[("dan", "SCRAM-SHA-256", "dan-secret",
                                                   4096)]) == {"dan": (0, None)}

    @classmethod
    def tearDownClass(cls):
        cls.broker.stop()

    def metadata_ok(self, conn):
        conn.send(metadata_v1_frame())
        return conn.read_frame() is not None

    def test_session_expires_without_a_relogin(self):
        with kw.Connection(self.bootstrap) as conn:
            answer = sasl.login(conn, "SCRAM-SHA-256", "carol", "carol-secret")
            self.assertEqual((answer[0], answer[3]), (0, 2000))
            self.assertTrue(self.metadata_ok(conn))
            time.sleep(2.3)
            conn.send(metadata_v1_frame())
            self.assertTrue(closed(conn))

    def test_relogin_extends_the_session(self):
        with kw.Connection(self.bootstrap) as conn:
            self.assertEqual(sasl.login(conn, "SCRAM-SHA-256", "carol", "carol-secret")[0], 0)
            for _ in range(3):
                time.sleep(1.2)
                self.assertEqual(sasl.login(conn, "SCRAM-SHA-256", "carol", "carol-secret")[0], 0)
                self.assertTrue(self.metadata_ok(conn))

    def test_relogin_as_someone_else_is_refused(self):
        with kw.Connection(self.bootstrap) as conn:
            self.assertEqual(sasl.login(conn, "SCRAM-SHA-256", "carol", "carol-secret")[0], 0)
            answer = sasl.login(conn, "SCRAM-SHA-256", "dan", "dan-secret")
            self.assertEqual(answer[0], sasl.SASL_AUTHENTICATION_FAILED)
            self.assertIn("principal", answer[1])
            self.assertTrue(closed(conn))


class BootstrapFromEnvTest(unittest.TestCase):
    def test_env_creates_the_user_and_print_config_hides_it(self):
        env = dict(os.environ, CAIRN_BOOTSTRAP_USER="erin:erin-secret:SCRAM-SHA-512")
        old = os.environ.get("CAIRN_BOOTSTRAP_USER")
        os.environ["CAIRN_BOOTSTRAP_USER"] = env["CAIRN_BOOTSTRAP_USER"]
        try:
            broker = Broker(shards=1, listen=None,
                            extra_args=["--listeners", "SASL_PLAINTEXT://127.0.0.1:0"]).start()
        finally:
            if old is None:
                del os.environ["CAIRN_BOOTSTRAP_USER"]
            else:
                os.environ["CAIRN_BOOTSTRAP_USER"] = old
        try:
            with kw.Connection("127.0.0.1:%d" % broker.port) as conn:
                self.assertEqual(sasl.login(conn, "SCRAM-SHA-512", "erin", "erin-secret")[0], 0)
            self.assertIn("created the bootstrap user erin", broker.stderr())
        finally:
            broker.stop()
        out = subprocess.run([cairn_binary(), "serve", "--print-config", "--bootstrap-user",
                              "frank:very-secret"], capture_output=True, text=True,
                             timeout=TIMEOUT_S, check=True).stdout
        self.assertNotIn("very-secret", out)
        self.assertIn("bootstrap-user:", out)
        bad = subprocess.run([cairn_binary(), "serve", "--set",
                              "sasl.enabled.mechanisms=GSSAPI"], capture_output=True, text=True,
                             timeout=TIMEOUT_S)
        self.assertEqual(bad.returncode, 2)
        self.assertIn("sasl.enabled.mechanisms", bad.stderr)


if __name__ == "__main__":
    unittest.main()
