"""Check case files, discovered (never listed): one test per ``tests/checks/**/*.yaml``, plus meta tests that
every loaded check (bundled YAML and Python entry points) has cases for each verdict it can give.

A case file lives at ``tests/checks/<provider>/<service>/<check_tail>.yaml``; more files for the same check
add ``__<variant>`` to the name (``multi_region_trail_logging__organization_trail.yaml``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ismap_scan.engine import CheckDef, CheckSet, PythonCheck, load_checks
from ismap_scan.engine.casetest import find_case_files, load_case_file, run_case
from ismap_scan.model import Verdict

CASES_ROOT = Path(__file__).parent / "checks"
CASE_FILES = find_case_files([CASES_ROOT])


@pytest.fixture(scope="module")
def bundled_checks() -> CheckSet:
    return load_checks()


@pytest.mark.parametrize(
    "case_path", CASE_FILES, ids=[p.relative_to(CASES_ROOT).as_posix() for p in CASE_FILES]
)
def test_case_file(case_path: Path, bundled_checks: CheckSet) -> None:
    spec = load_case_file(case_path)
    provider, service, tail = spec.check.split(".")
    rel = case_path.relative_to(CASES_ROOT)
    assert rel.parts[:2] == (provider, service), (
        f"{rel}: a case for {spec.check} belongs in {provider}/{service}/"
    )
    assert rel.stem == tail or rel.stem.startswith(tail + "__"), (
        f"{rel}: name the file {tail}.yaml or {tail}__<variant>.yaml"
    )
    outcome = run_case(spec, bundled_checks)
    assert outcome.ok, outcome.diff()


def _has_applies(check: CheckDef) -> bool:
    if check.kind == "python":
        return type(check.python).applies is not PythonCheck.applies
    return check.applies is not None


def test_every_check_has_cases_for_each_verdict(bundled_checks: CheckSet) -> None:
    covered: dict[str, set[Verdict]] = {}
    for path in CASE_FILES:
        spec = load_case_file(path)
        covered.setdefault(spec.check, set()).update(v for v, ids in spec.expected.items() if ids)
    missing: list[str] = []
    for check in bundled_checks:
        required = {Verdict.PASS, Verdict.FAIL}
        if _has_applies(check):
            required.add(Verdict.NOT_APPLICABLE)
        if check.needs:
            required.add(Verdict.ERROR)
        lacking = required - covered.get(check.id, set())
        if lacking:
            names = ", ".join(sorted(v.value for v in lacking))
            missing.append(f"{check.id} ({check.source}): no case expecting {names}")
    assert not missing, "checks lacking case coverage under tests/checks/:\n" + "\n".join(missing)
