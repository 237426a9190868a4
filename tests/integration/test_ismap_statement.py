"""End to end: a demo scan with the shipped examples/assertion.yaml writes the 言明書 workbook, and every
detailed control the statement selects appears there with the status DESIGN §5's rules give.

The expected status is worked out here from results.jsonl and the statement with a plain restatement of the
rules (not with ismap_scan's roll-up), so the test checks the pipeline, the roll-up and the workbook together.
"""

from __future__ import annotations

import fnmatch
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from ismap_scan.cli import cli
from ismap_scan.ismap.assertion import load_assertion, today_utc
from ismap_scan.ismap.catalog import load_catalog, load_check_map

pytestmark = pytest.mark.moto

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "assertion.yaml"
JA_STATUS = {
    "COMPLIANT": "準拠",
    "NON_COMPLIANT": "非準拠",
    "PARTIAL": "一部準拠",
    "MANUAL": "手動確認",
    "NOT_EVALUATED": "未評価",
    "EXCLUDED": "適用除外",
}


def expected_status(control_id: str, results: list[dict], statement, check_map) -> str:  # type: ignore[no-untyped-def, type-arg]
    sel = statement.controls[control_id]
    if not sel.selected:
        return "EXCLUDED"
    coverage = {c: r.coverage for c, refs in check_map.items() for r in refs if r.id == control_id}
    for check, cov in sel.checks.items():
        coverage[check] = "full" if "full" in (cov, coverage.get(check)) else cov
    today = today_utc()
    mine = [r for r in results if r["check_id"] in coverage]

    def waived(r: dict) -> bool:  # type: ignore[type-arg]
        for w in statement.waivers:
            if not (w.expires >= today and (w.approved is None or w.approved <= today)):
                continue
            if w.finding_key == r["finding_key"]:
                return True
            if (
                w.check
                and fnmatch.fnmatchcase(r["check_id"], w.check)
                and (
                    fnmatch.fnmatchcase(r["resource_id"], w.resource)
                    or fnmatch.fnmatchcase(r["resource_name"], w.resource)
                )
            ):
                return True
        return False

    attested = any(control_id in a.controls and a.date <= today <= a.expires for a in statement.attestations)
    inherited = any(control_id in i.controls for i in statement.inherited)
    if any(r["verdict"] == "FAIL" and not waived(r) for r in mine):
        return "NON_COMPLIANT"
    passes = [r for r in mine if r["verdict"] == "PASS"]
    if passes:
        if any(r["verdict"] == "ERROR" for r in mine):
            return "PARTIAL"
        full = any(coverage[r["check_id"]] == "full" for r in passes)
        return "COMPLIANT" if full or attested else "PARTIAL"
    return "MANUAL" if attested or inherited else "NOT_EVALUATED"


def test_demo_scan_writes_the_statement_workbook(tmp_path: Path) -> None:
    res = CliRunner().invoke(
        cli,
        [
            "scan",
            "--demo",
            "--provider",
            "aws",
            "--output-dir",
            str(tmp_path),
            "--format",
            "jsonl,xlsx",
            "--lang",
            "ja",
            "--assertion",
            str(EXAMPLE),
        ],
        obj={},
    )
    assert res.exit_code == 3, res.output  # the demo estate has failures
    (folder,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    results = [
        json.loads(line) for line in (folder / "results.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    catalog = load_catalog("2024-07")
    statement = load_assertion(EXAMPLE, catalog=catalog)
    check_map = load_check_map("2024-07", catalog=catalog)

    ws = load_workbook(folder / "statement.xlsx")["言明書"]
    headers = [c.value for c in ws[1]]
    rows = {r[0]: r for r in ws.iter_rows(min_row=2, values_only=True) if r[0]}
    assert set(rows) == set(statement.controls)

    selected_detailed = [
        s.id for s in statement.controls.values() if catalog.controls[s.id].level == "detailed" and s.selected
    ]
    assert len(selected_detailed) == 32  # the 31 basic statement requirements and 13.1.3.1
    seen = set()
    for cid in selected_detailed:
        want = expected_status(cid, results, statement, check_map)
        seen.add(want)
        assert rows[cid][headers.index("状態")] == JA_STATUS[want], cid
        assert rows[cid][headers.index("区分")] == "詳細管理策"
    assert {"NON_COMPLIANT", "MANUAL", "NOT_EVALUATED"} <= seen
    # objectives too: the waiver and attestation on 9.5.1.P, the exclusions, the inheritance
    for cid in ("9.5.1.P", "12.1.2", "14.2.7", "11.1.1", "9.2.1"):
        assert (
            rows[cid][headers.index("状態")] == JA_STATUS[expected_status(cid, results, statement, check_map)]
        ), cid
    assert rows["9.5.1.P"][headers.index("状態")] == "準拠"

    # the statement used is kept with the evidence and covered by the manifest's hashes
    assert (folder / "assertion.yaml").read_bytes() == EXAMPLE.read_bytes()
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert "assertion.yaml" in manifest["files"] and "statement.xlsx" in manifest["files"]
    controls = json.loads((folder / "controls.json").read_text(encoding="utf-8"))
    assert controls["assertion"]["profile"] == "ismap" and controls["expired"] == []
    isolation = next(c for c in controls["controls"] if c["id"] == "9.5.1.P")
    assert isolation["waived"] == 1
    assert {r["waiver"]["id"] for r in isolation["results"] if r["waiver"]} == {"wv-osaka-default-vpc"}
