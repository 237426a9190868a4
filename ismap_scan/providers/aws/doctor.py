"""``ismap-scan doctor`` for AWS: can these credentials run a full scan? Checked without writing anything.

Steps (each gives :class:`~ismap_scan.providers.diagnostics.DoctorCheck` items):

1. credentials: resolve them (profile / default chain / ``role_arn``) exactly as a scan does;
2. identity: ``sts:GetCallerIdentity`` -> account and principal ARN;
3. regions: ``ec2:DescribeRegions`` then the scan's region probe (``ec2:GetEbsEncryptionByDefault``) in each;
4. accounts (``aws.organization``): discovery, then ``sts:AssumeRole`` into every planned member;
5. permissions: in every reachable account, one read per declared operation (``types.py``). A listing is
   called for one page (the smallest page size the API allows); a per-item read uses the first listed item
   when there is one (a real check of a real resource), else parameters that name nothing
   (``ismap-scan-doctor-probe``). EC2 operations are sent with ``DryRun=True``.

How an answer is read: success or ``DryRunOperation`` -> allowed; an access-denied code -> **missing**; any
other AWS error (``NoSuchEntity``, ``NotFoundException``, ``UnsupportedOperationException``...) -> allowed,
because AWS authorises a request before it looks the resource up; a validation error, ``NoSuchBucket`` (S3
looks a bucket up before authorising), an emulator's ``NotImplemented``, throttling or a network error ->
inconclusive. All calls go through the read-only guard like a scan's.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from ..diagnostics import DoctorCheck, DoctorStatus
from . import types as T
from .collectors import DENIED_CODES, classify_error, region_closed, resolve_params, search
from .guard import ReadOnlyViolation
from .session import AwsCredentialsError, SessionFactory
from .settings import AwsSettings

OK, MISSING, FAILED, INCONCLUSIVE = (
    DoctorStatus.OK,
    DoctorStatus.MISSING,
    DoctorStatus.FAILED,
    DoctorStatus.INCONCLUSIVE,
)

#: A name that exists nowhere, for per-item reads when the account has no item of that type.
PROBE_NAME = "ismap-scan-doctor-probe"

#: More "refused" codes than a collector needs to know: SNS ``AuthorizationError``, Organizations
#: ``AccessDeniedForDependencyException``, STS ``InvalidClientTokenId`` is a credentials problem instead.
_DENIED = DENIED_CODES | {
    "AuthorizationError",
    "AuthorizationErrorException",
    "AccessDeniedForDependencyException",
}

#: Answers that come before authorisation, so they say nothing about the permission.
_INCONCLUSIVE = re.compile(
    r"Validation|InvalidParameter|Malformed|MissingParameter|InvalidArgument|InvalidInput|^NoSuchBucket$|"
    r"NotImplemented|Throttl|RequestLimitExceeded|TooManyRequests|ServiceUnavailable|InternalError|"
    r"^HTTP5|Endpoint|Timeout|Connection|InvalidClientTokenId|UnrecognizedClient|SignatureDoesNotMatch",
    re.IGNORECASE,
)

#: An AWS error code inside an unparsed XML body (``<Code>AccessDenied</Code>``), as emulators and proxies
#: sometimes send for JSON-protocol services.
_XML_CODE = re.compile(r"<Code>([A-Za-z0-9.]+)</Code>")


def interpret(exc: BaseException | None) -> tuple[DoctorStatus, str, str]:
    """``(status, code, message)`` for a probe that returned (``exc is None``) or raised ``exc``."""
    if exc is None:
        return OK, "", ""
    code, message = classify_error(exc)
    if code.startswith("HTTP"):
        found = _XML_CODE.search(message)
        code = found.group(1) if found else code
    if code == "DryRunOperation":
        return OK, code, ""
    if code in _DENIED:
        return MISSING, code, message
    if _INCONCLUSIVE.search(code):
        return INCONCLUSIVE, code, message
    return OK, code, message  # a resource-level answer: the request was authorised first


@dataclass(frozen=True)
class _Probe:
    """One call to try: ``service:operation`` authorised by ``permission``, with an item to read params from."""

    service: str
    operation: str
    permission: str
    region: str
    params: Mapping[str, Any] | None  # None: from the first listed item, else synthesised from the model


def run_doctor(
    settings: AwsSettings, hooks: Sequence[Callable[[Any], None]], wanted: Sequence[T.ResourceType]
) -> list[DoctorCheck]:
    """All the checks of the module doc, in order. Never raises for an AWS failure (only
    :class:`~.guard.ReadOnlyViolation`, a defect)."""
    from .organization import plan_accounts
    from .special import discover_regions, identify

    out: list[DoctorCheck] = []
    try:
        factory = SessionFactory.create(settings, hooks)
    except AwsCredentialsError as exc:
        return [DoctorCheck("credentials", "credentials", FAILED, str(exc))]
    source = f"role {settings.role_arn}" if settings.role_arn else (settings.profile or "default chain")
    out.append(DoctorCheck("credentials", "credentials", OK, f"resolved from {source}"))
    try:
        account, partition = identify(factory)
        arn = factory.client("sts").get_caller_identity().get("Arn", "")
    except AwsCredentialsError as exc:
        return [*out, DoctorCheck("identity", "sts:GetCallerIdentity", FAILED, str(exc))]
    out.append(DoctorCheck("identity", "sts:GetCallerIdentity", OK, str(arn), account=account))

    regions = _check_regions(factory, settings, account, out, discover_regions)
    region = regions[0] if regions else factory.default_region
    factories: dict[str, SessionFactory] = {account: factory}
    org = settings.organization
    if org is not None and org.enabled:
        plan = plan_accounts(factory, account, partition, org)
        if plan.discovery_error is not None:
            e = plan.discovery_error
            out.append(
                DoctorCheck("organization", e.call, _status_of(e.code), e.message, account, code=e.code)
            )
        else:
            out.append(
                DoctorCheck(
                    "organization", "accounts", OK, f"{len(plan.targets)} account(s) planned", account
                )
            )
        for acct, err in sorted(plan.account_errors.items()):
            out.append(DoctorCheck("account", acct, FAILED, err.message, acct, code=err.code))
        for target in plan.targets:
            if target.role_arn is None:
                continue
            try:
                factories[target.account_id] = factory.assume(target.role_arn, org.external_id)
            except ReadOnlyViolation:
                raise
            except Exception as exc:
                code, message = classify_error(exc)
                out.append(
                    DoctorCheck("account", target.account_id, FAILED, message, target.account_id, code=code)
                )
                continue
            out.append(
                DoctorCheck("account", target.account_id, OK, f"assumed {target.role_arn}", target.account_id)
            )
    for acct in sorted(factories):
        management = acct == account and org is not None and org.enabled
        out.extend(_check_permissions(factories[acct], acct, region, wanted, management, settings, partition))
    return out


def _status_of(code: str) -> DoctorStatus:
    return MISSING if code in _DENIED else FAILED


def _check_regions(
    factory: SessionFactory,
    settings: AwsSettings,
    account: str,
    out: list[DoctorCheck],
    discover: Callable[[SessionFactory, Any], Any],
) -> list[str]:
    """Region checks appended to ``out``; returns the reachable regions, sorted."""
    plan = discover(factory, settings.regions)
    for e in plan.account_errors:
        out.append(DoctorCheck("region", e.call, _status_of(e.code), e.message, account, code=e.code))

    def probe(name: str) -> DoctorCheck:
        errs = plan.region_errors.get(name, [])
        if any(e.field == "*" for e in errs):
            return DoctorCheck("region", name, FAILED, errs[0].message, account, name, code=errs[0].code)
        if plan.regions.get(name) == "not-opted-in":
            return DoctorCheck("region", name, FAILED, "not enabled for this account", account, name)
        try:
            factory.client("ec2", name).get_ebs_encryption_by_default()
        except ReadOnlyViolation:
            raise
        except Exception as exc:
            from ...model import CollectionError

            code, message = classify_error(exc)
            err = CollectionError("*", "ec2:GetEbsEncryptionByDefault", code, message)
            status = FAILED if region_closed(err) else interpret(exc)[0]
            return DoctorCheck(
                "region", name, status, message, account, name, "ec2:GetEbsEncryptionByDefault", code
            )
        return DoctorCheck("region", name, OK, "reachable", account, name)

    with ThreadPoolExecutor(max_workers=settings.max_workers or 8) as pool:
        checks = list(pool.map(probe, sorted(plan.regions)))
    out.extend(checks)
    return [c.subject for c in checks if c.status is OK]


def _probes(
    wanted: Sequence[T.ResourceType], region: str, default_region: str, management: bool
) -> list[_Probe]:
    """One probe per declared operation of the wanted types (plus scope and identity calls)."""
    types = [T.ACCOUNT, T.REGION, *[t for t in wanted if t.name not in (T.ACCOUNT.name, T.REGION.name)]]
    probes: list[_Probe] = []
    seen: set[str] = set()

    def add(p: _Probe) -> None:
        if f"{p.service}:{p.operation}" not in seen:
            seen.add(f"{p.service}:{p.operation}")
            probes.append(p)

    for rtype in types:
        where = region if rtype.scope == "region" else default_region
        if rtype.list_operation:
            listing = T.Call(rtype.service, rtype.list_operation, rtype.list_iam_action)
            add(_Probe(rtype.service, rtype.list_operation, listing.permission, where, rtype.list_params))
        for d in (rtype.locate, *rtype.details):
            if d is None:
                continue
            svc = d.service or rtype.service
            add(_Probe(svc, d.operation, T.Call(svc, d.operation, d.iam_action).permission, where, None))
            if d.each is not None:  # nested reads (access key last use): synthesised parameters
                e = T.Call(d.each.service or svc, d.each.operation, d.each.iam_action)
                add(_Probe(e.service, e.operation, e.permission, where, None))
        for c in rtype.extra_calls:
            add(_Probe(c.service, c.operation, c.permission, where, None))
    if management:
        for c in T.ORGANIZATION_CALLS:
            add(_Probe(c.service, c.operation, c.permission, default_region, None))
    return probes


def _check_permissions(
    factory: SessionFactory,
    account: str,
    region: str,
    wanted: Sequence[T.ResourceType],
    management: bool,
    settings: AwsSettings,
    partition: str,
) -> list[DoctorCheck]:
    """One ``permission`` check per probe in ``account``; per-item reads use the first listed item."""
    probes = _probes(wanted, region, factory.default_region, management)
    items = _first_items(factory, account, region, wanted)
    by_op: dict[str, tuple[T.ResourceType, T.Detail | None]] = {}
    for rtype in [T.ACCOUNT, T.REGION, *wanted]:
        for d in (rtype.locate, *rtype.details):
            if d is not None:
                by_op.setdefault(f"{d.service or rtype.service}:{d.operation}", (rtype, d))
                if d.each is not None:
                    by_op.setdefault(
                        f"{d.each.service or d.service or rtype.service}:{d.each.operation}", (rtype, None)
                    )

    def run(p: _Probe) -> DoctorCheck:
        client = factory.client(p.service, p.region)
        op = client.meta.service_model.operation_model(p.operation)
        key = f"{p.service}:{p.operation}"
        owner = by_op.get(key)
        params: dict[str, Any]
        if p.params is not None:  # a listing: Refs read the scope, as collectors.list_items does
            params = resolve_params(p.params, {"AccountId": account, "Region": p.region})
        elif owner is not None and owner[1] is not None and owner[1].params and items.get(owner[0].name):
            params = resolve_params(owner[1].params, items[owner[0].name])
        else:
            params = synthesize(op, account, p.region, partition)
        params = _limit_page(op, params)
        if op.input_shape is not None and "DryRun" in op.input_shape.members:
            params["DryRun"] = True
        try:
            invoke_one(client, p.operation, params)
        except ReadOnlyViolation:
            raise
        except Exception as exc:
            status, code, message = interpret(exc)
            detail = message if status is not OK else f"authorised ({code})"
            return DoctorCheck(
                "permission", key, status, _one_line(detail), account, p.region, p.permission, code
            )
        return DoctorCheck("permission", key, OK, "allowed", account, p.region, p.permission)

    with ThreadPoolExecutor(max_workers=settings.max_workers or 8, thread_name_prefix="ismap-doctor") as pool:
        checks = list(pool.map(run, probes))
    return sorted(checks, key=lambda c: c.subject)


def _first_items(
    factory: SessionFactory, account: str, region: str, wanted: Sequence[T.ResourceType]
) -> dict[str, dict[str, Any]]:
    """The first listed item per type (scope types get their own single item), for real per-item reads."""
    out: dict[str, dict[str, Any]] = {
        T.ACCOUNT.name: {"AccountId": account},
        T.REGION.name: {"RegionName": region},
    }

    def first(rtype: T.ResourceType) -> tuple[str, dict[str, Any] | None]:
        where = region if rtype.scope == "region" else factory.default_region
        try:
            assert rtype.list_operation is not None
            client = factory.client(rtype.service, where)
            op = client.meta.service_model.operation_model(rtype.list_operation)
            params = resolve_params(rtype.list_params, {"AccountId": account, "Region": where})
            page = invoke_one(client, rtype.list_operation, _limit_page(op, params))
        except ReadOnlyViolation:
            raise
        except Exception:
            return rtype.name, None  # the listing probe reports why
        if getattr(rtype, "singleton", False) or not rtype.items:  # the whole answer is the one item
            return rtype.name, {k: v for k, v in page.items() if k != "ResponseMetadata"}
        found = search(rtype.items, page) or []
        return rtype.name, next((x for x in found if isinstance(x, dict)), None)

    listed = [t for t in wanted if t.list_operation]
    with ThreadPoolExecutor(max_workers=8) as pool:
        for name, item in pool.map(first, listed):
            if item is not None:
                out[name] = item
    return out


def invoke_one(client: Any, operation: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """One request (never all pages): ``client.<operation>(**params)``."""
    from botocore import xform_name

    response: dict[str, Any] = getattr(client, xform_name(operation))(**params)
    return response


_PAGE_KEYS = ("MaxResults", "MaxItems", "Limit", "MaxRecords", "PageSize")


def _limit_page(op: Any, params: dict[str, Any]) -> dict[str, Any]:
    """Ask for the smallest page the API accepts (``min`` of its page-size member), if it has one."""
    shape = op.input_shape
    if shape is None:
        return params
    for key in _PAGE_KEYS:
        member = shape.members.get(key)
        if member is not None and key not in params and member.type_name == "integer":
            params[key] = int(member.metadata.get("min", 1) or 1)
            break
    return params


def synthesize(op: Any, account: str, region: str, partition: str = "aws") -> dict[str, Any]:
    """Parameters for ``op``'s required members that name nothing that exists (see the module doc)."""
    shape = op.input_shape
    if shape is None:
        return {}
    out: dict[str, Any] = {}
    for name in shape.required_members:
        out[name] = _value(name, shape.members[name], account, region, partition, 0)
    return out


def _value(name: str, shape: Any, account: str, region: str, partition: str, depth: int) -> Any:
    kind = shape.type_name
    if kind == "string":
        if shape.enum:
            return shape.enum[0]
        if name == "AccountId":
            return account
        if name.endswith("Arn") or name.endswith("ARN"):
            return f"arn:{partition}:iam::{account}:role/{PROBE_NAME}"
        if name == "KeyId":
            return "00000000-0000-0000-0000-000000000000"
        if name == "InstanceId":
            return "i-00000000000000000"
        if name == "AccessKeyId":
            return "AKIA" + "0" * 16
        return PROBE_NAME
    if kind == "list":
        return [_value(name, shape.member, account, region, partition, depth + 1)]
    if kind == "structure" and depth < 3:
        return {
            m: _value(m, shape.members[m], account, region, partition, depth + 1)
            for m in shape.required_members
        }
    if kind in ("integer", "long"):
        return int(shape.metadata.get("min", 1) or 1)
    if kind == "boolean":
        return False
    return PROBE_NAME


def _one_line(text: str, limit: int = 200) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."
