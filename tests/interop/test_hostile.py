#!/usr/bin/python3
"""Hostile input against the real broker: every malformed frame gets a closed connection or
the right error code, never a crash; a fresh connection is served correctly afterwards; the
broker prints no sanitizer report. Also: a client announcing a huge frame and sending little
does not make the broker allocate the announced size."""
import os
import random
import socket
import struct
import time

import harness
import kafka_wire
from kafka_wire import (API_VERSIONS, METADATA, ApiVersionRequest, Connection, MetadataRequest,
                        framed, raw_header_v1, raw_header_v2)

SEED = int(os.environ.get("CAIRN_HOSTILE_SEED", "20261126"))


class HostileFrames(harness.BrokerTestCase):
    broker_topics = {"orders": 2}

    def expect_closed(self, data, what):
        """Sends `data` on a fresh connection; the broker must close it (replies allowed)."""
        with Connection(self.broker.bootstrap) as conn:
            conn.send(data)
            self.assertTrue(conn.closed_by_broker(), what)
        self.expect_healthy(what)

    def expect_healthy(self, what):
        self.assertTrue(self.broker.alive(), "broker died after %s:\n%s"
                        % (what, self.broker.stderr()))
        kafka_wire.check_api_versions(self.broker.bootstrap)

    # ----- frame sizes

    def test_bad_sizes_close_the_connection(self):
        for size in (0x7FFFFFFF, 100 * 1024 * 1024 + 1, 0, -1, -100, -0x80000000):
            self.expect_closed(struct.pack(">i", size), "size %d" % size)
            self.expect_closed(struct.pack(">i", size) + b"x" * 64, "size %d + bytes" % size)

    def test_truncated_frames_then_client_close(self):
        whole = kafka_wire.encode_request(ApiVersionRequest[0](), 1)
        for cut in (1, 2, 3, 4, 5, 10, len(whole) - 1):
            with Connection(self.broker.bootstrap) as conn:
                conn.send(whole[:cut])
            self.expect_healthy("truncated frame of %d bytes" % cut)
        with Connection(self.broker.bootstrap) as conn:  # announces 1000, sends 10, half-closes
            conn.send(struct.pack(">i", 1000) + b"0123456789")
            conn.sock.shutdown(socket.SHUT_WR)
            self.assertTrue(conn.closed_by_broker())
        self.expect_healthy("half-closed truncated frame")

    # ----- headers and bodies

    def test_unknown_api_keys_close_the_connection(self):
        for key in (9999, -1, 4, 27, 0x7FFF):
            self.expect_closed(framed(raw_header_v1(key, 0, 7)), "api key %d" % key)

    def test_unsupported_metadata_versions_close_the_connection(self):
        for version in (9, 12, 100, -1, 0x7FFF):
            header = raw_header_v2 if version >= 9 else raw_header_v1
            body = struct.pack(">i", -1) + b"\x00" * 8
            self.expect_closed(framed(header(METADATA, version, 7) + body),
                               "Metadata v%d" % version)

    def test_unsupported_api_versions_version_gets_error_35_with_v0_body(self):
        for version in (5, 127, 0x7FFF):
            with Connection(self.broker.bootstrap) as conn:
                conn.send(framed(raw_header_v2(API_VERSIONS, version, 99) + b"\x00\x00"))
                payload = conn.read_frame()
                self.assertIsNotNone(payload, "no answer to ApiVersions v%d" % version)
                r = kafka_wire.Reader(payload)
                self.assertEqual(99, r.int32())  # response header v0
                self.assertEqual(kafka_wire.UNSUPPORTED_VERSION, r.int16())
                apis = r.array(lambda: (r.int16(), r.int16(), r.int16()))
                self.assertTrue(r.done(), "v0 body expected")
                self.assertIn((API_VERSIONS, 0, 4), apis)
            self.expect_healthy("ApiVersions v%d" % version)

    def test_array_count_larger_than_the_frame(self):
        for count in (0x7FFFFFFF, 1000, 2):
            body = struct.pack(">i", count) + b"\x00\x01a"
            self.expect_closed(framed(raw_header_v1(METADATA, 1, 7) + body),
                               "Metadata topics count %d" % count)

    def test_negative_string_lengths(self):
        body = struct.pack(">ih", 1, -5)  # one topic, name length -5
        self.expect_closed(framed(raw_header_v1(METADATA, 1, 7) + body), "topic length -5")
        body = struct.pack(">ih", 1, -1)  # null where a name is required
        self.expect_closed(framed(raw_header_v1(METADATA, 1, 7) + body), "null topic name")
        header = struct.pack(">hhih", METADATA, 1, 7, -2)  # client_id length -2
        self.expect_closed(framed(header + struct.pack(">i", -1)), "client_id length -2")
        header = struct.pack(">hhih", METADATA, 1, 7, 500)  # client_id longer than the frame
        self.expect_closed(framed(header + b"abc"), "client_id past the frame")

    def test_flexible_request_with_bad_tagged_fields(self):
        header = raw_header_v1(API_VERSIONS, 3, 7) + kafka_wire.uvarint(0x7FFFFFFF)
        self.expect_closed(framed(header), "tagged field count past the frame")
        body = kafka_wire.uvarint(0xFFFFFFFF) + b"x"  # compact string length past the frame
        self.expect_closed(framed(raw_header_v2(API_VERSIONS, 3, 7) + body),
                           "compact string past the frame")

    def test_random_garbage_frames(self):
        rng = random.Random(SEED)
        for i in range(150):
            payload = bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 300)))
            self.garbage_case(framed(payload), "garbage frame %d (seed %d)" % (i, SEED))
        self.expect_healthy("random garbage frames (seed %d)" % SEED)

    def test_valid_headers_with_random_bodies(self):
        rng = random.Random(SEED + 1)
        for i in range(300):
            key, version = rng.choice([(API_VERSIONS, v) for v in range(4)] +
                                      [(METADATA, v) for v in range(9)])
            header = (raw_header_v2 if key == API_VERSIONS and version >= 3 else raw_header_v1)
            body = bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 64)))
            self.garbage_case(framed(header(key, version, i) + body),
                              "%d v%d random body %d (seed %d)" % (key, version, i, SEED))
        self.expect_healthy("random bodies (seed %d)" % SEED)

    def garbage_case(self, data, what):
        """Either an answer or a close is fine; a hang (timeout) or a crash is not."""
        with Connection(self.broker.bootstrap) as conn:
            conn.send(data)
            conn.sock.shutdown(socket.SHUT_WR)
            self.assertTrue(conn.closed_by_broker(), what)
        self.assertTrue(self.broker.alive(), "broker died after %s:\n%s"
                        % (what, self.broker.stderr()))


