#!/usr/bin/python3
"""capture_batches: record the Kafka record batches that real clients send.

Runs a tiny fake broker on 127.0.0.1 that speaks just enough of the Kafka protocol for a
producer to deliver: ApiVersions v0-v3, Metadata v0-v4 (one topic, one partition, led by
itself), InitProducerId v0-v1 (for idempotent producers) and Produce v3-v7, whose `records`
fields it saves. Then it drives real clients at it (kcat, confluent-kafka-python, kafka-python)
with known keys, values and headers, and writes, per scenario:

    <out>/<scenario>.bin     the `records` bytes of every Produce request, concatenated
    <out>/manifest.json      what each scenario sent: client, codec, records

Usage: /usr/bin/python3 tools/capture_batches/capture.py --out src/protocol/testdata/batches
Only for regenerating test data; nothing in the build runs it.
"""
import argparse
import json
import os
import socket
import struct
import subprocess
import sys
import threading
import time

NODE_ID = 1
TOPIC = "t"
PRODUCER_ID = 4242
PRODUCER_EPOCH = 3

# api key: (min, max). Produce must start at 0 and FindCoordinator must be listed, or
# librdkafka <= 2.11 silently sends gzip, snappy and lz4 uncompressed: it asks whether the broker
# supports Produce in [0, 0] before compressing with them, and lz4 needs its "LZ4" feature,
# which it derives from FindCoordinator 0. Fetch 4+ keeps it on message format v2 (MsgVer2
# needs Produce 3 and Fetch 4). Fetch and FindCoordinator are advertised only for those checks;
# producers never send them.
API_RANGES = {0: (0, 7), 1: (4, 11), 3: (0, 4), 10: (0, 2), 18: (0, 3), 22: (0, 1)}


# ---- encoding helpers ---------------------------------------------------------------------------

def i8(v): return struct.pack(">b", v)
def i16(v): return struct.pack(">h", v)
def i32(v): return struct.pack(">i", v)
def i64(v): return struct.pack(">q", v)
def string(s): return i16(len(s)) + s.encode()
def nullable_string(s): return i16(-1) if s is None else string(s)
def array(items): return i32(len(items)) + b"".join(items)


def uvarint(v):
    out = b""
    while v >= 0x80:
        out += bytes([(v & 0x7F) | 0x80])
        v >>= 7
    return out + bytes([v])


class Reader:
    def __init__(self, data):
        self.data, self.pos = data, 0

    def take(self, n):
        if self.pos + n > len(self.data):
            raise ValueError("truncated request")
        chunk = self.data[self.pos:self.pos + n]
        self.pos += n
        return chunk

    def i8(self): return struct.unpack(">b", self.take(1))[0]
    def i16(self): return struct.unpack(">h", self.take(2))[0]
    def i32(self): return struct.unpack(">i", self.take(4))[0]

    def nullable_string(self):
        n = self.i16()
        return None if n < 0 else self.take(n).decode()

    def nullable_bytes(self):
        n = self.i32()
        return None if n < 0 else self.take(n)

    def uvarint(self):
        shift, value = 0, 0
        while True:
            b = self.take(1)[0]
            value |= (b & 0x7F) << shift
            if b < 0x80:
                return value
            shift += 7

    def skip_tagged_fields(self):
        for _ in range(self.uvarint()):
            self.uvarint()
            self.take(self.uvarint())


# ---- the fake broker --------------------------------------------------------------------------

