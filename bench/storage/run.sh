#!/usr/bin/env bash
# The storage engine's benchmark: builds bench/storage/storage_bench in the release preset,
# runs it (about 1-2 minutes, mostly the 10 GiB open test) on the repo's disk, and puts its
# "## Storage engine" section into docs/benchmarks.md (replacing the old one; the rest of the
# page is left alone). STORAGE_BENCH_SECONDS, STORAGE_BENCH_OPEN_GIB tune it.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=build/storage-release
cmake --preset release -B "$BUILD" >/dev/null
cmake --build "$BUILD" --target storage_bench -j "${JOBS:-2}"
mkdir -p build/bench-data
out=build/bench-data/storage-section.md
"$BUILD/bench/storage/storage_bench" --dir build/storage-bench-data \
  --seconds "${STORAGE_BENCH_SECONDS:-3}" --open-gib "${STORAGE_BENCH_OPEN_GIB:-10}" >"$out"
cat "$out"
/usr/bin/python3 - "$out" docs/benchmarks.md <<'PY'
import sys
section = open(sys.argv[1]).read().rstrip() + "\n"
path = sys.argv[2]
try:
    text = open(path).read()
except OSError:
    text = "# Benchmarks\n"
start = text.find("## Storage engine")
if start < 0:
    text = text.rstrip() + "\n\n" + section
else:
    end = text.find("\n## ", start + 1)
    text = text[:start] + section + (text[end:] if end >= 0 else "")
open(path, "w").write(text)
PY
