"""Named listeners and TLS with real clients; certificates made in the test with openssl.

One broker runs three listeners (PLAINTEXT, SSL, and INTERNAL mapped to PLAINTEXT through
listener.security.protocol.map) with ssl.client.auth=requested:

- Metadata (kcat -L) advertises the listener the client came in on;
- kcat, confluent-kafka-python, kafka-python and kafkajs produce and consume over SSL (values
  large enough that Fetch answers go through the bounded TLS file path), and data crosses
  listeners (produced over SSL, read over PLAINTEXT);
- a client certificate becomes the principal through ssl.principal.mapping.rules, visible in
  the broker's one line per TLS connection ("..., principal User:alice"); no certificate is
  User:ANONYMOUS;
- bad TLS closes only that connection: a plaintext Kafka request on the TLS port, a
  certificate from another CA, an expired certificate, TLS 1.1, and handshakes that never
  start (closed by --handshake-timeout-ms) while another client keeps producing.

A second broker has only an SSL listener with ssl.client.auth=required (mTLS): no client
certificate is refused, a good one is mapped; SIGHUP swaps the server certificate for new
connections while a connection opened before keeps producing, and so does replacing the files
without a signal; a reload from a broken file keeps the old certificate; a certificate no mapping rule applies to is refused;
`cairn user` and `cairn txn` (the CLI's own protocol client) connect with a client certificate.

StartupErrorsTest: bad listener and TLS settings stop `cairn serve` with a message naming the
problem (a missing certificate file, a key that does not match, bad mapping rules, a SASL_SSL
listener without a certificate, --listen together with --listeners), before anything is
bound.
"""
import os
import re
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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Broker, cairn_binary  # noqa: E402
import kafka_wire as kw  # noqa: E402
import produce_support as ps  # noqa: E402
import tls_support as tls  # noqa: E402

TIMEOUT_S = 120
HANDSHAKE_TIMEOUT_MS = 1500
RULES = "RULE:^CN=([^,]+),OU=eng,O=Cairn Test$/$1/L,DEFAULT"
JS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "js")


def api_versions_frame():
    return kw.encode_request(kw.ApiVersionRequest[0](), 1)


def wait_for_line(broker, pattern, timeout_s=30):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        match = re.search(pattern, broker.stderr())
        if match:
            return match
        time.sleep(0.05)
    raise AssertionError("no line matching %r in:\n%s" % (pattern, broker.stderr()))


class Certificates:
    """The test PKI: our CA with server, client and expired client certificates, and a
    client certificate from another CA."""

    def __init__(self, directory):
        self.pki = tls.Pki(os.path.join(directory, "ca"))
        self.other = tls.Pki(os.path.join(directory, "other"), name="Other CA")
        self.ca = self.pki.ca_cert
        self.server_cert, self.server_key = self.pki.issue(
            "server", "/CN=localhost/O=Cairn Test", server=True)
        self.client_cert, self.client_key = self.pki.issue("alice", "/O=Cairn Test/OU=eng/CN=Alice")
        self.expired_cert, self.expired_key = self.pki.issue(
            "expired", "/O=Cairn Test/OU=eng/CN=old", expired=True)
        self.foreign_cert, self.foreign_key = self.other.issue(
            "mallory", "/O=Cairn Test/OU=eng/CN=mallory")
        self.ops_cert, self.ops_key = self.pki.issue("bob", "/O=Cairn Test/OU=ops/CN=bob")


def tls_args(certs, client_auth):
    return ["--ssl-keystore-location", certs.server_cert, "--ssl-key-location", certs.server_key,
            "--ssl-truststore-location", certs.ca, "--ssl-client-auth", client_auth,
            "--ssl-principal-mapping-rules", RULES,
            "--handshake-timeout-ms", str(HANDSHAKE_TIMEOUT_MS)]


def confluent_ssl(bootstrap, certs, cert=None, key=None):
    config = {"bootstrap.servers": bootstrap, "security.protocol": "ssl",
              "ssl.ca.location": certs.ca}
    if cert:
        config.update({"ssl.certificate.location": cert, "ssl.key.location": key})
    return config


