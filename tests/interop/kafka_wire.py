"""kafka_wire: raw Kafka requests over a plain socket, for tests that must control every byte.

Requests and responses are encoded and decoded with kafka-python's own protocol structs (an
independent implementation of the codecs, so the broker is not checked against itself). A few
versions kafka-python lacks (ApiVersions v3, Metadata v8) are hand-encoded here, test-only.

kafka-python 2.0.2 predates flexible versions (KIP-482), so the compact types and tagged fields
they need are here (CompactString, CompactArray, TaggedFields), for use in kafka-python Schemas.
A Request class that sets FLEXIBLE = True is sent with request header v2 and its response read
with response header v1 (both carry tagged fields) by encode_request and decode_response.
"""
import io
import socket
import struct

from kafka.protocol.abstract import AbstractType
from kafka.protocol.admin import ApiVersionRequest
from kafka.protocol.api import RequestHeader
from kafka.protocol.metadata import MetadataRequest
from kafka.protocol.types import Schema

API_VERSIONS = 18
METADATA = 3
UNSUPPORTED_VERSION = 35
UNKNOWN_TOPIC_OR_PARTITION = 3
INVALID_TOPIC_EXCEPTION = 17
CLIENT_ID = "cairn-interop"
TIMEOUT_S = 30


def framed(payload):
    return struct.pack(">i", len(payload)) + payload


def is_flexible(request):
    """Whether `request` is sent with request header v2 and answered with response header v1."""
    return getattr(request, "FLEXIBLE", False)


def encode_request(request, correlation_id, client_id=CLIENT_ID):
    """A whole frame (size prefix included) for a kafka-python request struct."""
    # Kept in a variable: kafka-python's Struct.encode holds its instance only weakly.
    header = RequestHeader(request, correlation_id=correlation_id, client_id=client_id)
    encoded = header.encode()
    if is_flexible(request):
        encoded += TaggedFields.encode(None)
    return framed(encoded + request.encode())


def raw_header_v1(api_key, api_version, correlation_id, client_id=CLIENT_ID):
    name = client_id.encode()
    return struct.pack(">hhih", api_key, api_version, correlation_id, len(name)) + name


def raw_header_v2(api_key, api_version, correlation_id, client_id=CLIENT_ID):
    return raw_header_v1(api_key, api_version, correlation_id, client_id) + b"\x00"


def uvarint(value):
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def compact_string(text):
    data = text.encode()
    return uvarint(len(data) + 1) + data


def read_uvarint(stream):
    """An unsigned varint from a binary stream (io.BytesIO)."""
    shift = value = 0
    while True:
        byte = stream.read(1)
        if not byte:
            raise ValueError("truncated varint")
        value |= (byte[0] & 0x7F) << shift
        if byte[0] < 0x80:
            return value
        shift += 7
        if shift > 63:
            raise ValueError("varint longer than 64 bits")


# ----- flexible-version types (KIP-482), as kafka-python Schema fields

class CompactString(AbstractType):
    """COMPACT_STRING / COMPACT_NULLABLE_STRING: length + 1 as a uvarint, 0 for null."""

    @classmethod
    def encode(cls, value):
        if value is None:
            return uvarint(0)
        return compact_string(value)

    @classmethod
    def decode(cls, data):
        size = read_uvarint(data)
        if size == 0:
            return None
        value = data.read(size - 1)
        if len(value) != size - 1:
            raise ValueError("truncated compact string")
        return value.decode()


class CompactArray(AbstractType):
    """COMPACT_ARRAY of a type or of a Schema (given as fields, like kafka-python's Array)."""

    def __init__(self, *array_of):
        self.array_of = Schema(*array_of) if len(array_of) > 1 else array_of[0]

    def encode(self, items):
        if items is None:
            return uvarint(0)
        return uvarint(len(items) + 1) + b"".join(self.array_of.encode(i) for i in items)

    def decode(self, data):
        size = read_uvarint(data)
        if size == 0:
            return None
        return [self.array_of.decode(data) for _ in range(size - 1)]

    def repr(self, items):
        return repr(items)


class TaggedFields(AbstractType):
    """A tagged-field section. Encodes none (the value is ignored: pass None); decodes to
    {tag: bytes}."""

    @classmethod
    def encode(cls, value):
        return uvarint(0)

    @classmethod
    def decode(cls, data):
        fields = {}
        for _ in range(read_uvarint(data)):
            tag = read_uvarint(data)
            size = read_uvarint(data)
            fields[tag] = data.read(size)
        return fields


class Reader:
    """Just enough of a Kafka decoder for the hand-decoded responses below."""

    def __init__(self, data):
        self.data = data
        self.at = 0

    def take(self, size):
        if self.at + size > len(self.data):
            raise ValueError("truncated response")
        chunk = self.data[self.at:self.at + size]
        self.at += size
        return chunk

    def int8(self):
        return struct.unpack(">b", self.take(1))[0]

    def int16(self):
        return struct.unpack(">h", self.take(2))[0]

    def int32(self):
        return struct.unpack(">i", self.take(4))[0]

    def uvarint(self):
        shift = value = 0
        while True:
            byte = self.take(1)[0]
            value |= (byte & 0x7F) << shift
            if byte < 0x80:
                return value
            shift += 7

    def string(self):
        size = self.int16()
        return None if size < 0 else self.take(size).decode()

    def array(self, item):
        count = self.int32()
        return None if count < 0 else [item() for _ in range(count)]

    def done(self):
        return self.at == len(self.data)


