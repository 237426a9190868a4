"""AWS resource types as data: what to list, how to identify items, which detail calls fill which fields.

This module is the single source of three things (STYLE §1, after Cloud Custodian's ``TypeInfo``):

- the generic collector (``collectors.py``) walks these declarations;
- the read-only guard's allow-list (``guard.py``) is :func:`allowed_operations`;
- the IAM permissions a scanning role needs are :func:`required_permissions` / :func:`iam_policy_document`.

Field names and meanings are the contract with the check authors (``docs/architecture.md``, "AWS resource
types and their data"). Operation names are botocore's (``GetBucketPolicy``), services are boto3 client names
(``s3control``). Importing this module does not import boto3.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

#: A ``Detail.fill`` key meaning "merge the selected dict into ``data``" (KMS ``DescribeKey.KeyMetadata``).
MERGE = "*"


@dataclass(frozen=True)
class Ref:
    """An API parameter taken from the item being described: a JMESPath expression on the item.

    ``Ref("Name")`` on a bucket item gives the bucket name; the account item has ``AccountId``.
    """

    path: str


@dataclass(frozen=True)
class Call:
    """One API operation the provider may make. ``iam_action`` when the IAM action name differs from
    ``<service>:<operation>`` (``s3:ListBuckets`` is authorised by ``s3:ListAllMyBuckets``)."""

    service: str
    operation: str
    iam_action: str | None = None

    @property
    def name(self) -> str:
        """``service:Operation`` as recorded in ``CollectionError.call`` (``"s3:GetBucketPolicy"``)."""
        return f"{self.service}:{self.operation}"

    @property
    def permission(self) -> str:
        """The IAM action that authorises this call (``"s3:GetEncryptionConfiguration"``): ``iam_action``
        when declared, else ``<IAM service prefix>:<Operation>`` (the prefix differs from the boto3 client
        name for a few services; API Gateway authorises its management reads as ``apigateway:GET``)."""
        if self.iam_action:
            return self.iam_action
        if self.service in _HTTP_VERB_ACTIONS:
            return "apigateway:GET"  # every declared API Gateway call is a read (GET on a resource path)
        return f"{_IAM_PREFIX.get(self.service, self.service)}:{self.operation}"


#: IAM service prefixes (Service Authorization Reference) that differ from boto3 client names.
_IAM_PREFIX: Mapping[str, str] = {
    "accessanalyzer": "access-analyzer",
    "apigatewayv2": "apigateway",
    "efs": "elasticfilesystem",
    "elb": "elasticloadbalancing",
    "elbv2": "elasticloadbalancing",
    "opensearch": "es",
    "s3control": "s3",
    "sso-admin": "sso",
    "stepfunctions": "states",
}

#: Services whose IAM actions are HTTP verbs on resource paths rather than operation names.
_HTTP_VERB_ACTIONS = frozenset({"apigateway", "apigatewayv2"})


@dataclass(frozen=True)
class Detail:
    """A per-item call whose answer fills fields of ``data``.

    - ``fill``: data field -> JMESPath into the response (``None``: the whole response without
      ``ResponseMetadata``). ``MERGE`` as the field merges a dict into ``data`` itself. When the call fails
      every filled field gets a ``CollectionError`` (``MERGE`` -> field ``"*"``).
    - ``params``: API parameters; :class:`Ref` values are read from the item, others are literals.
    - ``not_configured``: error codes meaning "nothing configured" -> the fields are ``None`` (a fact a check
      may FAIL on, e.g. S3 ``NoSuchPublicAccessBlockConfiguration``).
    - ``not_applicable``: error codes meaning "this setting does not exist for this item" -> ``None`` too
      (KMS ``UnsupportedOperationException`` for rotation of an asymmetric key).
    - ``parse``: ``"json"`` (a JSON document inside a string -> dict), ``"base64_text"`` (-> ``str``),
      ``"s3_region"`` (``GetBucketLocation`` constraint -> region name).
    - ``each``: a nested detail run for every element of the (single) list this detail filled, writing
      into the element (``AccessKeys[0].LastUsed``).
    - ``service``: when the call is not to the type's own service (the account record calls iam, s3control).
    - ``when``: JMESPath on the record's data collected so far; the call is made only when it gives ``true``,
      otherwise the fields are ``None`` ("not applicable" without asking).
    """

    operation: str
    fill: Mapping[str, str | None]
    params: Mapping[str, Any] = field(default_factory=dict)
    not_configured: frozenset[str] = frozenset()
    not_applicable: frozenset[str] = frozenset()
    parse: Literal["json", "base64_text", "s3_region"] | None = None
    each: Detail | None = None
    service: str | None = None
    iam_action: str | None = None
    when: str | None = None


@dataclass(frozen=True)
class ResourceType:
    """One AWS resource type (``aws.s3.bucket``) as data.

    - ``scope``: ``"account"`` = listed once per account (IAM, S3 listing), ``"region"`` = once per
      scanned region. A failed listing is an error on the account or region record (``field: "*"``).
    - ``list_operation`` / ``list_params`` / ``items``: the listing call (paginated with the botocore
      paginator when one exists) and the JMESPath selecting items on each page. ``None`` for the scope
      records, whose single item the provider builds.
    - ``id``: ``str.format`` template over the item's top-level fields plus ``partition``, ``region``,
      ``account`` (``"{Arn}"``, ``"arn:{partition}:ec2:{region}:{account}:volume/{VolumeId}"``).
    - ``name``: JMESPath on the item; the id when it gives nothing.
    - ``locate``: a detail run first whose field ``region_field`` becomes the record's region (S3 buckets);
      ``region_field`` alone reads the region from the listed item (CloudTrail ``HomeRegion``).
    - ``dedupe``: the same item is listed in several regions (multi-region trails); keep it once.
    - ``redact``: data paths always redacted (``"Environment.Variables.*"``), see ``evidence/redaction.py``.
    - ``derive``: name of a post-processing step in ``special.py`` that fills ``data["_derived"]`` or
      reshapes a field (e.g. ``"iam_policy"``).
    - ``extra_calls``: operations a custom collector in ``special.py`` makes for this type.
    - ``singleton``: the listing's whole (merged) answer is the one item of each scope (region or account),
      so a region where nothing is configured still has a record a check can FAIL (``ListDetectors`` with no
      detector); ``items`` is then unused. ``list_not_configured``: error codes of the listing meaning "the
      service is not enabled here" (Security Hub ``InvalidAccessException``); a singleton's item is then
      ``{}``, other types list nothing.
    """

    name: str
    service: str
    scope: Literal["account", "region"]
    id: str
    doc: str
    list_operation: str | None = None
    items: str = ""
    list_params: Mapping[str, Any] = field(default_factory=dict)
    name_path: str | None = None
    details: tuple[Detail, ...] = ()
    locate: Detail | None = None
    region_field: str | None = None
    dedupe: bool = False
    redact: tuple[str, ...] = ()
    derive: str | None = None
    extra_calls: tuple[Call, ...] = ()
    list_iam_action: str | None = None
    singleton: bool = False
    list_not_configured: frozenset[str] = frozenset()

    def calls(self) -> list[Call]:
        """Every operation collecting this type may make (listing, details, nested details, custom)."""
        out: list[Call] = []
        if self.list_operation:
            out.append(Call(self.service, self.list_operation, self.list_iam_action))
        stack = [d for d in (self.locate, *self.details) if d is not None]
        while stack:
            d = stack.pop()
            out.append(Call(d.service or self.service, d.operation, d.iam_action))
            if d.each is not None:
                stack.append(d.each)
        out.extend(self.extra_calls)
        return out


# --------------------------------------------------------------------------------------------------------
# Declarations. Error codes are the ones the AWS API reference lists for each operation.

_NAME_TAG = "Tags[?Key=='Name'].Value | [0]"

ACCOUNT = ResourceType(
    name="aws.account",
    service="iam",
    scope="account",
    id="arn:{partition}:iam::{account}:root",
    name_path="AccountId",
    doc="Account-wide settings: IAM summary and password policy, S3 account public access block, aliases, "
    "credential report (special.py).",
    details=(
        Detail("GetAccountSummary", {"AccountSummary": "SummaryMap"}),
        Detail(
            "GetAccountPasswordPolicy",
            {"PasswordPolicy": "PasswordPolicy"},
            not_configured=frozenset({"NoSuchEntity"}),
        ),
        Detail(
            "GetPublicAccessBlock",
            {"PublicAccessBlockConfiguration": "PublicAccessBlockConfiguration"},
            params={"AccountId": Ref("AccountId")},
            service="s3control",
            not_configured=frozenset({"NoSuchPublicAccessBlockConfiguration"}),
            iam_action="s3:GetAccountPublicAccessBlock",
        ),
        Detail("ListAccountAliases", {"AccountAliases": "AccountAliases"}),
    ),
    extra_calls=(
        Call("iam", "GenerateCredentialReport"),
        Call("iam", "GetCredentialReport"),
    ),
)

REGION = ResourceType(
    name="aws.region",
    service="ec2",
    scope="region",
    id="arn:{partition}::{region}:{account}:region",
    name_path="RegionName",
    doc="Region-wide settings (EBS encryption by default); one record per scanned region.",
    details=(
        Detail("GetEbsEncryptionByDefault", {"EbsEncryptionByDefault": "EbsEncryptionByDefault"}),
        Detail("GetEbsDefaultKmsKeyId", {"EbsDefaultKmsKeyId": "KmsKeyId"}),
    ),
    extra_calls=(Call("ec2", "DescribeRegions"),),
)

IAM_USER = ResourceType(
    name="aws.iam.user",
    service="iam",
    scope="account",
    id="{Arn}",
    name_path="UserName",
    doc="IAM users from GetAccountAuthorizationDetails plus login profile, MFA devices, access keys "
    "(with last use) and the user's credential-report row.",
    list_operation="GetAccountAuthorizationDetails",
    list_params={"Filter": ["User"]},
    items="UserDetailList[]",
    details=(
        Detail(
            "GetLoginProfile",
            {"LoginProfile": "LoginProfile"},
            params={"UserName": Ref("UserName")},
            not_configured=frozenset({"NoSuchEntity"}),
        ),
        Detail("ListMFADevices", {"MFADevices": "MFADevices"}, params={"UserName": Ref("UserName")}),
        Detail(
            "ListAccessKeys",
            {"AccessKeys": "AccessKeyMetadata"},
            params={"UserName": Ref("UserName")},
            each=Detail(
                "GetAccessKeyLastUsed",
                {"LastUsed": "AccessKeyLastUsed"},
                params={"AccessKeyId": Ref("AccessKeyId")},
            ),
        ),
    ),
    derive="iam_user",
)

IAM_GROUP = ResourceType(
    name="aws.iam.group",
    service="iam",
    scope="account",
    id="{Arn}",
    name_path="GroupName",
    doc="IAM groups (GroupDetailList entries: inline and attached policies).",
    list_operation="GetAccountAuthorizationDetails",
    list_params={"Filter": ["Group"]},
    items="GroupDetailList[]",
    derive="iam_documents",
)

IAM_ROLE = ResourceType(
    name="aws.iam.role",
    service="iam",
    scope="account",
    id="{Arn}",
    name_path="RoleName",
    doc="IAM roles (RoleDetailList entries; trust policy parsed).",
    list_operation="GetAccountAuthorizationDetails",
    list_params={"Filter": ["Role"]},
    items="RoleDetailList[]",
    derive="iam_documents",
)

IAM_POLICY = ResourceType(
    name="aws.iam.policy",
    service="iam",
    scope="account",
    id="{Arn}",
    name_path="PolicyName",
    doc="Customer managed policies, and AWS managed policies attached to something; every version's "
    "document parsed, the default one also under _derived.DefaultVersionDocument.",
    list_operation="GetAccountAuthorizationDetails",
    list_params={"Filter": ["LocalManagedPolicy", "AWSManagedPolicy"]},
    # AWS managed policies (ARN account part "aws") only when attached; every customer managed policy.
    items="Policies[?AttachmentCount > `0` || !contains(Arn, ':iam::aws:policy/')]",
    derive="iam_policy",
)

S3_BUCKET = ResourceType(
    name="aws.s3.bucket",
    service="s3",
    scope="account",
    id="arn:{partition}:s3:::{Name}",
    name_path="Name",
    doc="S3 buckets (ListBuckets is account-wide); the record's region is the bucket's own.",
    list_operation="ListBuckets",
    list_iam_action="s3:ListAllMyBuckets",
    items="Buckets[]",
    locate=Detail(
        "GetBucketLocation",
        {"BucketRegion": "LocationConstraint"},
        params={"Bucket": Ref("Name")},
        parse="s3_region",
    ),
    region_field="BucketRegion",
    details=(
        Detail(
            "GetPublicAccessBlock",
            {"PublicAccessBlockConfiguration": "PublicAccessBlockConfiguration"},
            params={"Bucket": Ref("Name")},
            not_configured=frozenset({"NoSuchPublicAccessBlockConfiguration"}),
            iam_action="s3:GetBucketPublicAccessBlock",
        ),
        Detail(
            "GetBucketEncryption",
            {"ServerSideEncryptionConfiguration": "ServerSideEncryptionConfiguration"},
            params={"Bucket": Ref("Name")},
            not_configured=frozenset({"ServerSideEncryptionConfigurationNotFoundError"}),
            iam_action="s3:GetEncryptionConfiguration",
        ),
        Detail("GetBucketVersioning", {"Versioning": None}, params={"Bucket": Ref("Name")}),
        Detail("GetBucketLogging", {"LoggingEnabled": "LoggingEnabled"}, params={"Bucket": Ref("Name")}),
        Detail(
            "GetBucketPolicy",
            {"Policy": "Policy"},
            params={"Bucket": Ref("Name")},
            not_configured=frozenset({"NoSuchBucketPolicy"}),
            parse="json",
        ),
        Detail(
            "GetBucketPolicyStatus",
            {"PolicyStatus": "PolicyStatus"},
            params={"Bucket": Ref("Name")},
            not_configured=frozenset({"NoSuchBucketPolicy"}),
            # Without a bucket policy S3 answers this too with NoSuchBucketPolicy (-> null): not asked when
            # GetBucketPolicy just said so (Policy present and null). Asked when that call failed (absent).
            when="!(contains(keys(@), 'Policy') && Policy == null)",
        ),
        Detail("GetBucketAcl", {"Acl": None}, params={"Bucket": Ref("Name")}),
        Detail(
            "GetBucketTagging",
            {"Tags": "TagSet"},
            params={"Bucket": Ref("Name")},
            not_configured=frozenset({"NoSuchTagSet"}),
        ),
    ),
)

EC2_SECURITY_GROUP = ResourceType(
    name="aws.ec2.security_group",
    service="ec2",
    scope="region",
    id="arn:{partition}:ec2:{region}:{account}:security-group/{GroupId}",
    name_path="GroupName",
    doc="Security groups with ingress and egress rules.",
    list_operation="DescribeSecurityGroups",
    items="SecurityGroups[]",
)

EC2_MANAGED_PREFIX_LIST = ResourceType(
    name="aws.ec2.managed_prefix_list",
    service="ec2",
    scope="region",
    id="{PrefixListArn}",
    name_path="PrefixListName",
    doc="Managed prefix lists with their CIDR entries (security group rules may reference them).",
    list_operation="DescribeManagedPrefixLists",
    items="PrefixLists[]",
    details=(
        Detail(
            "GetManagedPrefixListEntries",
            {"Entries": "Entries"},
            params={"PrefixListId": Ref("PrefixListId")},
        ),
    ),
)

EC2_VOLUME = ResourceType(
    name="aws.ec2.volume",
    service="ec2",
    scope="region",
    id="arn:{partition}:ec2:{region}:{account}:volume/{VolumeId}",
    name_path=_NAME_TAG,
    doc="EBS volumes (encryption, attachments).",
    list_operation="DescribeVolumes",
    items="Volumes[]",
)

EC2_INSTANCE = ResourceType(
    name="aws.ec2.instance",
    service="ec2",
    scope="region",
    id="arn:{partition}:ec2:{region}:{account}:instance/{InstanceId}",
    name_path=_NAME_TAG,
    doc="EC2 instances (metadata options, public IP, profile) plus user data, which is always redacted.",
    list_operation="DescribeInstances",
    items="Reservations[].Instances[]",
    details=(
        Detail(
            "DescribeInstanceAttribute",
            {"UserData": "UserData.Value"},
            params={"InstanceId": Ref("InstanceId"), "Attribute": "userData"},
            parse="base64_text",
        ),
    ),
    redact=("UserData",),
)

EC2_VPC = ResourceType(
    name="aws.ec2.vpc",
    service="ec2",
    scope="region",
    id="arn:{partition}:ec2:{region}:{account}:vpc/{VpcId}",
    name_path=_NAME_TAG,
    doc="VPCs with their flow logs and the IDs of the network interfaces in them.",
    list_operation="DescribeVpcs",
    items="Vpcs[]",
    details=(
        Detail(
            "DescribeFlowLogs",
            {"FlowLogs": "FlowLogs"},
            params={"Filter": [{"Name": "resource-id", "Values": [Ref("VpcId")]}]},  # singular in this API
        ),
        Detail(
            "DescribeNetworkInterfaces",
            {"NetworkInterfaces": "NetworkInterfaces[].NetworkInterfaceId"},
            params={"Filters": [{"Name": "vpc-id", "Values": [Ref("VpcId")]}]},
        ),
    ),
)

CLOUDTRAIL_TRAIL = ResourceType(
    name="aws.cloudtrail.trail",
    service="cloudtrail",
    scope="region",
    id="{TrailARN}",
    name_path="Name",
    doc="Trails, listed in every scanned region (shadow copies included, so a multi-region trail homed "
    "in an unscanned region is still seen) and kept once, in their home region.",
    list_operation="DescribeTrails",
    list_params={"includeShadowTrails": True},
    items="trailList[]",
    region_field="HomeRegion",
    dedupe=True,
    details=(
        Detail("GetTrailStatus", {"Status": None}, params={"Name": Ref("TrailARN")}),
        Detail(
            "GetEventSelectors",
            {"EventSelectors": "EventSelectors", "AdvancedEventSelectors": "AdvancedEventSelectors"},
            params={"TrailName": Ref("TrailARN")},
        ),
    ),
)

KMS_KEY = ResourceType(
    name="aws.kms.key",
    service="kms",
    scope="region",
    id="{KeyArn}",
    name_path="KeyId",
    doc="KMS keys: key metadata, rotation status, default key policy, aliases.",
    list_operation="ListKeys",
    items="Keys[]",
    details=(
        Detail("DescribeKey", {MERGE: "KeyMetadata"}, params={"KeyId": Ref("KeyId")}),
        Detail(
            "GetKeyRotationStatus",
            {"KeyRotationEnabled": "KeyRotationEnabled"},
            params={"KeyId": Ref("KeyId")},
            # Automatic rotation exists only for symmetric encryption keys with KMS-generated material in
            # the default key store (KMS developer guide, "Rotating keys"); AWS answers the others with
            # UnsupportedOperationException, so they are not asked. A key pending deletion answers
            # KMSInvalidStateException. All: "no such setting" -> null.
            when="KeySpec == 'SYMMETRIC_DEFAULT' && Origin == 'AWS_KMS' && !CustomKeyStoreId",
            not_applicable=frozenset({"UnsupportedOperationException", "KMSInvalidStateException"}),
        ),
        Detail(
            "GetKeyPolicy",
            {"KeyPolicy": "Policy"},
            params={"KeyId": Ref("KeyId"), "PolicyName": "default"},
            parse="json",
        ),
        Detail("ListAliases", {"Aliases": "Aliases"}, params={"KeyId": Ref("KeyId")}),
    ),
)

LAMBDA_FUNCTION = ResourceType(
    name="aws.lambda.function",
    service="lambda",
    scope="region",
    id="{FunctionArn}",
    name_path="FunctionName",
    doc="Lambda functions (configuration only; environment variable values always redacted, code never read) "
    "plus the resource-based Policy (parsed; null when none) and FunctionUrlConfig (AuthType; null when none).",
    list_operation="ListFunctions",
    items="Functions[]",
    details=(
        Detail(
            "GetPolicy",
            {"Policy": "Policy"},
            params={"FunctionName": Ref("FunctionArn")},
            not_configured=frozenset({"ResourceNotFoundException"}),
            parse="json",
        ),
        Detail(
            "GetFunctionUrlConfig",
            {"FunctionUrlConfig": None},
            params={"FunctionName": Ref("FunctionArn")},
            not_configured=frozenset({"ResourceNotFoundException"}),
        ),
    ),
    redact=("Environment.Variables.*",),
)

# ---- Region-wide service settings (singletons: one record per region, also where nothing is enabled) ----

CONFIG_RECORDER = ResourceType(
    name="aws.config.recorder",
    service="config",
    scope="region",
    singleton=True,
    id="arn:{partition}:config:{region}:{account}:configuration-recorders",  # not a real ARN: one per region
    doc="AWS Config in one region: its configuration recorders, their recording status, delivery channels.",
    list_operation="DescribeConfigurationRecorders",
    details=(
        Detail(
            "DescribeConfigurationRecorderStatus",
            {"ConfigurationRecordersStatus": "ConfigurationRecordersStatus"},
        ),
        Detail("DescribeDeliveryChannels", {"DeliveryChannels": "DeliveryChannels"}),
    ),
)

GUARDDUTY_DETECTOR = ResourceType(
    name="aws.guardduty.detector",
    service="guardduty",
    scope="region",
    singleton=True,
    id="arn:{partition}:guardduty:{region}:{account}:detectors",  # not a real ARN: one record per region
    doc="GuardDuty in one region: the detector IDs (at most one per region), the detector's settings and "
    "the administrator account it reports to (a member's view of a delegated administrator).",
    list_operation="ListDetectors",
    details=(
        Detail(
            "GetDetector",
            {"Detector": None},
            params={"DetectorId": Ref("DetectorIds[0]")},
            when="length(DetectorIds || `[]`) > `0`",
        ),
        Detail(
            "GetAdministratorAccount",
            {"Administrator": "Administrator"},
            params={"DetectorId": Ref("DetectorIds[0]")},
            when="length(DetectorIds || `[]`) > `0`",
        ),
    ),
)

SECURITYHUB_HUB = ResourceType(
    name="aws.securityhub.hub",
    service="securityhub",
    scope="region",
    singleton=True,
    id="arn:{partition}:securityhub:{region}:{account}:hub/default",
    doc="Security Hub in one region: DescribeHub (HubArn, SubscribedAt, AutoEnableControls), or {} when the "
    "account is not subscribed (InvalidAccessException).",
    list_operation="DescribeHub",
    list_not_configured=frozenset({"InvalidAccessException"}),
)

ACCESSANALYZER_ANALYZERS = ResourceType(
    name="aws.accessanalyzer.analyzers",
    service="accessanalyzer",
    scope="region",
    singleton=True,
    id="arn:{partition}:access-analyzer:{region}:{account}:analyzers",  # not a real ARN: one per region
    doc="IAM Access Analyzer in one region: ListAnalyzers (analyzers: arn, name, type, status).",
    list_operation="ListAnalyzers",
)

INSPECTOR2_STATUS = ResourceType(
    name="aws.inspector2.status",
    service="inspector2",
    scope="region",
    singleton=True,
    id="arn:{partition}:inspector2:{region}:{account}:account-status",  # not a real ARN: one per region
    doc="Amazon Inspector in one region: BatchGetAccountStatus for the scanned account (accounts[0].state, "
    "accounts[0].resourceState.ec2/ecr/lambda/lambdaCode).",
    list_operation="BatchGetAccountStatus",
    list_params={"accountIds": [Ref("AccountId")]},
)

# ---- Databases and storage ----

RDS_DB_INSTANCE = ResourceType(
    name="aws.rds.db_instance",
    service="rds",
    scope="region",
    id="{DBInstanceArn}",
    name_path="DBInstanceIdentifier",
    doc="RDS DB instances (DescribeDBInstances items, TagList included; Aurora members carry "
    "DBClusterIdentifier).",
    list_operation="DescribeDBInstances",
    items="DBInstances[]",
)

RDS_DB_CLUSTER = ResourceType(
    name="aws.rds.db_cluster",
    service="rds",
    scope="region",
    id="{DBClusterArn}",
    name_path="DBClusterIdentifier",
    doc="RDS DB clusters: Aurora and Multi-AZ clusters (DescribeDBClusters items).",
    list_operation="DescribeDBClusters",
    items="DBClusters[]",
)

DYNAMODB_TABLE = ResourceType(
    name="aws.dynamodb.table",
    service="dynamodb",
    scope="region",
    id="arn:{partition}:dynamodb:{region}:{account}:table/{TableName}",
    name_path="TableName",
    doc="DynamoDB tables: DescribeTable Table fields (SSEDescription, DeletionProtectionEnabled, ...) plus "
    "ContinuousBackupsDescription (point-in-time recovery).",
    list_operation="ListTables",
    items="TableNames[].{TableName: @}",
    details=(
        Detail("DescribeTable", {MERGE: "Table"}, params={"TableName": Ref("TableName")}),
        Detail(
            "DescribeContinuousBackups",
            {"ContinuousBackupsDescription": "ContinuousBackupsDescription"},
            params={"TableName": Ref("TableName")},
        ),
    ),
)

EFS_FILE_SYSTEM = ResourceType(
    name="aws.efs.file_system",
    service="efs",
    scope="region",
    id="{FileSystemArn}",
    name_path="Name",
    doc="EFS file systems (Encrypted, KmsKeyId, Tags) plus BackupPolicy (null when none was ever set).",
    list_operation="DescribeFileSystems",
    items="FileSystems[]",
    details=(
        Detail(
            "DescribeBackupPolicy",
            {"BackupPolicy": "BackupPolicy"},
            params={"FileSystemId": Ref("FileSystemId")},
            not_configured=frozenset({"PolicyNotFound"}),
        ),
    ),
)

EC2_SNAPSHOT = ResourceType(
    name="aws.ec2.snapshot",
    service="ec2",
    scope="region",
    id="arn:{partition}:ec2:{region}::snapshot/{SnapshotId}",
    name_path=_NAME_TAG,
    doc="EBS snapshots the account owns, plus CreateVolumePermissions (who may create volumes from them).",
    list_operation="DescribeSnapshots",
    # The owner-id filter repeats OwnerIds=self; emulators that ignore OwnerIds (moto) still honour it.
    list_params={"OwnerIds": ["self"], "Filters": [{"Name": "owner-id", "Values": [Ref("AccountId")]}]},
    items="Snapshots[]",
    details=(
        Detail(
            "DescribeSnapshotAttribute",
            {"CreateVolumePermissions": "CreateVolumePermissions"},
            params={"SnapshotId": Ref("SnapshotId"), "Attribute": "createVolumePermission"},
        ),
    ),
)

EC2_IMAGE = ResourceType(
    name="aws.ec2.image",
    service="ec2",
    scope="region",
    id="arn:{partition}:ec2:{region}::image/{ImageId}",
    name_path="Name",
    doc="AMIs the account owns (DescribeImages items; Public says whether anyone may launch them).",
    list_operation="DescribeImages",
    list_params={"Owners": ["self"]},
    items="Images[]",
)

BACKUP_PLAN = ResourceType(
    name="aws.backup.plan",
    service="backup",
    scope="region",
    id="{BackupPlanArn}",
    name_path="BackupPlanName",
    doc="AWS Backup plans with their rules (GetBackupPlan BackupPlan: Rules[].Lifecycle.DeleteAfterDays).",
    list_operation="ListBackupPlans",
    items="BackupPlansList[]",
    details=(
        Detail("GetBackupPlan", {"BackupPlan": "BackupPlan"}, params={"BackupPlanId": Ref("BackupPlanId")}),
    ),
)

BACKUP_VAULT = ResourceType(
    name="aws.backup.vault",
    service="backup",
    scope="region",
    id="{BackupVaultArn}",
    name_path="BackupVaultName",
    doc="AWS Backup vaults (ListBackupVaults items: Locked, MinRetentionDays, EncryptionKeyArn).",
    list_operation="ListBackupVaults",
    items="BackupVaultList[]",
)

SECRETSMANAGER_SECRET = ResourceType(
    name="aws.secretsmanager.secret",
    service="secretsmanager",
    scope="region",
    id="{ARN}",
    name_path="Name",
    doc="Secrets Manager secrets' metadata (ListSecrets: RotationEnabled, RotationRules, LastRotatedDate); "
    "secret values are never read (the guard refuses GetSecretValue).",
    list_operation="ListSecrets",
    items="SecretList[]",
)

# ---- Logging, monitoring, notification ----

LOGS_LOG_GROUP = ResourceType(
    name="aws.logs.log_group",
    service="logs",
    scope="region",
    id="arn:{partition}:logs:{region}:{account}:log-group:{logGroupName}",
    name_path="logGroupName",
    doc="CloudWatch Logs log groups (DescribeLogGroups items: retentionInDays, kmsKeyId, metricFilterCount).",
    list_operation="DescribeLogGroups",
    items="logGroups[]",
)

LOGS_METRIC_FILTER = ResourceType(
    name="aws.logs.metric_filter",
    service="logs",
    scope="region",
    # Not a real ARN (metric filters have none): the log group's ARN plus the filter name.
    id="arn:{partition}:logs:{region}:{account}:log-group:{logGroupName}:metric-filter:{filterName}",
    name_path="filterName",
    doc="CloudWatch Logs metric filters of a region, listed in one call (filterPattern, logGroupName, "
    "metricTransformations).",
    list_operation="DescribeMetricFilters",
    items="metricFilters[]",
)

CLOUDWATCH_ALARM = ResourceType(
    name="aws.cloudwatch.alarm",
    service="cloudwatch",
    scope="region",
    id="{AlarmArn}",
    name_path="AlarmName",
    doc="CloudWatch metric alarms (DescribeAlarms MetricAlarms: MetricName, Namespace, AlarmActions, "
    "ActionsEnabled).",
    list_operation="DescribeAlarms",
    list_params={"AlarmTypes": ["MetricAlarm"]},
    items="MetricAlarms[]",
)

SNS_TOPIC = ResourceType(
    name="aws.sns.topic",
    service="sns",
    scope="region",
    id="{TopicArn}",
    doc="SNS topics with GetTopicAttributes Attributes (KmsMasterKeyId, Policy as a JSON string, "
    "SubscriptionsConfirmed).",
    list_operation="ListTopics",
    items="Topics[]",
    details=(
        Detail("GetTopicAttributes", {"Attributes": "Attributes"}, params={"TopicArn": Ref("TopicArn")}),
    ),
)

EVENTS_RULE = ResourceType(
    name="aws.events.rule",
    service="events",
    scope="region",
    id="{Arn}",
    name_path="Name",
    doc="EventBridge rules of the default event bus (ListRules items: EventPattern as a JSON string, State) "
    "plus their Targets (ListTargetsByRule).",
    list_operation="ListRules",
    items="Rules[]",
    details=(Detail("ListTargetsByRule", {"Targets": "Targets"}, params={"Rule": Ref("Name")}),),
)

# ---- Edge and application services ----

ELBV2_LOAD_BALANCER = ResourceType(
    name="aws.elbv2.load_balancer",
    service="elbv2",
    scope="region",
    id="{LoadBalancerArn}",
    name_path="LoadBalancerName",
    doc="Application, network and gateway load balancers with Listeners (protocol, SslPolicy, DefaultActions), "
    "Attributes, and the WAF web ACL of application load balancers (wafv2 GetWebACLForResource WebACL).",
    list_operation="DescribeLoadBalancers",
    items="LoadBalancers[]",
    details=(
        Detail(
            "DescribeListeners",
            {"Listeners": "Listeners"},
            params={"LoadBalancerArn": Ref("LoadBalancerArn")},
        ),
        Detail(
            "DescribeLoadBalancerAttributes",
            {"Attributes": "Attributes"},
            params={"LoadBalancerArn": Ref("LoadBalancerArn")},
        ),
        Detail(
            "GetWebACLForResource",
            {"WebACL": "WebACL"},
            params={"ResourceArn": Ref("LoadBalancerArn")},
            service="wafv2",
            # Only application load balancers can have a web ACL; AWS answers "no ACL" with an empty
            # answer, some SDK versions with WAFNonexistentItemException.
            when="Type == 'application'",
            not_configured=frozenset({"WAFNonexistentItemException"}),
        ),
    ),
)

CLOUDFRONT_DISTRIBUTION = ResourceType(
    name="aws.cloudfront.distribution",
    service="cloudfront",
    scope="account",
    id="{ARN}",
    name_path="DomainName",
    doc="CloudFront distributions (ListDistributions summaries: ViewerCertificate, DefaultCacheBehavior, "
    "CacheBehaviors, WebACLId, Origins); origin custom header values always redacted.",
    list_operation="ListDistributions",
    items="DistributionList.Items[]",
    # Custom origin headers often carry a shared secret that the origin checks.
    redact=("Origins.Items[*].CustomHeaders.Items[*].HeaderValue",),
)

APIGATEWAY_REST_API = ResourceType(
    name="aws.apigateway.rest_api",
    service="apigateway",
    scope="region",
    id="arn:{partition}:apigateway:{region}::/restapis/{id}",
    name_path="name",
    doc="API Gateway REST APIs (GetRestApis items) with their Stages (GetStages item: accessLogSettings, "
    "webAclArn, methodSettings); stage variable values always redacted.",
    list_operation="GetRestApis",
    items="items[]",
    details=(Detail("GetStages", {"Stages": "item"}, params={"restApiId": Ref("id")}),),
    # Stage variables are often used to pass credentials to integrations.
    redact=("Stages[*].variables.*",),
)

ROUTE53_HOSTED_ZONE = ResourceType(
    name="aws.route53.hosted_zone",
    service="route53",
    scope="account",
    id="arn:{partition}:route53:::hostedzone/{Id!b}",
    name_path="Name",
    doc="Route 53 hosted zones (ListHostedZones items: Id, Name, Config.PrivateZone) with their "
    "ResourceRecordSets (ListResourceRecordSets: Name, Type, ResourceRecords[].Value).",
    list_operation="ListHostedZones",
    items="HostedZones[]",
    details=(
        Detail(
            "ListResourceRecordSets",
            {"ResourceRecordSets": "ResourceRecordSets"},
            params={"HostedZoneId": Ref("Id")},
        ),
    ),
)

#: Every declared type, scope records first. Order does not affect output (records are sorted).
RESOURCE_TYPES: tuple[ResourceType, ...] = (
    ACCOUNT,
    REGION,
    IAM_USER,
    IAM_GROUP,
    IAM_ROLE,
    IAM_POLICY,
    S3_BUCKET,
    EC2_SECURITY_GROUP,
    EC2_MANAGED_PREFIX_LIST,
    EC2_VOLUME,
    EC2_INSTANCE,
    EC2_VPC,
    CLOUDTRAIL_TRAIL,
    KMS_KEY,
    LAMBDA_FUNCTION,
    CONFIG_RECORDER,
    GUARDDUTY_DETECTOR,
    SECURITYHUB_HUB,
    ACCESSANALYZER_ANALYZERS,
    INSPECTOR2_STATUS,
    RDS_DB_INSTANCE,
    RDS_DB_CLUSTER,
    DYNAMODB_TABLE,
    EFS_FILE_SYSTEM,
    EC2_SNAPSHOT,
    EC2_IMAGE,
    BACKUP_PLAN,
    BACKUP_VAULT,
    SECRETSMANAGER_SECRET,
    LOGS_LOG_GROUP,
    LOGS_METRIC_FILTER,
    CLOUDWATCH_ALARM,
    SNS_TOPIC,
    EVENTS_RULE,
    ELBV2_LOAD_BALANCER,
    CLOUDFRONT_DISTRIBUTION,
    APIGATEWAY_REST_API,
    ROUTE53_HOSTED_ZONE,
)

TYPES_BY_NAME: Mapping[str, ResourceType] = {t.name: t for t in RESOURCE_TYPES}

#: Calls made outside any type: who am I, optional role assumption.
IDENTITY_CALLS: tuple[Call, ...] = (
    Call("sts", "GetCallerIdentity"),
    Call("sts", "AssumeRole"),
)

#: Organizations reads made from the management (or delegated administrator) account when
#: ``aws.organization`` is set: member discovery (``organization.py``) and ``ismap-scan doctor``.
ORGANIZATION_CALLS: tuple[Call, ...] = (
    Call("organizations", "DescribeOrganization"),
    Call("organizations", "ListAccounts"),
    Call("organizations", "ListAccountsForParent"),
    Call("organizations", "ListChildren"),
)


def all_calls() -> list[Call]:
    """Every operation the AWS provider may make, deduplicated, sorted by ``service:Operation``."""
    seen: dict[str, Call] = {}
    for t in RESOURCE_TYPES:
        for c in t.calls():
            seen.setdefault(c.name, c)
    for c in (*IDENTITY_CALLS, *ORGANIZATION_CALLS):
        seen.setdefault(c.name, c)
    return [seen[k] for k in sorted(seen)]


def allowed_operations() -> frozenset[tuple[str, str]]:
    """The read-only guard's allow-list: ``(boto3 service name, botocore operation name)`` pairs."""
    return frozenset((c.service, c.operation) for c in all_calls())


