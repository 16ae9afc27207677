#!/usr/bin/env bash
# Installs istlab's Debian packages when any is missing, and makes `import istlab` (python/)
# work in Debian's /usr/bin/python3; silent when all is in place.
# Usage: scripts/setup.sh
set -euo pipefail

packages=(
  build-essential cmake pkg-config git
  libeigen3-dev libtbb-dev libyaml-cpp-dev libfmt-dev
  libbenchmark-dev libgtest-dev librandom123-dev libspectra-dev
  libcli11-dev nlohmann-json3-dev
  libopenmpi-dev openmpi-bin
  slurm-wlm munge
  python3-matplotlib python3-pandas python3-numpy
  python3-plotly chromium python3-nbclient python3-ipykernel
  libopenblas0-pthread python3-scipy time
  clang-format
  zlib1g-dev dataset-fashion-mnist liblinear-tools
)

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$package")
done
sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# `import istlab` from anywhere (a notebook, a script): a .pth file in Debian's Python naming
# this checkout's python/ folder. One that names another checkout still holding the package
# is kept (the tests and `istlab plot`/`report` put their own checkout first on the path).
package=$(cd "$(dirname "$0")/.." && pwd)/python
site=$(/usr/bin/python3 -c 'import site; print(site.getsitepackages()[0])')
pth=$site/istlab.pth
if ! { [ -f "$pth" ] && [ -f "$(head -n 1 "$pth")/istlab/__init__.py" ]; }; then
  echo "setup: $pth -> $package (import istlab in /usr/bin/python3)" >&2
  "${sudo_cmd[@]}" mkdir -p "$site"
  echo "$package" | "${sudo_cmd[@]}" tee "$pth" >/dev/null
fi
