"""The command line without a cloud: exit codes, offline evaluate/report, clear errors, lazy SDK imports."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from ismap_scan.cli import cli
from ismap_scan.model import Resource, Result, Severity, Verdict
from ismap_scan.scan import exit_code
from ismap_scan.snapshot import write_snapshot

ACCOUNT = "111122223333"


def _record(rtype: str, rid: str, region: str = "global", **data: object) -> Resource:
    return Resource(
        provider="aws",
        account=ACCOUNT,
        region=region,
        type=rtype,
        id=rid,
        name=rid.rsplit("/", 1)[-1],
        collected_at="2026-11-30T00:00:00Z",
        data=dict(data),
    )


@pytest.fixture
def snapshot(tmp_path: Path) -> Path:
    """A tiny hand-made snapshot: one account, one region, two buckets (one versioned)."""
    path = tmp_path / "snap" / "snapshot.jsonl.gz"
    path.parent.mkdir()
    write_snapshot(
        path,
        [
            _record("aws.account", f"arn:aws:iam::{ACCOUNT}:root", AccountId=ACCOUNT),
            _record("aws.region", f"arn:aws::ap-northeast-1:{ACCOUNT}:region", "ap-northeast-1"),
            _record(
                "aws.s3.bucket",
                "arn:aws:s3:::good",
                "ap-northeast-1",
                Name="good",
                Versioning={"Status": "Enabled"},
            ),
            _record("aws.s3.bucket", "arn:aws:s3:::bad", "ap-northeast-1", Name="bad", Versioning={}),
        ],
    )
    return path


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), obj={})
    return result.exit_code, result.output


def test_exit_code_policy() -> None:
    def res(verdict: Verdict, severity: Severity) -> Result:
        return Result("aws.s3.x", verdict, severity, "aws", ACCOUNT, "r", "t", "id", "n", "")

    fail_low, fail_high = res(Verdict.FAIL, Severity.LOW), res(Verdict.FAIL, Severity.HIGH)
    error = res(Verdict.ERROR, Severity.HIGH)
    assert exit_code([], "info") == 0
    assert exit_code([fail_low], "info") == 3
    assert exit_code([fail_low], "high") == 0
    assert exit_code([fail_low, error], "high") == 4  # incomplete, and no failure at or above high
    assert exit_code([fail_high, error], "high") == 3  # failures win over incompleteness
    assert exit_code([fail_high], "none") == 0


def test_evaluate_is_offline_and_reproducible(snapshot: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    code1, text = run(
        "evaluate", str(snapshot), "--checks", "aws.s3.bucket_versioning_enabled", "--output-dir", str(out)
    )
    assert code1 == 3, text  # the unversioned bucket fails
    code2, _text = run(
        "evaluate", str(snapshot), "--checks", "aws.s3.bucket_versioning_enabled", "--output-dir", str(out)
    )
    assert code2 == code1
    first, second = sorted(out.iterdir())
    assert (first / "results.jsonl").read_bytes() == (second / "results.jsonl").read_bytes()
    lines = [json.loads(x) for x in (first / "results.jsonl").read_text().splitlines()]
    assert {(r["resource_id"], r["verdict"]) for r in lines} == {
        ("arn:aws:s3:::good", "PASS"),
        ("arn:aws:s3:::bad", "FAIL"),
    }
    assert all(r["controls"] for r in lines)
    manifest = json.loads((first / "manifest.json").read_text())
    assert manifest["kind"] == "evaluate" and manifest["source_snapshot"]["records"] == 4


def test_evaluate_rejects_a_snapshot_that_does_not_match_its_manifest(snapshot: Path, tmp_path: Path) -> None:
    (snapshot.parent / "manifest.json").write_text(json.dumps({"snapshot": {"sha256": "0" * 64}}))
    code, text = run("evaluate", str(snapshot), "--output-dir", str(tmp_path / "out"))
    assert code == 2 and "does not match the SHA-256" in text


def test_report_never_overwrites_scan_files_silently(snapshot: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    run("evaluate", str(snapshot), "--output-dir", str(out), "--format", "jsonl,md")
    (folder,) = out.iterdir()
    results = folder / "results.jsonl"
    before = (folder / "summary.md").read_bytes()
    code, text = run("report", str(results), "--format", "md")
    assert code == 2 and "would overwrite" in text and "--force" in text
    assert (folder / "summary.md").read_bytes() == before
    code, text = run("report", str(results), "--format", "md,csv", "--lang", "ja", "-o", str(tmp_path / "r"))
    assert code == 0, text
    md = (tmp_path / "r" / "summary.md").read_text(encoding="utf-8")
    assert "ISMAP" in md and "収集漏れの報告はありません" in md  # the gaps come from the manifest beside it


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("scan",), "nothing to scan"),
        (("scan", "--provider", "nope"), "unknown provider 'nope'"),
        (("scan", "--demo", "--checks", "aws.nope.*"), "matches no check"),
        (("scan", "--demo", "--format", "pdf"), "unknown format 'pdf'"),
        (("checks", "show", "aws.nope.x"), "unknown check"),
        (("evaluate", "/nonexistent/snapshot.jsonl.gz"), "snapshot not found"),
        (("report", "/nonexistent/results.jsonl"), "results"),
    ],
)
def test_usage_errors_exit_2_without_traceback(args: tuple[str, ...], fragment: str) -> None:
    code, text = run(*args)
    assert code == 2, text
    assert fragment in text and "Traceback" not in text


def test_checks_list_json_names_controls() -> None:
    code, text = run("checks", "list", "--format", "json", "--provider", "aws")
    assert code == 0
    rows = json.loads(text)
    assert len(rows) >= 20 and all(r["controls"] and r["id"].startswith("aws.") for r in rows)


def _clean_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        HOME=str(tmp_path),
        AWS_EC2_METADATA_DISABLED="true",
        AWS_CONFIG_FILE=str(tmp_path / "none"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"),
        ISMAP_SCAN_DATA_DIR=str(tmp_path / "data"),
    )
    return env


def test_scan_without_credentials_is_a_clear_error(tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "ismap_scan",
            "scan",
            "--provider",
            "aws",
            "--region",
            "ap-northeast-1",
            "--output-dir",
            str(tmp_path / "out"),
        ],
        env=_clean_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "credentials" in proc.stderr.lower() and "Traceback" not in proc.stderr + proc.stdout


def test_help_does_not_import_cloud_sdks(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from ismap_scan.cli import cli\n"
        "try:\n    cli(['--help'], obj={})\nexcept SystemExit:\n    pass\n"
        "bad = [m for m in ('boto3', 'botocore', 'moto', 'requests') if m in sys.modules]\n"
        "print('IMPORTED', bad)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert "IMPORTED []" in proc.stdout, proc.stdout


def test_doctor_json_prints_only_json_lines_on_stdout(monkeypatch: pytest.MonkeyPatch) -> None:
    from ismap_scan.providers.aws.provider import AwsProvider
    from ismap_scan.providers.diagnostics import DoctorCheck, DoctorStatus

    def fake_doctor(self: Any, options: Any) -> list[DoctorCheck]:
        # The doctor's checks themselves are tested against moto in tests/integration/test_aws_org.py.
        return [
            DoctorCheck("credentials", "aws", DoctorStatus.OK, "fake"),
            DoctorCheck(
                "permission",
                "s3:ListAllMyBuckets",
                DoctorStatus.MISSING,
                "AccessDenied",
                permission="s3:ListAllMyBuckets",
            ),
        ]

    monkeypatch.setattr(AwsProvider, "doctor", fake_doctor)
    result = CliRunner().invoke(cli, ["doctor", "--provider", "aws", "--json"], obj={})
    lines = result.stdout.splitlines()
    assert [json.loads(line)["status"] for line in lines] == ["ok", "missing"]  # nothing else on stdout
    assert "ok 1, missing 1" in result.stderr and "Exit 3" in result.stderr
    assert "s3:ListAllMyBuckets" in result.stderr


def test_report_defaults_to_scans_formats_and_keeps_the_scan_times(snapshot: Path, tmp_path: Path) -> None:
    from ismap_scan.config import DEFAULT_FORMATS
    from ismap_scan.reports import FORMATS

    out = tmp_path / "out"
    run("evaluate", str(snapshot), "--output-dir", str(out), "--format", "jsonl")
    (folder,) = out.iterdir()
    code, text = run("report", str(folder / "results.jsonl"), "-o", str(tmp_path / "r"))
    assert code == 0, text
    expected = {FORMATS[f].filename for f in DEFAULT_FORMATS if f != "jsonl"}
    assert {p.name for p in (tmp_path / "r").iterdir()} == expected
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    md = (tmp_path / "r" / "summary.md").read_text(encoding="utf-8")
    assert "| 終了 | " in md and f"(`{manifest['finished_at']}`)" in md  # the scan's end, not render time
    assert f"(`{manifest['started_at']}`)" in md
    code, help_text = run("report", "--help")
    flat = " ".join(help_text.split())
    assert all(name in flat for name in FORMATS if name != "jsonl")


def test_controls_defaults_to_japanese_like_the_reports() -> None:
    code, text = run("controls", "--format", "csv")
    assert code == 0, text
    code_en, text_en = run("controls", "--format", "csv", "--lang", "en")
    assert code_en == 0 and text != text_en
    assert "アクセス制御" in text or any("\u3040" <= ch <= "\u30ff" for ch in text)
