"""Hostile and malformed input: each is refused with a clear ``file:line`` error (exit 2), never a traceback,
a hang or a silent "0 results, ok". One test per attack found in review."""

from __future__ import annotations

import gzip
import json
import shutil
import textwrap
import zipfile
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from ismap_scan import snapshot as snapshot_mod
from ismap_scan import yamlutil
from ismap_scan.cli import cli
from ismap_scan.engine.compile import ExpressionError, compile_expression
from ismap_scan.errors import InputError, InputErrors
from ismap_scan.ismap import importer
from ismap_scan.ismap.assertion import load_assertion, notes
from ismap_scan.model import Resource, Result, Severity, Verdict, canonical_json
from ismap_scan.reports.jsonl import read_results
from ismap_scan.scan import new_scan_folder
from ismap_scan.snapshot import read_manifest_beside, read_snapshot, write_snapshot

ROOT = Path(__file__).resolve().parents[2]


def _record(rid: str = "arn:aws:s3:::a", **over: Any) -> dict[str, Any]:
    d: dict[str, Any] = {
        "provider": "aws",
        "account": "111122223333",
        "region": "ap-northeast-1",
        "type": "aws.s3.bucket",
        "id": rid,
        "name": rid.rsplit(":", 1)[-1],
        "collected_at": "2026-11-30T01:02:03Z",
        "data": {"Name": "a"},
        "errors": [],
        "redactions": [],
    }
    d.update(over)
    return d


def _write_lines(path: Path, lines: list[str], *, gz: bool = True) -> Path:
    body = "".join(line + "\n" for line in lines).encode("utf-8")
    path.write_bytes(gzip.compress(body) if gz else body)
    return path


# ------------------------------------------------------------------------------------------- YAML limits


