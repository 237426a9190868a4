"""The demo's second account: an AWS Organization with one member, scanned through a read-only audit role.

:func:`seed_organization` runs after :func:`~ismap_scan.demo.aws.seed.seed` on the in-process moto server
and adds:

- in the management account (the seeded estate's, 111122223333): an organization; the operator user
  ``ismap-scan-operator`` whose access key the demo scans with (read policy of ``docs/aws-iam-policy.json``
  plus ``sts:AssumeRole``); and ``ismap-scan-restricted``, a role with the same policy **minus**
  ``kms:GetKeyRotationStatus``, for ``ismap-scan doctor --demo --role-arn <it>`` to find;
- a member account (moto's ``organizations:CreateAccount`` picks its 12-digit ID) with the audit role
  ``ismap-scan-audit`` (read policy, trust limited to the management principals and an external ID) and a
  small estate chosen so account-level checks come out the other way round from the management account:
  a strong password policy and full account Block Public Access (PASS there, FAIL in management), no
  CloudTrail trail and EBS encryption by default off (FAIL there, PASS in management's primary region).

How the member is reached (moto 5.2): moto picks the account of a request from ``MOTO_ACCOUNT_ID`` when it is
set, else from the access key (``moto.iam.models.get_account_id_from``). The seeder sets ``MOTO_ACCOUNT_ID``;
this module removes it for the member's requests and leaves the scan to route by key: the operator's key
belongs to the management account, and ``sts:AssumeRole`` returns keys moto files under the member.
:class:`OrgSeed` names the environment the scan must run with (:meth:`OrgSeed.scan_env`).

IAM enforcement for the doctor: moto checks signatures and identity policies of every request once
``POST /moto-api/reset-auth`` sets its "requests before auth" count to 0 (:func:`enforce_iam`; moto's own
``set_initial_no_auth_action_count``). moto names some actions after the API operation where IAM uses
another name (``s3:GetBucketEncryption`` for IAM's ``s3:GetEncryptionConfiguration``), so the demo policies
add those moto names (:func:`moto_action_aliases`); the restricted role lacks both names of the removed
permission. moto matches trust-policy principals as exact strings, so the audit role's trust lists the
assumed-role session ARN of the restricted role next to its role ARN.

Against an out-of-process moto started with ``MOTO_ACCOUNT_ID`` the member's requests would land in the
management account; :func:`seed_organization` detects that (the assumed identity is not the member) and
raises ``RuntimeError`` instead of writing the member's estate into the wrong account.
"""

from __future__ import annotations

import functools
import json
import os
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Final

from ...providers.aws import types as T
from .server import s3control_host_prefix_hook

AUDIT_ROLE: Final = "ismap-scan-audit"
RESTRICTED_ROLE: Final = "ismap-scan-restricted"
OPERATOR_USER: Final = "ismap-scan-operator"
#: Not a secret: the demo's trust-policy condition value (the audit role's ExternalId).
EXTERNAL_ID: Final = "ismap-scan-demo-external-id"
#: The permission the restricted role lacks, which the doctor must name.
WITHHELD_PERMISSION: Final = "kms:GetKeyRotationStatus"
MEMBER_NAME: Final = "jp-saas-member-dev"
SESSION_NAME: Final = "ismap-scan"

PASS: Final = "PASS"
FAIL: Final = "FAIL"
ERROR: Final = "ERROR"

#: Ground truth for the member account: ``{check_id: {logical name: verdict}}``, logical names as in
#: :attr:`OrgSeed.resources`. Account-level verdicts are the opposite of management's where an API exists
#: to set them (root MFA and root keys cannot be set in moto: same as management, see ``expected.py``).
EXPECTED_MEMBER: Final[dict[str, dict[str, str]]] = {
    "aws.iam.password_policy_strong": {"member-account": PASS},
    "aws.iam.password_policy_reuse_prevented": {"member-account": PASS},
    "aws.s3.account_public_access_blocked": {"member-account": PASS},
    "aws.cloudtrail.multi_region_trail_logging": {"member-account": FAIL},
    "aws.iam.root_mfa_enabled": {"member-account": FAIL},
    "aws.iam.root_access_keys_absent": {"member-account": PASS},
    "aws.iam.root_not_recently_used": {"member-account": ERROR},
    "aws.ec2.ebs_encryption_by_default_enabled": {"member-region-primary": FAIL},
    "aws.ec2.security_group_no_public_admin_ports": {"member-sg-open-ssh": FAIL},
    "aws.s3.bucket_versioning_enabled": {"member-bucket": PASS},
}

#: Management-account verdicts of the same account-level checks (from ``expected.py``), for the
#: "both PASS and FAIL across accounts" demonstration.
EXPECTED_MANAGEMENT_ACCOUNT: Final[dict[str, str]] = {
    "aws.iam.password_policy_strong": FAIL,
    "aws.s3.account_public_access_blocked": FAIL,
    "aws.cloudtrail.multi_region_trail_logging": PASS,
}


