"""The few collectors that do not fit the generic list-and-describe shape, and derived fields.

- :func:`identify`: account ID and partition from ``sts:GetCallerIdentity``.
- :func:`discover_regions`: ``ec2:DescribeRegions`` (``AllRegions``) -> the regions to scan.
- :func:`collect_credential_report`: ``iam:GenerateCredentialReport`` polled until complete (bounded wait),
  then ``iam:GetCredentialReport``, CSV parsed to row dicts.
- :data:`DERIVERS`: post-processing named by ``ResourceType.derive`` (IAM policy documents parsed, the
  default policy version's document under ``_derived``).

Every operation used here is declared in ``types.py`` (``extra_calls``, ``IDENTITY_CALLS``), so the guard
allows it and the permission list names it.
"""

from __future__ import annotations

import csv
import io
import json
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ...model import CollectionError
from .collectors import ScanContext, classify_error, normalize
from .guard import ReadOnlyViolation
from .session import AwsCredentialsError, SessionFactory

#: The credential report's name for the account root user (IAM User Guide, "Getting credential reports").
ROOT_ROW_USER = "<root_account>"

#: ``OptInStatus`` values of regions the account can use (ec2:DescribeRegions).
ENABLED_OPT_IN = frozenset({"opt-in-not-required", "opted-in"})


def identify(factory: SessionFactory) -> tuple[str, str]:
    """``(account ID, partition)`` of the scanning principal (``sts:GetCallerIdentity``; needs no permission).

    Raises :class:`AwsCredentialsError` when the call fails (bad or expired credentials, no endpoint).
    """
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        ident = factory.client("sts").get_caller_identity()
    except (ClientError, BotoCoreError) as e:
        code, message = classify_error(e)
        raise AwsCredentialsError(f"sts:GetCallerIdentity failed ({code}): {message}") from e
    arn = str(ident.get("Arn", ""))
    partition = arn.split(":")[1] if arn.count(":") >= 2 else "aws"
    return str(ident["Account"]), partition or "aws"


@dataclass
class RegionPlan:
    """Regions to scan with their ``OptInStatus`` (``None`` when unknown) and problems found on the way.

    ``account_errors`` go on the account record (DescribeRegions failed while asked for "all");
    ``region_errors`` on a region's record (DescribeRegions failed or does not know the region).
    """

    regions: dict[str, str | None] = field(default_factory=dict)
    account_errors: list[CollectionError] = field(default_factory=list)
    region_errors: dict[str, list[CollectionError]] = field(default_factory=dict)


def discover_regions(factory: SessionFactory, wanted: list[str] | str) -> RegionPlan:
    """Resolve ``wanted`` (a list of names, or ``"all"``) with ``ec2:DescribeRegions(AllRegions=True)``.

    ``"all"`` = regions whose ``OptInStatus`` is ``opt-in-not-required`` or ``opted-in``. If the call fails,
    ``"all"`` falls back to the session's default region with an error on the account record
    (``field "*"``, ``resource_type "aws.region"``), and an explicit list is kept with ``OptInStatus`` unknown.
    """
    plan = RegionPlan()
    call = "ec2:DescribeRegions"
    try:
        resp = factory.client("ec2").describe_regions(AllRegions=True)
        known = {r["RegionName"]: r.get("OptInStatus") for r in resp.get("Regions", [])}
    except ReadOnlyViolation:
        raise
    except Exception as exc:
        code, message = classify_error(exc)
        if wanted == "all":
            plan.regions[factory.default_region] = None
            plan.account_errors.append(
                CollectionError(field="*", call=call, code=code, message=message, resource_type="aws.region")
            )
        else:
            for name in wanted:
                plan.regions[name] = None
                plan.region_errors[name] = [CollectionError("OptInStatus", call, code, message)]
        return plan
    if wanted == "all":
        plan.regions = {n: s for n, s in sorted(known.items()) if s in ENABLED_OPT_IN}
        return plan
    for name in wanted:
        plan.regions[name] = known.get(name)
        if name not in known:
            plan.region_errors[name] = [
                CollectionError("*", call, "UnknownRegion", f"{name} is not a region of this partition")
            ]
    return plan


