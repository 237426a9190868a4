"""The bundled ISMAP catalog and check map (integrity), their loaders (file:line errors), and the roll-up."""

from __future__ import annotations

import importlib.util
import re
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml

from ismap_scan import paths
from ismap_scan.engine import evaluate, load_checks
from ismap_scan.errors import InputError, InputErrors
from ismap_scan.mappings import (
    CONTROL_ID_RE,
    Catalog,
    ControlState,
    available_versions,
    load_catalog,
    load_check_map,
    rollup,
)
from ismap_scan.model import ControlRef, Resource, Result, Severity, Verdict

VERSION = "2024-07"
SHARED_CSV = Path(__file__).resolve().parents[3] / "shared" / "ismap" / "controls.csv"  # ../shared
REPO = Path(__file__).resolve().parents[2]

#: Detailed controls whose content a configuration check can observe (CHECKABLE.md, right-hand column).
#: Any other detailed control (notably the customer-facing .PB duties) must not be mapped.
MAPPABLE_DETAILED = {
    "9.4.2.2.B",
    "9.5.2.1.PB",
    "12.1.3.9.PB",
    "12.2.1.15",
    "13.1.3.1",
    "13.1.3.5",
    "13.2.3.7.P",
}


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog(VERSION)


@pytest.fixture(scope="module")
def check_map(catalog: Catalog) -> dict[str, list[ControlRef]]:
    return load_check_map(VERSION, catalog=catalog)


# --- the bundled catalog ---------------------------------------------------------------------------------


def test_bundled_version_is_listed() -> None:
    assert VERSION in available_versions()


def test_catalog_has_every_level(catalog: Catalog) -> None:
    levels: dict[str, int] = {}
    for c in catalog:
        levels[c.level] = levels.get(c.level, 0) + 1
    # README of the shared control facts: 121 objectives (114 ISO/IEC 27002:2013 + 7 cloud-specific), 38
    # publicly confirmed detailed controls, 14 clauses (5-18), 2 parts (governance, management criteria).
    assert levels["objective"] == 121
    assert levels["detailed"] == 38
    assert levels["clause"] == 14
    assert levels["part"] == 2
    assert len([c for c in catalog.objectives() if c.id.endswith(".P")]) == 7


def test_catalog_ids_and_parents(catalog: Catalog) -> None:
    raw = yaml.safe_load(
        (paths.mappings_dir() / "ismap" / VERSION / "catalog.yaml").read_text(encoding="utf-8")
    )
    ids = [c["id"] for c in raw["controls"]]
    assert len(ids) == len(set(ids)), "duplicate control IDs in catalog.yaml"
    for c in catalog:
        assert CONTROL_ID_RE.match(c.id), c.id
        if c.level in ("part", "clause"):
            assert c.parent is None, c.id
        else:
            assert c.parent in catalog, f"{c.id}: parent {c.parent} missing"
    assert [p.id for p in catalog.parents("12.4.1.15.PB")] == ["12.4.1", "12.4", "12"]
    assert catalog.objective_of("9.5.2.1.PB").id == "9.5.2.P"  # type: ignore[union-attr]
    assert catalog.objective_of("9.4") is None
    assert {c.id for c in catalog.children("9.4.2")} == {"9.4.2.2.B"}


def test_objective_parents_are_categories(catalog: Catalog) -> None:
    for c in catalog.objectives():
        assert catalog.controls[c.parent].level == "category", c.id  # type: ignore[index]
        assert c.part == "controls"
    for c in catalog:
        if c.level == "detailed":
            assert catalog.controls[c.parent].level == "objective", c.id  # type: ignore[index]


def test_suffix_flags_agree(catalog: Catalog) -> None:
    """``.B``/``.PB`` ⇔ basic statement requirement; ``.P``/``.PB`` ⇔ cloud-specific (GLOSSARY)."""
    for c in catalog:
        suffix = c.id.rsplit(".", 1)[-1] if re.search(r"\.(P|B|PB)$", c.id) else ""
        assert c.basic_statement_requirement == (suffix in ("B", "PB")), c.id
        assert c.cloud_specific == (suffix in ("P", "PB")), c.id


def test_japanese_titles(catalog: Catalog) -> None:
    assert catalog.ja_titles == "unofficial"
    for c in catalog:
        assert c.title["en"], c.id
        assert c.title["ja"], f"{c.id} has no Japanese title"
        assert re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", c.title["ja"]), c.id
    assert len({c.title["ja"] for c in catalog.objectives()}) == 121  # one distinct title per objective


