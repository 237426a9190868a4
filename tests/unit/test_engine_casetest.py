"""The case-file harness: defaults, exact-set comparison, readable diffs, and malformed case files."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from ismap_scan.engine import CheckSet, load_case_file, load_checks, run_case_file
from ismap_scan.errors import InputError, InputErrors
from ismap_scan.model import Verdict

CHECK = """\
- id: aws.s3.bucket_young
  resource: aws.s3.bucket
  severity: low
  title: {en: Young bucket, ja: 新しいバケット}
  applies: "data.Name != 'skip'"
  needs: [data.CreationDate]
  assert: "days_since(data.CreationDate) <= `30` && resource.account == '111122223333'"
  remediation: {en: R, ja: R}
"""


@pytest.fixture
def checks(tmp_path: Path) -> CheckSet:
    (tmp_path / "checks" / "aws").mkdir(parents=True)
    (tmp_path / "checks" / "aws" / "s3.yaml").write_text(CHECK, encoding="utf-8")
    return load_checks([tmp_path / "checks"], include_python=False)


def case(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "case.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


GOOD_CASE = """\
check: aws.s3.bucket_young
records:
  - {type: aws.s3.bucket, id: "arn:aws:s3:::young", data: {Name: young, CreationDate: 2026-11-20T00:00:00Z}}
  - {type: aws.s3.bucket, id: "arn:aws:s3:::old", data: {Name: old, CreationDate: "2026-01-01T00:00:00Z"}}
  - {type: aws.s3.bucket, id: "arn:aws:s3:::skip", data: {Name: skip}}
  - type: aws.s3.bucket
    id: "arn:aws:s3:::unknown"
    data: {Name: unknown}
    errors: [{field: CreationDate, call: "s3:ListBuckets", code: AccessDenied}]
  - type: aws.account
    id: "arn:aws:iam::111122223333:root"
    errors: [{field: "*", call: "s3:ListBuckets", code: Throttling, resource_type: aws.s3.bucket}]
expected:
  PASS: ["arn:aws:s3:::young"]
  FAIL: ["arn:aws:s3:::old"]
  NOT_APPLICABLE: ["arn:aws:s3:::skip"]
  ERROR: ["arn:aws:s3:::unknown", "arn:aws:iam::111122223333:root"]
"""


def test_passing_case_with_defaults_scope_records_and_errors(tmp_path: Path, checks: CheckSet) -> None:
    outcome = run_case_file(case(tmp_path, GOOD_CASE), checks)
    assert outcome.ok, outcome.diff()
    assert outcome.diff() == ""
    assert outcome.verdicts() == set(Verdict)


def test_defaults_are_filled(tmp_path: Path) -> None:
    spec = load_case_file(case(tmp_path, GOOD_CASE))
    young, *_rest, acct = spec.records
    assert (young.provider, young.account, young.region, young.name, young.collected_at) == (
        "aws",
        "111122223333",
        "ap-northeast-1",
        "arn:aws:s3:::young",
        "2026-11-30T00:00:00Z",
    )
    assert (
        young.data["CreationDate"] == "2026-11-20T00:00:00Z"
    )  # YAML timestamp back to the snapshot's string
    assert type(young.data) is dict  # plain containers: JMESPath type checks reject subclasses
    assert (acct.region, acct.data, acct.errors[0].resource_type) == ("global", {}, "aws.s3.bucket")


def test_mismatch_gives_readable_diff(tmp_path: Path, checks: CheckSet) -> None:
    text = GOOD_CASE.replace(
        'PASS: ["arn:aws:s3:::young"]', 'PASS: ["arn:aws:s3:::old", "arn:aws:s3:::ghost"]'
    )
    text = text.replace('FAIL: ["arn:aws:s3:::old"]', 'FAIL: ["arn:aws:s3:::young"]')
    path = case(tmp_path, text)
    outcome = run_case_file(path, checks)
    assert not outcome.ok
    # The engine's message names what the assert tests (params bound as JSON literals).
    shown = "days_since(data.CreationDate) <= `30` && resource.account == '111122223333'"
    assert outcome.diff().splitlines() == [
        f"{path}: check aws.s3.bucket_young: verdicts differ from expected",
        "  arn:aws:s3:::ghost: expected PASS, got (no result: wrong type, or record missing)",
        f"  arn:aws:s3:::old: expected PASS, got FAIL — not met: `{shown}`",
        f"  arn:aws:s3:::young: expected FAIL, got PASS — met: `{shown}`",
    ]


def test_unexpected_result_is_reported(tmp_path: Path, checks: CheckSet) -> None:
    text = GOOD_CASE.replace('  NOT_APPLICABLE: ["arn:aws:s3:::skip"]\n', "")
    outcome = run_case_file(case(tmp_path, text), checks)
    assert (
        "  arn:aws:s3:::skip: expected (not expected), got NOT_APPLICABLE — "
        "not applicable: `data.Name != 'skip'` is false" in outcome.diff()
    )


def test_unknown_check_and_malformed_case(tmp_path: Path, checks: CheckSet) -> None:
    path = case(tmp_path, GOOD_CASE.replace("check: aws.s3.bucket_young", "check: aws.s3.bucket_old"))
    with pytest.raises(
        InputError, match=r"case.yaml:1: check aws.s3.bucket_old: unknown check ID in case file"
    ):
        run_case_file(path, checks)
    bad = case(
        tmp_path,
        """\
        check: aws.s3.bucket_young
        records:
          - {type: aws.s3.bucket, idd: x}
        expected:
          PASSED: [x]
        """,
    )
    with pytest.raises(InputErrors) as info:
        load_case_file(bad)
    messages = [str(e) for e in info.value.errors]
    assert f"{bad}:3: check aws.s3.bucket_young: records[0].id: Field required" in messages
    assert f"{bad}:3: check aws.s3.bucket_young: records[0].idd: unknown key" in messages
    assert any(m.startswith(f"{bad}:5: check aws.s3.bucket_young: expected.PASSED") for m in messages)


def test_same_id_under_two_verdicts_is_refused(tmp_path: Path) -> None:
    text = GOOD_CASE.replace('FAIL: ["arn:aws:s3:::old"]', 'FAIL: ["arn:aws:s3:::old", "arn:aws:s3:::young"]')
    with pytest.raises(InputErrors, match="arn:aws:s3:::young listed under PASS and FAIL"):
        load_case_file(case(tmp_path, text))
