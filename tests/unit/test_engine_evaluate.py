"""Evaluation: verdict order, strict booleans, errors, listing failures, evidence, determinism."""

from __future__ import annotations

import random
import textwrap
from pathlib import Path
from typing import Any

import pytest

from ismap_scan.engine import CheckSet, evaluate, load_checks
from ismap_scan.model import CollectionError, ControlRef, Resource, Severity, Verdict

ACCOUNT = "111122223333"
ACCOUNT_ID = f"arn:aws:iam::{ACCOUNT}:root"
REGION_ID = f"arn:aws::ap-northeast-1:{ACCOUNT}:region"

CHECKS = """\
- id: aws.s3.bucket_public_access_blocked
  resource: aws.s3.bucket
  severity: high
  title: {en: Bucket blocks public access, ja: バケットのパブリックアクセスがブロックされている}
  applies: "data.Name != 'skip-me'"
  assert: "data.PublicAccessBlockConfiguration.BlockPublicAcls == `true` || account.Pab == `true`"
  needs: [data.PublicAccessBlockConfiguration, account.Pab]
  evidence: [data.PublicAccessBlockConfiguration, account.Pab, data.Nope]
  remediation: {en: Block it., ja: ブロックする。, url: "https://example.com/pab"}
- id: aws.s3.bucket_mfa_flag_truthy
  resource: aws.s3.bucket
  severity: low
  title: {en: Truthy, ja: 真}
  assert: "data.Flag"
  remediation: {en: R, ja: R}
- id: aws.s3.bucket_recent
  resource: aws.s3.bucket
  severity: low
  title: {en: Recent, ja: 最近}
  assert: "days_since(data.CreationDate) <= $max_days"
  params: {max_days: 30}
  remediation: {en: R, ja: R}
"""

REGION_CHECK = """\
- id: aws.ec2.ebs_encryption_by_default_enabled
  resource: aws.region
  severity: medium
  title: {en: EBS default encryption, ja: EBS 既定の暗号化}
  needs: [data.EbsEncryptionByDefault]
  assert: "data.EbsEncryptionByDefault == `true`"
  remediation: {en: R, ja: R}
- id: aws.ec2.volume_region_default_on
  resource: aws.ec2.volume
  severity: low
  title: {en: Region default on, ja: 既定で有効}
  needs: [region.EbsEncryptionByDefault]
  assert: "region.EbsEncryptionByDefault == `true`"
  remediation: {en: R, ja: R}
"""


@pytest.fixture
def checks(tmp_path: Path) -> CheckSet:
    (tmp_path / "aws").mkdir()
    (tmp_path / "aws" / "s3.yaml").write_text(CHECKS, encoding="utf-8")
    (tmp_path / "aws" / "ec2.yaml").write_text(REGION_CHECK, encoding="utf-8")
    return load_checks([tmp_path], include_python=False)


def rec(
    rtype: str,
    rid: str,
    data: dict[str, Any] | None = None,
    errors: list[CollectionError] | None = None,
    *,
    region: str = "ap-northeast-1",
    account: str = ACCOUNT,
    collected_at: str = "2026-11-30T00:00:00Z",
) -> Resource:
    return Resource(
        provider="aws",
        account=account,
        region=region,
        type=rtype,
        id=rid,
        name=rid.rsplit(":", 1)[-1],
        collected_at=collected_at,
        data=data or {},
        errors=errors or [],
    )


def account(data: dict[str, Any] | None = None, errors: list[CollectionError] | None = None) -> Resource:
    return rec(
        "aws.account", ACCOUNT_ID, data if data is not None else {"Pab": False}, errors, region="global"
    )


def bucket(
    name: str, data: dict[str, Any] | None = None, errors: list[CollectionError] | None = None
) -> Resource:
    return rec("aws.s3.bucket", f"arn:aws:s3:::{name}", {"Name": name, **(data or {})}, errors)


