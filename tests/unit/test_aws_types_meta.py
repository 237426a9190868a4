"""Meta tests on the AWS declarations (STYLE §1, "meta-lint tests against vendor data").

Every operation the provider may call exists in botocore's service model and is a read; the data-plane deny
list and the allow-list do not meet; every type's id template and paths are well formed; importing and
constructing the provider does not import boto3.
"""

from __future__ import annotations

import subprocess
import sys

import botocore.session
import jmespath
import pytest

from ismap_scan.providers.aws import types as T
from ismap_scan.providers.aws.guard import DATA_PLANE_DENY
from ismap_scan.providers.aws.provider import AwsProvider

#: Operations allowed although their names are not Describe/Get/List, and why.
NON_READ_NAMED = {
    ("iam", "GenerateCredentialReport"): "starts report generation; writes nothing an auditor sees",
    ("sts", "AssumeRole"): "obtains the scanning role's credentials",
}
READ_PREFIXES = ("Describe", "Get", "List", "BatchGet")


@pytest.fixture(scope="module")
def loader_session() -> botocore.session.Session:
    return botocore.session.get_session()


@pytest.mark.parametrize("service,operation", sorted(T.allowed_operations()))
def test_allowed_operation_exists_and_is_a_read(
    loader_session: botocore.session.Session, service: str, operation: str
) -> None:
    model = loader_session.get_service_model(service)
    assert operation in model.operation_names, f"{service}:{operation} is not in botocore's {service} model"
    if (service, operation) not in NON_READ_NAMED:
        assert operation.startswith(READ_PREFIXES), f"{service}:{operation} does not look like a read"


def test_data_plane_reads_never_allowed() -> None:
    assert not (T.allowed_operations() & DATA_PLANE_DENY)


def test_data_plane_deny_list_names_real_operations(loader_session: botocore.session.Session) -> None:
    for service, operation in DATA_PLANE_DENY:
        model = loader_session.get_service_model(service)
        assert operation in model.operation_names, f"{service}:{operation} unknown to botocore"


def test_identity_and_special_calls_are_allowed() -> None:
    allowed = T.allowed_operations()
    for op in [
        ("sts", "GetCallerIdentity"),
        ("sts", "AssumeRole"),
        ("iam", "GenerateCredentialReport"),
        ("iam", "GetCredentialReport"),
        ("ec2", "DescribeRegions"),
        ("s3control", "GetPublicAccessBlock"),
    ]:
        assert op in allowed


def test_required_permissions_use_iam_action_names() -> None:
    perms = T.required_permissions()
    assert perms == sorted(set(perms))
    # where the IAM action differs from the API operation, the IAM name is listed
    assert "s3:ListAllMyBuckets" in perms and "s3:ListBuckets" not in perms
    assert "s3:GetEncryptionConfiguration" in perms and "s3:GetBucketEncryption" not in perms
    assert "s3:GetAccountPublicAccessBlock" in perms
    assert not any(p.startswith("s3control:") for p in perms)
    doc = T.iam_policy_document()
    assert doc["Statement"][0]["Effect"] == "Allow"
    assert "sts:AssumeRole" not in doc["Statement"][0]["Action"]


@pytest.mark.parametrize("rtype", T.RESOURCE_TYPES, ids=lambda t: t.name)
def test_declaration_is_well_formed(loader_session: botocore.session.Session, rtype: T.ResourceType) -> None:
    assert rtype.name.startswith("aws.") and rtype.name.count(".") >= 1
    for expr in [rtype.items, rtype.name_path, rtype.region_field]:
        if expr:
            jmespath.compile(expr)
    stack = [d for d in (rtype.locate, *rtype.details) if d is not None]
    while stack:
        d = stack.pop()
        assert d.fill, f"{rtype.name}: {d.operation} fills nothing"
        for path in d.fill.values():
            if path:
                jmespath.compile(path)
        if d.when:
            jmespath.compile(d.when)
        service = d.service or rtype.service
        shape = loader_session.get_service_model(service).operation_model(d.operation).input_shape
        members = set(shape.members) if shape is not None else set()
        assert set(d.params) <= members, (
            f"{rtype.name}: {d.operation} has no parameter {set(d.params) - members}"
        )
        if d.each:
            stack.append(d.each)
    if rtype.list_operation:
        model = loader_session.get_service_model(rtype.service).operation_model(rtype.list_operation)
        assert set(rtype.list_params) <= set(model.input_shape.members)


def test_resource_types_match_the_contract() -> None:
    assert AwsProvider().resource_types() == sorted(
        [
            "aws.account",
            "aws.region",
            "aws.iam.user",
            "aws.iam.group",
            "aws.iam.role",
            "aws.iam.policy",
            "aws.s3.bucket",
            "aws.ec2.security_group",
            "aws.ec2.managed_prefix_list",
            "aws.ec2.volume",
            "aws.ec2.instance",
            "aws.ec2.vpc",
            "aws.cloudtrail.trail",
            "aws.kms.key",
            "aws.lambda.function",
            "aws.config.recorder",
            "aws.guardduty.detector",
            "aws.securityhub.hub",
            "aws.accessanalyzer.analyzers",
            "aws.inspector2.status",
            "aws.rds.db_instance",
            "aws.rds.db_cluster",
            "aws.dynamodb.table",
            "aws.efs.file_system",
            "aws.ec2.snapshot",
            "aws.ec2.image",
            "aws.backup.plan",
            "aws.backup.vault",
            "aws.secretsmanager.secret",
            "aws.logs.log_group",
            "aws.logs.metric_filter",
            "aws.cloudwatch.alarm",
            "aws.sns.topic",
            "aws.events.rule",
            "aws.elbv2.load_balancer",
            "aws.cloudfront.distribution",
            "aws.apigateway.rest_api",
            "aws.route53.hosted_zone",
        ]
    )


def test_always_redacted_fields_declared() -> None:
    rules = AwsProvider().redaction_rules().fields
    assert rules["aws.lambda.function"] == ("Environment.Variables.*",)
    assert rules["aws.ec2.instance"] == ("UserData",)


def test_provider_construction_does_not_import_boto3() -> None:
    code = (
        "import sys\n"
        "from ismap_scan.providers.base import get_provider\n"
        "p = get_provider('aws')\n"
        "assert p.resource_types() and p.settings_model()\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('boto3', 'botocore', 'moto'))\n"
        "assert not bad, bad\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
