"""The demo AWS estate as data: a fictional Japanese SaaS company ("jp-saas") with good and bad settings.

Nothing here talks to AWS; :mod:`ismap_scan.demo.aws.seed` turns an :class:`Estate` into API calls, and
:mod:`ismap_scan.demo.aws.expected` states the verdict every check must give for the named resources.

Regions are referred to by *role* (``primary`` = Tokyo, ``secondary`` = Osaka DR, ``tertiary`` = us-east-1
for global services), so the same estate can be seeded into other regions; :func:`region_for_role` maps a
role onto the region list given to ``seed()``.

Scale: :func:`build_estate` adds ``scale`` copies of a "fleet" (tenant buckets, service security groups, data
volumes, developer users, app instances). Every fleet item is a renamed copy of a named core item (its
``template``), so its ground truth is the template's.

The names, people and tags are invented. No real account ID, key or secret appears; the "secret-looking"
Lambda variables (``DB_PASSWORD``, ``API_TOKEN``) hold obviously fake values, there to show redaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

#: Region roles, in the order ``seed(regions=...)`` fills them.
ROLES: tuple[str, ...] = ("primary", "secondary", "tertiary")

#: AWS-managed policy ARN that grants ``*`` on ``*`` (the no-admin check must count it).
ADMIN_POLICY_ARN = "arn:aws:iam::aws:policy/AdministratorAccess"
#: AWS-managed read-only policy, attached to the read-only group (moto knows AWS-managed policies).
READONLY_POLICY_ARN = "arn:aws:iam::aws:policy/ReadOnlyAccess"


def region_for_role(role: str, regions: tuple[str, ...]) -> str:
    """The region a role maps to: ``regions[i]`` for the i-th role, wrapping when fewer regions are given.

    Raises ``ValueError`` for an unknown role or an empty region list.
    """
    if not regions:
        raise ValueError("at least one region is needed")
    return regions[ROLES.index(role) % len(regions)]


# ---------------------------------------------------------------------------------------------- IAM


@dataclass(frozen=True)
class AccessKeySpec:
    """One access key. ``age_days`` backdates its CreateDate; ``used`` makes one real request with it."""

    age_days: int = 0
    active: bool = True
    used: bool = False


@dataclass(frozen=True)
class UserSpec:
    """An IAM user. ``password_age_days`` backdates the user (and so its login profile's CreateDate);
    ``password_last_used_days`` sets the credential report's ``password_last_used`` (None: never used)."""

    name: str
    owner: str
    console: bool = False
    mfa: bool = False
    groups: tuple[str, ...] = ()
    managed_policies: tuple[str, ...] = ()  # AWS ARNs, or names of customer policies in Estate.policies
    inline_policy: dict[str, Any] | None = None
    keys: tuple[AccessKeySpec, ...] = ()
    password_age_days: int = 0
    password_last_used_days: int | None = None
    template: str | None = None


@dataclass(frozen=True)
class GroupSpec:
    name: str
    managed_policies: tuple[str, ...] = ()
    inline_policy: dict[str, Any] | None = None


@dataclass(frozen=True)
class PolicySpec:
    """A customer-managed policy."""

    name: str
    document: dict[str, Any]
    description: str = ""


@dataclass(frozen=True)
class PasswordPolicySpec:
    """``iam:UpdateAccountPasswordPolicy`` arguments."""

    minimum_length: int
    require_symbols: bool
    require_numbers: bool
    require_upper: bool
    require_lower: bool
    reuse_prevention: int
    max_age_days: int


# ----------------------------------------------------------------------------------------------- S3

#: S3 public access block shapes: all four flags, the two ACL flags only, or none.
PAB_FULL = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}
#: The account-level block: only BlockPublicAcls, switched on after the legacy public buckets existed. It
#: stops new public ACLs but does not ignore existing ones, so public ACL grants still count.
ACCOUNT_PAB = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": False,
    "BlockPublicPolicy": False,
    "RestrictPublicBuckets": False,
}
PAB_ACLS_ONLY = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": False,
    "RestrictPublicBuckets": False,
}


@dataclass(frozen=True)
class BucketSpec:
    """An S3 bucket.

    ``policy`` names statements the seeder builds for this bucket: ``"deny-insecure"`` (Deny when
    ``aws:SecureTransport`` is ``"false"``), ``"public-read"`` (Allow ``*`` ``s3:GetObject``),
    ``"cloudtrail"`` (CloudTrail delivery), ``"log-delivery"`` (S3 server access logs delivery).
    ``acl`` is a canned ACL. ``log_to`` is the name of the target bucket (same region).
    """

    name: str
    role: str
    owner: str
    env: str
    pab: dict[str, bool] | None = None
    encryption: str | None = None  # None | "AES256" | "aws:kms"
    kms_alias: str | None = None
    versioning: str | None = None  # None | "Enabled" | "Suspended"
    log_to: str | None = None
    policy: tuple[str, ...] = ()
    acl: str | None = None
    template: str | None = None
    classification: str | None = None  # DataClassification tag value


