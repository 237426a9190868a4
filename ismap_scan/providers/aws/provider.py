"""``AwsProvider``: the ``aws`` entry point of the ``ismap_scan.providers`` group.

Collection plan for one account (all of it read-only, through guarded per-thread sessions):

1. credentials (default chain, profile or assumed role) and ``sts:GetCallerIdentity`` -> account, partition;
2. ``ec2:DescribeRegions`` -> regions to scan;
3. in a thread pool of ``max_workers``: the account record (+ credential report), one region record per
   region (a region that cannot be reached gets one error and nothing else is tried there), a listing per
   (type, region) for regional types or per type for account-wide ones, then one job per listed item;
4. joins done after all jobs finish (credential-report rows onto IAM users), redaction, sorting.

Constructing the provider and :meth:`AwsProvider.resource_types` do not import boto3.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any

from ...errors import InputError
from ...evidence.redaction import RedactionRules, redact
from ...model import GLOBAL_REGION, CollectionError, Resource
from ..base import CollectOptions, Progress
from . import types as T
from .collectors import (
    PROVIDER,
    ScanContext,
    classify_error,
    describe_item,
    list_items,
    record_id,
    record_name,
    region_closed,
    utc_now,
)
from .guard import ReadOnlyViolation
from .session import SessionFactory
from .settings import AwsSettings

#: Field of ``aws.iam.user`` filled from the credential report after collection.
_REPORT_ROW_FIELD = "CredentialReportRow"


class AwsProvider:
    """The AWS provider. ``collect`` yields ``aws.account``, one ``aws.region`` per scanned region, then
    the declared types asked for, sorted by (region, type, id) after the scope records."""

    name = "aws"

    def settings_model(self) -> type[AwsSettings]:
        """The pydantic model of the ``aws:`` block of ``ismap-scan.yaml``."""
        return AwsSettings

    def resource_types(self) -> list[str]:
        """Declared type names, sorted (``aws.account``, ``aws.cloudtrail.trail``, ...)."""
        return sorted(T.TYPES_BY_NAME)

    def required_permissions(self) -> list[str]:
        """IAM actions a scanning principal needs (derived from the declarations)."""
        return T.required_permissions()

    def redaction_rules(self) -> RedactionRules:
        """Per-type always-redacted paths for :func:`~ismap_scan.evidence.redaction.redact`."""
        return RedactionRules(fields=T.redaction_rules())

    def collect(self, options: CollectOptions, progress: Progress) -> Iterator[Resource]:
        """Collect one account; see the module doc for the plan.

        ``options.settings``: an :class:`AwsSettings`, a dict of the ``aws:`` block, or ``None`` (defaults).
        Raises :class:`InputError` for unknown ``aws.*`` types in ``options.resource_types`` and
        :class:`~.session.AwsCredentialsError` when no identity can be established; every other failure is
        recorded on the records. Records are redacted before they are yielded.
        """
        settings = _settings(options.settings)
        wanted = self._wanted(options.resource_types)
        from .session import SessionFactory
        from .special import identify

        factory = SessionFactory.create(settings, options.client_hooks)
        account, partition = identify(factory)
        workers = settings.max_workers or options.max_workers or 8
        rules = self.redaction_rules()
        org = settings.organization
        if org is not None and org.enabled:
            batches = _collect_organization(factory, account, partition, settings, wanted, progress, workers)
        else:
            ctx = ScanContext(factory=factory, account=account, partition=partition)
            batches = iter([_AccountScan(ctx, settings, wanted, progress, workers).run()])
        for records in batches:
            for record in records:
                yield redact(record, rules)

    def doctor(self, options: CollectOptions) -> list[Any]:
        """Pre-flight checks for a scan with ``options``: credentials, identity, regions, accounts and one
        dry-run read per declared operation (see :mod:`.doctor`).

        Returns :class:`~ismap_scan.providers.diagnostics.DoctorCheck` items. Credential and AWS problems
        are reported as checks, not raised; raises :class:`InputError` for bad settings only.
        """
        from .doctor import run_doctor

        return run_doctor(
            _settings(options.settings), options.client_hooks, self._wanted(options.resource_types)
        )

    def permissions_policy(self) -> dict[str, Any]:
        """The least-privilege identity policy of the collectors (``docs/aws-iam-policy.json``)."""
        return T.iam_policy_document()

    def _wanted(self, requested: set[str] | None) -> list[T.ResourceType]:
        """Non-scope types to collect: all declared, or those of ``requested`` that are ``aws.*``."""
        scope = {T.ACCOUNT.name, T.REGION.name}
        if requested is None:
            return [t for t in T.RESOURCE_TYPES if t.name not in scope]
        mine = {r for r in requested if r.startswith("aws.")}
        unknown = sorted(mine - set(T.TYPES_BY_NAME))
        if unknown:
            raise InputError(f"unknown AWS resource type(s): {', '.join(unknown)}")
        return [t for t in T.RESOURCE_TYPES if t.name in mine and t.name not in scope]


class _LockedProgress:
    """Serialises progress calls from accounts collected in parallel (each has its own calling thread)."""

    def __init__(self, inner: Progress) -> None:
        self._inner = inner
        self._lock = threading.Lock()

    def add_total(self, n: int) -> None:
        with self._lock:
            self._inner.add_total(n)

    def advance(self, description: str) -> None:
        with self._lock:
            self._inner.advance(description)


def _collect_organization(
    base: SessionFactory,
    current: str,
    partition: str,
    settings: AwsSettings,
    wanted: list[T.ResourceType],
    progress: Progress,
    workers: int,
) -> Iterator[list[Resource]]:
    """Every planned account's records, one list per account in account-ID order (see ``organization.py``).

    Accounts run ``max_parallel_accounts`` at a time, each with its own pool of ``workers`` threads. One
    account failing (role refused, identity check failed) gives that account an error record only.
    """
    from .organization import plan_accounts, unscanned_account_record
    from .special import identify

    org = settings.organization
    assert org is not None
    plan = plan_accounts(base, current, partition, org)
    shared = _LockedProgress(progress)
    wanted_names = [t.name for t in wanted]

    def scan_one(target: Any) -> list[Resource]:
        factory = base
        if target.role_arn is not None:
            call = "sts:AssumeRole"
            try:
                factory = base.assume(target.role_arn, org.external_id)
                call = "sts:GetCallerIdentity"
                account, part = identify(factory)
            except ReadOnlyViolation:
                raise
            except Exception as exc:  # this account only: recorded on its record, the scan goes on
                code, message = classify_error(exc.__cause__ or exc)
                error = CollectionError("*", call, code, f"{target.role_arn}: {message}")
                return [
                    unscanned_account_record(target.account_id, partition, error, wanted_names, target.entry)
                ]
        else:
            account, part = current, partition
        ctx = ScanContext(factory=factory, account=account, partition=part)
        records = _AccountScan(ctx, settings, wanted, shared, workers).run()
        if target.entry:
            records[0].data["OrganizationAccount"] = target.entry
        if target.role_arn is None and plan.discovery_error is not None:
            records[0].errors.append(plan.discovery_error)
        return records

    failed = [
        unscanned_account_record(acct, partition, err, wanted_names)
        for acct, err in plan.account_errors.items()
    ]
    by_account: dict[str, list[Resource]] = {r.account: [r] for r in failed}
    with ThreadPoolExecutor(max_workers=org.max_parallel_accounts, thread_name_prefix="ismap-acct") as pool:
        for target, records in zip(plan.targets, pool.map(scan_one, plan.targets), strict=True):
            by_account[target.account_id] = records
    for account_id in sorted(by_account):
        yield by_account[account_id]


def _settings(raw: Any) -> AwsSettings:
    if raw is None:
        return AwsSettings()
    if isinstance(raw, AwsSettings):
        return raw
    if isinstance(raw, dict):
        return AwsSettings.model_validate(raw)
    raise InputError(f"aws settings must be a mapping, got {type(raw).__name__}")


class _AccountScan:
    """One account's collection: a pool of workers, with all record mutation in the calling thread."""

    def __init__(
        self,
        ctx: ScanContext,
        settings: AwsSettings,
        wanted: list[T.ResourceType],
        progress: Progress,
        workers: int,
    ) -> None:
        self.ctx = ctx
        self.settings = settings
        self.wanted = wanted
        self.progress = progress
        self.workers = workers
        self.account_record = self._scope_record(T.ACCOUNT, {"AccountId": ctx.account}, GLOBAL_REGION)
        self.region_records: dict[str, Resource] = {}
        self.records: list[Resource] = []
        self.seen: dict[str, set[str]] = {}
        self.report: Any = None
        self._pending: dict[Future[Any], tuple[str, Callable[[Any], None]]] = {}
        self._pool: ThreadPoolExecutor | None = None

    # -- plumbing -------------------------------------------------------------------------------------------

    def _submit(self, description: str, fn: Callable[[], Any], then: Callable[[Any], None]) -> None:
        assert self._pool is not None
        self.progress.add_total(1)
        self._pending[self._pool.submit(fn)] = (description, then)

    def _scope_record(self, rtype: T.ResourceType, item: dict[str, Any], region: str) -> Resource:
        rid = record_id(self.ctx, rtype, item, region)
        return Resource(
            provider=PROVIDER,
            account=self.ctx.account,
            region=region,
            type=rtype.name,
            id=rid,
            name=record_name(rtype, item, rid),
            collected_at=utc_now(),
            data=dict(item),
        )

    # -- plan -----------------------------------------------------------------------------------------------

    def run(self) -> list[Resource]:
        """Collect everything; returns the records sorted (account, regions, then the rest)."""
        from .special import collect_credential_report, discover_regions

        with ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="ismap-aws") as pool:
            self._pool = pool
            try:
                self._submit(
                    "aws account",
                    lambda: describe_item(
                        self.ctx, T.ACCOUNT, {"AccountId": self.ctx.account}, GLOBAL_REGION
                    ),
                    self._account_done,
                )
                self._submit(
                    "iam credential report",
                    lambda: collect_credential_report(self.ctx, self.settings.credential_report_timeout),
                    self._report_done,
                )
                self._submit(
                    "ec2 regions",
                    lambda: discover_regions(self.ctx.factory, self.settings.regions),
                    self._regions_done,
                )
                for rtype in self.wanted:
                    if rtype.scope == "account":
                        self._list(rtype, self.ctx.factory.default_region, self.account_record)
                self._drain()
            except BaseException:
                for fut in self._pending:
                    fut.cancel()
                raise
        self._join_credential_report()
        regions = sorted(self.region_records.values(), key=Resource.sort_key)
        rest = sorted(self.records, key=Resource.sort_key)
        return [self.account_record, *regions, *rest]

    def _drain(self) -> None:
        while self._pending:
            done, _ = wait(list(self._pending), return_when=FIRST_COMPLETED)
            for fut in done:
                description, then = self._pending.pop(fut)
                then(fut.result())  # job functions never raise except ReadOnlyViolation (a defect)
                self.progress.advance(description)

    # -- callbacks (calling thread) ---------------------------------------------------------------------------

    def _account_done(self, described: Resource) -> None:
        self.account_record.data.update(described.data)
        self.account_record.errors.extend(described.errors)
        self.account_record.collected_at = described.collected_at

    def _report_done(self, report: Any) -> None:
        self.report = report
        data, errors = self.account_record.data, self.account_record.errors
        if report.error is not None:
            errors.append(report.error)
            e = report.error
            errors.append(CollectionError("RootCredentials", e.call, e.code, e.message))
            return
        data["CredentialReport"] = report.report
        root = report.root_row()
        if root is not None:
            data["RootCredentials"] = root
        else:
            errors.append(
                CollectionError(
                    "RootCredentials",
                    "iam:GetCredentialReport",
                    "RootRowMissing",
                    f"the credential report has no {'<root_account>'} row",
                )
            )

    def _regions_done(self, plan: Any) -> None:
        self.account_record.errors.extend(plan.account_errors)
        for name, opt_in in plan.regions.items():
            record = self._scope_record(T.REGION, {"RegionName": name, "OptInStatus": opt_in}, name)
            record.errors.extend(plan.region_errors.get(name, []))
            self.region_records[name] = record
            if any(e.field == "*" for e in record.errors):
                continue  # unknown region: nothing to ask it
            if opt_in == "not-opted-in":
                # Listed explicitly but not enabled for the account: every call there would fail the same way.
                message = (
                    f"{name} is not enabled for this account (ec2:DescribeRegions OptInStatus not-opted-in)"
                )
                self._close_region(
                    record, CollectionError("*", "ec2:DescribeRegions", "OptInRequired", message)
                )
                continue
            self._submit(
                f"aws region {name}",
                functools.partial(describe_item, self.ctx, T.REGION, dict(record.data), name),
                functools.partial(self._region_done, name),
            )

    def _close_region(self, record: Resource, first: CollectionError) -> None:
        """Mark a region that cannot be used: one error on its record (field ``"*"``) and one listing error
        per wanted regional type, so every check on those types reports ERROR there instead of silently
        seeing no resources. Nothing else is asked of the region."""
        record.errors.append(CollectionError("*", first.call, first.code, first.message))
        for rtype in self.wanted:
            if rtype.scope == "region":
                record.errors.append(
                    CollectionError("*", first.call, first.code, first.message, resource_type=rtype.name)
                )

    def _region_done(self, name: str, described: Resource) -> None:
        record = self.region_records[name]
        details = [e for e in described.errors if e.field in ("EbsEncryptionByDefault", "EbsDefaultKmsKeyId")]
        if len(details) == len(T.REGION.details) and all(region_closed(e) for e in details):
            # Every probe found the region closed (unreachable, not enabled, or denied by an SCP).
            self._close_region(record, details[0])
            return
        record.data.update(described.data)
        record.errors.extend(described.errors)
        record.collected_at = described.collected_at
        for rtype in self.wanted:
            if rtype.scope == "region":
                self._list(rtype, name, record)

    def _list(self, rtype: T.ResourceType, region: str, scope: Resource) -> None:
        def job() -> tuple[list[dict[str, Any]] | None, CollectionError | None]:
            try:
                return list_items(self.ctx, rtype, region), None
            except ReadOnlyViolation:
                raise
            except Exception as exc:  # recorded on the scope record, see architecture "listing that fails"
                code, message = classify_error(exc)
                call = f"{rtype.service}:{rtype.list_operation}"
                return None, CollectionError("*", call, code, message, resource_type=rtype.name)

        self._submit(f"{rtype.name} list {region}", job, lambda res: self._listed(rtype, region, scope, res))

    def _listed(self, rtype: T.ResourceType, region: str, scope: Resource, result: Any) -> None:
        items, error = result
        if error is not None:
            scope.errors.append(error)
            return
        seen = self.seen.setdefault(rtype.name, set())
        for item in items:
            try:
                key = record_id(self.ctx, rtype, item, region)
            except KeyError as exc:
                call = f"{rtype.service}:{rtype.list_operation}"
                scope.errors.append(
                    CollectionError(
                        "*", call, "MalformedItem", f"item without {exc}", resource_type=rtype.name
                    )
                )
                continue
            if key in seen:
                continue  # listed again in another region (a multi-region trail's shadow copy)
            seen.add(key)
            self._submit(
                f"{rtype.name} {key}",
                functools.partial(self._describe, rtype, item, region, scope),
                self._described,
            )

    def _describe(self, rtype: T.ResourceType, item: dict[str, Any], region: str, scope: Resource) -> Any:
        try:
            return describe_item(self.ctx, rtype, item, region)
        except ReadOnlyViolation:
            raise
        except Exception as exc:  # a defect in a declaration or deriver: record it, keep scanning
            code, message = classify_error(exc)
            call = f"{rtype.service}:{rtype.list_operation}"
            return scope, CollectionError("*", call, f"Internal{code}", message, resource_type=rtype.name)

    def _described(self, result: Any) -> None:
        if isinstance(result, Resource):
            self.records.append(result)
        else:
            scope, error = result
            scope.errors.append(error)

    # -- joins ------------------------------------------------------------------------------------------------

    def _join_credential_report(self) -> None:
        """Put each IAM user's credential-report row on its record (``CredentialReportRow``)."""
        report = self.report
        for record in _of_type(self.records, T.IAM_USER.name):
            if report is None or report.error is not None:
                e = report.error if report is not None else None
                record.errors.append(
                    CollectionError(
                        _REPORT_ROW_FIELD,
                        e.call if e else "iam:GetCredentialReport",
                        e.code if e else "NotCollected",
                        e.message if e else "credential report not collected",
                    )
                )
                continue
            row = report.row_for(record.id)
            if row is None:
                # Reports are cached by IAM for up to 4 hours: a newer user has no row yet.
                record.errors.append(
                    CollectionError(
                        _REPORT_ROW_FIELD,
                        "iam:GetCredentialReport",
                        "UserRowMissing",
                        f"the credential report has no row for {record.id}",
                    )
                )
            else:
                record.data[_REPORT_ROW_FIELD] = row


def _of_type(records: Iterable[Resource], rtype: str) -> Iterator[Resource]:
    return (r for r in records if r.type == rtype)
