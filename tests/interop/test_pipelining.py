#!/usr/bin/python3
"""Pipelining: many requests in one write are answered strictly in request order."""
import struct
import threading

import harness
import kafka_wire
from kafka_wire import ApiVersionRequest, Connection, MetadataRequest


def metadata_request(version, topics):
    if version >= 4:
        return MetadataRequest[version](topics=topics, allow_auto_topic_creation=False)
    return MetadataRequest[version](topics=topics)


class Pipelining(harness.BrokerTestCase):
    broker_topics = {"orders": 3}

    def mixed_requests(self, count):
        requests = []
        for i in range(count):
            if i % 2 == 0:
                requests.append(ApiVersionRequest[(i // 2) % 3]())
            else:
                version = (i // 2) % 6
                topics = ["orders"] if version > 0 else []
                requests.append(metadata_request(version, topics))
        return requests

    def test_fifty_mixed_requests_in_one_write(self):
        requests = self.mixed_requests(50)
        correlation_ids = [1000 + 7 * i for i in range(len(requests))]
        data = b"".join(kafka_wire.encode_request(req, cid)
                        for req, cid in zip(requests, correlation_ids))
        with Connection(self.broker.bootstrap) as conn:
            conn.send(data)  # one write: all 50 requests arrive together
            for request, cid in zip(requests, correlation_ids):
                payload = conn.read_frame()
                self.assertIsNotNone(payload, "connection closed before the reply to %d" % cid)
                (got,) = struct.unpack(">i", payload[:4])
                self.assertEqual(cid, got, "replies out of request order")
                response = kafka_wire.decode_response(request, payload, cid)
                if request.API_KEY == kafka_wire.API_VERSIONS:
                    self.assertEqual(0, response.error_code)
                else:
                    names = [t[1] for t in response.topics]
                    # v0's empty list means every topic, the internal one included.
                    expected = (["orders"] if request.topics else
                                ["__consumer_offsets", "__transaction_state", "orders"])
                    self.assertEqual(expected, names)
        self.assertBrokerHealthy()

    def test_many_more_requests_than_the_in_flight_limit(self):
        requests = self.mixed_requests(3000)  # the default in-flight limit is 128
        data = b"".join(kafka_wire.encode_request(req, i) for i, req in enumerate(requests))
        with Connection(self.broker.bootstrap) as conn:
            # Write from a thread while reading here: with backpressure the broker stops
            # reading once its in-flight queue is full, until we read replies.
            sender = threading.Thread(target=conn.send, args=(data,))
            sender.start()
            for i, request in enumerate(requests):
                payload = conn.read_frame()
                self.assertIsNotNone(payload)
                kafka_wire.decode_response(request, payload, i)
            sender.join()

    def test_replies_before_a_bad_request_arrive_then_the_connection_closes(self):
        good = [ApiVersionRequest[0](), metadata_request(1, None)]
        data = b"".join(kafka_wire.encode_request(req, i) for i, req in enumerate(good))
        data += kafka_wire.framed(kafka_wire.raw_header_v1(9999, 0, 99))  # unknown api key
        data += kafka_wire.encode_request(ApiVersionRequest[0](), 100)  # never answered
        with Connection(self.broker.bootstrap) as conn:
            conn.send(data)
            for i, request in enumerate(good):
                payload = conn.read_frame()
                self.assertIsNotNone(payload)
                kafka_wire.decode_response(request, payload, i)
            self.assertIsNone(conn.read_frame())
        self.assertBrokerHealthy()

    def test_api_versions_v3_and_metadata_v8_pipelined(self):
        data = kafka_wire.api_versions_v3_request(1) + kafka_wire.metadata_v8_request(2, None)
        data += kafka_wire.metadata_v8_request(3, ["orders", "missing", "bad/name", "orders"])
        with Connection(self.broker.bootstrap) as conn:
            conn.send(data)
            cid, error, apis = kafka_wire.decode_api_versions_v3(conn.read_frame())
            self.assertEqual((1, 0), (cid, error))
            self.assertEqual((0, 4), apis[kafka_wire.API_VERSIONS])
            self.assertEqual((0, 12), apis[kafka_wire.METADATA])
            every = kafka_wire.decode_metadata_v8(conn.read_frame())
            self.assertEqual(2, every["correlation_id"])
            self.assertEqual([(0, self.broker.host, self.broker.port, None)], every["brokers"])
            self.assertEqual(self.broker.cluster_id(), every["cluster_id"])
            self.assertEqual(0, every["controller_id"])
            self.assertEqual(["__consumer_offsets", "__transaction_state", "orders"],
                             [t["name"] for t in every["topics"]])
            partitions = every["topics"][2]["partitions"]
            self.assertEqual([0, 1, 2], [p["index"] for p in partitions])
            for p in partitions:
                self.assertEqual((0, 0, 0, [0], [0], []),
                                 (p["error_code"], p["leader"], p["leader_epoch"],
                                  p["replicas"], p["isr"], p["offline"]))
            some = kafka_wire.decode_metadata_v8(conn.read_frame())
            self.assertEqual([("orders", 0), ("missing", kafka_wire.UNKNOWN_TOPIC_OR_PARTITION),
                              ("bad/name", kafka_wire.INVALID_TOPIC_EXCEPTION)],
                             [(t["name"], t["error_code"]) for t in some["topics"]])


if __name__ == "__main__":
    harness.main()
