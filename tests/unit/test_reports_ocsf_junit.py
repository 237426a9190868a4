"""OCSF Compliance Findings (validated back through the py-ocsf-models pydantic models) and JUnit XML
(parsed back with junitparser and ElementTree)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from junitparser import Error, Failure, JUnitXml, Skipped
from py_ocsf_models.events.findings.compliance_finding import ComplianceFinding

from ismap_scan.model import ControlRef, Result, Severity, Verdict
from ismap_scan.reports import FORMATS, ReportMeta, write_reports
from ismap_scan.reports.junit import JunitRenderer, case_name
from ismap_scan.reports.ocsf import IsmapComplianceFinding, OcsfRenderer

T0 = "2026-11-30T01:02:03Z"


def _result(
    check: str, verdict: Verdict, rid: str, severity: Severity, account: str = "111122223333"
) -> Result:
    return Result(
        check_id=check,
        verdict=verdict,
        severity=severity,
        provider="aws",
        account=account,
        region="ap-northeast-1",
        resource_type="aws.s3.bucket",
        resource_id=rid,
        resource_name=rid.rsplit(":", 1)[-1],
        collected_at=T0,
        message="assert does not hold" if verdict is Verdict.FAIL else "",
        title={"en": f"Title {check}", "ja": "タイトル"},
        remediation={"en": "Fix <it> & go", "ja": "修正", "url": "https://docs.aws.amazon.com/s3/"},
        evidence={"data.Versioning": {"Status": "Suspended"}},
        controls=[ControlRef("9.4.1", "partial"), ControlRef("12.3.1", "full")],
    )


@pytest.fixture
def results() -> list[Result]:
    s3 = "aws.s3.bucket_versioning_enabled"
    return [
        _result(s3, Verdict.PASS, "arn:aws:s3:::good", Severity.MEDIUM),
        _result(s3, Verdict.FAIL, "arn:aws:s3:::bad", Severity.MEDIUM, account="444455556666"),
        _result(s3, Verdict.ERROR, "arn:aws:s3:::unknown", Severity.MEDIUM),
        _result(
            "aws.iam.root_mfa_enabled",
            Verdict.NOT_APPLICABLE,
            "arn:aws:iam::111122223333:root",
            Severity.CRITICAL,
        ),
    ]


@pytest.fixture
def meta() -> ReportMeta:
    return ReportMeta(
        scan_id="20261130T010203Z-1a2b3c4d",
        tool_version="0.1.0",
        check_pack_hash="ab" * 32,
        catalog_version="2024-07",
        started_at="2026-11-30T01:00:00Z",
        finished_at=T0,
        language="en",
    )


def test_ocsf_round_trip_and_fields(results: list[Result], meta: ReportMeta, tmp_path: Path) -> None:
    assert FORMATS["ocsf"] is OcsfRenderer
    (path,) = write_reports(results, tmp_path, ["ocsf"], meta)
    assert path.name == "results.ocsf.json"
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert isinstance(doc, list) and len(doc) == len(results)
    by_key = {}
    for item in doc:
        finding = IsmapComplianceFinding.model_validate(item)
        # a round trip through the model changes nothing, and the package's own class accepts it too
        assert finding.model_dump(mode="json", exclude_none=True) == item
        ComplianceFinding.model_validate(item)
        by_key[finding.finding_info.uid] = finding
    for r in results:
        f = by_key[r.finding_key]
        assert f.class_uid == 2003 and f.category_uid == 2 and f.type_uid == 200301
        assert f.status_code == r.verdict.value
        assert f.compliance.requirements == ["9.4.1", "12.3.1"]
        assert f.compliance.standards == ["ISMAP 2024-07"]
        assert f.compliance.checks and f.compliance.checks[0].uid == r.check_id
        (res,) = f.resources or []
        assert (res.uid, res.region, res.type) == (r.resource_id, r.region, r.resource_type)
        assert res.data and res.data["account"] == r.account
        assert f.cloud and f.cloud.account and f.cloud.account.uid == r.account and f.cloud.provider == "aws"
        assert f.time == 1796000523000  # 2026-11-30T01:02:03Z in epoch ms
        assert f.remediation and f.remediation.references == ["https://docs.aws.amazon.com/s3/"]
    status = {r.verdict: by_key[r.finding_key].compliance.status_id for r in results}
    assert {v: int(s) for v, s in status.items() if s is not None} == {
        Verdict.PASS: 1,
        Verdict.FAIL: 3,
        Verdict.ERROR: 2,
        Verdict.NOT_APPLICABLE: 99,
    }
    severity = {r.severity: int(by_key[r.finding_key].severity_id) for r in results}
    assert severity == {Severity.MEDIUM: 3, Severity.CRITICAL: 5}


def test_ocsf_empty(meta: ReportMeta) -> None:
    renderer = OcsfRenderer(meta)
    assert json.loads(renderer.serialize(renderer.transform([]))) == []


def test_junit_structure(results: list[Result], meta: ReportMeta, tmp_path: Path) -> None:
    assert FORMATS["junit"] is JunitRenderer
    (path,) = write_reports(results, tmp_path, ["junit"], meta)
    root = ET.parse(path).getroot()
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("errors"), root.get("skipped")) == (
        "4",
        "1",
        "1",
        "1",
    )
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    assert set(suites) == {"aws.s3.bucket_versioning_enabled", "aws.iam.root_mfa_enabled"}
    s3 = suites["aws.s3.bucket_versioning_enabled"]
    assert s3.get("tests") == "3" and s3.get("failures") == "1" and s3.get("errors") == "1"
    props = {p.get("name"): p.get("value") for p in s3.iter("property")}
    assert props["severity"] == "medium" and props["ismap.controls"] == "9.4.1 (partial), 12.3.1 (full)"

    xml = JUnitXml.fromfile(str(path))
    cases = {(c.classname, c.name): c for suite in xml for c in suite}
    assert len(cases) == len(results)
    for r in results:
        case = cases[(r.check_id, case_name(r))]
        kinds = [type(x) for x in case.result]
        expected = {
            Verdict.PASS: [],
            Verdict.FAIL: [Failure],
            Verdict.ERROR: [Error],
            Verdict.NOT_APPLICABLE: [Skipped],
        }
        assert kinds == expected[r.verdict]
        if r.verdict is Verdict.FAIL:
            body = case.result[0].text or ""
            assert r.finding_key in body and "Fix <it> & go" in body and '"Status": "Suspended"' in body
            assert case.result[0].type == "medium"
