"""txn_wire: raw transaction requests (KIP-98) for test_transactions_wire.py.

kafka-python 2.0.2 has none of the transaction APIs, so InitProducerId, AddPartitionsToTxn,
AddOffsetsToTxn, EndTxn, TxnOffsetCommit and OffsetFetch v7 are declared here with kafka-python's
protocol types (plus kafka_wire's compact types for the flexible versions), laid out field by
field from Kafka's message JSON (clients/src/main/resources/common/message/*.json). TxnClient
sends them, and Produce / Fetch v11 / ListOffsets v2 with transactional batches, over one
socket. Standard library + kafka-python (Debian's python3-kafka).
"""
import struct
import time

from kafka.protocol.api import Request, Response
from kafka.protocol.commit import OffsetCommitRequest_v2
from kafka.protocol.fetch import FetchRequest_v11
from kafka.protocol.offset import OffsetRequest_v2
from kafka.protocol.types import Array, Boolean, Int16, Int32, Int64, Schema, String
from kafka.record.default_records import DefaultRecordBatch, DefaultRecordBatchBuilder

import produce_support
from kafka_wire import CompactArray, CompactString, TaggedFields

# Kafka error codes (clients/src/main/java/org/apache/kafka/common/protocol/Errors.java).
NONE = 0
UNKNOWN_TOPIC_OR_PARTITION = 3
INVALID_REQUEST = 42
INVALID_PRODUCER_EPOCH = 47
INVALID_TXN_STATE = 48
INVALID_PRODUCER_ID_MAPPING = 49
CONCURRENT_TRANSACTIONS = 51
TRANSACTIONAL_ID_AUTHORIZATION_FAILED = 53
OPERATION_NOT_ATTEMPTED = 55
UNSTABLE_OFFSET_COMMIT = 88
PRODUCER_FENCED = 90

READ_UNCOMMITTED = 0
READ_COMMITTED = 1
LATEST_TIMESTAMP = -1
TXN_TIMEOUT_MS = 60000
RETRY_DEADLINE_S = 20

STRING = String("utf-8")


def _request(name, api_key, version, request_fields, response_fields, flexible=False):
    """A (Request, Response) pair of kafka-python Struct classes for one API version."""
    if flexible:
        request_fields = request_fields + (("tags", TaggedFields),)
        response_fields = response_fields + (("tags", TaggedFields),)
    response = type(name + "Response_v%d" % version, (Response,), {
        "API_KEY": api_key, "API_VERSION": version, "SCHEMA": Schema(*response_fields)})
    return type(name + "Request_v%d" % version, (Request,), {
        "API_KEY": api_key, "API_VERSION": version, "RESPONSE_TYPE": response,
        "FLEXIBLE": flexible, "SCHEMA": Schema(*request_fields)})


# ----- InitProducerId (22): v0-1 classic, v2+ flexible, v3+ carry producer id and epoch
# (KIP-360), v4 answers PRODUCER_FENCED where v3 answers INVALID_PRODUCER_EPOCH (KIP-588).

def _init_producer_id(version):
    flexible = version >= 2
    text = CompactString if flexible else STRING
    fields = (("transactional_id", text), ("transaction_timeout_ms", Int32))
    if version >= 3:
        fields += (("producer_id", Int64), ("producer_epoch", Int16))
    answer = (("throttle_time_ms", Int32), ("error_code", Int16), ("producer_id", Int64),
              ("producer_epoch", Int16))
    return _request("InitProducerId", 22, version, fields, answer, flexible)


InitProducerIdRequest = {v: _init_producer_id(v) for v in range(5)}

# ----- AddPartitionsToTxn (24), AddOffsetsToTxn (25), EndTxn (26): the classic v0-2 (v2 is the
# first with PRODUCER_FENCED); v3 only turns them flexible.

AddPartitionsToTxnRequest = {v: _request(
    "AddPartitionsToTxn", 24, v,
    (("transactional_id", STRING), ("producer_id", Int64), ("producer_epoch", Int16),
     ("topics", Array(("name", STRING), ("partitions", Array(Int32))))),
    (("throttle_time_ms", Int32),
     ("results", Array(("name", STRING),
                       ("partitions", Array(("partition", Int32), ("error_code", Int16)))))))
    for v in range(3)}

