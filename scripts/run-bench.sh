#!/usr/bin/env bash
# `make bench`: Cairn side by side with NATS JetStream and Redis Streams and with the machine's
# physical limits, in one run bounded to about 15 minutes (see bench/README.md).
#  1. the storage engine's own benchmarks (bench/storage/run.sh), when present
#  2. bench/run.py: physical references, then each system started on loopback and driven
#     through bench/workloads/*.yaml by the cairn-bench harness -> docs/bench/results.json
#  3. bench/acl_overhead.py: produce with 1,000 ACLs beside no authorizer (about 80 s),
#     added to the results JSON
#  4. bench/tls_overhead.py: catch-up reads over an SSL listener beside a PLAINTEXT one of the
#     same broker (about 60 s), added to the results JSON
#  5. bench/render.py: docs/benchmarks.md and the charts in docs/bench/
# BENCH_QUICK=1 makes a short development run that writes under build/bench-data/ instead of
# docs/; BENCH_SKIP_STORAGE=1 leaves out step 1. Extra arguments go to bench/run.py (e.g.
# --only nats,redis).
set -euo pipefail
cd "$(dirname "$0")/.."
# Debian's python3, where python3-matplotlib is installed (not a pyenv or venv interpreter).
PYTHON="${PYTHON:-/usr/bin/python3}"
BUDGET_SECONDS="${BENCH_BUDGET_SECONDS:-900}"
start=$(date +%s)

# The release build (`make bench` builds it first); BENCH_BUILD_DIR points elsewhere for
# development runs.
BUILD_DIR="${BENCH_BUILD_DIR:-build/release}"
scripts/install-deps.sh
if [ ! -x "$BUILD_DIR/bench/harness/cairn-bench" ]; then
  cmake --preset release -B "$BUILD_DIR" >/dev/null
  cmake --build "$BUILD_DIR" --target cairn-bench
fi

if [ -x bench/storage/run.sh ] && [ "${BENCH_SKIP_STORAGE:-0}" != "1" ]; then
  echo "== storage engine (bench/storage/run.sh)"
  timeout 300 bench/storage/run.sh || echo "bench: storage engine benchmarks failed; continuing"
fi

echo "== systems side by side (bench/run.py)"
# What is left of the budget, less a minute for stopping systems and rendering and
# ACL_SECONDS and TLS_SECONDS for steps 3 and 4.
ACL_SECONDS=90
TLS_SECONDS=75
left=$((BUDGET_SECONDS - ($(date +%s) - start) - 60 - ACL_SECONDS - TLS_SECONDS))
if [ "$left" -lt 300 ]; then left=300; fi
if [ "${BENCH_QUICK:-0}" = "1" ]; then
  "$PYTHON" bench/run.py --quick --budget-seconds "$left" --build-dir "$BUILD_DIR" \
    --out build/bench-data/quick-results.json "$@"
  echo "== authorization overhead (bench/acl_overhead.py)"
  "$PYTHON" bench/acl_overhead.py --quick --runs 2 --build-dir "$BUILD_DIR" \
    --merge build/bench-data/quick-results.json || echo "bench: acl overhead failed; continuing"
  echo "== TLS overhead (bench/tls_overhead.py)"
  "$PYTHON" bench/tls_overhead.py --quick --build-dir "$BUILD_DIR" \
    --merge build/bench-data/quick-results.json || echo "bench: tls overhead failed; continuing"
  "$PYTHON" bench/render.py build/bench-data/quick-results.json \
    --doc build/bench-data/benchmarks-quick.md
else
  "$PYTHON" bench/run.py --budget-seconds "$left" --build-dir "$BUILD_DIR" "$@"
  echo "== authorization overhead (bench/acl_overhead.py)"
  timeout 300 "$PYTHON" bench/acl_overhead.py --build-dir "$BUILD_DIR" \
    --merge docs/bench/results.json || echo "bench: acl overhead failed; continuing"
  echo "== TLS overhead (bench/tls_overhead.py)"
  timeout 300 "$PYTHON" bench/tls_overhead.py --build-dir "$BUILD_DIR" \
    --merge docs/bench/results.json || echo "bench: tls overhead failed; continuing"
  "$PYTHON" bench/render.py
fi
echo "== bench finished in $(( $(date +%s) - start )) s"