class MemoryBound(harness.BrokerTestCase):
    """Clients that announce 100 MiB frames and dribble bytes hold little broker memory."""

    ANNOUNCED_BYTES = 100 * 1024 * 1024  # the default maximum: accepted, not refused
    CLIENTS = 6
    SENT_BYTES_PER_CLIENT = 1024 * 1024
    RSS_GROWTH_MAX_KIB = 64 * 1024  # one preallocated frame would be 100 MiB; six, 600 MiB

    def test_announced_frames_are_not_preallocated(self):
        for _ in range(3):  # warm up: shard threads, allocator arenas
            kafka_wire.check_api_versions(self.broker.bootstrap)
        before_kib = self.broker.rss_kib()
        clients = [Connection(self.broker.bootstrap) for _ in range(self.CLIENTS)]
        try:
            for conn in clients:
                conn.send(struct.pack(">i", self.ANNOUNCED_BYTES))
            chunk = b"\x00" * 4096
            for _ in range(self.SENT_BYTES_PER_CLIENT // len(chunk)):
                for conn in clients:
                    conn.send(chunk)
            # The bytes are in flight; make sure the broker has read them before measuring:
            # a request on a fresh connection is answered after the earlier reads were
            # scheduled, and a few rounds give the shards time to drain the sockets.
            for _ in range(5):
                kafka_wire.check_api_versions(self.broker.bootstrap)
                time.sleep(0.2)
            after_kib = self.broker.rss_kib()
            growth_kib = after_kib - before_kib
            print("RSS before %d KiB, after %d KiB, growth %d KiB (%d clients announcing "
                  "%d MiB, %d KiB sent each)" % (before_kib, after_kib, growth_kib,
                                                self.CLIENTS, self.ANNOUNCED_BYTES >> 20,
                                                self.SENT_BYTES_PER_CLIENT >> 10))
            self.assertLess(growth_kib, self.RSS_GROWTH_MAX_KIB)
            self.assertBrokerHealthy()
        finally:
            for conn in clients:
                conn.close()
        kafka_wire.check_api_versions(self.broker.bootstrap)


if __name__ == "__main__":
    harness.main()