@dataclass
class OrgSeed:
    """What :func:`seed_organization` made. ``resources``: logical name -> (type, region, record id)."""

    endpoint_url: str
    management_account: str
    member_account: str
    operator_key: tuple[str, str]
    restricted_role_arn: str
    audit_role_arn: str
    regions: tuple[str, ...]
    resources: dict[str, tuple[str, str, str]] = field(default_factory=dict)

    def scan_env(self) -> dict[str, str]:
        """Environment for scanning both accounts: the operator's key (no session token), and no
        ``MOTO_ACCOUNT_ID`` (remove it), so moto routes each request by its access key."""
        return {"AWS_ACCESS_KEY_ID": self.operator_key[0], "AWS_SECRET_ACCESS_KEY": self.operator_key[1]}

    def organization_settings(self) -> dict[str, Any]:
        """The ``aws.organization`` block that scans management and member."""
        return {
            "enabled": True,
            "role_name": AUDIT_ROLE,
            "external_id": EXTERNAL_ID,
            "max_parallel_accounts": 2,
        }


def moto_action_aliases(actions: list[str]) -> list[str]:
    """The names moto checks for ``actions``: ``<signing name>:<Operation>`` of every declared call whose
    IAM action differs (moto authorises ``monitoring:DescribeAlarms`` where IAM says
    ``cloudwatch:DescribeAlarms``), plus ``s3:ListBucket`` for the S3 reads moto files under it."""
    wanted = set(actions)
    out: set[str] = set()
    for call in T.all_calls():
        if call.permission not in wanted:
            continue
        out.add(f"{_signing_name(call.service)}:{call.operation}")
        if call.permission in _MOTO_S3_DEFAULT:
            out.add("s3:ListBucket")
    return sorted(out - wanted)


@functools.cache
def _signing_name(service: str) -> str:
    """The SigV4 signing name of a boto3 service (``monitoring`` for ``cloudwatch``), from botocore's model."""
    import botocore.session

    model = botocore.session.get_session().get_service_model(service)
    return str(model.signing_name or model.endpoint_prefix)


#: moto 5.2 authorises S3 bucket sub-resources it has no name for (``?encryption``, ``?publicAccessBlock``)
#: as the bucket's default action, ``s3:ListBucket`` (``moto/s3/responses.py`` ``ACTION_MAP``).
_MOTO_S3_DEFAULT = frozenset({"s3:GetEncryptionConfiguration", "s3:GetBucketPublicAccessBlock"})


def read_policy(without: tuple[str, ...] = (), assume: bool = False) -> dict[str, Any]:
    """The generated read policy (``types.iam_policy_document``) plus moto's aliases, minus ``without``."""
    doc = T.iam_policy_document(assume_role_name=AUDIT_ROLE if assume else None)
    actions = [a for a in doc["Statement"][0]["Action"] if a not in without]
    withheld_aliases = set(moto_action_aliases(list(without))) - {"s3:ListBucket"}
    aliases = [a for a in moto_action_aliases(actions) if a not in withheld_aliases]
    doc["Statement"][0]["Action"] = sorted({*actions, *aliases})
    return doc


def enforce_iam(endpoint_url: str, enabled: bool = True) -> None:
    """Turn moto's IAM enforcement on (every later request is checked) or off (``POST /moto-api/reset-auth``).

    Process-wide for that moto server. Raises ``urllib.error.URLError`` when the server does not answer.
    """
    body = b"0" if enabled else b"inf"
    req = urllib.request.Request(
        endpoint_url + "/moto-api/reset-auth",
        data=body,
        method="POST",
        headers={"Content-Type": "text/plain"},
    )
    with urllib.request.urlopen(req, timeout=30) as resp:  # loopback only: the demo's moto
        resp.read()


@contextmanager
def _without_account_env() -> Iterator[None]:
    saved = os.environ.pop("MOTO_ACCOUNT_ID", None)
    try:
        yield
    finally:
        if saved is not None:
            os.environ["MOTO_ACCOUNT_ID"] = saved


