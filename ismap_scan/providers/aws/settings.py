"""The ``aws:`` block of ``ismap-scan.yaml``: credentials, role, regions, endpoint and retry settings.

Everything is optional; with an empty block the scan uses boto3's default credential chain and every enabled
region. Unknown keys are refused (pydantic ``extra="forbid"``), so a typo such as ``region:`` fails loudly.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

#: AWS region names: ``us-east-1``, ``ap-northeast-1``, ``us-gov-west-1``, ``cn-north-1``, ``eu-central-2``...
_REGION_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789-")


#: Default name of the read-only role assumed in each member account (see docs/aws-permissions.md).
DEFAULT_AUDIT_ROLE = "ismap-scan-audit"

_ACCOUNT_ID = r"^\d{12}$"


class OrganizationSettings(BaseModel):
    """Validated ``aws.organization:`` settings: which member accounts to scan and how to enter them.

    - ``enabled``: ``false`` keeps the block in the file but scans one account only.
    - ``role_name``: the role assumed in every member account (``sts:AssumeRole`` on
      ``arn:<partition>:iam::<member>:role/<role_name>``). The default ``ismap-scan-audit`` is a role you
      create with the read-only policy of ``docs/aws-iam-policy.json``; ``OrganizationAccountAccessRole``
      (which Organizations creates with administrator rights) works but grants far more than a scan needs.
    - ``role_path``: IAM path of that role (``/`` or ``/security/``).
    - ``external_id``: passed as ``ExternalId`` when assuming it (the role's trust policy may require it).
    - ``accounts``: scan only these member account IDs (still taken from the organization's listing, so a
      closed or unknown ID is reported, not guessed at); empty = every ``ACTIVE`` account.
    - ``exclude_accounts``: never scan these.
    - ``ous``: only accounts under these organizational units (``ou-...``) or roots (``r-...``), nested OUs
      included (``organizations:ListChildren`` walked recursively).
    - ``include_management``: also scan the account the credentials are in (the management or delegated
      administrator account), with those credentials rather than a role.
    - ``max_parallel_accounts``: accounts collected at the same time (each with ``max_workers`` threads).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    role_name: str = Field(default=DEFAULT_AUDIT_ROLE, pattern=r"^[\w+=,.@-]{1,64}$")
    role_path: str = Field(default="/", pattern=r"^/([\x21-\x7e]*/)?$")
    external_id: str | None = Field(default=None, min_length=2, max_length=1224)
    accounts: list[str] = Field(default_factory=list)
    exclude_accounts: list[str] = Field(default_factory=list)
    ous: list[str] = Field(default_factory=list)
    include_management: bool = True
    max_parallel_accounts: int = Field(default=4, ge=1, le=32)

    @field_validator("accounts", "exclude_accounts")
    @classmethod
    def _check_accounts(cls, v: list[str]) -> list[str]:
        for a in v:
            if not re.match(_ACCOUNT_ID, a):
                raise ValueError(f"not a 12-digit AWS account ID: {a!r}")
        return sorted(set(v))

    @field_validator("ous")
    @classmethod
    def _check_ous(cls, v: list[str]) -> list[str]:
        for ou in v:
            if not re.match(r"^(ou-[0-9a-z]{4,32}-[0-9a-z]{8,32}|r-[0-9a-z]{4,32})$", ou):
                raise ValueError(f"not an organizational unit (ou-...) or root (r-...) ID: {ou!r}")
        return sorted(set(v))


class AwsSettings(BaseModel):
    """Validated ``aws:`` settings.

    - ``profile``: a named profile of the shared config files (``--profile``); ``None`` = default chain.
    - ``role_arn`` / ``external_id`` / ``role_session_name``: assume this role (``sts:AssumeRole``) with the
      base credentials before scanning; the session name shows up in the scanned account's CloudTrail.
    - ``regions``: region names to scan, or ``"all"`` = every region ``ec2:DescribeRegions`` reports enabled
      for the account (``opt-in-not-required`` or ``opted-in``).
    - ``endpoint_url``: one endpoint for every service (tests, the demo, VPC endpoints); ``None`` lets boto3
      honour ``AWS_ENDPOINT_URL`` / ``AWS_ENDPOINT_URL_<SERVICE>``.
    - ``max_attempts``: total attempts per call including the first (botocore ``retries.max_attempts``);
      ``None`` keeps botocore's own setting (``AWS_MAX_ATTEMPTS`` or the config file, else 3 in standard mode).
    - ``retry_mode``: ``standard`` (throttling and transient errors retried with backoff) or ``adaptive``
      (standard plus client-side rate limiting).
    - ``max_workers``: threads across (region x resource type); ``None`` = the scan's ``CollectOptions``.
    - ``credential_report_timeout``: seconds to wait for ``iam:GenerateCredentialReport`` to complete.
    - ``organization``: scan the member accounts of an AWS Organization too (:class:`OrganizationSettings`);
      ``None`` (default) scans only the account the credentials (or ``role_arn``) land in.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    profile: str | None = None
    role_arn: str | None = Field(default=None, pattern=r"^arn:aws[a-z-]*:iam::\d{12}:role/.+$")
    external_id: str | None = None
    role_session_name: str = Field(default="ismap-scan", pattern=r"^[\w+=,.@-]{2,64}$")
    regions: list[str] | Literal["all"] = "all"
    endpoint_url: str | None = None
    max_attempts: int | None = Field(default=None, ge=1, le=20)
    retry_mode: Literal["standard", "adaptive"] = "standard"
    max_workers: int | None = Field(default=None, ge=1, le=64)
    credential_report_timeout: float = Field(default=60.0, gt=0, le=600)
    organization: OrganizationSettings | None = None

    @field_validator("regions")
    @classmethod
    def _check_regions(cls, v: list[str] | str) -> list[str] | str:
        if isinstance(v, str):
            return v
        if not v:
            raise ValueError('regions must name at least one region, or be "all"')
        for name in v:
            if not name or not set(name) <= _REGION_CHARS or name.count("-") < 2:
                raise ValueError(f"not an AWS region name: {name!r}")
        # Keep the user's order out of the result: the scan is deterministic whatever order is written.
        return sorted(set(v))

    @model_validator(mode="after")
    def _external_id_needs_role(self) -> AwsSettings:
        if self.external_id is not None and self.role_arn is None:
            raise ValueError("external_id is only used with role_arn")
        return self
