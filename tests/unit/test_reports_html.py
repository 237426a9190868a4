"""report.html: parsed back with html.parser and checked for content, escaping, CSP and size at scale."""

from __future__ import annotations

import base64
import hashlib
import re
import time
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from ismap_scan.model import ControlRef, Result, Severity, Verdict
from ismap_scan.reports import FORMATS, ReportMeta, write_reports
from ismap_scan.reports.html import HtmlRenderer, content_security_policy, safe_url

T0 = "2026-11-30T01:02:03Z"
EVIL = '<script>alert("x")</script>'


def _result(check: str, verdict: Verdict, rid: str, **kw: Any) -> Result:
    return Result(
        check_id=check,
        verdict=verdict,
        severity=kw.get("severity", Severity.HIGH),
        provider="aws",
        account=kw.get("account", "111122223333"),
        region=kw.get("region", "ap-northeast-1"),
        resource_type="aws.s3.bucket",
        resource_id=rid,
        resource_name=kw.get("name", rid.rsplit(":", 1)[-1]),
        collected_at=T0,
        message=kw.get("message", ""),
        title={"en": f"Title {check}", "ja": f"{check} のタイトル"},
        remediation={
            "en": "Fix it.",
            "ja": "修正してください。",
            "url": kw.get("url", "https://docs.aws.amazon.com/s3/"),
        },
        evidence=kw.get("evidence", {"data.Versioning": {"Status": "Suspended"}}),
        controls=[ControlRef("9.4.1", "partial"), ControlRef("12.3.1.2", "full")],
    )


def _meta(lang: str = "en", controls: list[dict[str, Any]] | None = None) -> ReportMeta:
    return ReportMeta(
        scan_id="20261130T010203Z-1a2b3c4d",
        tool_version="0.1.0",
        check_pack_hash="ab" * 32,
        catalog_version="2024-07",
        started_at="2026-11-30T01:00:00Z",
        finished_at=T0,
        scope={"providers": ["aws"], "accounts": {"aws": ["111122223333", "444455556666"]}},
        language=lang,
        controls=controls,
        unseen=["aws 111122223333 ap-northeast-3: ec2:DescribeSecurityGroups AccessDenied (1 read)"],
    )


@pytest.fixture
def results() -> list[Result]:
    s3 = "aws.s3.bucket_versioning_enabled"
    return [
        _result(s3, Verdict.PASS, "arn:aws:s3:::good"),
        _result(s3, Verdict.PASS, "arn:aws:s3:::good2", account="444455556666"),
        _result(
            s3,
            Verdict.FAIL,
            "arn:aws:s3:::evil",
            name=EVIL,
            message=f"bad {EVIL}",
            evidence={"data.Tags": [{"Key": "x", "Value": EVIL}]},
            url="javascript:alert(1)",
        ),
        _result(s3, Verdict.FAIL, "arn:aws:s3:::other", account="444455556666", region="us-east-1"),
        _result(
            "aws.iam.root_mfa_enabled",
            Verdict.ERROR,
            "arn:aws:iam::111122223333:root",
            severity=Severity.CRITICAL,
            region="global",
            message="iam:GetCredentialReport AccessDenied",
        ),
        _result(
            "aws.iam.root_mfa_enabled",
            Verdict.NOT_APPLICABLE,
            "arn:aws:iam::444455556666:root",
            severity=Severity.CRITICAL,
            region="global",
        ),
    ]


