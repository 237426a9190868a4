"""Control status roll-up with the assertion document (DESIGN §5): one test per rule, waivers and expiry."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from ismap_scan.ismap.assertion import Assertion, load_assertion
from ismap_scan.ismap.catalog import Catalog, load_catalog
from ismap_scan.ismap.rollup import ControlState, controls_document, rollup, scope_check, status_totals
from ismap_scan.model import ControlRef, Result, Severity, Verdict

MINI_CATALOG = """\
version: "T1"
source: test
controls:
  - {id: "9", part: controls, level: clause, parent: null, title: {en: Access control},
     basic_statement_requirement: false, cloud_specific: false, edition: "2022-04", source: t}
  - {id: "9.4", part: controls, level: category, parent: "9", title: {en: System access},
     basic_statement_requirement: false, cloud_specific: false, edition: "2022-04", source: t}
  - {id: "9.4.1", part: controls, level: objective, parent: "9.4", title: {en: Access restriction},
     basic_statement_requirement: false, cloud_specific: false, edition: "2022-04", source: t}
  - {id: "9.4.1.1", part: controls, level: detailed, parent: "9.4.1", title: {en: Some detail},
     basic_statement_requirement: false, cloud_specific: false, edition: "2022-04", source: t}
  - {id: "9.4.2", part: controls, level: objective, parent: "9.4", title: {en: Log-on},
     basic_statement_requirement: false, cloud_specific: false, edition: "2022-04", source: t}
  - {id: "9.4.2.2.B", part: controls, level: detailed, parent: "9.4.2", title: {en: Non-password methods},
     basic_statement_requirement: true, cloud_specific: false, edition: "2022-04", source: t}
  - {id: "9.4.2.3", part: controls, level: detailed, parent: "9.4.2", title: {en: Optional detail},
     basic_statement_requirement: false, cloud_specific: false, edition: "2022-04", source: t}
"""

TODAY = dt.date(2026, 11, 30)
ALICE = "arn:aws:iam::111122223333:user/alice"
BOB = "arn:aws:iam::111122223333:user/bob"

STATEMENT = """\
version: 1
catalog: "T1"
controls:
  "9.4.1": {selected: false, reason: No shared data}
  "9.4.2": {selected: true, individual_control: MFA}
  "9.4.2.2.B": {selected: true, individual_control: Keys}
{extra}
"""


@pytest.fixture()
def catalog(tmp_path: Path) -> Catalog:
    folder = tmp_path / "catalogs" / "T1"
    folder.mkdir(parents=True)
    (folder / "catalog.yaml").write_text(MINI_CATALOG, encoding="utf-8")
    return load_catalog("T1", tmp_path / "catalogs")


def _statement(tmp_path: Path, catalog: Catalog, extra: str = "") -> Assertion:
    path = tmp_path / "assertion.yaml"
    path.write_text(STATEMENT.replace("{extra}", extra), encoding="utf-8")
    return load_assertion(path, catalog=catalog)


def _result(check: str, verdict: str, resource: str = ALICE) -> Result:
    return Result(
        check_id=check,
        verdict=Verdict(verdict),
        severity=Severity.HIGH,
        provider="aws",
        account="111122223333",
        region="global",
        resource_type="aws.iam.user",
        resource_id=resource,
        resource_name=resource.rsplit("/", 1)[-1],
        collected_at="2026-11-30T00:00:00Z",
    )


def _by_id(statuses: list) -> dict:  # type: ignore[type-arg]
    return {s.id: s for s in statuses}


ATTEST = """\
attestations:
  - {id: att, controls: ["9.4.2"], owner: o, evidence: e, date: 2026-01-01, expires: EXPIRES, reviewer: r}
"""
INHERIT = """\
inherited:
  - {controls: ["9.4.2"], service: Example IaaS, registration: "ISMAP C00-0000-0"}
