#!/usr/bin/env bash
# The project's one test command (the README's, and what .ci/run calls): installs everything the tests need
# into ./.venv from the pinned constraints, then runs ruff, mypy and pytest. Emulators (moto) are started by the
# tests themselves on 127.0.0.1; nothing reaches the internet.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -c constraints.txt --upgrade pip
.venv/bin/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[dev]"

echo "== ruff check";  .venv/bin/ruff check .
echo "== ruff format"; .venv/bin/ruff format --check .
echo "== mypy";        .venv/bin/mypy
echo "== pytest"
# Exit code 5 (no tests collected) is a failure like any other non-zero code.
.venv/bin/python -m pytest -q "$@"
