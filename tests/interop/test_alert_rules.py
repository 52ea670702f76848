#!/usr/bin/env python3
"""The consumer-lag alert tiers and the Prometheus alerting rules shipped in docs/alerts/:

- `promtool check rules` accepts every rules file, and `promtool test rules` runs their unit
  tests (each alert fires on the series a broker exposes and stays quiet where it should);
- every metric the rules use is one a real broker exposes (promtool cannot know that): a broker
  started with --lag-alert-tiers, with one group lagging past its tier's threshold and one
  within its own, shows cairn_consumergroup_lag_tier_breached 1 and 0 for them, the thresholds,
  and the same verdicts in the admin API's group view;
- a malformed --lag-alert-tiers stops the start with a message naming the flag.
"""
import glob
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ALERTS = os.path.join(ROOT, "docs", "alerts")
TIERS = "tier-pay*=critical:1s, *=standard:1h"
TIMEOUT_S = 60


def rules_files():
    return sorted(f for f in glob.glob(os.path.join(ALERTS, "*.yml"))
                  if not f.endswith(".test.yml"))


class RulesFiles(unittest.TestCase):

    def test_promtool_checks_every_rules_file(self):
        files = rules_files()
        self.assertTrue(files, "no rules in docs/alerts")
        for path in files:
            check = subprocess.run(["promtool", "check", "rules", path], capture_output=True,
                                   text=True, timeout=TIMEOUT_S)
            self.assertEqual(0, check.returncode, check.stdout + check.stderr)
            self.assertIn("SUCCESS", check.stdout)

    def test_promtool_unit_tests_of_the_rules_pass(self):
        tests = sorted(glob.glob(os.path.join(ALERTS, "*.test.yml")))
        self.assertTrue(tests, "no rule tests in docs/alerts")
        for path in tests:
            run = subprocess.run(["promtool", "test", "rules", os.path.basename(path)],
                                 cwd=ALERTS, capture_output=True, text=True, timeout=TIMEOUT_S)
            self.assertEqual(0, run.returncode, run.stdout + run.stderr)


class TiersOnABroker(harness.BrokerTestCase):
    broker_args = ("--lag-alert-tiers", TIERS)

    def call(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.broker.admin_url + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
            return json.loads(response.read().decode())

    def metrics(self):
        with urllib.request.urlopen(self.broker.admin_url + "/metrics", timeout=TIMEOUT_S) as r:
            return r.read().decode()

    def test_tiers_are_evaluated_and_the_rules_use_real_metrics(self):
        self.call("POST", "/v1/topics", {"name": "tiered", "partitions": 1})
        self.call("POST", "/v1/topics/tiered/records", {"partition": 0, "value": "waiting"})
        for group in ("tier-payments", "tier-reports"):
            self.call("POST", "/v1/groups/%s/reset-offsets" % group,
                      {"to": "earliest", "topics": ["tiered"]})
        time.sleep(1.5)  # past the critical tier's 1 s, far within the standard tier's hour
        text = self.metrics()

        def value(name, group):
            match = re.search(r'^%s\{consumergroup="%s",tier="([a-z]+)"\} (\S+)$'
                              % (name, group), text, re.M)
            self.assertIsNotNone(match, "%s for %s in:\n%s" % (name, group, text))
            return match.group(1), float(match.group(2))
        self.assertEqual(("critical", 1.0),
                         value("cairn_consumergroup_lag_tier_breached", "tier-payments"))
        self.assertEqual(("standard", 0.0),
                         value("cairn_consumergroup_lag_tier_breached", "tier-reports"))
        self.assertEqual(("critical", 1.0),
                         value("cairn_consumergroup_lag_tier_threshold_seconds", "tier-payments"))
        self.assertEqual(("standard", 3600.0),
                         value("cairn_consumergroup_lag_tier_threshold_seconds", "tier-reports"))
        payments = self.call("GET", "/v1/groups/tier-payments")["lag_alert"]
        self.assertEqual({"tier": "critical", "threshold_seconds": 1.0, "breached": True},
                         payments)
        self.assertFalse(self.call("GET", "/v1/groups/tier-reports")["lag_alert"]["breached"])

        exposed = set(re.findall(r"^# TYPE (\S+) ", text, re.M))
        for path in rules_files():
            with open(path) as f:
                rules = f.read()
            used = set(re.findall(r"\b((?:cairn|kafka)_[a-z_]+)\b", rules))
            self.assertTrue(used, path)
            self.assertEqual(set(), used - exposed, "metrics %s uses that no broker exposes"
                             % os.path.basename(path))
        self.assertBrokerHealthy()


class BadTiers(unittest.TestCase):

    def test_malformed_tiers_stop_the_start(self):
        with tempfile.TemporaryDirectory(prefix="cairn-interop-") as data_dir:
            run = subprocess.run(
                [harness.cairn_binary(), "serve", "--listen", "127.0.0.1:0",
                 "--admin-listen=127.0.0.1:0", "--data-dir", data_dir,
                 "--lag-alert-tiers", "payment-*=critical"],
                capture_output=True, text=True, timeout=TIMEOUT_S)
        self.assertNotEqual(0, run.returncode)
        self.assertIn("--lag-alert-tiers", run.stderr)
        self.assertIn("payment-*=critical", run.stderr)


if __name__ == "__main__":
    harness.main()
