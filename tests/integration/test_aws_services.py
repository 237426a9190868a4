"""The issue-3 resource types collected by AwsProvider from moto through real boto3.

One small estate (a good and a bad example per setting, in ap-northeast-1, nothing in us-east-1) is seeded and
collected once for the module; error-path tests reset the server and inject AWS errors with a client hook.
Contract fields are the API's own names (docs/architecture.md, "AWS resource types and their data").
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse

from ismap_scan.demo.aws.server import FAKE_CREDENTIALS_ENV, MotoHandle, s3control_host_prefix_hook
from ismap_scan.engine import evaluate, load_checks
from ismap_scan.model import Resource, Verdict, canonical_json
from ismap_scan.providers.aws import types as T
from ismap_scan.providers.aws.provider import AwsProvider
from ismap_scan.providers.aws.settings import AwsSettings
from ismap_scan.providers.base import CollectOptions, NullProgress

pytestmark = pytest.mark.moto

ACCOUNT = "111122223333"
TOKYO = "ap-northeast-1"
#: Every type this module exercises (the issue-3 types; Lambda gained Policy and FunctionUrlConfig).
NEW_TYPES = {
    t.name
    for t in T.RESOURCE_TYPES
    if t.name
    not in {
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
    }
}
SECRET_VALUE = "it-services-test-secret-value-0000"
HEADER_SECRET = "origin-shared-secret-0000"
STAGE_SECRET = "stage-variable-secret-0000"


def collect(
    settings: AwsSettings, hooks: list[Callable[[Any], None]] | None = None, **kw: Any
) -> list[Resource]:
    options = CollectOptions(
        settings=settings, max_workers=4, client_hooks=[s3control_host_prefix_hook, *(hooks or [])], **kw
    )
    return list(AwsProvider().collect(options, NullProgress()))


def of(records: list[Resource], rtype: str, region: str | None = None) -> dict[str, Resource]:
    return {r.name: r for r in records if r.type == rtype and (region is None or r.region == region)}


def fail_json(service: str, operation: str, status: int, code: str) -> Callable[[Any], None]:
    """A client hook answering ``service:operation`` with a JSON AWS error (rest-json and json protocols)."""

    class _Body(io.BytesIO):
        def stream(self, **_: Any) -> Iterator[bytes]:
            yield self.getvalue()

    def handler(request: Any, **_: Any) -> AWSResponse:
        body = json.dumps({"__type": code, "message": "injected by the test"}).encode()
        headers = {"x-amzn-RequestId": "t", "x-amzn-ErrorType": code, "Content-Type": "application/json"}
        return AWSResponse(request.url, status, headers, _Body(body))

    def hook(session: Any) -> None:
        session.events.register(f"before-send.{service}.{operation}", handler)

    return hook


# ---------------------------------------------------------------------------------------------------------
# The seeded estate


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("app.py", "def handler(event, context):\n    return 1\n")
    return buf.getvalue()


def seed(session: Any) -> dict[str, str]:
    """Good/bad pairs of every new type in Tokyo; us-east-1 is left empty (singletons must still appear)."""
    ids: dict[str, str] = {}
    c = lambda name: session.client(name, region_name=TOKYO)  # noqa: E731
    config = c("config")
    config.put_configuration_recorder(
        ConfigurationRecorder={
            "name": "default",
            "roleARN": f"arn:aws:iam::{ACCOUNT}:role/config",
            "recordingGroup": {"allSupported": True, "includeGlobalResourceTypes": True},
        }
    )
    config.put_delivery_channel(DeliveryChannel={"name": "default", "s3BucketName": "config-bucket"})
    config.start_configuration_recorder(ConfigurationRecorderName="default")
    ids["detector"] = c("guardduty").create_detector(Enable=True)["DetectorId"]
    c("securityhub").enable_security_hub()
    c("inspector2").enable(resourceTypes=["EC2"], accountIds=[ACCOUNT])

    rds = c("rds")
    common = {
        "DBInstanceClass": "db.t3.micro",
        "MasterUsername": "app",
        "MasterUserPassword": "pw-not-secret-0",
    }
    rds.create_db_instance(DBInstanceIdentifier="db-good", Engine="postgres", AllocatedStorage=20,
                           StorageEncrypted=True, MultiAZ=True, DeletionProtection=True, BackupRetentionPeriod=7,
                           Tags=[{"Key": "Owner", "Value": "platform"}], **common)  # fmt: skip
    rds.create_db_instance(DBInstanceIdentifier="db-bad", Engine="mysql", AllocatedStorage=20,
                           PubliclyAccessible=True, BackupRetentionPeriod=0, **common)  # fmt: skip
    rds.create_db_cluster(DBClusterIdentifier="aurora-1", Engine="aurora-postgresql", MasterUsername="app",
                          MasterUserPassword="pw-not-secret-0", StorageEncrypted=True)  # fmt: skip

    ddb = c("dynamodb")
    for name in ("table-pitr", "table-plain"):
        ddb.create_table(TableName=name, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                         AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                         BillingMode="PAY_PER_REQUEST")  # fmt: skip
    ddb.update_continuous_backups(
        TableName="table-pitr", PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
    )
    efs = c("efs")
    efs.create_file_system(
        CreationToken="fs-good", Encrypted=True, Backup=True, Tags=[{"Key": "Name", "Value": "fs-good"}]
    )
    efs.create_file_system(CreationToken="fs-bad", Tags=[{"Key": "Name", "Value": "fs-bad"}])

    ec2 = c("ec2")
    vol = ec2.create_volume(AvailabilityZone=TOKYO + "a", Size=1)["VolumeId"]
    ids["snap_public"] = ec2.create_snapshot(VolumeId=vol)["SnapshotId"]
    ec2.modify_snapshot_attribute(SnapshotId=ids["snap_public"], Attribute="createVolumePermission",
                                  OperationType="add", GroupNames=["all"])  # fmt: skip
    ids["snap_private"] = ec2.create_snapshot(VolumeId=vol)["SnapshotId"]
    inst = ec2.run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    ids["image"] = ec2.create_image(InstanceId=inst, Name="public-image")["ImageId"]
    ec2.modify_image_attribute(ImageId=ids["image"], LaunchPermission={"Add": [{"Group": "all"}]})

    backup = c("backup")
    backup.create_backup_vault(BackupVaultName="vault-locked")
    backup.put_backup_vault_lock_configuration(BackupVaultName="vault-locked", MinRetentionDays=35)
    backup.create_backup_vault(BackupVaultName="vault-open")
    backup.create_backup_plan(BackupPlan={"BackupPlanName": "plan-7d", "Rules": [
        {"RuleName": "daily", "TargetBackupVaultName": "vault-open", "Lifecycle": {"DeleteAfterDays": 7}}]})  # fmt: skip
    c("secretsmanager").create_secret(Name="app/secret", SecretString=SECRET_VALUE)

    logs = c("logs")
    logs.create_log_group(logGroupName="trail-logs")
    logs.put_retention_policy(logGroupName="trail-logs", retentionInDays=400)
    logs.put_metric_filter(logGroupName="trail-logs", filterName="root", filterPattern='{ $.userIdentity.type = "Root" }',
                           metricTransformations=[{"metricName": "Root", "metricNamespace": "Sec", "metricValue": "1"}])  # fmt: skip
    topic = c("sns").create_topic(Name="alerts", Attributes={"KmsMasterKeyId": "alias/aws/sns"})["TopicArn"]
    c("cloudwatch").put_metric_alarm(AlarmName="root", MetricName="Root", Namespace="Sec", Statistic="Sum",
                                     Period=300, EvaluationPeriods=1, Threshold=1,
                                     ComparisonOperator="GreaterThanOrEqualToThreshold", AlarmActions=[topic])  # fmt: skip
    events = c("events")
    events.put_rule(Name="gd-findings", EventPattern=json.dumps({"source": ["aws.guardduty"]}))
    events.put_targets(Rule="gd-findings", Targets=[{"Id": "sns", "Arn": topic}])

    vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    subnets = [
        s["SubnetId"] for s in ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"]
    ]
    elb = c("elbv2")
    lb = elb.create_load_balancer(Name="alb-web", Subnets=subnets[:2], Scheme="internet-facing")
    ids["alb"] = lb["LoadBalancers"][0]["LoadBalancerArn"]
    elb.create_listener(LoadBalancerArn=ids["alb"], Protocol="HTTP", Port=80, DefaultActions=[
        {"Type": "redirect", "RedirectConfig": {"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"}}])  # fmt: skip
    acl = c("wafv2").create_web_acl(Name="web", Scope="REGIONAL", DefaultAction={"Allow": {}}, Rules=[],
                                    VisibilityConfig={"SampledRequestsEnabled": False,
                                                      "CloudWatchMetricsEnabled": False, "MetricName": "web"})  # fmt: skip
    c("wafv2").associate_web_acl(WebACLArn=acl["Summary"]["ARN"], ResourceArn=ids["alb"])
    ids["nlb"] = elb.create_load_balancer(
        Name="nlb-db", Subnets=subnets[:1], Scheme="internal", Type="network"
    )["LoadBalancers"][0]["LoadBalancerArn"]

    apigw = c("apigateway")
    api = apigw.create_rest_api(name="api-1")["id"]
    root = apigw.get_resources(restApiId=api)["items"][0]["id"]
    apigw.put_method(restApiId=api, resourceId=root, httpMethod="GET", authorizationType="NONE")
    apigw.put_integration(restApiId=api, resourceId=root, httpMethod="GET", type="MOCK")
    apigw.create_deployment(restApiId=api, stageName="prod", variables={"backendToken": STAGE_SECRET})
    ids["api"] = api

    role = session.client("iam").create_role(RoleName="fn", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    lam = c("lambda")
    for name, runtime in (("fn-open", "python3.8"), ("fn-closed", "python3.12")):
        lam.create_function(FunctionName=name, Runtime=runtime, Role=role, Handler="app.handler",
                            Code={"ZipFile": _zip()})  # fmt: skip
    lam.add_permission(
        FunctionName="fn-open", StatementId="anyone", Action="lambda:InvokeFunction", Principal="*"
    )
    lam.create_function_url_config(FunctionName="fn-open", AuthType="NONE")

    cf = session.client("cloudfront", region_name="us-east-1")
    ids["distribution"] = cf.create_distribution(DistributionConfig={
        "CallerReference": "cdn", "Comment": "cdn", "Enabled": True,
        "Origins": {"Quantity": 1, "Items": [{"Id": "o", "DomainName": "origin.example.com",
            "CustomOriginConfig": {"HTTPPort": 80, "HTTPSPort": 443, "OriginProtocolPolicy": "https-only"},
            "CustomHeaders": {"Quantity": 1, "Items": [{"HeaderName": "X-Origin-Verify", "HeaderValue": HEADER_SECRET}]}}]},
        "DefaultCacheBehavior": {"TargetOriginId": "o", "ViewerProtocolPolicy": "allow-all", "MinTTL": 0},
    })["Distribution"]["Id"]  # fmt: skip
    r53 = session.client("route53")
    zone = r53.create_hosted_zone(Name="mail.example", CallerReference="z1")["HostedZone"]["Id"]
    ids["zone"] = zone.rsplit("/", 1)[-1]
    r53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": [
        {"Action": "CREATE", "ResourceRecordSet": {"Name": "mail.example", "Type": "MX", "TTL": 300,
                                                   "ResourceRecords": [{"Value": "10 mx.mail.example"}]}},
        {"Action": "CREATE", "ResourceRecordSet": {"Name": "mail.example", "Type": "TXT", "TTL": 300,
                                                   "ResourceRecords": [{"Value": '"v=spf1 -all"'}]}}]})  # fmt: skip
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
        ids = seed(session)
        settings = AwsSettings(
            regions=["us-east-1", TOKYO], endpoint_url=moto_server.endpoint, max_attempts=1
        )
        yield collect(settings, resource_types=NEW_TYPES), ids
        moto_server.reset()


# ---------------------------------------------------------------------------------------------------------
# Shapes


def test_region_singletons_exist_in_every_region(estate: tuple[list[Resource], dict[str, str]]) -> None:
    records, ids = estate
    for rtype in (
        "aws.config.recorder",
        "aws.guardduty.detector",
        "aws.securityhub.hub",
        "aws.inspector2.status",
    ):
        assert sorted(r.region for r in records if r.type == rtype) == [TOKYO, "us-east-1"], rtype
    cfg = of(records, "aws.config.recorder", TOKYO)
    (tokyo,) = cfg.values()
    assert tokyo.id == f"arn:aws:config:{TOKYO}:{ACCOUNT}:configuration-recorders"
    assert tokyo.data["ConfigurationRecorders"][0]["recordingGroup"]["allSupported"] is True
    assert tokyo.data["ConfigurationRecordersStatus"][0]["recording"] is True
    assert tokyo.data["DeliveryChannels"][0]["s3BucketName"] == "config-bucket"
    (empty,) = of(records, "aws.config.recorder", "us-east-1").values()
    assert empty.data == {
        "ConfigurationRecorders": [],
        "ConfigurationRecordersStatus": [],
        "DeliveryChannels": [],
    }
    (gd,) = of(records, "aws.guardduty.detector", TOKYO).values()
    assert gd.data["DetectorIds"] == [ids["detector"]] and gd.data["Detector"]["Status"] == "ENABLED"
    assert "Administrator" in gd.data  # null: no administrator (and see expected.py on moto's answer)
    (no_gd,) = of(records, "aws.guardduty.detector", "us-east-1").values()
    assert no_gd.data == {
        "DetectorIds": [],
        "Detector": None,
        "Administrator": None,
    }  # not asked: no detector
    (hub,) = of(records, "aws.securityhub.hub", TOKYO).values()
    assert hub.id == hub.data["HubArn"] == f"arn:aws:securityhub:{TOKYO}:{ACCOUNT}:hub/default"
    (no_hub,) = of(records, "aws.securityhub.hub", "us-east-1").values()
    assert no_hub.data == {} and not no_hub.errors  # InvalidAccessException = not subscribed, not an error
    (insp,) = of(records, "aws.inspector2.status", TOKYO).values()
    assert insp.data["accounts"][0]["resourceState"]["ec2"]["status"] == "ENABLED"
    (no_insp,) = of(records, "aws.inspector2.status", "us-east-1").values()
    assert no_insp.data["accounts"] == []


def test_access_analyzer_is_an_error_on_each_region_against_moto(
    estate: tuple[list[Resource], dict[str, str]],
) -> None:
    """moto has no Access Analyzer backend: the listing fails, and its checks are ERROR per region."""
    records, _ = estate
    assert not [r for r in records if r.type == "aws.accessanalyzer.analyzers"]
    regions = [r for r in records if r.type == "aws.region"]
    for region in regions:
        errs = [e for e in region.errors if e.resource_type == "aws.accessanalyzer.analyzers"]
        assert [(e.field, e.call) for e in errs] == [("*", "accessanalyzer:ListAnalyzers")], region.region
    results = [r for r in evaluate(records, load_checks()) if r.check_id.startswith("aws.accessanalyzer.")]
    assert len(results) == 2 * len(regions) and {r.verdict for r in results} == {Verdict.ERROR}


def test_databases(estate: tuple[list[Resource], dict[str, str]]) -> None:
    records, _ = estate
    dbs = of(records, "aws.rds.db_instance")
    assert dbs["db-good"].id == f"arn:aws:rds:{TOKYO}:{ACCOUNT}:db:db-good"
    good, bad = dbs["db-good"].data, dbs["db-bad"].data
    assert (good["StorageEncrypted"], good["MultiAZ"], good["DeletionProtection"]) == (True, True, True)
    assert good["TagList"] == [{"Key": "Owner", "Value": "platform"}]
    assert (bad["PubliclyAccessible"], bad["BackupRetentionPeriod"]) == (True, 0)
    (cluster,) = of(records, "aws.rds.db_cluster").values()
    assert (
        cluster.id == f"arn:aws:rds:{TOKYO}:{ACCOUNT}:cluster:aurora-1" and cluster.data["StorageEncrypted"]
    )
    tables = of(records, "aws.dynamodb.table")
    pitr = tables["table-pitr"].data["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
    assert pitr["PointInTimeRecoveryStatus"] == "ENABLED"
    assert tables["table-plain"].id == f"arn:aws:dynamodb:{TOKYO}:{ACCOUNT}:table/table-plain"
    assert tables["table-plain"].data["TableStatus"] == "ACTIVE"  # DescribeTable merged into data
    fs = of(records, "aws.efs.file_system")
    assert fs["fs-good"].data["Encrypted"] is True and fs["fs-good"].data["BackupPolicy"] == {
        "Status": "ENABLED"
    }
    assert fs["fs-bad"].data["BackupPolicy"] is None  # PolicyNotFound = never set


def test_snapshots_and_images_only_own(estate: tuple[list[Resource], dict[str, str]]) -> None:
    records, ids = estate
    snaps = {r.data["SnapshotId"]: r for r in records if r.type == "aws.ec2.snapshot"}
    assert all(r.data["OwnerId"] == ACCOUNT for r in snaps.values())  # moto's public AMI snapshots left out
    assert snaps[ids["snap_public"]].data["CreateVolumePermissions"] == [{"Group": "all"}]
    assert snaps[ids["snap_private"]].data["CreateVolumePermissions"] == []
    assert snaps[ids["snap_public"]].id == f"arn:aws:ec2:{TOKYO}::snapshot/{ids['snap_public']}"
    images = {r.data["ImageId"]: r for r in records if r.type == "aws.ec2.image"}
    assert list(images) == [ids["image"]] and images[ids["image"]].data["Public"] is True


def test_backup_secrets_logging(estate: tuple[list[Resource], dict[str, str]]) -> None:
    records, _ = estate
    vaults = of(records, "aws.backup.vault")
    assert vaults["vault-locked"].data["Locked"] is True and not vaults["vault-open"].data.get("Locked")
    (plan,) = of(records, "aws.backup.plan").values()
    assert plan.data["BackupPlan"]["Rules"][0]["Lifecycle"]["DeleteAfterDays"] == 7
    (secret,) = of(records, "aws.secretsmanager.secret").values()
    assert secret.id.startswith(f"arn:aws:secretsmanager:{TOKYO}:{ACCOUNT}:secret:app/secret")
    assert SECRET_VALUE not in "\n".join(canonical_json(r.to_dict()) for r in records)
    (group,) = of(records, "aws.logs.log_group").values()
    assert (
        group.id == f"arn:aws:logs:{TOKYO}:{ACCOUNT}:log-group:trail-logs"
        and group.data["retentionInDays"] == 400
    )
    (mf,) = of(records, "aws.logs.metric_filter").values()
    assert (
        mf.data["logGroupName"] == "trail-logs"
        and mf.data["metricTransformations"][0]["metricName"] == "Root"
    )
    (alarm,) = of(records, "aws.cloudwatch.alarm").values()
    (topic,) = of(records, "aws.sns.topic").values()
    assert alarm.data["AlarmActions"] == [topic.id]
    assert topic.data["Attributes"]["KmsMasterKeyId"] == "alias/aws/sns"
    assert json.loads(topic.data["Attributes"]["Policy"])["Statement"]  # kept as the API's JSON string
    (rule,) = of(records, "aws.events.rule").values()
    assert json.loads(rule.data["EventPattern"]) == {"source": ["aws.guardduty"]}
    assert rule.data["Targets"][0]["Arn"] == topic.id


def test_edge_services(estate: tuple[list[Resource], dict[str, str]]) -> None:
    records, ids = estate
    lbs = of(records, "aws.elbv2.load_balancer")
    alb, nlb = lbs["alb-web"], lbs["nlb-db"]
    assert alb.id == ids["alb"] and alb.data["Listeners"][0]["DefaultActions"][0]["Type"] == "redirect"
    assert alb.data["WebACL"]["Name"] == "web" and isinstance(alb.data["Attributes"], list)
    assert nlb.data["WebACL"] is None  # not asked: only application load balancers can have one
    assert len(nlb.data["AvailabilityZones"]) == 1
    (dist,) = of(records, "aws.cloudfront.distribution").values()
    assert (
        dist.region == "global"
        and dist.id == f"arn:aws:cloudfront::{ACCOUNT}:distribution/{ids['distribution']}"
    )
    assert dist.data["DefaultCacheBehavior"]["ViewerProtocolPolicy"] == "allow-all"
    assert "data.Origins.Items[0].CustomHeaders.Items[0].HeaderValue" in dist.redactions
    (api,) = of(records, "aws.apigateway.rest_api").values()
    assert api.id == f"arn:aws:apigateway:{TOKYO}::/restapis/{ids['api']}"
    assert [s["stageName"] for s in api.data["Stages"]] == ["prod"]
    assert "data.Stages[0].variables.backendToken" in api.redactions
    text = "\n".join(canonical_json(r.to_dict()) for r in records)
    assert HEADER_SECRET not in text and STAGE_SECRET not in text
    (zone,) = of(records, "aws.route53.hosted_zone").values()
    assert zone.id == f"arn:aws:route53:::hostedzone/{ids['zone']}" and zone.region == "global"
    assert {r["Type"] for r in zone.data["ResourceRecordSets"]} >= {"MX", "TXT", "NS", "SOA"}


def test_lambda_policy_and_url(estate: tuple[list[Resource], dict[str, str]]) -> None:
    records, _ = estate
    fns = of(records, "aws.lambda.function")
    assert fns["fn-open"].data["Policy"]["Statement"][0]["Principal"] == "*"
    assert fns["fn-open"].data["FunctionUrlConfig"]["AuthType"] == "NONE"
    assert fns["fn-closed"].data["Policy"] is None and fns["fn-closed"].data["FunctionUrlConfig"] is None


def test_checks_on_the_new_types_give_pass_and_fail(estate: tuple[list[Resource], dict[str, str]]) -> None:
    records, _ = estate
    verdicts: dict[str, set[Verdict]] = {}
    for r in evaluate(records, load_checks()):
        verdicts.setdefault(r.check_id, set()).add(r.verdict)
    both = [c for c, v in verdicts.items() if {Verdict.PASS, Verdict.FAIL} <= v]
    assert len(both) >= 15, sorted(both)


# ---------------------------------------------------------------------------------------------------------
# Error paths


def test_detail_denied_is_an_error_on_that_field(moto_endpoint: str, aws_settings: AwsSettings) -> None:
    role = boto3.client("iam").create_role(RoleName="fn", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    boto3.client("lambda", region_name=TOKYO).create_function(
        FunctionName="fn", Runtime="python3.12", Role=role, Handler="app.handler", Code={"ZipFile": _zip()}
    )
    hook = fail_json("lambda", "GetPolicy", 403, "AccessDeniedException")
    records = collect(aws_settings, [hook], resource_types={"aws.lambda.function"})
    (fn,) = of(records, "aws.lambda.function").values()
    assert [(e.field, e.call, e.code) for e in fn.errors] == [
        ("Policy", "lambda:GetPolicy", "AccessDeniedException")
    ]
    assert "Policy" not in fn.data and fn.data["FunctionUrlConfig"] is None
    results = {r.check_id: r for r in evaluate(records, load_checks()) if r.resource_id == fn.id}
    assert results["aws.lambda.function_policy_not_public"].verdict is Verdict.ERROR
    assert results["aws.lambda.function_runtime_supported"].verdict is Verdict.PASS


def test_singleton_listing_denied_is_an_error_not_a_fail(
    moto_endpoint: str, aws_settings: AwsSettings
) -> None:
    """Only InvalidAccessException means "not subscribed"; AccessDenied leaves Security Hub unknown (ERROR)."""
    hook = fail_json("securityhub", "DescribeHub", 403, "AccessDeniedException")
    records = collect(aws_settings, [hook], resource_types={"aws.securityhub.hub"})
    assert not of(records, "aws.securityhub.hub")
    for region in (r for r in records if r.type == "aws.region"):
        assert [(e.call, e.code) for e in region.errors if e.resource_type == "aws.securityhub.hub"] == [
            ("securityhub:DescribeHub", "AccessDeniedException")
        ]
    results = [r for r in evaluate(records, load_checks()) if r.check_id == "aws.securityhub.hub_enabled"]
    assert len(results) == 2 and {r.verdict for r in results} == {Verdict.ERROR}


def test_secret_values_are_never_requested(moto_endpoint: str, aws_settings: AwsSettings) -> None:
    boto3.client("secretsmanager", region_name=TOKYO).create_secret(Name="s", SecretString=SECRET_VALUE)
    sent: list[str] = []

    def hook(session: Any) -> None:
        session.events.register(
            "before-send.secretsmanager.*", lambda request, **kw: sent.append(kw["event_name"])
        )

    records = collect(aws_settings, [hook], resource_types={"aws.secretsmanager.secret"})
    assert of(records, "aws.secretsmanager.secret")
    assert sent and all(e.endswith(".ListSecrets") for e in sent)
