#!/usr/bin/env bash
# Regenerates the files generated from the parameter tables: docs/config-reference.md, the
# output of `istlab keys --markdown`. The test config_reference_up_to_date fails when it is
# stale.
# Usage: scripts/generate_docs.sh [--bin ISTLAB]   (default: builds istlab in build/ci)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=""
if [[ "${1:-}" == "--bin" ]]; then
  bin="${2:?--bin needs the istlab executable}"
fi
if [[ -z "$bin" ]]; then
  cmake --preset ci >/dev/null
  cmake --build --preset ci -j "$(nproc)" --target istlab_cli
  bin=build/ci/bin/istlab
fi
mkdir -p docs
"$bin" keys --markdown >docs/config-reference.md.tmp
mv docs/config-reference.md.tmp docs/config-reference.md
echo "wrote docs/config-reference.md"
