"""The admin HTTP server of a real `cairn serve`, checked with real tools.

- /v1/status/live answers 200; /v1/status/ready turns 200 (polled with a deadline) and says
  why not (JSON) before that; unknown paths are 404, other methods 405; garbage bytes on the
  admin port do not stop it.
- confluent-kafka-python produces a known number of records (acks=all) and consumes them.
- `promtool check metrics` (Debian's prometheus package) accepts the /metrics text.
- A real Prometheus scrapes /metrics every second (temp config, free port, temp TSDB); a query
  through its HTTP API (/api/v1/query) returns the produced record count for the topic, and
  the fetched count once the consumer read them all; after the group committed and EXTRA more
  records were produced, kafka_exporter's kafka_consumergroup_lag_sum for the group is EXTRA.
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import confluent_kafka  # noqa: E402
import confluent_kafka.admin  # noqa: E402

import harness  # noqa: E402

TOPIC = "metrics-orders"
PARTITIONS = 3
RECORDS = 250
EXTRA = 37  # produced after the group committed: its lag
GROUP = "metrics-test"
# promtool's lint wants no _sum suffix outside histograms; kafka_exporter named it so.
PROMTOOL_ACCEPTED = {
    'kafka_consumergroup_lag_sum non-histogram and non-summary metrics should not have '
    '"_sum" suffix',
}
DEADLINE_S = 120  # an ASan build on a loaded 2-core machine is slow; polls end much sooner


def http(method, url, body=None, timeout=10):
    """(status, content type, body text) of one request; HTTP errors are answers too."""
    request = urllib.request.Request(url, data=body, method=method)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.headers.get("Content-Type"), response.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type"), e.read().decode()


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def poll(what, check, deadline_s=DEADLINE_S, interval_s=0.2):
    """check() until it returns something other than None, or fail naming `what`."""
    deadline = time.monotonic() + deadline_s
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last is not None:
            return last
        time.sleep(interval_s)
    raise AssertionError("%s: no answer within %d s" % (what, deadline_s))


class Prometheus:
    """Debian's prometheus binary scraping `target` (HOST:PORT) every second."""

    def __init__(self, target):
        self.dir = tempfile.mkdtemp(prefix="cairn-prometheus-")
        self.port = free_port()
        config = os.path.join(self.dir, "prometheus.yml")
        with open(config, "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
                    "scrape_configs:\n  - job_name: cairn\n"
                    "    static_configs:\n      - targets: ['%s']\n" % target)
        self.log = open(os.path.join(self.dir, "prometheus.log"), "w")
        self.process = subprocess.Popen(
            ["prometheus", "--config.file=" + config,
             "--storage.tsdb.path=" + os.path.join(self.dir, "tsdb"),
             "--web.listen-address=127.0.0.1:%d" % self.port],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT)

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def wait_ready(self):
        def ready():
            if self.process.poll() is not None:
                raise AssertionError("prometheus exited:\n" + self.output())
            try:
                return True if http("GET", self.url + "/-/ready", timeout=2)[0] == 200 else None
            except OSError:
                return None
        poll("prometheus /-/ready", ready)

    def query(self, promql):
        """The instant vector of `promql`: [(labels, float value)]."""
        status, _, body = http("GET", self.url + "/api/v1/query?" +
                               urllib.parse.urlencode({"query": promql}))
        if status != 200:
            raise AssertionError("query %s: HTTP %d %s" % (promql, status, body))
        answer = json.loads(body)
        if answer["status"] != "success":
            raise AssertionError("query %s: %s" % (promql, body))
        return [(item["metric"], float(item["value"][1])) for item in answer["data"]["result"]]

    def output(self):
        self.log.flush()
        with open(self.log.name) as f:
            return f.read()

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


class MetricsPrometheusTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        for tool in ("prometheus", "promtool"):
            if shutil.which(tool) is None:
                raise AssertionError("%s is missing: run scripts/install-deps.sh" % tool)
        cls.broker = harness.Broker(shards=2).start()

    @classmethod
    def tearDownClass(cls):
        cls.broker.stop()

    def test_1_probes_and_routes(self):
        url = self.broker.admin_url
        status, content_type, body = http("GET", url + "/v1/status/live")
        self.assertEqual(status, 200, body)
        self.assertEqual(content_type, "application/json")
        self.assertEqual(json.loads(body), {"status": "live"})

        def ready():
            status, _, body = http("GET", url + "/v1/status/ready")
            answer = json.loads(body)
            if status == 503:  # groups may still be loading right after the start
                self.assertEqual(answer["status"], "not_ready")
                self.assertTrue(answer["reason"])
                return None
            self.assertEqual(status, 200, body)
            return answer
        self.assertEqual(poll("/v1/status/ready", ready), {"status": "ready"})

        self.assertEqual(http("GET", url + "/no/such/path")[0], 404)
        self.assertEqual(http("GET", url + "/v1/status/live/")[0], 404)
        self.assertEqual(http("POST", url + "/metrics", body=b"x")[0], 405)
        self.assertEqual(http("DELETE", url + "/v1/status/ready")[0], 405)
        with socket.create_connection(("127.0.0.1", self.broker.admin_port), timeout=10) as s:
            s.sendall(b"\x00\xff garbage\r\n\r\nGET / HTTP/9.9\r\n\r\n")
            try:
                s.recv(4096)
            except OSError:
                pass
        self.assertEqual(http("GET", url + "/v1/status/live")[0], 200)
        self.assertTrue(self.broker.alive())

    def test_2_prometheus_scrapes_the_produced_and_fetched_counts(self):
        produce(self.broker.bootstrap)
        consumed = consume(self.broker.bootstrap)
        self.assertEqual(consumed, RECORDS)

        status, content_type, text = http("GET", self.broker.admin_url + "/metrics")
        self.assertEqual(status, 200)
        self.assertTrue(content_type.startswith("text/plain; version=0.0.4"), content_type)
        self.assertIn('cairn_kafka_records_produced_total{topic="%s"} %d\n' % (TOPIC, RECORDS),
                      text)
        self.assertIn("# TYPE cairn_kafka_request_latency_seconds histogram\n", text)
        self.assertIn('cairn_kafka_request_latency_seconds_bucket{request="produce",le="+Inf"}',
                      text)
        self.assertIn('cairn_kafka_partitions{topic="%s"} %d\n' % (TOPIC, PARTITIONS), text)
        self.assertIn("# TYPE process_resident_memory_bytes gauge\n", text)
        check = subprocess.run(["promtool", "check", "metrics"], input=text, text=True,
                               capture_output=True, timeout=60)
        # Exit 1 is a text that does not parse; 3 lint findings. The only finding allowed is
        # the one kafka_exporter's own name earns (its dashboards and alerts need that name).
        findings = [line for line in (check.stdout + check.stderr).splitlines() if line.strip()]
        self.assertIn(check.returncode, (0, 3), "promtool check metrics:\n" + "\n".join(findings))
        self.assertEqual([f for f in findings if f not in PROMTOOL_ACCEPTED], [],
                         "promtool check metrics")

        prometheus = Prometheus("127.0.0.1:%d" % self.broker.admin_port)
        try:
            prometheus.wait_ready()

            def scraped(metric, expected):
                def check():
                    result = prometheus.query('%s{topic="%s"}' % (metric, TOPIC))
                    if not result:
                        return None
                    self.assertEqual(len(result), 1, result)
                    labels, value = result[0]
                    self.assertEqual(labels["job"], "cairn")
                    return value if value == expected else None
                return poll("prometheus: %s" % metric, check)
            self.assertEqual(scraped("cairn_kafka_records_produced_total", RECORDS), RECORDS)
            self.assertEqual(scraped("cairn_kafka_records_fetched_total", RECORDS), RECORDS)
            up = prometheus.query('up{job="cairn"}')
            self.assertEqual([value for _, value in up], [1.0])

            # The group committed everything; EXTRA more records are its lag, in
            # kafka_exporter's names (kafka_consumergroup_lag_sum, per partition _lag).
            produce(self.broker.bootstrap, EXTRA, create=False)
            lag = 'kafka_consumergroup_lag_sum{consumergroup="%s",topic="%s"}' % (GROUP, TOPIC)

            def lag_is_extra():
                result = prometheus.query(lag)
                return result[0][1] if result and result[0][1] == EXTRA else None
            self.assertEqual(poll("prometheus: " + lag, lag_is_extra), EXTRA)
            per_partition = prometheus.query(
                'sum(kafka_consumergroup_lag{consumergroup="%s",topic="%s"})' % (GROUP, TOPIC))
            self.assertEqual(per_partition[0][1], EXTRA)
            offsets = prometheus.query('sum(kafka_topic_partition_current_offset{topic="%s"})'
                                       % TOPIC)
            self.assertEqual(offsets[0][1], RECORDS + EXTRA)
        finally:
            prometheus.stop()
        self.assertTrue(self.broker.alive())


def produce(bootstrap, count=RECORDS, create=True):
    if create:
        admin = confluent_kafka.admin.AdminClient({"bootstrap.servers": bootstrap})
        futures = admin.create_topics([confluent_kafka.admin.NewTopic(TOPIC, PARTITIONS, 1)])
        futures[TOPIC].result(60)
    producer = confluent_kafka.Producer({"bootstrap.servers": bootstrap, "acks": "all",
                                         "linger.ms": 5})
    errors = []
    for i in range(count):
        producer.produce(TOPIC, value=b"order-%d" % i, key=b"k%d" % (i % 17),
                         on_delivery=lambda err, msg: err and errors.append(err))
    assert producer.flush(60) == 0, "records still queued"
    assert errors == [], errors


def consume(bootstrap):
    consumer = confluent_kafka.Consumer({"bootstrap.servers": bootstrap, "group.id": GROUP,
                                         "auto.offset.reset": "earliest",
                                         "enable.auto.commit": False})
    consumer.subscribe([TOPIC])
    count = 0
    deadline = time.monotonic() + DEADLINE_S
    try:
        while count < RECORDS and time.monotonic() < deadline:
            message = consumer.poll(1.0)
            if message is not None and message.error() is None:
                count += 1
        if count == RECORDS:
            consumer.commit(asynchronous=False)
    finally:
        consumer.close()
    return count


if __name__ == "__main__":
    harness.main()
