"""The demo ground truth (ismap_scan.demo.aws.expected) is consistent with the checks and the estate."""

from __future__ import annotations

from ismap_scan.demo.aws.estate import FLEET_SIZES, build_estate
from ismap_scan.demo.aws.expected import EXPECTED, TIME_DEPENDENT, expected_verdicts
from ismap_scan.engine import load_checks

_VERDICTS = {"PASS", "FAIL", "NOT_APPLICABLE", "ERROR"}


def _estate_names(scale: int) -> set[str]:
    e = build_estate(scale)
    names = {"account", "region-primary", "region-secondary", "region-tertiary"}
    names |= {f"default-vpc-{role}" for role in ("primary", "secondary", "tertiary")}
    names |= {
        f"default-sg@{v}" for v in ("default-vpc-primary", "default-vpc-secondary", "default-vpc-tertiary")
    }
    names |= {f"default-sg@{v.name}" for v in e.vpcs}
    for group in (e.users, e.buckets, e.vpcs, e.security_groups, e.volumes, e.instances, e.trails):
        names |= {item.name for item in group}
    names |= {f"{i.name}-root" for i in e.instances if not i.terminated}
    names |= {k.alias for k in e.kms_keys}
    names |= {f.name for f in e.functions} | e.services.names()
    return names


def test_ground_truth_names_only_existing_checks() -> None:
    ids = {c.id for c in load_checks()}
    unknown = set(EXPECTED) - ids
    assert not unknown, f"ground truth names checks that do not exist: {sorted(unknown)}"
    assert {c for c, _ in TIME_DEPENDENT} <= set(EXPECTED)


def test_ground_truth_covers_every_check_with_both_outcomes_where_possible() -> None:
    ids = {c.id for c in load_checks() if c.id.startswith("aws.")}
    assert ids <= set(EXPECTED), f"checks without demo ground truth: {sorted(ids - set(EXPECTED))}"
    both = [c for c, per in EXPECTED.items() if {"PASS", "FAIL"} <= set(per.values())]
    assert len(both) >= 20, both


def test_ground_truth_names_only_seeded_resources_and_valid_verdicts() -> None:
    names = _estate_names(1)
    for check, per in EXPECTED.items():
        assert set(per.values()) <= _VERDICTS, check
        missing = set(per) - names
        assert not missing, f"{check}: not in the estate: {sorted(missing)}"


def test_fleet_copies_follow_their_templates() -> None:
    one, two = expected_verdicts(1), expected_verdicts(2)
    assert two["aws.s3.bucket_versioning_enabled"]["jp-saas-tenant-0001-prod-customer-data"] == "PASS"
    assert two["aws.s3.bucket_versioning_enabled"]["jp-saas-tenant-0002-stg-uploads"] == "FAIL"
    n_buckets = len(EXPECTED["aws.s3.bucket_versioning_enabled"])
    assert len(one["aws.s3.bucket_versioning_enabled"]) == n_buckets + FLEET_SIZES["buckets"]
    assert len(two["aws.s3.bucket_versioning_enabled"]) == n_buckets + 2 * FLEET_SIZES["buckets"]
    assert _estate_names(2) >= {n for per in two.values() for n in per}


def test_without_backdating_time_dependent_entries_are_dropped() -> None:
    got = expected_verdicts(1, backdated=False)
    for check, name in TIME_DEPENDENT:
        assert name not in got[check]
    assert got["aws.iam.user_console_mfa_enabled"]["suzuki.yuki"] == "FAIL"