class FakeBroker:
    def __init__(self):
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        self.lock = threading.Lock()
        self.captured = []  # (produce version, records bytes)
        self.log = []
        self.next_offset = 0
        threading.Thread(target=self.accept_loop, daemon=True).start()

    def take_captured(self):
        with self.lock:
            out, self.captured = self.captured, []
            return out

    def accept_loop(self):
        while True:
            conn, _ = self.listener.accept()
            threading.Thread(target=self.serve, args=(conn,), daemon=True).start()

    def serve(self, conn):
        try:
            while True:
                size_bytes = self.read_exact(conn, 4)
                if size_bytes is None:
                    return
                frame = self.read_exact(conn, struct.unpack(">i", size_bytes)[0])
                response = self.handle(frame)
                if response is not None:
                    conn.sendall(i32(len(response)) + response)
        except (ConnectionError, ValueError) as e:
            self.log.append("connection closed: %s" % e)
        finally:
            conn.close()

    @staticmethod
    def read_exact(conn, n):
        data = b""
        while len(data) < n:
            chunk = conn.recv(n - len(data))
            if not chunk:
                return None
            data += chunk
        return data

    def handle(self, frame):
        r = Reader(frame)
        api_key, version, correlation_id = r.i16(), r.i16(), r.i32()
        r.nullable_string()  # client_id
        self.log.append("api %d v%d" % (api_key, version))
        if api_key == 18:
            return i32(correlation_id) + self.api_versions(r, version)
        if api_key == 3:
            return i32(correlation_id) + self.metadata(r, version)
        if api_key == 22:
            return i32(correlation_id) + self.init_producer_id(version)
        if api_key == 0:
            body = self.produce(r, version)
            return None if body is None else i32(correlation_id) + body
        raise ValueError("unexpected api key %d" % api_key)

    def api_versions(self, r, version):
        # The response header is v0 for every ApiVersions version (KIP-511).
        if version > 3:
            return i16(35) + array([i16(18) + i16(0) + i16(3)])
        if version >= 3:
            r.skip_tagged_fields()
            keys = [i16(k) + i16(lo) + i16(hi) + uvarint(0) for k, (lo, hi) in API_RANGES.items()]
            return i16(0) + uvarint(len(keys) + 1) + b"".join(keys) + i32(0) + uvarint(0)
        keys = [i16(k) + i16(lo) + i16(hi) for k, (lo, hi) in API_RANGES.items()]
        return i16(0) + array(keys) + (i32(0) if version >= 1 else b"")

    def metadata(self, r, version):
        count = r.i32()
        topics = [r.nullable_string() for _ in range(max(count, 0))] or [TOPIC]
        broker = i32(NODE_ID) + string("127.0.0.1") + i32(self.port)
        if version >= 1:
            broker += nullable_string(None)  # rack
        out = i32(0) if version >= 3 else b""  # throttle_time_ms
        out += array([broker])
        if version >= 2:
            out += nullable_string("capture")  # cluster_id
        if version >= 1:
            out += i32(NODE_ID)  # controller_id
        partition = i16(0) + i32(0) + i32(NODE_ID) + array([i32(NODE_ID)]) + array([i32(NODE_ID)])
        entries = []
        for name in topics:
            entry = i16(0) + string(name)
            if version >= 1:
                entry += i8(0)  # is_internal
            entries.append(entry + array([partition]))
        return out + array(entries)

    def init_producer_id(self, version):
        return i32(0) + i16(0) + i64(PRODUCER_ID) + i16(PRODUCER_EPOCH)

    def produce(self, r, version):
        r.nullable_string()  # transactional_id
        acks = r.i16()
        r.i32()  # timeout_ms
        responses = []
        for _ in range(r.i32()):
            name = r.nullable_string()
            partitions = []
            for _ in range(r.i32()):
                index = r.i32()
                records = r.nullable_bytes()
                with self.lock:
                    self.captured.append((version, records))
                    base_offset = self.next_offset
                    self.next_offset += 1000
                entry = i32(index) + i16(0) + i64(base_offset) + i64(-1)
                if version >= 5:
                    entry += i64(0)  # log_start_offset
                partitions.append(entry)
            responses.append(string(name) + array(partitions))
        if acks == 0:
            return None
        return array(responses) + i32(0)


# ---- scenarios ----------------------------------------------------------------------------------

CODECS = ["none", "gzip", "snappy", "lz4", "zstd"]
KCAT_HEADERS = [("app", "cairn"), ("trace", "abc123")]


