#!/usr/bin/env bash
# The main job from a fresh clone: install what is missing, build, run the quickstart
# sweep, draw plots/quickstart.png.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target istlab_cli
build/release/bin/istlab sweep experiments/quickstart.yaml --out results
/usr/bin/python3 plots/quickstart.py --results results --out plots/quickstart.png
