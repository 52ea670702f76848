#!/usr/bin/env bash
# capture_golden.sh [BUILD_DIR] [OUT_DIR]: refreshes the golden request frames in
# src/protocol/testdata/golden by pointing real clients at tools/codegen/frame_capture:
#   kcat-*                 kcat 1.7.1 (librdkafka 2.0.2): `kcat -L` (metadata), `kcat -P`, and
#                          `kcat -P` then `kcat -C` reading the message back (ListOffsets, Fetch)
#   confluent-kafka-*      python3-confluent-kafka 1.7.0: one produce
#   kafka-python-*         python3-kafka 2.0.2: one produce (ApiVersions v0 probe first), and
#                          a produce then a consumer reading it back
# Each frame is the body after the int32 size (request header + request body). The frames
# embed timestamps, so a rerun gives different bytes; messages_golden_test.cc checks fields.
# Exits non-zero if any client fails, i.e. rejects one of the generated responses: the ctest
# messages_client_interop runs this into a temp dir for that reason. FRAME_CAPTURE may name a
# prebuilt frame_capture binary (otherwise it is built in BUILD_DIR).
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD_DIR="${1:-build/codegen}"
OUT_DIR="${2:-src/protocol/testdata/golden}"
PYTHON=/usr/bin/python3
mkdir -p "$OUT_DIR"
if [ -z "${FRAME_CAPTURE:-}" ]; then
  cmake --build "$BUILD_DIR" --target frame_capture >/dev/null
  FRAME_CAPTURE="$BUILD_DIR/tools/codegen/frame_capture"
fi
failures=0

capture() {  # capture PREFIX COMMAND...: runs COMMAND against a fresh frame_capture on $PORT
  local prefix="$1"
  shift
  local portfile
  portfile=$(mktemp)
  "$FRAME_CAPTURE" --out "$OUT_DIR" --prefix "$prefix" >"$portfile" &
  local pid=$!
  for _ in $(seq 50); do [ -s "$portfile" ] && break; sleep 0.1; done
  PORT=$(cat "$portfile")
  export PORT
  if ! timeout 30 "$@"; then
    echo "capture_golden: $prefix client failed" >&2
    failures=$((failures + 1))
  fi
  kill "$pid"
  wait "$pid" 2>/dev/null || true
  rm -f "$portfile"
}

rm -f "$OUT_DIR"/*.bin
capture kcat-metadata sh -c 'kcat -b 127.0.0.1:$PORT -L -t golden'
capture kcat-produce sh -c 'printf "key1:hello golden\n" | kcat -b 127.0.0.1:$PORT -P -t golden -p 0 -K:'
capture kcat-consume sh -c 'printf "key1:hello golden\n" | kcat -b 127.0.0.1:$PORT -P -t golden -p 0 -K: &&
  kcat -b 127.0.0.1:$PORT -C -t golden -p 0 -o beginning -e -f "%k=%s\n" | grep -qx "key1=hello golden"'
capture confluent-kafka "$PYTHON" -c '
import os
from confluent_kafka import Producer
p = Producer({"bootstrap.servers": "127.0.0.1:" + os.environ["PORT"]})
p.produce("golden", key=b"key1", value=b"hello golden", partition=0)
assert p.flush(10) == 0
'
capture kafka-python "$PYTHON" -c '
import os
from kafka import KafkaProducer
p = KafkaProducer(bootstrap_servers="127.0.0.1:" + os.environ["PORT"])
p.send("golden", key=b"key1", value=b"hello golden", partition=0).get(timeout=10)
p.close()
'
capture kafka-python-consume "$PYTHON" -c '
import os
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
servers = "127.0.0.1:" + os.environ["PORT"]
p = KafkaProducer(bootstrap_servers=servers)
p.send("golden", key=b"key1", value=b"hello golden", partition=0).get(timeout=10)
p.close()
c = KafkaConsumer(bootstrap_servers=servers, consumer_timeout_ms=10000)
c.assign([TopicPartition("golden", 0)])
c.seek_to_beginning()
message = next(c)
assert (message.key, message.value, message.offset) == (b"key1", b"hello golden", 0), message
c.close()
'
ls -l "$OUT_DIR"
[ "$failures" -eq 0 ]
