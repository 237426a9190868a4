"""Seed the demo estate (:mod:`ismap_scan.demo.aws.estate`) into a moto server through boto3.

Seeding is the fake cloud's *setup*, not a scan: it uses its own plain boto3 session with the fake credentials
``testing``/``testing`` and write calls, and never goes through the scanner's read-only guard. It is only
ever pointed at a moto server on loopback.

One thing has no AWS API: creating something *in the past*. Access keys older than 90 days and console
passwords unused for 120 days are needed so the credential-age checks can FAIL. When the moto server runs in
this process (``ThreadedMotoServer``, as :mod:`ismap_scan.demo.aws.server` starts it), :func:`seed` moves
those dates back in moto's in-memory IAM model (``AccessKey.create_date``, ``User.create_date``,
``User.password_last_used``, the last one documented by moto as settable). It first checks that the key it
just created through the API is in that model, so it never edits a different server's state. Against an
out-of-process server the dates stay "now", :attr:`SeedReport.backdated` is ``False`` and the ground truth
for those checks (:data:`ismap_scan.demo.aws.expected.TIME_DEPENDENT`) does not hold.
"""

from __future__ import annotations

import io
import json
import os
import secrets
import threading
import time
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from .estate import (
    ADMIN_POLICY_ARN,
    ROLES,
    BucketSpec,
    Estate,
    InstanceSpec,
    KmsKeySpec,
    UserSpec,
    build_estate,
    region_for_role,
)
from .seed_services import ServiceSeeder
from .server import s3control_host_prefix_hook

DEFAULT_REGIONS: tuple[str, ...] = ("ap-northeast-1", "ap-northeast-3", "us-east-1")
#: An AMI ID moto accepts in every region (the image itself does not matter to any check).
_AMI = "ami-12c6146b"
_FAKE_KEY = "testing"
_LOAD_POLICIES_ENV = "MOTO_IAM_LOAD_MANAGED_POLICIES"


@dataclass(frozen=True)
class SeededResource:
    """One resource the seeder made on purpose.

    ``type`` is the snapshot type (``aws.s3.bucket``); ``id`` the snapshot record ``id`` the collector gives
    it (ARN, as docs/architecture.md defines per type); ``native_id`` the AWS ID (``sg-…``, ``vol-…``, name).
    """

    type: str
    region: str
    id: str
    native_id: str


@dataclass
class SeedReport:
    """What :func:`seed` did.

    ``resources`` maps a logical name (the keys of :mod:`ismap_scan.demo.aws.expected`) to the created
    resource. ``requests`` counts HTTP requests sent to moto, ``seconds`` is wall time. ``backdated`` says
    whether the IAM dates could be moved back (see the module docstring). ``notes`` lists moto fidelity
    gaps met while seeding.
    """

    endpoint_url: str
    account_id: str
    regions: tuple[str, ...]
    scale: int
    resources: dict[str, SeededResource] = field(default_factory=dict)
    requests: int = 0
    seconds: float = 0.0
    backdated: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        """Number of resources seeded on purpose (moto's own defaults not counted)."""
        return len(self.resources)

    def counts(self) -> dict[str, int]:
        """Number of seeded resources per snapshot type."""
        return dict(Counter(r.type for r in self.resources.values()))

    def ids(self, logical_name: str) -> set[str]:
        """The identifiers a result may carry for ``logical_name`` (snapshot id and native AWS id).

        Raises ``KeyError`` when the seeder made no resource of that name.
        """
        r = self.resources[logical_name]
        return {r.id, r.native_id}