# ---------------------------------------------------------------------------------------------- EC2


@dataclass(frozen=True)
class Rule:
    """An ingress rule: protocol (``"tcp"``, ``"-1"``), port range, and one source (v4/v6 CIDR or SG name)."""

    proto: str
    from_port: int = -1
    to_port: int = -1
    cidr: str | None = None
    cidr6: str | None = None
    source_sg: str | None = None


@dataclass(frozen=True)
class SubnetSpec:
    name: str
    cidr: str
    public: bool  # MapPublicIpOnLaunch


@dataclass(frozen=True)
class VpcSpec:
    """A custom VPC; ``lock_default_sg`` removes every rule from its default security group."""

    name: str
    role: str
    cidr: str
    owner: str
    env: str
    subnets: tuple[SubnetSpec, ...]
    flow_logs: bool = False
    lock_default_sg: bool = False


@dataclass(frozen=True)
class SecurityGroupSpec:
    name: str
    vpc: str
    description: str
    owner: str
    env: str
    ingress: tuple[Rule, ...] = ()
    template: str | None = None


@dataclass(frozen=True)
class VolumeSpec:
    name: str
    role: str
    owner: str
    env: str
    size_gib: int
    encrypted: bool
    kms_alias: str | None = None
    template: str | None = None


@dataclass(frozen=True)
class InstanceSpec:
    """An EC2 instance. ``vpc``/``subnet`` name a custom VPC's subnet, or ``vpc="default"`` for the default
    VPC of its region. ``imds``: ``"required"`` (IMDSv2), ``"optional"`` (IMDSv1 allowed), ``"disabled"``.
    The root volume is encrypted when the region has EBS encryption by default on (as AWS does it)."""

    name: str
    role: str
    owner: str
    env: str
    vpc: str
    subnet: str | None
    imds: str
    public_ip: bool
    security_groups: tuple[str, ...] = ()
    terminated: bool = False
    template: str | None = None


# ------------------------------------------------------------------------------ CloudTrail, KMS, Lambda


@dataclass(frozen=True)
class TrailSpec:
    name: str
    role: str
    bucket: str
    multi_region: bool
    logging: bool
    validation: bool
    kms_alias: str | None
    owner: str
    env: str


@dataclass(frozen=True)
class KmsKeySpec:
    """A customer-managed KMS key. ``policy``: ``"default"`` (account root only), ``"public"`` (an Allow
    to ``*`` with no Condition), ``"public-conditional"`` (``*`` limited by ``kms:CallerAccount``)."""

    alias: str
    role: str
    owner: str
    env: str
    key_spec: str = "SYMMETRIC_DEFAULT"
    key_usage: str = "ENCRYPT_DECRYPT"
    rotation: bool = False
    policy: str = "default"
    enabled: bool = True


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    role: str
    owner: str
    env: str
    runtime: str
    variables: dict[str, str]
    url_auth: str | None = None  # None (no function URL) | "AWS_IAM" | "NONE"
    public_policy: bool = False  # a resource policy statement allowing Principal "*" without a condition


# ------------------------------------------------------------- Region services, data stores, edge, DNS


@dataclass(frozen=True)
class RegionServicesSpec:
    """Account-and-region services of one region role.

    ``config``: ``"all"`` (recorder of all supported types, recording, delivery channel), ``"stopped"``
    (recorder of some types only, not started, no channel) or ``"none"``. ``guardduty``: ``"admin"``
    (enabled detector reporting to a delegated administrator), ``"enabled"``, ``"disabled"`` or ``"none"``.
    ``findings_rule``: an EventBridge rule sending GuardDuty findings to the security topic.
    """

    role: str
    config: str
    guardduty: str
    findings_rule: bool
    securityhub: bool
    inspector_ec2: bool


@dataclass(frozen=True)
class DbInstanceSpec:
    """An RDS DB instance; ``cluster`` makes it an Aurora member (engine and storage from the cluster)."""

    name: str
    role: str
    engine: str
    encrypted: bool = True
    public: bool = False
    backup_days: int = 7
    deletion_protection: bool = True
    multi_az: bool = True
    auto_minor: bool = True
    owner: str | None = "platform"  # None: no Owner tag
    cluster: str | None = None


@dataclass(frozen=True)
class DbClusterSpec:
    name: str
    role: str
    encrypted: bool
    deletion_protection: bool
    backup_days: int


