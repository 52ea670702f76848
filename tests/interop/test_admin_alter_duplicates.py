#!/usr/bin/python3
"""AlterConfigs (API 33) with the same key twice: the later value wins and the request
succeeds, as in Kafka (which builds a Properties from the entries). librdkafka relies on it:
rd_kafka_ConfigResource_set_config appends, so a tool that resends every described entry and
then the one it changes sends that key twice. IncrementalAlterConfigs keeps refusing a key
given twice (INVALID_REQUEST), as Kafka does.

Checked with a raw request (kafka-python's protocol classes) and with librdkafka itself,
called through ctypes exactly as a C program would.
"""
import ctypes
import ctypes.util
import unittest

import admin_wire as aw
import harness

RD_KAFKA_PRODUCER = 0
RD_KAFKA_RESOURCE_TOPIC = 2


def librdkafka():
    lib = ctypes.CDLL(ctypes.util.find_library("rdkafka") or "librdkafka.so.1")
    pointer = ctypes.c_void_p
    signatures = {
        "rd_kafka_conf_new": ([], pointer),
        "rd_kafka_conf_set": ([pointer, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p,
                               ctypes.c_size_t], ctypes.c_int),
        "rd_kafka_new": ([ctypes.c_int, pointer, ctypes.c_char_p, ctypes.c_size_t], pointer),
        "rd_kafka_destroy": ([pointer], None),
        "rd_kafka_queue_new": ([pointer], pointer),
        "rd_kafka_queue_destroy": ([pointer], None),
        "rd_kafka_queue_poll": ([pointer, ctypes.c_int], pointer),
        "rd_kafka_event_destroy": ([pointer], None),
        "rd_kafka_event_error": ([pointer], ctypes.c_int),
        "rd_kafka_event_AlterConfigs_result": ([pointer], pointer),
        "rd_kafka_AlterConfigs_result_resources": ([pointer, ctypes.POINTER(ctypes.c_size_t)],
                                                   ctypes.POINTER(pointer)),
        "rd_kafka_ConfigResource_new": ([ctypes.c_int, ctypes.c_char_p], pointer),
        "rd_kafka_ConfigResource_destroy": ([pointer], None),
        "rd_kafka_ConfigResource_set_config": ([pointer, ctypes.c_char_p, ctypes.c_char_p],
                                               ctypes.c_int),
        "rd_kafka_ConfigResource_error": ([pointer], ctypes.c_int),
        "rd_kafka_ConfigResource_error_string": ([pointer], ctypes.c_char_p),
        "rd_kafka_AlterConfigs": ([pointer, ctypes.POINTER(pointer), ctypes.c_size_t, pointer,
                                   pointer], None),
    }
    for name, (arguments, result) in signatures.items():
        function = getattr(lib, name)
        function.argtypes = arguments
        function.restype = result
    return lib


def alter_with_librdkafka(bootstrap, topic, entries):
    """rd_kafka_AlterConfigs on one topic with `entries` [(name, value)] set in order; returns
    (resource error code, message)."""
    rk = librdkafka()
    errors = ctypes.create_string_buffer(512)
    conf = rk.rd_kafka_conf_new()
    assert rk.rd_kafka_conf_set(conf, b"bootstrap.servers", bootstrap.encode(), errors, 512) == 0
    handle = rk.rd_kafka_new(RD_KAFKA_PRODUCER, conf, errors, 512)
    assert handle, errors.value
    queue = rk.rd_kafka_queue_new(handle)
    resource = rk.rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic.encode())
    try:
        for name, value in entries:
            assert rk.rd_kafka_ConfigResource_set_config(
                resource, name.encode(), value.encode()) == 0
        resources = (ctypes.c_void_p * 1)(resource)
        rk.rd_kafka_AlterConfigs(handle, resources, 1, None, queue)
        event = rk.rd_kafka_queue_poll(queue, 30000)
        assert event, "no AlterConfigs result within 30 s"
        try:
            assert rk.rd_kafka_event_error(event) == 0
            count = ctypes.c_size_t()
            results = rk.rd_kafka_AlterConfigs_result_resources(
                rk.rd_kafka_event_AlterConfigs_result(event), ctypes.byref(count))
            assert count.value == 1
            message = rk.rd_kafka_ConfigResource_error_string(results[0])
            return (rk.rd_kafka_ConfigResource_error(results[0]),
                    message.decode() if message else "")
        finally:
            rk.rd_kafka_event_destroy(event)
    finally:
        rk.rd_kafka_ConfigResource_destroy(resource)
        rk.rd_kafka_queue_destroy(queue)
        rk.rd_kafka_destroy(handle)


class AlterConfigsDuplicateKeys(harness.BrokerTestCase):
    def setUp(self):
        self.admin = aw.Admin(self.broker.bootstrap)

    def tearDown(self):
        self.admin.close()
        self.assertBrokerHealthy()

    def retention(self, topic):
        value, _read_only, source, _sensitive, _synonyms = \
            self.admin.topic_configs(topic)["retention.ms"]
        return value, source

    def test_raw_request_last_value_wins(self):
        self.assertEqual(aw.NONE, self.admin.create_topic("dup-raw")[0])
        entries = [("retention.ms", "1000"), ("segment.ms", "60000"), ("retention.ms", "2000")]
        request = aw.AlterConfigsRequest[1](resources=[(aw.TOPIC, "dup-raw", entries)],
                                            validate_only=False)
        results = [tuple(r) for r in self.admin.request(request).resources]
        self.assertEqual(aw.NONE, results[0][0], results)
        self.assertEqual(("2000", aw.DYNAMIC_TOPIC_CONFIG), self.retention("dup-raw"))
        self.assertEqual("60000", self.admin.topic_configs("dup-raw")["segment.ms"][0])

    def test_librdkafka_set_config_twice(self):
        self.assertEqual(aw.NONE, self.admin.create_topic("dup-librdkafka")[0])
        code, message = alter_with_librdkafka(
            self.broker.bootstrap, "dup-librdkafka",
            [("retention.ms", "5000"), ("cleanup.policy", "delete"), ("retention.ms", "7000")])
        self.assertEqual((0, ""), (code, message))
        self.assertEqual(("7000", aw.DYNAMIC_TOPIC_CONFIG), self.retention("dup-librdkafka"))

    def test_incremental_still_refuses_a_key_twice(self):
        self.assertEqual(aw.NONE, self.admin.create_topic("dup-incremental")[0])
        results = self.admin.incremental_alter_configs([
            (aw.TOPIC, "dup-incremental",
             [("retention.ms", aw.SET, "1000"), ("retention.ms", aw.SET, "2000")])])
        self.assertEqual(aw.INVALID_REQUEST, results[0][0])
        self.assertNotEqual("2000", self.retention("dup-incremental")[0])


if __name__ == "__main__":
    harness.main()
