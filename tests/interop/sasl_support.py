"""sasl_support: SASL and SCRAM-user requests on the wire, written independently of Cairn's C++
(hashlib's PBKDF2 and HMAC), for test_sasl.py.

    with kw.Connection(bootstrap) as conn:
        response = login(conn, "SCRAM-SHA-512", "admin", "secret")   # SaslHandshake v1 + ...
        alter_users(conn, upsert=[("alice", "SCRAM-SHA-256", "pw", 4096)])
"""
import base64
import hashlib
import hmac
import os
import struct

import kafka_wire as kw

SASL_HANDSHAKE = 17
SASL_AUTHENTICATE = 36
DESCRIBE_USER_SCRAM = 50
ALTER_USER_SCRAM = 51
MECHANISM_TYPES = {"SCRAM-SHA-256": 1, "SCRAM-SHA-512": 2}
DIGESTS = {"SCRAM-SHA-256": "sha256", "SCRAM-SHA-512": "sha512"}

ILLEGAL_SASL_STATE = 34
UNSUPPORTED_SASL_MECHANISM = 33
SASL_AUTHENTICATION_FAILED = 58
RESOURCE_NOT_FOUND = 91
DUPLICATE_RESOURCE = 92
UNACCEPTABLE_CREDENTIAL = 93


def string(text):
    data = text.encode()
    return struct.pack(">h", len(data)) + data


def byte_string(data):
    return struct.pack(">i", len(data)) + data


def compact_bytes(data):
    return kw.uvarint(len(data) + 1) + data


def handshake(conn, mechanism, version=1, correlation_id=1):
    """(error_code, [mechanisms]) of a SaslHandshake."""
    conn.send(kw.framed(kw.raw_header_v1(SASL_HANDSHAKE, version, correlation_id)
                        + string(mechanism)))
    payload = conn.read_frame()
    if payload is None:
        return None
    r = kw.Reader(payload)
    assert r.int32() == correlation_id
    error = r.int16()
    return error, r.array(r.string)


def authenticate(conn, token, correlation_id):
    """(error_code, error_message, auth_bytes, session_lifetime_ms) of SaslAuthenticate v1, or
    None when the broker closed the connection instead."""
    conn.send(kw.framed(kw.raw_header_v1(SASL_AUTHENTICATE, 1, correlation_id)
                        + byte_string(token)))
    payload = conn.read_frame()
    if payload is None:
        return None
    r = kw.Reader(payload)
    assert r.int32() == correlation_id
    error = r.int16()
    message = r.string()
    size = r.int32()
    data = r.take(size) if size >= 0 else None
    (lifetime,) = struct.unpack(">q", r.take(8))
    return error, message, data, lifetime


class ScramClient:
    def __init__(self, mechanism, user, password):
        self.digest = DIGESTS[mechanism]
        self.user = user
        self.password = password
        self.nonce = base64.b64encode(os.urandom(18)).decode()
        self.bare = "n=%s,r=%s" % (user.replace("=", "=3D").replace(",", "=2C"), self.nonce)
        self.server_signature = None

    def first(self):
        return ("n,," + self.bare).encode()

    def final(self, server_first):
        text = server_first.decode()
        attrs = dict(part.split("=", 1) for part in text.split(","))
        assert attrs["r"].startswith(self.nonce)
        salted = hashlib.pbkdf2_hmac(self.digest, self.password.encode(),
                                     base64.b64decode(attrs["s"]), int(attrs["i"]))
        without_proof = "c=biws,r=" + attrs["r"]
        message = ",".join([self.bare, text, without_proof]).encode()
        client_key = hmac.new(salted, b"Client Key", self.digest).digest()
        stored_key = hashlib.new(self.digest, client_key).digest()
        signature = hmac.new(stored_key, message, self.digest).digest()
        proof = bytes(a ^ b for a, b in zip(client_key, signature))
        server_key = hmac.new(salted, b"Server Key", self.digest).digest()
        self.server_signature = hmac.new(server_key, message, self.digest).digest()
        return (without_proof + ",p=" + base64.b64encode(proof).decode()).encode()

    def verify(self, server_final):
        return server_final.decode() == "v=" + base64.b64encode(self.server_signature).decode()


