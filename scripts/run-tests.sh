#!/usr/bin/env bash
# `make test`: every check and test Cairn has, in the order that fails fastest.
#  1. tools/tidy (line, function and file lengths with a ratchet, layering), after its own tests
#  2. the code generator re-run against ../shared/kafka-message-specs, if present: the committed
#     generated code must match
#  3. the debug build (ASan + UBSan) and every CTest test in it: unit tests, then interop
#     tests that start the real `cairn` binary and drive it with real clients
#  4. the release build (what `make run` and the package ship) and every CTest test in it again,
#     so an optimisation-only bug fails too; plus the release-only checks: the README's quick
#     start run as written through `make run`, and the Debian package (tests/release)
#  5. the fuzz build (clang + libFuzzer), each fuzzer for a short, bounded time
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS="${JOBS:-$(nproc)}"

echo "== tidy"
python3 tools/tidy/tidy_test.py
python3 tools/tidy/tidy.py

if [ -f tools/codegen/check.sh ]; then
  echo "== codegen check"
  tools/codegen/check.sh
fi

echo "== debug build (ASan + UBSan)"
cmake --preset debug >/dev/null
cmake --build --preset debug -j "$JOBS"

echo "== tests"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
ctest --test-dir build/debug --output-on-failure -j "$JOBS" --timeout 900

echo "== release build"
cmake --preset release >/dev/null
cmake --build --preset release -j "$JOBS"

echo "== release tests (unit, interop, README quick start, package)"
ctest --test-dir build/release --output-on-failure -j "$JOBS" --timeout 1800

echo "== fuzz build (clang + libFuzzer)"
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -j "$JOBS"
ctest --test-dir build/fuzz --output-on-failure -L fuzz -j "$JOBS"
echo "== all tests passed"
