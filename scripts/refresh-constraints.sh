#!/usr/bin/env bash
# Re-resolve every dependency at its newest release and pin the result in constraints.txt.
# Run it on purpose (never in CI), then run scripts/test.sh and commit both if green.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 -m venv "$tmp/venv"
"$tmp/venv/bin/python" -m pip install --quiet --upgrade pip
"$tmp/venv/bin/python" -m pip install --quiet -e ".[dev]"
{
  echo "# Versions last tested (pip freeze of the dev venv). Refresh on purpose: see scripts/refresh-constraints.sh"
  "$tmp/venv/bin/python" -m pip freeze --exclude-editable | grep -vi '^ismap'
} > constraints.txt
echo "constraints.txt refreshed: $(grep -vc '^#' constraints.txt) pins"
