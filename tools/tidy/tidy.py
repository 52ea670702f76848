#!/usr/bin/env python3
"""tidy: the style and layering checks `make test` runs.

Fails on: a source file over 1,500 lines, a line over 100 columns, an #include that goes up the
layers of docs/ARCHITECTURE.md (between the libraries of src/, and between the parts of
src/broker), an integer cast to a Kafka ErrorCode. Also fails on files over 800 lines and functions over 70 lines (the signature
may span lines), unless tools/tidy/ratchet.txt allows that one finding at its current size:
the ratchet only goes down, so a listed finding that grows, shrinks or goes away fails until
its line is updated or removed. Generated code (src/protocol/generated) is exempt from the
length rules. tidy_test.py checks the checks.
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
    "metrics": {"base"},
    "http": {"base"},
    "model": {"base"},
    "protocol": {"base", "model"},
    "storage": {"base", "model", "metrics"},
    "net": {"base", "model", "metrics"},
    "testing": {"base", "model", "storage"},
    "broker": {"base", "model", "protocol", "storage", "net", "metrics"},
    "client": {"base", "model", "protocol"},
    "main": {"base", "model", "protocol", "storage", "net", "broker", "client", "metrics", "http"},
}
# Inside src/broker, the same rule between its parts, lowest first: a part may include itself
# and the parts ranked below it. The files directly in src/broker belong to `core` (shared by
# everything), `state` (what a request handler sees) or `session` (the server and the
# connection that dispatch to the handlers), by name.
BROKER_RANKS = {
    "core": 0, "topics": 1, "producers": 1, "security": 1, "quotas": 1, "partitions": 2,
    "state": 3, "configs": 4, "groups": 5, "txn": 6, "handlers": 7, "admin": 8, "session": 8,
}
BROKER_TOP_FILES = {
    "core": ("error_code", "meta_file", "meta_writer", "config", "shard_map", "cluster_id",
             "data_dir_lock", "broker_metrics", "startup_progress", "lag_tiers"),
    "state": ("broker_state", "request_context"),
    "session": ("kafka_session", "kafka_session_sasl", "server", "metrics_collector",
                "audit_topic"),
}
RATCHET = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ratchet.txt")
SOURCE_DIRS = ["src", "tools", "bench", "tests", "connectors", "streams"]
EXTENSIONS = (".h", ".cc", ".cpp", ".hpp")
INCLUDE = re.compile(r'^\s*#\s*include\s*"([^"/]+)/([^"]*)"')
ERROR_CODE_CAST = re.compile(r"static_cast<(broker::)?ErrorCode>")


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


NOT_FUNCTIONS = ("namespace", "class", "struct", "enum", "union", "extern", "#")


def broker_part(path_in_broker):
    """The part of src/broker a file belongs to ("handlers/fetch.cc" -> "handlers"), or None
    for a file directly in src/broker that BROKER_TOP_FILES does not place."""
    parts = path_in_broker.split("/")
    if len(parts) > 1:
        return parts[0] if parts[0] in BROKER_RANKS else None
    stem = re.sub(r"(_test|_fuzz)?\.(h|cc)$", "", parts[0])
    for part, stems in BROKER_TOP_FILES.items():
        if stem in stems:
            return part
    return None


def broker_include_problem(rel, included):
    """Why src/broker file `rel` may not include "broker/`included`", or None."""
    source = broker_part(os.path.relpath(rel, os.path.join("src", "broker")))
    target = broker_part(included)
    if source is None:
        return f"{rel} is in no part of src/broker (add it to BROKER_TOP_FILES in tidy.py)"
    if target is None:
        return f"broker/{included} is in no part of src/broker (add it to BROKER_TOP_FILES)"
    if source != target and BROKER_RANKS[target] >= BROKER_RANKS[source]:
        return (f"broker part '{source}' may not include broker/{included} "
                f"(part '{target}': upward or sideways)")
    return None


def long_functions(lines):
    """(first line, length, name) of top-level function definitions longer than the limit.

    A definition starts on a line at column 0 and may run over several lines before its `{`;
    its body ends at the next `}` at column 0. The length counts from the first line of the
    signature to the closing brace.
    """
    found = []
    signature = None  # first line of a declaration being read
    body = None       # (first line, name) while inside a body
    for number, line in enumerate(lines, 1):
        code = line.split("//")[0].rstrip()
        if body is not None:
            if line.startswith("}"):
                length = number - body[0] + 1
                if length > FUNCTION_LINES_REPORT:
                    found.append((body[0], length, body[1]))
                body = None
            continue
        if not code or code.startswith(("}", "#")) or code.endswith(";"):
            signature = None
            continue
        if signature is None and re.match(r"[A-Za-z_~]", code):
            signature = number
        if signature is not None and code.endswith("{"):
            text = " ".join(l.split("//")[0].strip() for l in lines[signature - 1:number])
            head = text.split("(")[0]
            if ("(" in text and not head.startswith(NOT_FUNCTIONS) and "=" not in head
                    and not text.rstrip("{ ").endswith("=")):
                name = head.split()[-1] if head.split() else "?"
                body = (signature, name)
            signature = None
    return found


def read_ratchet(path=RATCHET):
    """{key: limit or None}: the findings allowed for now. A line is `KEY [LIMIT]  # why`,
    KEY being `PATH function NAME`, `PATH lines` or `PATH include broker/FILE`."""
    allowed = {}
    if not os.path.exists(path):
        return allowed
    with open(path) as f:
        for number, line in enumerate(f, 1):
            text = line.split("#")[0].split()
            if not text:
                continue
            if "#" not in line:
                raise SystemExit(f"tidy: {path}:{number}: say why after a '#'")
            limit = int(text.pop()) if text[-1].isdigit() else None
            allowed[" ".join(text)] = limit
    return allowed


def check_ratchet(findings, allowed):
    """Failures for findings the ratchet does not allow, for findings that grew past their
    limit, and for ratchet lines that are stale (the finding shrank or is gone)."""
    failures = []
    seen = set()
    for key, value, message in findings:
        if key not in allowed:
            failures.append(message)
            continue
        seen.add(key)
        limit = allowed[key]
        if limit is not None and value > limit:
            failures.append(f"{message}; it grew past its ratchet limit {limit}")
        elif limit is not None and value < limit:
            failures.append(f"{message}: lower its line in tools/tidy/ratchet.txt to {value}")
    for key in sorted(set(allowed) - seen):
        failures.append(f"tools/tidy/ratchet.txt: '{key}' no longer applies; remove the line")
    return failures


def check_file(rel, lines, failures, findings):
    generated = "generated" in rel.split(os.sep)
    library = library_of(rel)
    for number, line in enumerate(lines, 1):
        if not generated and len(line) > LINE_COLUMNS_MAX:
            failures.append(f"{rel}:{number}: line is {len(line)} columns (max 100)")
        if ERROR_CODE_CAST.search(line):
            failures.append(f"{rel}:{number}: an integer cast to ErrorCode; name the code in "
                            "src/broker/error_code.h instead")
        m = INCLUDE.match(line)
        if m and library == "broker" and m.group(1) == "broker":
            problem = broker_include_problem(rel, m.group(2))
            if problem:
                findings.append((f"{rel} include broker/{m.group(2)}", 0, f"{rel}:{number}: {problem}"))
        if m and library in LAYERS:
            target = m.group(1)
            # Tests beside the code may also use the test doubles in src/testing.
            is_test = rel.endswith(("_test.cc", "_fuzz.cc")) and target == "testing"
            if (target in LAYERS and target != library and target not in LAYERS[library]
                    and not is_test):
                failures.append(f"{rel}:{number}: {library} may not include {target}/ "
                                "(upward or sideways in the layers)")
    if generated:
        return
    if len(lines) > FILE_LINES_MAX:
        failures.append(f"{rel}: {len(lines)} lines (max {FILE_LINES_MAX})")
    elif len(lines) > FILE_LINES_REPORT:
        findings.append((f"{rel} lines", len(lines),
                         f"{rel}: {len(lines)} lines (max {FILE_LINES_REPORT})"))
    for start, length, name in long_functions(lines):
        findings.append((f"{rel} function {name}", length,
                         f"{rel}:{start}: function {name} is {length} lines "
                         f"(max {FUNCTION_LINES_REPORT})"))


def main():
    failures = []
    findings = []  # (ratchet key, size, message): fail unless tools/tidy/ratchet.txt allows
    for path in sorted(source_files()):
        rel = os.path.relpath(path, ROOT)
        with open(path, encoding="utf-8", errors="replace") as f:
            check_file(rel, f.read().split("\n"), failures, findings)
    failures += check_ratchet(findings, read_ratchet())
    for f in failures:
        print("tidy: FAIL:", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
