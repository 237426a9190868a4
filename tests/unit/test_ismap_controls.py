"""``ismap-scan controls``: the catalog's objectives and detailed controls with flags, and coverage."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

from click.testing import CliRunner

from ismap_scan.cli import cli
from ismap_scan.ismap.catalog import load_catalog
from ismap_scan.ismap.coverage import load_checkable

REPO = Path(__file__).resolve().parents[2]
CHECKABLE_MD = Path(__file__).resolve().parents[3] / "shared" / "ismap" / "CHECKABLE.md"  # ../shared


def _run(*args: str) -> str:
    res = CliRunner().invoke(cli, ["controls", *args], obj={})
    assert res.exit_code == 0, res.output
    return res.output


def test_json_lists_objectives_and_basic_statement_requirements() -> None:
    doc = json.loads(_run("--format", "json"))
    assert (doc["catalog"], doc["official"]) == ("2024-07", False)
    objectives = [c for c in doc["controls"] if c["level"] == "objective"]
    basic = [c for c in doc["controls"] if c["basic_statement_requirement"]]
    assert len(objectives) == doc["objectives"] == 121
    assert len(basic) == doc["basic_statement_requirements"] == 31
    for c in doc["controls"]:
        suffix = c["id"].rsplit(".", 1)[-1]
        assert c["basic_statement_requirement"] == (suffix in ("B", "PB")), c["id"]
        assert c["cloud_specific"] == (suffix in ("P", "PB")), c["id"]
        assert c["selected"] is None and c["confirmed"] is None
        if c["level"] == "detailed":
            assert c["id"].startswith(c["objective"].removesuffix(".P") + "."), c["id"]
    assert sum(1 for c in objectives if c["cloud_specific"]) == 7
    mfa = next(c for c in doc["controls"] if c["id"] == "9.4.2.2.B")
    assert mfa["objective"] == "9.4.2" and "aws.iam.user_console_mfa_enabled" in mfa["checks"]["aws"]
    assert (
        next(c for c in doc["controls"] if c["id"] == "12.4.1.15.PB")["checks"] == {}
    )  # customer-facing duty


def test_coverage_with_a_statement() -> None:
    doc = json.loads(
        _run("--coverage", "--assertion", str(REPO / "examples" / "assertion.yaml"), "--format", "json")
    )
    ids = {c["id"] for c in doc["controls"]}
    assert "14.2.7" not in ids and "13.1.3.1" in ids  # excluded out, chosen non-basic detail in
    assert all(c["selected"] for c in doc["controls"])
    cov = doc["coverage"]
    assert "aws" in cov["providers"]
    checkable = cov["checkable"]
    assert checkable["target"] == 41
    assert "9.4.2" in checkable["covered"]["aws"] and "9.4.2" not in checkable["missing"]["aws"]
    assert len(checkable["covered"]["aws"]) + len(checkable["missing"]["aws"]) == 41
    assert "5.1.1" in cov["without_evidence"]
    # the statement's own checks count as evidence (13.1.3.1 has no check in the map)
    assert next(c for c in doc["controls"] if c["id"] == "13.1.3.1")["checks"]["aws"]


def test_csv_and_table() -> None:
    rows = list(csv.reader(io.StringIO(_run("--format", "csv", "--lang", "ja"))))
    assert rows[0][:3] == ["id", "level", "objective"]
    assert len(rows) == 1 + 121 + 38
    assert next(r for r in rows if r[0] == "9.4.2")[3] == "安全なログオン手順"
    out = _run("--coverage")
    assert "121 objectives, 38 detailed controls (31 basic statement requirements)" in out.replace("\n", " ")
    assert "checkable objectives covered" in out


def test_checkable_list_matches_the_shared_reference() -> None:
    ids = load_checkable(load_catalog("2024-07"))
    assert len(ids) == len(set(ids)) == 41
    catalog = load_catalog("2024-07")
    assert all(catalog.controls[i].level == "objective" for i in ids)
    if CHECKABLE_MD.is_file():
        rows = [
            line.split("|")[1]
            for line in CHECKABLE_MD.read_text(encoding="utf-8").splitlines()
            if re.match(r"^\| \d", line)
        ]
        assert set(ids) == {x.strip() for row in rows for x in row.split(",")}