"""


@pytest.mark.parametrize(
    ("verdicts", "coverage", "extra", "expected"),
    [
        # any unwaived FAIL → NON_COMPLIANT, even with an attestation
        (["PASS", "FAIL"], "full", ATTEST.replace("EXPIRES", "2027-01-01"), ControlState.NON_COMPLIANT),
        # only partial evidence, no attestation → PARTIAL
        (["PASS", "PASS"], "partial", "", ControlState.PARTIAL),
        # only partial evidence and an inheritance (not an attestation) → still PARTIAL
        (["PASS"], "partial", INHERIT, ControlState.PARTIAL),
        # partial evidence plus a current attestation → COMPLIANT
        (
            ["PASS", "NOT_APPLICABLE"],
            "partial",
            ATTEST.replace("EXPIRES", "2027-01-01"),
            ControlState.COMPLIANT,
        ),
        # partial evidence and an expired attestation → PARTIAL (it stops counting)
        (["PASS"], "partial", ATTEST.replace("EXPIRES", "2026-06-30"), ControlState.PARTIAL),
        # full evidence, all applicable PASS → COMPLIANT
        (["PASS", "NOT_APPLICABLE"], "full", "", ControlState.COMPLIANT),
        # a PASS beside an ERROR never makes it compliant
        (["PASS", "ERROR"], "full", ATTEST.replace("EXPIRES", "2027-01-01"), ControlState.PARTIAL),
        # no automated evidence, current attestation → MANUAL
        ([], "full", ATTEST.replace("EXPIRES", "2027-01-01"), ControlState.MANUAL),
        # no automated evidence, inherited from an ISMAP-registered cloud → MANUAL
        (["NOT_APPLICABLE"], "full", INHERIT, ControlState.MANUAL),
        # no automated evidence, expired attestation → NOT_EVALUATED
        ([], "full", ATTEST.replace("EXPIRES", "2026-06-30"), ControlState.NOT_EVALUATED),
        # only ERROR → NOT_EVALUATED
        (["ERROR", "NOT_APPLICABLE"], "full", "", ControlState.NOT_EVALUATED),
        # nothing at all → NOT_EVALUATED
        ([], "full", "", ControlState.NOT_EVALUATED),
    ],
)
def test_rule(
    tmp_path: Path, catalog: Catalog, verdicts: list[str], coverage: str, extra: str, expected: ControlState
) -> None:
    statement = _statement(tmp_path, catalog, extra)
    check_map = {"aws.iam.x": [ControlRef("9.4.2", coverage)]}
    results = [_result("aws.iam.x", v, f"{ALICE}{i}") for i, v in enumerate(verdicts)]
    statuses = _by_id(rollup(results, check_map, catalog, statement, today=TODAY))
    assert statuses["9.4.2"].status is expected
    assert statuses["9.4.1"].status is ControlState.EXCLUDED
    assert statuses["9.4.1"].reason == "No shared data"


def test_excluded_wins_over_results(tmp_path: Path, catalog: Catalog) -> None:
    statement = _statement(tmp_path, catalog)
    check_map = {"aws.iam.x": [ControlRef("9.4.1", "full")]}
    (excluded,) = [
        s
        for s in rollup([_result("aws.iam.x", "FAIL")], check_map, catalog, statement, today=TODAY)
        if s.id == "9.4.1"
    ]
    assert excluded.status is ControlState.EXCLUDED
    assert excluded.counts["FAIL"] == 1  # the evidence is still shown


WAIVERS = """\
waivers:
  - {id: wv-bob, check: "aws.iam.*", resource: "*:user/bob", reason: r, approver: a, expires: WV_EXPIRES}