@dataclass(frozen=True)
class TableSpec:
    """A DynamoDB table: ``pitr`` point-in-time recovery, ``kms`` SSE with the AWS managed KMS key."""

    name: str
    role: str
    pitr: bool
    kms: bool


@dataclass(frozen=True)
class FileSystemSpec:
    name: str
    role: str
    encrypted: bool
    backup: bool


@dataclass(frozen=True)
class SnapshotSpec:
    """An EBS snapshot of a named volume of the estate (its encryption follows the volume's)."""

    name: str
    volume: str
    public: bool


@dataclass(frozen=True)
class ImageSpec:
    """An AMI made from a named instance of the estate."""

    name: str
    instance: str
    public: bool


@dataclass(frozen=True)
class BackupVaultSpec:
    name: str
    role: str
    locked: bool


@dataclass(frozen=True)
class BackupPlanSpec:
    name: str
    role: str
    vault: str
    delete_after_days: int


@dataclass(frozen=True)
class SecretSpec:
    """A Secrets Manager secret (its value is a fixed fake string; nothing reads it back)."""

    name: str
    role: str
    rotation_days: int | None


@dataclass(frozen=True)
class LogGroupSpec:
    name: str
    role: str
    retention_days: int | None
    kms_alias: str | None


@dataclass(frozen=True)
class TopicSpec:
    """An SNS topic; ``public`` adds a statement letting anyone publish."""

    name: str
    role: str
    kms: bool
    public: bool


@dataclass(frozen=True)
class LoadBalancerSpec:
    """An ELBv2 load balancer in the default VPC of its region.

    ``listeners``: ``"https+redirect"`` (HTTPS with a TLS 1.3 policy, HTTP redirected), ``"http+old-https"``
    (HTTP forwarded, HTTPS with ELBSecurityPolicy-2016-08) or ``"tcp"`` (a TCP listener, network type).
    """

    name: str
    role: str
    type: str
    scheme: str
    zones: int
    listeners: str
    waf: bool


@dataclass(frozen=True)
class DistributionSpec:
    """A CloudFront distribution. The logical name is kept in its Comment (distributions have no name)."""

    name: str
    viewer_policy: str
    min_tls: str
    waf: bool


@dataclass(frozen=True)
class RestApiSpec:
    """An API Gateway REST API with one stage, ``prod``."""

    name: str
    role: str
    access_logs: bool
    waf: bool


@dataclass(frozen=True)
class ZoneSpec:
    """A public hosted zone (reserved ``.example`` names). ``mx``: the apex has an MX record."""

    name: str
    mx: bool
    spf: bool
    dmarc_policy: str | None


@dataclass
class Services:
    """The estate beyond IAM, S3, EC2, CloudTrail, KMS and Lambda (issue 3's "more services")."""

    regions: list[RegionServicesSpec]
    db_instances: list[DbInstanceSpec]
    db_clusters: list[DbClusterSpec]
    tables: list[TableSpec]
    file_systems: list[FileSystemSpec]
    snapshots: list[SnapshotSpec]
    images: list[ImageSpec]
    vaults: list[BackupVaultSpec]
    plans: list[BackupPlanSpec]
    secrets: list[SecretSpec]
    log_groups: list[LogGroupSpec]
    topics: list[TopicSpec]
    load_balancers: list[LoadBalancerSpec]
    distributions: list[DistributionSpec]
    apis: list[RestApiSpec]
    zones: list[ZoneSpec]
    #: The log group the multi-region trail delivers to, and the topic its security alarms notify.
    trail_log_group: str = "jp-saas-cloudtrail"
    alerts_topic: str = "jp-saas-security-alerts"
    #: The (fictional) delegated GuardDuty administrator account the primary region reports to.
    guardduty_admin: str = "444455556666"

    def names(self) -> set[str]:
        """Logical names of every named resource here (keys of the ground truth)."""
        groups: list[list[Any]] = [
            self.db_instances, self.db_clusters, self.tables, self.file_systems, self.snapshots, self.images,
            self.vaults, self.plans, self.secrets, self.log_groups, self.topics, self.load_balancers,
            self.distributions, self.apis, self.zones,
        ]  # fmt: skip
        names = {item.name for group in groups for item in group}
        # One record per region for the region-wide services (see SINGLETONS).
        return names | {f"{svc}@{r.role}" for r in self.regions for svc in SINGLETONS}


#: Region-wide service records, one per region: logical name prefix -> (snapshot type, id template).
SINGLETONS: dict[str, tuple[str, str]] = {
    "config": ("aws.config.recorder", "arn:aws:config:{region}:{account}:configuration-recorders"),
    "guardduty": ("aws.guardduty.detector", "arn:aws:guardduty:{region}:{account}:detectors"),
    "securityhub": ("aws.securityhub.hub", "arn:aws:securityhub:{region}:{account}:hub/default"),
    "inspector2": ("aws.inspector2.status", "arn:aws:inspector2:{region}:{account}:account-status"),
}


