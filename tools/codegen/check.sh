#!/usr/bin/env bash
# tools/codegen/check.sh: fails when committed generated files are stale.
#  1. If Kafka's message specs are present (../shared/kafka-message-specs, beside the repo),
#     regenerate the codecs into a temp dir and diff against src/protocol/generated. Without
#     the specs (a fresh clone elsewhere) this step is skipped with a note: the committed code
#     is what builds.
#  2. Regenerate docs/protocol.md in memory and diff it against the committed one.
#  3. Run the generator's own unit tests.
set -euo pipefail
cd "$(dirname "$0")/../.."
PYTHON=/usr/bin/python3
[ -x "$PYTHON" ] || PYTHON=python3
specs=../shared/kafka-message-specs
status=0

if [ -d "$specs" ]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  "$PYTHON" tools/codegen/codegen.py --specs "$specs" --out "$tmp"
  if ! diff -r -u src/protocol/generated "$tmp"; then
    echo "codegen check: src/protocol/generated differs from a fresh run of" \
      "tools/codegen/codegen.py (hand edit, or forgot to regenerate?)" >&2
    status=1
  fi
else
  echo "codegen check: $specs not found; skipping the regeneration diff"
fi

if ! "$PYTHON" tools/codegen/protocol_doc.py --check; then
  status=1
fi

if ! out=$(PYTHONDONTWRITEBYTECODE=1 "$PYTHON" -m unittest discover -s tools/codegen \
  -p '*_test.py' 2>&1); then
  echo "$out" >&2
  echo "codegen check: tools/codegen unit tests failed" >&2
  status=1
fi

exit $status
