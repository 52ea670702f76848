#!/usr/bin/python3
"""Fetch sessions (KIP-227) against sessionless fetches, for one consumer of many partitions:
bytes on the wire per Fetch and the broker's CPU time per Fetch.

Starts `cairn serve` ($CAIRN_BIN, default build/release/cairn) on loopback with one shard,
creates a topic of --partitions partitions and runs --rounds Fetch v12 requests (max_wait 0,
min_bytes 0, so the broker answers at once and the CPU measured is the request's work) in each
mode:

  sessionless  every request names every partition (session id 0, epoch -1)
  sessions     one full request creates a session; every later one is incremental and names
               only the partitions whose fetch offset moved

each twice: idle (no new records), and with --active partitions getting one record before
every round (the client then moves those partitions' offsets on). CPU is the broker process's
user + system time (/proc/PID/stat) over the rounds, so it includes the produce requests of
the active runs (the same in both modes). Prints one line per run and a Markdown table.

  CAIRN_BIN=build/release/cairn /usr/bin/python3 bench/fetch_sessions.py
"""
import argparse
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "interop"))

os.environ.setdefault("CAIRN_BIN", os.path.join(HERE, "..", "build", "release", "cairn"))

import harness  # noqa: E402
from test_fetch_sessions import SessionWire, produce  # noqa: E402

TOPIC = "sessions-bench"


class CountingWire(SessionWire):
    """Counts the bytes of every frame sent and received (size prefixes included)."""

    def __init__(self, bootstrap):
        super().__init__(bootstrap)
        self.conn.sock.settimeout(300)  # creating 1,000 partitions fsyncs 1,000 directories
        self.sent_bytes = 0
        self.received_bytes = 0
        send, read_frame = self.conn.send, self.conn.read_frame

        def counted_send(data):
            self.sent_bytes += len(data)
            return send(data)

        def counted_read():
            payload = read_frame()
            self.received_bytes += 4 + len(payload or b"")
            return payload

        self.conn.send = counted_send
        self.conn.read_frame = counted_read


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(broker, wire, mode, rounds, active):
    offsets = {p: end for p, end in wire.ends.items()}
    session, epoch = 0, 0
    if mode == "sessions":  # the full request that creates the session is not measured
        _, session, _ = wire.fetch_session(12, 0, 0, [(TOPIC, sorted(offsets.items()))])
        assert session != 0, "no session created"
        epoch = 1
    moved = set()
    sent, received = wire.sent_bytes, wire.received_bytes
    cpu = cpu_seconds(broker.process.pid)
    produce_s = 0.0
    for _ in range(rounds):
        if active:
            started = time.monotonic()
            produce(broker.bootstrap, TOPIC, {p: 1 for p in range(active)})
            produce_s += time.monotonic() - started
        if mode == "sessionless":
            error, _, answer = wire.fetch_session(12, 0, -1, [(TOPIC, sorted(offsets.items()))])
        else:
            changed = sorted((p, offsets[p]) for p in moved)
            error, _, answer = wire.fetch_session(12, session, epoch,
                                                  [(TOPIC, changed)] if changed else [])
            epoch += 1
        assert error == 0, error
        moved = set()
        for (_, p), (part_error, _, records) in answer.items():
            assert part_error == 0, part_error
            if records:
                offsets[p] = records[-1] + 1
                moved.add(p)
    cpu = cpu_seconds(broker.process.pid) - cpu
    wire.ends = offsets
    return {
        "request_bytes": (wire.sent_bytes - sent) / rounds,
        "response_bytes": (wire.received_bytes - received) / rounds,
        "cpu_us": cpu * 1e6 / rounds,
        "produce_s": produce_s,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--partitions", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--active", type=int, default=10)
    args = parser.parse_args()
    broker = harness.Broker(shards=1, extra_args=("--max-partitions-per-shard", "5000")).start()
    results = []
    try:
        wire = CountingWire(broker.bootstrap)
        error, _ = wire.create_topic(TOPIC, args.partitions)
        assert error == 0, error
        wire.ends = {p: 0 for p in range(args.partitions)}
        for active in (0, args.active):
            for mode in ("sessionless", "sessions"):
                result = run(broker, wire, mode, args.rounds, active)
                result.update(mode=mode, active=active)
                print(result, flush=True)
                results.append(result)
        wire.close()
    finally:
        broker.stop()
    print()
    print("| partitions with new records | mode | request bytes | response bytes "
          "| broker CPU per Fetch |")
    print("| --- | --- | ---: | ---: | ---: |")
    for r in results:
        print("| %d of %d | %s | %d | %d | %.0f µs |" % (
            r["active"], args.partitions, r["mode"], r["request_bytes"], r["response_bytes"],
            r["cpu_us"]))


if __name__ == "__main__":
    main()
