"""Seed the issue-3 services of the demo estate (:class:`~ismap_scan.demo.aws.estate.Services`) into moto.

Called by :mod:`ismap_scan.demo.aws.seed` with its running seeder (session, created IDs, request counter):
log groups before the trails (the organization trail delivers to one), function URLs and policies with each
function, and everything else after Lambda. Like the rest of seeding this is setup of a fake cloud: write
calls, fake credentials, never the scanner's guard.

moto shortcuts, each marked where used: Secrets Manager rotation is switched on without a rotation function
(AWS requires one; moto applies the schedule without invoking anything), and CloudFront accepts a web ACL ARN
that no WAF call created.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from .estate import (
    SECURITY_EVENT_PATTERNS,
    SINGLETONS,
    DbInstanceSpec,
    FunctionSpec,
    LoadBalancerSpec,
)

if TYPE_CHECKING:
    from .seed import _Seeder

#: Strong and weak ELB security policies (elasticloadbalancing:DescribeSSLPolicies names).
_TLS13_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"
_OLD_POLICY = "ELBSecurityPolicy-2016-08"
_NAMESPACE = "JpSaas/Security"


class ServiceSeeder:
    """Seeds :attr:`Estate.services` through the parent seeder's clients (``seeder.client(service, region)``)."""

    def __init__(self, seeder: _Seeder) -> None:
        self.s = seeder
        self.services = seeder.estate.services
        self.account = seeder.account_id

    # -- hooks called from seed.py at the right moment

    def seed_log_groups(self) -> None:
        """Log groups (retention, KMS) and, on the trail's group, one metric filter per security event."""
        for g in self.services.log_groups:
            region = self.s.region(g.role)
            logs = self.s.client("logs", region)
            kwargs: dict[str, Any] = {"logGroupName": g.name}
            if g.kms_alias:
                kwargs["kmsKeyId"] = self.s.key_arns[g.kms_alias]
            logs.create_log_group(**kwargs)
            if g.retention_days:
                logs.put_retention_policy(logGroupName=g.name, retentionInDays=g.retention_days)
            arn = f"arn:aws:logs:{region}:{self.account}:log-group:{g.name}"
            self.s.add(g.name, "aws.logs.log_group", region, arn, g.name)
            if g.name == self.services.trail_log_group:
                for event, pattern in SECURITY_EVENT_PATTERNS.items():
                    logs.put_metric_filter(
                        logGroupName=g.name,
                        filterName=event,
                        filterPattern=pattern,
                        metricTransformations=[
                            {"metricName": event, "metricNamespace": _NAMESPACE, "metricValue": "1"}
                        ],
                    )

    def trail_log_delivery(self, region: str) -> dict[str, str]:
        """``CreateTrail`` arguments delivering to the trail log group (a role for CloudTrail is created once)."""
        group = next(g for g in self.services.log_groups if g.name == self.services.trail_log_group)
        iam = self.s.client("iam")
        role = "jp-saas-cloudtrail-to-logs"
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "cloudtrail.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
        role_arn = iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
        self.s.add(role, "aws.iam.role", "global", role_arn, role)
        group_region = self.s.region(group.role)
        return {
            "CloudWatchLogsLogGroupArn": f"arn:aws:logs:{group_region}:{self.account}:log-group:{group.name}:*",
            "CloudWatchLogsRoleArn": role_arn,
        }

    def function_exposure(self, f: FunctionSpec, region: str) -> None:
        """A function URL and a public resource policy statement where the spec asks for them."""
        lam = self.s.client("lambda", region)
        if f.url_auth:
            lam.create_function_url_config(FunctionName=f.name, AuthType=f.url_auth)
        if f.public_policy:
            lam.add_permission(
                FunctionName=f.name,
                StatementId="AnyoneMayInvoke",
                Action="lambda:InvokeFunction",
                Principal="*",
            )

    # -- the rest, after Lambda

    def run(self) -> None:
        """Seed every remaining service group; raises botocore errors unchanged (a seeding bug)."""
        topics = self.seed_topics()
        self.seed_regions(topics)
        self.seed_databases()
        self.seed_storage()
        self.seed_backup_and_secrets()
        self.seed_edge()
        self.seed_dns()

    def seed_topics(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for t in self.services.topics:
            region = self.s.region(t.role)
            sns = self.s.client("sns", region)
            attrs = {"KmsMasterKeyId": "alias/aws/sns"} if t.kms else {}
            arn = sns.create_topic(Name=t.name, Attributes=attrs)["TopicArn"]
            if t.public:
                policy = {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "AnyonePublishes",
                            "Effect": "Allow",
                            "Principal": "*",
                            "Action": "SNS:Publish",
                            "Resource": arn,
                        }
                    ],
                }
                sns.set_topic_attributes(
                    TopicArn=arn, AttributeName="Policy", AttributeValue=json.dumps(policy)
                )
            out[t.name] = arn
            self.s.add(t.name, "aws.sns.topic", region, arn, t.name)
        return out

    def seed_regions(self, topics: dict[str, str]) -> None:
        """Config, GuardDuty, Security Hub, Inspector per region role; alarms on the trail's metric filters."""
        alerts = topics[self.services.alerts_topic]
        for spec in self.services.regions:
            region = self.s.region(spec.role)
            for prefix, (rtype, template) in SINGLETONS.items():
                rid = template.format(region=region, account=self.account)
                self.s.add(f"{prefix}@{spec.role}", rtype, region, rid, rid)
            config = self.s.client("config", region)
            role_arn = f"arn:aws:iam::{self.account}:role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig"
            if spec.config == "all":
                config.put_configuration_recorder(
                    ConfigurationRecorder={
                        "name": "default",
                        "roleARN": role_arn,
                        "recordingGroup": {
                            "allSupported": True,
                            "includeGlobalResourceTypes": spec.role == "primary",
                        },
                    }
                )
                config.put_delivery_channel(
                    DeliveryChannel={"name": "default", "s3BucketName": "jp-saas-prod-logs"}
                )
                config.start_configuration_recorder(ConfigurationRecorderName="default")
            elif spec.config == "stopped":
                config.put_configuration_recorder(
                    ConfigurationRecorder={
                        "name": "default",
                        "roleARN": role_arn,
                        "recordingGroup": {"allSupported": False, "resourceTypes": ["AWS::EC2::Instance"]},
                    }
                )
            gd = self.s.client("guardduty", region)
            if spec.guardduty != "none":
                gd.create_detector(Enable=spec.guardduty != "disabled")
            if spec.guardduty == "admin":
                # What a member account of a delegated administrator has on AWS. moto 5.2.5 keeps it but
                # answers GetAdministratorAccount with keys botocore does not parse (see expected.py).
                gd.enable_organization_admin_account(AdminAccountId=self.services.guardduty_admin)
            if spec.findings_rule:
                events = self.s.client("events", region)
                events.put_rule(
                    Name="jp-saas-guardduty-findings",
                    EventPattern=json.dumps(
                        {"source": ["aws.guardduty"], "detail-type": ["GuardDuty Finding"]}
                    ),
                    State="ENABLED",
                )
                events.put_targets(
                    Rule="jp-saas-guardduty-findings", Targets=[{"Id": "security-alerts", "Arn": alerts}]
                )
            if spec.securityhub:
                self.s.client("securityhub", region).enable_security_hub(EnableDefaultStandards=True)
            if spec.inspector_ec2:
                self.s.client("inspector2", region).enable(resourceTypes=["EC2"], accountIds=[self.account])
        group = next(g for g in self.services.log_groups if g.name == self.services.trail_log_group)
        cw = self.s.client("cloudwatch", self.s.region(group.role))
        for event in SECURITY_EVENT_PATTERNS:
            cw.put_metric_alarm(
                AlarmName=f"jp-saas-{event}",
                MetricName=event,
                Namespace=_NAMESPACE,
                Statistic="Sum",
                Period=300,
                EvaluationPeriods=1,
                Threshold=1,
                ComparisonOperator="GreaterThanOrEqualToThreshold",
                AlarmActions=[alerts],
            )

    def seed_databases(self) -> None:
        for c in self.services.db_clusters:
            region = self.s.region(c.role)
            arn = self.s.client("rds", region).create_db_cluster(
                DBClusterIdentifier=c.name,
                Engine="aurora-postgresql",
                MasterUsername="jpsaas",
                MasterUserPassword="demo-not-a-secret-0",
                StorageEncrypted=c.encrypted,
                DeletionProtection=c.deletion_protection,
                BackupRetentionPeriod=c.backup_days,
            )["DBCluster"]["DBClusterArn"]
            self.s.add(c.name, "aws.rds.db_cluster", region, arn, c.name)
        for d in self.services.db_instances:
            self._db_instance(d)
        for t in self.services.tables:
            region = self.s.region(t.role)
            ddb = self.s.client("dynamodb", region)
            kwargs: dict[str, Any] = {
                "TableName": t.name,
                "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
                "BillingMode": "PAY_PER_REQUEST",
            }
            if t.kms:
                kwargs["SSESpecification"] = {"Enabled": True, "SSEType": "KMS"}
            arn = ddb.create_table(**kwargs)["TableDescription"]["TableArn"]
            if t.pitr:
                ddb.update_continuous_backups(
                    TableName=t.name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
                )
            self.s.add(t.name, "aws.dynamodb.table", region, arn, t.name)

    def _db_instance(self, d: DbInstanceSpec) -> None:
        region = self.s.region(d.role)
        kwargs: dict[str, Any] = {
            "DBInstanceIdentifier": d.name,
            "DBInstanceClass": "db.t3.medium",
            "Engine": d.engine,
            "PubliclyAccessible": d.public,
            "AutoMinorVersionUpgrade": d.auto_minor,
        }
        if d.owner:
            kwargs["Tags"] = [{"Key": "Owner", "Value": d.owner}]
        if d.cluster:
            kwargs["DBClusterIdentifier"] = d.cluster
        else:
            kwargs.update(
                MasterUsername="jpsaas",
                MasterUserPassword="demo-not-a-secret-0",
                AllocatedStorage=20,
                StorageEncrypted=d.encrypted,
                BackupRetentionPeriod=d.backup_days,
                DeletionProtection=d.deletion_protection,
                MultiAZ=d.multi_az,
            )
        arn = self.s.client("rds", region).create_db_instance(**kwargs)["DBInstance"]["DBInstanceArn"]
        self.s.add(d.name, "aws.rds.db_instance", region, arn, d.name)

    def seed_storage(self) -> None:
        """EFS file systems, EBS snapshots of estate volumes, AMIs of estate instances."""
        for f in self.services.file_systems:
            region = self.s.region(f.role)
            fs = self.s.client("efs", region).create_file_system(
                CreationToken=f.name,
                Encrypted=f.encrypted,
                Backup=f.backup,
                Tags=[{"Key": "Name", "Value": f.name}],
            )
            self.s.add(f.name, "aws.efs.file_system", region, fs["FileSystemArn"], fs["FileSystemId"])
        volumes = {v.name: v for v in self.s.estate.volumes}
        for snap in self.services.snapshots:
            region = self.s.region(volumes[snap.volume].role)
            ec2 = self.s.client("ec2", region)
            sid = ec2.create_snapshot(
                VolumeId=self.s.volume_ids[snap.volume],
                TagSpecifications=[
                    {"ResourceType": "snapshot", "Tags": [{"Key": "Name", "Value": snap.name}]}
                ],
            )["SnapshotId"]
            if snap.public:
                ec2.modify_snapshot_attribute(
                    SnapshotId=sid,
                    Attribute="createVolumePermission",
                    OperationType="add",
                    GroupNames=["all"],
                )
            self.s.add(snap.name, "aws.ec2.snapshot", region, f"arn:aws:ec2:{region}::snapshot/{sid}", sid)
        instances = {i.name: i for i in self.s.estate.instances}
        for img in self.services.images:
            region = self.s.region(instances[img.instance].role)
            ec2 = self.s.client("ec2", region)
            image_id = ec2.create_image(InstanceId=self.s.instance_ids[img.instance], Name=img.name)[
                "ImageId"
            ]
            if img.public:
                ec2.modify_image_attribute(ImageId=image_id, LaunchPermission={"Add": [{"Group": "all"}]})
            self.s.add(img.name, "aws.ec2.image", region, f"arn:aws:ec2:{region}::image/{image_id}", image_id)

    def seed_backup_and_secrets(self) -> None:
        for v in self.services.vaults:
            region = self.s.region(v.role)
            backup = self.s.client("backup", region)
            arn = backup.create_backup_vault(BackupVaultName=v.name)["BackupVaultArn"]
            if v.locked:
                backup.put_backup_vault_lock_configuration(BackupVaultName=v.name, MinRetentionDays=35)
            self.s.add(v.name, "aws.backup.vault", region, arn, v.name)
        for p in self.services.plans:
            region = self.s.region(p.role)
            plan = self.s.client("backup", region).create_backup_plan(
                BackupPlan={
                    "BackupPlanName": p.name,
                    "Rules": [
                        {
                            "RuleName": "daily",
                            "TargetBackupVaultName": p.vault,
                            "ScheduleExpression": "cron(0 17 * * ? *)",
                            "Lifecycle": {"DeleteAfterDays": p.delete_after_days},
                        }
                    ],
                }
            )
            self.s.add(p.name, "aws.backup.plan", region, plan["BackupPlanArn"], plan["BackupPlanId"])
        for sec in self.services.secrets:
            region = self.s.region(sec.role)
            sm = self.s.client("secretsmanager", region)
            arn = sm.create_secret(Name=sec.name, SecretString="demo-fake-secret-value-0000")["ARN"]
            if sec.rotation_days:
                # moto shortcut: AWS needs RotationLambdaARN; moto applies the schedule without one.
                sm.rotate_secret(
                    SecretId=sec.name,
                    RotationRules={"AutomaticallyAfterDays": sec.rotation_days},
                    RotateImmediately=False,
                )
            self.s.add(sec.name, "aws.secretsmanager.secret", region, arn, sec.name)

    def seed_edge(self) -> None:
        """Load balancers (with certificates and a regional web ACL), REST APIs, CloudFront distributions."""
        acls: dict[str, str] = {}

        def web_acl(region: str) -> str:
            if region not in acls:
                acls[region] = self.s.client("wafv2", region).create_web_acl(
                    Name="jp-saas-web",
                    Scope="REGIONAL",
                    DefaultAction={"Allow": {}},
                    VisibilityConfig={
                        "SampledRequestsEnabled": True,
                        "CloudWatchMetricsEnabled": True,
                        "MetricName": "jp-saas-web",
                    },
                    Rules=[],
                )["Summary"]["ARN"]
            return acls[region]

        for lb in self.services.load_balancers:
            self._load_balancer(lb, web_acl)
        for api in self.services.apis:
            region = self.s.region(api.role)
            apigw = self.s.client("apigateway", region)
            api_id = apigw.create_rest_api(name=api.name, endpointConfiguration={"types": ["REGIONAL"]})["id"]
            root = apigw.get_resources(restApiId=api_id)["items"][0]["id"]
            apigw.put_method(restApiId=api_id, resourceId=root, httpMethod="GET", authorizationType="AWS_IAM")
            apigw.put_integration(restApiId=api_id, resourceId=root, httpMethod="GET", type="MOCK")
            apigw.create_deployment(restApiId=api_id, stageName="prod")
            if api.access_logs:
                group = f"arn:aws:logs:{region}:{self.account}:log-group:{self.services.trail_log_group}"
                apigw.update_stage(
                    restApiId=api_id,
                    stageName="prod",
                    patchOperations=[
                        {"op": "replace", "path": "/accessLogSettings/destinationArn", "value": group},
                        {"op": "replace", "path": "/accessLogSettings/format", "value": "$context.requestId"},
                    ],
                )
            if api.waf:
                stage_arn = f"arn:aws:apigateway:{region}::/restapis/{api_id}/stages/prod"
                self.s.client("wafv2", region).associate_web_acl(
                    WebACLArn=web_acl(region), ResourceArn=stage_arn
                )
            arn = f"arn:aws:apigateway:{region}::/restapis/{api_id}"
            self.s.add(api.name, "aws.apigateway.rest_api", region, arn, api_id)
        cf = self.s.client("cloudfront", self.s.region("tertiary"))
        for d in self.services.distributions:
            config: dict[str, Any] = {
                "CallerReference": d.name,
                "Comment": d.name,
                "Enabled": True,
                "Origins": {
                    "Quantity": 1,
                    "Items": [
                        {
                            "Id": "origin",
                            "DomainName": "origin.jp-saas.example",
                            "CustomOriginConfig": {
                                "HTTPPort": 80,
                                "HTTPSPort": 443,
                                "OriginProtocolPolicy": "https-only",
                            },
                        }
                    ],
                },
                "DefaultCacheBehavior": {
                    "TargetOriginId": "origin",
                    "ViewerProtocolPolicy": d.viewer_policy,
                    "MinTTL": 0,
                },
                "ViewerCertificate": {
                    "CloudFrontDefaultCertificate": False,
                    "ACMCertificateArn": f"arn:aws:acm:us-east-1:{self.account}:certificate/{d.name}",
                    "SSLSupportMethod": "sni-only",
                    "MinimumProtocolVersion": d.min_tls,
                },
            }
            if d.waf:
                # moto shortcut: CloudFront does not check that the global web ACL exists.
                config["WebACLId"] = f"arn:aws:wafv2:us-east-1:{self.account}:global/webacl/jp-saas-edge/demo"
            dist = cf.create_distribution(DistributionConfig=config)["Distribution"]
            self.s.add(d.name, "aws.cloudfront.distribution", "global", dist["ARN"], dist["Id"])

    def _load_balancer(self, lb: LoadBalancerSpec, web_acl: Any) -> None:
        region = self.s.region(lb.role)
        ec2 = self.s.client("ec2", region)
        vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
        subnets = ec2.describe_subnets(Filters=[{"Name": "default-for-az", "Values": ["true"]}])["Subnets"]
        subnet_ids = [sn["SubnetId"] for sn in sorted(subnets, key=lambda x: x["AvailabilityZone"])][
            : lb.zones
        ]
        elb = self.s.client("elbv2", region)
        arn = elb.create_load_balancer(Name=lb.name, Subnets=subnet_ids, Scheme=lb.scheme, Type=lb.type)[
            "LoadBalancers"
        ][0]["LoadBalancerArn"]
        protocol = "TCP" if lb.listeners == "tcp" else "HTTP"
        tg = elb.create_target_group(
            Name=lb.name[:24] + "-tg", Protocol=protocol, Port=5432 if protocol == "TCP" else 80, VpcId=vpc
        )["TargetGroups"][0]["TargetGroupArn"]
        forward = [{"Type": "forward", "TargetGroupArn": tg}]
        if lb.listeners == "tcp":
            elb.create_listener(LoadBalancerArn=arn, Protocol="TCP", Port=5432, DefaultActions=forward)
        else:
            cert = self.s.client("acm", region).request_certificate(DomainName=f"{lb.name}.jp-saas.example")[
                "CertificateArn"
            ]
            strong = lb.listeners == "https+redirect"
            elb.create_listener(
                LoadBalancerArn=arn,
                Protocol="HTTPS",
                Port=443,
                SslPolicy=_TLS13_POLICY if strong else _OLD_POLICY,
                Certificates=[{"CertificateArn": cert}],
                DefaultActions=forward,
            )
            http_action = (
                [
                    {
                        "Type": "redirect",
                        "RedirectConfig": {"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"},
                    }
                ]
                if strong
                else forward
            )
            elb.create_listener(LoadBalancerArn=arn, Protocol="HTTP", Port=80, DefaultActions=http_action)
        if lb.waf:
            self.s.client("wafv2", region).associate_web_acl(WebACLArn=web_acl(region), ResourceArn=arn)
        self.s.add(lb.name, "aws.elbv2.load_balancer", region, arn, lb.name)

    def seed_dns(self) -> None:
        r53 = self.s.client("route53", self.s.region("tertiary"))
        for z in self.services.zones:
            zone_id = r53.create_hosted_zone(Name=z.name, CallerReference=z.name)["HostedZone"]["Id"]
            changes = [self._rrset(z.name, "A", "192.0.2.10")]
            if z.mx:
                changes.append(self._rrset(z.name, "MX", f"10 mail.{z.name}"))
            if z.spf:
                changes.append(self._rrset(z.name, "TXT", '"v=spf1 include:_spf.mail.jp-saas.example -all"'))
            if z.dmarc_policy:
                changes.append(
                    self._rrset(
                        f"_dmarc.{z.name}",
                        "TXT",
                        f'"v=DMARC1; p={z.dmarc_policy}; rua=mailto:dmarc@{z.name}"',
                    )
                )
            r53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={"Changes": changes})
            short = zone_id.rsplit("/", 1)[-1]
            self.s.add(
                z.name, "aws.route53.hosted_zone", "global", f"arn:aws:route53:::hostedzone/{short}", short
            )

    @staticmethod
    def _rrset(name: str, rtype: str, value: str) -> dict[str, Any]:
        return {
            "Action": "CREATE",
            "ResourceRecordSet": {
                "Name": name,
                "Type": rtype,
                "TTL": 300,
                "ResourceRecords": [{"Value": value}],
            },
        }