AddOffsetsToTxnRequest = {v: _request(
    "AddOffsetsToTxn", 25, v,
    (("transactional_id", STRING), ("producer_id", Int64), ("producer_epoch", Int16),
     ("group_id", STRING)),
    (("throttle_time_ms", Int32), ("error_code", Int16)))
    for v in range(3)}

EndTxnRequest = {v: _request(
    "EndTxn", 26, v,
    (("transactional_id", STRING), ("producer_id", Int64), ("producer_epoch", Int16),
     ("committed", Boolean)),
    (("throttle_time_ms", Int32), ("error_code", Int16)))
    for v in range(3)}


# ----- TxnOffsetCommit (28): v2 adds the leader epoch, v3 (flexible) the group generation,
# member id and instance id (KIP-447).

def _txn_offset_commit(version):
    flexible = version >= 3
    text = CompactString if flexible else STRING
    array = CompactArray if flexible else Array
    tags = (("tags", TaggedFields),) if flexible else ()
    partition = (("partition", Int32), ("offset", Int64))
    if version >= 2:
        partition += (("leader_epoch", Int32),)
    partition += (("metadata", text),) + tags
    fields = (("transactional_id", text), ("group_id", text), ("producer_id", Int64),
              ("producer_epoch", Int16))
    if version >= 3:
        fields += (("generation_id", Int32), ("member_id", text), ("group_instance_id", text))
    fields += (("topics", array(*((("name", text), ("partitions", array(*partition))) +
                                  tags))),)
    answer = (("throttle_time_ms", Int32),
              ("topics", array(*((("name", text),
                                  ("partitions", array(*((("partition", Int32),
                                                          ("error_code", Int16)) + tags)))) +
                                 tags))))
    return _request("TxnOffsetCommit", 28, version, fields, answer, flexible)


TxnOffsetCommitRequest = {v: _txn_offset_commit(v) for v in range(4)}

TAGGED = (("tags", TaggedFields),)
# OffsetFetch (9) v7: flexible, with require_stable (KIP-447).
OffsetFetchRequest_v7 = _request(
    "OffsetFetch", 9, 7,
    (("group_id", CompactString),
     ("topics", CompactArray(("name", CompactString), ("partitions", CompactArray(Int32)),
                             *TAGGED)),
     ("require_stable", Boolean)),
    (("throttle_time_ms", Int32),
     ("topics", CompactArray(("name", CompactString),
                             ("partitions", CompactArray(
                                 ("partition", Int32), ("offset", Int64), ("leader_epoch", Int32),
                                 ("metadata", CompactString), ("error_code", Int16), *TAGGED)),
                             *TAGGED)),
     ("error_code", Int16)),
    flexible=True)


# ----- record batches

def txn_batch(values, producer_id, epoch, sequence, keys=None, transactional=True):
    """A v2 batch of `values` (bytes) from (producer_id, epoch), first sequence `sequence`,
    built by kafka-python's DefaultRecordBatchBuilder; keys default to b"k<i>"."""
    builder = DefaultRecordBatchBuilder(
        magic=2, compression_type=0, is_transactional=transactional, producer_id=producer_id,
        producer_epoch=epoch, base_sequence=sequence, batch_size=16 << 20)
    now_ms = int(time.time() * 1000)
    for i, value in enumerate(values):
        key = keys[i] if keys is not None else b"k%d" % i
        builder.append(i, timestamp=now_ms, key=key, value=value, headers=[])
    return bytes(builder.build())


class Batch:
    """One batch of a fetched message set: its header fields and its records' (offset, key,
    value). Header: Kafka's DefaultRecordBatch, 61 bytes; base offset at byte 0, length 8,
    attributes 21, last offset delta 23, producer id 43, producer epoch 51."""

    def __init__(self, data):
        (self.base_offset, length) = struct.unpack(">qi", data[:12])
        (self.attributes, self.last_offset_delta) = struct.unpack(">hi", data[21:27])
        (self.producer_id, self.producer_epoch) = struct.unpack(">qh", data[43:53])
        self.size = 12 + length
        self.transactional = bool(self.attributes & 0x10)
        self.control = bool(self.attributes & 0x20)
        self.records = [(r.offset, r.key, r.value)
                        for r in DefaultRecordBatch(bytes(data[:self.size]))]

    @property
    def next_offset(self):
        """The offset after the batch (a compacted batch may have lost its records, never its
        offset range)."""
        return self.base_offset + self.last_offset_delta + 1


