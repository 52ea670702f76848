#!/usr/bin/env python3
"""config_doc: keeps the tables of docs/configuration.md equal to what the binary says.

Each table sits between `<!-- cairn config docs TABLE -->` and `<!-- end cairn config docs
TABLE -->` and is the output of `cairn config docs TABLE` (TABLE: flags, topic, broker), which
prints them from the definitions the broker itself uses.

Usage: config_doc.py [--check] CAIRN_BINARY
  without --check: rewrite the tables in docs/configuration.md
  --check: exit 1 and name the stale tables if the file differs
"""
import argparse
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOC = os.path.join(ROOT, "docs", "configuration.md")
TABLES = ("flags", "topic", "broker")


def render(text, binary):
    """Returns `text` with every marked table replaced by the binary's, and the stale names."""
    stale = []
    for table in TABLES:
        pattern = re.compile(r"(<!-- cairn config docs %s -->\n)(.*?)(<!-- end cairn config docs %s -->)"
                             % (table, table), re.S)
        match = pattern.search(text)
        if match is None:
            raise SystemExit("config_doc: %s has no marked '%s' table" % (DOC, table))
        fresh = subprocess.run([binary, "config", "docs", table], check=True,
                               capture_output=True, text=True).stdout
        if match.group(2) != fresh:
            stale.append(table)
        text = text[:match.start(2)] + fresh + text[match.end(2):]
    return text, stale


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the tables are stale")
    parser.add_argument("binary", help="the cairn binary")
    args = parser.parse_args()
    with open(DOC) as f:
        text = f.read()
    fresh, stale = render(text, args.binary)
    if args.check:
        if stale:
            print("config_doc: stale tables in docs/configuration.md: %s; run "
                  "tools/config_doc.py build/debug/cairn" % ", ".join(stale), file=sys.stderr)
            return 1
        return 0
    if fresh != text:
        with open(DOC, "w") as f:
            f.write(fresh)
    return 0


if __name__ == "__main__":
    sys.exit(main())