"""


def test_waived_fail_is_shown_with_its_waiver_and_does_not_count(tmp_path: Path, catalog: Catalog) -> None:
    statement = _statement(tmp_path, catalog, WAIVERS.replace("WV_EXPIRES", "2027-03-31"))
    check_map = {"aws.iam.x": [ControlRef("9.4.2", "full"), ControlRef("9.4.2.2.B", "partial")]}
    results = [_result("aws.iam.x", "PASS", ALICE), _result("aws.iam.x", "FAIL", BOB)]
    s = _by_id(rollup(results, check_map, catalog, statement, today=TODAY))
    objective, detailed = s["9.4.2"], s["9.4.2.2.B"]
    assert objective.status is ControlState.COMPLIANT
    assert detailed.status is ControlState.PARTIAL
    assert objective.counts["FAIL"] == 1 and objective.waived == 1 and objective.failing_resources == []
    bob = next(r for r in objective.results if r.resource_id == BOB)
    assert bob.waiver == {"id": "wv-bob", "reason": "r", "approver": "a", "expires": "2027-03-31"}
    assert bob.finding_key == results[1].finding_key and bob.verdict == "FAIL"
    assert next(r for r in objective.results if r.resource_id == ALICE).waiver is None
    # the hierarchical view: objective → its statement's detailed controls → results
    d = objective.to_dict()
    assert d["detailed"] == ["9.4.2.2.B"] and d["level"] == "objective" and d["selected"] is True
    assert d["results"][1]["waiver"]["id"] == "wv-bob"
    assert s["9.4.2.2.B"].to_dict()["objective"] == "9.4.2"
    assert s["9.4.2.2.B"].to_dict()["basic_statement_requirement"] is True


def test_expired_waiver_stops_counting_and_is_listed(tmp_path: Path, catalog: Catalog) -> None:
    statement = _statement(tmp_path, catalog, WAIVERS.replace("WV_EXPIRES", "2026-10-31"))
    check_map = {"aws.iam.x": [ControlRef("9.4.2", "full")]}
    results = [_result("aws.iam.x", "PASS", ALICE), _result("aws.iam.x", "FAIL", BOB)]
    s = _by_id(rollup(results, check_map, catalog, statement, today=TODAY))
    assert s["9.4.2"].status is ControlState.NON_COMPLIANT
    assert s["9.4.2"].failing_resources == [BOB] and s["9.4.2"].waived == 0
    assert s["9.4.2"].expired == [
        {"kind": "waiver", "id": "wv-bob", "reason": "r", "approver": "a", "expires": "2026-10-31"}
    ]
    doc = controls_document(catalog, [x.to_dict() for x in s.values()], statement, TODAY)
    assert doc["expired"] == [f"{statement.path}:8: waiver wv-bob: expired on 2026-10-31"]
    assert doc["totals"]["NON_COMPLIANT"] == 1 and doc["totals"]["EXCLUDED"] == 1


def test_waiver_by_finding_key(tmp_path: Path, catalog: Catalog) -> None:
    bob_fail = _result("aws.iam.x", "FAIL", BOB)
    extra = f"waivers:\n  - {{finding_key: {bob_fail.finding_key}, reason: r, approver: a, expires: 2027-01-01}}\n"
    statement = _statement(tmp_path, catalog, extra)
    check_map = {"aws.iam.x": [ControlRef("9.4.2", "full")]}
    other = _result("aws.iam.y", "FAIL", BOB)  # same resource, another check: not waived
    check_map["aws.iam.y"] = [ControlRef("9.4.2.2.B", "full")]
    s = _by_id(rollup([bob_fail, other], check_map, catalog, statement, today=TODAY))
    assert s["9.4.2"].waived == 1 and s["9.4.2"].status is ControlState.NOT_EVALUATED
    assert s["9.4.2.2.B"].status is ControlState.NON_COMPLIANT


def test_statement_checks_add_evidence(tmp_path: Path, catalog: Catalog) -> None:
    statement = _statement(tmp_path, catalog)
    text = statement.path.read_text(encoding="utf-8").replace(
        "{selected: true, individual_control: Keys}",
        "{selected: true, individual_control: Keys, checks: [{check: aws.iam.z, coverage: full}]}",
    )
    statement.path.write_text(text, encoding="utf-8")
    statement = load_assertion(statement.path, catalog=catalog)
    s = _by_id(rollup([_result("aws.iam.z", "PASS")], {}, catalog, statement, today=TODAY))
    assert s["9.4.2.2.B"].status is ControlState.COMPLIANT
    assert s["9.4.2.2.B"].checks == {"aws.iam.z": "full"}
    assert s["9.4.2"].status is ControlState.NOT_EVALUATED
    assert status_totals(s.values()) == {
        "COMPLIANT": 1,
        "NON_COMPLIANT": 0,
        "PARTIAL": 0,
        "NOT_EVALUATED": 1,
        "MANUAL": 0,
        "EXCLUDED": 1,
    }


def test_statement_lists_every_selected_control_in_id_order(tmp_path: Path, catalog: Catalog) -> None:
    statement = _statement(tmp_path, catalog)
    assert [s.id for s in rollup([], {}, catalog, statement, today=TODAY)] == ["9.4.1", "9.4.2", "9.4.2.2.B"]


# ------------------------------------------------------------------------------ statement scope (DESIGN §1/§5)

SCOPE = """\
scope:
  accounts: {aws: ["111122223333"]}
  regions: {aws: [ap-northeast-1, us-east-1]}