def split_batches(message_set):
    """The whole batches of a message set (a trailing partial batch is dropped, as clients do)."""
    batches = []
    at = 0
    while at + 61 <= len(message_set):
        (length,) = struct.unpack(">i", message_set[at + 8:at + 12])
        if at + 12 + length > len(message_set):
            break
        batches.append(Batch(message_set[at:at + 12 + length]))
        at += 12 + length
    return batches


class FetchedPartition:
    def __init__(self, fields):
        (_, self.error_code, self.high_watermark, self.last_stable_offset, self.log_start_offset,
         self.aborted_transactions, _, message_set) = fields
        self.batches = split_batches(message_set or b"")

    def data_records(self):
        """(offset, key, value) of every record outside control batches."""
        return [r for b in self.batches if not b.control for r in b.records]


class TxnClient(produce_support.WireClient):
    """One connection to the broker; every method returns the answer's error codes (and
    values), never raises on a Kafka error."""

    def init_producer_id(self, transactional_id, producer_id=-1, epoch=-1, version=4,
                         timeout_ms=TXN_TIMEOUT_MS):
        """(error_code, producer_id, epoch)."""
        fields = dict(transactional_id=transactional_id, transaction_timeout_ms=timeout_ms)
        if version >= 3:
            fields.update(producer_id=producer_id, producer_epoch=epoch)
        if version >= 2:
            fields.update(tags=None)
        r = self.request(InitProducerIdRequest[version](**fields))
        return r.error_code, r.producer_id, r.producer_epoch

    def init_settled(self, transactional_id, **kwargs):
        """InitProducerId retried while the answer is CONCURRENT_TRANSACTIONS (Kafka answers
        it once after fencing an open transaction); (producer_id, epoch)."""
        deadline = time.monotonic() + RETRY_DEADLINE_S
        while True:
            error, producer_id, epoch = self.init_producer_id(transactional_id, **kwargs)
            if error != CONCURRENT_TRANSACTIONS or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert error == NONE, "InitProducerId %r: error %d" % (transactional_id, error)
        return producer_id, epoch

    def add_partitions(self, transactional_id, producer_id, epoch, topics, version=2):
        """topics: {name: [partition]}; returns {(name, partition): error_code}."""
        r = self.request(AddPartitionsToTxnRequest[version](
            transactional_id=transactional_id, producer_id=producer_id, producer_epoch=epoch,
            topics=[(name, list(parts)) for name, parts in topics.items()]))
        return {(name, p): e for name, parts in r.results for p, e in parts}

    def add_partitions_settled(self, transactional_id, producer_id, epoch, topics):
        """AddPartitionsToTxn retried while CONCURRENT_TRANSACTIONS (Kafka answers it while the
        previous transaction's markers are being written); asserts every partition is added."""
        deadline = time.monotonic() + RETRY_DEADLINE_S
        while True:
            errors = self.add_partitions(transactional_id, producer_id, epoch, topics)
            if (set(errors.values()) != {CONCURRENT_TRANSACTIONS} or
                    time.monotonic() > deadline):
                break
            time.sleep(0.05)
        assert set(errors.values()) == {NONE}, errors

    def add_offsets(self, transactional_id, producer_id, epoch, group_id, version=2):
        r = self.request(AddOffsetsToTxnRequest[version](
            transactional_id=transactional_id, producer_id=producer_id, producer_epoch=epoch,
            group_id=group_id))
        return r.error_code

    def add_offsets_settled(self, transactional_id, producer_id, epoch, group_id):
        """AddOffsetsToTxn retried while CONCURRENT_TRANSACTIONS, like add_partitions_settled;
        returns the final error code."""
        deadline = time.monotonic() + RETRY_DEADLINE_S
        while True:
            error = self.add_offsets(transactional_id, producer_id, epoch, group_id)
            if error != CONCURRENT_TRANSACTIONS or time.monotonic() > deadline:
                return error
            time.sleep(0.05)

    def end_txn(self, transactional_id, producer_id, epoch, commit, version=2):
        r = self.request(EndTxnRequest[version](
            transactional_id=transactional_id, producer_id=producer_id, producer_epoch=epoch,
            committed=commit))
        return r.error_code

    def txn_offset_commit(self, transactional_id, group_id, producer_id, epoch, offsets,
                          version=3, generation_id=-1, member_id="", group_instance_id=None):
        """offsets: {(topic, partition): offset}; returns {(topic, partition): error_code}."""
        tags = (None,) if version >= 3 else ()
        by_topic = {}
        for (topic, partition), offset in offsets.items():
            entry = (partition, offset) + ((-1,) if version >= 2 else ()) + ("txn",) + tags
            by_topic.setdefault(topic, []).append(entry)
        fields = dict(transactional_id=transactional_id, group_id=group_id,
                      producer_id=producer_id, producer_epoch=epoch,
                      topics=[(t, parts) + tags for t, parts in by_topic.items()])
        if version >= 3:
            fields.update(generation_id=generation_id, member_id=member_id,
                          group_instance_id=group_instance_id, tags=None)
        r = self.request(TxnOffsetCommitRequest[version](**fields))
        return {(t[0], p[0]): p[1] for t in r.topics for p in t[1]}

    def commit_offsets(self, group_id, offsets):
        """A plain OffsetCommit v2 from outside the group; asserts it is accepted."""
        by_topic = {}
        for (topic, partition), offset in offsets.items():
            by_topic.setdefault(topic, []).append((partition, offset, ""))
        r = self.request(OffsetCommitRequest_v2(group_id, -1, "", -1, list(by_topic.items())))
        errors = [e for _, parts in r.topics for _, e in parts]
        assert set(errors) == {NONE}, errors

    def offset_fetch(self, group_id, partitions, require_stable):
        """OffsetFetch v7 of [(topic, partition)]: (top-level error, {(topic, partition):
        (offset, error_code)})."""
        by_topic = {}
        for topic, partition in partitions:
            by_topic.setdefault(topic, []).append(partition)
        r = self.request(OffsetFetchRequest_v7(
            group_id=group_id, topics=[(t, ps, None) for t, ps in by_topic.items()],
            require_stable=require_stable, tags=None))
        return r.error_code, {(t[0], p[0]): (p[1], p[4]) for t in r.topics for p in t[1]}

    def stable_offsets(self, group_id, partitions):
        """OffsetFetch v7 with require_stable, retried while UNSTABLE_OFFSET_COMMIT (as clients
        do) until the pending transactional offsets are settled; {(topic, partition): offset}."""
        deadline = time.monotonic() + RETRY_DEADLINE_S
        while True:
            error, got = self.offset_fetch(group_id, partitions, require_stable=True)
            assert error == NONE, error
            unstable = [tp for tp, (_, e) in got.items() if e == UNSTABLE_OFFSET_COMMIT]
            if not unstable or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert all(e == NONE for _, e in got.values()), got
        return {tp: offset for tp, (offset, _) in got.items()}

    def produce_batch(self, topic, partition, batch, transactional_id):
        """Produce v7 of one batch; (error_code, base_offset)."""
        return self.produce(topic, partition, batch, version=7, transactional_id=transactional_id)

    def fetch11(self, topic, partition, offset, isolation_level, max_bytes=1 << 20):
        """Fetch v11 of one partition, no session; a FetchedPartition."""
        request = FetchRequest_v11(
            replica_id=-1, max_wait_time=0, min_bytes=0, max_bytes=max_bytes,
            isolation_level=isolation_level, session_id=0, session_epoch=-1,
            topics=[(topic, [(partition, -1, offset, -1, max_bytes)])],
            forgotten_topics_data=[], rack_id="")
        response = self.request(request)
        assert response.error_code == NONE, response.error_code
        return FetchedPartition(response.topics[0][1][0])

    def fetch_all(self, topic, partition, isolation_level):
        """Every batch from offset 0 up to the visible end (high watermark or LSO), fetched
        segment after segment; (batches, last FetchedPartition)."""
        batches = []
        offset = 0
        while True:
            fetched = self.fetch11(topic, partition, offset, isolation_level)
            assert fetched.error_code == NONE, fetched.error_code
            fresh = [b for b in fetched.batches if b.next_offset > offset]
            if not fresh:
                return batches, fetched
            batches.extend(fresh)
            offset = fresh[-1].next_offset

    def latest_offset(self, topic, partition, isolation_level):
        """ListOffsets v2 of the latest offset: (error_code, offset)."""
        r = self.request(OffsetRequest_v2(replica_id=-1, isolation_level=isolation_level,
                                          topics=[(topic, [(partition, LATEST_TIMESTAMP)])]))
        p = r.topics[0][1][0]
        return p[1], p[3]
