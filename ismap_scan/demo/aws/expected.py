"""Ground truth for the demo estate: the verdict each check must give for the resources seeded on purpose.

:data:`EXPECTED` is ``{check_id: {logical_name: verdict}}``. Logical names are the keys of
:attr:`ismap_scan.demo.aws.seed.SeedReport.resources` (which maps them to snapshot record IDs): resource names
for named things, ``account``, ``region-<role>``, ``default-vpc-<role>``, ``default-sg@<vpc name>`` and
``<instance>-root`` for root volumes. Resources moto makes on its own (default subnets, etc.) are not listed.

The verdicts were written from the estate's settings (:mod:`ismap_scan.demo.aws.estate`) and the check
definitions in ``checks/aws/`` and :mod:`ismap_scan.pychecks`, not from a scan's output.

Account-level checks see one account, so they give one verdict each in the demo:

* FAIL only: ``aws.iam.root_mfa_enabled`` (moto reports ``AccountMFAEnabled`` 0 and has no API to give root
  an MFA device), ``aws.iam.password_policy_strong`` and ``aws.iam.password_policy_reuse_prevented`` (the
  seeded policy is deliberately weak: 8 characters, no symbols, reuse 5),
  ``aws.s3.account_public_access_blocked`` (only BlockPublicAcls is on, so the per-bucket settings decide).
* PASS only: ``aws.iam.root_access_keys_absent`` (moto reports ``AccountAccessKeysPresent`` 0 and there is no
  API to create root keys), ``aws.cloudtrail.multi_region_trail_logging`` (one logging multi-region trail).
* ERROR only: ``aws.iam.root_not_recently_used`` (moto's credential report has no ``<root_account>`` row,
  so the collector records a ``RootRowMissing`` error and the check cannot judge; on AWS it would PASS/FAIL).
* ``aws.ec2.ebs_encryption_by_default_enabled`` is per region: PASS in the primary region, FAIL elsewhere.
* Region-wide services (Config, GuardDuty, Security Hub, Inspector) have one record per region, named
  ``<service>@<role>``; the Access Analyzer checks are ERROR in every region because moto has no Access
  Analyzer backend (the failed listing is recorded on the region record, so the ERROR is on ``region-<role>``).
* Data-location verdicts assume the default regions (``seed.DEFAULT_REGIONS``: the tertiary role is us-east-1,
  outside the allowed Tokyo and Osaka).

Checks with no seeded NOT_APPLICABLE case have no ``applies`` (or every seeded resource is in scope).
"""

from __future__ import annotations

from typing import Final

from .estate import build_estate

PASS: Final = "PASS"
FAIL: Final = "FAIL"
NA: Final = "NOT_APPLICABLE"
ERROR: Final = "ERROR"

_USERS = (
    "tanaka.hiroshi",
    "suzuki.yuki",
    "sato.kenji",
    "watanabe.aiko",
    "takahashi.contractor",
    "ci-deploy",
    "legacy-batch",
    "yamamoto.retired",
    "kobayashi.mai",
)
_BUCKETS = (
    "jp-saas-prod-logs",
    "jp-saas-prod-customer-data",
    "jp-saas-prod-static-assets",
    "jp-saas-stg-uploads",
    "jp-saas-osaka-access-logs",
    "jp-saas-dr-backup-osaka",
    "jp-saas-cloudtrail-audit",
    "jp-saas-dev-sandbox",
    "jp-saas-marketing-site",
)
_SGS = (
    "jp-saas-prod-web-sg",
    "jp-saas-prod-bastion-sg",
    "jp-saas-prod-db-sg",
    "jp-saas-prod-internal-ssh-sg",
    "jp-saas-legacy-rdp-sg",
    "jp-saas-stg-mysql-sg",
    "jp-saas-stg-cache-sg",
    "jp-saas-dev-debug-all-sg",
    "jp-saas-dev-app-sg",
)
_DEFAULT_SGS = (
    "default-sg@jp-saas-prod-vpc",  # every rule removed
    "default-sg@jp-saas-stg-vpc",
    "default-sg@jp-saas-dev-vpc",
    "default-sg@default-vpc-primary",
    "default-sg@default-vpc-secondary",
    "default-sg@default-vpc-tertiary",
)
_INSTANCES = (
    "jp-saas-prod-api-1",
    "jp-saas-prod-bastion",
    "jp-saas-legacy-report",
    "jp-saas-stg-worker",
    "jp-saas-dev-old-ci",
)
_VPCS = (
    "jp-saas-prod-vpc",
    "jp-saas-stg-vpc",
    "jp-saas-dev-vpc",
    "default-vpc-primary",
    "default-vpc-secondary",
    "default-vpc-tertiary",
)
_TRAILS = ("jp-saas-org-audit", "jp-saas-stg-trail")
_KEYS = (
    "alias/jp-saas-prod-data",
    "alias/jp-saas-legacy",
    "alias/jp-saas-token-signing",
    "alias/jp-saas-partner-share",
    "alias/jp-saas-retired",
)


