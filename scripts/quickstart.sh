#!/usr/bin/env bash
# A first look in seconds: install what is missing, build, run the quickstart sweep and
# draw plots/quickstart.png. scripts/reproduce.sh does the same for every figure.
exec "$(dirname "$0")/reproduce.sh" quickstart "$@"