#: Security events the demo's metric filters watch, with CIS-style filter patterns (see pychecks monitoring).
SECURITY_EVENT_PATTERNS: dict[str, str] = {
    "unauthorized-api-calls": '{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }',
    "console-signin-without-mfa": '{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") }',
    "root-account-usage": '{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS }',
    "iam-policy-changes": "{ ($.eventName = PutUserPolicy) || ($.eventName = AttachUserPolicy) "
    "|| ($.eventName = DeleteUserPolicy) || ($.eventName = DetachUserPolicy) }",
    "cloudtrail-changes": "{ ($.eventName = StopLogging) || ($.eventName = DeleteTrail) || ($.eventName = UpdateTrail) }",
    "security-group-changes": "{ ($.eventName = AuthorizeSecurityGroupIngress) "
    "|| ($.eventName = RevokeSecurityGroupIngress) }",
}


def _services() -> Services:
    """Good and bad examples of every service the issue-3 checks read (ground truth in :mod:`expected`)."""
    return Services(
        regions=[
            RegionServicesSpec(
                "primary", "all", "admin", findings_rule=True, securityhub=True, inspector_ec2=True
            ),
            RegionServicesSpec(
                "secondary", "stopped", "disabled", False, securityhub=False, inspector_ec2=False
            ),
            RegionServicesSpec("tertiary", "none", "enabled", False, securityhub=False, inspector_ec2=False),
        ],
        db_instances=[
            DbInstanceSpec("jp-saas-prod-db", "primary", "postgres", backup_days=14),
            DbInstanceSpec(
                "jp-saas-legacy-mysql",
                "secondary",
                "mysql",
                encrypted=False,
                public=True,
                backup_days=0,
                deletion_protection=False,
                multi_az=False,
                auto_minor=False,
                owner=None,
            ),
            DbInstanceSpec(
                "jp-saas-dev-db", "tertiary", "postgres", multi_az=False, deletion_protection=False
            ),
            DbInstanceSpec("jp-saas-aurora-1", "primary", "aurora-postgresql", cluster="jp-saas-aurora"),
        ],
        db_clusters=[
            DbClusterSpec(
                "jp-saas-aurora", "primary", encrypted=True, deletion_protection=True, backup_days=14
            ),
            DbClusterSpec(
                "jp-saas-analytics", "secondary", encrypted=False, deletion_protection=False, backup_days=1
            ),
        ],
        tables=[
            TableSpec("jp-saas-sessions", "primary", pitr=True, kms=True),
            TableSpec("jp-saas-events-archive", "tertiary", pitr=False, kms=False),
        ],
        file_systems=[
            FileSystemSpec("jp-saas-shared-files", "primary", encrypted=True, backup=True),
            FileSystemSpec("jp-saas-scratch-fs", "secondary", encrypted=False, backup=False),
        ],
        snapshots=[
            SnapshotSpec("jp-saas-db-data-snap", "jp-saas-prod-db-data", public=False),
            SnapshotSpec("jp-saas-scratch-snap-shared", "jp-saas-stg-scratch", public=True),
        ],
        images=[
            ImageSpec("jp-saas-api-golden-ami", "jp-saas-prod-api-1", public=False),
            ImageSpec("jp-saas-report-public-ami", "jp-saas-legacy-report", public=True),
        ],
        vaults=[
            BackupVaultSpec("jp-saas-vault-locked", "primary", locked=True),
            BackupVaultSpec("jp-saas-vault-osaka", "secondary", locked=False),
        ],
        plans=[
            BackupPlanSpec("jp-saas-daily-35d", "primary", "jp-saas-vault-locked", 35),
            BackupPlanSpec("jp-saas-weekly-7d", "secondary", "jp-saas-vault-osaka", 7),
        ],
        secrets=[
            SecretSpec("jp-saas/prod/db-app", "primary", rotation_days=30),
            SecretSpec("jp-saas/partner/api-key", "tertiary", rotation_days=None),
        ],
        log_groups=[
            LogGroupSpec("jp-saas-cloudtrail", "primary", 400, "alias/jp-saas-prod-data"),
            LogGroupSpec("/aws/lambda/jp-saas-invoice-renderer", "primary", 14, None),
        ],
        topics=[
            TopicSpec("jp-saas-security-alerts", "primary", kms=True, public=False),
            TopicSpec("jp-saas-public-webhooks", "tertiary", kms=False, public=True),
        ],
        load_balancers=[
            LoadBalancerSpec(
                "jp-saas-prod-alb", "primary", "application", "internet-facing", 2, "https+redirect", True
            ),
            LoadBalancerSpec(
                "jp-saas-legacy-alb",
                "secondary",
                "application",
                "internet-facing",
                2,
                "http+old-https",
                False,
            ),
            LoadBalancerSpec("jp-saas-stg-db-nlb", "secondary", "network", "internal", 1, "tcp", False),
        ],
        distributions=[
            DistributionSpec("jp-saas-cdn", "redirect-to-https", "TLSv1.2_2021", waf=True),
            DistributionSpec("jp-saas-legacy-cdn", "allow-all", "TLSv1", waf=False),
        ],
        apis=[
            RestApiSpec("jp-saas-public-api", "primary", access_logs=True, waf=True),
            RestApiSpec("jp-saas-partner-api", "tertiary", access_logs=False, waf=False),
        ],
        zones=[
            ZoneSpec("jp-saas.example", mx=True, spf=True, dmarc_policy="reject"),
            ZoneSpec("jp-saas-legacy.example", mx=True, spf=False, dmarc_policy="none"),
            ZoneSpec("jp-saas-static.example", mx=False, spf=False, dmarc_policy=None),
        ],
    )


