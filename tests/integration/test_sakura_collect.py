"""End to end on the fake Sakura API: collect with SakuraProvider, evaluate the Sakura checks, compare with the
ground truth, then break the API in every documented way and check that each failure becomes retries or
ERROR results: never a crash, never a PASS for something unseen."""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ismap_scan.demo.sakura.expected import EXPECTED
from ismap_scan.demo.sakura.server import SakuraHandle, start_fake_sakura
from ismap_scan.engine import CheckSet, evaluate, load_checks
from ismap_scan.model import Resource, Result, Verdict
from ismap_scan.providers.base import CollectOptions, NullProgress
from ismap_scan.providers.sakura.provider import SakuraProvider

CHECKS_DIR = Path(__file__).resolve().parents[2] / "checks" / "sakura"


@pytest.fixture(scope="module")
def checks(tmp_path_factory: pytest.TempPathFactory) -> CheckSet:
    """Only the Sakura checks (a copy of checks/sakura), so other providers' work in progress cannot break
    these tests."""
    root = tmp_path_factory.mktemp("checks")
    shutil.copytree(CHECKS_DIR, root / "sakura")
    checks = load_checks(dirs=[root], include_python=False)
    assert len(checks) >= 25
    return checks


@pytest.fixture
def fake() -> Iterator[SakuraHandle]:
    with start_fake_sakura() as handle:
        yield handle


def collect(handle: SakuraHandle, **settings: Any) -> list[Resource]:
    s = handle.settings(**{"rate_limit": 0, "backoff_factor": 0, "max_retries": 2, **settings})
    return list(SakuraProvider().collect(CollectOptions(settings=s, max_workers=4), NullProgress()))


def verdicts(results: list[Result], names: dict[str, str]) -> dict[tuple[str, str], str]:
    inverse = {v: k for k, v in names.items()}
    return {(r.check_id, inverse.get(r.resource_id, r.resource_id)): r.verdict.value for r in results}


def test_demo_estate_matches_ground_truth(fake: SakuraHandle, checks: CheckSet) -> None:
    records = collect(fake)
    got = verdicts(evaluate(records, checks), fake.app.estate.names)
    want = {(c, n): v for c, per in EXPECTED.items() for n, v in per.items()}
    assert got == want
    assert fake.app.non_get == 0
    both = {c for c, per in EXPECTED.items() if {"PASS", "FAIL"} <= set(per.values())}
    assert len(both) >= 25


def test_scope_records_and_regions(fake: SakuraHandle) -> None:
    records = collect(fake)
    assert records[0].type == "sakura.account" and records[0].account == "111122223333"
    zones = [r.region for r in records if r.type == "sakura.zone"]
    assert zones == ["is1a", "is1b", "tk1a", "tk1b", "tk1v"]
    by_type = Counter((r.type, r.region == "global") for r in records)
    assert by_type[("sakura.proxylb", True)] == 3 and by_type[("sakura.autobackup", False)] == 3
    # global items are listed once, not once per zone
    assert len([r for r in records if r.type == "sakura.sshkey"]) == 3


def test_zones_setting_limits_the_scan(fake: SakuraHandle) -> None:
    records = collect(fake, zones=["tk1a"])
    assert {r.region for r in records} == {"global", "tk1a"}


def test_string_ids_give_the_same_snapshot(fake: SakuraHandle) -> None:
    def strip(records: list[Resource]) -> list[dict[str, Any]]:
        return [{**r.to_dict(), "collected_at": ""} for r in records]

    baseline = collect(fake)
    fake.app.force_string_ids = True
    assert strip(collect(fake)) == strip(baseline)


@pytest.mark.parametrize("status", [423, 429, 503])
def test_transient_errors_are_retried_to_the_same_verdicts(
    fake: SakuraHandle, checks: CheckSet, status: int
) -> None:
    fake.app.add_fault(r"/(server|appliance|commonserviceitem)$", status, times=2, retry_after="0")
    got = verdicts(evaluate(collect(fake), checks), fake.app.estate.names)
    assert got == {(c, n): v for c, per in EXPECTED.items() for n, v in per.items()}


