#!/usr/bin/env python3
"""Consumer groups of real clients against the real broker, one library at a time:
librdkafka (kcat -G), confluent-kafka-python (librdkafka), kafka-python and kafkajs.

Three members share a six-partition topic while a producer runs; then one member leaves, one is
killed with SIGKILL (its session times out on the broker's timer) and a new one joins. Checked:
every produced message is consumed, each member reads each partition in order without gaps for
as long as it owns it, committed offsets (polled all along) never go backwards, and once the
last members close, every partition's committed offset is its log end.

Every member runs as its own process and reports events as JSON lines; the members of the two
Python libraries are this file itself (`--member confluent|kafka-python ...`), kafkajs's is
js/groups_member.js, kcat's output is parsed. The other group tests import the helpers here.
"""
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

JS_DIR = os.path.join(HERE, "js")
SESSION_MS = 6000
PARTITIONS = 6
SETTLE_TIMEOUT_S = 90


# ---- members (run in their own process) ------------------------------------------------------

def emit(event):
    sys.stdout.write(json.dumps(event) + "\n")
    sys.stdout.flush()


def run_confluent_member(bootstrap, group, topic, assignor, instance_id):
    from confluent_kafka import Consumer
    owned = set()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())

    def on_assign(consumer, partitions):
        owned.update(p.partition for p in partitions)
        if assignor == "cooperative-sticky":
            consumer.incremental_assign(partitions)
        emit({"event": "assignment", "partitions": sorted(owned)})

    def on_revoke(consumer, partitions):
        owned.difference_update(p.partition for p in partitions)
        if assignor == "cooperative-sticky":
            consumer.incremental_unassign(partitions)
        emit({"event": "assignment", "partitions": sorted(owned)})

    config = {"bootstrap.servers": bootstrap, "group.id": group,
              "session.timeout.ms": SESSION_MS, "heartbeat.interval.ms": 1000,
              "auto.offset.reset": "earliest", "enable.auto.commit": True,
              "auto.commit.interval.ms": 500, "partition.assignment.strategy": assignor}
    if instance_id:
        config["group.instance.id"] = instance_id
    consumer = Consumer(config)
    consumer.subscribe([topic], on_assign=on_assign, on_revoke=on_revoke)
    while not stop.is_set():
        message = consumer.poll(0.2)
        if message is None or message.error():
            continue
        emit({"event": "message", "partition": message.partition(), "offset": message.offset(),
              "value": message.value().decode()})
    consumer.close()


def run_kafka_python_member(bootstrap, group, topic, assignor):
    from kafka import ConsumerRebalanceListener, KafkaConsumer
    from kafka.coordinator.assignors.range import RangePartitionAssignor
    from kafka.coordinator.assignors.roundrobin import RoundRobinPartitionAssignor
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    assignors = {"range": RangePartitionAssignor, "roundrobin": RoundRobinPartitionAssignor}

    class Listener(ConsumerRebalanceListener):
        def on_partitions_revoked(self, revoked):
            emit({"event": "assignment", "partitions": []})

        def on_partitions_assigned(self, assigned):
            emit({"event": "assignment", "partitions": sorted(tp.partition for tp in assigned)})

    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group,
                             session_timeout_ms=SESSION_MS, heartbeat_interval_ms=1000,
                             auto_offset_reset="earliest", enable_auto_commit=True,
                             auto_commit_interval_ms=500,
                             partition_assignment_strategy=[assignors[assignor]])
    consumer.subscribe([topic], listener=Listener())
    while not stop.is_set():
        for records in consumer.poll(timeout_ms=200).values():
            for record in records:
                emit({"event": "message", "partition": record.partition,
                      "offset": record.offset, "value": record.value.decode()})
    consumer.close()


# ---- the test side -------------------------------------------------------------------------

def ensure_node_modules():
    marker = os.path.join(JS_DIR, "node_modules", "kafkajs", "package.json")
    if not os.path.exists(marker):
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=JS_DIR, check=True,
                       timeout=600)