# ------------------------------------------------------------------------------------------- estate


@dataclass
class Estate:
    """Everything the seeder creates. ``ebs_default_encryption`` maps region role → on/off."""

    password_policy: PasswordPolicySpec
    account_pab: dict[str, bool] | None
    policies: list[PolicySpec]
    groups: list[GroupSpec]
    users: list[UserSpec]
    buckets: list[BucketSpec]
    vpcs: list[VpcSpec]
    security_groups: list[SecurityGroupSpec]
    ebs_default_encryption: dict[str, bool]
    volumes: list[VolumeSpec]
    instances: list[InstanceSpec]
    kms_keys: list[KmsKeySpec]
    trails: list[TrailSpec]
    functions: list[FunctionSpec]
    lambda_role: str = "jp-saas-lambda-exec"
    default_vpc_roles: tuple[str, ...] = field(default_factory=lambda: ROLES)
    services: Services = field(default_factory=lambda: _services())


_ADMIN_DOC = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


def _core() -> Estate:
    """The named core of the estate (scale-independent); see :mod:`expected` for its ground truth."""
    s3_read = PolicySpec(
        "jp-saas-s3-tenant-read",
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": ["s3:GetObject", "s3:ListBucket"],
                    "Resource": [
                        "arn:aws:s3:::jp-saas-prod-customer-data",
                        "arn:aws:s3:::jp-saas-prod-customer-data/*",
                    ],
                }
            ],
        },
        "Read tenant exports",
    )
    deploy = PolicySpec(
        "jp-saas-deploy",
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": ["ecs:UpdateService", "ecr:*"], "Resource": "*"},
                {
                    "Effect": "Allow",
                    "Action": "s3:PutObject",
                    "Resource": "arn:aws:s3:::jp-saas-prod-static-assets/*",
                },
            ],
        },
        "CI/CD deployment",
    )
    users = [
        # Good console user: MFA, group-only permissions, fresh key used today.
        UserSpec(
            "tanaka.hiroshi",
            "platform",
            console=True,
            mfa=True,
            groups=("developers",),
            keys=(AccessKeySpec(age_days=10, used=True),),
        ),
        # Console without MFA, and a policy attached directly.
        UserSpec("suzuki.yuki", "support", console=True, managed_policies=("jp-saas-s3-tenant-read",)),
        # Admin by direct attachment of AdministratorAccess.
        UserSpec("sato.kenji", "security", console=True, mfa=True, managed_policies=(ADMIN_POLICY_ARN,)),
        # Admin through the ops-admins group; otherwise clean.
        UserSpec("watanabe.aiko", "sre", console=True, mfa=True, groups=("ops-admins",)),
        # Admin through an inline policy with * on *.
        UserSpec("takahashi.contractor", "vendor-ops", console=True, inline_policy=_ADMIN_DOC),
        # CI user: old key never used (not rotated, not recently used), inline non-admin policy.
        UserSpec(
            "ci-deploy",
            "platform",
            inline_policy=deploy.document,
            keys=(AccessKeySpec(age_days=200),),
        ),
        # Batch user: key older than 90 days but used today (rotation fails, recent use passes).
        UserSpec(
            "legacy-batch",
            "data",
            groups=("readonly-auditors",),
            keys=(AccessKeySpec(age_days=120, used=True),),
        ),
        # Left the company: MFA on, but the password has not been used for 120 days.
        UserSpec(
            "yamamoto.retired",
            "sales",
            console=True,
            mfa=True,
            groups=("readonly-auditors",),
            password_age_days=400,
            password_last_used_days=120,
        ),
        # Only an inactive (old) key: neither key rotation nor recent use applies.
        UserSpec("kobayashi.mai", "finance", keys=(AccessKeySpec(age_days=300, active=False),)),
    ]
    groups = [
        GroupSpec("developers", managed_policies=("jp-saas-s3-tenant-read",)),
        GroupSpec("ops-admins", managed_policies=(ADMIN_POLICY_ARN,)),
        GroupSpec("readonly-auditors", managed_policies=(READONLY_POLICY_ARN,)),
    ]

    buckets = [
        BucketSpec(
            "jp-saas-prod-logs",
            "primary",
            "platform",
            "prod",
            pab=PAB_FULL,
            encryption="AES256",
            versioning="Enabled",
            policy=("deny-insecure", "log-delivery"),
            classification="internal",
        ),
        BucketSpec(
            "jp-saas-prod-customer-data",
            "primary",
            "platform",
            "prod",
            pab=PAB_FULL,
            encryption="aws:kms",
            kms_alias="alias/jp-saas-prod-data",
            versioning="Enabled",
            log_to="jp-saas-prod-logs",
            policy=("deny-insecure",),
            classification="confidential",
        ),
        BucketSpec(
            "jp-saas-prod-static-assets",
            "primary",
            "web",
            "prod",
            encryption="AES256",
            versioning="Suspended",
            log_to="jp-saas-prod-logs",
            policy=("public-read",),
        ),
        BucketSpec(
            "jp-saas-stg-uploads",
            "secondary",
            "web",
            "staging",
            acl="public-read",
        ),
        BucketSpec(
            "jp-saas-osaka-access-logs",
            "secondary",
            "platform",
            "prod",
            pab=PAB_FULL,
            encryption="AES256",
            acl="log-delivery-write",
        ),
        BucketSpec(
            "jp-saas-dr-backup-osaka",
            "secondary",
            "platform",
            "prod",
            pab=PAB_FULL,
            encryption="aws:kms",
            kms_alias="alias/jp-saas-legacy",
            versioning="Enabled",
            log_to="jp-saas-osaka-access-logs",
            policy=("deny-insecure",),
            classification="confidential",
        ),
        BucketSpec(
            "jp-saas-cloudtrail-audit",
            "tertiary",
            "security",
            "prod",
            pab=PAB_FULL,
            encryption="AES256",
            versioning="Enabled",
            policy=("cloudtrail", "deny-insecure"),
        ),
        BucketSpec(
            "jp-saas-dev-sandbox",
            "tertiary",
            "platform",
            "dev",
            acl="authenticated-read",
        ),
        BucketSpec(
            "jp-saas-marketing-site",
            "tertiary",
            "marketing",
            "prod",
            pab={**PAB_ACLS_ONLY, "BlockPublicPolicy": True},
            encryption="AES256",
            policy=("deny-insecure",),
        ),
    ]

    vpcs = [
        VpcSpec(
            "jp-saas-prod-vpc",
            "primary",
            "10.0.0.0/16",
            "platform",
            "prod",
            subnets=(
                SubnetSpec("jp-saas-prod-public-a", "10.0.0.0/24", public=True),
                SubnetSpec("jp-saas-prod-private-a", "10.0.10.0/24", public=False),
            ),
            flow_logs=True,
            lock_default_sg=True,
        ),
        VpcSpec(
            "jp-saas-stg-vpc",
            "secondary",
            "10.10.0.0/16",
            "platform",
            "staging",
            subnets=(SubnetSpec("jp-saas-stg-private-a", "10.10.10.0/24", public=False),),
        ),
        VpcSpec(
            "jp-saas-dev-vpc",
            "tertiary",
            "10.20.0.0/16",
            "platform",
            "dev",
            subnets=(SubnetSpec("jp-saas-dev-private-a", "10.20.10.0/24", public=False),),
            flow_logs=True,
        ),
    ]
    sgs = [
        SecurityGroupSpec(
            "jp-saas-prod-web-sg",
            "jp-saas-prod-vpc",
            "ALB and web tier",
            "web",
            "prod",
            ingress=(Rule("tcp", 443, 443, cidr="0.0.0.0/0"), Rule("tcp", 80, 80, cidr6="::/0")),
        ),
        SecurityGroupSpec(
            "jp-saas-prod-bastion-sg",
            "jp-saas-prod-vpc",
            "SSH bastion",
            "sre",
            "prod",
            ingress=(Rule("tcp", 22, 22, cidr="0.0.0.0/0"),),
        ),
        SecurityGroupSpec(
            "jp-saas-prod-db-sg",
            "jp-saas-prod-vpc",
            "PostgreSQL from the app tier",
            "platform",
            "prod",
            ingress=(
                Rule("tcp", 5432, 5432, source_sg="jp-saas-prod-web-sg"),
                Rule("tcp", 5432, 5432, cidr="10.0.0.0/16"),
            ),
        ),
        SecurityGroupSpec(
            "jp-saas-prod-internal-ssh-sg",
            "jp-saas-prod-vpc",
            "SSH from the corporate VPN range",
            "sre",
            "prod",
            ingress=(Rule("tcp", 22, 22, cidr="10.0.0.0/8"),),
        ),
        SecurityGroupSpec(
            "jp-saas-legacy-rdp-sg",
            "jp-saas-stg-vpc",
            "Windows report server (legacy)",
            "data",
            "staging",
            ingress=(Rule("tcp", 3389, 3389, cidr6="::/0"),),
        ),
        SecurityGroupSpec(
            "jp-saas-stg-mysql-sg",
            "jp-saas-stg-vpc",
            "MySQL opened for a vendor migration",
            "data",
            "staging",
            ingress=(Rule("tcp", 3306, 3306, cidr="0.0.0.0/0"),),
        ),
        SecurityGroupSpec(
            "jp-saas-stg-cache-sg",
            "jp-saas-stg-vpc",
            "Cache nodes, wide port range",
            "platform",
            "staging",
            ingress=(Rule("tcp", 6000, 7000, cidr6="::/0"),),
        ),
        SecurityGroupSpec(
            "jp-saas-dev-debug-all-sg",
            "jp-saas-dev-vpc",
            "Temporary debugging, everything open",
            "platform",
            "dev",
            ingress=(Rule("-1", cidr="0.0.0.0/0"),),
        ),
        SecurityGroupSpec(
            "jp-saas-dev-app-sg",
            "jp-saas-dev-vpc",
            "Dev app tier",
            "platform",
            "dev",
            ingress=(Rule("tcp", 8080, 8080, cidr="10.20.0.0/16"),),
        ),
    ]
    volumes = [
        VolumeSpec(
            "jp-saas-prod-db-data", "primary", "platform", "prod", 100, True, "alias/jp-saas-prod-data"
        ),
        VolumeSpec("jp-saas-prod-legacy-scratch", "primary", "data", "prod", 50, False),
        VolumeSpec("jp-saas-dr-db-data", "secondary", "platform", "prod", 100, True),
        VolumeSpec("jp-saas-stg-scratch", "secondary", "data", "staging", 20, False),
        VolumeSpec("jp-saas-dev-build-cache", "tertiary", "platform", "dev", 30, False),
    ]
    instances = [
        InstanceSpec(
            "jp-saas-prod-api-1",
            "primary",
            "platform",
            "prod",
            "jp-saas-prod-vpc",
            "jp-saas-prod-private-a",
            "required",
            public_ip=False,
            security_groups=("jp-saas-prod-web-sg",),
        ),
        InstanceSpec(
            "jp-saas-prod-bastion",
            "primary",
            "sre",
            "prod",
            "jp-saas-prod-vpc",
            "jp-saas-prod-public-a",
            "required",
            public_ip=True,
            security_groups=("jp-saas-prod-bastion-sg",),
        ),
        InstanceSpec(
            "jp-saas-legacy-report",
            "secondary",
            "data",
            "staging",
            "default",
            None,
            "optional",
            public_ip=True,
        ),
        InstanceSpec(
            "jp-saas-stg-worker",
            "secondary",
            "platform",
            "staging",
            "jp-saas-stg-vpc",
            "jp-saas-stg-private-a",
            "disabled",
            public_ip=False,
        ),
        InstanceSpec(
            "jp-saas-dev-old-ci",
            "tertiary",
            "platform",
            "dev",
            "jp-saas-dev-vpc",
            "jp-saas-dev-private-a",
            "optional",
            public_ip=False,
            terminated=True,
        ),
    ]
    keys = [
        KmsKeySpec(
            "alias/jp-saas-prod-data",
            "primary",
            "security",
            "prod",
            rotation=True,
            policy="public-conditional",
        ),
        KmsKeySpec("alias/jp-saas-legacy", "secondary", "security", "prod", rotation=False),
        KmsKeySpec(
            "alias/jp-saas-token-signing",
            "primary",
            "security",
            "prod",
            key_spec="RSA_2048",
            key_usage="SIGN_VERIFY",
        ),
        KmsKeySpec("alias/jp-saas-partner-share", "tertiary", "data", "prod", rotation=True, policy="public"),
        KmsKeySpec("alias/jp-saas-retired", "tertiary", "security", "prod", enabled=False),
    ]
    trails = [
        TrailSpec(
            "jp-saas-org-audit",
            "primary",
            "jp-saas-cloudtrail-audit",
            multi_region=True,
            logging=True,
            validation=True,
            kms_alias="alias/jp-saas-prod-data",
            owner="security",
            env="prod",
        ),
        TrailSpec(
            "jp-saas-stg-trail",
            "secondary",
            "jp-saas-cloudtrail-audit",
            multi_region=False,
            logging=False,
            validation=False,
            kms_alias=None,
            owner="platform",
            env="staging",
        ),
    ]
    functions = [
        FunctionSpec(
            "jp-saas-invoice-renderer",
            "primary",
            "billing",
            "prod",
            "python3.12",
            {"STAGE": "prod", "TZ": "Asia/Tokyo", "DB_PASSWORD": "demo-fake-password-not-a-secret-0000"},
        ),
        FunctionSpec(
            "jp-saas-webhook-relay",
            "tertiary",
            "platform",
            "staging",
            "python3.12",
            {"STAGE": "staging", "API_TOKEN": "demo_tok_0000000000000000000000000000fake"},
            url_auth="NONE",
            public_policy=True,
        ),
        # Still on Python 3.8, past its deprecation date; behind a function URL that requires IAM.
        FunctionSpec(
            "jp-saas-legacy-cron",
            "secondary",
            "data",
            "staging",
            "python3.8",
            {"STAGE": "staging"},
            url_auth="AWS_IAM",
        ),
    ]
    return Estate(
        password_policy=PasswordPolicySpec(
            minimum_length=8,
            require_symbols=False,
            require_numbers=True,
            require_upper=True,
            require_lower=True,
            reuse_prevention=5,
            max_age_days=180,
        ),
        account_pab=ACCOUNT_PAB,
        policies=[s3_read, deploy],
        groups=groups,
        users=users,
        buckets=buckets,
        vpcs=vpcs,
        security_groups=sgs,
        ebs_default_encryption={"primary": True, "secondary": False, "tertiary": False},
        volumes=volumes,
        instances=instances,
        kms_keys=keys,
        trails=trails,
        functions=functions,
    )


