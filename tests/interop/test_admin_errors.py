#!/usr/bin/python3
"""Admin API error codes over the wire: every bad input gets Kafka's code for it, the rest of
the request is still served, and the broker keeps serving afterwards.

Requests are encoded by kafka-python's protocol types (admin_wire.py), so clients' own
client-side checks (num_partitions 0, ...) do not hide what the broker answers.
"""
import admin_wire as aw
import harness


class AdminErrors(harness.BrokerTestCase):
    def setUp(self):
        self.admin = aw.Admin(self.broker.bootstrap)

    def tearDown(self):
        self.admin.close()
        self.assertBrokerHealthy()

    def create(self, name, partitions=1, replication=1, configs=None, assignments=None):
        result = self.admin.create_topics([(name, partitions, replication, assignments or [],
                                            configs)])
        return result[0][1]

    # ----- CreateTopics

    def test_create_topic_twice_is_topic_already_exists(self):
        self.assertEqual(aw.NONE, self.create("errors-twice"))
        code, message = self.admin.create_topic("errors-twice")
        self.assertEqual(aw.TOPIC_ALREADY_EXISTS, code)
        self.assertIn("already exists", message)

    def test_illegal_names_are_invalid_topic_exception(self):
        for name in ["", ".", "..", "has space", "slash/es", "x" * 250, "ünicode"]:
            self.assertEqual(aw.INVALID_TOPIC_EXCEPTION, self.create(name), name)
        self.assertEqual(aw.NONE, self.create("x" * 249))
        self.assertEqual(aw.NONE, self.create("dots.and_under-scores.OK"))

    def test_bad_partition_counts_are_invalid_partitions(self):
        for count in [0, -2, -100, 100001]:
            self.assertEqual(aw.INVALID_PARTITIONS, self.create("errors-p%d" % count, count),
                             count)
        self.assertEqual({"errors-p0": -aw.UNKNOWN_TOPIC_OR_PARTITION},
                         self.admin.partition_counts(["errors-p0"]))

    def test_replication_factor_other_than_one_is_invalid_replication_factor(self):
        for factor in [0, 2, 3, -2]:
            self.assertEqual(aw.INVALID_REPLICATION_FACTOR,
                             self.create("errors-rf%d" % factor, 1, factor), factor)
        self.assertEqual(aw.NONE, self.create("errors-rf-default", 2, -1))
        self.assertEqual({"errors-rf-default": 2},
                         self.admin.partition_counts(["errors-rf-default"]))

    def test_manual_assignments(self):
        node = 0
        good = [(0, [node]), (1, [node]), (2, [node])]
        self.assertEqual(aw.NONE, self.create("errors-assigned", -1, -1, assignments=good))
        self.assertEqual({"errors-assigned": 3}, self.admin.partition_counts(["errors-assigned"]))
        self.assertEqual(aw.INVALID_REQUEST,  # both a count and assignments
                         self.create("errors-both", 3, -1, assignments=good))
        for bad in ([(0, [node]), (2, [node])], [(0, [7])], [(0, [node, node])], [(0, [])]):
            self.assertEqual(aw.INVALID_REPLICA_ASSIGNMENT,
                             self.create("errors-bad-assignment", -1, -1, assignments=bad), bad)

    def test_bad_configs_are_invalid_config(self):
        for configs in [{"retention.ms": "soon"}, {"retention.ms": "-2"},
                        {"no.such.config": "1"}, {"cleanup.policy": "shred"},
                        {"message.timestamp.type": "BrokerTime"}, {"segment.bytes": "100"},
                        {"max.message.bytes": "4294967296"}, {"remote.storage.enable": "true"}]:
            code, message = self.admin.create_topic("errors-config", 1, 1, configs)
            self.assertEqual(aw.INVALID_CONFIG, code, configs)
            self.assertTrue(message, configs)
        self.assertEqual({"errors-config": -aw.UNKNOWN_TOPIC_OR_PARTITION},
                         self.admin.partition_counts(["errors-config"]))

    def test_internal_topics_are_refused(self):
        # __consumer_offsets and __transaction_state always exist (Kafka answers so too once
        # it created them). Neither may be deleted or grown.
        self.assertEqual(aw.TOPIC_ALREADY_EXISTS, self.create("__consumer_offsets"))
        self.assertEqual(aw.TOPIC_ALREADY_EXISTS, self.create("__transaction_state"))
        self.assertEqual([("__consumer_offsets", aw.POLICY_VIOLATION)],
                         self.admin.delete_topics(["__consumer_offsets"]))
        [(_, code, _)] = self.admin.create_partitions([("__consumer_offsets", 64, None)])
        self.assertEqual(aw.POLICY_VIOLATION, code)

    def test_one_bad_topic_does_not_fail_the_others(self):
        result = self.admin.create_topics([
            ("errors-mixed-ok", 2, 1, [], None),
            ("errors mixed bad", 2, 1, [], None),
            ("errors-mixed-dup", 1, 1, [], None),
            ("errors-mixed-dup", 1, 1, [], None),
            ("errors-mixed-rf", 1, 5, [], None),
        ])
        self.assertEqual([aw.NONE, aw.INVALID_TOPIC_EXCEPTION, aw.INVALID_REQUEST,
                          aw.INVALID_REQUEST, aw.INVALID_REPLICATION_FACTOR],
                         [code for _, code, _ in result])
        self.assertEqual({"errors-mixed-ok": 2, "errors-mixed-dup": -3},
                         self.admin.partition_counts(["errors-mixed-ok", "errors-mixed-dup"]))

    def test_validate_only_reports_errors_and_creates_nothing(self):
        self.assertEqual(aw.NONE, self.admin.create_topic("errors-dry", 4,
                                                          validate_only=True)[0])
        self.assertEqual(aw.INVALID_PARTITIONS,
                         self.admin.create_topic("errors-dry", 0, validate_only=True)[0])
        self.assertEqual({"errors-dry": -aw.UNKNOWN_TOPIC_OR_PARTITION},
                         self.admin.partition_counts(["errors-dry"]))

    def test_create_topics_v0(self):
        self.assertEqual([("errors-v0", aw.NONE, None)],
                         self.admin.create_topics([("errors-v0", 1, 1, [], None)], version=0))
        self.assertEqual([("errors-v0", aw.TOPIC_ALREADY_EXISTS, None)],
                         self.admin.create_topics([("errors-v0", 1, 1, [], None)], version=0))

    # ----- DeleteTopics and CreatePartitions

    def test_delete_topics_errors(self):
        self.assertEqual(aw.NONE, self.create("errors-delete"))
        self.assertEqual([("errors-delete", aw.NONE), ("errors-missing", 3), ("bad name", 17)],
                         self.admin.delete_topics(["errors-delete", "errors-missing",
                                                   "bad name"]))
        self.assertEqual([("errors-delete", aw.UNKNOWN_TOPIC_OR_PARTITION)],
                         self.admin.delete_topics(["errors-delete"]))
        self.assertEqual(aw.NONE, self.create("errors-delete-dup"))
        self.assertEqual([("errors-delete-dup", aw.INVALID_REQUEST)] * 2,
                         self.admin.delete_topics(["errors-delete-dup"] * 2))

    def test_create_partitions_errors(self):
        self.assertEqual(aw.NONE, self.create("errors-grow", 3))
        results = self.admin.create_partitions([
            ("errors-grow", 3, None),       # not an increase
            ("errors-missing", 4, None),
        ])
        self.assertEqual([aw.INVALID_PARTITIONS, aw.UNKNOWN_TOPIC_OR_PARTITION],
                         [code for _, code, _ in results])
        self.assertEqual(aw.INVALID_PARTITIONS,
                         self.admin.create_partitions([("errors-grow", 2, None)])[0][1])
        self.assertEqual(aw.INVALID_REPLICA_ASSIGNMENT,
                         self.admin.create_partitions([("errors-grow", 5, [[0]])])[0][1])
        self.assertEqual(aw.INVALID_REPLICA_ASSIGNMENT,
                         self.admin.create_partitions([("errors-grow", 4, [[3]])])[0][1])
        self.assertEqual(aw.NONE,
                         self.admin.create_partitions([("errors-grow", 5, None)],
                                                      validate_only=True)[0][1])
        self.assertEqual({"errors-grow": 3}, self.admin.partition_counts(["errors-grow"]))
        self.assertEqual(aw.NONE,
                         self.admin.create_partitions([("errors-grow", 5, [[0], [0]])])[0][1])
        self.assertEqual({"errors-grow": 5}, self.admin.partition_counts(["errors-grow"]))

    # ----- configs

    def test_describe_configs_errors(self):
        resources = self.admin.describe_configs([
            (aw.TOPIC, "errors-nothing-here", None),
            (aw.TOPIC, "bad name", None),
            (aw.BROKER, "7", None),
            (99, "x", None),
            (aw.BROKER, "0", ["num.partitions"]),
        ])
        self.assertEqual([aw.UNKNOWN_TOPIC_OR_PARTITION, aw.INVALID_TOPIC_EXCEPTION,
                          aw.INVALID_REQUEST, aw.INVALID_REQUEST, aw.NONE],
                         [r[0] for r in resources])
        self.assertEqual(["num.partitions"], [entry[0] for entry in resources[4][4]])

    def test_alter_configs_errors(self):
        self.assertEqual(aw.NONE, self.create("errors-alter"))
        results = self.admin.alter_configs([
            (aw.TOPIC, "errors-alter", {"retention.ms": "x"}),
            (aw.TOPIC, "errors-gone", {"retention.ms": "1000"}),
            (aw.BROKER, "0", {"num.partitions": "3"}),       # not dynamic
            (aw.BROKER, "5", {"log.retention.ms": "1000"}),  # not this broker
            (aw.BROKER_LOGGER, "0", {"root": "DEBUG"}),      # incremental only
            (aw.TOPIC, "bad name", {}),
        ])
        self.assertEqual([aw.INVALID_CONFIG, aw.UNKNOWN_TOPIC_OR_PARTITION, aw.INVALID_CONFIG,
                          aw.INVALID_REQUEST, aw.INVALID_REQUEST, aw.INVALID_TOPIC_EXCEPTION],
                         [r[0] for r in results])
        self.assertIn("dynamically", results[2][1])

    def test_incremental_alter_configs_errors(self):
        self.assertEqual(aw.NONE, self.create("errors-incremental"))
        results = self.admin.incremental_alter_configs([
            (aw.TOPIC, "errors-incremental", [("retention.ms", aw.APPEND, "5")]),
        ])
        self.assertEqual(aw.INVALID_CONFIG, results[0][0])
        cases = [
            [("retention.ms", 9, "5")],                                  # unknown operation
            [("retention.ms", aw.SET, "5"), ("retention.ms", aw.DELETE, None)],  # key twice
            [("retention.ms", aw.SET, None)],                            # SET null
        ]
        for configs in cases:
            results = self.admin.incremental_alter_configs(
                [(aw.TOPIC, "errors-incremental", configs)])
            self.assertEqual(aw.INVALID_REQUEST, results[0][0], configs)
        results = self.admin.incremental_alter_configs([
            (aw.TOPIC, "errors-incremental", [("cleanup.policy", aw.SUBTRACT, "delete")]),
        ])
        self.assertEqual(aw.INVALID_CONFIG, results[0][0])  # would leave the policy empty
        results = self.admin.incremental_alter_configs([
            (aw.TOPIC, "errors-incremental", [("retention.ms", aw.SET, "1000")]),
            (aw.TOPIC, "errors-incremental", [("retention.ms", aw.SET, "2000")]),
        ])
        self.assertEqual([aw.INVALID_REQUEST, aw.INVALID_REQUEST], [r[0] for r in results])
        self.assertEqual(aw.DEFAULT_CONFIG,
                         self.admin.topic_configs("errors-incremental")["retention.ms"][2])

    def test_broker_logger(self):
        results = self.admin.incremental_alter_configs([
            (aw.BROKER_LOGGER, "0", [("root", aw.SET, "LOUD")]),
            (aw.BROKER_LOGGER, "0", [("kafka.server", aw.SET, "DEBUG")]),
        ])
        self.assertEqual([aw.INVALID_REQUEST, aw.INVALID_REQUEST], [r[0] for r in results])
        self.assertEqual(aw.INVALID_CONFIG, self.admin.incremental_alter_configs(
            [(aw.BROKER_LOGGER, "0", [("root", aw.SET, "LOUD")])])[0][0])
        self.assertEqual(aw.INVALID_REQUEST, self.admin.incremental_alter_configs(
            [(aw.BROKER_LOGGER, "0", [("root", aw.DELETE, None)])])[0][0])
        self.assertEqual(aw.NONE, self.admin.incremental_alter_configs(
            [(aw.BROKER_LOGGER, "0", [("root", aw.SET, "DEBUG")])])[0][0])
        resources = self.admin.describe_configs([(aw.BROKER_LOGGER, "0", None)])
        self.assertEqual([("root", "DEBUG")], [(e[0], e[1]) for e in resources[0][4]])
        self.assertEqual(aw.NONE, self.admin.incremental_alter_configs(
            [(aw.BROKER_LOGGER, "0", [("root", aw.SET, "INFO")])])[0][0])

    # ----- DeleteRecords

    def test_delete_records_errors(self):
        self.assertEqual(aw.NONE, self.create("errors-records", 2))
        result = self.admin.delete_records("errors-records", {0: 5, 1: -1, 2: 0})
        self.assertEqual({0: (-1, aw.OFFSET_OUT_OF_RANGE), 1: (0, aw.NONE),
                          2: (-1, aw.UNKNOWN_TOPIC_OR_PARTITION)}, result)
        self.assertEqual({0: (-1, aw.OFFSET_OUT_OF_RANGE)},
                         self.admin.delete_records("errors-records", {0: -7}))
        self.assertEqual({0: (-1, aw.UNKNOWN_TOPIC_OR_PARTITION)},
                         self.admin.delete_records("errors-none", {0: 0}))


class DeletionDisabled(harness.BrokerTestCase):
    broker_args = ("--delete-topic-enable", "false")

    def test_delete_topics_is_topic_deletion_disabled(self):
        with aw.Admin(self.broker.bootstrap) as admin:
            self.assertEqual(aw.NONE, admin.create_topic("kept")[0])
            self.assertEqual([("kept", aw.TOPIC_DELETION_DISABLED)], admin.delete_topics(["kept"]))
            self.assertEqual({"kept": 1}, admin.partition_counts(["kept"]))
        self.assertBrokerHealthy()


if __name__ == "__main__":
    harness.main()
