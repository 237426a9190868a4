"""Custom checks: ``--checks-dir`` beside the bundled checks, and ``ismap-scan checks test`` on case files
(including the ``input`` alias of ``records``), using the shipped example team folder."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from ismap_scan.cli import cli
from ismap_scan.engine.casetest import load_case_file
from ismap_scan.errors import InputError
from ismap_scan.model import Resource
from ismap_scan.snapshot import write_snapshot

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "custom-checks"
CUSTOM_ID = "aws.s3.acme_bucket_data_classification_tag"
CASE = EXAMPLE / "cases" / "aws" / "s3" / "acme_bucket_data_classification_tag.yaml"


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--debug", *args], obj={}, env={"COLUMNS": "200"})
    return result.exit_code, result.output


def test_example_team_folder_passes() -> None:
    code, out = _run("checks", "test", str(EXAMPLE))
    assert code == 0, out
    assert CUSTOM_ID in out and "1 passed, 0 failed" in out


def test_case_file_accepts_input_as_records(tmp_path: Path) -> None:
    spec = load_case_file(CASE)  # the example uses `input:`
    assert len(spec.records) == 5 and spec.check == CUSTOM_ID
    both = tmp_path / "both.yaml"
    both.write_text(CASE.read_text(encoding="utf-8") + "records: []\n", encoding="utf-8")
    with pytest.raises(InputError, match="not both"):
        load_case_file(both)


def test_failing_case_shows_a_diff_and_exits_1(tmp_path: Path) -> None:
    wrong = tmp_path / "wrong.yaml"
    text = CASE.read_text(encoding="utf-8")
    text = text.replace(
        'PASS: ["arn:aws:s3:::acme-reports"]',
        'PASS: ["arn:aws:s3:::acme-reports", "arn:aws:s3:::acme-untagged"]',
    )
    text = text.replace(', "arn:aws:s3:::acme-untagged"]\n  ERROR', "]\n  ERROR")
    wrong.write_text(text, encoding="utf-8")
    code, out = _run("checks", "test", str(wrong), "--checks-dir", str(EXAMPLE / "checks"))
    assert code == 1, out
    assert "arn:aws:s3:::acme-untagged: expected PASS, got FAIL" in out
    assert "0 passed, 1 failed" in out


def test_invalid_case_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("check: aws.s3.nope\ninput: []\nexpected: {}\n", encoding="utf-8")
    code, out = _run("checks", "test", str(bad))
    assert code == 2, out
    assert "unknown check ID" in out


def test_checks_dir_on_list_show_and_evaluate(tmp_path: Path) -> None:
    code, out = _run("checks", "list", "--format", "json", "--checks-dir", str(EXAMPLE / "checks"))
    assert code == 0, out
    assert CUSTOM_ID in {row["id"] for row in json.loads(out)}
    code, out = _run("checks", "show", CUSTOM_ID, "--checks-dir", str(EXAMPLE / "checks"))
    assert code == 0 and "DataClassification" in out

    snapshot = tmp_path / "snap" / "snapshot.jsonl.gz"
    snapshot.parent.mkdir()
    bucket = Resource(
        "aws",
        "111122223333",
        "ap-northeast-1",
        "aws.s3.bucket",
        "arn:aws:s3:::acme-x",
        "acme-x",
        "2026-11-30T00:00:00Z",
        data={"Tags": [{"Key": "DataClassification", "Value": "internal"}]},
    )
    write_snapshot(snapshot, [bucket])
    out_dir = tmp_path / "out"
    code, out = _run(
        "evaluate",
        str(snapshot),
        "--checks-dir",
        str(EXAMPLE / "checks"),
        "--checks",
        CUSTOM_ID,
        "--output-dir",
        str(out_dir),
        "--format",
        "jsonl",
    )
    assert code == 0, out
    (results,) = out_dir.glob("*/results.jsonl")
    lines = [json.loads(x) for x in results.read_text(encoding="utf-8").splitlines()]
    assert [(x["check_id"], x["verdict"]) for x in lines] == [(CUSTOM_ID, "PASS")]


def test_custom_check_reusing_a_bundled_id_is_refused(tmp_path: Path) -> None:
    team = tmp_path / "team"
    shutil.copytree(EXAMPLE / "checks", team)
    path = team / "aws" / "s3.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace(CUSTOM_ID, "aws.s3.bucket_versioning_enabled"))
    result = CliRunner().invoke(cli, ["checks", "list", "--checks-dir", str(team)], obj={})
    assert result.exit_code == 2
    assert "aws.s3.bucket_versioning_enabled: duplicate check ID (first defined at" in result.output
    assert str(path) in result.output