KCAT_ASSIGNED = re.compile(r"rebalanced.*: assigned: (.*)")
KCAT_REVOKED = re.compile(r"rebalanced.*: revoked: ")
KCAT_PARTITION = re.compile(r"\[(\d+)\]")


class Member:
    """One consumer-group member process and everything it reported."""

    def __init__(self, name, kind, bootstrap, group, topic, assignor, instance_id=None,
                 count=None, program=None):
        """count (kcat only): exit by itself after that many messages. kcat drops the message
        in hand when SIGTERM arrives (consume_cb returns once run is cleared) although closing
        commits its offset, so a kcat member that must leave cleanly leaves this way.
        kind "kafka-node" and "sarama" use Kafka's roundrobin whatever `assignor` says;
        program (sarama only): [the built sarama_client, the Kafka version it speaks as]."""
        self.name = name
        self.kind = kind
        self.exits_by_count = count is not None
        self.events = []  # (time, event dict)
        self.lock = threading.Lock()
        if kind in ("confluent", "kafka-python"):
            args = [sys.executable, os.path.abspath(__file__), "--member", kind, bootstrap,
                    group, topic, assignor, instance_id or ""]
            cwd = HERE
        elif kind == "kafkajs":
            args = ["node", "groups_member.js", bootstrap, group, topic, assignor,
                    str(SESSION_MS)]
            cwd = JS_DIR
        elif kind == "kafka-node":
            args = ["node", "kafka_node.js", bootstrap, topic, "0", "member", group]
            cwd = JS_DIR
        elif kind == "sarama":
            binary, version = program
            args = [binary, "--member", bootstrap, version, group, topic]
            cwd = HERE
        elif kind == "kcat":
            args = ["kcat", "-b", bootstrap, "-G", group, topic, "-u",
                    "-f", "%p %o %s\\n", "-X", "auto.offset.reset=earliest",
                    "-X", "session.timeout.ms=%d" % SESSION_MS,
                    "-X", "heartbeat.interval.ms=1000", "-X", "auto.commit.interval.ms=500",
                    "-X", "partition.assignment.strategy=" + assignor]
            if count is not None:
                args += ["-c", str(count)]
            cwd = HERE
        else:
            raise ValueError(kind)
        self.process = subprocess.Popen(args, cwd=cwd, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
        self.stderr_lines = []
        self.readers = [threading.Thread(target=self._read_stdout, daemon=True),
                        threading.Thread(target=self._read_stderr, daemon=True)]
        for reader in self.readers:
            reader.start()

    def _add(self, event):
        with self.lock:
            self.events.append((time.monotonic(), event))

    def _read_stdout(self):
        for raw in iter(self.process.stdout.readline, b""):
            line = raw.decode("utf-8", "replace").strip()
            if not line:
                continue
            if self.kind == "kcat":
                partition, offset, value = line.split(" ", 2)
                self._add({"event": "message", "partition": int(partition),
                           "offset": int(offset), "value": value})
            else:
                self._add(json.loads(line))

    def _read_stderr(self):
        owned = set()
        for raw in iter(self.process.stderr.readline, b""):
            line = raw.decode("utf-8", "replace")
            self.stderr_lines.append(line)
            if self.kind != "kcat":
                continue
            # kcat reports rebalances on stderr: "% Group g rebalanced (memberid ..):
            # assigned: t [0], t [3]" / "... revoked: ...".
            assigned = KCAT_ASSIGNED.search(line)
            if assigned:
                owned = set(int(p) for p in KCAT_PARTITION.findall(assigned.group(1)))
                self._add({"event": "assignment", "partitions": sorted(owned)})
            elif KCAT_REVOKED.search(line):
                owned = set()
                self._add({"event": "assignment", "partitions": []})

    def snapshot(self):
        with self.lock:
            return list(self.events)

    def assignment(self):
        """The member's latest assignment (None before its first)."""
        latest = None
        for _, event in self.snapshot():
            if event["event"] == "assignment":
                latest = set(event["partitions"])
        return latest

    def assignment_events(self):
        return [e for _, e in self.snapshot() if e["event"] == "assignment"]

    def messages(self):
        return [e for _, e in self.snapshot() if e["event"] == "message"]

    def alive(self):
        return self.process.poll() is None

    def stop(self, timeout_s=60):
        """Graceful: SIGTERM (or, for a counting kcat, its own exit); the client commits and
        leaves."""
        if self.alive() and not self.exits_by_count:
            self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError("%s did not stop on SIGTERM:\n%s"
                                 % (self.name, "".join(self.stderr_lines[-30:])))
        self._close_pipes()

    def kill(self):
        self.process.kill()
        self.process.wait()
        self._close_pipes()

    def _close_pipes(self):
        for reader in self.readers:
            reader.join(10)
        self.process.stdout.close()
        self.process.stderr.close()


class Producer:
    """Produces "p:seq" values round-robin over the partitions (acks=all, confluent-kafka)
    from a thread until stopped; remembers the offset of every delivered message."""

    def __init__(self, bootstrap, topic, partitions=PARTITIONS, rate_per_s=150):
        from confluent_kafka import Producer as KafkaProducer
        self.producer = KafkaProducer({"bootstrap.servers": bootstrap, "acks": "all",
                                       "linger.ms": 5})
        self.topic = topic
        self.partitions = partitions
        self.rate_per_s = rate_per_s
        self.delivered = {}  # (partition, offset) -> value
        self.failures = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _on_delivery(self, error, message):
        if error is not None:
            self.failures.append(str(error))
        else:
            self.delivered[(message.partition(), message.offset())] = message.value().decode()

    def _run(self):
        seq = 0
        while not self.stopping.is_set():
            partition = seq % self.partitions
            self.producer.produce(self.topic, value=("%d:%d" % (partition, seq)).encode(),
                                  partition=partition, on_delivery=self._on_delivery)
            self.producer.poll(0)
            seq += 1
            time.sleep(1.0 / self.rate_per_s)
        self.producer.flush(60)
        self.producer = None  # destroyed: no reconnect attempts after the test's broker stops

    def stop(self, check=True):
        """Stops producing, waits for every delivery report; returns {(partition, offset):
        value}. Idempotent."""
        self.stopping.set()
        self.thread.join(90)
        if check:
            assert not self.failures, self.failures[:5]
        return dict(self.delivered)


class CommitWatcher:
    """Polls the group's committed offsets (OffsetFetch, all partitions) until stopped and
    records every regression it sees."""

    def __init__(self, bootstrap, group, interval_s=0.25):
        import kafka_wire
        from kafka.protocol.commit import OffsetFetchRequest_v3
        self.regressions = []
        self.latest = {}
        self.polls = 0
        self.stopping = threading.Event()

        self.errors = []

        def run():
            conn = kafka_wire.Connection(bootstrap)
            correlation = 0
            try:
                while not self.stopping.is_set():
                    correlation += 1
                    response = conn.request(OffsetFetchRequest_v3(group, None), correlation)
                    if response.error_code == 0:
                        self.polls += 1
                        for topic, parts in response.topics:
                            for partition, offset, _, _ in parts:
                                key = (topic, partition)
                                if offset < self.latest.get(key, -1):
                                    self.regressions.append((key, self.latest[key], offset))
                                self.latest[key] = max(offset, self.latest.get(key, -1))
                    self.stopping.wait(interval_s)
            except Exception as error:  # noqa: BLE001 - reported through self.errors
                if not self.stopping.is_set():
                    self.errors.append(repr(error))
            finally:
                conn.close()

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()

    def stop(self):
        self.stopping.set()
        self.thread.join(30)


def wait_until(condition, what, timeout_s=SETTLE_TIMEOUT_S, members=(), explain=None):
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            if explain is not None:
                what += " (" + explain() + ")"
            details = "\n".join("%s (%s): assignment %s, %d messages, alive %s\n%s"
                                % (m.name, m.kind, m.assignment(), len(m.messages()), m.alive(),
                                   "".join(m.stderr_lines[-15:])) for m in members)
            raise AssertionError("timed out waiting for %s\n%s" % (what, details))
        time.sleep(0.1)


def covers_all(members, partitions=PARTITIONS):
    """The live members' latest assignments are disjoint, non-empty and cover every
    partition."""
    seen = []
    for member in members:
        owned = member.assignment()
        if not owned:
            return False
        seen.extend(owned)
    return sorted(seen) == list(range(partitions))


def check_in_order(test, members, delivered):
    """Each member read each partition with offsets +1 apart between assignment changes, and
    every value is the one produced at that offset."""
    for member in members:
        last = {}
        for _, event in member.snapshot():
            if event["event"] == "assignment":
                last = {}
                continue
            partition, offset = event["partition"], event["offset"]
            if partition in last:
                test.assertEqual(offset, last[partition] + 1,
                                 "%s read partition %d out of order" % (member.name, partition))
            last[partition] = offset
            expected = delivered.get((partition, offset))
            if expected is not None:
                test.assertEqual(event["value"], expected)


def share_and_consume(test, everyone):
    """Waits until the members share the partitions evenly (Kafka's roundrobin: whoever
    leads, each gets the same number) and every one of them consumes."""
    wait_until(lambda: covers_all(everyone),
               "%d members sharing the partitions" % len(everyone), members=everyone)
    test.assertEqual([PARTITIONS // len(everyone)] * len(everyone),
                     sorted(len(m.assignment()) for m in everyone))
    wait_until(lambda: all(m.messages() for m in everyone), "every member consuming",
               members=everyone)


def leave_and_drain(test, everyone, leaving, producer, watcher):
    """`leaving` stops; the others take over its partitions and consume all that `producer`
    delivered, then stop too. Each member read in order, and the committed offsets that
    `watcher` saw never went back."""
    staying = [m for m in everyone if m is not leaving]
    leaving.stop()
    wait_until(lambda: covers_all(staying), "the others after %s left" % leaving.name,
               members=staying)
    delivered = producer.stop()
    wait_until(lambda: set(delivered) <= consumed_keys(everyone),
               "every produced message consumed", members=staying)
    for member in staying:
        member.stop()
    watcher.stop()
    check_in_order(test, everyone, delivered)
    test.assertEqual([], watcher.regressions)


def missing_summary(delivered, members):
    missing = sorted(set(delivered) - consumed_keys(members))
    per_member = {m.name: {p: (min(o for q, o in keys if q == p), max(o for q, o in keys if q == p))
                           for p in {q for q, _ in keys}}
                  for m in members for keys in [{(e["partition"], e["offset"])
                                                 for e in m.messages()}]}
    return "%d missing, first %s; consumed ranges %s" % (len(missing), missing[:10], per_member)


def consumed_keys(members):
    return {(m["partition"], m["offset"]) for member in members for m in member.messages()}


def high_watermarks(bootstrap, topic, partitions=PARTITIONS):
    from confluent_kafka import Consumer, TopicPartition
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "cairn-watermarks"})
    try:
        return {p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=30)[1]
                for p in range(partitions)}
    finally:
        consumer.close()