def seed(
    endpoint_url: str,
    regions: tuple[str, ...] = DEFAULT_REGIONS,
    scale: int = 1,
) -> SeedReport:
    """Write the demo estate into the moto server at ``endpoint_url`` (``http://127.0.0.1:<port>``).

    ``regions``: the first three distinct regions take the roles primary (Tokyo), secondary (Osaka) and
    tertiary (us-east-1); the estate is placed by role. ``scale`` multiplies the fleet part of the estate
    (:data:`ismap_scan.demo.aws.estate.FLEET_SIZES`); scale 1 is 322 seeded resources (~860 requests;
    the issue-3 services, :mod:`.seed_services`, are 48 of them), each further unit of scale adds 202.

    Returns a :class:`SeedReport`. Raises ``ValueError`` for fewer than three distinct regions or scale < 1
    (the ground truth has one verdict per region role), and ``botocore.exceptions.ClientError`` when moto
    refuses a call (a seeding bug, never swallowed). Takes about 8 s at scale 1 on a 2-core machine. Calls
    run on one thread in a fixed order: on a server seeded by ``start_moto``/``MotoHandle.reset`` the IDs moto
    generates are then the same every run (see ``server.py``).
    """
    distinct = tuple(dict.fromkeys(regions))
    if len(distinct) < len(ROLES):
        raise ValueError(f"the demo estate needs {len(ROLES)} distinct regions, got {list(regions)}")
    estate = build_estate(scale)
    started = time.perf_counter()
    seeder = _Seeder(endpoint_url, distinct[: len(ROLES)], estate)
    report = seeder.run(scale)
    report.seconds = time.perf_counter() - started
    return report


def _tags(owner: str, env: str, name: str) -> list[dict[str, str]]:
    return [
        {"Key": "Name", "Value": name},
        {"Key": "Owner", "Value": owner},
        {"Key": "Environment", "Value": env},
        {"Key": "CostCenter", "Value": "jp-saas-" + env},
    ]