def login(conn, mechanism, user, password):
    """Logs in over SaslHandshake v1 + SaslAuthenticate v1. Returns the last SaslAuthenticate
    answer (error, message, bytes, lifetime), or None if the broker closed the connection."""
    answer = handshake(conn, mechanism)
    assert answer is not None and answer[0] == 0, answer
    if mechanism == "PLAIN":
        return authenticate(conn, b"\0" + user.encode() + b"\0" + password.encode(), 2)
    client = ScramClient(mechanism, user, password)
    first = authenticate(conn, client.first(), 2)
    if first is None or first[0] != 0:
        return first
    final = authenticate(conn, client.final(first[2]), 3)
    if final is not None and final[0] == 0:
        assert client.verify(final[2]), "the broker's SCRAM signature does not verify"
    return final


def alter_users(conn, upsert=(), delete=(), correlation_id=7, salt_bytes=16):
    """AlterUserScramCredentials v0. upsert: (user, mechanism, password, iterations); delete:
    (user, mechanism) — a mechanism may be an int type to send a bad one. Returns
    {user: (error_code, error_message)}."""
    body = kw.uvarint(len(delete) + 1)
    for user, mechanism in delete:
        mtype = MECHANISM_TYPES.get(mechanism, mechanism)
        body += kw.compact_string(user) + struct.pack(">b", mtype) + b"\x00"
    body += kw.uvarint(len(upsert) + 1)
    for user, mechanism, password, iterations in upsert:
        mtype = MECHANISM_TYPES.get(mechanism, mechanism)
        salt = os.urandom(salt_bytes)
        digest = DIGESTS.get(mechanism, "sha256")
        salted = hashlib.pbkdf2_hmac(digest, password.encode(), salt, max(iterations, 1))
        body += (kw.compact_string(user) + struct.pack(">bi", mtype, iterations)
                 + compact_bytes(salt) + compact_bytes(salted) + b"\x00")
    body += b"\x00"
    conn.send(kw.framed(kw.raw_header_v2(ALTER_USER_SCRAM, 0, correlation_id) + body))
    payload = conn.read_frame()
    assert payload is not None, "broker closed the connection on AlterUserScramCredentials"
    r = kw.Reader(payload)
    assert r.int32() == correlation_id
    r.uvarint()  # response header tags
    r.int32()  # throttle
    results = {}
    for _ in range(r.uvarint() - 1):
        user = compact_string_read(r)
        error = r.int16()
        message = compact_string_read(r)
        r.uvarint()
        results[user] = (error, message)
    return results


def describe_users(conn, users=None, correlation_id=8):
    """DescribeUserScramCredentials v0. Returns (error, {user: (error, [(type, iterations)])})."""
    if users is None:
        body = b"\x00"
    else:
        body = kw.uvarint(len(users) + 1) + b"".join(kw.compact_string(u) + b"\x00"
                                                      for u in users)
    body += b"\x00"
    conn.send(kw.framed(kw.raw_header_v2(DESCRIBE_USER_SCRAM, 0, correlation_id) + body))
    payload = conn.read_frame()
    assert payload is not None, "broker closed the connection on DescribeUserScramCredentials"
    r = kw.Reader(payload)
    assert r.int32() == correlation_id
    r.uvarint()
    r.int32()
    error = r.int16()
    compact_string_read(r)
    results = {}
    for _ in range(r.uvarint() - 1):
        user = compact_string_read(r)
        user_error = r.int16()
        compact_string_read(r)
        infos = []
        for _ in range(r.uvarint() - 1):
            infos.append((r.int8(), r.int32()))
            r.uvarint()
        r.uvarint()
        results[user] = (user_error, infos)
    return error, results


def compact_string_read(r):
    size = r.uvarint()
    return None if size == 0 else r.take(size - 1).decode()