def verdicts(results: list[Any], check_id: str) -> dict[str, Verdict]:
    return {r.resource_id: r.verdict for r in results if r.check_id == check_id}


def denied(
    field: str, call: str = "s3:GetPublicAccessBlock", resource_type: str | None = None
) -> CollectionError:
    return CollectionError(
        field=field, call=call, code="AccessDenied", message="denied", resource_type=resource_type
    )


PAB = "aws.s3.bucket_public_access_blocked"


def test_verdict_order_needs_then_applies_then_assert(checks: CheckSet) -> None:
    on = {"PublicAccessBlockConfiguration": {"BlockPublicAcls": True}}
    off = {"PublicAccessBlockConfiguration": {"BlockPublicAcls": False}}
    records = [
        account(),
        bucket("pass", on),
        bucket("fail", off),
        bucket("skip-me", off),
        # needs beats applies: even a bucket applies would skip is ERROR when its data is unknown
        rec(
            "aws.s3.bucket",
            "arn:aws:s3:::unknown",
            {"Name": "skip-me"},
            [denied("PublicAccessBlockConfiguration")],
        ),
    ]
    got = verdicts(evaluate(records, checks.select(ids=[PAB])), PAB)
    assert got == {
        "arn:aws:s3:::pass": Verdict.PASS,
        "arn:aws:s3:::fail": Verdict.FAIL,
        "arn:aws:s3:::skip-me": Verdict.NOT_APPLICABLE,
        "arn:aws:s3:::unknown": Verdict.ERROR,
    }


def test_needs_error_message_names_path_call_and_code(checks: CheckSet) -> None:
    records = [account(), bucket("x", errors=[denied("PublicAccessBlockConfiguration.BlockPublicAcls")])]
    (result,) = evaluate(records, checks.select(ids=[PAB]))
    assert result.verdict is Verdict.ERROR
    assert result.message == (
        f"check {PAB}: data.PublicAccessBlockConfiguration unknown: "
        "s3:GetPublicAccessBlock AccessDenied: denied"
    )


def test_account_needs_use_the_account_record(checks: CheckSet) -> None:
    ok = {"PublicAccessBlockConfiguration": {"BlockPublicAcls": False}}
    with_error = [
        account({"Pab": None}, [denied("Pab", call="s3control:GetPublicAccessBlock")]),
        bucket("b", ok),
    ]
    (result,) = evaluate(with_error, checks.select(ids=[PAB]))
    assert result.verdict is Verdict.ERROR
    assert "account.Pab unknown: s3control:GetPublicAccessBlock AccessDenied" in result.message

    (missing,) = evaluate([bucket("b", ok)], checks.select(ids=[PAB]))
    assert missing.verdict is Verdict.ERROR
    assert "no aws.account record for account 111122223333" in missing.message

    (passing,) = evaluate([account({"Pab": True}), bucket("b", ok)], checks.select(ids=[PAB]))
    assert passing.verdict is Verdict.PASS  # the account-level setting is read through `account`


def test_errors_on_other_fields_do_not_block(checks: CheckSet) -> None:
    on = {"PublicAccessBlockConfiguration": {"BlockPublicAcls": True}}
    (result,) = evaluate([account(), bucket("b", on, [denied("Policy")])], checks.select(ids=[PAB]))
    assert result.verdict is Verdict.PASS


def test_whole_record_unknown_is_error_even_without_needs(checks: CheckSet) -> None:
    records = [bucket("b", {"Flag": True}, [denied("*", call="s3:HeadBucket")])]
    (result,) = evaluate(records, checks.select(ids=["aws.s3.bucket_mfa_flag_truthy"]))
    assert result.verdict is Verdict.ERROR
    assert "record could not be read: s3:HeadBucket AccessDenied" in result.message


