"""Organizations and ``doctor`` against moto through real boto3: two accounts, failures kept per account,
SCP-closed regions, and a restricted role whose missing permission the doctor names.

The organization is seeded by :mod:`ismap_scan.demo.aws.org` (the demo's own second account). moto routes a
request to an account by its access key once ``MOTO_ACCOUNT_ID`` is unset, so each test scans with the
operator's key and without that variable (see the module doc of ``org.py``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse

from ismap_scan.demo.aws import org as demo_org
from ismap_scan.demo.aws.server import MotoHandle, s3control_host_prefix_hook
from ismap_scan.engine import evaluate, load_checks
from ismap_scan.model import Resource
from ismap_scan.providers.aws.provider import AwsProvider
from ismap_scan.providers.base import CollectOptions, NullProgress
from ismap_scan.providers.diagnostics import DoctorStatus, doctor_exit_code, missing_permissions

pytestmark = pytest.mark.moto

REGIONS = ("ap-northeast-1", "ap-northeast-3", "us-east-1")


@pytest.fixture
def org(
    moto_endpoint: str, moto_server: MotoHandle, monkeypatch: pytest.MonkeyPatch
) -> Iterator[demo_org.OrgSeed]:
    seeded = demo_org.seed_organization(moto_endpoint, REGIONS)
    monkeypatch.delenv("MOTO_ACCOUNT_ID", raising=False)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    for k, v in seeded.scan_env().items():
        monkeypatch.setenv(k, v)
    try:
        yield seeded
    finally:
        demo_org.enforce_iam(moto_endpoint, enabled=False)


def settings(org: demo_org.OrgSeed, regions: tuple[str, ...] = REGIONS[:1], **extra: Any) -> dict[str, Any]:
    return {
        "endpoint_url": org.endpoint_url,
        "regions": list(regions),
        "max_attempts": 1,
        "max_workers": 4,
        "organization": {**org.organization_settings(), **extra},
    }


def collect(
    cfg: dict[str, Any], hooks: list[Callable[[Any], None]] | None = None, **kw: Any
) -> list[Resource]:
    options = CollectOptions(settings=cfg, client_hooks=[s3control_host_prefix_hook, *(hooks or [])], **kw)
    return list(AwsProvider().collect(options, NullProgress()))


class _Body:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


def refuse(
    event: str, code: str, message: str, when: Callable[[Any], bool] = lambda r: True
) -> Callable[[Any], None]:
    """A client hook answering ``event`` with an AWS XML error (query/ec2 protocols) when ``when(request)``."""

    def handler(request: Any, **_: Any) -> AWSResponse | None:
        if not when(request):
            return None
        err = f"<Error><Code>{code}</Code><Message>{message}</Message></Error>"
        body = f"<ErrorResponse>{err}<Errors>{err}</Errors><RequestId>t</RequestId></ErrorResponse>".encode()
        return AWSResponse(request.url, 403, {}, _Body(body))

    def hook(session: Any) -> None:
        session.events.register(event, handler)

    return hook


def _text(body: Any) -> str:
    return body.decode() if isinstance(body, bytes) else str(body or "")


def in_region(region: str) -> Callable[[Any], bool]:
    return lambda request: f"/{region}/".encode() in request.headers.get("Authorization", b"")


def test_two_accounts_with_opposite_account_level_verdicts(org: demo_org.OrgSeed) -> None:
    records = collect(settings(org))
    accounts = [r for r in records if r.type == "aws.account"]
    assert [a.account for a in accounts] == sorted([org.management_account, org.member_account])
    member = next(a for a in accounts if a.account == org.member_account)
    assert member.data["OrganizationAccount"]["Id"] == org.member_account
    assert "Email" not in member.data["OrganizationAccount"]
    results = evaluate(records, load_checks())
    by_key = {(r.check_id, r.resource_id): r.verdict.value for r in results}
    problems = []
    for check_id, expected in demo_org.EXPECTED_MEMBER.items():
        for name, verdict in expected.items():
            rid = org.resources[name][2]
            if by_key.get((check_id, rid)) != verdict:
                problems.append(f"{check_id} {name}: expected {verdict}, got {by_key.get((check_id, rid))}")
    assert not problems, problems
    mgmt = f"arn:aws:iam::{org.management_account}:root"
    # The management account has no password policy and no account-level Block Public Access in this test.
    assert by_key[("aws.iam.password_policy_strong", mgmt)] == "FAIL"
    assert by_key[("aws.s3.account_public_access_blocked", mgmt)] == "FAIL"


def test_member_that_cannot_be_entered_is_one_error_record(org: demo_org.OrgSeed) -> None:
    denied = refuse("before-send.sts.AssumeRole", "AccessDenied", "not authorized to perform: sts:AssumeRole")
    records = collect(settings(org), [denied], resource_types={"aws.ec2.security_group", "aws.iam.user"})
    member = [r for r in records if r.account == org.member_account]
    assert [r.type for r in member] == ["aws.account"]
    errors = [(e.field, e.call, e.code, e.resource_type) for e in member[0].errors]
    assert errors == [
        ("*", "sts:AssumeRole", "AccessDenied", None),
        ("*", "sts:AssumeRole", "AccessDenied", "aws.ec2.security_group"),
        ("*", "sts:AssumeRole", "AccessDenied", "aws.iam.user"),
        ("*", "sts:AssumeRole", "AccessDenied", "aws.region"),
    ]
    # The management account was still scanned in full.
    assert any(r.type == "aws.ec2.security_group" and r.account == org.management_account for r in records)
    results = evaluate(records, load_checks())
    member_results = [r for r in results if r.account == org.member_account]
    assert member_results and {r.verdict.value for r in member_results} == {"ERROR"}


def test_account_filters(org: demo_org.OrgSeed) -> None:
    only_member = collect(settings(org, include_management=False), resource_types=set())
    assert {r.account for r in only_member} == {org.member_account}
    excluded = collect(settings(org, exclude_accounts=[org.member_account]), resource_types=set())
    assert {r.account for r in excluded} == {org.management_account}
    unknown = collect(
        settings(org, accounts=["444455556666"], include_management=False), resource_types=set()
    )
    assert [(r.account, r.errors[0].code) for r in unknown] == [("444455556666", "AccountNotFound")]


def test_ou_filter_walks_nested_units(org: demo_org.OrgSeed, aws_session: Any) -> None:
    import boto3

    key, secret = org.operator_key
    client = boto3.Session(aws_access_key_id=key, aws_secret_access_key=secret).client(
        "organizations", region_name="us-east-1", endpoint_url=org.endpoint_url
    )
    root = client.list_roots()["Roots"][0]["Id"]
    outer = client.create_organizational_unit(ParentId=root, Name="workloads")["OrganizationalUnit"]["Id"]
    inner = client.create_organizational_unit(ParentId=outer, Name="dev")["OrganizationalUnit"]["Id"]
    client.move_account(AccountId=org.member_account, SourceParentId=root, DestinationParentId=inner)
    records = collect(settings(org, ous=[outer], include_management=False), resource_types=set())
    assert {r.account for r in records} == {org.member_account}


def test_scp_denied_region_is_one_closed_region(org: demo_org.OrgSeed) -> None:
    scp = "is not authorized to perform this action with an explicit deny in a service control policy"
    hook = refuse("before-send.ec2", "UnauthorizedOperation", scp, in_region("ap-northeast-3"))
    cfg = settings(org, regions=REGIONS[:2], include_management=False)
    cfg["regions"] = list(REGIONS[:2])
    records = collect(cfg, [hook], resource_types={"aws.ec2.security_group"})
    closed = next(r for r in records if r.type == "aws.region" and r.region == "ap-northeast-3")
    assert [(e.field, e.code, e.resource_type) for e in closed.errors] == [
        ("*", "UnauthorizedOperation", None),
        ("*", "UnauthorizedOperation", "aws.ec2.security_group"),
    ]
    assert not [r for r in records if r.region == "ap-northeast-3" and r.type != "aws.region"]


def test_plain_denial_of_the_region_probe_does_not_close_the_region(org: demo_org.OrgSeed) -> None:
    hook = refuse(
        "before-send.ec2",
        "UnauthorizedOperation",
        "You are not authorized to perform this operation.",
        lambda request: "Action=GetEbs" in _text(request.body),
    )
    cfg = settings(org, include_management=False)
    records = collect(cfg, [hook], resource_types={"aws.ec2.security_group"})
    region = next(r for r in records if r.type == "aws.region")
    assert [e.field for e in region.errors] == ["EbsEncryptionByDefault", "EbsDefaultKmsKeyId"]
    assert [r for r in records if r.type == "aws.ec2.security_group"]  # listed as usual


def test_doctor_names_the_permission_the_restricted_role_lacks(org: demo_org.OrgSeed) -> None:
    demo_org.enforce_iam(org.endpoint_url)  # from here on moto checks every request's signature and policies
    cfg = {**settings(org), "role_arn": org.restricted_role_arn}
    options = CollectOptions(
        settings=cfg,
        client_hooks=[s3control_host_prefix_hook],
        resource_types={"aws.kms.key", "aws.iam.user"},
    )
    checks = AwsProvider().doctor(options)
    assert missing_permissions(checks) == [demo_org.WITHHELD_PERMISSION]
    assert doctor_exit_code(checks) == 3
    by = {(c.category, c.subject, c.account): c for c in checks}
    assert by[("account", org.member_account, org.member_account)].status is DoctorStatus.OK
    assert by[("permission", "kms:ListKeys", org.management_account)].status is DoctorStatus.OK
    # The member's audit role has the full policy: nothing is missing there.
    assert not [c for c in checks if c.account == org.member_account and c.status is DoctorStatus.MISSING]


def test_doctor_without_credentials_fails_cleanly(
    org: demo_org.OrgSeed, monkeypatch: pytest.MonkeyPatch
) -> None:
    demo_org.enforce_iam(org.endpoint_url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIA0000000000000000")
    checks = AwsProvider().doctor(CollectOptions(settings=settings(org), resource_types=set()))
    assert [(c.category, c.status) for c in checks][-1] == ("identity", DoctorStatus.FAILED)
    assert doctor_exit_code(checks) == 3


def test_demo_policies_are_the_generated_one() -> None:
    full = demo_org.read_policy()
    restricted = demo_org.read_policy(without=(demo_org.WITHHELD_PERMISSION,))
    assert set(full["Statement"][0]["Action"]) - set(restricted["Statement"][0]["Action"]) == {
        "kms:GetKeyRotationStatus"
    }
    assert json.dumps(full)  # serialisable as a policy document
