"""tls_support: certificates made with the `openssl` command for the TLS interop tests, and
small helpers to reach a TLS listener from Python.

Pki(directory) makes a CA ("Cairn Test CA"); issue() signs a server or client certificate with
it (an EC P-256 key, subjectAltName for servers), expired=True makes one whose validity ended
before it began; crl() writes its revocation list. A second Pki is "another CA" whose certificates the broker must refuse.
Standard library only (plus the openssl binary).
"""
import os
import re
import socket
import ssl
import subprocess

LISTENER = re.compile(r"listener (\S+) \((\S+)\) on (\S+):(\d+), advertising (\S+):(\d+)")


def openssl(*args, cwd=None):
    subprocess.run(["openssl"] + list(args), cwd=cwd, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.PIPE, timeout=60)


class Pki:
    def __init__(self, directory, name="Cairn Test CA"):
        self.directory = directory
        os.makedirs(directory, exist_ok=True)
        self.ca_key = self.path("ca.key")
        self.ca_cert = self.path("ca.pem")
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                "-nodes", "-keyout", self.ca_key, "-out", self.ca_cert, "-days", "30",
                "-subj", "/CN=%s" % name,
                "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign")

    def path(self, name):
        return os.path.join(self.directory, name)

    def issue(self, name, subject, server=False, expired=False):
        """Signs a new key's certificate; returns (cert_path, key_path)."""
        key, csr = self.path(name + ".key"), self.path(name + ".csr")
        cert = self.path(name + ".pem")
        extensions = self.path(name + ".ext")
        with open(extensions, "w") as f:
            if server:
                f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\n"
                        "extendedKeyUsage=serverAuth\n")
            else:
                f.write("extendedKeyUsage=clientAuth\n")
        openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", key, "-out", csr, "-subj", subject)
        # -days -1: notAfter a day before notBefore, so the certificate is already expired.
        openssl("x509", "-req", "-in", csr, "-CA", self.ca_cert, "-CAkey", self.ca_key,
                "-CAcreateserial", "-out", cert, "-days", "-1" if expired else "30",
                "-extfile", extensions)
        return cert, key


    def crl(self, revoked=(), name="crl.pem"):
        """Writes this CA's certificate revocation list naming the `revoked` certificate files
        (valid for 30 days) to `name` in its directory; returns the path."""
        database, number = self.path("index.txt"), self.path("crlnumber")
        config = self.path("ca.cnf")
        open(database, "w").close()
        with open(number, "w") as f:
            f.write("1000\n")
        with open(config, "w") as f:
            f.write("[ca]\ndefault_ca = test\n[test]\ndatabase = %s\ncrlnumber = %s\n"
                    "certificate = %s\nprivate_key = %s\ndefault_md = sha256\n"
                    "default_crl_days = 30\n" % (database, number, self.ca_cert, self.ca_key))
        for cert in revoked:
            openssl("ca", "-config", config, "-revoke", cert)
        out = self.path(name)
        openssl("ca", "-config", config, "-gencrl", "-out", out)
        return out


def listeners(stderr):
    """{name: (bound_port, advertised "host:port")} from the broker's listener lines."""
    found = {}
    for match in LISTENER.finditer(stderr):
        found[match.group(1)] = (int(match.group(4)), "%s:%s" % (match.group(5), match.group(6)))
    return found


def client_context(ca, cert=None, key=None, minimum=None, maximum=None):
    context = ssl.create_default_context(cafile=ca)
    if cert:
        context.load_cert_chain(cert, key)
    if minimum:
        context.minimum_version = minimum
    if maximum:
        context.maximum_version = maximum
    return context


def tls_socket(port, context, timeout_s=10):
    """A TLS connection to 127.0.0.1:port, handshake done."""
    raw = socket.create_connection(("127.0.0.1", port), timeout=timeout_s)
    return context.wrap_socket(raw, server_hostname="localhost")


def closed_within(sock, timeout_s):
    """True if the peer closes `sock` (EOF or reset) within timeout_s; data read is dropped."""
    sock.settimeout(timeout_s)
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return True
    except (ConnectionResetError, ssl.SSLError, BrokenPipeError):
        return True
    except socket.timeout:
        return False
