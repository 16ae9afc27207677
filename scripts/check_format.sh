#!/usr/bin/env bash
# Fails (listing the files) when any C++ file under src/, tests/ or bench/ differs from
# what Debian's clang-format makes of it with the repository's .clang-format.
# Usage: scripts/check_format.sh [--fix]
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files -co --exclude-standard 'src/*.cpp' 'src/*.hpp' 'tests/*.cpp' 'tests/*.hpp' \
                     'bench/*.cpp' 'bench/*.hpp')
if [[ "${1:-}" == "--fix" ]]; then
  clang-format -i "${files[@]}"
  exit 0
fi
# One clang-format process for every file (one per file cost 15 s of CPU); its warnings name
# the files that differ.
unformatted=()
if ! report=$(clang-format --dry-run --Werror "${files[@]}" 2>&1 >/dev/null); then
  mapfile -t unformatted < <(grep -oE '^[^:]+:[0-9]+:[0-9]+: (error|warning)' <<<"$report" |
                             cut -d: -f1 | sort -u)
  ((${#unformatted[@]})) || unformatted=("(clang-format failed: ${report:0:200})")
fi
if [[ ${#unformatted[@]} -gt 0 ]]; then
  echo "not clang-format clean (run scripts/check_format.sh --fix): ${unformatted[*]}" >&2
  exit 1
fi
echo "clang-format clean: ${#files[@]} files"