class _Seeder:
    """Holds the session, created IDs and counters for one :func:`seed` run."""

    def __init__(self, endpoint_url: str, regions: tuple[str, ...], estate: Estate) -> None:
        import boto3  # lazy: importing the demo package must not need the aws extra
        from botocore.config import Config

        self.endpoint = endpoint_url
        self.regions = regions
        self.estate = estate
        self.session = boto3.session.Session(
            aws_access_key_id=_FAKE_KEY, aws_secret_access_key=_FAKE_KEY, region_name=regions[0]
        )
        self._lock = threading.Lock()
        self._requests = 0
        self.session.events.register("before-send", self._count)
        s3control_host_prefix_hook(self.session)
        self._config = Config(retries={"max_attempts": 1, "mode": "standard"})
        self._clients: dict[tuple[str, str], Any] = {}
        self.account_id = ""
        self.report: SeedReport | None = None
        self.key_arns: dict[str, str] = {}  # alias -> key ARN
        self.vpc_ids: dict[str, str] = {}
        self.subnet_ids: dict[str, str] = {}
        self.sg_ids: dict[str, str] = {}
        self.volume_ids: dict[str, str] = {}  # volume name -> vol-… (services seeding snapshots them)
        self.instance_ids: dict[str, str] = {}  # instance name -> i-… (services seeding images them)
        self.backdates: list[tuple[str, UserSpec, list[tuple[str, int]]]] = []

    # -- plumbing

    def _count(self, **_: Any) -> None:
        with self._lock:
            self._requests += 1

    def client(self, service: str, region: str | None = None) -> Any:
        region = region or self.regions[0]
        key = (service, region)
        if key not in self._clients:
            self._clients[key] = self.session.client(
                service, region_name=region, endpoint_url=self.endpoint, config=self._config
            )
        return self._clients[key]

    def region(self, role: str) -> str:
        return region_for_role(role, self.regions)

    def add(self, logical: str, type_: str, region: str, id_: str, native: str) -> None:
        assert self.report is not None
        self.report.resources[logical] = SeededResource(type_, region, id_, native)

    def ec2_arn(self, region: str, kind: str, native: str) -> str:
        return f"arn:aws:ec2:{region}:{self.account_id}:{kind}/{native}"

    # -- the run

    def run(self, scale: int) -> SeedReport:
        self._enable_aws_managed_policies()
        self.report = SeedReport(self.endpoint, self.account_id, self.regions, scale)
        self.add("account", "aws.account", "global", f"arn:aws:iam::{self.account_id}:root", self.account_id)
        for role in ROLES:
            r = self.region(role)
            self.add(f"region-{role}", "aws.region", r, f"arn:aws::{r}:{self.account_id}:region", r)
        # One thread, fixed order: every ID moto makes (default VPCs, security groups, snapshots, ...) is the
        # next draw of its seeded ``mock_random`` (see server.py), so racing creates would reshuffle them.
        self.seed_iam()
        self.seed_kms()
        self.seed_s3()
        for role in ROLES:
            self.seed_ec2(role)
        # Log groups first: the multi-region trail delivers to one (seed_services.seed_log_groups).
        services = ServiceSeeder(self)
        services.seed_log_groups()
        self.seed_cloudtrail()
        self.seed_lambda()
        services.run()
        self.report.backdated = self.apply_backdates()
        if not self.report.backdated:
            self.report.notes.append(
                "moto server is not in this process: access-key and password ages could not be backdated"
            )
        self.report.requests = self._requests
        return self.report

    def _enable_aws_managed_policies(self) -> None:
        """Make sure moto has the AWS-managed IAM policies (AdministratorAccess, ReadOnlyAccess...).

        moto loads them only when ``MOTO_IAM_LOAD_MANAGED_POLICIES=true`` is in the server's environment at
        the moment it builds an account's IAM backend, which is on the account's first request of any kind
        (moto records access-key use in IAM). For an in-process server that is ours to set: it is set around
        the first call (``sts:GetCallerIdentity``, which also gives the account ID) and then restored. Raises
        ``RuntimeError`` when the policies are still missing (an out-of-process server started without the
        variable, or a server that had already answered requests).
        """
        iam = self.client("iam")
        saved = os.environ.get(_LOAD_POLICIES_ENV)
        os.environ[_LOAD_POLICIES_ENV] = "true"
        try:
            self.account_id = self.client("sts").get_caller_identity()["Account"]
            iam.get_policy(PolicyArn=ADMIN_POLICY_ARN)
        except iam.exceptions.NoSuchEntityException as exc:
            raise RuntimeError(
                f"moto has no AWS-managed IAM policies: start it with {_LOAD_POLICIES_ENV}=true "
                "and seed a fresh (or reset) server"
            ) from exc
        finally:
            if saved is None:
                os.environ.pop(_LOAD_POLICIES_ENV, None)
            else:
                os.environ[_LOAD_POLICIES_ENV] = saved

    # -- IAM

    def seed_iam(self) -> None:
        iam = self.client("iam")
        e = self.estate
        pp = e.password_policy
        iam.update_account_password_policy(
            MinimumPasswordLength=pp.minimum_length,
            RequireSymbols=pp.require_symbols,
            RequireNumbers=pp.require_numbers,
            RequireUppercaseCharacters=pp.require_upper,
            RequireLowercaseCharacters=pp.require_lower,
            AllowUsersToChangePassword=True,
            MaxPasswordAge=pp.max_age_days,
            PasswordReusePrevention=pp.reuse_prevention,
        )
        iam.create_account_alias(AccountAlias="jp-saas-prod")
        policy_arns: dict[str, str] = {}
        for pol in e.policies:
            arn = iam.create_policy(
                PolicyName=pol.name, PolicyDocument=json.dumps(pol.document), Description=pol.description
            )["Policy"]["Arn"]
            policy_arns[pol.name] = arn
            self.add(pol.name, "aws.iam.policy", "global", arn, pol.name)

        def arn_of(policy: str) -> str:
            return policy if policy.startswith("arn:") else policy_arns[policy]

        for g in e.groups:
            arn = iam.create_group(GroupName=g.name)["Group"]["Arn"]
            self.add(g.name, "aws.iam.group", "global", arn, g.name)
            for p in g.managed_policies:
                iam.attach_group_policy(GroupName=g.name, PolicyArn=arn_of(p))
            if g.inline_policy:
                iam.put_group_policy(
                    GroupName=g.name,
                    PolicyName=g.name + "-inline",
                    PolicyDocument=json.dumps(g.inline_policy),
                )
        for u in e.users:
            self._user(iam, u, arn_of)

    def _user(self, iam: Any, u: UserSpec, arn_of: Any) -> None:
        arn = iam.create_user(UserName=u.name, Tags=_tags(u.owner, "prod", u.name)[1:])["User"]["Arn"]
        self.add(u.name, "aws.iam.user", "global", arn, u.name)
        for g in u.groups:
            iam.add_user_to_group(GroupName=g, UserName=u.name)
        for p in u.managed_policies:
            iam.attach_user_policy(UserName=u.name, PolicyArn=arn_of(p))
        if u.inline_policy:
            iam.put_user_policy(
                UserName=u.name, PolicyName=u.name + "-inline", PolicyDocument=json.dumps(u.inline_policy)
            )
        if u.console:
            # A throwaway random password: moto stores it, nothing else ever reads it.
            iam.create_login_profile(UserName=u.name, Password=secrets.token_urlsafe(18) + "aA1!")
        if u.mfa:
            serial = iam.create_virtual_mfa_device(VirtualMFADeviceName=u.name)["VirtualMFADevice"][
                "SerialNumber"
            ]
            iam.enable_mfa_device(
                UserName=u.name,
                SerialNumber=serial,
                AuthenticationCode1="123456",
                AuthenticationCode2="654321",
            )
        aged: list[tuple[str, int]] = []
        for k in u.keys:
            created = iam.create_access_key(UserName=u.name)["AccessKey"]
            key_id = created["AccessKeyId"]
            if k.used:
                # A real request signed with the key: moto records AccessKeyLastUsed for it, as AWS does.
                # (A client of the same session reuses its loaded service models; a new session is slow.)
                self.session.client(
                    "sts",
                    region_name=self.regions[0],
                    endpoint_url=self.endpoint,
                    config=self._config,
                    aws_access_key_id=key_id,
                    aws_secret_access_key=created["SecretAccessKey"],
                ).get_caller_identity()
            if not k.active:
                iam.update_access_key(UserName=u.name, AccessKeyId=key_id, Status="Inactive")
            if k.age_days:
                aged.append((key_id, k.age_days))
        if aged or u.password_age_days or u.password_last_used_days is not None:
            self.backdates.append((u.name, u, aged))

    def apply_backdates(self) -> bool:
        """Move IAM dates back in moto's in-process model; False when the server is not in this process."""
        if not self.backdates:
            return True
        try:
            from moto.iam.models import iam_backends
        except ImportError:
            return False
        backend = iam_backends[self.account_id]["aws"]
        probe = next((aged[0][0] for _, _, aged in self.backdates if aged), None)
        if probe is None or probe not in backend.access_keys:
            return False  # a different server: its state is not ours to touch
        # moto keeps naive UTC datetimes (moto.core.utils.utcnow).
        now = datetime.now(UTC).replace(tzinfo=None)
        for name, spec, aged in self.backdates:
            user: Any = backend.users[name]
            for key_id, days in aged:
                backend.access_keys[key_id].create_date = now - timedelta(days=days)
            if spec.password_age_days:
                user.create_date = now - timedelta(days=spec.password_age_days)
            if spec.password_last_used_days is not None:
                user.password_last_used = now - timedelta(days=spec.password_last_used_days)
        return True

    # -- KMS

    def seed_kms(self) -> None:
        for k in self.estate.kms_keys:
            self._key(k)

    def _key_policy(self, k: KmsKeySpec) -> dict[str, Any]:
        statements: list[dict[str, Any]] = [
            {
                "Sid": "EnableAccountAdministration",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{self.account_id}:root"},
                "Action": "kms:*",
                "Resource": "*",
            }
        ]
        if k.policy == "public":
            statements.append(
                {
                    "Sid": "PartnerDecrypt",
                    "Effect": "Allow",
                    "Principal": {"AWS": "*"},
                    "Action": ["kms:Decrypt", "kms:DescribeKey"],
                    "Resource": "*",
                }
            )
        elif k.policy == "public-conditional":
            statements.append(
                {
                    "Sid": "AllowUseThroughS3InThisAccount",
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey*"],
                    "Resource": "*",
                    "Condition": {
                        "StringEquals": {
                            "kms:CallerAccount": self.account_id,
                            "kms:ViaService": f"s3.{self.region(k.role)}.amazonaws.com",
                        }
                    },
                }
            )
        return {"Version": "2012-10-17", "Id": "key-policy", "Statement": statements}

    def _key(self, k: KmsKeySpec) -> None:
        region = self.region(k.role)
        kms = self.client("kms", region)
        meta = kms.create_key(
            Description=f"{k.alias[6:]} ({k.env})",
            KeySpec=k.key_spec,
            KeyUsage=k.key_usage,
            Policy=json.dumps(self._key_policy(k)),
            Tags=[{"TagKey": t["Key"], "TagValue": t["Value"]} for t in _tags(k.owner, k.env, k.alias)[1:]],
        )["KeyMetadata"]
        kms.create_alias(AliasName=k.alias, TargetKeyId=meta["KeyId"])
        if k.rotation:
            kms.enable_key_rotation(KeyId=meta["KeyId"])
        if not k.enabled:
            kms.disable_key(KeyId=meta["KeyId"])
        self.key_arns[k.alias] = meta["Arn"]
        self.add(k.alias, "aws.kms.key", region, meta["Arn"], meta["KeyId"])

    # -- S3

    def seed_s3(self) -> None:
        # Log targets first: PutBucketLogging checks the target's permissions.
        ordered = sorted(self.estate.buckets, key=lambda b: b.log_to is not None)
        for b in ordered:
            self._bucket(b)
        if self.estate.account_pab is not None:
            # Set last, as a partial account block is usually switched on after the legacy buckets exist.
            self.client("s3control").put_public_access_block(
                AccountId=self.account_id, PublicAccessBlockConfiguration=self.estate.account_pab
            )

    def _bucket_policy(self, b: BucketSpec) -> dict[str, Any]:
        arn = f"arn:aws:s3:::{b.name}"
        st: list[dict[str, Any]] = []
        for kind in b.policy:
            if kind == "deny-insecure":
                st.append(
                    {
                        "Sid": "DenyInsecureTransport",
                        "Effect": "Deny",
                        # {"AWS": "*"}, not "*": moto's PutBucketLogging crashes (HTTP 500) reading a target
                        # bucket policy whose Principal is a plain string (moto 5.2.5 s3/models.py).
                        "Principal": {"AWS": "*"},
                        "Action": "s3:*",
                        "Resource": [arn, arn + "/*"],
                        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                    }
                )
            elif kind == "public-read":
                st.append(
                    {
                        "Sid": "PublicRead",
                        "Effect": "Allow",
                        "Principal": "*",
                        "Action": "s3:GetObject",
                        "Resource": arn + "/*",
                    }
                )
            elif kind == "cloudtrail":
                st += [
                    {
                        "Sid": "CloudTrailAclCheck",
                        "Effect": "Allow",
                        "Principal": {"Service": "cloudtrail.amazonaws.com"},
                        "Action": "s3:GetBucketAcl",
                        "Resource": arn,
                    },
                    {
                        "Sid": "CloudTrailWrite",
                        "Effect": "Allow",
                        "Principal": {"Service": "cloudtrail.amazonaws.com"},
                        "Action": "s3:PutObject",
                        "Resource": f"{arn}/AWSLogs/{self.account_id}/*",
                        "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}},
                    },
                ]
            elif kind == "log-delivery":
                st.append(
                    {
                        "Sid": "S3ServerAccessLogsPolicy",
                        "Effect": "Allow",
                        "Principal": {"Service": "logging.s3.amazonaws.com"},
                        "Action": ["s3:PutObject"],
                        "Resource": arn + "/*",
                        "Condition": {"StringEquals": {"aws:SourceAccount": self.account_id}},
                    }
                )
            else:  # pragma: no cover - estate data error
                raise ValueError(f"unknown bucket policy kind {kind!r} for {b.name}")
        return {"Version": "2012-10-17", "Statement": st}

    def _bucket(self, b: BucketSpec) -> None:
        region = self.region(b.role)
        s3 = self.client("s3", region)
        kwargs: dict[str, Any] = {"Bucket": b.name}
        if region != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
        s3.create_bucket(**kwargs)
        self.add(b.name, "aws.s3.bucket", region, f"arn:aws:s3:::{b.name}", b.name)
        tags = _tags(b.owner, b.env, b.name)[1:]
        if b.classification:
            tags.append({"Key": "DataClassification", "Value": b.classification})
        s3.put_bucket_tagging(Bucket=b.name, Tagging={"TagSet": tags})
        if b.acl:
            s3.put_bucket_acl(Bucket=b.name, ACL=b.acl)
        if b.policy:
            s3.put_bucket_policy(Bucket=b.name, Policy=json.dumps(self._bucket_policy(b)))
        if b.encryption:
            rule: dict[str, Any] = {"SSEAlgorithm": b.encryption}
            if b.kms_alias:
                rule["KMSMasterKeyID"] = self.key_arns[b.kms_alias]
            s3.put_bucket_encryption(
                Bucket=b.name,
                ServerSideEncryptionConfiguration={
                    "Rules": [
                        {"ApplyServerSideEncryptionByDefault": rule, "BucketKeyEnabled": bool(b.kms_alias)}
                    ]
                },
            )
        if b.versioning:
            s3.put_bucket_versioning(Bucket=b.name, VersioningConfiguration={"Status": b.versioning})
        if b.log_to:
            s3.put_bucket_logging(
                Bucket=b.name,
                BucketLoggingStatus={
                    "LoggingEnabled": {"TargetBucket": b.log_to, "TargetPrefix": f"s3/{b.name}/"}
                },
            )
        if b.pab:
            s3.put_public_access_block(Bucket=b.name, PublicAccessBlockConfiguration=b.pab)

    # -- EC2 (one thread per region role)

    def seed_ec2(self, role: str) -> None:
        region = self.region(role)
        ec2 = self.client("ec2", region)
        e = self.estate
        if e.ebs_default_encryption.get(role):
            ec2.enable_ebs_encryption_by_default()
        default_vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0][
            "VpcId"
        ]
        vpcs = {"default": default_vpc}
        self.add(
            f"default-vpc-{role}",
            "aws.ec2.vpc",
            region,
            self.ec2_arn(region, "vpc", default_vpc),
            default_vpc,
        )
        self._default_sg(ec2, region, default_vpc, f"default-vpc-{role}", lock=False)
        for v in (v for v in e.vpcs if v.role == role):
            tags = [{"ResourceType": "vpc", "Tags": _tags(v.owner, v.env, v.name)}]
            vpc_id = ec2.create_vpc(CidrBlock=v.cidr, TagSpecifications=tags)["Vpc"]["VpcId"]
            vpcs[v.name] = vpc_id
            self.add(v.name, "aws.ec2.vpc", region, self.ec2_arn(region, "vpc", vpc_id), vpc_id)
            for sn in v.subnets:
                sn_id = ec2.create_subnet(
                    VpcId=vpc_id,
                    CidrBlock=sn.cidr,
                    AvailabilityZone=region + "a",
                    TagSpecifications=[{"ResourceType": "subnet", "Tags": _tags(v.owner, v.env, sn.name)}],
                )["Subnet"]["SubnetId"]
                if sn.public:
                    ec2.modify_subnet_attribute(SubnetId=sn_id, MapPublicIpOnLaunch={"Value": True})
                self.subnet_ids[sn.name] = sn_id
            if v.flow_logs:
                # No key prefix in the ARN: moto takes "bucket/prefix/" for a bucket name that does not exist.
                answer = ec2.create_flow_logs(
                    ResourceIds=[vpc_id],
                    ResourceType="VPC",
                    TrafficType="ALL",
                    LogDestinationType="s3",
                    LogDestination="arn:aws:s3:::jp-saas-prod-logs",
                )
                if answer.get("Unsuccessful"):  # EC2 reports these in the body, not as an error
                    raise RuntimeError(f"flow log for {v.name} refused: {answer['Unsuccessful']}")
            self._default_sg(ec2, region, vpc_id, v.name, lock=v.lock_default_sg)
        sg_ids: dict[str, str] = {}
        for sg in e.security_groups:
            if sg.vpc not in vpcs:
                continue
            sg_id = ec2.create_security_group(
                GroupName=sg.name,
                Description=sg.description,
                VpcId=vpcs[sg.vpc],
                TagSpecifications=[
                    {"ResourceType": "security-group", "Tags": _tags(sg.owner, sg.env, sg.name)}
                ],
            )["GroupId"]
            sg_ids[sg.name] = sg_id
            self.add(
                sg.name,
                "aws.ec2.security_group",
                region,
                self.ec2_arn(region, "security-group", sg_id),
                sg_id,
            )
            perms = []
            for r in sg.ingress:
                p: dict[str, Any] = {"IpProtocol": r.proto}
                if r.proto != "-1":
                    p.update(FromPort=r.from_port, ToPort=r.to_port)
                if r.cidr:
                    p["IpRanges"] = [{"CidrIp": r.cidr, "Description": sg.description}]
                if r.cidr6:
                    p["Ipv6Ranges"] = [{"CidrIpv6": r.cidr6, "Description": sg.description}]
                if r.source_sg:
                    p["UserIdGroupPairs"] = [{"GroupId": sg_ids[r.source_sg]}]
                perms.append(p)
            if perms:
                ec2.authorize_security_group_ingress(GroupId=sg_id, IpPermissions=perms)
        with self._lock:
            self.sg_ids.update(sg_ids)
        for vol in (v for v in e.volumes if v.role == role):
            kwargs: dict[str, Any] = {
                "AvailabilityZone": region + "a",
                "Size": vol.size_gib,
                "VolumeType": "gp3",
                "Encrypted": vol.encrypted,
                "TagSpecifications": [
                    {"ResourceType": "volume", "Tags": _tags(vol.owner, vol.env, vol.name)}
                ],
            }
            if vol.kms_alias:
                kwargs["KmsKeyId"] = self.key_arns[vol.kms_alias]
            vol_id = ec2.create_volume(**kwargs)["VolumeId"]
            self.add(vol.name, "aws.ec2.volume", region, self.ec2_arn(region, "volume", vol_id), vol_id)
            with self._lock:
                self.volume_ids[vol.name] = vol_id
        for inst in (i for i in e.instances if i.role == role):
            self._instance(ec2, region, inst, vpcs, sg_ids, bool(e.ebs_default_encryption.get(role)))

    def _default_sg(self, ec2: Any, region: str, vpc_id: str, vpc_name: str, lock: bool) -> None:
        sg = ec2.describe_security_groups(
            Filters=[{"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "group-name", "Values": ["default"]}]
        )["SecurityGroups"][0]
        if lock:
            if sg["IpPermissions"]:
                ec2.revoke_security_group_ingress(GroupId=sg["GroupId"], IpPermissions=sg["IpPermissions"])
            if sg["IpPermissionsEgress"]:
                ec2.revoke_security_group_egress(
                    GroupId=sg["GroupId"], IpPermissions=sg["IpPermissionsEgress"]
                )
        sg_id = sg["GroupId"]
        self.add(
            f"default-sg@{vpc_name}",
            "aws.ec2.security_group",
            region,
            self.ec2_arn(region, "security-group", sg_id),
            sg_id,
        )

    def _instance(
        self, ec2: Any, region: str, i: InstanceSpec, vpcs: dict[str, str], sg_ids: dict[str, str], enc: bool
    ) -> None:
        meta = {"required": {"HttpTokens": "required", "HttpEndpoint": "enabled"}}.get(
            i.imds,
            {"HttpTokens": "optional", "HttpEndpoint": "disabled" if i.imds == "disabled" else "enabled"},
        )
        kwargs: dict[str, Any] = {
            "ImageId": _AMI,
            "MinCount": 1,
            "MaxCount": 1,
            "InstanceType": "t3.medium",
            "MetadataOptions": meta,
            # The root volume follows the region's EBS encryption by default, as on AWS (moto ignores it).
            "BlockDeviceMappings": [{"DeviceName": "/dev/xvda", "Ebs": {"VolumeSize": 16, "Encrypted": enc}}],
            "TagSpecifications": [{"ResourceType": "instance", "Tags": _tags(i.owner, i.env, i.name)}],
        }
        if i.subnet:
            kwargs["SubnetId"] = self.subnet_ids[i.subnet]
        if i.security_groups:
            kwargs["SecurityGroupIds"] = [sg_ids[s] for s in i.security_groups]
        inst = ec2.run_instances(**kwargs)["Instances"][0]
        iid = inst["InstanceId"]
        self.add(i.name, "aws.ec2.instance", region, self.ec2_arn(region, "instance", iid), iid)
        with self._lock:
            self.instance_ids[i.name] = iid
        # A terminated instance's root volume is deleted with it (DeleteOnTermination), so it is not recorded.
        for bdm in [] if i.terminated else inst.get("BlockDeviceMappings", []):
            vol_id = bdm["Ebs"]["VolumeId"]
            ec2.create_tags(Resources=[vol_id], Tags=_tags(i.owner, i.env, i.name + "-root"))
            self.add(
                i.name + "-root", "aws.ec2.volume", region, self.ec2_arn(region, "volume", vol_id), vol_id
            )
        if i.terminated:
            ec2.terminate_instances(InstanceIds=[iid])

    # -- CloudTrail

    def seed_cloudtrail(self) -> None:
        for t in self.estate.trails:
            region = self.region(t.role)
            ct = self.client("cloudtrail", region)
            kwargs: dict[str, Any] = {
                "Name": t.name,
                "S3BucketName": t.bucket,
                "S3KeyPrefix": t.name,
                "IsMultiRegionTrail": t.multi_region,
                "EnableLogFileValidation": t.validation,
                "IncludeGlobalServiceEvents": t.multi_region,
                "TagsList": _tags(t.owner, t.env, t.name)[1:],
            }
            if t.kms_alias:
                kwargs["KmsKeyId"] = self.key_arns[t.kms_alias]
            if t.multi_region:
                # The organization trail feeds the security-event metric filters (seed_services).
                kwargs.update(ServiceSeeder(self).trail_log_delivery(region))
            arn = ct.create_trail(**kwargs)["TrailARN"]
            ct.put_event_selectors(
                TrailName=t.name,
                EventSelectors=[
                    {
                        "ReadWriteType": "All" if t.multi_region else "WriteOnly",
                        "IncludeManagementEvents": True,
                        "DataResources": [],
                    }
                ],
            )
            if t.logging:
                ct.start_logging(Name=t.name)
            self.add(t.name, "aws.cloudtrail.trail", region, arn, t.name)

    # -- Lambda

    def seed_lambda(self) -> None:
        if not self.estate.functions:
            return
        iam = self.client("iam")
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "lambda.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
        role_arn = iam.create_role(
            RoleName=self.estate.lambda_role,
            AssumeRolePolicyDocument=json.dumps(trust),
            Description="Lambda execution",
        )["Role"]["Arn"]
        iam.attach_role_policy(
            RoleName=self.estate.lambda_role,
            PolicyArn="arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
        )
        self.add(self.estate.lambda_role, "aws.iam.role", "global", role_arn, self.estate.lambda_role)
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            zf.writestr("app.py", "def handler(event, context):\n    return {'ok': True}\n")
        code = buf.getvalue()
        for f in self.estate.functions:
            region = self.region(f.role)
            arn = self.client("lambda", region).create_function(
                FunctionName=f.name,
                Runtime=f.runtime,
                Role=role_arn,
                Handler="app.handler",
                Code={"ZipFile": code},
                Environment={"Variables": dict(f.variables)},
                Tags={t["Key"]: t["Value"] for t in _tags(f.owner, f.env, f.name)[1:]},
            )["FunctionArn"]
            self.add(f.name, "aws.lambda.function", region, arn, f.name)
            ServiceSeeder(self).function_exposure(f, region)
