#!/usr/bin/env python3
"""Tests of tidy.py's checks on made-up sources: `make test` runs them before tidy itself."""
import os
import tempfile
import unittest

import tidy


def function(lines_in_body, signature=("Status f(int a) {",)):
    return list(signature) + ["  x();"] * lines_in_body + ["}"]


class LongFunctions(unittest.TestCase):
    def test_one_line_signature(self):
        self.assertEqual([(1, 72, "f")], tidy.long_functions(function(70)))
        self.assertEqual([], tidy.long_functions(function(68)))

    def test_signature_over_several_lines(self):
        signature = ("Result<std::string> parse_tokens(std::string_view format, size_t& pos,",
                     "                                 bool in_header) {")
        self.assertEqual([(1, 73, "parse_tokens")],
                         tidy.long_functions(function(70, signature)))

    def test_namespaces_classes_and_tables_are_not_functions(self):
        lines = (["namespace cairn {", "class A {"] + ["  int x;"] * 80 + ["};",
                 "constexpr Row kRows[] = {"] + ["    {1, 2},"] * 80 + ["};", "}"])
        self.assertEqual([], tidy.long_functions(lines))


class BrokerLayers(unittest.TestCase):
    def test_parts_include_downward_only(self):
        rel = os.path.join("src", "broker", "handlers", "fetch.cc")
        self.assertIsNone(tidy.broker_include_problem(rel, "partitions/partition.h"))
        self.assertIsNone(tidy.broker_include_problem(rel, "handlers/handlers.h"))
        self.assertIsNone(tidy.broker_include_problem(rel, "error_code.h"))
        self.assertIn("upward", tidy.broker_include_problem(rel, "kafka_session.h"))
        lower = os.path.join("src", "broker", "topics", "topic_registry.cc")
        self.assertIn("upward", tidy.broker_include_problem(lower, "producers/state.h"))
        self.assertIn("upward", tidy.broker_include_problem(lower, "groups/group.h"))

    def test_unplaced_file_is_named(self):
        rel = os.path.join("src", "broker", "new_thing.cc")
        self.assertIn("BROKER_TOP_FILES", tidy.broker_include_problem(rel, "error_code.h"))


class ErrorCodeCasts(unittest.TestCase):
    def test_cast_fails(self):
        failures, findings = [], []
        tidy.check_file("src/broker/x.cc", ["return static_cast<ErrorCode>(73);"],
                        failures, findings)
        self.assertEqual(1, len(failures))
        self.assertIn("error_code.h", failures[0])


class Ratchet(unittest.TestCase):
    def read(self, text):
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
            f.write(text)
        try:
            return tidy.read_ratchet(f.name)
        finally:
            os.unlink(f.name)

    def test_allows_a_listed_finding_at_its_size_only(self):
        allowed = self.read("# header\na.cc function f 80  # a big switch\n")
        self.assertEqual({"a.cc function f": 80}, allowed)
        self.assertEqual([], tidy.check_ratchet([("a.cc function f", 80, "m")], allowed))
        self.assertIn("grew", tidy.check_ratchet([("a.cc function f", 81, "m")], allowed)[0])
        self.assertIn("lower", tidy.check_ratchet([("a.cc function f", 75, "m")], allowed)[0])
        self.assertIn("remove", tidy.check_ratchet([], allowed)[0])
        unlisted = tidy.check_ratchet([("b.cc lines", 900, "other")], allowed)
        self.assertEqual("other", unlisted[0])

    def test_every_line_says_why(self):
        with self.assertRaises(SystemExit):
            self.read("a.cc function f 80\n")


if __name__ == "__main__":
    unittest.main()