def required_permissions() -> list[str]:
    """IAM actions a scanning principal needs, sorted (``"cloudtrail:DescribeTrails"``, ...).

    ``sts:GetCallerIdentity`` needs no permission but is listed for completeness; ``sts:AssumeRole`` is
    needed on the *base* principal only when ``role_arn`` is set.
    """
    return sorted({c.permission for c in all_calls()})


def iam_policy_document(
    assume_role_name: str | None = None, role_path: str = "/", partition: str = "aws"
) -> dict[str, Any]:
    """An identity policy granting exactly :func:`required_permissions` (``docs/aws-iam-policy.json``).

    The first statement (``IsmapScanReadOnly``) is every declared read, ``Resource: "*"``, without
    ``sts:AssumeRole``. With ``assume_role_name`` (the ``aws.organization.role_name``) a second statement
    lets the management-account principal assume that role, under ``role_path``, in any account
    (``arn:<partition>:iam::*:role<path><name>``). Deterministic: actions are sorted.
    """
    actions = [a for a in required_permissions() if a != "sts:AssumeRole"]
    statements: list[dict[str, Any]] = [
        {"Sid": "IsmapScanReadOnly", "Effect": "Allow", "Action": actions, "Resource": "*"}
    ]
    if assume_role_name:
        statements.append(
            {
                "Sid": "IsmapScanAssumeMemberAuditRole",
                "Effect": "Allow",
                "Action": "sts:AssumeRole",
                "Resource": f"arn:{partition}:iam::*:role{role_path}{assume_role_name}",
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}


def redaction_rules() -> dict[str, tuple[str, ...]]:
    """Per-type data paths that are always redacted: ``{"aws.ec2.instance": ("UserData",), ...}``."""
    return {t.name: t.redact for t in RESOURCE_TYPES if t.redact}