def missing_apis(bootstrap, keys):
    import cli_support
    host, port = bootstrap.rsplit(":", 1)
    served = cli_support.api_versions(host, int(port))
    return [cli_support.API_NAMES.get(k, str(k)) for k in keys if k not in served]


DATA_APIS = (0, 1, 2, 3)  # Produce, Fetch, ListOffsets, Metadata
GROUP_APIS = (8, 9, 10, 11, 12, 13, 14)


class GroupTestCase(unittest.TestCase):
    """A broker with the topics of `topics` ({name: partitions}); skips while the broker lacks
    the data or group APIs."""

    topics = {}

    @classmethod
    def setUpClass(cls):
        import harness
        cls.broker = harness.Broker(shards=2, topics=cls.topics).start()
        missing = missing_apis(cls.broker.bootstrap, DATA_APIS + GROUP_APIS)
        if missing:
            cls.broker.stop()
            raise unittest.SkipTest("broker does not serve " + ", ".join(missing))

    @classmethod
    def tearDownClass(cls):
        cls.broker.stop()

    def setUp(self):
        self.members = []

    def tearDown(self):
        for member in self.members:
            if member.alive():
                member.kill()
        self.assertTrue(self.broker.alive(), "broker died:\n" + self.broker.stderr())
        self.broker.check_clean()

    def member(self, name, kind, group, topic, assignor, instance_id=None, count=None,
               program=None):
        member = Member(name, kind, self.broker.bootstrap, group, topic, assignor, instance_id,
                        count, program)
        self.members.append(member)
        return member


