#!/usr/bin/env python3
"""The admin JSON API (docs/admin-api.md) against the real binary, with Python's urllib, each
answer cross-checked with a real Kafka client: a topic created over HTTP is in kcat's
metadata with its partitions and configs; a record produced over HTTP is read back by kcat
with its key, value and headers; a group's committed offsets and lag match what a
confluent-kafka consumer committed; a reset refuses while that consumer is in the group, a dry
run changes nothing, and after a real reset a new consumer of the group starts exactly at the
reset offset. Bad input answers 400/404/405/409 with a JSON error and the broker stays up.
"""
import json
import os
import subprocess
import sys
import time
import unittest
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import confluent_kafka  # noqa: E402

import harness  # noqa: E402

TIMEOUT_S = 60


class AdminApi(harness.BrokerTestCase):

    def call(self, method, path, body=None, raw=None, content_type="application/json"):
        """(status, decoded JSON body) of one request."""
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        request = urllib.request.Request(self.broker.admin_url + path, data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", content_type)
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
                status, text = response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            status, text = error.code, error.read().decode()
        try:
            return status, json.loads(text)
        except ValueError:
            return status, text

    def ok(self, method, path, body=None, status=200):
        got, answer = self.call(method, path, body)
        self.assertEqual(status, got, answer)
        return answer

    def kcat_metadata(self):
        out = subprocess.run(["kcat", "-L", "-J", "-b", self.broker.bootstrap], check=True,
                             capture_output=True, timeout=TIMEOUT_S, text=True).stdout
        return {t["topic"]: t for t in json.loads(out)["topics"]}

    def kcat_records(self, topic, partition, count):
        out = subprocess.run(
            ["kcat", "-C", "-b", self.broker.bootstrap, "-t", topic, "-p", str(partition),
             "-o", "beginning", "-c", str(count), "-e", "-q", "-J"],
            check=True, capture_output=True, timeout=TIMEOUT_S, text=True).stdout
        return [json.loads(line) for line in out.splitlines() if line.strip()]

    def consumer(self, group, **extra):
        config = {"bootstrap.servers": self.broker.bootstrap, "group.id": group,
                  "auto.offset.reset": "earliest", "enable.auto.commit": False,
                  "session.timeout.ms": 6000, "heartbeat.interval.ms": 500}
        config.update(extra)
        return confluent_kafka.Consumer(config)

    def consume(self, consumer, count):
        records = []
        deadline = time.time() + TIMEOUT_S
        while len(records) < count and time.time() < deadline:
            message = consumer.poll(0.5)
            if message is None or message.error():
                continue
            records.append(message)
        self.assertEqual(count, len(records), "consumed in time")
        return records

    def test_brokers_and_cluster(self):
        brokers = self.ok("GET", "/v1/brokers")["brokers"]
        self.assertEqual(1, len(brokers))
        self.assertEqual(0, brokers[0]["node_id"])
        port = int(self.broker.bootstrap.rsplit(":", 1)[1])
        self.assertIn(port, [listener["port"] for listener in brokers[0]["listeners"]])
        cluster = self.ok("GET", "/v1/cluster")
        self.assertEqual(self.broker.cluster_id(), cluster["cluster_id"])
        self.assertEqual(1, cluster["broker_count"])

    def test_topic_create_describe_alter_delete(self):
        created = self.ok("POST", "/v1/topics",
                          {"name": "api-orders", "partitions": 3,
                           "configs": {"retention.ms": "3600000"}}, status=201)
        self.assertEqual(3, created["partition_count"])
        self.assertEqual(409, self.call("POST", "/v1/topics", {"name": "api-orders"})[0])
        self.assertEqual(3, len(self.kcat_metadata()["api-orders"]["partitions"]))
        topic = self.ok("GET", "/v1/topics/api-orders")
        self.assertEqual(created["topic_id"], topic["topic_id"])
        self.assertEqual([0, 1, 2], [p["partition"] for p in topic["partitions"]])
        self.assertEqual({"value": "3600000", "source": "DYNAMIC_TOPIC_CONFIG"},
                         {k: topic["configs"]["retention.ms"][k] for k in ("value", "source")})
        listed = {t["name"]: t for t in self.ok("GET", "/v1/topics")["topics"]}
        self.assertEqual(3, listed["api-orders"]["partition_count"])
        self.assertTrue(listed["__consumer_offsets"]["internal"])

        altered = self.ok("PUT", "/v1/topics/api-orders/configs",
                          {"set": {"cleanup.policy": "compact"}, "delete": ["retention.ms"]})
        self.assertEqual("compact", altered["configs"]["cleanup.policy"]["value"])
        self.assertEqual("DEFAULT_CONFIG", altered["configs"]["retention.ms"]["source"])
        status, answer = self.call("PUT", "/v1/topics/api-orders/configs",
                                   {"set": {"cleanup.policy": "sideways"}})
        self.assertEqual(400, status, answer)
        self.assertEqual("INVALID_CONFIG", answer["kafka_error"])

        self.assertEqual({"deleted": "api-orders"}, self.ok("DELETE", "/v1/topics/api-orders"))
        self.assertNotIn("api-orders", self.kcat_metadata())
        self.assertEqual(404, self.call("GET", "/v1/topics/api-orders")[0])
        self.assertEqual(404, self.call("DELETE", "/v1/topics/api-orders")[0])
        self.assertBrokerHealthy()

    def test_produce_over_http_consume_with_kcat(self):
        self.ok("POST", "/v1/topics", {"name": "api-produce", "partitions": 2}, status=201)
        first = self.ok("POST", "/v1/topics/api-produce/records",
                        {"partition": 1, "key": "k1", "value": "hello",
                         "headers": {"source": "http"}, "timestamp_ms": 1700000000000})
        second = self.ok("POST", "/v1/topics/api-produce/records",
                         {"partition": 1, "value": "world"})
        self.assertEqual((1, 0), (first["partition"], first["offset"]))
        self.assertEqual(1, second["offset"])
        records = self.kcat_records("api-produce", 1, 2)
        self.assertEqual(["k1", None], [r["key"] for r in records])
        self.assertEqual(["hello", "world"], [r["payload"] for r in records])
        self.assertEqual(["source", "http"], records[0]["headers"])
        self.assertEqual(1700000000000, records[0]["ts"])
        partitions = self.ok("GET", "/v1/topics/api-produce")["partitions"]
        self.assertEqual((0, 2), (partitions[1]["start_offset"], partitions[1]["end_offset"]))
        self.assertGreater(partitions[1]["size_bytes"], 0)
        self.assertEqual(0, partitions[0]["end_offset"])

    def test_keyed_record_goes_where_a_murmur2_producer_puts_it(self):
        self.ok("POST", "/v1/topics", {"name": "api-keyed", "partitions": 5}, status=201)
        producer = confluent_kafka.Producer({"bootstrap.servers": self.broker.bootstrap,
                                             "partitioner": "murmur2"})  # Java's default
        delivered = {}

        def report(error, message):
            self.assertIsNone(error)
            delivered[message.key().decode()] = message.partition()
        keys = ["key-%d" % i for i in range(20)] + ["a", "orders/42", "é"]
        for key in keys:
            producer.produce("api-keyed", key=key.encode(), value=b"v", on_delivery=report)
        self.assertEqual(0, producer.flush(TIMEOUT_S))
        over_http = {key: self.ok("POST", "/v1/topics/api-keyed/records",
                                  {"key": key, "value": "v"})["partition"] for key in keys}
        self.assertEqual(delivered, over_http)
        self.assertGreater(len(set(over_http.values())), 1)

    def test_bad_input_answers_json_errors(self):
        self.ok("POST", "/v1/topics", {"name": "api-bad", "partitions": 1}, status=201)
        cases = [
            ("POST", "/v1/topics", None, b"{not json", 400),
            ("POST", "/v1/topics", None, b"[1, 2]", 400),
            ("POST", "/v1/topics", {"partitions": 1}, None, 400),
            ("POST", "/v1/topics", {"name": "x", "partitions": 0}, None, 400),
            ("POST", "/v1/topics", {"name": "x", "validate_only": "yes"}, None, 400),
            ("POST", "/v1/topics", {"name": "bad name!"}, None, 400),
            ("POST", "/v1/topics/nope/records", {"value": "v"}, None, 404),
            ("POST", "/v1/topics/api-bad/records", {"partition": 7, "value": "v"}, None, 404),
            ("POST", "/v1/topics/api-bad/records", {"value": 12}, None, 400),
            ("PUT", "/v1/topics/api-bad/configs", {}, None, 400),
            ("PUT", "/v1/topics/nope/configs", {"set": {"retention.ms": "1"}}, None, 404),
            ("GET", "/v1/groups/no-such-group", None, None, 404),
            ("POST", "/v1/groups/g/reset-offsets", {"to": "yesterday"}, None, 400),
            ("POST", "/v1/groups/g/reset-offsets", {"to": "offset"}, None, 400),
            ("POST", "/v1/groups/g/reset-offsets", {"to": "earliest", "topics": ["nope"]},
             None, 404),
        ]
        for method, path, body, raw, status in cases:
            got, answer = self.call(method, path, body, raw)
            self.assertEqual(status, got, (method, path, body, raw, answer))
            self.assertIn("error", answer, (method, path))
        self.assertEqual(405, self.call("PATCH", "/v1/topics/api-bad")[0])
        # What a web page may send cross-origin without a CORS preflight is refused: a POST
        # whose body is not declared JSON acts on nothing.
        for content_type in (None, "text/plain", "application/x-www-form-urlencoded"):
            request = urllib.request.Request(
                self.broker.admin_url + "/v1/topics/api-bad/records", method="POST",
                data=json.dumps({"partition": 0, "value": "csrf"}).encode())
            if content_type:
                request.add_header("Content-Type", content_type)
            with self.assertRaises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(request, timeout=TIMEOUT_S)
            self.assertEqual(415, refused.exception.code, content_type)
        self.assertEqual(201, self.call("POST", "/v1/topics", raw=json.dumps(
            {"name": "api-typed"}).encode(), content_type="Application/JSON; charset=utf-8")[0])
        self.assertEqual(0, self.ok("GET", "/v1/topics/api-bad")["partitions"][0]["end_offset"])
        self.assertEqual(404, self.call("GET", "/v1/topics/api-bad/nothing")[0])
        self.assertBrokerHealthy()

    def test_group_describe_and_reset_offsets(self):
        topic, group = "api-lag", "api-group"
        self.ok("POST", "/v1/topics", {"name": topic, "partitions": 1}, status=201)
        for i in range(10):
            self.ok("POST", "/v1/topics/%s/records" % topic,
                    {"partition": 0, "value": "v%d" % i, "timestamp_ms": 1000 * (i + 1)})
        consumer = self.consumer(group)
        consumer.subscribe([topic])
        records = self.consume(consumer, 6)
        consumer.commit(message=records[-1], asynchronous=False)  # commits offset 6
        described = self.ok("GET", "/v1/groups/" + group)
        self.assertEqual(("Stable", "classic", 1),
                         (described["state"], described["type"], described["member_count"]))
        member = described["members"][0]
        self.assertEqual([{"topic": topic, "partitions": [0]}], member["assignment"])
        offsets = described["offsets"]
        self.assertEqual([(topic, 0, 6, 10, 4, member["member_id"])],
                         [(o["topic"], o["partition"], o["committed_offset"],
                           o["log_end_offset"], o["lag"], o["member_id"]) for o in offsets])
        self.assertEqual(4, described["lag_sum"])
        status, refused = self.call("POST", "/v1/groups/%s/reset-offsets" % group,
                                    {"to": "earliest"})
        self.assertEqual(409, status, refused)
        consumer.close()

        listed = {g["group_id"]: g for g in self.ok("GET", "/v1/groups")["groups"]}
        self.assertEqual(("Empty", "classic", "consumer", 0),
                         tuple(listed[group][k] for k in
                               ("state", "type", "protocol_type", "member_count")))
        plan = self.ok("POST", "/v1/groups/%s/reset-offsets" % group,
                       {"to": "earliest", "dry_run": True})
        self.assertEqual([(topic, 0, 6, 0)],
                         [(r["topic"], r["partition"], r["current_offset"], r["target_offset"])
                          for r in plan["plan"]])
        self.assertEqual(6, self.ok("GET", "/v1/groups/" + group)["offsets"][0]["committed_offset"])
        # The record with timestamp 3500 or later is the fourth (timestamp 4000, offset 3).
        reset = self.ok("POST", "/v1/groups/%s/reset-offsets" % group,
                        {"to": "timestamp", "timestamp_ms": 3500, "topics": [topic]})
        self.assertEqual(3, reset["plan"][0]["target_offset"])
        self.assertFalse(reset["dry_run"])
        self.assertEqual(7, self.ok("GET", "/v1/groups/" + group)["offsets"][0]["lag"])
        consumer = self.consumer(group)
        consumer.subscribe([topic])
        self.assertEqual(3, self.consume(consumer, 1)[0].offset())
        consumer.close()
        clamped = self.ok("POST", "/v1/groups/%s/reset-offsets" % group,
                          {"to": "offset", "offset": 99,
                           "topics": [{"topic": topic, "partitions": [0]}]})
        self.assertEqual(10, clamped["plan"][0]["target_offset"])
        self.assertEqual(0, self.ok("GET", "/v1/groups/" + group)["lag_sum"])
        self.assertBrokerHealthy()

    def lag_seconds_metric(self, group, topic):
        with urllib.request.urlopen(self.broker.admin_url + "/metrics", timeout=TIMEOUT_S) as r:
            text = r.read().decode()
        prefix = ('cairn_consumergroup_lag_seconds{consumergroup="%s",topic="%s",partition="0"} '
                  % (group, topic))
        values = [float(line[len(prefix):]) for line in text.splitlines()
                  if line.startswith(prefix)]
        self.assertEqual(1, len(values), "one series for the group's partition")
        return values[0]

    def test_lag_seconds_is_the_age_of_the_first_unconsumed_record(self):
        topic, group = "api-age", "api-age-group"
        self.ok("POST", "/v1/topics", {"name": topic, "partitions": 1}, status=201)
        before_first = time.time()
        self.ok("POST", "/v1/topics/%s/records" % topic, {"partition": 0, "value": "first"})
        after_first = time.time()
        # A group with no member and no offsets gets one by a reset (an admin commit).
        self.ok("POST", "/v1/groups/%s/reset-offsets" % group,
                {"to": "earliest", "topics": [topic]})
        time.sleep(2.5)
        before_second = time.time()
        self.ok("POST", "/v1/topics/%s/records" % topic, {"partition": 0, "value": "second"})
        after_second = time.time()
        time.sleep(1.0)

        # Offset 0 waits since the first record's append: at most 1 s older (the sampling step).
        asked = time.time()
        row = self.ok("GET", "/v1/groups/" + group)["offsets"][0]
        answered = time.time()
        self.assertEqual(2, row["lag"])
        self.assertGreaterEqual(row["lag_seconds"], asked - after_first - 0.01)
        self.assertLessEqual(row["lag_seconds"], answered - before_first + 1.01)
        asked = time.time()
        metric = self.lag_seconds_metric(group, topic)
        answered = time.time()
        self.assertGreaterEqual(metric, asked - after_first - 0.01)
        self.assertLessEqual(metric, answered - before_first + 1.01)

        # Committed past the first record, the second one's age counts, not the commit's.
        self.ok("POST", "/v1/groups/%s/reset-offsets" % group, {"to": "offset", "offset": 1})
        asked = time.time()
        described = self.ok("GET", "/v1/groups/" + group)
        answered = time.time()
        self.assertEqual(1, described["offsets"][0]["lag"])
        self.assertGreaterEqual(described["lag_seconds_max"], asked - after_second - 0.01)
        self.assertLessEqual(described["lag_seconds_max"], answered - before_second + 1.01)
        self.assertLess(described["lag_seconds_max"], asked - after_first - 0.01)

        self.ok("POST", "/v1/groups/%s/reset-offsets" % group, {"to": "latest"})
        self.assertEqual(0, self.ok("GET", "/v1/groups/" + group)["offsets"][0]["lag_seconds"])
        self.assertEqual(0, self.lag_seconds_metric(group, topic))


if __name__ == "__main__":
    harness.main()
