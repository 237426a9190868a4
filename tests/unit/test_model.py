"""Records: finding keys are stable, collection errors cover the right paths, dicts round-trip."""

from __future__ import annotations

import hashlib

from ismap_scan.model import CollectionError, ControlRef, Result, Severity, Verdict, finding_key


def test_finding_key_is_sha256_of_the_five_parts() -> None:
    key = finding_key(
        "aws.s3.bucket_versioning_enabled", "aws", "111122223333", "ap-northeast-1", "arn:aws:s3:::a"
    )
    raw = "aws.s3.bucket_versioning_enabled\x1faws\x1f111122223333\x1fap-northeast-1\x1farn:aws:s3:::a"
    assert key == hashlib.sha256(raw.encode()).hexdigest()
    # The separator keeps ("a.b", "c") and ("a", "b.c")-style shifts apart.
    assert finding_key("x", "aws", "1", "r", "id") != finding_key("x", "aws", "1r", "", "id")


def test_collection_error_covers() -> None:
    e = CollectionError("Policy", "s3:GetBucketPolicy", "AccessDenied", "")
    assert e.covers("Policy") and e.covers("Policy.Statement") and e.covers("Policy[0]")
    assert not e.covers("PolicyStatus") and not e.covers("Versioning")
    assert CollectionError("*", "", "", "").covers("anything")
    assert CollectionError("Policy.Statement", "", "", "").covers("Policy")


def test_result_round_trip() -> None:
    r = Result(
        check_id="aws.s3.bucket_versioning_enabled",
        verdict=Verdict.FAIL,
        severity=Severity.MEDIUM,
        provider="aws",
        account="111122223333",
        region="ap-northeast-1",
        resource_type="aws.s3.bucket",
        resource_id="arn:aws:s3:::a",
        resource_name="a",
        collected_at="2026-11-30T01:02:03Z",
        evidence={"data.Versioning.Status": None},
        controls=[ControlRef("12.3.1", "partial")],
    )
    d = r.to_dict()
    assert d["finding_key"] == r.finding_key and d["verdict"] == "FAIL"
    assert Result.from_dict(d) == r
    assert r.service == "s3"
    assert Severity.CRITICAL.rank > Severity.HIGH.rank > Severity.INFO.rank