# Fleet: per unit of scale, renamed copies of these templates (round-robin). Copies keep every setting.
_FLEET_BUCKETS = ("jp-saas-prod-customer-data", "jp-saas-stg-uploads", "jp-saas-marketing-site")
_FLEET_SGS = (
    "jp-saas-prod-web-sg",
    "jp-saas-prod-internal-ssh-sg",
    "jp-saas-stg-mysql-sg",
    "jp-saas-dev-app-sg",
)
_FLEET_VOLUMES = ("jp-saas-prod-db-data", "jp-saas-prod-legacy-scratch", "jp-saas-stg-scratch")
_FLEET_USERS = ("tanaka.hiroshi", "suzuki.yuki", "watanabe.aiko", "kobayashi.mai")
_FLEET_INSTANCES = ("jp-saas-prod-api-1", "jp-saas-stg-worker")
#: Copies per unit of scale.
FLEET_SIZES = {"buckets": 45, "security_groups": 60, "volumes": 45, "users": 40, "instances": 6}


def _copies(items: list[Any], templates: tuple[str, ...], count: int, start: int, rename: Any) -> list[Any]:
    by_name = {getattr(i, "name", None): i for i in items}
    out = []
    for n in range(start, start + count):
        t = by_name[templates[n % len(templates)]]
        out.append(replace(t, name=rename(t.name, n + 1), template=t.name))
    return out


def build_estate(scale: int = 1) -> Estate:
    """The core estate plus ``scale`` fleets (:data:`FLEET_SIZES` copies each).

    Raises ``ValueError`` if scale < 1.
    """
    if scale < 1:
        raise ValueError(f"scale must be >= 1, got {scale}")
    e = _core()
    total = {k: v * scale for k, v in FLEET_SIZES.items()}
    e.buckets += _copies(
        e.buckets, _FLEET_BUCKETS, total["buckets"], 0, lambda t, n: f"jp-saas-tenant-{n:04d}-{t[8:]}"
    )
    e.security_groups += _copies(
        e.security_groups, _FLEET_SGS, total["security_groups"], 0, lambda t, n: f"{t[:-3]}-svc{n:04d}-sg"
    )
    e.volumes += _copies(e.volumes, _FLEET_VOLUMES, total["volumes"], 0, lambda t, n: f"{t}-{n:04d}")
    e.users += _copies(e.users, _FLEET_USERS, total["users"], 0, lambda t, n: f"{t.split('.')[0]}.{n:04d}")
    e.instances += _copies(e.instances, _FLEET_INSTANCES, total["instances"], 0, lambda t, n: f"{t}-{n:04d}")
    return e