# -- issue 3 services (estate.Services), in the order of their estate lists
_REGIONS = ("region-primary", "region-secondary", "region-tertiary")
_FUNCTIONS = ("jp-saas-invoice-renderer", "jp-saas-webhook-relay", "jp-saas-legacy-cron")
_DB_INSTANCES = ("jp-saas-prod-db", "jp-saas-legacy-mysql", "jp-saas-dev-db", "jp-saas-aurora-1")
_DB_CLUSTERS = ("jp-saas-aurora", "jp-saas-analytics")
_TABLES = ("jp-saas-sessions", "jp-saas-events-archive")
_FILE_SYSTEMS = ("jp-saas-shared-files", "jp-saas-scratch-fs")
_SNAPSHOTS = ("jp-saas-db-data-snap", "jp-saas-scratch-snap-shared")
_IMAGES = ("jp-saas-api-golden-ami", "jp-saas-report-public-ami")
_VAULTS = ("jp-saas-vault-locked", "jp-saas-vault-osaka")
_PLANS = ("jp-saas-daily-35d", "jp-saas-weekly-7d")
_SECRETS = ("jp-saas/prod/db-app", "jp-saas/partner/api-key")
_LOG_GROUPS = ("jp-saas-cloudtrail", "/aws/lambda/jp-saas-invoice-renderer")
_TOPICS = ("jp-saas-security-alerts", "jp-saas-public-webhooks")
_LOAD_BALANCERS = ("jp-saas-prod-alb", "jp-saas-legacy-alb", "jp-saas-stg-db-nlb")
_DISTRIBUTIONS = ("jp-saas-cdn", "jp-saas-legacy-cdn")
_APIS = ("jp-saas-public-api", "jp-saas-partner-api")
_ZONES = ("jp-saas.example", "jp-saas-legacy.example", "jp-saas-static.example")
_VOLUMES = (
    "jp-saas-prod-db-data",
    "jp-saas-prod-legacy-scratch",
    "jp-saas-dr-db-data",
    "jp-saas-stg-scratch",
    "jp-saas-dev-build-cache",
    "jp-saas-prod-api-1-root",
    "jp-saas-prod-bastion-root",
    "jp-saas-legacy-report-root",
    "jp-saas-stg-worker-root",
)


def _per_region(service: str) -> tuple[str, ...]:
    return tuple(f"{service}@{role}" for role in ("primary", "secondary", "tertiary"))


def _row(names: tuple[str, ...], verdicts: str) -> dict[str, str]:
    """Zip names with a compact verdict string: P(ASS), F(AIL), N(OT_APPLICABLE), E(RROR)."""
    codes = {"P": PASS, "F": FAIL, "N": NA, "E": ERROR}
    if len(names) != len(verdicts):
        raise ValueError(f"{len(names)} names but {len(verdicts)} verdicts: {verdicts!r}")
    return {n: codes[v] for n, v in zip(names, verdicts, strict=True)}