@dataclass
class CredentialReport:
    """The parsed credential report (``report`` as stored in ``data.CredentialReport``) or the error."""

    report: dict[str, Any] | None
    error: CollectionError | None

    def row_for(self, arn: str) -> dict[str, str] | None:
        """The row whose ``arn`` column is ``arn``, else ``None``."""
        for row in (self.report or {}).get("Rows", []):
            if row.get("arn") == arn:
                return dict(row)
        return None

    def root_row(self) -> dict[str, str] | None:
        for row in (self.report or {}).get("Rows", []):
            if row.get("user") == ROOT_ROW_USER:
                return dict(row)
        return None


def collect_credential_report(ctx: ScanContext, timeout: float, max_poll: float = 2.0) -> CredentialReport:
    """Generate and read the IAM credential report (at most one per 4 hours is generated by AWS).

    Calls ``iam:GenerateCredentialReport`` until ``State`` is ``COMPLETE`` or ``timeout`` seconds passed
    (sleeping 0.25 s, doubling up to ``max_poll`` seconds, between calls), then ``iam:GetCredentialReport``. Returns the report as
    ``{"GeneratedTime": "...Z", "Rows": [{"user": ..., "arn": ..., "password_enabled": "true", ...}]}`` with
    the CSV's own column names and string values (``"N/A"``, ``"no_information"`` kept). Never raises for AWS
    failures: the error (field ``CredentialReport``) is returned instead.
    """
    iam = ctx.factory.client("iam")
    call = "iam:GenerateCredentialReport"
    try:
        deadline = time.monotonic() + timeout
        pause = 0.25  # a report usually takes a few seconds; start short, back off
        while True:
            state = iam.generate_credential_report().get("State")
            if state == "COMPLETE" or time.monotonic() >= deadline:
                break
            time.sleep(min(pause, max(0.0, deadline - time.monotonic())))
            pause = min(pause * 2, max_poll)
        call = "iam:GetCredentialReport"
        resp = iam.get_credential_report()
    except ReadOnlyViolation:
        raise
    except Exception as exc:
        code, message = classify_error(exc)
        return CredentialReport(None, CollectionError("CredentialReport", call, code, message))
    content = resp.get("Content", b"")
    text = content.decode("utf-8-sig") if isinstance(content, bytes) else str(content)
    rows = [dict(r) for r in csv.DictReader(io.StringIO(text))]
    report = {"GeneratedTime": normalize(resp.get("GeneratedTime")), "Rows": rows}
    return CredentialReport(report, None)


# ------------------------------------------------------------------------------------------------------
# Derived fields and document parsing, named by ResourceType.derive.

_DOCUMENT_KEYS = frozenset({"PolicyDocument", "AssumeRolePolicyDocument", "Document"})


def _decode_document(value: Any) -> Any:
    """An IAM policy document as a dict. IAM returns them URL-encoded JSON (botocore usually decodes them
    already, in ``handlers.json_decode_policies``); anything that does not parse is kept as given."""
    if not isinstance(value, str):
        return value
    for text in (value, urllib.parse.unquote(value)):
        try:
            return json.loads(text)
        except ValueError:
            continue
    return value


def decode_iam_documents(data: Any) -> None:
    """Parse every ``PolicyDocument``/``AssumeRolePolicyDocument``/``Document`` string in ``data``, in place."""
    if isinstance(data, dict):
        for k, v in data.items():
            if k in _DOCUMENT_KEYS:
                data[k] = _decode_document(v)
            else:
                decode_iam_documents(v)
    elif isinstance(data, list):
        for v in data:
            decode_iam_documents(v)


def derive_iam_policy(data: dict[str, Any]) -> None:
    """Parse version documents; ``_derived.DefaultVersionDocument`` = the ``IsDefaultVersion`` one's document."""
    decode_iam_documents(data)
    default = None
    for version in data.get("PolicyVersionList") or []:
        if isinstance(version, dict) and version.get("IsDefaultVersion"):
            default = version.get("Document")
    data.setdefault("_derived", {})["DefaultVersionDocument"] = default


DERIVERS: dict[str, Callable[[dict[str, Any]], None]] = {
    "iam_documents": decode_iam_documents,
    "iam_user": decode_iam_documents,
    "iam_policy": derive_iam_policy,
}
