#!/usr/bin/env bash
# System tools the test suite drives for real, from Debian's packages (no downloads of their own):
#   chromium  headless browser: reports and the rater form are opened in it (tests/report, tests/raters)
#   scram     Open-PSA MEF reference engine: MEF schema and cross-checks of the exact engine
# Needs root (CI runs as root) or passwordless sudo; a machine that already has both skips apt.
set -euo pipefail
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v scram >/dev/null 2>&1 || missing+=(scram)
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q >/dev/null
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
