"""Idempotent produce on the wire: sequence and epoch rules, and dedupe across restarts.

A producer id from InitProducerId, then hand-built batches (kafka-python's batch builder) with
chosen producer id / epoch / base sequence:
- a resent batch answers with its original offset and appends nothing;
- a sequence gap is OUT_OF_ORDER_SEQUENCE_NUMBER, an older epoch INVALID_PRODUCER_EPOCH, a new
  epoch that does not start at sequence 0 OUT_OF_ORDER_SEQUENCE_NUMBER;
- after a clean restart and after kill -9, the last batch resent is still a duplicate (the
  producer state is rebuilt from the snapshot and the log), and new producer ids never repeat.
"""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Broker  # noqa: E402
import produce_support as ps  # noqa: E402

TOPIC = "idem"


def batch(producer_id, epoch, sequence, count=3):
    return ps.simple_batch(count, producer_id=producer_id, producer_epoch=epoch,
                           base_sequence=sequence)


class IdempotenceSequencesTest(unittest.TestCase):
    def test_sequence_rules_and_restarts(self):
        broker = Broker(shards=2, topics={TOPIC: 1})
        broker.start()
        try:
            with ps.WireClient(broker.bootstrap) as client:
                error, pid, epoch = client.init_producer_id()
                self.assertEqual((error, epoch), (ps.NONE, 0))
                self.assertGreaterEqual(pid, 0)

                self.assertEqual(client.produce(TOPIC, 0, batch(pid, 0, 0)), (ps.NONE, 0))
                self.assertEqual(client.produce(TOPIC, 0, batch(pid, 0, 3)), (ps.NONE, 3))
                # Resending either of the last batches: the original offsets, nothing appended.
                self.assertEqual(client.produce(TOPIC, 0, batch(pid, 0, 0)), (ps.NONE, 0))
                self.assertEqual(client.produce(TOPIC, 0, batch(pid, 0, 3)), (ps.NONE, 3))
                self.assertEqual(client.fetch(TOPIC, 0, 0)[1], 6)
                # A gap.
                self.assertEqual(client.produce(TOPIC, 0, batch(pid, 0, 10))[0],
                                 ps.OUT_OF_ORDER_SEQUENCE_NUMBER)
                # A new epoch must start at 0; then the old epoch is fenced.
                self.assertEqual(client.produce(TOPIC, 0, batch(pid, 1, 6))[0],
                                 ps.OUT_OF_ORDER_SEQUENCE_NUMBER)
                self.assertEqual(client.produce(TOPIC, 0, batch(pid, 1, 0)), (ps.NONE, 6))
                self.assertEqual(client.produce(TOPIC, 0, batch(pid, 0, 6))[0],
                                 ps.INVALID_PRODUCER_EPOCH)
                self.assertEqual(client.fetch(TOPIC, 0, 0)[1], 9)

            pids = {pid}
            # Clean restart: the snapshot written at shutdown carries the state.
            data_dir = broker.data_dir
            broker._own_data_dir = False  # keep the data for the restarts
            broker.stop()
            broker = ps.start_broker(data_dir)
            with ps.WireClient(broker.bootstrap) as client:
                self.assertEqual(client.produce(TOPIC, 0, batch(pid, 1, 0)), (ps.NONE, 6))
                self.assertEqual(client.produce(TOPIC, 0, batch(pid, 1, 3)), (ps.NONE, 9))
                error, new_pid, _ = client.init_producer_id()
                self.assertEqual(error, ps.NONE)
                self.assertNotIn(new_pid, pids)
                pids.add(new_pid)

            # kill -9: no snapshot of the latest state; the log replay rebuilds it.
            ps.kill9(broker)
            broker = ps.start_broker(data_dir)
            with ps.WireClient(broker.bootstrap) as client:
                self.assertEqual(client.produce(TOPIC, 0, batch(pid, 1, 3)), (ps.NONE, 9))
                self.assertEqual(client.produce(TOPIC, 0, batch(pid, 1, 6)), (ps.NONE, 12))
                self.assertEqual(client.fetch(TOPIC, 0, 0)[1], 15)
                error, new_pid, _ = client.init_producer_id()
                self.assertEqual(error, ps.NONE)
                self.assertNotIn(new_pid, pids)
                _, _, records = client.fetch(TOPIC, 0, 0)
                self.assertEqual([r[0] for r in records], list(range(15)))
            broker._own_data_dir = True
        finally:
            broker.stop()


if __name__ == "__main__":
    unittest.main(verbosity=2)