def confluent_produce(config, topic, values):
    from confluent_kafka import Producer
    producer = Producer(dict(config, **{"acks": "all", "message.timeout.ms": 30000}))
    errors = []
    for value in values:
        producer.produce(topic, value=value, partition=0,
                         on_delivery=lambda err, msg: err and errors.append(err))
    remaining = producer.flush(60)
    if remaining or errors:
        raise AssertionError("%d undelivered, errors %s" % (remaining, errors[:3]))


def confluent_consume(config, topic, count):
    from confluent_kafka import Consumer
    consumer = Consumer(dict(config, **{"group.id": "g-%s-%f" % (topic, time.time()),
                                        "auto.offset.reset": "earliest",
                                        "enable.auto.commit": False}))
    consumer.subscribe([topic])
    values = []
    deadline = time.monotonic() + TIMEOUT_S
    while len(values) < count and time.monotonic() < deadline:
        message = consumer.poll(1.0)
        if message is None or message.error():
            continue
        values.append(message.value())
    consumer.close()
    return values


class TlsListenersTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.directory = tempfile.mkdtemp(prefix="cairn-tls-")
        cls.certs = Certificates(cls.directory)
        args = ["--listeners",
                "PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0,INTERNAL://127.0.0.1:0",
                "--listener-security-protocol-map",
                "PLAINTEXT:PLAINTEXT,SSL:SSL,INTERNAL:PLAINTEXT"] + tls_args(cls.certs, "requested")
        cls.broker = Broker(shards=2, listen=None, extra_args=args,
                            topics={"tls-kcat": 1, "tls-confluent": 1, "tls-kafka-python": 1,
                                    "tls-kafkajs": 1, "tls-stall": 1, "tls-cross": 1}).start()
        cls.ports = tls.listeners(cls.broker.stderr())
        cls.ssl_bootstrap = "127.0.0.1:%d" % cls.ports["SSL"][0]
        cls.plain_bootstrap = "127.0.0.1:%d" % cls.ports["PLAINTEXT"][0]

    @classmethod
    def tearDownClass(cls):
        cls.broker.stop()
        shutil.rmtree(cls.directory, ignore_errors=True)

    def kcat_ssl(self, *args, stdin=None):
        command = ["kcat", "-b", self.ssl_bootstrap, "-X", "security.protocol=ssl",
                   "-X", "ssl.ca.location=" + self.certs.ca] + list(args)
        return subprocess.run(command, input=stdin, check=True, timeout=TIMEOUT_S,
                              stdout=subprocess.PIPE).stdout.decode()

    def test_listeners_are_logged_with_their_protocols(self):
        self.assertEqual(set(self.ports), {"PLAINTEXT", "SSL", "INTERNAL"})
        self.assertEqual(self.broker.port, self.ports["PLAINTEXT"][0])  # "listening on": first
        self.assertIn("listener SSL (SSL) on", self.broker.stderr())
        self.assertIn("listener INTERNAL (PLAINTEXT) on", self.broker.stderr())

    def test_metadata_advertises_the_listener_the_client_used(self):
        out = self.kcat_ssl("-L", "-t", "tls-kcat")
        self.assertIn("at 127.0.0.1:%d" % self.ports["SSL"][0], out)
        for name in ("PLAINTEXT", "INTERNAL"):
            out = subprocess.run(["kcat", "-b", "127.0.0.1:%d" % self.ports[name][0], "-L",
                                  "-t", "tls-kcat"], check=True, timeout=TIMEOUT_S,
                                 stdout=subprocess.PIPE).stdout.decode()
            self.assertIn("at 127.0.0.1:%d" % self.ports[name][0], out)

    def test_kcat_round_trip_over_ssl(self):
        lines = ["kcat over tls %d %s" % (i, "y" * 3000) for i in range(200)]
        self.kcat_ssl("-P", "-t", "tls-kcat", "-p", "0", stdin=("\n".join(lines) + "\n").encode())
        out = self.kcat_ssl("-C", "-t", "tls-kcat", "-p", "0", "-o", "beginning", "-e", "-q")
        self.assertEqual(out.splitlines(), lines)

    def test_cairn_cli_lists_topics_over_ssl(self):
        out = subprocess.run([cairn_binary(), "topic", "list", "-b", self.ssl_bootstrap,
                              "-X", "security.protocol=ssl",
                              "-X", "ssl.ca.location=" + self.certs.ca],
                             check=True, timeout=TIMEOUT_S, stdout=subprocess.PIPE).stdout.decode()
        self.assertIn("tls-kcat", out)

    def test_produced_over_ssl_read_over_plaintext(self):
        values = [("cross %d" % i).encode() for i in range(50)]
        confluent_produce(confluent_ssl(self.ssl_bootstrap, self.certs), "tls-cross", values)
        got = confluent_consume({"bootstrap.servers": self.plain_bootstrap}, "tls-cross", 50)
        self.assertEqual(got, values)

    def test_confluent_round_trip_with_large_fetches(self):
        # ~4 MiB: Fetch answers far larger than the 64 KiB TLS buffer they are streamed through.
        values = [("%06d" % i).encode() + os.urandom(32 * 1024) for i in range(128)]
        config = confluent_ssl(self.ssl_bootstrap, self.certs)
        confluent_produce(config, "tls-confluent", values)
        self.assertEqual(confluent_consume(config, "tls-confluent", len(values)), values)

    def test_kafka_python_round_trip(self):
        from kafka import KafkaConsumer, KafkaProducer, TopicPartition
        settings = {"bootstrap_servers": self.ssl_bootstrap, "security_protocol": "SSL",
                    "ssl_cafile": self.certs.ca, "ssl_check_hostname": True}
        producer = KafkaProducer(acks="all", **settings)
        values = [("kafka-python tls %d" % i).encode() * 20 for i in range(40)]
        for value in values:
            producer.send("tls-kafka-python", value=value, partition=0)
        producer.flush(60)
        producer.close()
        consumer = KafkaConsumer(consumer_timeout_ms=20000, **settings)
        consumer.assign([TopicPartition("tls-kafka-python", 0)])
        consumer.seek_to_beginning()
        got = [record.value for _, record in zip(range(len(values)), consumer)]
        consumer.close()
        self.assertEqual(got, values)

    def test_kafkajs_round_trip_with_client_certificate(self):
        from test_clients_kafkajs import ensure_node_modules
        ensure_node_modules()
        out = subprocess.run(["node", "tls_round_trip.js", self.ssl_bootstrap, "tls-kafkajs", "25",
                              self.certs.ca, self.certs.client_cert, self.certs.client_key],
                             cwd=JS_DIR, check=True, timeout=TIMEOUT_S,
                             stdout=subprocess.PIPE).stdout.decode()
        self.assertEqual(out.splitlines(), ["kafkajs-tls-%d" % i for i in range(25)])

    def test_client_certificate_is_mapped_to_a_principal(self):
        context = tls.client_context(self.certs.ca, self.certs.client_cert, self.certs.client_key)
        with tls.tls_socket(self.ports["SSL"][0], context) as sock:
            sock.sendall(api_versions_frame())
            self.assertTrue(sock.recv(4))
            local_port = sock.getsockname()[1]
        wait_for_line(self.broker, r"from 127\.0\.0\.1:%d on listener SSL: TLSv1\.3, "
                                   r"principal User:alice\n" % local_port)

    def test_no_client_certificate_is_anonymous_when_requested(self):
        context = tls.client_context(self.certs.ca)
        with tls.tls_socket(self.ports["SSL"][0], context) as sock:
            sock.sendall(api_versions_frame())
            self.assertTrue(sock.recv(4))
            local_port = sock.getsockname()[1]
        wait_for_line(self.broker, r"from 127\.0\.0\.1:%d on listener SSL: TLSv1\.3, "
                                   r"principal User:ANONYMOUS\n" % local_port)

    def test_tls12_is_accepted_and_tls11_refused(self):
        context = tls.client_context(self.certs.ca, maximum=ssl.TLSVersion.TLSv1_2)
        with tls.tls_socket(self.ports["SSL"][0], context) as sock:
            self.assertEqual(sock.version(), "TLSv1.2")
            sock.sendall(api_versions_frame())
            self.assertTrue(sock.recv(4))
        old = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        old.load_verify_locations(self.certs.ca)
        old.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
        old.maximum_version = ssl.TLSVersion.TLSv1_1
        try:
            old.set_ciphers("ALL:@SECLEVEL=0")
        except ssl.SSLError:
            pass
        with self.assertRaises((ssl.SSLError, ConnectionResetError)):
            tls.tls_socket(self.ports["SSL"][0], old).close()

    def test_plaintext_request_on_the_tls_port_is_closed(self):
        started = time.monotonic()
        with socket.create_connection(("127.0.0.1", self.ports["SSL"][0]), timeout=10) as sock:
            sock.sendall(api_versions_frame())
            self.assertTrue(tls.closed_within(sock, 10))
        self.assertLess(time.monotonic() - started, 5)
        wait_for_line(self.broker, r"TLS handshake failed")

    def refused(self, cert, key):
        """True when a client presenting cert/key cannot get an answer from the SSL listener.
        (With TLS 1.3 the server checks the client certificate after the client's handshake
        has finished, so the refusal may arrive as an alert on the first read.)"""
        context = tls.client_context(self.certs.ca, cert, key)
        try:
            with tls.tls_socket(self.ports["SSL"][0], context) as sock:
                sock.sendall(api_versions_frame())
                return tls.closed_within(sock, 10)
        except (ssl.SSLError, ConnectionResetError, BrokenPipeError):
            return True

    def test_certificate_from_another_ca_is_refused(self):
        self.assertTrue(self.refused(self.certs.foreign_cert, self.certs.foreign_key))
        wait_for_line(self.broker, r"TLS handshake failed: .*client certificate: "
                                   r"unable to get local issuer certificate")

    def test_expired_certificate_is_refused(self):
        self.assertTrue(self.refused(self.certs.expired_cert, self.certs.expired_key))
        wait_for_line(self.broker, r"TLS handshake failed: .*client certificate: "
                                   r"certificate has expired")

    def test_stalled_handshakes_are_closed_while_others_work(self):
        stalled = [socket.create_connection(("127.0.0.1", self.ports["SSL"][0]), timeout=10)
                   for _ in range(20)]
        try:
            started = time.monotonic()
            config = confluent_ssl(self.ssl_bootstrap, self.certs)
            values = [("while stalled %d" % i).encode() for i in range(30)]
            confluent_produce(config, "tls-stall", values)
            self.assertEqual(confluent_consume(config, "tls-stall", 30), values)
            for sock in stalled:
                self.assertTrue(tls.closed_within(sock, 15))
            self.assertLess(time.monotonic() - started, 60)
        finally:
            for sock in stalled:
                sock.close()
        wait_for_line(self.broker, "no TLS handshake within %d ms" % HANDSHAKE_TIMEOUT_MS)


class MutualTlsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.directory = tempfile.mkdtemp(prefix="cairn-mtls-")
        cls.certs = Certificates(cls.directory)
        args = ["--listeners", "SSL://127.0.0.1:0"] + tls_args(cls.certs, "required")
        cls.broker = Broker(shards=2, listen=None, extra_args=args,
                            topics={"mtls": 1, "reload": 1}).start()
        cls.port = tls.listeners(cls.broker.stderr())["SSL"][0]
        cls.bootstrap = "127.0.0.1:%d" % cls.port

    @classmethod
    def tearDownClass(cls):
        cls.broker.stop()
        shutil.rmtree(cls.directory, ignore_errors=True)

    def test_only_the_ssl_listener_is_bound(self):
        self.assertEqual(list(tls.listeners(self.broker.stderr())), ["SSL"])
        self.assertEqual(self.broker.port, self.port)

    def test_no_client_certificate_is_refused(self):
        from confluent_kafka import KafkaException
        from confluent_kafka.admin import AdminClient
        admin = AdminClient(confluent_ssl(self.bootstrap, self.certs))
        with self.assertRaises(KafkaException):
            admin.list_topics(timeout=5)
        context = tls.client_context(self.certs.ca)
        try:
            with tls.tls_socket(self.port, context) as sock:
                sock.sendall(api_versions_frame())
                self.assertTrue(tls.closed_within(sock, 10))
        except (ssl.SSLError, ConnectionResetError, BrokenPipeError):
            pass

    def test_client_certificate_works_and_is_mapped(self):
        config = confluent_ssl(self.bootstrap, self.certs, self.certs.client_cert,
                               self.certs.client_key)
        values = [("mtls %d" % i).encode() for i in range(20)]
        confluent_produce(config, "mtls", values)
        self.assertEqual(confluent_consume(config, "mtls", 20), values)
        wait_for_line(self.broker, r"on listener SSL: TLSv1\.3, principal User:alice\n")

    def test_wire_client_commands_with_a_client_certificate(self):
        """`cairn user` / `cairn txn` (Cairn's own protocol client) over mTLS."""
        def run(*args, cert=True):
            command = [cairn_binary()] + list(args) + [
                "-b", self.bootstrap, "-X", "security.protocol=ssl",
                "-X", "ssl.ca.location=" + self.certs.ca]
            if cert:
                command += ["-X", "ssl.certificate.location=" + self.certs.client_cert,
                            "-X", "ssl.key.location=" + self.certs.client_key]
            return subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_S)
        listed = run("txn", "list")
        self.assertEqual(listed.returncode, 0, listed.stderr)
        self.assertEqual(run("user", "list").returncode, 0)
        refused = run("user", "list", cert=False)  # ssl.client.auth=required
        self.assertEqual(refused.returncode, 1)
        self.assertIn("127.0.0.1:%d" % self.port, refused.stderr)

    def server_certificate(self, context):
        with tls.tls_socket(self.port, context) as sock:
            return sock.getpeercert(binary_form=True)

    def test_changed_files_are_reloaded_without_a_signal(self):
        context = tls.client_context(self.certs.ca, self.certs.client_cert, self.certs.client_key)
        cert, key = self.certs.pki.issue("server3", "/CN=localhost/O=Cairn Test 3", server=True)
        with open(cert) as f:
            wanted = f.read().strip()
        # Written beside the live files, then renamed over them, as docs/security.md advises.
        for source, target in ((key, self.certs.server_key), (cert, self.certs.server_cert)):
            shutil.copy(source, target + ".new")
            os.replace(target + ".new", target)
        deadline = time.monotonic() + 30
        served = None
        while time.monotonic() < deadline:
            served = ssl.DER_cert_to_PEM_cert(self.server_certificate(context)).strip()
            if served == wanted:
                break
            time.sleep(0.2)
        self.assertEqual(served, wanted)
        wait_for_line(self.broker, r"TLS files changed; TLS certificates reloaded")

    def test_sighup_reloads_the_certificate_for_new_connections_only(self):
        context = tls.client_context(self.certs.ca, self.certs.client_cert, self.certs.client_key)
        before = self.server_certificate(context)
        old = ps.WireClient(self.bootstrap)
        old.connection.sock = context.wrap_socket(old.connection.sock, server_hostname="localhost")
        self.assertEqual(old.produce("reload", 0, ps.simple_batch(count=2))[0], ps.NONE)

        # New key and certificate, written over the files the broker was started with.
        cert, key = self.certs.pki.issue("server2", "/CN=localhost/O=Cairn Test 2", server=True)
        shutil.copy(cert, self.certs.server_cert)
        shutil.copy(key, self.certs.server_key)
        self.broker.process.send_signal(signal.SIGHUP)
        wait_for_line(self.broker, r"received SIGHUP; TLS certificates reloaded")
        after = self.server_certificate(context)
        self.assertNotEqual(after, before)
        with open(cert) as f:
            self.assertEqual(ssl.DER_cert_to_PEM_cert(after).strip(), f.read().strip())

        # The connection opened before the reload still produces.
        self.assertEqual(old.produce("reload", 0, ps.simple_batch(count=3))[0], ps.NONE)
        old.close()

        # A broken file: the reload fails, the current certificate stays.
        with open(self.certs.server_cert, "w") as f:
            f.write("not a certificate\n")
        self.broker.process.send_signal(signal.SIGHUP)
        wait_for_line(self.broker, r"TLS reload failed, keeping the current certificates")
        self.assertEqual(self.server_certificate(context), after)
        shutil.copy(cert, self.certs.server_cert)


