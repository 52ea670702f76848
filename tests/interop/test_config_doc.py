#!/usr/bin/python3
"""The configuration reference comes from the broker's own definitions and cannot drift:

- docs/configuration.md's flag, topic-config and broker-config tables equal `cairn config docs`
  (tools/config_doc.py --check), and every `cairn serve` flag and Kafka broker config is in them;
- `cairn config defaults` lists every setting commented out at its default: the file as shipped
  and the file with every setting uncommented both resolve (`serve --print-config`) to exactly
  the built-in defaults, and a broker started with the uncommented file serves;
- `serve --print-config` shows what the flags and the file set, exits 2 on a bad setting, and
  touches no data directory.
"""
import os
import re
import shutil
import subprocess
import tempfile
import unittest

import harness

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run(*args):
    return subprocess.run([harness.cairn_binary(), *args], capture_output=True, text=True,
                          timeout=60)


def uncomment(text):
    """Every `#key: value` line of `cairn config defaults` made a setting (prose comments
    have a space after the #)."""
    return re.sub(r"(?m)^(\s*)#([a-z0-9.-]+: .*)$", r"\1\2", text)


class ConfigReference(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="cairn-config-doc-")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def write(self, name, text):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_docs_tables_are_current(self):
        checked = subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "tools", "config_doc.py"),
                                  "--check", harness.cairn_binary()],
                                 capture_output=True, text=True, timeout=120)
        self.assertEqual(checked.returncode, 0, checked.stderr)
        with open(os.path.join(ROOT, "docs", "configuration.md")) as f:
            doc = f.read()
        help_text = run("serve", "--help").stdout
        for flag in re.findall(r"(?m)^\s+(--[a-z-]+)", help_text):
            self.assertIn("| `" + flag, doc)
        for name in ("log.retention.hours", "offsets.retention.minutes", "num.partitions"):
            self.assertIn("| `%s` |" % name, doc)

    def test_stale_table_is_detected(self):
        # The check must fail on a doc that differs: run it against a copy with a row changed.
        with open(os.path.join(ROOT, "docs", "configuration.md")) as f:
            doc = f.read()
        broken = doc.replace("| `num.partitions` | INT | `1` |", "| `num.partitions` | INT | `7` |")
        self.assertNotEqual(doc, broken)
        tools = os.path.join(self.dir, "tools")
        os.makedirs(os.path.join(self.dir, "docs"))
        os.makedirs(tools)
        shutil.copy(os.path.join(ROOT, "tools", "config_doc.py"), tools)
        self.write(os.path.join("docs", "configuration.md"), broken)
        checked = subprocess.run(["/usr/bin/python3", os.path.join(tools, "config_doc.py"),
                                  "--check", harness.cairn_binary()],
                                 capture_output=True, text=True, timeout=120)
        self.assertEqual(checked.returncode, 1)
        self.assertIn("broker", checked.stderr)

    def test_defaults_resolve_to_the_built_in_defaults(self):
        defaults = run("config", "defaults")
        self.assertEqual(defaults.returncode, 0, defaults.stderr)
        self.assertIn("\n#listen: 127.0.0.1:9092\n", defaults.stdout)
        self.assertIn("\n#data-dir: ./data\n", defaults.stdout)
        self.assertIn("\n  #log.retention.hours: 168\n", defaults.stdout)
        self.assertIn("\n  #log.retention.ms: ~\n", defaults.stdout)
        built_in = run("serve", "--print-config")
        self.assertEqual(built_in.returncode, 0, built_in.stderr)
        self.assertIn("kafka:\n", built_in.stdout)
        self.assertIn("  num.partitions: 1\n", built_in.stdout)
        commented = self.write("commented.yaml", defaults.stdout)
        every = self.write("every.yaml", uncomment(defaults.stdout))
        self.assertNotRegex(uncomment(defaults.stdout), r"(?m)^\s*#[a-z]")
        for path in (commented, every):
            resolved = run("serve", "--config", path, "--print-config")
            self.assertEqual(resolved.returncode, 0, resolved.stderr)
            self.assertEqual(resolved.stdout, built_in.stdout, path)
        # Every setting the file lists is one --print-config shows, and the other way round.
        listed = set(re.findall(r"(?m)^\s*([a-z0-9.-]+): ", uncomment(defaults.stdout)))
        shown = set(re.findall(r"(?m)^\s*([a-z0-9.-]+): ", built_in.stdout))
        self.assertEqual(listed, shown)

    def test_data_dir_is_written_out(self):
        defaults = run("config", "defaults", "--data-dir", "/var/lib/cairn")
        self.assertEqual(defaults.returncode, 0, defaults.stderr)
        self.assertIn("\ndata-dir: /var/lib/cairn\n", defaults.stdout)
        path = self.write("shipped.yaml", defaults.stdout)
        shipped = run("serve", "--config", path, "--print-config")
        direct = run("serve", "--data-dir", "/var/lib/cairn", "--print-config")
        self.assertEqual(shipped.returncode, 0, shipped.stderr)
        self.assertEqual(shipped.stdout, direct.stdout)

    def test_broker_serves_with_every_setting_uncommented(self):
        defaults = run("config", "defaults").stdout
        path = self.write("every.yaml", uncomment(defaults))
        with harness.Broker(shards=1, extra_args=["--config", path]) as broker:
            produced = run("produce", "from-defaults", "-b", broker.bootstrap)
            self.assertEqual(produced.returncode, 0, produced.stderr)

    def test_print_config_shows_flags_and_file_and_touches_nothing(self):
        data_dir = os.path.join(self.dir, "never-created")
        path = self.write("some.yaml", "shards: 3\nkafka:\n  log.retention.hours: 72\n")
        printed = run("serve", "--config", path, "--data-dir", data_dir, "--listen", ":9999",
                      "--num-partitions", "5", "--print-config")
        self.assertEqual(printed.returncode, 0, printed.stderr)
        for line in ("shards: 3", "listen: :9999", "data-dir: " + data_dir,
                     "  num.partitions: 5", "  log.retention.hours: 72"):
            self.assertIn(line + "\n", printed.stdout)
        self.assertFalse(os.path.exists(data_dir))

    def test_print_config_refuses_bad_settings(self):
        for args in (["--set", "num.partitions=0"], ["--set", "no.such.config=1"],
                     ["--listen", "nonsense"]):
            printed = run("serve", "--print-config", *args)
            self.assertEqual(printed.returncode, 2, args)
            self.assertEqual(printed.stdout, "")
        path = self.write("bad.yaml", "print-config: true\n")
        printed = run("serve", "--config", path, "--print-config")
        self.assertEqual(printed.returncode, 2)
        self.assertIn("unknown setting 'print-config'", printed.stderr)


if __name__ == "__main__":
    harness.main()