class _Page(HTMLParser):
    """Collects tags with attributes, the text, and the contents of <script>/<style>."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.blocks: dict[str, list[str]] = {"script": [], "style": []}
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag in self.blocks:
            self._in = tag
            self.blocks[tag].append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == self._in:
            self._in = None

    def handle_data(self, data: str) -> None:
        if self._in:
            self.blocks[self._in][-1] += data
        else:
            self.text.append(data)

    def find(self, tag: str, **attrs: str) -> list[dict[str, str | None]]:
        return [a for t, a in self.tags if t == tag and all(a.get(k) == v for k, v in attrs.items())]


def _parse(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    page.close()
    return page


def _rollup() -> list[dict[str, Any]]:
    return [
        {
            "id": "9.4.1",
            "status": "NON_COMPLIANT",
            "title": {"en": "Restricting access", "ja": "アクセス制限"},
            "level": "objective",
            "objective": "9.4.1",
            "counts": {"PASS": 2, "FAIL": 2},
            "checks": ["aws.s3.bucket_versioning_enabled"],
            "coverage": {"aws.s3.bucket_versioning_enabled": "partial"},
            "failing_resources": ["arn:aws:s3:::evil", "arn:aws:s3:::other"],
        },
        # a newer/partial shape: no counts, checks as a mapping, an unknown status and extra keys
        {
            "id": "12.3.1.2",
            "status": "MANUAL",
            "checks": {"aws.iam.root_mfa_enabled": "full"},
            "attested": True,
            "reason": "attested by the security office",
        },
        {"id": "5.1.1", "status": "SOMETHING_NEW"},
        "not a dict",
    ]


def test_registered_and_default() -> None:
    from ismap_scan.config import DEFAULT_FORMATS

    assert FORMATS["html"] is HtmlRenderer
    assert "html" in DEFAULT_FORMATS


def test_content_filters_and_escaping(results: list[Result], tmp_path: Path) -> None:
    (path,) = write_reports(results, tmp_path, ["html"], _meta(controls=_rollup()))
    html = path.read_text(encoding="utf-8")
    page = _parse(html)
    text = " ".join(page.text)
    # the attacker's name, message and evidence are text, never markup
    assert "<script>alert" not in html
    assert len(page.blocks["script"]) == 1 and "alert" not in page.blocks["script"][0]
    assert EVIL in text and f"bad {EVIL}" in text
    # a javascript: remediation link is dropped; the https one is kept with noopener
    hrefs = [a.get("href") for a in page.find("a")]
    assert "javascript:alert(1)" not in hrefs
    assert "https://docs.aws.amazon.com/s3/" in hrefs
    assert all("noopener" in (a.get("rel") or "") for a in page.find("a", target="_blank"))
    # totals cards, per-severity rows, objective rows (detailed control counted under its objective)
    assert page.find("div", **{"class": "card v-FAIL"})
    assert {a["data-severity"] for a in page.find("tr") if a.get("data-severity")} == {
        s.value for s in Severity
    }
    objectives = {a["data-objective"] for a in page.find("tr") if a.get("data-objective")}
    assert objectives == {"9.4.1", "12.3.1"}
    # filters offer exactly the statuses, accounts and regions present
    options = {a["value"] for a in page.find("option")}
    assert {
        "FAIL",
        "ERROR",
        "PASS",
        "NOT_APPLICABLE",
        "111122223333",
        "444455556666",
        "global",
        "us-east-1",
    } <= options
    # FAIL/ERROR in full with their finding keys; PASS grouped per (check, account, region)
    rows = page.find("div", **{"data-n": "1"})
    assert sorted(r["data-v"] for r in rows) == ["ERROR", "FAIL", "FAIL"]
    for r in results:
        if r.verdict in (Verdict.FAIL, Verdict.ERROR):
            assert r.finding_key in text
    groups = [a for _t, a in page.tags if "grp" in (a.get("class") or "")]
    assert sorted((g["data-v"], g["data-acct"], g["data-n"]) for g in groups) == [
        ("NOT_APPLICABLE", "111122223333", "1"),
        ("PASS", "111122223333", "1"),
        ("PASS", "444455556666", "1"),
    ]
    # evidence values shown; times in Asia/Tokyo by default
    assert '"Status": "Suspended"' in text
    assert "2026-11-30 10:02:03 JST" in text
    # control view tolerates partial and unknown shapes
    controls = {a["data-control"]: a["data-status"] for a in page.find("div") if a.get("data-control")}
    assert controls == {"9.4.1": "NON_COMPLIANT", "12.3.1.2": "MANUAL", "5.1.1": "SOMETHING_NEW"}
    assert "arn:aws:s3:::other" in text
    assert "attested by the security office" in text
    assert page.find("a", **{"data-check": "aws.s3.bucket_versioning_enabled"})


def test_csp_allows_exactly_the_inline_blocks(results: list[Result]) -> None:
    html = HtmlRenderer(_meta()).transform(results)
    page = _parse(html)
    (meta,) = page.find("meta", **{"http-equiv": "Content-Security-Policy"})
    csp = meta["content"] or ""
    assert csp == content_security_policy()
    assert "default-src 'none'" in csp and "unsafe-inline" not in csp and "http" not in csp
    for kind, directive in (("script", "script-src"), ("style", "style-src")):
        (block,) = page.blocks[kind]
        digest = base64.b64encode(hashlib.sha256(block.encode("utf-8")).digest()).decode()
        assert f"{directive} 'sha256-{digest}'" in csp
    # nothing is loaded from anywhere: no src/href to another origin except documentation links
    assert not [a for _t, a in page.tags if a.get("src")]
    assert not page.find("link")
    assert not re.search(r"\sstyle=", html), "inline style attributes would be blocked by the CSP"


def test_japanese_labels_and_no_rollup(results: list[Result]) -> None:
    html = HtmlRenderer(_meta(lang="ja", controls=None)).transform(results)
    page = _parse(html)
    assert page.find("html", lang="ja")
    text = " ".join(page.text)
    assert "ISMAP スキャンレポート" in text and "不合格" in text
    assert "このスキャンでは管理策の集約を行っていません。" in text
    assert "aws.s3.bucket_versioning_enabled のタイトル" in text


def test_safe_url() -> None:
    assert safe_url("https://docs.aws.amazon.com/x") == "https://docs.aws.amazon.com/x"
    for bad in ("javascript:alert(1)", "data:text/html,x", "//evil.example", "", None, "http://"):
        assert safe_url(bad) is None


def test_sixty_thousand_results_render_fast_and_compact() -> None:
    results = []
    for i in range(60_000):
        verdict = (Verdict.PASS, Verdict.PASS, Verdict.PASS, Verdict.FAIL, Verdict.NOT_APPLICABLE)[i % 5]
        results.append(
            _result(
                f"aws.s3.check_{i % 40}",
                verdict,
                f"arn:aws:s3:::bucket-{i}",
                account=("111122223333", "444455556666")[i % 2],
                region=("ap-northeast-1", "us-east-1")[i % 3 % 2],
            )
        )
    started = time.perf_counter()
    html = HtmlRenderer(_meta()).transform(results)
    elapsed = time.perf_counter() - started
    # 12,000 FAIL in full + 48,000 grouped: a few seconds (generous bound for a loaded CI machine), ~10 MB
    assert elapsed < 30, elapsed
    assert len(html.encode("utf-8")) < 25_000_000
    assert html.count('data-n="1"') >= 12_000
