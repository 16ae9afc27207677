#!/usr/bin/env bash
# Fails when a file generated from the parameter tables is stale: docs/config-reference.md
# must be exactly what `istlab keys --markdown` prints.
# Usage: generated_docs.sh ISTLAB REPOSITORY
set -euo pipefail
bin="$1" root="$2"
generated=$(mktemp)
trap 'rm -f "$generated"' EXIT
"$bin" keys --markdown >"$generated"
if ! diff -u "$root/docs/config-reference.md" "$generated"; then
  echo "FAIL docs/config-reference.md is stale: it differs from \`istlab keys --markdown\` (above)." >&2
  echo "     Regenerate it with scripts/generate_docs.sh and commit it." >&2
  exit 1
fi
echo "ok   docs/config-reference.md matches istlab keys --markdown"