def api_versions_v3_request(correlation_id):
    body = compact_string("cairn-interop") + compact_string("1.0") + b"\x00"
    return framed(raw_header_v2(API_VERSIONS, 3, correlation_id) + body)


def decode_api_versions_v3(payload):
    """(correlation_id, error_code, {api_key: (min, max)}) of a v3 response (header v0)."""
    r = Reader(payload)
    correlation_id = r.int32()  # response header v0: no tagged fields (KIP-511)
    error_code = r.int16()
    apis = {}
    for _ in range(r.uvarint() - 1):
        key, low, high = r.int16(), r.int16(), r.int16()
        r.uvarint()  # tagged fields
        apis[key] = (low, high)
    r.int32()  # throttle_time_ms
    for _ in range(r.uvarint()):
        r.uvarint()
        r.take(r.uvarint())
    if not r.done():
        raise ValueError("trailing bytes in ApiVersions v3 response")
    return correlation_id, error_code, apis


def metadata_v8_request(correlation_id, topics):
    """topics: None for all topics, else a list of names."""
    if topics is None:
        body = struct.pack(">i", -1)
    else:
        body = struct.pack(">i", len(topics))
        for name in topics:
            body += struct.pack(">h", len(name)) + name.encode()
    # allow_auto_topic_creation off (Cairn auto-creates by default), no authorized ops
    body += b"\x00\x00\x00"
    return framed(raw_header_v1(METADATA, 8, correlation_id) + body)


def decode_metadata_v8(payload):
    r = Reader(payload)
    result = {"correlation_id": r.int32(), "throttle_time_ms": r.int32()}
    result["brokers"] = r.array(lambda: (r.int32(), r.string(), r.int32(), r.string()))
    result["cluster_id"] = r.string()
    result["controller_id"] = r.int32()

    def partition():
        return {"error_code": r.int16(), "index": r.int32(), "leader": r.int32(),
                "leader_epoch": r.int32(), "replicas": r.array(r.int32),
                "isr": r.array(r.int32), "offline": r.array(r.int32)}

    def topic():
        return {"error_code": r.int16(), "name": r.string(), "is_internal": r.int8() != 0,
                "partitions": r.array(partition), "authorized_operations": r.int32()}

    result["topics"] = r.array(topic)
    result["cluster_authorized_operations"] = r.int32()
    if not r.done():
        raise ValueError("trailing bytes in Metadata v8 response")
    return result


class Connection:
    """A blocking client socket that speaks size-prefixed frames."""

    def __init__(self, bootstrap, timeout_s=TIMEOUT_S):
        host, port = bootstrap.rsplit(":", 1)
        self.sock = socket.create_connection((host, int(port)), timeout=timeout_s)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def send(self, data):
        self.sock.sendall(data)

    def _read_exactly(self, size):
        chunks = []
        while size > 0:
            chunk = self.sock.recv(min(size, 1 << 20))
            if not chunk:
                return None
            chunks.append(chunk)
            size -= len(chunk)
        return b"".join(chunks)

    def read_frame(self):
        """The next frame's payload, or None if the broker closed the connection."""
        try:
            prefix = self._read_exactly(4)
            if prefix is None:
                return None
            (size,) = struct.unpack(">i", prefix)
            return self._read_exactly(size)
        except ConnectionResetError:
            return None

    def request(self, request, correlation_id):
        """Sends a kafka-python request, returns its decoded response."""
        self.send(encode_request(request, correlation_id))
        payload = self.read_frame()
        if payload is None:
            raise AssertionError("broker closed the connection instead of answering %r"
                                 % (request,))
        return decode_response(request, payload, correlation_id)

    def closed_by_broker(self):
        """True once the broker closes the connection (reads and drops any replies first);
        raises socket.timeout if it neither answers nor closes within the timeout."""
        while True:
            try:
                chunk = self.sock.recv(65536)
            except ConnectionResetError:
                return True
            if not chunk:
                return True


def decode_response(request, payload, correlation_id):
    (got,) = struct.unpack(">i", payload[:4])
    if got != correlation_id:
        raise AssertionError("correlation id %d, expected %d" % (got, correlation_id))
    stream = io.BytesIO(payload[4:])
    if not is_flexible(request):
        return request.RESPONSE_TYPE.decode(stream)
    TaggedFields.decode(stream)  # response header v1
    response = request.RESPONSE_TYPE.decode(stream)
    # The hand-written flexible schemas must match the broker's layout to the byte.
    if stream.read(1):
        raise AssertionError("trailing bytes after %s" % request.RESPONSE_TYPE.__name__)
    return response


def check_api_versions(bootstrap):
    """A fresh connection gets a correct ApiVersions v0 answer; returns {key: (min, max)}."""
    with Connection(bootstrap) as conn:
        response = conn.request(ApiVersionRequest[0](), correlation_id=4242)
    if response.error_code != 0:
        raise AssertionError("ApiVersions error %d" % response.error_code)
    apis = {key: (low, high) for key, low, high in response.api_versions}
    if apis.get(API_VERSIONS, (0, -1))[1] < 3 or METADATA not in apis:
        raise AssertionError("ApiVersions answer lacks ApiVersions v3 or Metadata: %r" % apis)
    return apis