def kcat_lines():
    lines = [("key1", "value1"), ("key2", "hello world"), ("key3", None)]
    lines += [("key-%02d" % i, "the quick brown fox jumps over the lazy dog %02d" % i)
              for i in range(40)]
    return lines


def run_kcat(port, codec, extra=()):
    lines = kcat_lines()
    stdin = "".join("%s:%s\n" % (k, v if v is not None else "") for k, v in lines)
    command = ["kcat", "-P", "-b", "127.0.0.1:%d" % port, "-t", TOPIC, "-p", "0", "-K:", "-Z",
               "-z", codec, "-X", "linger.ms=500"] + list(extra)
    for k, v in KCAT_HEADERS:
        command += ["-H", "%s=%s" % (k, v)]
    subprocess.run(command, input=stdin.encode(), check=True, timeout=60)
    records = [{"key": k, "value": v, "headers": [[hk, hv] for hk, hv in KCAT_HEADERS]}
               for k, v in lines]
    command[3] = "127.0.0.1:PORT"
    return {"client": "kcat", "command": " ".join(command), "codec": codec, "records": records}


def confluent_records():
    base = 1700000000000
    return [
        {"key": "user-1", "value": "created", "headers": [["source", "web"]], "timestamp": base},
        {"key": None, "value": "keyless", "headers": [], "timestamp": base + 5},
        {"key": "user-1", "value": None, "headers": [["deleted", None]], "timestamp": base + 7},
        {"key": "bin", "value": "\u00e9t\u00e9 \u2603", "headers":
            [["a", "1"], ["a", "2"], ["empty", ""]], "timestamp": base + 3},
    ] + [{"key": "k%03d" % i, "value": "payload %03d " % i * 4, "headers": [],
          "timestamp": base + 100 + i} for i in range(30)]


CONFLUENT_SCRIPT = r"""
import json, sys
from confluent_kafka import Producer
config, records = json.loads(sys.argv[1]), json.loads(sys.argv[2])
p = Producer(config)
enc = lambda s: None if s is None else s.encode()
for r in records:
    p.produce("t", key=enc(r["key"]), value=enc(r["value"]), partition=0,
              headers=[(k, enc(v)) for k, v in r["headers"]], timestamp=r["timestamp"])
left = p.flush(30)
sys.exit(1 if left else 0)
"""


# About 80 KiB of records: more than one 64 KiB lz4 block. The manifest gives the rule, and
# the test regenerates the records from it.
LARGE_RULE = {"count": 500, "key": "big-%04d", "value": "payload for record %04d; (x5)",
              "headers": [["n", "%d"]], "timestamp": "1700000001000 + i"}
LARGE_RECORDS = [{"key": "big-%04d" % i, "value": ("payload for record %04d; " % i) * 5,
                  "headers": [["n", str(i)]], "timestamp": 1700000001000 + i}
                 for i in range(500)]


def run_confluent(port, codec, idempotent, records=None):
    config = {"bootstrap.servers": "127.0.0.1:%d" % port, "compression.type": codec,
              "linger.ms": 500, "enable.idempotence": idempotent}
    records = records or confluent_records()
    subprocess.run(["/usr/bin/python3", "-c", CONFLUENT_SCRIPT, json.dumps(config),
                    json.dumps(records)], check=True, timeout=60)
    out = {"client": "confluent-kafka-python", "config": stable(config), "codec": codec,
           "idempotent": idempotent}
    if records == LARGE_RECORDS:
        out["records_generated"] = LARGE_RULE  # 500 records; the rule keeps the manifest small
    else:
        out["records"] = records
    return out


def stable(config):
    """The config with the (random) port replaced, so regenerating changes only real bytes."""
    return {k: (v.split(":")[0] + ":PORT" if "bootstrap" in k else v) for k, v in config.items()}


KAFKA_PYTHON_SCRIPT = r"""
import json, sys
from kafka import KafkaProducer
config, records = json.loads(sys.argv[1]), json.loads(sys.argv[2])
p = KafkaProducer(**config)
enc = lambda s: None if s is None else s.encode()
for r in records:
    p.send("t", key=enc(r["key"]), value=enc(r["value"]), partition=0,
           headers=[(k, enc(v)) for k, v in r["headers"]], timestamp_ms=r["timestamp"])
p.flush(30)
p.close(10)
"""