def _billion_laughs(levels: int = 9) -> str:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for k in range(1, levels):
        lines.append(f"a{k}: &a{k} [" + ",".join([f"*a{k - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def test_yaml_alias_bomb_is_refused_quickly_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "bomb.yaml"
    path.write_text(_billion_laughs(), encoding="utf-8")
    with pytest.raises(InputError, match=r"too many aliases \(YAML bomb\?\)") as err:
        yamlutil.load_yaml(path)
    assert err.value.line is not None and err.value.line > 1


def test_yaml_with_a_few_aliases_still_loads(tmp_path: Path) -> None:
    path = tmp_path / "ok.yaml"
    path.write_text(_billion_laughs(levels=3), encoding="utf-8")  # 9*9*9 = 729 leaves: fine
    doc = yamlutil.load_yaml(path)
    assert len(doc["a2"]) == 9 and doc["a2"][0][0] == ["lol"] * 9


def test_yaml_alias_count_is_capped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(yamlutil, "MAX_ALIASES", 5)
    path = tmp_path / "many.yaml"
    path.write_text("a: &x 1\nb: [" + ", ".join(["*x"] * 6) + "]\n", encoding="utf-8")
    with pytest.raises(InputError, match="too many aliases") as err:
        yamlutil.load_yaml(path)
    assert err.value.line == 2


def test_yaml_over_the_size_limit_is_refused_before_parsing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(yamlutil, "MAX_YAML_CHARS", 1000)
    path = tmp_path / "big.yaml"
    path.write_text("k: " + "x" * 2000 + "\n", encoding="utf-8")
    with pytest.raises(InputError, match="over the limit of 1000"):
        yamlutil.load_yaml(path)
    with pytest.raises(InputError, match="over the limit of 1000"):
        yamlutil.load_yaml(path, text=path.read_text(encoding="utf-8"))


def test_yaml_nested_too_deeply_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "deep.yaml"
    path.write_text("a: " + "[" * 5000 + "]" * 5000 + "\n", encoding="utf-8")
    with pytest.raises(InputError, match="nested too deeply"):
        yamlutil.load_yaml(path)


def test_config_with_an_alias_bomb_in_params_exits_2(tmp_path: Path) -> None:
    cfg = tmp_path / "ismap-scan.yaml"
    body = textwrap.indent(_billion_laughs(), "      ").replace("a0:", "max_age_days:", 1)
    cfg.write_text(
        "checks:\n  params:\n    aws.iam.user_access_keys_rotated:\n" + body,
        encoding="utf-8",
    )
    res = CliRunner().invoke(cli, ["checks", "list", "--config", str(cfg)], obj={})
    assert res.exit_code == 2 and "YAML bomb" in res.output


def test_assertion_loader_shares_the_yaml_limits(tmp_path: Path) -> None:
    path = tmp_path / "assertion.yaml"
    path.write_text(_billion_laughs(), encoding="utf-8")
    with pytest.raises(InputError, match="too many aliases"):
        load_assertion(path)


# ------------------------------------------------------------------------------------ JMESPath depth


@pytest.mark.parametrize("expr", ["(" * 5000 + "`true`" + ")" * 5000, "!" * 5000 + "`true`"])
def test_deeply_nested_expression_is_an_expression_error(expr: str) -> None:
    with pytest.raises(ExpressionError, match="nested too deeply"):
        compile_expression(expr)


def test_deep_assert_in_a_check_file_names_file_line_and_check(tmp_path: Path) -> None:
    (tmp_path / "aws").mkdir()
    (tmp_path / "aws" / "s3.yaml").write_text(
        "- id: aws.s3.zz_deep\n  resource: aws.s3.bucket\n  severity: low\n"
        "  title: {en: t, ja: t}\n  remediation: {en: r, ja: r}\n"
        f'  assert: "{"(" * 5000}`true`{")" * 5000}"\n',
        encoding="utf-8",
    )
    res = CliRunner().invoke(cli, ["checks", "list", "--checks-dir", str(tmp_path)], obj={})
    assert res.exit_code == 2
    assert "s3.yaml:6" in res.output and "aws.s3.zz_deep" in res.output and "nested too deeply" in res.output


# ----------------------------------------------------------------------------------------- snapshots


@pytest.mark.parametrize(
    "make",
    [
        lambda p: p.write_bytes(b""),
        lambda p: p.write_bytes(gzip.compress(b"")),
        lambda p: p.write_bytes(gzip.compress(b"\n  \n\t\n")),
    ],
    ids=["zero-bytes", "empty-gzip", "blank-lines"],
)
def test_snapshot_without_records_is_refused(tmp_path: Path, make: Any) -> None:
    path = tmp_path / "snapshot.jsonl.gz"
    make(path)
    with pytest.raises(InputError, match="no records"):
        read_snapshot(path)
    res = CliRunner().invoke(cli, ["evaluate", str(path), "-o", str(tmp_path / "out")], obj={})
    assert res.exit_code == 2 and "no records" in res.output
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_snapshot_line_over_the_cap_is_refused_without_reading_it_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(snapshot_mod, "MAX_LINE_BYTES", 4096)
    path = tmp_path / "snapshot.jsonl.gz"
    # One good record, then a line of spaces with no newline (the "900 MB of spaces" gzip, scaled down).
    path.write_bytes(gzip.compress((canonical_json(_record()) + "\n").encode() + b" " * 100_000))
    with pytest.raises(InputError, match="longer than 4096 bytes") as err:
        read_snapshot(path)
    assert err.value.line == 2


@pytest.mark.parametrize("depth", [5000, 100_000])
def test_snapshot_json_nested_too_deeply_names_the_line(tmp_path: Path, depth: int) -> None:
    deep = json.dumps(_record(data={"x": 1}))[:-1] + ', "deep": ' + "[" * depth + "]" * depth + "}"
    path = _write_lines(tmp_path / "s.jsonl.gz", [canonical_json(_record()), deep])
    with pytest.raises(InputError, match="nested too deeply") as err:
        read_snapshot(path)
    assert err.value.line == 2


@pytest.mark.parametrize(
    ("over", "words"),
    [
        ({"data": ["a", "b"]}, "'data' must be an object, got array"),
        ({"data": False}, "'data' must be an object, got boolean"),
        ({"data": "x"}, "'data' must be an object, got string"),
        ({"data": None}, "'data' must be an object, got null"),
        ({"errors": "oops"}, "'errors' must be a list"),
        ({"errors": {"field": "*"}}, "'errors' must be a list"),
        ({"errors": ["x"]}, "'errors' must be a list of objects"),
        ({"redactions": "data.Tags"}, "'redactions' must be a list of strings"),
        ({"redactions": [1]}, "'redactions' must be a list of strings"),
        ({"id": None}, "'id' must be a non-empty string"),
        ({"id": 5}, "'id' must be a non-empty string"),
        ({"provider": None}, "'provider' must be a non-empty string"),
        ({"account": 111122223333}, "'account' must be a string"),
        ({"name": ["n"]}, "'name' must be a string"),
    ],
)
def test_resource_from_dict_refuses_wrong_types(tmp_path: Path, over: dict[str, Any], words: str) -> None:
    with pytest.raises((TypeError, ValueError), match=words.replace("(", r"\(")):
        Resource.from_dict(_record(**over))
    path = _write_lines(
        tmp_path / "s.jsonl.gz", [canonical_json(_record("arn:aws:s3:::z")), json.dumps(_record(**over))]
    )
    with pytest.raises(InputError, match="not a snapshot record") as err:
        read_snapshot(path)
    assert err.value.line == 2 and words.split(" must")[0] in str(err.value)


def test_resource_from_dict_round_trips_and_keeps_defaults() -> None:
    d = _record()
    assert Resource.from_dict(d).to_dict() == d
    minimal = {k: d[k] for k in ("provider", "account", "region", "type", "id", "collected_at")}
    r = Resource.from_dict(minimal)
    assert r.name == d["id"] and r.data == {} and r.errors == [] and r.redactions == []


def test_duplicate_snapshot_records_name_both_lines(tmp_path: Path) -> None:
    path = _write_lines(
        tmp_path / "s.jsonl",
        [
            canonical_json(_record("arn:aws:s3:::a")),
            canonical_json(_record("arn:aws:s3:::b")),
            "",
            canonical_json(_record("arn:aws:s3:::a", data={"Name": "other"})),
        ],
        gz=False,
    )
    with pytest.raises(InputError, match="duplicate record") as err:
        read_snapshot(path)
    assert err.value.line == 4 and "also on line 1" in str(err.value)
    # The same ID in another region is another resource.
    ok = _write_lines(
        tmp_path / "ok.jsonl",
        [canonical_json(_record()), canonical_json(_record(region="us-east-1"))],
        gz=False,
    )
    assert len(read_snapshot(ok)[0]) == 2


def test_written_snapshots_still_read_back(tmp_path: Path) -> None:
    rs = [Resource.from_dict(_record(f"arn:aws:s3:::{n}")) for n in "abc"]
    digest = write_snapshot(tmp_path / "s.jsonl.gz", rs)
    back, d2 = read_snapshot(tmp_path / "s.jsonl.gz")
    assert [r.id for r in back] == [r.id for r in rs] and d2 == digest


@pytest.mark.parametrize(
    ("manifest", "words"),
    [
        ({"snapshot": "abc"}, "'snapshot' must be an object"),
        ({"provider_failures": ["aws"]}, "'provider_failures' must be an object"),
        ({"provider_failures": {"aws": 5}}, "'provider_failures' must map provider names"),
        ({"unseen": 5}, "'unseen' must be a list"),
        ({"unseen": [1]}, "'unseen' must be a list of strings"),
        ({"scan_id": 7}, "'scan_id' must be a string"),
        ({"snapshot": {"sha256": 5}}, "'snapshot.sha256' must be a string"),
        ({"demo": "yes"}, "'demo' must be a boolean"),
    ],
)
def test_manifest_beside_the_snapshot_is_shape_checked(
    tmp_path: Path, manifest: dict[str, Any], words: str
) -> None:
    snap = write_snapshot_for(tmp_path)
    (tmp_path / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(InputError, match=words):
        read_manifest_beside(snap)
    res = CliRunner().invoke(cli, ["evaluate", str(snap), "-o", str(tmp_path / "out")], obj={})
    assert res.exit_code == 2 and "manifest.json" in res.output, res.output


def write_snapshot_for(folder: Path) -> Path:
    path = folder / "snapshot.jsonl.gz"
    write_snapshot(path, [Resource.from_dict(_record())])
    return path


def test_well_formed_manifest_beside_is_returned(tmp_path: Path) -> None:
    snap = write_snapshot_for(tmp_path)
    doc = {"scan_id": "x", "snapshot": {"sha256": "ab"}, "provider_failures": {}, "unseen": [], "demo": False}
    (tmp_path / "manifest.json").write_text(json.dumps(doc), encoding="utf-8")
    assert read_manifest_beside(snap) == doc


# ------------------------------------------------------------------------------------------- results


def _result(rid: str, verdict: Verdict = Verdict.PASS) -> str:
    r = Result(
        check_id="aws.s3.bucket_versioning_enabled",
        verdict=verdict,
        severity=Severity.MEDIUM,
        provider="aws",
        account="111122223333",
        region="ap-northeast-1",
        resource_type="aws.s3.bucket",
        resource_id=rid,
        resource_name=rid,
        collected_at="2026-11-30T01:02:03Z",
    )
    return canonical_json(r.to_dict())


def test_results_with_deep_json_name_the_line(tmp_path: Path) -> None:
    path = tmp_path / "results.jsonl"
    path.write_text(_result("a") + "\n" + "[" * 5000 + "]" * 5000 + "\n", encoding="utf-8")
    with pytest.raises(InputError, match="nested too deeply") as err:
        read_results(path)
    assert err.value.line == 2


def test_results_with_a_duplicate_finding_key_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "results.jsonl"
    path.write_text(
        "\n".join([_result("a"), _result("b"), _result("a", Verdict.FAIL)]) + "\n", encoding="utf-8"
    )
    with pytest.raises(InputError, match="duplicate finding") as err:
        read_results(path)
    assert err.value.line == 3 and "also on line 1" in str(err.value)
    path.write_text("\n".join([_result("a"), _result("b")]) + "\n", encoding="utf-8")
    assert [r.resource_id for r in read_results(path)] == ["a", "b"]


# ------------------------------------------------------------------------------------------ output.dir


def test_output_dir_that_is_a_file_is_an_input_error(tmp_path: Path) -> None:
    afile = tmp_path / "file"
    afile.write_text("x", encoding="utf-8")
    with pytest.raises(InputError, match="not a folder"):
        new_scan_folder(afile)
    with pytest.raises(InputError, match="cannot create the scan folder"):
        new_scan_folder(afile / "below")


def test_output_dir_from_config_that_is_a_file_exits_2(tmp_path: Path) -> None:
    snap = write_snapshot_for(tmp_path)
    (tmp_path / "taken").write_text("x", encoding="utf-8")
    cfg = tmp_path / "ismap-scan.yaml"
    cfg.write_text("output: {dir: taken}\n", encoding="utf-8")
    res = CliRunner().invoke(cli, ["evaluate", str(snap), "--config", str(cfg)], obj={})
    assert res.exit_code == 2 and "output.dir" in res.output and "not a folder" in res.output


# ------------------------------------------------------------------------------------------- workbooks


def _xlsx(path: Path, sheet_xml_edit: Any = None) -> Path:
    from openpyxl import Workbook

    wb = Workbook()
    wb.active["A1"] = "5.1.1"
    wb.active["B1"] = "policy"
    wb.save(path)
    if sheet_xml_edit is None:
        return path
    tmp = path.with_suffix(".tmp")
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = sheet_xml_edit(data)
            zout.writestr(info.filename, data)
    shutil.move(tmp, path)
    return path


def test_workbook_with_a_far_away_cell_is_refused_before_materialising(tmp_path: Path) -> None:
    def far_cell(xml: bytes) -> bytes:
        cell = b'<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>'
        return xml.replace(b"</sheetData>", cell + b"</sheetData>")

    path = _xlsx(tmp_path / "dim.xlsx", far_cell)
    with pytest.raises(InputError, match="1048576 rows × 16384 columns, over the limit"):
        importer.read_sheets(path)


def test_workbook_with_a_huge_merged_range_is_refused_before_loading(tmp_path: Path) -> None:
    def merge_all(xml: bytes) -> bytes:
        merge = b'<mergeCells count="1"><mergeCell ref="A1:XFD1048576"/></mergeCells>'
        return xml.replace(b"</sheetData>", b"</sheetData>" + merge)

    path = _xlsx(tmp_path / "merge.xlsx", merge_all)
    with pytest.raises(InputError, match=r"merged ranges .* cover more than"):
        importer.read_sheets(path)


def test_workbook_part_over_the_size_limit_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importer, "MAX_XLSX_PART_BYTES", 100)
    with pytest.raises(InputError, match="zip bomb"):
        importer.read_sheets(_xlsx(tmp_path / "big.xlsx"))


def test_normal_workbook_with_a_merged_range_still_reads(tmp_path: Path) -> None:
    def merge_ab(xml: bytes) -> bytes:
        return xml.replace(
            b"</sheetData>", b'</sheetData><mergeCells count="1"><mergeCell ref="B1:C1"/></mergeCells>'
        )

    sheets = importer.read_sheets(_xlsx(tmp_path / "ok.xlsx", merge_ab))
    assert sheets[0][1][0][:3] == ["5.1.1", "policy", "policy"]


# --------------------------------------------------------------------------------------- checks test


_CHECK = """\
- id: aws.s3.zz_named
  resource: aws.s3.bucket
  severity: low
  title: {en: Named, ja: 名前あり}
  assert: "data.Name == 'good'"
  remediation: {en: R, ja: R}
"""

_PASSING = """\
check: aws.s3.zz_named
records:
  - {type: aws.s3.bucket, id: "arn:aws:s3:::good", data: {Name: good}}
expected: {PASS: ["arn:aws:s3:::good"]}
"""

_FAILING = """\
check: aws.s3.zz_named
records:
  - {type: aws.s3.bucket, id: "arn:aws:s3:::bad", data: {Name: bad}}
expected: {PASS: ["arn:aws:s3:::bad"]}
"""


def test_checks_test_counts_case_files_not_problems(tmp_path: Path) -> None:
    (tmp_path / "checks" / "aws").mkdir(parents=True)
    (tmp_path / "checks" / "aws" / "s3.yaml").write_text(_CHECK, encoding="utf-8")
    cases = tmp_path / "cases"
    cases.mkdir()
    (cases / "a.yaml").write_text(_PASSING, encoding="utf-8")
    (cases / "b.yaml").write_text(_PASSING, encoding="utf-8")
    (cases / "c.yaml").write_text(_PASSING, encoding="utf-8")
    (cases / "d.yaml").write_text(_FAILING, encoding="utf-8")
    # Two problems in one file: an unknown top-level key and records that are not a list.
    (cases / "e.yaml").write_text(
        "check: aws.s3.zz_named\nrecords: 5\nexpected: {PASS: []}\nsurprise: 1\n", encoding="utf-8"
    )
    with pytest.raises(InputErrors) as err:
        from ismap_scan.engine import load_checks, run_case_file

        run_case_file(cases / "e.yaml", load_checks([tmp_path / "checks"], include_python=False))
    assert len(err.value.errors) >= 2  # the case this test is about: one file, several problems
    res = CliRunner().invoke(cli, ["checks", "test", str(tmp_path)], obj={})
    assert res.exit_code == 2
    assert "3 passed, 1 failed" in res.output and "1 invalid case files" in res.output, res.output


# ------------------------------------------------------------------------------------------ assertions


_WAIVER = """\
  - id: {id}
    check: "{check}"
    resource: "{resource}"
    reason: Accepted for the test.
    approver: CISO (Test)
    expires: 2099-03-31
{extra}"""


def _assertion_with_waivers(tmp_path: Path, *waivers: str) -> Path:
    text = (ROOT / "examples" / "assertion.yaml").read_text(encoding="utf-8")
    head, _sep, _rest = text.partition("\nwaivers:\n")
    path = tmp_path / "assertion.yaml"
    path.write_text(head + "\nwaivers:\n" + "".join(waivers), encoding="utf-8")
    return path


def test_duplicate_waiver_ids_are_an_error_with_both_lines(tmp_path: Path) -> None:
    w = _WAIVER.format(id="wv-1", check="aws.s3.*", resource="arn:aws:s3:::a", extra="")
    path = _assertion_with_waivers(tmp_path, w, w)
    with pytest.raises(InputError) as err:
        load_assertion(path)
    text = str(err.value)
    assert "duplicate waiver ID wv-1 (first at line" in text and "waivers[1]" in text


def test_waiver_of_everything_is_an_error_unless_scope_all(tmp_path: Path) -> None:
    everything = _WAIVER.format(id="wv-all", check="*", resource="*", extra="")
    with pytest.raises(InputError, match="waives every finding; narrow it, or set scope: all"):
        load_assertion(_assertion_with_waivers(tmp_path, everything))
    confirmed = _WAIVER.format(id="wv-all", check="*", resource="*", extra="    scope: all\n")
    assertion = load_assertion(_assertion_with_waivers(tmp_path, confirmed))
    assert any("waiver wv-all waives every finding" in n for n in notes(assertion))
    res = CliRunner().invoke(
        cli, ["assertion", "validate", str(tmp_path / "assertion.yaml"), "--today", "2026-12-01"], obj={}
    )
    assert res.exit_code == 0 and "wv-all waives every finding" in res.output


def test_narrow_waivers_give_no_warning(tmp_path: Path) -> None:
    narrow = _WAIVER.format(id="wv-n", check="aws.s3.*", resource="*", extra="")
    assertion = load_assertion(_assertion_with_waivers(tmp_path, narrow))
    assert not [n for n in notes(assertion) if "waives every finding" in n]