"""


def _at(verdict: str, provider: str, account: str, region: str, resource: str) -> Result:
    r = _result("aws.iam.x", verdict, resource)
    r.provider, r.account, r.region = provider, account, region
    return r


def test_rollup_counts_only_results_inside_the_statement_scope(tmp_path: Path, catalog: Catalog) -> None:
    statement = _statement(tmp_path, catalog, SCOPE)
    check_map = {"aws.iam.x": [ControlRef("9.4.2", "full")]}
    results = [
        _at("PASS", "aws", "111122223333", "global", ALICE),  # global belongs to an in-scope account
        _at("PASS", "aws", "111122223333", "ap-northeast-1", "arn:tokyo"),
        _at("FAIL", "aws", "444455556666", "ap-northeast-1", "arn:member"),  # account not in the statement
        _at("FAIL", "aws", "111122223333", "eu-west-1", "arn:ireland"),  # region not in the statement
        _at("FAIL", "sakura", "123456789012", "is1a", "sakura-disk"),  # provider not in the statement
    ]
    s = _by_id(rollup(results, check_map, catalog, statement, today=TODAY))["9.4.2"]
    assert s.status is ControlState.COMPLIANT
    assert s.counts == {"PASS": 2, "FAIL": 0, "NOT_APPLICABLE": 0, "ERROR": 0}
    assert s.resources == sorted([ALICE, "arn:tokyo"])

    check = scope_check(
        results,
        statement,
        {
            "providers": ["aws", "sakura"],
            "accounts": {"aws": ["111122223333", "444455556666"], "sakura": ["123456789012"]},
            "regions": {"aws": ["ap-northeast-1", "eu-west-1"], "sakura": ["is1a"]},
        },
    )
    assert check.outside == [
        {"provider": "aws", "account": "111122223333", "region": "eu-west-1", "results": 1},
        {"provider": "aws", "account": "444455556666", "region": "", "results": 1},
        {"provider": "sakura", "account": "", "region": "", "results": 1},
    ]
    # us-east-1 is in the statement but the scan never reached it.
    assert check.not_scanned == [{"provider": "aws", "kind": "region", "value": "us-east-1"}]
    doc = controls_document(catalog, [s.to_dict()], statement, TODAY, scope=check)
    assert doc["scope"]["outside"] == check.outside
    assert doc["scope"]["warnings"] == [
        "1 results from aws 111122223333 eu-west-1 are outside the statement's scope: kept in "
        "results.jsonl, not counted in control statuses",
        "1 results from aws 444455556666 are outside the statement's scope: kept in results.jsonl, "
        "not counted in control statuses",
        "1 results from sakura are outside the statement's scope: kept in results.jsonl, "
        "not counted in control statuses",
        "statement scope not scanned: aws region us-east-1",
    ]


def test_statement_without_scope_limits_nothing(tmp_path: Path, catalog: Catalog) -> None:
    statement = _statement(tmp_path, catalog)
    results = [_at("FAIL", "sakura", "123456789012", "is1a", "sakura-disk")]
    check_map = {"aws.iam.x": [ControlRef("9.4.2", "full")]}
    s = _by_id(rollup(results, check_map, catalog, statement, today=TODAY))["9.4.2"]
    assert s.status is ControlState.NON_COMPLIANT
    check = scope_check(results, statement, {"providers": ["sakura"]})
    assert (check.outside, check.not_scanned) == ([], [])
    assert scope_check(results, None, None).to_dict() == {"outside": [], "not_scanned": [], "warnings": []}


def test_statement_names_a_provider_the_scan_did_not_reach(tmp_path: Path, catalog: Catalog) -> None:
    statement = _statement(tmp_path, catalog, SCOPE)
    check = scope_check([], statement, {"providers": ["sakura"], "accounts": {"sakura": ["1"]}})
    assert check.not_scanned == [{"provider": "aws", "kind": "provider", "value": "aws"}]
    assert check.warnings() == ["statement scope not scanned: aws"]
