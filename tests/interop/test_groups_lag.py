#!/usr/bin/env python3
"""`cairn group describe` shows a group's lag correctly while a producer keeps writing: per
partition the committed offset, the log end and their difference; the total; the members and
what they own. Since the log end moves during the command, each figure is checked against
bounds measured just before and just after it (never against a timed expectation).
"""
import os
import re
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import cli_support  # noqa: E402
from test_groups_clients import (CommitWatcher, GroupTestCase, Producer,  # noqa: E402
                                 high_watermarks, wait_until)

PARTITIONS = 3


def table(text):
    return [re.split(r"\s{2,}", line.strip()) for line in text.splitlines() if line.strip()]


class DescribeLag(GroupTestCase):
    topics = {"lag": PARTITIONS}

    def committed(self, group):
        watcher = CommitWatcher(self.broker.bootstrap, group)
        wait_until(lambda: watcher.polls > 0, "committed offsets")
        watcher.stop()
        return {p: watcher.latest.get(("lag", p), -1) for p in range(PARTITIONS)}

    def describe(self, group):
        result = cli_support.run_cairn(["group", "describe", group],
                                       brokers=self.broker.bootstrap, check=True)
        rows = table(result.stdout.decode())
        summary = {row[0]: row[1] for row in rows if len(row) == 2}
        header = next(i for i, row in enumerate(rows) if row[0] == "TOPIC")
        partitions = {int(row[1]): dict(zip(rows[header], row)) for row in rows[header + 1:]}
        return summary, partitions

    def check_rows(self, partitions, committed_low, committed_high, ends_low, ends_high):
        total = 0
        for p in range(PARTITIONS):
            row = partitions[p]
            current, end, lag = (int(row["CURRENT-OFFSET"]), int(row["LOG-END-OFFSET"]),
                                 int(row["LAG"]))
            self.assertLessEqual(committed_low[p], current)
            self.assertLessEqual(current, committed_high[p])
            self.assertLessEqual(ends_low[p], end)
            self.assertLessEqual(end, ends_high[p])
            self.assertEqual(lag, end - current, row)
            total += lag
        return total

    def test_lag_while_producing(self):
        group = "lag-group"
        producer = Producer(self.broker.bootstrap, "lag", partitions=PARTITIONS, rate_per_s=200)
        try:
            member = self.member("reader", "confluent", group, "lag", "range")
            wait_until(lambda: len(member.messages()) > 50, "the member consuming",
                       members=[member])
            wait_until(lambda: min(self.committed(group).values()) >= 0, "first commits",
                       members=[member])

            # While the member runs: its offsets and the log ends both move.
            committed_before = self.committed(group)
            ends_before = high_watermarks(self.broker.bootstrap, "lag", PARTITIONS)
            summary, partitions = self.describe(group)
            ends_after = high_watermarks(self.broker.bootstrap, "lag", PARTITIONS)
            committed_after = self.committed(group)
            self.assertEqual((summary["STATE"], summary["MEMBERS"]), ("Stable", "1"))
            self.assertEqual(set(partitions), set(range(PARTITIONS)))
            for row in partitions.values():
                self.assertNotEqual(row["MEMBER-ID"], "-", "an owned partition names its member")
            total = self.check_rows(partitions, committed_before, committed_after,
                                    ends_before, ends_after)
            self.assertEqual(int(summary["TOTAL-LAG"]), total)

            # The member stops (committing where it is); the producer goes on: the committed
            # offsets are fixed, the lag grows with the log.
            member.stop()
            committed = self.committed(group)
            ends_before = high_watermarks(self.broker.bootstrap, "lag", PARTITIONS)
            summary, partitions = self.describe(group)
            ends_after = high_watermarks(self.broker.bootstrap, "lag", PARTITIONS)
            self.assertEqual((summary["STATE"], summary["MEMBERS"]), ("Empty", "0"))
            first_total = self.check_rows(partitions, committed, committed, ends_before,
                                          ends_after)
            self.assertEqual(int(summary["TOTAL-LAG"]), first_total)
            wait_until(lambda: sum(high_watermarks(self.broker.bootstrap, "lag",
                                                   PARTITIONS).values()) > sum(ends_after.values()),
                       "more records")
            summary, partitions = self.describe(group)
            self.assertGreater(int(summary["TOTAL-LAG"]), first_total)
        finally:
            producer.stop()


if __name__ == "__main__":
    unittest.main(verbosity=2)
