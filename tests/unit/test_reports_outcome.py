"""How every report states a result (FAIL = the title's desired state is not met, in the report's language),
the demo banner and the statement-scope warnings (DESIGN §1/§5)."""

from __future__ import annotations

import html as html_module
import io
import json
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from ismap_scan.model import ControlRef, Result, Severity, Verdict
from ismap_scan.reports import FORMATS, ReportMeta, write_reports
from ismap_scan.reports.base import outcome_text, scope_warning_lines

TITLE = {"en": "S3 bucket has versioning enabled", "ja": "S3バケットのバージョニングが有効になっている"}
NOT_MET = {
    "en": "Not met: S3 bucket has versioning enabled",
    "ja": "未達: S3バケットのバージョニングが有効になっている",
}
STATEMENT_SCOPE = {
    "outside": [{"provider": "sakura", "account": "", "region": "", "results": 7}],
    "not_scanned": [{"provider": "aws", "kind": "region", "value": "ap-northeast-3"}],
    "warnings": [],
}


def _fail(message: str = "not met: `data.Versioning.Status == 'Enabled'`") -> Result:
    return Result(
        check_id="aws.s3.bucket_versioning_enabled",
        verdict=Verdict.FAIL,
        severity=Severity.MEDIUM,
        provider="aws",
        account="111122223333",
        region="ap-northeast-1",
        resource_type="aws.s3.bucket",
        resource_id="arn:aws:s3:::logs",
        resource_name="logs",
        collected_at="2026-11-30T01:00:00Z",
        message=message,
        title=dict(TITLE),
        remediation={"en": "Enable versioning", "ja": "バージョニングを有効にする"},
        controls=[ControlRef("12.3.1", "partial")],
    )


def _meta(lang: str, **extra: Any) -> ReportMeta:
    return ReportMeta(
        scan_id="20261130T010203Z-1a2b3c4d",
        tool_version="0.1.0",
        check_pack_hash="ab" * 32,
        catalog_version="2024-07",
        started_at="2026-11-30T01:00:00Z",
        finished_at="2026-11-30T01:05:00Z",
        language=lang,
        **extra,
    )


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_outcome_text(lang: str) -> None:
    assert outcome_text(_fail(), lang) == NOT_MET[lang]  # the engine's generic message adds nothing
    # A Python check's own reason follows the sentence.
    assert (
        outcome_text(_fail("no trail covers the account"), lang)
        == f"{NOT_MET[lang]} — no trail covers the account"
    )
    error = _fail("needs data.X: s3:GetBucketVersioning AccessDenied")
    error.verdict = Verdict.ERROR
    assert outcome_text(error, lang) == "needs data.X: s3:GetBucketVersioning AccessDenied"


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_every_renderer_says_a_fail_is_not_met(tmp_path: Path, lang: str) -> None:
    paths = {p.name: p for p in write_reports([_fail()], tmp_path, list(FORMATS), _meta(lang))}
    text = {
        name: p.read_text(encoding="utf-8-sig") for name, p in paths.items() if not name.endswith(".xlsx")
    }
    sarif = json.loads(text["results.sarif"])
    assert sarif["runs"][0]["results"][0]["message"]["text"] == f"{NOT_MET[lang]} (logs, arn:aws:s3:::logs)"
    ocsf = json.loads(text["results.ocsf.json"])
    assert ocsf[0]["message"] == f"{NOT_MET[lang]} (logs)"
    assert f'message="{NOT_MET[lang]}"' in text["results.junit.xml"]
    assert NOT_MET[lang] in text["results.csv"]
    assert NOT_MET[lang] in text["summary.md"]
    assert NOT_MET[lang] in text["report.html"]
    wb = load_workbook(io.BytesIO(paths["statement.xlsx"].read_bytes()))
    failing = list(wb.worksheets[2].iter_rows(values_only=True))
    assert NOT_MET[lang] in failing[1]
    if lang == "ja":
        assert failing[0][0] == "重要度"  # one word for severity across reports
        assert "12.3.1 (部分)" in failing[1]
    for name, body in text.items():  # the old wording, which read as if the resource complied, is gone
        assert "assert does not hold" not in body, name


@pytest.mark.parametrize("demo", [True, False])
def test_html_has_the_demo_banner_the_summary_has(tmp_path: Path, demo: bool) -> None:
    md, html = write_reports([_fail()], tmp_path, ["md", "html"], _meta("ja", demo=demo))
    banner = "デモ: この結果は、ローカルの疑似クラウド API 上の組み込みデモ環境のものです。"
    assert (banner in md.read_text(encoding="utf-8")) is demo
    assert (banner in html.read_text(encoding="utf-8")) is demo


@pytest.mark.parametrize(
    ("lang", "outside", "unscanned", "heading"),
    [
        (
            "en",
            "7 results from sakura are outside the statement's scope: counted, not judged",
            "Statement scope not scanned: aws region ap-northeast-3",
            "Statement scope and scan scope",
        ),
        (
            "ja",
            "sakura の結果 7 件は言明書の対象範囲外です",
            "言明書の対象範囲のうち未スキャン: aws リージョン ap-northeast-3",
            "言明書の対象範囲とスキャン範囲の差異",
        ),
    ],
)
def test_scope_warnings_in_summary_html_and_workbook_cover(
    tmp_path: Path, lang: str, outside: str, unscanned: str, heading: str
) -> None:
    lines = scope_warning_lines(STATEMENT_SCOPE, lang)
    assert len(lines) == 2 and lines[0].startswith(outside) and lines[1] == unscanned
    meta = _meta(lang, statement_scope=STATEMENT_SCOPE)
    md, html, xlsx = write_reports([_fail()], tmp_path, ["md", "html", "xlsx"], meta)
    for path in (md, html):
        body = html_module.unescape(path.read_text(encoding="utf-8"))
        assert heading in body and outside in body and unscanned in body
    cover = dict(r[:2] for r in load_workbook(xlsx).worksheets[0].iter_rows(values_only=True))
    assert outside in cover[heading] and unscanned in cover[heading]
    # Without a statement there is nothing to warn about and no section.
    md2 = write_reports([_fail()], tmp_path / "none", ["md"], _meta(lang))[0].read_text(encoding="utf-8")
    assert heading not in md2
