#!/usr/bin/env bash
# Reproduce the paper's figures: install what is missing, build istlab, run each figure's
# sweep (finished cells are kept, so a rerun resumes), draw every figure, then check every
# claim numerically.
#
#   scripts/reproduce.sh [--quick] [--out DIR] [--bin ISTLAB] [--threads N] [NAME ...]
#
# NAME is an experiment in experiments/ with a plot script in plots/ (default: quickstart
# and every fig*). Full runs write results/<NAME>/ and plots/<NAME>.png + .pdf. --quick
# runs each config's quick: variant (if it has one) into results/quick/ and draws into
# results/quick/plots/, leaving the committed figures alone. --bin uses an existing binary and skips set-up and
# build (the tests do this).
set -euo pipefail
cd "$(dirname "$0")/.."

quick=0 out="" bin="" threads=""
names=()
while (($#)); do
  case "$1" in
    --quick) quick=1 ;;
    --out) out="$2"; shift ;;
    --bin) bin="$2"; shift ;;
    --threads) threads="$2"; shift ;;
    -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "reproduce.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
    *) names+=("$1") ;;
  esac
  shift
done
if ((${#names[@]} == 0)); then
  names=(quickstart)
  for config in experiments/fig*.yaml; do names+=("$(basename "$config" .yaml)"); done
fi
for name in "${names[@]}"; do
  [[ -f experiments/$name.yaml && -f plots/$name.py ]] ||
    { echo "reproduce.sh: no experiments/$name.yaml with plots/$name.py" >&2; exit 2; }
done

if [[ -z "$bin" ]]; then
  scripts/setup.sh
  cmake --preset release >/dev/null
  cmake --build --preset release -j "$(nproc)" --target istlab_cli
  bin=build/release/bin/istlab
fi
sweep_flags=()
if ((quick)); then
  out=${out:-results/quick}
  figures=$out/plots
else
  out=${out:-results}
  figures=plots
fi
[[ -n "$threads" ]] && sweep_flags+=(--threads "$threads")

start=$SECONDS
count=${#names[@]}
for i in "${!names[@]}"; do
  name=${names[$i]}
  echo "[$((i + 1))/$count] $name: sweep experiments/$name.yaml" >&2
  # A config without a quick: section is small already and runs as it is.
  variant=()
  ((quick)) && grep -q '^quick:' "experiments/$name.yaml" && variant=(--quick)
  "$bin" sweep "experiments/$name.yaml" --out "$out" "${variant[@]}" "${sweep_flags[@]}"
done
# Every figure in one Python (scripts/draw_figures.py runs each plots/<NAME>.py as its own
# command line would): pandas and matplotlib load once, not once per figure.
echo "drawing ${#names[@]} figures into $figures/ ($((SECONDS - start)) s so far)" >&2
/usr/bin/python3 scripts/draw_figures.py --results "$out" --figures "$figures" "${names[@]}"

claims=()
for name in "${names[@]}"; do [[ $name == fig* ]] && claims+=("$name"); done
if ((${#claims[@]})); then
  echo "checking the claims of ${#claims[@]} figures (tests/claims/check_claims.py)" >&2
  /usr/bin/python3 tests/claims/check_claims.py --results "$out" "${claims[@]}"
fi
echo "done in $((SECONDS - start)) s: results in $out/, figures in $figures/" >&2