class Churn(GroupTestCase):
    """Join, leave, kill -9, join — under load — for each client library."""

    topics = {"churn-" + name: PARTITIONS
              for name in ("kcat", "confluent", "cooperative", "kafka-python", "kafkajs")}

    def churn(self, name, kind, assignor):
        topic = "churn-" + name
        group = "churn-group-" + name
        watcher = CommitWatcher(self.broker.bootstrap, group)
        producer = Producer(self.broker.bootstrap, topic)
        try:
            self.churn_members(kind, topic, group, assignor, watcher, producer)
        finally:
            watcher.stop()
            producer.stop(check=False)

    def churn_members(self, kind, topic, group, assignor, watcher, producer):
        a = self.member("a", kind, group, topic, assignor,
                        count=300 if kind == "kcat" else None)
        b, c = (self.member(name, kind, group, topic, assignor) for name in "bc")
        wait_until(lambda: covers_all([a, b, c]), "three members sharing the partitions",
                   members=[a, b, c])
        wait_until(lambda: all(m.messages() for m in (a, b, c)), "every member consuming",
                   members=[a, b, c])
        a.stop()  # leaves the group
        wait_until(lambda: covers_all([b, c]), "b and c after a left", members=[b, c])
        b.kill()  # no goodbye: only its session timeout removes it
        wait_until(lambda: covers_all([c]), "c alone after b's session expired", members=[c])
        d = self.member("d", kind, group, topic, assignor)
        wait_until(lambda: covers_all([c, d]), "c and d after d joined", members=[c, d])
        delivered = producer.stop()
        everyone = [a, b, c, d]
        wait_until(lambda: set(delivered) <= consumed_keys(everyone),
                   "every produced message consumed", members=everyone,
                   explain=lambda: missing_summary(delivered, everyone))
        c.stop()
        d.stop()
        watcher.stop()  # (idempotent: churn() stops it again)

        self.assertGreater(len(delivered), 100)
        check_in_order(self, [a, b, c, d], delivered)
        self.assertEqual(watcher.regressions, [], "committed offsets went backwards")
        self.assertEqual(watcher.errors, [])
        self.assertGreater(watcher.polls, 10)
        ends = high_watermarks(self.broker.bootstrap, topic)
        final = CommitWatcher(self.broker.bootstrap, group)
        wait_until(lambda: final.polls > 0, "a final OffsetFetch")
        final.stop()
        self.assertEqual({p: final.latest.get((topic, p)) for p in range(PARTITIONS)}, ends,
                         "after the last member closed, the committed offsets are the log ends")

    def test_kcat(self):
        self.churn("kcat", "kcat", "range,roundrobin")

    def test_confluent_kafka_python(self):
        self.churn("confluent", "confluent", "range")

    def test_confluent_kafka_python_cooperative(self):
        # KIP-429 runs in the client; the broker sees ordinary rebalances.
        self.churn("cooperative", "confluent", "cooperative-sticky")

    def test_kafka_python(self):
        self.churn("kafka-python", "kafka-python", "roundrobin")

    def test_kafkajs(self):
        ensure_node_modules()
        self.churn("kafkajs", "kafkajs", "kafkajs")


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--member":
        kind, bootstrap, group, topic, assignor, instance_id = sys.argv[2:8]
        if kind == "confluent":
            run_confluent_member(bootstrap, group, topic, assignor, instance_id)
        else:
            run_kafka_python_member(bootstrap, group, topic, assignor)
        sys.exit(0)
    unittest.main(verbosity=2)
