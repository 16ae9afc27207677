#!/usr/bin/env bash
# Installs istlab's Debian packages when any is missing; silent when all are present.
# Usage: scripts/setup.sh [--with-plots]
set -euo pipefail

packages=(
  build-essential cmake pkg-config git
  libeigen3-dev libtbb-dev libyaml-cpp-dev libfmt-dev
  libbenchmark-dev libgtest-dev librandom123-dev libspectra-dev
  libcli11-dev nlohmann-json3-dev
  libopenmpi-dev openmpi-bin
  slurm-wlm munge
  python3-matplotlib python3-pandas python3-numpy
  libopenblas0-pthread python3-scipy time
  clang-format
  zlib1g-dev dataset-fashion-mnist liblinear-tools
)

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "setup: installing ${missing[*]}" >&2
sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
