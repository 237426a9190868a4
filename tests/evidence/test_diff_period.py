"""``diff`` and ``report --period`` over stored scans."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from ismap_scan.cli import cli
from ismap_scan.evidence.store import open_store


def test_diff_shows_exactly_the_change(tmp_path: Path, scan_factory: Any, store_kwargs: Any) -> None:
    url = f"sqlite:///{tmp_path / 'ev.sqlite3'}"
    base = scan_factory({"keep": True, "flip": True, "gone": False}, started_at="2026-11-01T00:00:00Z")
    head = scan_factory({"keep": True, "flip": False, "new": True}, started_at="2026-11-02T00:00:00Z")
    with open_store(url) as store:
        store.store_scan(base, **store_kwargs)
        store.store_scan(head, **store_kwargs)
    res = CliRunner().invoke(cli, ["diff", "--store", url, "--format", "json"], obj={})
    assert res.exit_code == 0, res.output
    d = json.loads(res.output)
    versioning = "aws.s3.bucket_versioning_enabled"
    head_fails = {
        (r["check_id"], r["resource_id"])
        for r in map(json.loads, (head / "results.jsonl").read_text().splitlines())
        if r["verdict"] == "FAIL"
    }
    # New failures: versioning turned off on "flip", plus whatever fails on the new bucket; nothing else.
    expected_new = {(versioning, "arn:aws:s3:::flip")} | {f for f in head_fails if f[1] == "arn:aws:s3:::new"}
    assert {(e["check_id"], e["resource_id"]) for e in d["new_failures"]} == expected_new
    assert {e["resource_id"] for e in d["fixed"]} == {"arn:aws:s3:::gone"}
    assert {e["reason"] for e in d["fixed"]} == {"resource removed"}
    assert {(e["check_id"], e["resource_id"]) for e in d["still_failing"]} == head_fails - expected_new
    assert [r["resource_id"] for r in d["new_resources"]] == ["arn:aws:s3:::new"]
    assert [r["resource_id"] for r in d["removed_resources"]] == ["arn:aws:s3:::gone"]
    assert d["still_failing"] and all(
        e["failing_since"] == "2026-11-01T00:00:00Z" for e in d["still_failing"]
    )
    # Same diff from the two scan folders, without the store; --exit-code reports the new failure.
    res2 = CliRunner().invoke(cli, ["diff", str(base), str(head), "--format", "md", "--exit-code"], obj={})
    assert res2.exit_code == 3 and "### New failures" in res2.output and "arn:aws:s3:::flip" in res2.output


def test_period_report_gaps_and_failure_times(tmp_path: Path, scan_factory: Any, store_kwargs: Any) -> None:
    url = f"sqlite:///{tmp_path / 'ev.sqlite3'}"
    days = [("2026-04-01T01:00:00Z", True), ("2026-04-02T01:00:00Z", False), ("2026-04-05T01:00:00Z", True)]
    with open_store(url) as store:
        for at, ok in days:
            store.store_scan(scan_factory({"b": ok}, started_at=at), **store_kwargs)
    res = CliRunner().invoke(
        cli, ["report", "--period", "2026-04-01..2026-04-06", "--store", url, "--format", "json"], obj={}
    )
    assert res.exit_code == 0, res.output
    rep = json.loads(res.output)
    assert rep["timezone"] == "Asia/Tokyo" and rep["days_with_scans"] == 3
    assert [(g["from"], g["to"]) for g in rep["gaps"]] == [
        ("2026-04-03", "2026-04-04"),
        ("2026-04-06", "2026-04-06"),
    ]
    fail = [f for f in rep["failures"] if f["check_id"] == "aws.s3.bucket_versioning_enabled"]
    assert len(fail) == 1
    assert (
        fail[0]["opened_local"] == "2026-04-02 10:00 JST"
        and fail[0]["closed_local"] == "2026-04-05 10:00 JST"
    )
    assert fail[0]["open_hours"] == 72.0
    md = CliRunner().invoke(cli, ["report", "--period", "2026-04-01..2026-04-06", "--store", url], obj={})
    assert "2026-04-03 .. 2026-04-04 (2 days without a scan)" in md.output