@pytest.mark.skipif(not SHARED_CSV.is_file(), reason="shared controls.csv not available")
def test_catalog_is_reproducible_from_csv(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("build_catalog", REPO / "tools" / "build_catalog.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = tmp_path / "catalog.yaml"
    assert module.main(["--csv", str(SHARED_CSV), "--out", str(out)]) == 0
    bundled = paths.mappings_dir() / "ismap" / VERSION / "catalog.yaml"
    assert out.read_text(encoding="utf-8") == bundled.read_text(encoding="utf-8")


# --- the bundled check map -------------------------------------------------------------------------------


def test_check_map_matches_the_check_pack(check_map: dict[str, list[ControlRef]]) -> None:
    checks = load_checks()
    loaded = set(checks.ids())
    assert set(check_map) - loaded == set(), "mapped checks that do not exist"
    assert loaded - set(check_map) == set(), "checks without a control mapping"


def test_check_map_controls(catalog: Catalog, check_map: dict[str, list[ControlRef]]) -> None:
    for check_id, refs in check_map.items():
        assert refs, check_id
        assert len({r.id for r in refs}) == len(refs), check_id
        for ref in refs:
            control = catalog.get(ref.id)
            assert control is not None, f"{check_id}: {ref.id}"
            assert ref.coverage in ("full", "partial")
            assert control.part == "controls", f"{check_id}: {ref.id} is not in the controls criteria"
            assert control.level in ("objective", "detailed"), f"{check_id}: {ref.id} is a {control.level}"
            if control.level == "detailed":
                assert ref.id in MAPPABLE_DETAILED, (
                    f"{check_id}: {ref.id} is a customer-facing or unlisted duty"
                )
                # A detailed control is only ever mapped beside its objective.
                objective = catalog.objective_of(ref.id)
                assert objective is not None and objective.id in {r.id for r in refs}, f"{check_id}: {ref.id}"


# --- loaders: errors with file:line ----------------------------------------------------------------------

MINI_CATALOG = """\
version: "T1"
source: test
controls:
  - {id: "9", part: controls, level: clause, parent: null, title: {en: Access control, ja: アクセス制御},
     basic_statement_requirement: false, cloud_specific: false, edition: "2022-04", source: t}
  - {id: "9.4", part: controls, level: category, parent: "9", title: {en: System access},
     basic_statement_requirement: false, cloud_specific: false, edition: "2022-04", source: t}
  - {id: "9.4.2", part: controls, level: objective, parent: "9.4", title: {en: Log-on, ja: ログオン},
     basic_statement_requirement: false, cloud_specific: false, edition: "2022-04", source: t}
  - {id: "9.4.2.2.B", part: controls, level: detailed, parent: "9.4.2", title: {en: Non-password methods},
     basic_statement_requirement: true, cloud_specific: false, edition: "2022-04", source: t}
"""


def _write(base: Path, version: str, catalog: str, checks: str | None = None) -> Path:
    folder = base / version
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "catalog.yaml").write_text(catalog, encoding="utf-8")
    if checks is not None:
        (folder / "checks.yaml").write_text(textwrap.dedent(checks), encoding="utf-8")
    return folder


def _messages(exc: InputError) -> list[str]:
    return [str(e) for e in exc.errors] if isinstance(exc, InputErrors) else [str(exc)]


def test_tmp_catalog_loads(tmp_path: Path) -> None:
    _write(tmp_path, "T1", MINI_CATALOG)
    cat = load_catalog("T1", tmp_path)
    assert list(cat.controls) == ["9", "9.4", "9.4.2", "9.4.2.2.B"]
    assert cat.get("9.4") is not None and cat.controls["9.4"].title == {"en": "System access", "ja": ""}
    assert available_versions(tmp_path) == ["T1"]
    assert available_versions(tmp_path / "missing") == []


def test_unknown_and_bad_versions(tmp_path: Path) -> None:
    _write(tmp_path, "T1", MINI_CATALOG)
    with pytest.raises(InputError, match=r"unknown catalog version 'T9' \(available: T1\)"):
        load_catalog("T9", tmp_path)
    with pytest.raises(InputError, match="not a valid version name"):
        load_catalog("../T1", tmp_path)


def test_catalog_errors_name_file_and_line(tmp_path: Path) -> None:
    bad = MINI_CATALOG.replace('version: "T1"', 'version: "T0"')
    bad = bad.replace('{id: "9.4", part', '{id: "9.4x", part')  # line 6: bad ID
    bad = bad.replace(
        'parent: "9.4", title: {en: Log-on', 'parent: "9.9", title: {en: Log-on'
    )  # line 8: no parent
    bad += """\
  - {id: "9.4.2", part: controls, level: objective, parent: "9.4x", title: {en: Again},
     basic_statement_requirement: false, cloud_specific: false, edition: "2022-04", source: t}
"""
    folder = _write(tmp_path, "T1", bad)
    with pytest.raises(InputErrors) as info:
        load_catalog("T1", tmp_path)
    msgs = _messages(info.value)
    path = folder / "catalog.yaml"
    assert f"{path}:1: version: 'T0' does not match its folder 'T1'" in msgs
    assert f"{path}:6: controls[1].id: '9.4x' is not an ISMAP control ID" in msgs
    assert any(
        m.startswith(f"{path}:12: controls[4].id: duplicate control 9.4.2 (first at line 8)") for m in msgs
    )
    assert f"{path}:8: control 9.4.2: parent 9.9 is not in the catalog" in msgs


def test_catalog_schema_errors(tmp_path: Path) -> None:
    bad = MINI_CATALOG.replace("level: category", "level: chapter").replace(
        "source: test", "source: test\nextra: 1"
    )
    folder = _write(tmp_path, "T1", bad)
    with pytest.raises(InputErrors) as info:
        load_catalog("T1", tmp_path)
    msgs = _messages(info.value)
    path = folder / "catalog.yaml"
    assert any(m.startswith(f"{path}:3: extra: unknown key") for m in msgs)
    assert any(m.startswith(f"{path}:7: controls[1].level:") for m in msgs)


def test_check_map_loads(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "T1",
        MINI_CATALOG,
        """\
        catalog: "T1"
        checks:
          aws.iam.user_console_mfa_enabled:
            - {control: "9.4.2", coverage: partial}
            - {control: "9.4.2.2.B", coverage: full}
        """,
    )
    assert load_check_map("T1", tmp_path) == {
        "aws.iam.user_console_mfa_enabled": [ControlRef("9.4.2", "partial"), ControlRef("9.4.2.2.B", "full")]
    }


def test_check_map_errors_name_file_and_line(tmp_path: Path) -> None:
    folder = _write(
        tmp_path,
        "T1",
        MINI_CATALOG,
        """\
        catalog: "T2"
        checks:
          aws.iam.user_console_mfa_enabled:
            - {control: "9.4.2", coverage: partial}
            - {control: "9.4.7", coverage: partial}
            - {control: "9.4.2", coverage: full}
          aws.iam.empty: []
          NotACheck:
            - {control: "9.4.2", coverage: partial}
        """,
    )
    with pytest.raises(InputErrors) as info:
        load_check_map("T1", tmp_path)
    path = folder / "checks.yaml"
    assert set(_messages(info.value)) == {
        f"{path}:1: catalog: 'T2' does not match its folder 'T1'",
        f"{path}:5: check aws.iam.user_console_mfa_enabled: control '9.4.7' is not in catalog T1",
        f"{path}:6: check aws.iam.user_console_mfa_enabled: control 9.4.2 is mapped twice",
        f"{path}:7: check aws.iam.empty: maps to no control",
        f"{path}:8: check NotACheck: not a check ID (<provider>.<service>.<name>)",
    }


def test_check_map_bad_coverage_and_duplicate_key(tmp_path: Path) -> None:
    folder = _write(
        tmp_path,
        "T1",
        MINI_CATALOG,
        """\
        catalog: "T1"
        checks:
          aws.iam.user_console_mfa_enabled:
            - {control: "9.4.2", coverage: most}
        """,
    )
    with pytest.raises(InputErrors) as info:
        load_check_map("T1", tmp_path)
    (msg,) = _messages(info.value)
    assert msg.startswith(f"{folder / 'checks.yaml'}:4: checks.aws.iam.user_console_mfa_enabled[0].coverage:")
    (folder / "checks.yaml").write_text(
        'catalog: "T1"\nchecks:\n  aws.a.b:\n    - {control: "9.4.2", coverage: partial}\n'
        '  aws.a.b:\n    - {control: "9.4.2", coverage: partial}\n',
        encoding="utf-8",
    )
    with pytest.raises(InputError, match=r"checks\.yaml:5: invalid YAML: .*duplicate key 'aws\.a\.b'"):
        load_check_map("T1", tmp_path)


# --- roll-up ---------------------------------------------------------------------------------------------


def _result(check_id: str, verdict: Verdict, resource_id: str) -> Result:
    return Result(
        check_id=check_id,
        verdict=verdict,
        severity=Severity.HIGH,
        provider="aws",
        account="111122223333",
        region="global",
        resource_type="aws.iam.user",
        resource_id=resource_id,
        resource_name=resource_id,
        collected_at="2026-11-30T00:00:00Z",
    )


@pytest.fixture()
def mini_catalog(tmp_path: Path) -> Catalog:
    _write(tmp_path, "T1", MINI_CATALOG)
    return load_catalog("T1", tmp_path)


def _status(statuses: list[Any], control_id: str) -> Any:
    return next(s for s in statuses if s.id == control_id)


@pytest.mark.parametrize(
    ("verdicts", "coverage", "expected"),
    [
        (["PASS", "PASS"], "full", ControlState.COMPLIANT),
        (["PASS", "NOT_APPLICABLE"], "full", ControlState.COMPLIANT),
        (["PASS", "PASS"], "partial", ControlState.PARTIAL),
        (["PASS", "ERROR"], "full", ControlState.PARTIAL),
        (["PASS", "FAIL"], "full", ControlState.NON_COMPLIANT),
        (["FAIL"], "partial", ControlState.NON_COMPLIANT),
        (["NOT_APPLICABLE", "ERROR"], "full", ControlState.NOT_EVALUATED),
        (["ERROR"], "partial", ControlState.NOT_EVALUATED),
    ],
)
def test_rollup_rule(
    mini_catalog: Catalog, verdicts: list[str], coverage: str, expected: ControlState
) -> None:
    check_map = {"aws.iam.x": [ControlRef("9.4.2", coverage)]}
    results = [
        _result("aws.iam.x", Verdict(v), f"arn:aws:iam::111122223333:user/u{i}")
        for i, v in enumerate(verdicts)
    ]
    (status,) = rollup(results, check_map, mini_catalog)
    assert status.status is expected


def test_rollup_mixes_full_and_partial_checks(mini_catalog: Catalog) -> None:
    check_map = {
        "aws.iam.full_one": [ControlRef("9.4.2", "full")],
        "aws.iam.partial_one": [ControlRef("9.4.2", "partial"), ControlRef("9.4.2.2.B", "partial")],
        "aws.iam.unrelated": [ControlRef("9.4.2.2.B", "partial")],
    }
    alice, bob = "arn:aws:iam::111122223333:user/alice", "arn:aws:iam::111122223333:user/bob"
    results = [
        _result("aws.iam.full_one", Verdict.PASS, alice),
        _result("aws.iam.partial_one", Verdict.PASS, alice),
        _result("aws.iam.partial_one", Verdict.NOT_APPLICABLE, bob),
        _result("aws.iam.unrelated", Verdict.FAIL, bob),
        _result("aws.iam.not_mapped", Verdict.FAIL, bob),  # ignored: no mapping
    ]
    statuses = rollup(results, check_map, mini_catalog)
    assert [s.id for s in statuses] == ["9.4.2", "9.4.2.2.B"]  # catalog order
    objective, detailed = statuses
    assert objective.status is ControlState.COMPLIANT
    assert objective.counts == {"PASS": 2, "FAIL": 0, "NOT_APPLICABLE": 1, "ERROR": 0}
    assert objective.checks == {"aws.iam.full_one": "full", "aws.iam.partial_one": "partial"}
    assert objective.resources == [alice, bob]
    assert objective.failing_resources == []
    assert detailed.status is ControlState.NON_COMPLIANT
    assert detailed.failing_resources == [bob]
    assert detailed.objective == "9.4.2"
    d = detailed.to_dict()
    assert d["status"] == "NON_COMPLIANT"
    assert d["title"] == {"en": "Non-password methods", "ja": ""}
    assert d["checks"] == ["aws.iam.partial_one", "aws.iam.unrelated"]
    assert d["coverage"] == {"aws.iam.partial_one": "partial", "aws.iam.unrelated": "partial"}
    assert d["counts"] == {"PASS": 1, "FAIL": 1, "NOT_APPLICABLE": 1, "ERROR": 0}


def test_rollup_of_no_results_is_empty(mini_catalog: Catalog) -> None:
    assert rollup([], {"aws.iam.x": [ControlRef("9.4.2", "full")]}, mini_catalog) == []


def test_rollup_end_to_end_with_bundled_checks(
    catalog: Catalog, check_map: dict[str, list[ControlRef]]
) -> None:
    """Evaluate real records with the bundled checks and map, then roll up (what ``scan`` does)."""
    records = [
        Resource(
            provider="aws",
            account="111122223333",
            region="ap-northeast-1",
            type="aws.s3.bucket",
            id=f"arn:aws:s3:::example-{name}",
            name=f"example-{name}",
            collected_at="2026-11-30T00:00:00Z",
            data={"Name": f"example-{name}", "Versioning": versioning},
        )
        for name, versioning in (("versioned", {"Status": "Enabled"}), ("plain", {}))
    ]
    checks = load_checks().select(ids=["aws.s3.bucket_versioning_enabled"])
    results = evaluate(records, checks, check_map)
    statuses = rollup(results, check_map, catalog)
    (backup,) = [s for s in statuses if s.id == "12.3.1"]
    assert backup.status is ControlState.NON_COMPLIANT
    assert backup.failing_resources == ["arn:aws:s3:::example-plain"]
    assert backup.title["en"] == "Backup copies taken and restore-tested"
    passing = [r for r in results if r.verdict is Verdict.PASS]
    statuses = rollup(passing, check_map, catalog)
    assert (
        _status(statuses, "12.3.1").status is ControlState.PARTIAL
    )  # partial mapping: never COMPLIANT alone
