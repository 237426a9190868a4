"""The ``aws:`` block of ``ismap-scan.yaml``: credentials, role, regions, endpoint and retry settings.

Everything is optional; with an empty block the scan uses boto3's default credential chain and every enabled
region. Unknown keys are refused (pydantic ``extra="forbid"``), so a typo such as ``region:`` fails loudly.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

#: AWS region names: ``us-east-1``, ``ap-northeast-1``, ``us-gov-west-1``, ``cn-north-1``, ``eu-central-2``...
_REGION_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789-")


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