class UnmappedPrincipalTest(unittest.TestCase):
    """Mapping rules without DEFAULT: a verified certificate that no rule applies to is refused
    before its first request; one that a rule maps works."""

    @classmethod
    def setUpClass(cls):
        cls.directory = tempfile.mkdtemp(prefix="cairn-unmapped-")
        cls.certs = Certificates(cls.directory)
        args = ["--listeners", "SSL://127.0.0.1:0"] + tls_args(cls.certs, "required")
        args[args.index(RULES)] = "RULE:^CN=([^,]+),OU=eng,O=Cairn Test$/$1/L"
        cls.broker = Broker(shards=1, listen=None, extra_args=args).start()
        cls.port = tls.listeners(cls.broker.stderr())["SSL"][0]

    @classmethod
    def tearDownClass(cls):
        cls.broker.stop()
        shutil.rmtree(cls.directory, ignore_errors=True)

    def test_certificate_without_a_matching_rule_is_refused(self):
        context = tls.client_context(self.certs.ca, self.certs.ops_cert, self.certs.ops_key)
        try:
            with tls.tls_socket(self.port, context) as sock:
                sock.sendall(api_versions_frame())
                self.assertTrue(tls.closed_within(sock, 10))
        except (ssl.SSLError, ConnectionResetError, BrokenPipeError):
            pass
        wait_for_line(self.broker, r"no ssl\.principal\.mapping\.rules rule applies to "
                                   r"'CN=bob,OU=ops,O=Cairn Test'; closing")

    def test_certificate_with_a_matching_rule_works(self):
        context = tls.client_context(self.certs.ca, self.certs.client_cert, self.certs.client_key)
        with tls.tls_socket(self.port, context) as sock:
            sock.sendall(api_versions_frame())
            self.assertTrue(sock.recv(4))


