"""AwsProvider against moto through real boto3: contract fields, "not configured" nulls, error paths.

One estate is seeded and collected once per module (moto's EC2 backend takes ~1.7 s to start after a reset);
the error-path tests each reset the server and inject failures with a test-side ``before-send`` hook passed as
a client hook, exactly where a harness may adjust sessions.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import EndpointConnectionError

from ismap_scan.demo.aws.server import FAKE_CREDENTIALS_ENV, MotoHandle, s3control_host_prefix_hook
from ismap_scan.model import Resource
from ismap_scan.providers.aws.provider import AwsProvider
from ismap_scan.providers.aws.settings import AwsSettings
from ismap_scan.providers.base import CollectOptions, NullProgress

pytestmark = pytest.mark.moto

ACCOUNT = "111122223333"
SSH_WORLD = {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
RDP_WORLD6 = {"IpProtocol": "tcp", "FromPort": 3389, "ToPort": 3389, "Ipv6Ranges": [{"CidrIpv6": "::/0"}]}
TLS_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": ["arn:aws:s3:::good-bucket-111122223333", "arn:aws:s3:::good-bucket-111122223333/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }
    ],
}
ALL_BLOCKED = {
    k: True for k in ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
}


def collect(
    settings: AwsSettings, hooks: list[Callable[[Any], None]] | None = None, **kw: Any
) -> list[Resource]:
    options = CollectOptions(
        settings=settings, max_workers=4, client_hooks=[s3control_host_prefix_hook, *(hooks or [])], **kw
    )
    return list(AwsProvider().collect(options, NullProgress()))


def by_type(records: list[Resource], rtype: str) -> dict[str, Resource]:
    return {r.name: r for r in records if r.type == rtype}


def one(records: list[Resource], rtype: str, **where: str) -> Resource:
    found = [r for r in records if r.type == rtype and all(getattr(r, k) == v for k, v in where.items())]
    assert len(found) == 1, f"{rtype} {where}: {len(found)} records"
    return found[0]


# ---------------------------------------------------------------------------------------------------------
# The seeded estate, collected once.


def seed(session: Any) -> dict[str, str]:
    """A small estate with a good and a bad example of each setting; returns IDs the tests need."""
    ids: dict[str, str] = {}
    s3 = session.client("s3")
    good = "good-bucket-111122223333"
    s3.create_bucket(Bucket=good)
    s3.create_bucket(Bucket="bare-bucket-111122223333")
    s3.create_bucket(Bucket="logs-bucket-111122223333")
    s3.create_bucket(
        Bucket="tokyo-bucket-111122223333", CreateBucketConfiguration={"LocationConstraint": "ap-northeast-1"}
    )
    s3.put_public_access_block(Bucket=good, PublicAccessBlockConfiguration=ALL_BLOCKED)
    s3.put_bucket_encryption(
        Bucket=good,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    )
    s3.put_bucket_versioning(Bucket=good, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_policy(Bucket=good, Policy=json.dumps(TLS_POLICY))
    s3.put_bucket_acl(Bucket="logs-bucket-111122223333", ACL="log-delivery-write")
    s3.put_bucket_logging(
        Bucket=good,
        BucketLoggingStatus={
            "LoggingEnabled": {"TargetBucket": "logs-bucket-111122223333", "TargetPrefix": "good/"}
        },
    )
    s3.put_bucket_tagging(Bucket=good, Tagging={"TagSet": [{"Key": "team", "Value": "platform"}]})
    session.client("s3control").put_public_access_block(
        AccountId=ACCOUNT, PublicAccessBlockConfiguration=ALL_BLOCKED
    )

    ec2 = session.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    ids["vpc"] = vpc
    sg = ec2.create_security_group(GroupName="open-admin", Description="test", VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=[SSH_WORLD, RDP_WORLD6])
    ids["sg"] = sg
    ids["vol_enc"] = ec2.create_volume(AvailabilityZone="us-east-1a", Size=1, Encrypted=True)["VolumeId"]
    ids["vol_plain"] = ec2.create_volume(AvailabilityZone="us-east-1a", Size=1)["VolumeId"]
    ec2.enable_ebs_encryption_by_default()
    run = ec2.run_instances(
        ImageId="ami-12345678",
        MinCount=1,
        MaxCount=1,
        MetadataOptions={"HttpTokens": "required", "HttpEndpoint": "enabled"},
    )
    ids["instance_v2"] = run["Instances"][0]["InstanceId"]
    run = ec2.run_instances(ImageId="ami-12345678", MinCount=1, MaxCount=1)
    ids["instance_v1"] = run["Instances"][0]["InstanceId"]
    ec2.create_flow_logs(
        ResourceIds=[vpc],
        ResourceType="VPC",
        TrafficType="ALL",
        LogDestinationType="s3",
        LogDestination="arn:aws:s3:::logs-bucket-111122223333",
    )

    ct = session.client("cloudtrail")
    ct.create_trail(
        Name="org-audit",
        S3BucketName="logs-bucket-111122223333",
        IsMultiRegionTrail=True,
        EnableLogFileValidation=True,
    )
    ct.start_logging(Name="org-audit")
    ct.put_event_selectors(
        TrailName="org-audit", EventSelectors=[{"ReadWriteType": "All", "IncludeManagementEvents": True}]
    )
    ct.create_trail(Name="quiet-trail", S3BucketName="logs-bucket-111122223333")

    kms = session.client("kms")
    ids["key_sym"] = kms.create_key(Description="data")["KeyMetadata"]["KeyId"]
    kms.enable_key_rotation(KeyId=ids["key_sym"])
    kms.create_alias(AliasName="alias/data", TargetKeyId=ids["key_sym"])
    ids["key_rsa"] = kms.create_key(KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]

    iam = session.client("iam")
    iam.update_account_password_policy(
        MinimumPasswordLength=14,
        RequireSymbols=True,
        RequireNumbers=True,
        RequireUppercaseCharacters=True,
        RequireLowercaseCharacters=True,
        PasswordReusePrevention=24,
    )
    iam.create_user(UserName="alice")
    iam.create_login_profile(UserName="alice", Password="Example-Passw0rd-Not-Real")
    serial = iam.create_virtual_mfa_device(VirtualMFADeviceName="alice")["VirtualMFADevice"]["SerialNumber"]
    iam.enable_mfa_device(
        UserName="alice", SerialNumber=serial, AuthenticationCode1="123456", AuthenticationCode2="654321"
    )
    ids["alice_key"] = iam.create_access_key(UserName="alice")["AccessKey"]["AccessKeyId"]
    iam.create_user(UserName="bob")
    iam.put_user_policy(
        UserName="bob",
        PolicyName="inline-admin",
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
        ),
    )
    pol = iam.create_policy(
        PolicyName="read-logs",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "logs:Get*", "Resource": "*"}],
            }
        ),
    )["Policy"]["Arn"]
    iam.create_group(GroupName="readers")
    iam.attach_group_policy(GroupName="readers", PolicyArn=pol)
    iam.add_user_to_group(GroupName="readers", UserName="bob")
    iam.create_role(
        RoleName="scanner",
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "ec2.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        ),
    )
    return ids


@pytest.fixture(scope="module")
def estate(moto_server: MotoHandle) -> Iterator[tuple[list[Resource], dict[str, str]]]:
    with pytest.MonkeyPatch.context() as mp:
        for k, v in {**FAKE_CREDENTIALS_ENV, **moto_server.env()}.items():
            mp.setenv(k, v)
        for name in ("AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
            mp.delenv(name, raising=False)
        moto_server.reset()
        session = boto3.Session(region_name="us-east-1")
        s3control_host_prefix_hook(session)
        ids = seed(session)
        settings = AwsSettings(
            regions=["us-east-1", "ap-northeast-1"], endpoint_url=moto_server.endpoint, max_attempts=1
        )
        yield collect(settings), ids


def test_scope_records_first_then_sorted(estate: tuple[list[Resource], dict[str, str]]) -> None:
    records, _ = estate
    assert records[0].type == "aws.account" and records[0].id == f"arn:aws:iam::{ACCOUNT}:root"
    assert [r.region for r in records[1:3]] == ["ap-northeast-1", "us-east-1"]
    assert all(r.type == "aws.region" for r in records[1:3])
    rest = records[3:]
    assert rest == sorted(rest, key=Resource.sort_key)
    for r in records:
        assert r.account == ACCOUNT and r.provider == "aws"
        assert r.collected_at.endswith("Z") and len(r.collected_at) == 20
        json.dumps(r.to_dict(), allow_nan=False)  # JSON-able: no datetimes or bytes left


def test_account_record(estate: tuple[list[Resource], dict[str, str]]) -> None:
    acct = estate[0][0]
    assert acct.data["AccountId"] == ACCOUNT
    assert acct.data["AccountSummary"]["AccountMFAEnabled"] == 0
    assert acct.data["PasswordPolicy"]["MinimumPasswordLength"] == 14
    assert acct.data["PasswordPolicy"]["PasswordReusePrevention"] == 24
    assert acct.data["PublicAccessBlockConfiguration"] == ALL_BLOCKED  # s3control through the harness hook
    assert acct.data["AccountAliases"] == []
    report = acct.data["CredentialReport"]
    assert report["GeneratedTime"].endswith("Z")
    assert {row["user"] for row in report["Rows"]} == {"alice", "bob"}
    # moto's report has no <root_account> row: the field is absent and the error says why
    assert "RootCredentials" not in acct.data
    assert [(e.field, e.call, e.code) for e in acct.errors] == [
        ("RootCredentials", "iam:GetCredentialReport", "RootRowMissing")
    ]


def test_region_records(estate: tuple[list[Resource], dict[str, str]]) -> None:
    records, _ = estate
    use1 = one(records, "aws.region", region="us-east-1")
    apne1 = one(records, "aws.region", region="ap-northeast-1")
    assert use1.id == f"arn:aws::us-east-1:{ACCOUNT}:region"
    assert use1.data["RegionName"] == "us-east-1" and use1.data["OptInStatus"] == "opt-in-not-required"
    assert use1.data["EbsEncryptionByDefault"] is True
    assert apne1.data["EbsEncryptionByDefault"] is False
    # moto lacks GetEbsDefaultKmsKeyId: recorded as NotImplemented on that field only (see demo/aws/server.py)
    # (listing errors of other types, e.g. moto's missing Access Analyzer, carry a resource_type)
    assert [(e.field, e.code) for e in use1.errors if e.resource_type is None] == [
        ("EbsDefaultKmsKeyId", "NotImplemented")
    ]
    assert "EbsDefaultKmsKeyId" not in use1.data


def test_s3_buckets(estate: tuple[list[Resource], dict[str, str]]) -> None:
    buckets = by_type(estate[0], "aws.s3.bucket")
    good, bare, tokyo = (buckets[f"{n}-bucket-111122223333"] for n in ("good", "bare", "tokyo"))
    assert good.id == "arn:aws:s3:::good-bucket-111122223333" and good.region == "us-east-1"
    assert good.data["BucketRegion"] == "us-east-1"  # GetBucketLocation null -> us-east-1
    assert good.data["PublicAccessBlockConfiguration"] == ALL_BLOCKED
    rule = good.data["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert good.data["Versioning"]["Status"] == "Enabled"
    assert good.data["LoggingEnabled"]["TargetBucket"] == "logs-bucket-111122223333"
    assert good.data["Policy"] == TLS_POLICY  # parsed from the JSON string
    assert good.data["PolicyStatus"] == {"IsPublic": False}
    assert good.data["Acl"]["Grants"] and "Owner" in good.data["Acl"]
    assert good.data["Tags"] == [{"Key": "team", "Value": "platform"}]
    assert good.errors == []
    for field in (
        "PublicAccessBlockConfiguration",
        "ServerSideEncryptionConfiguration",
        "LoggingEnabled",
        "Policy",
        "PolicyStatus",
        "Tags",
    ):
        assert bare.data[field] is None, field  # "not configured" answers are null, not errors
    assert bare.data["Versioning"] == {}
    assert bare.errors == []
    assert tokyo.region == "ap-northeast-1" and tokyo.data["BucketRegion"] == "ap-northeast-1"


def test_security_group(estate: tuple[list[Resource], dict[str, str]]) -> None:
    records, ids = estate
    sg = one(
        records, "aws.ec2.security_group", id=f"arn:aws:ec2:us-east-1:{ACCOUNT}:security-group/{ids['sg']}"
    )
    assert sg.name == "open-admin" and sg.data["VpcId"] == ids["vpc"]
    perms = {(p["FromPort"], p["IpProtocol"]): p for p in sg.data["IpPermissions"]}
    assert perms[(22, "tcp")]["IpRanges"][0]["CidrIp"] == "0.0.0.0/0"
    assert perms[(3389, "tcp")]["Ipv6Ranges"][0]["CidrIpv6"] == "::/0"
    assert "IpPermissionsEgress" in sg.data
    defaults = [r for r in records if r.type == "aws.ec2.security_group" and r.data["GroupName"] == "default"]
    assert {r.region for r in defaults} == {"us-east-1", "ap-northeast-1"}


def test_volumes_instances_vpcs(estate: tuple[list[Resource], dict[str, str]]) -> None:
    records, ids = estate
    vols = {r.data["VolumeId"]: r for r in records if r.type == "aws.ec2.volume"}
    assert vols[ids["vol_enc"]].data["Encrypted"] is True
    assert vols[ids["vol_plain"]].data["Encrypted"] is False
    assert vols[ids["vol_enc"]].id == f"arn:aws:ec2:us-east-1:{ACCOUNT}:volume/{ids['vol_enc']}"
    inst = {r.data["InstanceId"]: r for r in records if r.type == "aws.ec2.instance"}
    assert inst[ids["instance_v2"]].data["MetadataOptions"]["HttpTokens"] == "required"
    assert inst[ids["instance_v1"]].data["MetadataOptions"]["HttpTokens"] == "optional"
    assert inst[ids["instance_v1"]].data["State"]["Name"] == "running"
    assert inst[ids["instance_v1"]].data["UserData"] is None  # no user data: null, nothing to redact
    vpc = one(records, "aws.ec2.vpc", id=f"arn:aws:ec2:us-east-1:{ACCOUNT}:vpc/{ids['vpc']}")
    assert [f["ResourceId"] for f in vpc.data["FlowLogs"]] == [ids["vpc"]]
    assert vpc.data["FlowLogs"][0]["FlowLogStatus"] == "ACTIVE"
    assert vpc.data["IsDefault"] is False and vpc.data["NetworkInterfaces"] == []
    default_vpc = next(
        r for r in records if r.type == "aws.ec2.vpc" and r.data["IsDefault"] and r.region == "us-east-1"
    )
    assert default_vpc.data["FlowLogs"] == []
    assert len(default_vpc.data["NetworkInterfaces"]) == 2  # the two instances' ENIs in the default VPC


def test_trails_kept_once_in_their_home_region(estate: tuple[list[Resource], dict[str, str]]) -> None:
    trails = by_type(estate[0], "aws.cloudtrail.trail")
    assert sorted(trails) == ["org-audit", "quiet-trail"]
    audit = trails["org-audit"]
    assert (
        audit.region == "us-east-1" and audit.id == f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/org-audit"
    )
    assert audit.data["IsMultiRegionTrail"] is True and audit.data["LogFileValidationEnabled"] is True
    assert audit.data["Status"]["IsLogging"] is True
    assert audit.data["EventSelectors"][0]["ReadWriteType"] == "All"
    assert trails["quiet-trail"].data["Status"]["IsLogging"] is False
    assert trails["quiet-trail"].data["IsMultiRegionTrail"] is False


def test_kms_keys(estate: tuple[list[Resource], dict[str, str]]) -> None:
    records, ids = estate
    keys = {r.data["KeyId"]: r for r in records if r.type == "aws.kms.key"}
    sym, rsa = keys[ids["key_sym"]], keys[ids["key_rsa"]]
    assert sym.id == f"arn:aws:kms:us-east-1:{ACCOUNT}:key/{ids['key_sym']}"
    assert sym.data["KeyManager"] == "CUSTOMER" and sym.data["KeySpec"] == "SYMMETRIC_DEFAULT"
    assert sym.data["KeyRotationEnabled"] is True
    assert sym.data["KeyPolicy"]["Statement"][0]["Effect"] == "Allow"  # parsed
    assert [a["AliasName"] for a in sym.data["Aliases"]] == ["alias/data"]
    assert rsa.data["KeySpec"] == "RSA_2048" and rsa.data["KeyRotationEnabled"] is None
    assert sym.errors == [] and rsa.errors == []


def test_iam_records(estate: tuple[list[Resource], dict[str, str]]) -> None:
    records, ids = estate
    users = by_type(records, "aws.iam.user")
    alice, bob = users["alice"], users["bob"]
    assert alice.id == f"arn:aws:iam::{ACCOUNT}:user/alice" and alice.region == "global"
    assert alice.data["LoginProfile"]["PasswordResetRequired"] is False
    assert alice.data["LoginProfile"]["CreateDate"].endswith("Z")
    assert len(alice.data["MFADevices"]) == 1
    (key,) = alice.data["AccessKeys"]
    assert (
        key["AccessKeyId"] == ids["alice_key"] and key["Status"] == "Active"
    )  # identifiers are not redacted
    assert "LastUsed" in key
    assert alice.data["CredentialReportRow"]["mfa_active"] == "true"
    assert alice.data["CredentialReportRow"]["password_enabled"] == "true"
    assert bob.data["LoginProfile"] is None and bob.data["MFADevices"] == [] and bob.data["AccessKeys"] == []
    assert bob.data["UserPolicyList"][0]["PolicyDocument"]["Statement"][0]["Action"] == "*"  # parsed
    assert [g for g in bob.data["GroupList"]] == ["readers"]
    assert alice.errors == [] and bob.errors == []
    group = by_type(records, "aws.iam.group")["readers"]
    assert group.data["AttachedManagedPolicies"][0]["PolicyName"] == "read-logs"
    role = by_type(records, "aws.iam.role")["scanner"]
    assert role.data["AssumeRolePolicyDocument"]["Statement"][0]["Action"] == "sts:AssumeRole"
    policies = by_type(records, "aws.iam.policy")
    assert "read-logs" in policies, sorted(policies)
    policy = policies["read-logs"]
    assert policy.data["_derived"]["DefaultVersionDocument"]["Statement"][0]["Action"] == "logs:Get*"


# ---------------------------------------------------------------------------------------------------------
# Absent settings and error paths (each resets moto).


class _Body:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


def fail_with(event: str, status: int, code: str, calls: list[str] | None = None) -> Callable[[Any], None]:
    """A client hook answering every ``event`` (``before-send.s3.GetBucketPolicy``) with an AWS error."""

    def handler(request: Any, **kwargs: Any) -> AWSResponse:
        if calls is not None:
            calls.append(kwargs.get("event_name", event))
        ctype = request.headers.get("Content-Type", b"")
        if b"json" in (ctype if isinstance(ctype, bytes) else ctype.encode()):
            body = json.dumps({"__type": code, "message": "injected by the test"}).encode()
        else:
            err = f"<Error><Code>{code}</Code><Message>injected by the test</Message></Error>"
            body = (
                f"<ErrorResponse>{err}<Errors>{err}</Errors><RequestId>t</RequestId></ErrorResponse>".encode()
            )
        return AWSResponse(request.url, status, {"x-amzn-RequestId": "t"}, _Body(body))

    def hook(session: Any) -> None:
        session.events.register(event, handler)

    return hook


def test_password_policy_absent_is_null(aws_settings: AwsSettings) -> None:
    records = collect(aws_settings, resource_types=set())
    assert [r.type for r in records] == ["aws.account", "aws.region", "aws.region"]
    assert records[0].data["PasswordPolicy"] is None
    assert records[0].data["PublicAccessBlockConfiguration"] is None


def test_detail_denied_is_an_error_on_that_field(aws_settings: AwsSettings, aws_session: Any) -> None:
    aws_session.client("s3").create_bucket(Bucket="denied-policy-bucket")
    hook = fail_with("before-send.s3.GetBucketPolicy", 403, "AccessDenied")
    records = collect(aws_settings, [hook], resource_types={"aws.s3.bucket"})
    bucket = one(records, "aws.s3.bucket")
    assert [(e.field, e.call, e.code) for e in bucket.errors] == [
        ("Policy", "s3:GetBucketPolicy", "AccessDenied")
    ]
    assert "Policy" not in bucket.data  # unknown, not "no policy"
    assert bucket.data["Versioning"] == {}  # the rest of the record is there


def test_listing_denied_is_an_error_on_the_account(aws_settings: AwsSettings, aws_session: Any) -> None:
    aws_session.client("s3").create_bucket(Bucket="unseen-bucket")
    hook = fail_with("before-send.s3.ListBuckets", 403, "AccessDenied")
    records = collect(aws_settings, [hook], resource_types={"aws.s3.bucket"})
    assert not [r for r in records if r.type == "aws.s3.bucket"]
    errs = [e for e in records[0].errors if e.resource_type == "aws.s3.bucket"]
    assert [(e.field, e.call, e.code) for e in errs] == [("*", "s3:ListBuckets", "AccessDenied")]


def test_throttling_retried_then_recorded_on_the_region(moto_endpoint: str) -> None:
    calls: list[str] = []
    hook = fail_with("before-send.ec2.DescribeSecurityGroups", 400, "RequestLimitExceeded", calls)
    settings = AwsSettings(regions=["us-east-1"], endpoint_url=moto_endpoint, max_attempts=2)
    records = collect(settings, [hook], resource_types={"aws.ec2.security_group"})
    region = one(records, "aws.region")
    errs = [e for e in region.errors if e.resource_type == "aws.ec2.security_group"]
    assert [(e.field, e.code) for e in errs] == [("*", "RequestLimitExceeded")]
    assert len(calls) == 2  # throttling is retried (standard mode) up to max_attempts
    assert not [r for r in records if r.type == "aws.ec2.security_group"]


def test_unreachable_region_is_one_error_per_wanted_type(aws_settings: AwsSettings) -> None:
    def hook(session: Any) -> None:
        def refuse(request: Any, **_: Any) -> None:
            if b"/ap-northeast-1/" in request.headers.get("Authorization", b""):
                raise EndpointConnectionError(endpoint_url=request.url)

        session.events.register("before-send", refuse)

    records = collect(aws_settings, [hook], resource_types={"aws.ec2.security_group", "aws.kms.key"})
    apne1 = one(records, "aws.region", region="ap-northeast-1")
    assert [(e.field, e.code, e.resource_type) for e in apne1.errors] == [
        ("*", "EndpointConnectionError", None),
        ("*", "EndpointConnectionError", "aws.ec2.security_group"),
        ("*", "EndpointConnectionError", "aws.kms.key"),
    ]
    assert not [r for r in records if r.region == "ap-northeast-1" and r.type != "aws.region"]
    assert [r for r in records if r.region == "us-east-1" and r.type == "aws.ec2.security_group"]


def test_unknown_region_is_one_error(moto_endpoint: str) -> None:
    settings = AwsSettings(regions=["us-east-1", "xx-nowhere-9"], endpoint_url=moto_endpoint, max_attempts=1)
    records = collect(settings, resource_types=set())
    bad = one(records, "aws.region", region="xx-nowhere-9")
    assert [(e.field, e.code) for e in bad.errors] == [("*", "UnknownRegion")]


def test_all_regions_from_describe_regions(moto_endpoint: str) -> None:
    settings = AwsSettings(regions="all", endpoint_url=moto_endpoint, max_attempts=1)
    records = collect(settings, resource_types=set())
    regions = [r.region for r in records if r.type == "aws.region"]
    assert "us-east-1" in regions and "ap-northeast-1" in regions and len(regions) > 10
    assert all(r.data["OptInStatus"] in ("opt-in-not-required", "opted-in") for r in records[1:])


def test_trail_homed_elsewhere_seen_from_scanned_region(moto_endpoint: str, aws_session: Any) -> None:
    aws_session.client("s3").create_bucket(Bucket="trail-logs-111122223333")
    aws_session.client("cloudtrail").create_trail(
        Name="everywhere", S3BucketName="trail-logs-111122223333", IsMultiRegionTrail=True
    )
    settings = AwsSettings(regions=["ap-northeast-1"], endpoint_url=moto_endpoint, max_attempts=1)
    records = collect(settings, resource_types={"aws.cloudtrail.trail"})
    trail = one(records, "aws.cloudtrail.trail")
    assert trail.region == "us-east-1" and trail.data["HomeRegion"] == "us-east-1"
    assert "Status" in trail.data and trail.errors == []


def test_collection_is_deterministic(aws_settings: AwsSettings, aws_session: Any) -> None:
    ec2 = aws_session.client("ec2")
    for i in range(3):
        ec2.create_security_group(GroupName=f"sg-{i}", Description="d")

    def strip(rs: list[Resource]) -> list[dict[str, Any]]:
        return [{**r.to_dict(), "collected_at": None} for r in rs]

    types = {"aws.ec2.security_group", "aws.iam.user"}
    assert strip(collect(aws_settings, resource_types=types)) == strip(
        collect(aws_settings, resource_types=types)
    )


def test_unknown_type_is_an_input_error(aws_settings: AwsSettings) -> None:
    from ismap_scan.errors import InputError

    with pytest.raises(InputError, match=r"aws\.nope"):
        collect(aws_settings, resource_types={"aws.nope"})