@pytest.mark.parametrize("status", [401, 403, 404, 423, 429, 503])
def test_failed_disk_listing_is_error_never_pass(fake: SakuraHandle, checks: CheckSet, status: int) -> None:
    fake.app.add_fault(r"/zone/is1a/api/cloud/1\.1/disk$", status, times=-1, retry_after="0")
    records = collect(fake)
    results = evaluate(records, checks)
    is1a_disk = [r for r in results if r.check_id.startswith("sakura.disk.") and r.region == "is1a"]
    assert is1a_disk and all(r.verdict is Verdict.ERROR for r in is1a_disk)
    assert all(r.resource_type == "sakura.zone" for r in is1a_disk)  # reported on the zone record
    assert str(status) in is1a_disk[0].message
    zone = next(
        r for r in results if r.check_id == "sakura.zone.resources_in_allowed_zones" and r.region == "is1a"
    )
    assert zone.verdict is Verdict.ERROR
    # the other zones are still judged
    assert any(
        r.verdict is Verdict.FAIL
        for r in results
        if r.check_id == "sakura.disk.encrypted" and r.region == "tk1a"
    )


def test_failed_monitor_listing_makes_the_joins_error(fake: SakuraHandle, checks: CheckSet) -> None:
    fake.app.add_fault(r"commonserviceitem$", 503, times=-1)
    results = evaluate(collect(fake), checks)
    by_check = Counter((r.check_id, r.verdict) for r in results)
    assert by_check[("sakura.server.public_endpoint_monitored", Verdict.PASS)] == 0
    assert (
        by_check[("sakura.server.public_endpoint_monitored", Verdict.ERROR)] == 4
    )  # the four public servers
    assert by_check[("sakura.server.public_endpoint_monitored", Verdict.NOT_APPLICABLE)] == 1  # app-1
    assert by_check[("sakura.disk.auto_backup_enabled", Verdict.PASS)] == 0
    assert by_check[("sakura.proxylb.https_redirect_enabled", Verdict.ERROR)] == 1  # on the account record


def test_bad_key_gives_only_errors(fake: SakuraHandle, checks: CheckSet) -> None:
    records = collect(fake, access_token_secret="a-rotated-secret")
    assert [r.type for r in records] == ["sakura.account"]
    results = evaluate(records, checks)
    assert {r.verdict for r in results} == {Verdict.ERROR}
    assert {r.check_id for r in results} == {c.id for c in checks}  # every check says it could not judge


def test_unreachable_api_gives_only_errors(checks: CheckSet) -> None:
    with start_fake_sakura() as handle:
        settings = handle.settings(rate_limit=0, backoff_factor=0, max_retries=1)
    records = list(SakuraProvider().collect(CollectOptions(settings=settings), NullProgress()))
    assert records[0].errors[0].code == "ConnectionError"
    assert {r.verdict for r in evaluate(records, checks)} == {Verdict.ERROR}


def test_iam_forbidden_errors_only_the_checks_that_need_it(fake: SakuraHandle, checks: CheckSet) -> None:
    fake.app.add_fault(r"organization-auth-conditions$", 403, times=-1)
    results = {r.check_id: r for r in evaluate(collect(fake), checks) if r.resource_type == "sakura.account"}
    assert results["sakura.iam.two_factor_auth_required"].verdict is Verdict.ERROR
    assert "403" in results["sakura.iam.two_factor_auth_required"].message
    assert results["sakura.iam.password_policy_strong"].verdict is Verdict.PASS


def test_slow_certificate_read_is_an_error_on_that_field(fake: SakuraHandle, checks: CheckSet) -> None:
    fake.app.add_fault(r"sslcertificate$", 200, times=-1, delay=0.6)
    results = evaluate(collect(fake, timeout=0.2, max_retries=0), checks)
    cert = [r for r in results if r.check_id == "sakura.proxylb.certificate_not_expiring"]
    assert {r.verdict for r in cert} == {Verdict.ERROR}


def test_missing_certificate_is_not_configured(fake: SakuraHandle) -> None:
    fake.app.estate.subresources.clear()  # every certificate read answers 404
    plbs = [r for r in collect(fake) if r.type == "sakura.proxylb"]
    assert all(r.data["Certificates"] is None and not r.errors for r in plbs)


def test_secrets_are_redacted_in_records(fake: SakuraHandle) -> None:
    from ismap_scan.demo.sakura.estate import PLANTED_SECRETS

    records = collect(fake)
    text = "\n".join(str(r.to_dict()) for r in records)
    for secret in PLANTED_SECRETS:
        assert secret not in text
    db = next(r for r in records if r.name == "db-prod")
    assert "data.Settings.DBConf.Common.UserPassword" in db.redactions
