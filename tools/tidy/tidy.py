#!/usr/bin/env python3
"""tidy: the style and layering checks `make test` runs.

Fails on: a source file over 1,500 lines, a line over 100 columns, an #include that goes up the
layers of docs/ARCHITECTURE.md. Reports (without failing): files over 800 lines and functions
over 70 lines. Generated code (src/protocol/generated) is exempt from the length rules.
"""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FILE_LINES_MAX = 1500
FILE_LINES_REPORT = 800
LINE_COLUMNS_MAX = 100
FUNCTION_LINES_REPORT = 70

# Which src/ libraries each library may include. A library may always include itself.
LAYERS = {
    "base": set(),
    "model": {"base"},
    "protocol": {"base", "model"},
    "storage": {"base", "model"},
    "net": {"base", "model"},
    "testing": {"base", "model", "storage"},
    "broker": {"base", "model", "protocol", "storage", "net"},
    "client": {"base", "model", "protocol"},
    "main": {"base", "model", "protocol", "storage", "net", "broker", "client"},
}
SOURCE_DIRS = ["src", "tools", "bench", "tests", "connectors", "streams"]
EXTENSIONS = (".h", ".cc", ".cpp", ".hpp")
INCLUDE = re.compile(r'^\s*#\s*include\s*"([^"/]+)/')
FUNCTION_START = re.compile(r"^[A-Za-z].*\)\s*(const\s*)?(override\s*)?(noexcept\s*)?\{\s*$")


def source_files():
    for top in SOURCE_DIRS:
        for dirpath, dirnames, filenames in os.walk(os.path.join(ROOT, top)):
            dirnames[:] = [d for d in dirnames if d not in ("node_modules", "__pycache__")]
            for name in filenames:
                if name.endswith(EXTENSIONS):
                    yield os.path.join(dirpath, name)


def library_of(rel):
    parts = rel.split(os.sep)
    if parts[0] == "src" and len(parts) > 2:
        return parts[1]
    return None


def long_functions(lines):
    """Top-level function bodies (opening line at column 0) longer than the report limit."""
    found = []
    start = None
    for number, line in enumerate(lines, 1):
        if start is None and FUNCTION_START.match(line):
            start = number
        elif start is not None and line.startswith("}"):
            length = number - start + 1
            if length > FUNCTION_LINES_REPORT:
                found.append((start, length))
            start = None
    return found


def main():
    failures = []
    reports = []
    for path in sorted(source_files()):
        rel = os.path.relpath(path, ROOT)
        with open(path, encoding="utf-8", errors="replace") as f:
            lines = f.read().split("\n")
        generated = "generated" in rel.split(os.sep)
        library = library_of(rel)
        for number, line in enumerate(lines, 1):
            if not generated and len(line) > LINE_COLUMNS_MAX:
                failures.append(f"{rel}:{number}: line is {len(line)} columns (max 100)")
            m = INCLUDE.match(line)
            if m and library in LAYERS:
                target = m.group(1)
                # Tests beside the code may also use the test doubles in src/testing.
                is_test = rel.endswith(("_test.cc", "_fuzz.cc")) and target == "testing"
                if (target in LAYERS and target != library and target not in LAYERS[library]
                        and not is_test):
                    failures.append(f"{rel}:{number}: {library} may not include {target}/ "
                                    "(upward or sideways in the layers)")
        if generated:
            continue
        if len(lines) > FILE_LINES_MAX:
            failures.append(f"{rel}: {len(lines)} lines (max {FILE_LINES_MAX})")
        elif len(lines) > FILE_LINES_REPORT:
            reports.append(f"{rel}: {len(lines)} lines (aim for <= {FILE_LINES_REPORT})")
        for start, length in long_functions(lines):
            reports.append(f"{rel}:{start}: function is {length} lines "
                           f"(aim for <= {FUNCTION_LINES_REPORT})")
    for r in reports:
        print("tidy: note:", r)
    for f in failures:
        print("tidy: FAIL:", f)
    if failures:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