#: The ground truth. The compact strings follow the order of the name tuples above; the comments say why.
EXPECTED: Final[dict[str, dict[str, str]]] = {
    # -- account (one verdict each; see the module docstring)
    "aws.iam.root_mfa_enabled": {"account": FAIL},
    "aws.iam.root_access_keys_absent": {"account": PASS},
    # moto's credential report has no <root_account> row: the collector records RootRowMissing
    "aws.iam.root_not_recently_used": {"account": ERROR},
    "aws.iam.password_policy_strong": {"account": FAIL},  # length 8 < 14, no symbols
    "aws.iam.password_policy_reuse_prevented": {"account": FAIL},  # 5 < 24
    "aws.s3.account_public_access_blocked": {"account": FAIL},  # only BlockPublicAcls
    "aws.cloudtrail.multi_region_trail_logging": {"account": PASS},  # jp-saas-org-audit
    # -- IAM users            tanaka suzuki sato watanabe takahashi ci-deploy legacy yamamoto kobayashi
    # console users only; MFA on tanaka, sato, watanabe, yamamoto
    "aws.iam.user_console_mfa_enabled": _row(_USERS, "PFPPFNNPN"),
    # active keys: tanaka (10 days), ci-deploy (200 days), legacy-batch (120 days); kobayashi's is inactive
    "aws.iam.user_access_keys_rotated": _row(_USERS, "PNNNNFFNN"),
    # ci-deploy: key never used, created 200 days ago; yamamoto: password last used 120 days ago;
    # legacy-batch: old key but used today; new console passwords count from their creation
    "aws.iam.user_credentials_recently_used": _row(_USERS, "PPPPPFPFN"),
    # suzuki (customer policy), sato (AdministratorAccess), takahashi and ci-deploy (inline)
    "aws.iam.user_no_direct_policies": _row(_USERS, "PFFPFFPPP"),
    # sato (AdministratorAccess attached), watanabe (ops-admins group), takahashi (inline * on *)
    "aws.iam.user_no_admin_privileges": _row(_USERS, "PPFFFPPPP"),
    # -- S3  logs customer-data static-assets stg-uploads osaka-logs dr-backup cloudtrail sandbox marketing
    # the account block is BlockPublicAcls only: each bucket needs its own full block (marketing: no Restrict)
    "aws.s3.bucket_public_access_blocked": _row(_BUCKETS, "PPFFPPPFF"),
    # static-assets: public policy; stg-uploads: public-read ACL; dev-sandbox: authenticated-read ACL
    # (osaka-logs' log-delivery-write ACL grants the LogDelivery group, which is not public)
    "aws.s3.bucket_not_publicly_accessible": _row(_BUCKETS, "PPFFPPPFP"),
    "aws.s3.bucket_default_encryption_enabled": _row(_BUCKETS, "PPPFPPPFP"),
    # static-assets is Suspended (not Enabled)
    "aws.s3.bucket_versioning_enabled": _row(_BUCKETS, "PPFFFPPFF"),
    "aws.s3.bucket_access_logging_enabled": _row(_BUCKETS, "FPPFFPFFF"),
    "aws.s3.bucket_secure_transport_required": _row(_BUCKETS, "PPFFFPPFP"),
    # -- EC2 security groups   web bastion db internal-ssh rdp mysql cache debug-all dev-app
    # bastion 22 from 0.0.0.0/0; rdp 3389 from ::/0; debug-all protocol -1 from 0.0.0.0/0
    "aws.ec2.security_group_no_public_admin_ports": {
        **_row(_SGS, "PFPPFPPFP"),
        **_row(_DEFAULT_SGS, "PPPPPP"),
    },
    # mysql 3306 from 0.0.0.0/0; cache 6000-7000 (covers 6379) from ::/0; debug-all everything;
    # db-sg's 5432 is from a security group and 10.0.0.0/16 only
    "aws.ec2.security_group_no_public_database_ports": {
        **_row(_SGS, "PPPPPFFFP"),
        **_row(_DEFAULT_SGS, "PPPPPP"),
    },
    # only the prod VPC's default group had its rules removed; moto's default groups allow all egress
    "aws.ec2.default_security_group_restricts_all_traffic": {
        **_row(_SGS, "NNNNNNNNN"),
        **_row(_DEFAULT_SGS, "PFFFFF"),
    },
    "aws.ec2.ebs_encryption_by_default_enabled": _row(
        ("region-primary", "region-secondary", "region-tertiary"), "PFF"
    ),
    # root volumes follow the region's EBS default (on in primary only); the terminated instance's is gone
    "aws.ec2.volume_encrypted": _row(_VOLUMES, "PFPFFPPFF"),
    # instances: api-1 bastion legacy-report stg-worker dev-old-ci(terminated)
    # stg-worker has the metadata endpoint disabled, which also satisfies the check
    "aws.ec2.instance_imdsv2_required": _row(_INSTANCES, "PPFPN"),
    "aws.ec2.instance_no_public_ip": _row(_INSTANCES, "PFFPN"),
    # VPCs: prod stg dev default-primary default-secondary default-tertiary
    "aws.ec2.vpc_flow_logs_enabled": _row(_VPCS, "PFPFFF"),
    # legacy-report runs in the secondary region's default VPC
    "aws.ec2.default_vpc_not_in_use": _row(_VPCS, "NNNPFP"),
    # -- CloudTrail   org-audit stg-trail
    "aws.cloudtrail.trail_logging_enabled": _row(_TRAILS, "PF"),
    "aws.cloudtrail.trail_log_file_validation_enabled": _row(_TRAILS, "PF"),
    "aws.cloudtrail.trail_encrypted_with_kms": _row(_TRAILS, "PF"),
    # -- KMS   prod-data legacy token-signing(RSA) partner-share retired(disabled)
    "aws.kms.key_rotation_enabled": _row(_KEYS, "PFNPN"),
    # prod-data allows "*" but only with kms:CallerAccount + kms:ViaService conditions: not public
    "aws.kms.key_policy_not_public": _row(_KEYS, "PPPFP"),
    # ================================ issue 3 services ================================================
    # -- region-wide services (one record per region role: primary secondary tertiary)
    # primary: recorder of all types, recording, channel; secondary: EC2-only recorder never started;
    # tertiary: no Config at all (delivery channel check then does not apply)
    "aws.config.recorder_enabled": _row(_per_region("config"), "PFF"),
    "aws.config.delivery_channel_configured": _row(_per_region("config"), "PFN"),
    # primary: enabled, reports to the delegated administrator; secondary: suspended detector;
    # tertiary: enabled, standalone, no findings rule
    "aws.guardduty.detector_enabled": _row(_per_region("guardduty"), "PFP"),
    # moto gap: GetAdministratorAccount answers {"Administrator": {"AccountId": ...}} while the API (and botocore)
    # use camelCase keys ("administrator", "accountId"), so the SDK sees no administrator even where the seeder
    # enabled one: FAIL in every region here; on AWS the primary region would PASS (see the case file).
    "aws.guardduty.administrator_enabled": _row(_per_region("guardduty"), "FFF"),
    "aws.guardduty.findings_routed_to_notifications": _row(_per_region("guardduty"), "PNF"),
    "aws.securityhub.hub_enabled": _row(_per_region("securityhub"), "PFF"),
    "aws.inspector2.ec2_scanning_enabled": _row(_per_region("inspector2"), "PFF"),
    # moto has no Access Analyzer backend: ListAnalyzers fails in every region, recorded on the region record
    "aws.accessanalyzer.external_access_analyzer_enabled": _row(_REGIONS, "EEE"),
    "aws.accessanalyzer.unused_access_analyzer_enabled": _row(_REGIONS, "EEE"),
    # -- RDS instances   prod-db legacy-mysql dev-db(us-east-1) aurora-1(member of jp-saas-aurora)
    # Aurora members take storage, backups, deletion protection and Multi-AZ from their cluster
    "aws.rds.instance_storage_encrypted": _row(_DB_INSTANCES, "PFPN"),
    "aws.rds.instance_not_publicly_accessible": _row(_DB_INSTANCES, "PFPP"),
    "aws.rds.instance_backup_retention": _row(_DB_INSTANCES, "PFPN"),  # 14, 0, 7 days
    "aws.rds.instance_deletion_protection": _row(_DB_INSTANCES, "PFFN"),
    "aws.rds.instance_multi_az": _row(_DB_INSTANCES, "PFFN"),
    "aws.rds.instance_auto_minor_version_upgrade": _row(_DB_INSTANCES, "PFPP"),
    "aws.rds.instance_in_allowed_region": _row(_DB_INSTANCES, "PPFP"),
    "aws.rds.instance_has_owner_tags": _row(_DB_INSTANCES, "PFPP"),  # legacy-mysql has no Owner tag
    "aws.rds.cluster_storage_encrypted": _row(_DB_CLUSTERS, "PF"),
    "aws.rds.cluster_deletion_protection": _row(_DB_CLUSTERS, "PF"),
    "aws.rds.cluster_backup_retention": _row(_DB_CLUSTERS, "PF"),  # 14 and 1 days
    # -- DynamoDB (sessions in Tokyo; events-archive in us-east-1, no PITR, AWS owned key)
    "aws.dynamodb.table_point_in_time_recovery_enabled": _row(_TABLES, "PF"),
    "aws.dynamodb.table_encrypted_with_kms": _row(_TABLES, "PF"),
    "aws.dynamodb.table_in_allowed_region": _row(_TABLES, "PF"),
    # -- EFS, snapshots, AMIs, Backup, Secrets Manager
    "aws.efs.file_system_encrypted": _row(_FILE_SYSTEMS, "PF"),
    "aws.efs.file_system_backup_enabled": _row(_FILE_SYSTEMS, "PF"),
    # db-data-snap is of the KMS-encrypted prod volume; the shared one is of the unencrypted staging scratch
    "aws.ec2.snapshot_not_public": _row(_SNAPSHOTS, "PF"),
    "aws.ec2.snapshot_encrypted": _row(_SNAPSHOTS, "PF"),
    "aws.ec2.image_not_public": _row(_IMAGES, "PF"),
    "aws.backup.vault_lock_enabled": _row(_VAULTS, "PF"),
    "aws.backup.plan_retention_meets_minimum": _row(_PLANS, "PF"),  # 35 and 7 days
    "aws.secretsmanager.secret_rotation_enabled": _row(_SECRETS, "PF"),
    # -- logging and alerting
    "aws.logs.log_group_retention": _row(_LOG_GROUPS, "PF"),  # 400 and 14 days
    "aws.logs.log_group_encrypted_with_kms": _row(_LOG_GROUPS, "PF"),
    # org-audit delivers to jp-saas-cloudtrail, which has six filters with alarms; stg-trail delivers nowhere
    "aws.cloudwatch.trail_security_event_alarms": _row(_TRAILS, "PF"),
    "aws.sns.topic_encrypted": _row(_TOPICS, "PF"),
    "aws.sns.topic_not_public": _row(_TOPICS, "PF"),  # moto's default policy is conditioned on SourceOwner
    # -- edge   prod-alb legacy-alb stg-db-nlb(internal, one zone, TCP)
    "aws.elbv2.listeners_encrypted_or_redirected": _row(_LOAD_BALANCERS, "PFF"),
    "aws.elbv2.tls_policy_strong": _row(_LOAD_BALANCERS, "PFN"),
    "aws.elbv2.waf_attached": _row(_LOAD_BALANCERS, "PFN"),
    "aws.elbv2.multi_az": _row(_LOAD_BALANCERS, "PPF"),
    "aws.cloudfront.viewer_https_only": _row(_DISTRIBUTIONS, "PF"),
    "aws.cloudfront.minimum_tls_version": _row(_DISTRIBUTIONS, "PF"),
    "aws.cloudfront.waf_attached": _row(_DISTRIBUTIONS, "PF"),
    "aws.apigateway.stage_access_logging_enabled": _row(_APIS, "PF"),
    "aws.apigateway.stage_waf_attached": _row(_APIS, "PF"),
    # -- Lambda   invoice-renderer(3.12, no URL) webhook-relay(3.12, open URL, public policy) legacy-cron(3.8)
    "aws.lambda.function_runtime_supported": _row(_FUNCTIONS, "PPF"),
    "aws.lambda.function_url_requires_auth": _row(_FUNCTIONS, "NFP"),
    "aws.lambda.function_policy_not_public": _row(_FUNCTIONS, "PFP"),
    # -- DNS   jp-saas.example (SPF, DMARC reject) legacy (no SPF, DMARC none) static (no MX)
    "aws.route53.mail_domain_spf": _row(_ZONES, "PFN"),
    "aws.route53.mail_domain_dmarc": _row(_ZONES, "PFN"),
    # -- data location (allowed: Tokyo, Osaka; the tertiary role is us-east-1) and classification
    "aws.s3.bucket_in_allowed_region": _row(_BUCKETS, "PPPPPPFFF"),
    "aws.ec2.volume_in_allowed_region": _row(_VOLUMES, "PPPPFPPPP"),
    # DataClassification on prod-logs (internal), customer-data and dr-backup (confidential)
    "aws.s3.bucket_has_classification_tag": _row(_BUCKETS, "PPFFFPFFF"),
}

