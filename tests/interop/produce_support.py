"""produce_support: helpers for the produce / fetch / idempotence / durability interop tests.

- write_topics_with_configs: a topic registry file (docs/format/meta.md) with config overrides,
  written before the broker starts.
- build_batch: a v2 record batch built by kafka-python's own DefaultRecordBatchBuilder (an
  implementation independent of Cairn's), with knobs for producer id / epoch / sequence.
- WireClient: Produce, Fetch, ListOffsets and InitProducerId over a raw socket, so tests can
  send exactly the bytes they mean (bad CRCs, gaps in sequences, wrong acks).
Standard library + kafka-python (Debian's python3-kafka).
"""
import json
import os
import struct
import time
import uuid

from kafka.protocol.fetch import FetchRequest
from kafka.protocol.offset import OffsetRequest
from kafka.protocol.produce import ProduceRequest
from kafka.record.default_records import DefaultRecordBatchBuilder
from kafka.record.memory_records import MemoryRecords

import kafka_wire

# Kafka error codes the tests check.
NONE = 0
OFFSET_OUT_OF_RANGE = 1
CORRUPT_MESSAGE = 2
UNKNOWN_TOPIC_OR_PARTITION = 3
MESSAGE_TOO_LARGE = 10
RECORD_LIST_TOO_LARGE = 18
INVALID_REQUIRED_ACKS = 21
INVALID_TIMESTAMP = 32
UNSUPPORTED_FOR_MESSAGE_FORMAT = 43
OUT_OF_ORDER_SEQUENCE_NUMBER = 45
INVALID_PRODUCER_EPOCH = 47
KAFKA_STORAGE_ERROR = 56
INVALID_RECORD = 87

INIT_PRODUCER_ID = 22


def write_topics_with_configs(data_dir, topics):
    """topics: {name: (partition_count, {config: value})}."""
    entries = [{"name": name, "topic_id": uuid.uuid4().hex, "partitions": count,
                "configs": dict(configs)}
               for name, (count, configs) in sorted(topics.items())]
    os.makedirs(os.path.join(data_dir, "meta"), exist_ok=True)
    with open(os.path.join(data_dir, "meta", "topics.json"), "w") as f:
        json.dump({"format": 1, "topics": entries}, f)


def build_batch(records, compression=0, producer_id=-1, producer_epoch=-1, base_sequence=-1,
                timestamp_ms=None, timestamps=None):
    """records: [(key bytes|None, value bytes|None, [(header key str, bytes)])]; every record
    gets `timestamp_ms` (default: now), or timestamps[i] when `timestamps` is given."""
    builder = DefaultRecordBatchBuilder(
        magic=2, compression_type=compression, is_transactional=False,
        producer_id=producer_id, producer_epoch=producer_epoch, base_sequence=base_sequence,
        batch_size=64 * 1024 * 1024)
    now = int(time.time() * 1000) if timestamp_ms is None else timestamp_ms
    for offset, (key, value, headers) in enumerate(records):
        timestamp = now if timestamps is None else timestamps[offset]
        builder.append(offset, timestamp=timestamp, key=key, value=value, headers=headers)
    return bytes(builder.build())


def simple_batch(count=1, size=10, **kwargs):
    return build_batch([(b"k%d" % i, b"v" * size, []) for i in range(count)], **kwargs)


def decode_batches(message_set):
    """[(offset, timestamp, key, value, headers)] of every record in a fetched message set."""
    out = []
    records = MemoryRecords(message_set)
    while records.has_next():
        batch = records.next_batch()
        for record in batch:
            out.append((record.offset, record.timestamp, record.key, record.value,
                        list(record.headers)))
    return out