def seed_organization(endpoint_url: str, regions: tuple[str, ...]) -> OrgSeed:
    """Create the organization, the principals and the member estate (see the module doc).

    ``regions``: the demo regions, primary first. Requires ``MOTO_ACCOUNT_ID`` to name the management
    account (as :func:`~ismap_scan.demo.aws.server.start_moto` sets it). Raises ``RuntimeError`` when the
    member cannot be reached as its own account, and botocore ``ClientError`` when moto refuses a call.
    """
    import boto3
    from botocore.config import Config

    config = Config(retries={"max_attempts": 1, "mode": "standard"})
    fake = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing")

    def client(session: Any, service: str, region: str = regions[0]) -> Any:
        return session.client(service, region_name=region, endpoint_url=endpoint_url, config=config)

    management = client(fake, "sts").get_caller_identity()["Account"]
    org = client(fake, "organizations")
    org.create_organization(FeatureSet="ALL")
    status = org.create_account(AccountName=MEMBER_NAME, Email="member-dev@example.com", RoleName=AUDIT_ROLE)
    member = status["CreateAccountStatus"]["AccountId"]

    iam = client(fake, "iam")
    iam.create_user(UserName=OPERATOR_USER, Tags=[{"Key": "Owner", "Value": "security"}])
    key = iam.create_access_key(UserName=OPERATOR_USER)["AccessKey"]
    operator_arn = f"arn:aws:iam::{management}:user/{OPERATOR_USER}"
    operator_policy = read_policy(assume=True)
    operator_policy["Statement"].append(
        {"Sid": "AssumeRestricted", "Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}
    )
    iam.put_user_policy(
        UserName=OPERATOR_USER, PolicyName="ismap-scan-read", PolicyDocument=json.dumps(operator_policy)
    )
    trust_operator = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": operator_arn}, "Action": "sts:AssumeRole"}],
    }
    restricted_arn = iam.create_role(
        RoleName=RESTRICTED_ROLE, AssumeRolePolicyDocument=json.dumps(trust_operator)
    )["Role"]["Arn"]
    iam.put_role_policy(
        RoleName=RESTRICTED_ROLE,
        PolicyName="ismap-scan-read-without-kms-rotation",
        PolicyDocument=json.dumps(read_policy(without=(WITHHELD_PERMISSION,), assume=True)),
    )

    audit_arn = f"arn:aws:iam::{member}:role/{AUDIT_ROLE}"
    result = OrgSeed(
        endpoint_url,
        management,
        member,
        (key["AccessKeyId"], key["SecretAccessKey"]),
        restricted_arn,
        audit_arn,
        regions,
    )
    with _without_account_env():
        operator = boto3.session.Session(
            aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"]
        )
        creds = client(operator, "sts").assume_role(
            RoleArn=audit_arn, RoleSessionName="ismap-scan-seed", ExternalId=EXTERNAL_ID
        )["Credentials"]
        session = boto3.session.Session(
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
        )
        s3control_host_prefix_hook(session)
        seen = client(session, "sts").get_caller_identity()["Account"]
        if seen != member:
            raise RuntimeError(
                f"the member's requests land in account {seen}, not {member}: moto must run in this process "
                "(or without MOTO_ACCOUNT_ID) for the organization demo"
            )
        _seed_member(result, session, client, management, restricted_arn, operator_arn)
    return result


def _seed_member(
    result: OrgSeed, session: Any, client: Any, management: str, restricted_arn: str, operator_arn: str
) -> None:
    member, primary = result.member_account, result.regions[0]
    iam = client(session, "iam")
    trusted = [
        f"arn:aws:iam::{management}:root",
        operator_arn,
        restricted_arn,
        # moto compares principals as strings: the session ARN a role's credentials carry.
        f"arn:aws:sts::{management}:assumed-role/{RESTRICTED_ROLE}/{SESSION_NAME}",
    ]
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": trusted},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"sts:ExternalId": EXTERNAL_ID}},
            }
        ],
    }
    iam.update_assume_role_policy(RoleName=AUDIT_ROLE, PolicyDocument=json.dumps(trust))
    iam.put_role_policy(
        RoleName=AUDIT_ROLE, PolicyName="ismap-scan-read", PolicyDocument=json.dumps(read_policy())
    )
    # Account settings opposite to management's: a strong password policy, all of Block Public Access.
    iam.update_account_password_policy(
        MinimumPasswordLength=16,
        RequireSymbols=True,
        RequireNumbers=True,
        RequireUppercaseCharacters=True,
        RequireLowercaseCharacters=True,
        AllowUsersToChangePassword=True,
        MaxPasswordAge=90,
        PasswordReusePrevention=24,
    )
    iam.create_account_alias(AccountAlias=MEMBER_NAME)
    blocked = {
        k: True for k in ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
    }
    client(session, "s3control").put_public_access_block(
        AccountId=member, PublicAccessBlockConfiguration=blocked
    )
    s3 = client(session, "s3", primary)
    bucket = f"{MEMBER_NAME}-artifacts-{member}"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": primary})
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    result.resources["member-bucket"] = ("aws.s3.bucket", primary, f"arn:aws:s3:::{bucket}")
    ec2 = client(session, "ec2", primary)
    vpc = ec2.create_vpc(CidrBlock="10.60.0.0/16")["Vpc"]["VpcId"]
    sg = ec2.create_security_group(GroupName="member-dev-bastion-sg", Description="dev bastion", VpcId=vpc)[
        "GroupId"
    ]
    ec2.authorize_security_group_ingress(
        GroupId=sg,
        IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
        ],
    )
    # moto builds an account's EC2 region on first use, with a default VPC, subnets and security group whose
    # IDs come from its seeded generator (server.py): build the member's other regions here, in order, and
    # not in the scan's concurrent reads, so those IDs are the same every run.
    for region in result.regions:
        if region != primary:
            client(session, "ec2", region).describe_vpcs()
    result.resources["member-account"] = ("aws.account", "global", f"arn:aws:iam::{member}:root")
    result.resources["member-region-primary"] = ("aws.region", primary, f"arn:aws::{primary}:{member}:region")
    result.resources["member-sg-open-ssh"] = (
        "aws.ec2.security_group",
        primary,
        f"arn:aws:ec2:{primary}:{member}:security-group/{sg}",
    )