class ConfigFileTest(unittest.TestCase):
    """The listeners and ssl.* settings from cairn.yaml's `kafka:` section, as docs/security.md
    shows them; the SSL listener advertises the name advertised.listeners gives it."""

    def test_listeners_and_tls_from_the_config_file(self):
        directory = tempfile.mkdtemp(prefix="cairn-tls-file-")
        self.addCleanup(shutil.rmtree, directory, True)
        certs = Certificates(directory)
        config = os.path.join(directory, "cairn.yaml")
        with open(config, "w") as f:
            f.write("kafka:\n"
                    "  listeners: PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0\n"
                    "  advertised.listeners: SSL://localhost:19093\n"
                    "  ssl.keystore.location: %s\n"
                    "  ssl.key.location: %s\n"
                    "  ssl.truststore.location: %s\n"
                    "  ssl.client.auth: required\n"
                    "  ssl.principal.mapping.rules: %s\n"
                    % (certs.server_cert, certs.server_key, certs.ca, RULES))
        broker = Broker(shards=1, listen=None, extra_args=["--config", config]).start()
        self.addCleanup(broker.stop)
        found = tls.listeners(broker.stderr())
        self.assertEqual(found["SSL"][1], "localhost:19093")
        self.assertEqual(found["PLAINTEXT"][1], "127.0.0.1:%d" % found["PLAINTEXT"][0])
        context = tls.client_context(certs.ca, certs.client_cert, certs.client_key)
        with tls.tls_socket(found["SSL"][0], context) as sock:
            sock.sendall(api_versions_frame())
            self.assertTrue(sock.recv(4))
        wait_for_line(broker, r"on listener SSL: TLSv1\.3, principal User:alice\n")


    def test_print_config_with_listeners_is_a_file_the_broker_accepts(self):
        from harness import cairn_binary
        directory = tempfile.mkdtemp(prefix="cairn-tls-print-")
        self.addCleanup(shutil.rmtree, directory, True)
        printed = subprocess.run([cairn_binary(), "serve", "--listeners", "PLAINTEXT://127.0.0.1:0",
                                  "--advertised-listeners", "PLAINTEXT://localhost:1",
                                  "--print-config"], check=True, timeout=60,
                                 stdout=subprocess.PIPE).stdout.decode()
        self.assertRegex(printed, r"(?m)^#listen: .*# unused: see listeners$")
        config = os.path.join(directory, "cairn.yaml")
        with open(config, "w") as f:
            f.write(printed)
        again = subprocess.run([cairn_binary(), "serve", "--config", config, "--print-config"],
                               check=True, timeout=60, stdout=subprocess.PIPE).stdout.decode()
        self.assertEqual(again, printed)


class StartupErrorsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.directory = tempfile.mkdtemp(prefix="cairn-tls-errors-")
        cls.certs = Certificates(cls.directory)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.directory, ignore_errors=True)

    def serve(self, *args):
        """Runs `cairn serve ARGS` on a fresh data directory to its exit; (code, stderr)."""
        from harness import cairn_binary
        data_dir = tempfile.mkdtemp(dir=self.directory)
        done = subprocess.run([cairn_binary(), "serve", "--data-dir", data_dir] + list(args),
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, timeout=60)
        stderr = done.stderr.decode("utf-8", "replace")
        self.assertNotIn("listening on", stderr)
        self.assertNotIn("AddressSanitizer", stderr)
        return done.returncode, stderr

    def ssl_args(self, cert=None, key=None, extra=()):
        return ["--listeners", "SSL://127.0.0.1:0",
                "--ssl-keystore-location", cert or self.certs.server_cert,
                "--ssl-key-location", key or self.certs.server_key] + list(extra)

    def test_missing_certificate_file(self):
        missing = os.path.join(self.directory, "nope.pem")
        code, stderr = self.serve(*self.ssl_args(cert=missing))
        self.assertNotEqual(code, 0)
        self.assertIn("cannot load the certificate chain " + missing, stderr)

    def test_key_that_does_not_match_the_certificate(self):
        code, stderr = self.serve(*self.ssl_args(key=self.certs.client_key))
        self.assertNotEqual(code, 0)
        self.assertIn("cannot load the private key %s: key values mismatch"
                      % self.certs.client_key, stderr)

    def test_garbage_truststore(self):
        garbage = os.path.join(self.directory, "garbage.pem")
        with open(garbage, "w") as f:
            f.write("not a certificate\n")
        code, stderr = self.serve(*self.ssl_args(extra=["--ssl-client-auth", "required",
                                                        "--ssl-truststore-location", garbage]))
        self.assertNotEqual(code, 0)
        self.assertIn(garbage, stderr)

    def test_ssl_listener_without_a_certificate(self):
        code, stderr = self.serve("--listeners", "SSL://127.0.0.1:0")
        self.assertEqual(code, 2)
        self.assertIn("ssl.keystore.location is not set", stderr)

    def test_client_auth_without_truststore(self):
        code, stderr = self.serve(*self.ssl_args(extra=["--ssl-client-auth", "required"]))
        self.assertEqual(code, 2)
        self.assertIn("needs ssl.truststore.location", stderr)

    def test_bad_mapping_rules(self):
        for rules in ("RULE:^CN=(x$/y/", "RULE:^CN=x$", "NOPE"):
            code, stderr = self.serve(*self.ssl_args(extra=["--ssl-principal-mapping-rules",
                                                            rules]))
            self.assertEqual(code, 2, rules)
            self.assertIn("ssl.principal.mapping.rules", stderr)

    def test_sasl_ssl_listener_without_a_certificate(self):
        code, stderr = self.serve("--listeners", "SASL_SSL://127.0.0.1:0")
        self.assertEqual(code, 2)
        self.assertIn("ssl.keystore.location is not set", stderr)

    def test_listen_and_listeners_together(self):
        code, stderr = self.serve("--listen", "127.0.0.1:0", "--listeners",
                                  "PLAINTEXT://127.0.0.1:0")
        self.assertEqual(code, 2)
        self.assertIn("drop --listen/--advertise", stderr)

    def test_unknown_listener_name(self):
        code, stderr = self.serve("--listeners", "EXTERNAL://127.0.0.1:0")
        self.assertEqual(code, 2)
        self.assertIn("listener name not in listener.security.protocol.map", stderr)


if __name__ == "__main__":
    unittest.main()