def run_kafka_python(port, codec):
    config = {"bootstrap_servers": "127.0.0.1:%d" % port, "linger_ms": 500,
              "compression_type": None if codec == "none" else codec}
    records = [r for r in confluent_records() if all(v is not None for _, v in r["headers"])]
    subprocess.run(["/usr/bin/python3", "-c", KAFKA_PYTHON_SCRIPT, json.dumps(config),
                    json.dumps(records)], check=True, timeout=60)
    return {"client": "kafka-python", "config": stable(config), "codec": codec,
            "records": records}


def versions():
    out = {}
    kcat = subprocess.run(["kcat", "-V"], capture_output=True, text=True).stdout
    out["kcat"] = [line for line in kcat.splitlines() if line.startswith("Version")][0]
    out["confluent-kafka-python"] = subprocess.run(
        ["/usr/bin/python3", "-c", "import confluent_kafka as c; print(c.version()[0], "
         "'librdkafka', c.libversion()[0])"], capture_output=True, text=True).stdout.strip()
    out["kafka-python"] = subprocess.run(
        ["/usr/bin/python3", "-c", "import kafka; print(kafka.__version__)"],
        capture_output=True, text=True).stdout.strip()
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    broker = FakeBroker()
    scenarios = {}
    jobs = [("kcat_%s" % c, lambda c=c: run_kcat(broker.port, c)) for c in CODECS]
    # Small batches: the file holds several batches back to back.
    jobs += [("kcat_gzip_split", lambda: run_kcat(broker.port, "gzip",
                                                   ["-X", "batch.num.messages=10"]))]
    jobs += [("confluent_lz4_large", lambda: run_confluent(broker.port, "lz4", False,
                                                            LARGE_RECORDS))]
    jobs += [("confluent_%s" % c, lambda c=c: run_confluent(broker.port, c, False))
             for c in ["none", "zstd"]]
    jobs += [("confluent_idempotent_lz4", lambda: run_confluent(broker.port, "lz4", True))]
    jobs += [("kafka_python_%s" % c, lambda c=c: run_kafka_python(broker.port, c))
             for c in ["none", "gzip", "lz4"]]
    for name, job in jobs:
        scenario = job()
        time.sleep(0.2)
        captured = broker.take_captured()
        if not captured:
            sys.exit("%s: no Produce request arrived" % name)
        scenario["produce_versions"] = sorted({v for v, _ in captured})
        scenario["file"] = name + ".bin"
        with open(os.path.join(args.out, scenario["file"]), "wb") as f:
            for _, records in captured:
                f.write(records)
        scenarios[name] = scenario
        print("%-28s %d request(s), %d bytes" % (name, len(captured),
                                                 sum(len(r) for _, r in captured)))
    manifest = {"topic": TOPIC, "producer_id": PRODUCER_ID, "producer_epoch": PRODUCER_EPOCH,
                "versions": versions(), "scenarios": scenarios}
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        f.write(dump_manifest(manifest))


def dump_manifest(manifest):
    """JSON with one record per line, so the file stays readable and diffs stay small."""
    def dump(value, indent):
        pad = " " * indent
        if isinstance(value, dict) and value:
            items = ["%s %s: %s" % (pad, json.dumps(k), dump(value[k], indent + 1))
                     for k in sorted(value)]
            return "{\n" + ",\n".join(items) + "\n" + pad + "}"
        if isinstance(value, list) and value and isinstance(value[0], dict):
            items = [pad + " " + json.dumps(v, sort_keys=True, ensure_ascii=False) for v in value]
            return "[\n" + ",\n".join(items) + "\n" + pad + "]"
        return json.dumps(value, ensure_ascii=False)
    return dump(manifest, 0) + "\n"


if __name__ == "__main__":
    main()
