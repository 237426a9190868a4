"""The 言明書 workbook (statement.xlsx): open it with openpyxl and read the cells back."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from openpyxl import load_workbook

from ismap_scan.ismap.assertion import load_assertion
from ismap_scan.ismap.catalog import load_catalog
from ismap_scan.ismap.rollup import rollup
from ismap_scan.model import ControlRef, Result, Severity, Verdict
from ismap_scan.reports import FORMATS, ReportMeta, write_reports

REPO = Path(__file__).resolve().parents[2]
TODAY = dt.date(2026, 11, 30)
ACCOUNT = "111122223333"


def _result(check: str, verdict: Verdict, resource: str, name: str | None = None) -> Result:
    return Result(
        check_id=check,
        verdict=verdict,
        severity=Severity.HIGH,
        provider="aws",
        account=ACCOUNT,
        region="ap-northeast-3",
        resource_type="aws.ec2.vpc",
        resource_id=resource,
        resource_name=name or resource,
        collected_at="2026-11-30T01:02:03Z",
        message="not met: `data.X`" if verdict is Verdict.FAIL else "",
        title={"en": "Default VPC not in use", "ja": "デフォルトVPCを使用しない"},
        evidence={"data.IsDefault": True, "data.NetworkInterfaces": ["eni-1"]},
        controls=[ControlRef("9.5.1.P", "partial")],
    )


@pytest.fixture(scope="module")
def scan() -> tuple[list[Result], list[dict]]:  # type: ignore[type-arg]
    catalog = load_catalog("2024-07")
    statement = load_assertion(REPO / "examples" / "assertion.yaml", catalog=catalog)
    vpc = f"arn:aws:ec2:ap-northeast-3:{ACCOUNT}:vpc/vpc-0default"
    results = [
        _result("aws.ec2.default_vpc_not_in_use", Verdict.FAIL, vpc),  # waived by wv-osaka-default-vpc
        _result(
            "aws.ec2.default_vpc_not_in_use", Verdict.PASS, f"arn:aws:ec2:ap-northeast-1:{ACCOUNT}:vpc/vpc-1"
        ),
        _result(
            "aws.iam.user_console_mfa_enabled",
            Verdict.FAIL,
            f"arn:aws:iam::{ACCOUNT}:user/x",
            "=HYPERLINK(1)",
        ),
    ]
    check_map = {
        "aws.ec2.default_vpc_not_in_use": [ControlRef("9.5.1.P", "partial")],
        "aws.iam.user_console_mfa_enabled": [
            ControlRef("9.4.2", "partial"),
            ControlRef("9.4.2.2.B", "partial"),
        ],
    }
    statuses = [s.to_dict() for s in rollup(results, check_map, catalog, statement, today=TODAY)]
    return results, statuses


def _meta(statuses: list[dict], lang: str) -> ReportMeta:  # type: ignore[type-arg]
    statement = load_assertion(REPO / "examples" / "assertion.yaml")
    return ReportMeta(
        scan_id="20261130T010203Z-1a2b3c4d",
        tool_version="0.1.0",
        check_pack_hash="ab" * 32,
        catalog_version="2024-07",
        started_at="2026-11-30T01:02:03Z",
        finished_at="2026-11-30T01:03:04Z",
        scope={"providers": ["aws"], "accounts": {"aws": [ACCOUNT]}, "regions": {"aws": ["ap-northeast-3"]}},
        language=lang,
        controls=statuses,
        assertion=statement.summary(),
    )


def _rows(ws) -> dict[str, tuple]:  # type: ignore[no-untyped-def, type-arg]
    return {str(r[0]): r for r in ws.iter_rows(min_row=2, values_only=True) if r[0]}


def test_registered() -> None:
    assert FORMATS["xlsx"].filename == "statement.xlsx"


def test_japanese_workbook(tmp_path: Path, scan: tuple[list[Result], list[dict]]) -> None:  # type: ignore[type-arg]
    results, statuses = scan
    (path,) = write_reports(results, tmp_path, ["xlsx"], _meta(statuses, "ja"))
    wb = load_workbook(path)
    assert wb.sheetnames == ["表紙", "言明書", "不合格結果"]

    cover = {r[0]: r[1] for r in wb["表紙"].iter_rows(values_only=True) if r[0]}
    assert cover["サービス名"] == "Example SaaS (demo)"
    assert cover["制度"] == "ISMAP"
    assert cover["スキャンID"] == "20261130T010203Z-1a2b3c4d"
    assert cover["開始"] == "2026-11-30 10:02:03 JST"
    assert cover["管理基準カタログ"].startswith("2024-07 (日本語の管理策名は非公式")
    assert cover["準拠"] == 1 and cover["適用除外"] == 3 and cover["非準拠"] == 2
    assert cover["不合格"] == 2 and cover["合格"] == 1

    ws = wb["言明書"]
    headers = [c.value for c in ws[1]]
    assert headers[:3] == ["管理策番号", "区分", "管理策"] and "個別管理策" in headers and "状態" in headers
    assert ws.freeze_panes == "B2" and ws.auto_filter.ref == f"A1:Q{ws.max_row}"
    assert ws.column_dimensions["H"].width == 48 and ws["H2"].alignment.wrap_text
    col = {h: i for i, h in enumerate(headers)}
    rows = _rows(ws)
    assert len(rows) == 153  # every control the example statement names
    isolation = rows["9.5.1.P"]
    assert isolation[col["状態"]] == "準拠"  # waived FAIL + PASS (partial) + current attestation
    assert isolation[col["不合格"]] == 1 and isolation[col["免除"]] == 1 and isolation[col["合格"]] == 1
    assert isolation[col["クラウド固有"]] == "○" and isolation[col["基本言明要件"]] is None
    assert isolation[col["証明・継承"]].startswith("証明: Platform team (Tanaka)")
    assert isolation[col["最終評価日時"]] == "2026-11-30 10:02:03 JST"
    basic = rows["9.4.2.2.B"]
    assert (basic[col["区分"]], basic[col["基本言明要件"]], basic[col["状態"]]) == (
        "詳細管理策",
        "○",
        "非準拠",
    )
    assert "aws.iam.user_console_mfa_enabled (部分)" in basic[col["チェック"]]
    excluded = rows["14.2.7"]
    assert (excluded[col["選択"]], excluded[col["状態"]]) == ("除外", "適用除外")
    assert excluded[col["除外理由"]].startswith("No development is outsourced")
    assert rows["11.1.1"][col["状態"]] == "手動確認"
    assert rows["11.1.1"][col["証明・継承"]].startswith("継承: Amazon Web Services (AWS)")
    status_cell = ws.cell(row=list(rows).index("9.5.1.P") + 2, column=col["状態"] + 1)
    assert status_cell.fill.fgColor.rgb == "FFC6EFCE"

    failing = wb["不合格結果"]
    fheaders = [c.value for c in failing[1]]
    frows = list(failing.iter_rows(min_row=2, values_only=True))
    assert len(frows) == 2
    by_check = {r[fheaders.index("チェック")]: r for r in frows}
    vpc = by_check["aws.ec2.default_vpc_not_in_use"]
    assert vpc[fheaders.index("免除")].startswith("wv-osaka-default-vpc: The Osaka default VPC")
    assert vpc[fheaders.index("証跡の値")] == 'data.IsDefault = true\ndata.NetworkInterfaces = ["eni-1"]'
    assert vpc[fheaders.index("タイトル")] == "デフォルトVPCを使用しない"
    assert vpc[fheaders.index("検出キー")] == results[0].finding_key


def test_text_that_looks_like_a_formula_stays_text(
    tmp_path: Path, scan: tuple[list[Result], list[dict]]
) -> None:  # type: ignore[type-arg]
    results, statuses = scan
    (path,) = write_reports(results, tmp_path, ["xlsx"], _meta(statuses, "en"))
    ws = load_workbook(path)["Failing results"]
    cells = [
        c for row in ws.iter_rows(min_row=2) for c in row if c.value == "aws.iam.user_console_mfa_enabled"
    ]
    assert cells
    evil = [c for row in ws.iter_rows() for c in row if isinstance(c.value, str) and c.value.startswith("=")]
    assert evil == [] or all(c.data_type == "s" for c in evil)


def test_english_workbook(tmp_path: Path, scan: tuple[list[Result], list[dict]]) -> None:  # type: ignore[type-arg]
    results, statuses = scan
    (path,) = write_reports(results, tmp_path, ["xlsx"], _meta(statuses, "en"))
    wb = load_workbook(path)
    assert wb.sheetnames == ["Cover", "Statement", "Failing results"]
    ws = wb["Statement"]
    headers = [c.value for c in ws[1]]
    assert headers[0] == "Control ID" and "Individual control" in headers
    rows = _rows(ws)
    assert rows["9.5.1.P"][headers.index("Status")] == "Compliant"
    assert (
        rows["9.4.2"][headers.index("Title")] == "Secure log-on procedures"
        or rows["9.4.2"][headers.index("Title")]
    )


def test_without_a_statement_lists_controls_with_results(
    tmp_path: Path, scan: tuple[list[Result], list[dict]]
) -> None:  # type: ignore[type-arg]
    results, _ = scan
    catalog = load_catalog("2024-07")
    statuses = [
        s.to_dict()
        for s in rollup(
            results,
            {"aws.ec2.default_vpc_not_in_use": [ControlRef("9.5.1.P", "partial")]},
            catalog,
            today=TODAY,
        )
    ]
    meta = _meta(statuses, "en")
    meta.assertion = None
    (path,) = write_reports(results, tmp_path, ["xlsx"], meta)
    wb = load_workbook(path)
    cover = {r[0]: r[1] for r in wb["Cover"].iter_rows(values_only=True) if r[0]}
    assert cover["Statement file"] == "No statement given: controls with results only"
    rows = _rows(wb["Statement"])
    assert list(rows) == ["9.5.1.P"] and rows["9.5.1.P"][5] is None  # "Selected" empty without a statement