class WireClient:
    def __init__(self, bootstrap):
        self.connection = kafka_wire.Connection(bootstrap)
        self.correlation_id = 0

    def close(self):
        self.connection.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _next_id(self):
        self.correlation_id += 1
        return self.correlation_id

    def request(self, request):
        return self.connection.request(request, self._next_id())

    def produce(self, topic, partition, batch, version=7, acks=-1, transactional_id=None):
        """Returns (error_code, base_offset) of the one partition."""
        if version >= 3:
            request = ProduceRequest[version](
                transactional_id=transactional_id, required_acks=acks, timeout=30000,
                topics=[(topic, [(partition, batch)])])
        else:
            request = ProduceRequest[version](
                required_acks=acks, timeout=30000, topics=[(topic, [(partition, batch)])])
        response = self.request(request)
        partition_response = response.topics[0][1][0]
        return partition_response[1], partition_response[2]

    def produce_no_ack(self, topic, partition, batch):
        request = ProduceRequest[7](transactional_id=None, required_acks=0, timeout=30000,
                                    topics=[(topic, [(partition, batch)])])
        self.connection.send(kafka_wire.encode_request(request, self._next_id()))

    def fetch(self, topic, partition, offset, max_wait_ms=0, min_bytes=0,
              partition_max_bytes=1 << 20, max_bytes=50 << 20):
        """Returns (error_code, high_watermark, records list) for one partition (Fetch v4)."""
        request = FetchRequest[4](
            replica_id=-1, max_wait_time=max_wait_ms, min_bytes=min_bytes, max_bytes=max_bytes,
            isolation_level=0, topics=[(topic, [(partition, offset, partition_max_bytes)])])
        response = self.request(request)
        p = response.topics[0][1][0]
        error_code, high_watermark, message_set = p[1], p[2], p[5]
        return error_code, high_watermark, decode_batches(message_set)

    def fetch_raw(self, topic, partition, offset, partition_max_bytes=1 << 20):
        """The message set bytes of one partition, as the broker sent them."""
        request = FetchRequest[4](
            replica_id=-1, max_wait_time=0, min_bytes=0, max_bytes=50 << 20,
            isolation_level=0, topics=[(topic, [(partition, offset, partition_max_bytes)])])
        p = self.request(request).topics[0][1][0]
        return p[1], p[5]

    def list_offset(self, topic, partition, timestamp):
        """(error_code, timestamp, offset) from ListOffsets v1."""
        request = OffsetRequest[1](replica_id=-1, topics=[(topic, [(partition, timestamp)])])
        p = self.request(request).topics[0][1][0]
        return p[1], p[2], p[3]

    def init_producer_id(self):
        """(error_code, producer_id, producer_epoch) from InitProducerId v0 (hand-encoded)."""
        correlation_id = self._next_id()
        body = struct.pack(">hi", -1, 60000)  # transactional_id null, transaction timeout
        frame = kafka_wire.framed(
            kafka_wire.raw_header_v1(INIT_PRODUCER_ID, 0, correlation_id) + body)
        self.connection.send(frame)
        payload = self.connection.read_frame()
        got_id, _, error_code, producer_id, epoch = struct.unpack(">iihqh", payload[:20])
        assert got_id == correlation_id, (got_id, correlation_id)
        return error_code, producer_id, epoch


# ----- broker lifecycle helpers (same data directory, same port across restarts)

def start_broker(data_dir, port=0, shards=2, extra_args=(), preexec=None):
    """A Broker on `data_dir` (kept on stop) listening on 127.0.0.1:`port` (0: any), so a
    restarted broker is found again by clients that keep the old bootstrap address."""
    import harness
    broker = harness.Broker(shards=shards, data_dir=data_dir, extra_args=list(extra_args),
                            preexec=preexec)
    if not port:
        return broker.start()
    # The harness always passes --listen 127.0.0.1:0; swap in the fixed port for this start.
    real_popen = harness.subprocess.Popen

    def popen(args, *rest, **kwargs):
        args = ["127.0.0.1:%d" % port if arg == "127.0.0.1:0" else arg for arg in args]
        return real_popen(args, *rest, **kwargs)

    harness.subprocess.Popen = popen
    try:
        return broker.start()
    finally:
        harness.subprocess.Popen = real_popen


def kill9(broker):
    """SIGKILL, like a power cut for the process (data in the page cache survives)."""
    import signal
    broker.process.send_signal(signal.SIGKILL)
    broker.process.wait(60)
    broker._reader.join(10)
    broker.process.stderr.close()
    broker.check_clean()
    broker.process = None


def batch_codecs(message_set):
    """The compression codec (attributes & 7) of every batch in a fetched message set."""
    codecs = []
    at = 0
    while at + 61 <= len(message_set):
        (length,) = struct.unpack(">i", message_set[at + 8:at + 12])
        (attributes,) = struct.unpack(">h", message_set[at + 21:at + 23])
        codecs.append(attributes & 7)
        at += 12 + length
    return codecs


def fetch_all(client, topic, partition, until_offset, start=0):
    """Every record of one partition from `start` up to `until_offset` (exclusive)."""
    out = []
    offset = start
    while offset < until_offset:
        error, _, records = client.fetch(topic, partition, offset, max_wait_ms=500, min_bytes=1)
        assert error == NONE, error
        records = [r for r in records if r[0] >= offset]
        if records:
            out.extend(records)
            offset = records[-1][0] + 1
    return out


def codec_batches(client, topic, partition):
    """The codecs of every batch in a partition, read from offset 0 to the high watermark."""
    codecs = []
    offset = 0
    while True:
        error, message_set = client.fetch_raw(topic, partition, offset)
        assert error == NONE, error
        if not message_set:
            return codecs
        codecs.extend(batch_codecs(message_set))
        last = decode_batches(message_set)
        offset = last[-1][0] + 1
