#!/usr/bin/python3
"""Certificate revocation lists (ssl.crl.location, docs/security.md) on an mTLS listener;
certificates and CRLs made in the test with openssl (`openssl ca -revoke` / `-gencrl`):

- a client certificate the CRL lists is refused (the broker logs "certificate revoked"),
  while a good one from the same CA produces and consumes with confluent-kafka-python;
- a new CRL written over the file is picked up without a restart: a certificate revoked in it
  is refused from then on;
- ssl.crl.location without client authentication, or a file with no CRL in it, stops the
  start with a message naming the problem.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Broker, cairn_binary  # noqa: E402
import tls_support as tls  # noqa: E402
from test_tls_listeners import (Certificates, api_versions_frame, confluent_consume,  # noqa: E402
                                confluent_produce, confluent_ssl, tls_args, wait_for_line)

TIMEOUT_S = 60


class CrlTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.directory = tempfile.mkdtemp(prefix="cairn-crl-")
        cls.certs = Certificates(cls.directory)
        cls.revoked_cert, cls.revoked_key = cls.certs.pki.issue(
            "revoked", "/O=Cairn Test/OU=eng/CN=revoked")
        cls.crl = cls.certs.pki.crl([cls.revoked_cert])
        args = (["--listeners", "SSL://127.0.0.1:0"] + tls_args(cls.certs, "required")
                + ["--set", "ssl.crl.location=" + cls.crl])
        cls.broker = Broker(shards=2, listen=None, extra_args=args, topics={"crl": 1}).start()
        cls.port = tls.listeners(cls.broker.stderr())["SSL"][0]
        cls.bootstrap = "127.0.0.1:%d" % cls.port

    @classmethod
    def tearDownClass(cls):
        cls.broker.stop()
        shutil.rmtree(cls.directory, ignore_errors=True)

    def answered(self, cert, key):
        """Whether a client with cert/key gets an answer to ApiVersions. (With TLS 1.3 the
        server checks the client's certificate after the client's side of the handshake is
        done, so a refusal may come as an alert on the first read.)"""
        context = tls.client_context(self.certs.ca, cert, key)
        try:
            with tls.tls_socket(self.port, context) as sock:
                sock.sendall(api_versions_frame())
                sock.settimeout(10)
                return len(sock.recv(4)) == 4
        except (OSError, tls.ssl.SSLError):
            return False

    def test_revoked_certificate_is_refused_and_others_work(self):
        self.assertFalse(self.answered(self.revoked_cert, self.revoked_key))
        wait_for_line(self.broker, r"TLS handshake failed: .*client certificate: "
                                   r"certificate revoked")
        self.assertTrue(self.answered(self.certs.client_cert, self.certs.client_key))
        config = confluent_ssl(self.bootstrap, self.certs, self.certs.client_cert,
                               self.certs.client_key)
        values = [b"crl %d" % i for i in range(5)]
        confluent_produce(config, "crl", values)
        self.assertEqual(confluent_consume(config, "crl", 5), values)

    def test_zz_a_new_list_applies_without_a_restart(self):
        self.assertTrue(self.answered(self.certs.ops_cert, self.certs.ops_key))
        fresh = self.certs.pki.crl([self.revoked_cert, self.certs.ops_cert], name="crl-new.pem")
        os.replace(fresh, self.crl)  # the broker looks at its TLS files every 2 s
        deadline = time.monotonic() + TIMEOUT_S
        while self.answered(self.certs.ops_cert, self.certs.ops_key):
            self.assertLess(time.monotonic(), deadline, "the new CRL was not picked up")
            time.sleep(0.2)
        self.assertTrue(self.answered(self.certs.client_cert, self.certs.client_key))
        self.assertFalse(self.answered(self.revoked_cert, self.revoked_key))


class CrlStartupErrors(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.directory = tempfile.mkdtemp(prefix="cairn-crl-bad-")
        cls.certs = Certificates(cls.directory)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.directory, ignore_errors=True)

    def serve(self, *args):
        done = subprocess.run([cairn_binary(), "serve", "--data-dir",
                               tempfile.mkdtemp(dir=self.directory)] + list(args),
                              capture_output=True, text=True, timeout=TIMEOUT_S)
        self.assertNotEqual(done.returncode, 0)
        self.assertNotIn("listening on", done.stderr)
        return done.stderr

    def test_crl_without_client_authentication(self):
        crl = self.certs.pki.crl()
        stderr = self.serve("--listeners", "SSL://127.0.0.1:0",
                            "--ssl-keystore-location", self.certs.server_cert,
                            "--ssl-key-location", self.certs.server_key,
                            "--set", "ssl.crl.location=" + crl)
        self.assertIn("ssl.crl.location needs ssl.client.auth", stderr)

    def test_file_without_a_crl(self):
        garbage = os.path.join(self.directory, "garbage-crl.pem")
        with open(garbage, "w") as f:
            f.write("not a CRL\n")
        stderr = self.serve("--listeners", "SSL://127.0.0.1:0",
                            *tls_args(self.certs, "required"),
                            "--set", "ssl.crl.location=" + garbage)
        self.assertIn("no certificate revocation list in " + garbage, stderr)


if __name__ == "__main__":
    unittest.main()