def test_region_needs_use_the_region_record(checks: CheckSet) -> None:
    region = rec(
        "aws.region", REGION_ID, {"EbsEncryptionByDefault": None}, [denied("EbsEncryptionByDefault")]
    )
    volume = rec("aws.ec2.volume", "arn:aws:ec2:ap-northeast-1:111122223333:volume/vol-1", {})
    other = rec("aws.ec2.volume", "arn:aws:ec2:us-east-1:111122223333:volume/vol-2", {}, region="us-east-1")
    results = evaluate([region, volume, other], checks.select(services=["ec2"]))
    got = {(r.check_id, r.resource_id): (r.verdict, r.message) for r in results}
    assert got[("aws.ec2.volume_region_default_on", volume.id)][0] is Verdict.ERROR
    assert "region.EbsEncryptionByDefault unknown" in got[("aws.ec2.volume_region_default_on", volume.id)][1]
    assert got[("aws.ec2.volume_region_default_on", other.id)] == (
        Verdict.ERROR,
        "check aws.ec2.volume_region_default_on: needs region.EbsEncryptionByDefault, but the snapshot has "
        "no aws.region record for 111122223333/us-east-1",
    )
    assert got[("aws.ec2.ebs_encryption_by_default_enabled", REGION_ID)][0] is Verdict.ERROR


@pytest.mark.parametrize("value", [0, 1, "true", None, [], {"a": 1}])
def test_non_boolean_assert_is_error_not_truthiness(checks: CheckSet, value: Any) -> None:
    (result,) = evaluate([bucket("b", {"Flag": value})], checks.select(ids=["aws.s3.bucket_mfa_flag_truthy"]))
    assert result.verdict is Verdict.ERROR
    assert result.message.startswith("check aws.s3.bucket_mfa_flag_truthy: assert `data.Flag` returned ")
    assert result.message.endswith(", expected true or false")


def test_boolean_assert_passes_and_fails(checks: CheckSet) -> None:
    results = evaluate(
        [bucket("t", {"Flag": True}), bucket("f", {"Flag": False})],
        checks.select(ids=["aws.s3.bucket_mfa_flag_truthy"]),
    )
    assert [(r.resource_id, r.verdict) for r in results] == [
        ("arn:aws:s3:::f", Verdict.FAIL),
        ("arn:aws:s3:::t", Verdict.PASS),
    ]


def test_exception_in_expression_is_error_naming_check_and_expression(checks: CheckSet) -> None:
    (result,) = evaluate(
        [bucket("b", {"CreationDate": "yesterday"})], checks.select(ids=["aws.s3.bucket_recent"])
    )
    assert result.verdict is Verdict.ERROR
    assert result.message.startswith(
        "check aws.s3.bucket_recent: assert `days_since(data.CreationDate) <= $max_days` raised ValueError"
    )


def test_type_error_from_jmespath_is_error(tmp_path: Path) -> None:
    (tmp_path / "aws").mkdir()
    (tmp_path / "aws" / "s3.yaml").write_text(
        textwrap.dedent(
            """\
            - id: aws.s3.x
              resource: aws.s3.bucket
              severity: low
              title: {en: T, ja: T}
              applies: "length(data.Name) > `0`"
              assert: "`true`"
              remediation: {en: R, ja: R}
            """
        ),
        encoding="utf-8",
    )
    checks = load_checks([tmp_path], include_python=False)
    (result,) = evaluate([rec("aws.s3.bucket", "arn:aws:s3:::b", {"Name": 5})], checks)
    assert result.verdict is Verdict.ERROR
    assert "applies `length(data.Name) > `0`` raised JMESPathTypeError" in result.message


def test_time_comes_from_collected_at(checks: CheckSet) -> None:
    young = rec("aws.s3.bucket", "arn:aws:s3:::b", {"CreationDate": "2026-11-01T00:00:00Z"})
    later = rec(
        "aws.s3.bucket",
        "arn:aws:s3:::b",
        {"CreationDate": "2026-11-01T00:00:00Z"},
        collected_at="2027-01-01T00:00:00Z",
    )
    selected = checks.select(ids=["aws.s3.bucket_recent"])
    assert evaluate([young], selected)[0].verdict is Verdict.PASS
    assert evaluate([later], selected)[0].verdict is Verdict.FAIL


