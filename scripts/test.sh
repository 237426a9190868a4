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
# The evidence store's PostgreSQL tests use the server CI machines run on 127.0.0.1:5432 (trust auth);
# without this variable they are skipped with a visible reason.
export ISMAP_SCAN_TEST_POSTGRES_URL=${ISMAP_SCAN_TEST_POSTGRES_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/test}
# Exit code 5 (no tests collected) is a failure like any other non-zero code.
.venv/bin/python -m pytest -q "$@"
