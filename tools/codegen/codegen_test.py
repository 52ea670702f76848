"""Unit tests of codegen.py's spec handling (run by tools/codegen/check.sh)."""
import json
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import codegen  # noqa: E402


def message(fields, served=(0, 3), flexible="2+", common=None):
    spec = {"apiKey": 1, "type": "request", "name": "TestRequest", "validVersions": "0-5",
            "flexibleVersions": flexible, "fields": fields}
    if common:
        spec["commonStructs"] = common
    return codegen.Message(spec, served[0], served[1])


class StripCommentsTest(unittest.TestCase):
    def test_removes_line_comments_but_not_slashes_in_strings(self):
        text = '{ // comment\n "a": "x // y", "b": "q\\" // z" // tail\n}'
        self.assertEqual(json.loads(codegen.strip_comments(text)), {"a": "x // y", "b": 'q" // z'})


class VersionsTest(unittest.TestCase):
    def test_parse(self):
        self.assertEqual(str(codegen.Versions.parse("3+")), "3+")
        self.assertEqual(str(codegen.Versions.parse("0-2")), "0-2")
        self.assertEqual(str(codegen.Versions.parse("4")), "4")
        self.assertTrue(codegen.Versions.parse("none").empty())

    def test_condition_is_minimal_within_the_context(self):
        context = {3, 4, 5, 6, 7}
        self.assertEqual(codegen.condition(codegen.Versions.parse("0+"), context), "true")
        self.assertEqual(codegen.condition(codegen.Versions.parse("5+"), context), "version >= 5")
        self.assertEqual(codegen.condition(codegen.Versions.parse("0-4"), context), "version <= 4")
        self.assertEqual(codegen.condition(codegen.Versions.parse("4-5"), context),
                         "version >= 4 && version <= 5")
        self.assertEqual(codegen.condition(codegen.Versions.parse("9+"), context), "false")


class NamesTest(unittest.TestCase):
    def test_snake_case(self):
        self.assertEqual(codegen.snake_case("ThrottleTimeMs"), "throttle_time_ms")
        self.assertEqual(codegen.snake_case("V3AndBelowTopics"), "v3_and_below_topics")
        self.assertEqual(codegen.snake_case("TopicId"), "topic_id")


class MessageTest(unittest.TestCase):
    def test_fields_outside_the_served_versions_are_dropped(self):
        m = message([{"name": "A", "type": "int32", "versions": "0+"},
                     {"name": "B", "type": "int32", "versions": "4+"}])
        self.assertEqual([f.name for f in m.top.live_fields()], ["A"])

    def test_structs_are_ordered_before_their_users(self):
        m = message([{"name": "Outer", "type": "[]Outer", "versions": "0+", "fields": [
            {"name": "Inner", "type": "[]Common", "versions": "0+"}]}],
            common=[{"name": "Common", "versions": "0+", "fields": [
                {"name": "X", "type": "int8", "versions": "0+"}]}])
        self.assertEqual([s.name for s in m.ordered_structs()], ["Common", "Outer"])

    def test_min_bytes_counts_compact_forms_and_tag_sections(self):
        m = message([{"name": "S", "type": "string", "versions": "0+"},
                     {"name": "T", "type": "int32", "versions": "0+", "taggedVersions": "2+",
                      "tag": 0}])
        self.assertEqual(codegen.struct_min_bytes(m, m.top, 1), 2 + 4)
        self.assertEqual(codegen.struct_min_bytes(m, m.top, 2), 1 + 1)

    def test_nullable_struct_has_a_presence_marker(self):
        m = message([{"name": "P", "type": "P", "versions": "0+", "nullableVersions": "0+",
                      "fields": [{"name": "X", "type": "int32", "versions": "0+"}]}])
        field = m.top.fields[0]
        self.assertEqual(codegen.cpp_type(field, m.top), "std::optional<P>")
        self.assertEqual(codegen.struct_min_bytes(m, m.top, 0), 1)  # int8 -1 for null

    def test_unsupported_shapes_are_rejected(self):
        with self.assertRaises(codegen.SpecError):
            message([{"name": "Flags", "type": "[]bool", "versions": "0+"}])
        with self.assertRaises(codegen.SpecError):
            message([{"name": "Records", "type": "Records", "versions": "0+",
                      "fields": [{"name": "X", "type": "int8", "versions": "0+"}]}])
        with self.assertRaises(codegen.SpecError):
            message([{"name": "A", "type": "int32", "versions": "0+"}], served=(0, 9))


class OutputTest(unittest.TestCase):
    def test_stale_files_are_removed_and_unchanged_files_kept(self):
        with tempfile.TemporaryDirectory() as out:
            codegen.write_outputs(out, {"a.h": "x\n", "testing/b.cc": "y\n"})
            os.utime(os.path.join(out, "a.h"), (1, 1))
            codegen.write_outputs(out, {"a.h": "x\n"})
            self.assertFalse(os.path.exists(os.path.join(out, "testing", "b.cc")))
            self.assertEqual(os.stat(os.path.join(out, "a.h")).st_mtime, 1)


if __name__ == "__main__":
    unittest.main()
