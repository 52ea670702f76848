#!/usr/bin/env python3
"""A metadata write that hangs on the disk does not stall the data path.

The broker runs with one shard, so the connection that creates a topic and the one that
produces share a shard thread. The next write of meta/topics.json is made to hang: the test
holds a Linux file lease (fcntl F_SETLEASE, read lease) on the temporary file the broker
writes first, so the broker's open(O_TRUNC) of it blocks until the test lets go (or the
kernel's lease-break-time, 45 s, passes) — the same as a metadata write on a disk that stopped
answering. While that CreateTopics hangs, a librdkafka producer appends (acks=all) to an
existing topic and every record is acknowledged; the CreateTopics is still hanging afterwards
(so the produce really overlapped it). Released, the creation completes.

Before topic-registry writes moved off the shards (broker/meta_writer.h), the producer's
flush timed out here.
"""
import fcntl
import os
import signal
import sys
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import admin_wire as aw  # noqa: E402
from harness import BrokerTestCase, main  # noqa: E402

RECORDS = 50


class MetadataStallTest(BrokerTestCase):
    broker_shards = 1

    def test_produce_completes_while_topic_creation_hangs(self):
        from confluent_kafka import Consumer, Producer, TopicPartition
        with aw.Admin(self.broker.bootstrap) as admin:
            self.assertEqual(aw.NONE, admin.create_topic("flowing", 2)[0])

        # Breaking the lease signals its holder (SIGIO, fatal by default).
        signal.signal(signal.SIGIO, signal.SIG_IGN)
        temporary = os.path.join(self.broker.data_dir, "meta", "topics.json.tmp")
        open(temporary, "w").close()
        lease = os.open(temporary, os.O_RDONLY)
        fcntl.fcntl(lease, fcntl.F_SETLEASE, fcntl.F_RDLCK)
        created = {}

        def create_stalled():
            with aw.Admin(self.broker.bootstrap) as admin:
                created["result"] = admin.create_topic("stalled", 1)

        creator = threading.Thread(target=create_stalled, daemon=True)
        creator.start()
        try:
            creator.join(2)
            self.assertTrue(creator.is_alive(), "the registry write did not hang: %r" % created)

            producer = Producer({"bootstrap.servers": self.broker.bootstrap, "acks": "all",
                                 "message.timeout.ms": 30000})
            failures = []
            for i in range(RECORDS):
                producer.produce("flowing", value=b"record-%d" % i, partition=i % 2,
                                 on_delivery=lambda err, msg: err and failures.append(err))
            remaining = producer.flush(30)
            self.assertEqual(0, remaining, "produce stalled behind the metadata write")
            self.assertEqual([], failures)
            self.assertTrue(creator.is_alive(), "CreateTopics finished before the release")
        finally:
            fcntl.fcntl(lease, fcntl.F_SETLEASE, fcntl.F_UNLCK)
            os.close(lease)
            creator.join(30)
        self.assertFalse(creator.is_alive())
        self.assertEqual(aw.NONE, created["result"][0])

        consumer = Consumer({"bootstrap.servers": self.broker.bootstrap, "group.id": "stall"})
        try:
            low, high = consumer.get_watermark_offsets(TopicPartition("flowing", 0), timeout=10)
            self.assertEqual(RECORDS // 2, high - low)
        finally:
            consumer.close()
        with aw.Admin(self.broker.bootstrap) as admin:
            self.assertEqual({"stalled": 1}, admin.partition_counts(["stalled"]))
        self.assertBrokerHealthy()


if __name__ == "__main__":
    main()