def test_listing_failure_gives_one_error_per_check_on_the_scope_record(checks: CheckSet) -> None:
    failed = account(
        errors=[
            denied("*", call="s3:ListBuckets", resource_type="aws.s3.bucket"),
            CollectionError("*", "s3:ListBuckets", "Throttling", "slow down", resource_type="aws.s3.bucket"),
        ]
    )
    results = evaluate([failed], checks)
    assert sorted((r.check_id, r.resource_id, r.verdict) for r in results) == [
        ("aws.s3.bucket_mfa_flag_truthy", ACCOUNT_ID, Verdict.ERROR),
        ("aws.s3.bucket_public_access_blocked", ACCOUNT_ID, Verdict.ERROR),
        ("aws.s3.bucket_recent", ACCOUNT_ID, Verdict.ERROR),
    ]
    first = results[0]
    assert first.message == (
        "check aws.s3.bucket_mfa_flag_truthy: listing aws.s3.bucket failed here: "
        "s3:ListBuckets AccessDenied: denied; s3:ListBuckets Throttling: slow down"
    )
    assert (first.resource_type, first.region, first.account) == ("aws.account", "global", ACCOUNT)


def test_listing_errors_do_not_cover_needs_of_the_scope_record(checks: CheckSet) -> None:
    region = rec(
        "aws.region",
        REGION_ID,
        {"EbsEncryptionByDefault": True},
        [denied("*", call="ec2:DescribeVolumes", resource_type="aws.ec2.volume")],
    )
    results = evaluate([region], checks.select(services=["ec2"]))
    assert [(r.check_id, r.verdict) for r in results] == [
        ("aws.ec2.ebs_encryption_by_default_enabled", Verdict.PASS),
        ("aws.ec2.volume_region_default_on", Verdict.ERROR),
    ]


def test_result_carries_metadata_evidence_and_controls(checks: CheckSet) -> None:
    on = {"PublicAccessBlockConfiguration": {"BlockPublicAcls": True}}
    controls = {PAB: [ControlRef("8.1.9", "partial")]}
    (result,) = evaluate([account(), bucket("b", on)], checks.select(ids=[PAB]), check_map=controls)
    assert result.severity is Severity.HIGH
    assert result.title == {
        "en": "Bucket blocks public access",
        "ja": "バケットのパブリックアクセスがブロックされている",
    }
    assert result.remediation == {"en": "Block it.", "ja": "ブロックする。", "url": "https://example.com/pab"}
    assert result.evidence == {
        "data.PublicAccessBlockConfiguration": {"BlockPublicAcls": True},
        "account.Pab": False,
        "data.Nope": None,
    }
    assert result.controls == [ControlRef("8.1.9", "partial")]
    assert (result.resource_type, result.resource_name, result.collected_at) == (
        "aws.s3.bucket",
        "b",
        "2026-11-30T00:00:00Z",
    )


def test_results_are_deterministic_and_sorted(checks: CheckSet) -> None:
    records = [account()] + [
        bucket(f"b{i:02d}", {"Flag": i % 2 == 0, "CreationDate": "2026-11-01T00:00:00Z"}) for i in range(20)
    ]
    first = [r.to_dict() for r in evaluate(records, checks)]
    shuffled = records[:]
    random.Random(7).shuffle(shuffled)
    second = [r.to_dict() for r in evaluate(shuffled, checks)]
    assert first == second
    keys = [(r["check_id"], r["resource_id"]) for r in first]
    assert keys == sorted(keys)
    assert len(first) == 3 * 20


def test_records_of_other_types_are_ignored(checks: CheckSet) -> None:
    assert evaluate([rec("aws.kms.key", "arn:aws:kms:ap-northeast-1:111122223333:key/k")], checks) == []
