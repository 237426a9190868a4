"""Reports: each format rendered from a small hand-made list of results, then read back and checked.

The results cover every verdict, both languages, and cloud-supplied names that try to break out of
their cell (``|``, line breaks, ``=cmd()``). SARIF is validated against the OASIS schema kept in
``tests/schemas/``; results.jsonl against ``docs/results.schema.json``.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft4Validator, Draft202012Validator

from ismap_scan.errors import InputError, InputErrors
from ismap_scan.model import ControlRef, Result, Severity, Verdict, canonical_json
from ismap_scan.reports import FORMATS, ReportMeta, read_results, write_reports
from ismap_scan.reports.csvfile import COLUMNS, CsvRenderer, guard_cell
from ismap_scan.reports.markdown import MarkdownRenderer, md_cell, md_code
from ismap_scan.reports.sarif import FINGERPRINT_KEY, SECURITY_SEVERITY, SarifRenderer, artifact_uri

ROOT = Path(__file__).resolve().parents[2]
SARIF_SCHEMA = json.loads((ROOT / "tests/schemas/sarif-2.1.0.json").read_text(encoding="utf-8"))
RESULTS_SCHEMA = json.loads((ROOT / "docs/results.schema.json").read_text(encoding="utf-8"))

ACCOUNT = "111122223333"
OTHER_ACCOUNT = "444455556666"
T0 = "2026-11-30T01:02:03Z"
EVIL_NAME = "logs|prod\n=cmd()"  # a bucket tag or name an attacker controls


def _result(
    check: str,
    verdict: Verdict,
    severity: Severity,
    resource: str,
    *,
    name: str | None = None,
    account: str = ACCOUNT,
    region: str = "ap-northeast-1",
    rtype: str = "aws.s3.bucket",
    message: str = "",
    controls: tuple[tuple[str, str], ...] = (("9.4.1", "partial"),),
) -> Result:
    return Result(
        check_id=check,
        verdict=verdict,
        severity=severity,
        provider="aws",
        account=account,
        region=region,
        resource_type=rtype,
        resource_id=resource,
        resource_name=name or resource.rsplit(":", 1)[-1],
        collected_at=T0,
        message=message,
        title={"en": f"Title of {check}", "ja": f"{check} のタイトル"},
        remediation={"en": "Fix it.", "ja": "修正してください。", "url": "https://docs.aws.amazon.com/s3/"},
        evidence={"data.Versioning": {"Status": "Suspended"}},
        controls=[ControlRef(i, c) for i, c in controls],
    )


@pytest.fixture
def results() -> list[Result]:
    bucket = "aws.s3.bucket_versioning_enabled"
    return [
        _result(bucket, Verdict.PASS, Severity.MEDIUM, "arn:aws:s3:::good"),
        _result(bucket, Verdict.FAIL, Severity.MEDIUM, "arn:aws:s3:::bad", message="Versioning is Suspended"),
        _result(bucket, Verdict.FAIL, Severity.MEDIUM, "arn:aws:s3:::evil", name=EVIL_NAME, message="=1+1"),
        _result(
            "aws.iam.root_mfa_enabled",
            Verdict.FAIL,
            Severity.CRITICAL,
            f"arn:aws:iam::{OTHER_ACCOUNT}:root",
            account=OTHER_ACCOUNT,
            region="global",
            rtype="aws.account",
            controls=(("6.2.1", "full"), ("6.2.2", "partial")),
        ),
        _result(
            "aws.ec2.volume_encrypted",
            Verdict.NOT_APPLICABLE,
            Severity.HIGH,
            f"arn:aws:ec2:ap-northeast-1:{ACCOUNT}:volume/vol-0abc",
            rtype="aws.ec2.volume",
        ),
        _result(
            "aws.ec2.security_group_no_public_ssh",
            Verdict.ERROR,
            Severity.HIGH,
            f"arn:aws:ec2:ap-northeast-3:{ACCOUNT}:security-group/sg-0123",
            region="ap-northeast-3",
            rtype="aws.ec2.security_group",
            message="needs data.IpPermissions: ec2:DescribeSecurityGroups AccessDenied",
        ),
    ]


def _meta(lang: str = "en", **overrides: Any) -> ReportMeta:
    fields: dict[str, Any] = {
        "scan_id": "20261130T010203Z-1a2b3c4d",
        "tool_version": "0.1.0",
        "check_pack_hash": "ab" * 32,
        "catalog_version": "2024-07",
        "started_at": T0,
        "finished_at": "2026-11-30T01:05:00Z",
        "scope": {"providers": ["aws"], "accounts": [ACCOUNT, OTHER_ACCOUNT], "regions": ["ap-northeast-1"]},
        "language": lang,
        "information_uri": "https://example.com/ismap-scan",
        "unseen": [f"aws {ACCOUNT} ap-northeast-3: ec2:DescribeSecurityGroups AccessDenied"],
        "controls": [
            {
                "id": "9.4.1",
                "title": {"en": "Backups | copies", "ja": "バックアップ"},
                "status": "NON_COMPLIANT",
                "counts": {"PASS": 1, "FAIL": 2, "ERROR": 0},
                "checks": ["aws.s3.bucket_versioning_enabled"],
            }
        ],
    }
    fields.update(overrides)
    return ReportMeta(**fields)


# --- write_reports -------------------------------------------------------------------------------------


def test_write_reports_writes_each_format_once(results: list[Result], tmp_path: Path) -> None:
    paths = write_reports(results, tmp_path, ["jsonl", "md", "CSV", "sarif", "md"], _meta())
    assert [p.name for p in paths] == ["results.jsonl", "summary.md", "results.csv", "results.sarif"]
    assert all(p.is_file() and p.stat().st_size > 0 for p in paths)
    assert {"jsonl", "md", "csv", "sarif"} <= set(FORMATS)
    again = write_reports(results, tmp_path, "sarif, jsonl", _meta())
    assert [p.name for p in again] == ["results.sarif", "results.jsonl"]
    # No temporary files are left beside the reports.
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in paths)


def test_unknown_format_is_an_input_error_and_writes_nothing(results: list[Result], tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"unknown report format 'pdf' \(choose from jsonl, md, csv, sarif"):
        write_reports(results, tmp_path, ["jsonl", "pdf"], _meta())
    assert list(tmp_path.iterdir()) == []


def test_meta_rejects_unknown_language_and_zone() -> None:
    with pytest.raises(InputError, match="language"):
        _meta(lang="fr")
    with pytest.raises(InputError, match="time zone 'Mars/Olympus'"):
        _meta(timezone="Mars/Olympus")


# --- jsonl ---------------------------------------------------------------------------------------------


def test_jsonl_lines_are_canonical_and_round_trip(results: list[Result], tmp_path: Path) -> None:
    results[0].resource_name = "line\u2028separator\u0085next"  # str.splitlines() would split here
    [path] = write_reports(results, tmp_path, ["jsonl"], _meta())
    lines = path.read_text(encoding="utf-8").split("\n")
    assert lines[-1] == ""  # ends with a newline
    assert lines[:-1] == [canonical_json(r.to_dict()) for r in results]
    assert read_results(path) == results


def test_jsonl_lines_match_the_documented_schema(results: list[Result], tmp_path: Path) -> None:
    [path] = write_reports(results, tmp_path, ["jsonl"], _meta())
    validator = Draft202012Validator(RESULTS_SCHEMA)
    Draft202012Validator.check_schema(RESULTS_SCHEMA)
    for line in path.read_text(encoding="utf-8").splitlines():
        errors = [e.message for e in validator.iter_errors(json.loads(line))]
        assert errors == []
    # The schema is not vacuous: a wrong verdict and a missing field are rejected.
    bad = results[0].to_dict() | {"verdict": "OK"}
    del bad["finding_key"]
    assert len(list(validator.iter_errors(bad))) == 2


def test_schema_doc_lists_every_field() -> None:
    doc = (ROOT / "docs/results-schema.md").read_text(encoding="utf-8")
    for name in RESULTS_SCHEMA["properties"]:
        assert f"`{name}`" in doc, name


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("{not json", r"bad\.jsonl:2: not valid JSON"),
        ("[1, 2]", r"bad\.jsonl:2: expected a JSON object \(one result\), got list"),
        ("SUBST_VERDICT", r"bad\.jsonl:2: check aws\.s3\.x: field 'verdict' must be one of PASS, FAIL"),
        ("SUBST_ACCOUNT", r"bad\.jsonl:2: check aws\.s3\.x: field 'account' must be a non-empty string"),
        ("SUBST_KEY", r"bad\.jsonl:2: check aws\.s3\.x: finding_key '0+' does not match"),
    ],
)
def test_malformed_line_names_file_and_line(tmp_path: Path, line: str, expected: str) -> None:
    good = _result("aws.s3.x", Verdict.PASS, Severity.LOW, "arn:aws:s3:::a").to_dict()
    substitutes = {
        "SUBST_VERDICT": good | {"verdict": "OK"},
        "SUBST_ACCOUNT": good | {"account": 111122223333},
        "SUBST_KEY": good | {"finding_key": "0" * 64},
    }
    if line in substitutes:
        line = json.dumps(substitutes[line])
    path = tmp_path / "bad.jsonl"
    path.write_text(canonical_json(good) + "\n" + line + "\n\n", encoding="utf-8")
    with pytest.raises(InputError, match=expected):
        read_results(path)


def test_several_bad_lines_are_all_reported(tmp_path: Path) -> None:
    path = tmp_path / "results.jsonl"
    path.write_text("{}\n\nnope\n", encoding="utf-8")
    with pytest.raises(InputErrors) as info:
        read_results(path)
    assert [e.line for e in info.value.errors] == [1, 3]


def test_unreadable_results_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"missing\.jsonl: cannot read results file"):
        read_results(tmp_path / "missing.jsonl")


# --- markdown ------------------------------------------------------------------------------------------


def _table_rows(markdown: str, heading: str) -> list[list[str]]:
    """The body rows of the first table after the line ``heading``, cells split on unescaped ``|``."""
    section = markdown.split(heading + "\n", 1)[1].splitlines()
    start = next(i for i, ln in enumerate(section) if ln.startswith("|"))
    rows = []
    for ln in section[start:]:
        if not ln.startswith("|"):
            break
        rows.append([c.strip() for c in re.split(r"(?<!\\)\|", ln)[1:-1]])
    return rows[2:]  # header and separator


def test_markdown_summary_english(results: list[Result]) -> None:
    md = MarkdownRenderer(_meta("en")).transform(results)
    assert md.startswith("# ISMAP scan summary\n")
    assert "`20261130T010203Z-1a2b3c4d`" in md
    assert "2026-11-30 10:02:03 JST" in md  # 01:02:03Z shown in Asia/Tokyo
    totals = _table_rows(md, "## Results by verdict")
    assert totals[:4] == [["PASS", "1"], ["FAIL", "3"], ["Not applicable", "1"], ["ERROR", "1"]]
    severity = dict(map(tuple, _table_rows(md, "## Failures by severity")))  # type: ignore[arg-type]
    assert severity == {"Critical": "1", "High": "0", "Medium": "2", "Low": "0", "Info": "0"}
    failures = _table_rows(md, "## Failures (3)")
    assert len(failures) == 3
    assert failures[0][:2] == ["Critical", "`aws.iam.root_mfa_enabled`"]  # worst first
    assert failures[0][4] == f"{OTHER_ACCOUNT} / global"
    assert failures[0][5] == "6.2.1 (full); 6.2.2 (partial)"
    assert (
        failures[1][2] == "Not met: Title of aws.s3.bucket\\_versioning\\_enabled — Versioning is Suspended"
    )
    errors = _table_rows(md, "## Could not be evaluated (1)")
    assert errors[0][0] == "`aws.ec2.security_group_no_public_ssh`"
    assert "AccessDenied" in errors[0][3]
    controls = _table_rows(md, "## ISMAP control status (1)")
    assert controls == [["`9.4.1`", "Backups \\| copies", "Non-compliant", "PASS 1, FAIL 2", "1"]]
    assert f"- aws {ACCOUNT} ap\\-northeast\\-3" not in md  # only a leading marker is escaped
    assert f"- aws {ACCOUNT} ap-northeast-3: ec2:DescribeSecurityGroups AccessDenied" in md


def test_markdown_escapes_cloud_supplied_text(results: list[Result]) -> None:
    md = MarkdownRenderer(_meta("en")).transform(results)
    # The evil name stays inside one cell of one row: "|" escaped, the newline shown as <br>.
    row = next(ln for ln in md.splitlines() if "cmd()" in ln)
    assert "logs\\|prod<br>=cmd()" in row
    assert len(re.split(r"(?<!\\)\|", row)) == 8  # 6 cells between 7 unescaped pipes
    assert "logs|prod\n" not in md


def test_markdown_summary_japanese_uses_same_template(results: list[Result]) -> None:
    md = MarkdownRenderer(_meta("ja")).transform(results)
    assert md.startswith("# ISMAP スキャン結果サマリー\n")
    assert "## 不合格 (3)" in md
    assert "aws.iam.root\\_mfa\\_enabled のタイトル" in md
    assert "6.2.1 (完全); 6.2.2 (部分)" in md
    assert "| 緊急 |" in md
    assert "非準拠" in md
    assert "Title of" not in md


def test_markdown_scope_per_provider() -> None:
    scope = {
        "providers": ["aws"],
        "accounts": {"aws": [ACCOUNT, OTHER_ACCOUNT]},
        "regions": {"aws": ["ap-northeast-1", "ap-northeast-3"]},
    }
    md = MarkdownRenderer(_meta("en", scope=scope)).transform([])
    assert f"| Accounts | aws: {ACCOUNT}, {OTHER_ACCOUNT} |" in md
    assert "| Regions | aws: ap\\-northeast\\-1" not in md
    assert "| Regions | aws: ap-northeast-1, ap-northeast-3 |" in md
    md = MarkdownRenderer(_meta("ja", scope={})).transform([])
    assert "| リージョン | なし |" in md


def test_markdown_without_controls_or_problems() -> None:
    only_pass = [_result("aws.s3.x", Verdict.PASS, Severity.LOW, "arn:aws:s3:::a")]
    md = MarkdownRenderer(_meta("en", controls=None, unseen=[])).transform(only_pass)
    assert "No check failed." in md
    assert "Every check could be evaluated." in md
    assert "No collection gaps were reported." in md
    assert "ISMAP control status" not in md


def test_md_helpers() -> None:
    assert md_cell("a|b\r\nc<d>") == "a\\|b<br>c\\<d\\>"
    assert md_cell("[x](javascript:alert(1))") == "\\[x\\](javascript:alert(1))"
    assert md_cell("1. item") == "1\\. item"
    assert md_cell("6.2.1 (full)") == "6.2.1 (full)"
    assert md_cell("- item") == "\\- item"
    assert md_cell("a-b") == "a-b"
    assert md_code("arn:aws:s3:::a|b") == "`arn:aws:s3:::a\\|b`"
    assert md_code("a`b") == "``a`b``"
    assert md_code("x\ny") == "`x y`"


# --- csv -----------------------------------------------------------------------------------------------


def _read_csv(path: Path) -> list[dict[str, str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM, so Excel reads the Japanese as UTF-8
    return list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_csv_rows(results: list[Result], tmp_path: Path, lang: str) -> None:
    [path] = write_reports(results, tmp_path, ["csv"], _meta(lang))
    rows = _read_csv(path)
    with path.open(encoding="utf-8-sig", newline="") as fh:
        assert tuple(next(csv.reader(fh))) == COLUMNS
    assert len(rows) == len(results)
    for row, r in zip(rows, results, strict=True):
        assert row["finding_key"] == r.finding_key
        assert row["verdict"] == r.verdict.value
        assert row["title"] == r.title[lang]
        assert row["remediation"] == r.remediation[lang]
        assert row["remediation_url"] == "https://docs.aws.amazon.com/s3/"
    root = rows[3]
    # Coverage words in the report's language ("(部分)" in Japanese, as in every other report).
    assert (
        root["controls"]
        == {
            "en": "6.2.1 (full); 6.2.2 (partial)",
            "ja": "6.2.1 (完全); 6.2.2 (部分)",
        }[lang]
    )
    evil = rows[2]
    # Kept whole, line break included. Only a cell's first character can start a formula, so the "=" on
    # the second line is harmless.
    assert evil["resource_name"] == EVIL_NAME
    # A FAIL says the desired state (the title) is not met, in the report's language; the check's own
    # reason follows.
    not_met = {"en": "Not met: ", "ja": "未達: "}[lang]
    assert evil["message"] == f"{not_met}{evil['title']} — =1+1"


def test_csv_guards_every_formula_start() -> None:
    for bad in ("=cmd()", "+1", "-1", "@SUM(A1)", "\tx", "\rx", "  =x", "＝x"):
        assert guard_cell(bad) == "'" + bad
    for ok in ("arn:aws:s3:::a", "", "a=b", "111122223333"):
        assert guard_cell(ok) == ok


def test_csv_transform_guards_cells(results: list[Result]) -> None:
    rows = CsvRenderer(_meta()).transform(results)
    assert all(not c or c[0] not in "=+-@" for row in rows for c in row)


# --- sarif ---------------------------------------------------------------------------------------------


def _sarif(results: list[Result], tmp_path: Path, lang: str = "en") -> dict[str, Any]:
    [path] = write_reports(results, tmp_path, ["sarif"], _meta(lang))
    log: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return log


def _assert_valid_sarif(log: dict[str, Any]) -> None:
    validator = Draft4Validator(SARIF_SCHEMA, format_checker=Draft4Validator.FORMAT_CHECKER)
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(log)]
    assert errors == []


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_sarif_validates_and_holds_only_failures(results: list[Result], tmp_path: Path, lang: str) -> None:
    log = _sarif(results, tmp_path, lang)
    _assert_valid_sarif(log)
    assert log["version"] == "2.1.0"
    [run] = log["runs"]
    failures = [r for r in results if r.verdict is Verdict.FAIL]
    assert len(run["results"]) == len(failures) == 3
    by_key = {r.finding_key: r for r in failures}
    assert {res["partialFingerprints"][FINGERPRINT_KEY] for res in run["results"]} == set(by_key)
    assert run["results"][0]["ruleId"] == "aws.iam.root_mfa_enabled"  # most severe first
    driver = run["tool"]["driver"]
    assert driver["name"] == "ismap-scan"
    assert driver["version"] == "0.1.0"
    assert driver["informationUri"] == "https://example.com/ismap-scan"
    rule_ids = [rule["id"] for rule in driver["rules"]]
    assert sorted(rule_ids) == ["aws.iam.root_mfa_enabled", "aws.s3.bucket_versioning_enabled"]
    for res in run["results"]:
        source = by_key[res["partialFingerprints"][FINGERPRINT_KEY]]
        rule = driver["rules"][res["ruleIndex"]]
        assert rule["id"] == res["ruleId"] == source.check_id
        assert rule["shortDescription"]["text"] == source.title[lang]
        assert rule["properties"]["security-severity"] == SECURITY_SEVERITY[source.severity]
        assert rule["properties"]["tags"] == ["security"] + [f"ISMAP-{c.id}" for c in source.controls]
        [location] = res["locations"]
        assert location["physicalLocation"]["artifactLocation"]["uri"] == artifact_uri(source)
        [logical] = location["logicalLocations"]
        assert logical == {
            "name": source.resource_name,
            "fullyQualifiedName": source.resource_id,
            "kind": "resource",
        }
    levels = {rule["id"]: rule["defaultConfiguration"]["level"] for rule in driver["rules"]}
    assert levels == {"aws.iam.root_mfa_enabled": "error", "aws.s3.bucket_versioning_enabled": "warning"}
    assert run["properties"]["truncated"] is False
    assert run["invocations"][0]["startTimeUtc"] == T0


def test_sarif_critical_maps_to_github_critical() -> None:
    # GitHub: over 9.0 is critical, 7.0-8.9 high, 4.0-6.9 medium, 3.9 or less low.
    assert float(SECURITY_SEVERITY[Severity.CRITICAL]) > 9.0
    assert 7.0 <= float(SECURITY_SEVERITY[Severity.HIGH]) < 9.0
    assert 4.0 <= float(SECURITY_SEVERITY[Severity.MEDIUM]) < 7.0
    assert float(SECURITY_SEVERITY[Severity.LOW]) < 4.0


def test_sarif_artifact_uris_are_plain_relative_paths(results: list[Result]) -> None:
    for r in results:
        uri = artifact_uri(r)
        assert re.fullmatch(r"[A-Za-z0-9._~%-]+(/[A-Za-z0-9._~%-]+){4}", uri), uri
    evil = _result("aws.s3.x", Verdict.FAIL, Severity.LOW, "arn:aws:s3:::a/../b c|d")
    assert (
        artifact_uri(evil)
        == "aws/111122223333/ap-northeast-1/aws.s3.bucket/arn%3Aaws%3As3%3A%3A%3Aa%2F..%2Fb%20c%7Cd"
    )


def test_sarif_with_no_failures_is_valid(tmp_path: Path) -> None:
    log = _sarif([_result("aws.s3.x", Verdict.PASS, Severity.LOW, "arn:aws:s3:::a")], tmp_path)
    _assert_valid_sarif(log)
    assert log["runs"][0]["results"] == []
    assert log["runs"][0]["tool"]["driver"]["rules"] == []


def test_sarif_truncates_least_severe_first_by_count(results: list[Result]) -> None:
    log = SarifRenderer(_meta(), max_results=2).transform(results)
    _assert_valid_sarif(log)
    [run] = log["runs"]
    assert [res["ruleId"] for res in run["results"]] == [
        "aws.iam.root_mfa_enabled",
        "aws.s3.bucket_versioning_enabled",
    ]
    assert run["properties"]["truncated"] is True
    assert run["properties"]["truncation"]["failures"] == 3
    assert run["properties"]["truncation"]["included"] == 2


def test_sarif_truncates_by_compressed_size() -> None:
    many = [
        _result(
            f"aws.s3.check_{i % 7}",
            Verdict.FAIL,
            Severity.HIGH if i < 10 else Severity.LOW,
            f"arn:aws:s3:::bucket-{i:04d}-{'x' * 40}",
            message=f"incompressible-ish {i * 7919:x} {i * 104729:x}",
        )
        for i in range(300)
    ]
    renderer = SarifRenderer(_meta())
    full = renderer.transform(many)
    full_size = renderer._gzip_size(full)
    limit = full_size // 3
    small = SarifRenderer(_meta(), max_gzip_bytes=limit)
    log = small.transform(many)
    kept = log["runs"][0]["results"]
    assert small._gzip_size(log) <= limit
    assert 10 < len(kept) < 300
    assert all(res["level"] == "error" for res in kept[:10])  # the high-severity ones survive
    assert log["runs"][0]["properties"]["truncation"]["included"] == len(kept)
    # The largest prefix that fits was kept: one more result would not fit.
    bigger = small._log(sorted(many, key=lambda r: -r.severity.rank)[: len(kept) + 1], len(many))
    assert small._gzip_size(bigger) > limit


def test_sarif_rule_tags_stay_within_github_limits() -> None:
    controls = tuple((f"1.{i}", "partial") for i in range(25))
    failing = [_result("aws.s3.x", Verdict.FAIL, Severity.LOW, "arn:aws:s3:::a", controls=controls)]
    [rule] = SarifRenderer(_meta()).transform(failing)["runs"][0]["tool"]["driver"]["rules"]
    assert len(rule["properties"]["tags"]) == 10  # GitHub shows 10 tags, rejects more than 20
    assert len(rule["properties"]["ismapControls"]) == 25  # nothing is lost


def test_read_results_ignores_unknown_fields(tmp_path: Path) -> None:
    result = _result("aws.s3.x", Verdict.FAIL, Severity.LOW, "arn:aws:s3:::a")
    path = tmp_path / "results.jsonl"
    path.write_text(canonical_json(result.to_dict() | {"added_later": 1}) + "\n", encoding="utf-8")
    assert read_results(path) == [result]


def test_sarif_information_uri_falls_back_to_package_metadata(results: list[Result]) -> None:
    from importlib.metadata import metadata

    declared = [
        url.strip()
        for label, _, url in (u.partition(",") for u in metadata("ismap-scan").get_all("Project-URL") or [])
        if label.strip().lower() in ("homepage", "home", "source", "repository")
    ]
    log = SarifRenderer(_meta(information_uri=None)).transform(results)
    _assert_valid_sarif(log)
    driver = log["runs"][0]["tool"]["driver"]
    assert driver.get("informationUri") == (declared[0] if declared else None)


def test_markdown_says_when_gaps_are_unknown_and_when_results_are_demo(tmp_path: Path) -> None:
    """`report` on a bare results file must not claim "no collection gaps"; demo results say so."""
    from ismap_scan.reports import ReportMeta, write_reports

    meta = ReportMeta(
        scan_id="20261130T000000Z-abcdef",
        tool_version="0.1.0",
        check_pack_hash="0" * 64,
        catalog_version="2024-07",
        started_at="2026-11-30T00:00:00Z",
        finished_at="2026-11-30T00:00:01Z",
        language="en",
        unseen=None,
        demo=True,
    )
    (path,) = write_reports([], tmp_path, ["md"], meta)
    text = path.read_text(encoding="utf-8")
    assert "No collection gaps were reported" not in text
    assert "without its snapshot" in text
    assert "built-in demo estate" in text
    assert oct(path.stat().st_mode & 0o777) != "0o600"
