#!/usr/bin/env bash
# The test job from a fresh clone: install what is missing, build with warnings as
# errors, run every test through ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cmake --preset ci >/dev/null
cmake --build --preset ci -j "$(nproc)"
ctest --preset ci