#: Verdicts that hold only when the seeder could backdate IAM dates (``SeedReport.backdated``); without it
#: every credential looks brand new and these become PASS.
TIME_DEPENDENT: Final[frozenset[tuple[str, str]]] = frozenset(
    {
        ("aws.iam.user_access_keys_rotated", "ci-deploy"),
        ("aws.iam.user_access_keys_rotated", "legacy-batch"),
        ("aws.iam.user_credentials_recently_used", "ci-deploy"),
        ("aws.iam.user_credentials_recently_used", "yamamoto.retired"),
    }
)


def expected_verdicts(scale: int = 1, backdated: bool = True) -> dict[str, dict[str, str]]:
    """The ground truth for an estate seeded at ``scale``: :data:`EXPECTED` plus every fleet copy.

    A fleet copy (``jp-saas-tenant-0001-prod-customer-data``) has exactly its template's settings, so it gets
    the template's verdict for every check that lists the template. With ``backdated=False`` the entries in
    :data:`TIME_DEPENDENT` (and their copies) are left out. Returns a new dict; raises ``ValueError`` for
    scale < 1.
    """
    out = {check: dict(per) for check, per in EXPECTED.items()}
    if not backdated:
        for check, name in TIME_DEPENDENT:
            out[check].pop(name, None)
    e = build_estate(scale)
    copies = [
        (item.name, item.template)
        for group in (e.users, e.buckets, e.security_groups, e.volumes, e.instances)
        for item in group
        if item.template is not None
    ]
    for per in out.values():
        for name, template in copies:
            if template in per:
                per[name] = per[template]
    # Instance copies bring root volumes, which follow their template's root volume.
    for per in out.values():
        for inst in e.instances:
            if inst.template is not None and not inst.terminated and f"{inst.template}-root" in per:
                per[f"{inst.name}-root"] = per[f"{inst.template}-root"]
    return out
