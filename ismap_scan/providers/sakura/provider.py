"""``SakuraProvider``: the ``sakura`` entry point of the ``ismap_scan.providers`` group.

Collection plan for one API key (GET only, paced by one rate limiter, retried by urllib3):

1. ``GET /auth-status`` (global, via ``is1a``) -> the ``sakura.account`` record; its ``Account.ID`` is the
   snapshot's ``account``. When it fails (bad key: 401) nothing else is asked: the account record carries
   the error and a failed listing for every wanted type, so every check reports ERROR, never PASS.
2. Zones: ``settings.zones`` or every zone of ``GET /zone`` -> one ``sakura.zone`` record per zone.
3. In a thread pool: global listings once, zonal listings per zone, the IAM reads (auth conditions, password
   policy onto the account record; users) and object storage (sites -> buckets -> encryption). A listing
   that fails is an error with ``resource_type`` on the zone record (zonal types) or the account record.
4. Per-item reads (ProxyLB certificates), then joins that fill ``_derived`` fields across types: AutoBackup
   coverage onto disks, SimpleMonitor targets onto servers and ProxyLBs, resource counts onto zones.
5. :func:`~.parse.normalize`, the type's deriver, redaction (type rules + value patterns), sorting.

Constructing the provider and :meth:`SakuraProvider.resource_types` import neither requests nor urllib3.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ...errors import InputError
from ...evidence.redaction import RedactionRules, redact
from ...model import GLOBAL_REGION, CollectionError, Resource
from ..base import CollectOptions, Progress
from . import types as T
from .parse import DERIVERS, normalize
from .settings import SakuraSettings

#: Record ID of the account before auth-status answered (only ever seen when it failed).
UNKNOWN_ACCOUNT = "unknown"


def utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class SakuraProvider:
    """The Sakura Cloud provider. ``collect`` yields ``sakura.account``, one ``sakura.zone`` per scanned
    zone, then the other records sorted by (region, type, id)."""

    name = T.PROVIDER

    def settings_model(self) -> type[SakuraSettings]:
        """The pydantic model of the ``sakura:`` block of ``ismap-scan.yaml``."""
        return SakuraSettings

    def resource_types(self) -> list[str]:
        """Declared type names, sorted (``sakura.account``, ``sakura.database``, ...)."""
        return sorted(T.TYPES_BY_NAME)

    def global_resource_types(self) -> list[str]:
        """Types whose records are in region ``global`` (read once, not per zone)."""
        return T.global_resource_types()

    def redaction_rules(self) -> RedactionRules:
        """Per-type always-redacted paths (DB passwords, pre-shared keys, private keys, ...)."""
        return RedactionRules(fields=T.redaction_rules())

    def collect(self, options: CollectOptions, progress: Progress) -> Iterator[Resource]:
        """Collect everything the key can read; see the module doc for the plan.

        ``options.settings``: a :class:`SakuraSettings`, a dict of the ``sakura:`` block, or ``None``.
        Raises :class:`InputError` for unknown ``sakura.*`` types and
        :class:`~.credentials.SakuraCredentialsError` when no API key is configured; every API failure is
        recorded on the records instead. Records are redacted before they are yielded.
        """
        settings = _settings(options.settings)
        wanted = wanted_types(options.resource_types)
        from .client import SakuraClient
        from .credentials import resolve_credentials

        client = SakuraClient(settings, resolve_credentials(settings))
        workers = settings.max_workers or options.max_workers or 8
        try:
            records = _Scan(client, settings, wanted, progress, workers).run()
        finally:
            client.close()
        rules = self.redaction_rules()
        for record in records:
            yield redact(record, rules)


def _settings(raw: Any) -> SakuraSettings:
    if raw is None:
        return SakuraSettings()
    if isinstance(raw, SakuraSettings):
        return raw
    if isinstance(raw, dict):
        return SakuraSettings.model_validate(raw)
    raise InputError(f"sakura settings must be a mapping, got {type(raw).__name__}")


def wanted_types(requested: set[str] | None) -> list[T.ResourceType]:
    """Non-scope types to collect: all, or the requested ``sakura.*`` ones plus what their joins read
    (:data:`~.types.DEPENDS`). Raises :class:`InputError` for an unknown ``sakura.*`` type."""
    if requested is None:
        return [t for t in T.RESOURCE_TYPES if t.name not in T.SCOPE_TYPES]
    mine = {r for r in requested if r.startswith(T.PROVIDER + ".")}
    unknown = sorted(mine - set(T.TYPES_BY_NAME))
    if unknown:
        raise InputError(f"unknown Sakura Cloud resource type(s): {', '.join(unknown)}")
    stack = list(mine)
    while stack:
        for dep in T.DEPENDS.get(stack.pop(), ()):
            if dep not in mine:
                mine.add(dep)
                stack.append(dep)
    return [t for t in T.RESOURCE_TYPES if t.name in mine and t.name not in T.SCOPE_TYPES]


@dataclass
class _Listed:
    """A listing's outcome: raw items, or the error recorded on ``scope``."""

    rtype: T.ResourceType
    region: str
    items: list[dict[str, Any]] = field(default_factory=list)
    error: CollectionError | None = None


class _Scan:
    """One key's collection. Workers only call the API; records are built and mutated in this thread."""

    def __init__(
        self,
        client: Any,
        settings: SakuraSettings,
        wanted: list[T.ResourceType],
        progress: Progress,
        workers: int,
    ) -> None:
        self.client = client
        self.settings = settings
        self.wanted = wanted
        self.progress = progress
        self.workers = workers
        self.account = UNKNOWN_ACCOUNT
        self.account_record = self._record(T.ACCOUNT, {}, GLOBAL_REGION, rid=f"account/{UNKNOWN_ACCOUNT}")
        self.zone_records: dict[str, Resource] = {}
        self.listed: list[_Listed] = []

    # -- helpers --------------------------------------------------------------------------------------------

    def _record(
        self, rtype: T.ResourceType, data: dict[str, Any], region: str, rid: str, name: str | None = None
    ) -> Resource:
        return Resource(
            provider=T.PROVIDER,
            account=self.account,
            region=region,
            type=rtype.name,
            id=rid,
            name=name or rid,
            collected_at=utc_now(),
            data=data,
        )

    def _api_error(
        self, exc: Exception, field_name: str, call: str, rtype: str | None = None
    ) -> CollectionError:
        from .client import SakuraApiError

        if isinstance(exc, SakuraApiError):
            code = exc.code if exc.status is None else f"{exc.status} {exc.code}"
            return CollectionError(field_name, call, code, exc.message, resource_type=rtype)
        # A defect in parsing, not a cloud answer: recorded, the scan goes on.
        return CollectionError(field_name, call, f"Internal{type(exc).__name__}", str(exc)[:300], rtype)

    def _run_jobs(self, jobs: list[tuple[str, Callable[[], Any]]]) -> list[tuple[int, Any]]:
        """Run ``(description, fn)`` jobs in the pool; ``[(index, result or exception)]`` in input order.
        :class:`~.guard.ReadOnlyViolation` is re-raised (a defect must stop the scan)."""
        from .guard import ReadOnlyViolation

        if not jobs:
            return []
        self.progress.add_total(len(jobs))
        out: list[tuple[int, Any]] = []
        with ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="ismap-sakura") as pool:
            futures: dict[Future[Any], tuple[int, str]] = {
                pool.submit(fn): (i, desc) for i, (desc, fn) in enumerate(jobs)
            }
            for fut in as_completed(futures):
                i, desc = futures[fut]
                try:
                    out.append((i, fut.result()))
                except ReadOnlyViolation:
                    for other in futures:
                        other.cancel()
                    raise
                except Exception as exc:  # recorded by the caller
                    out.append((i, exc))
                self.progress.advance(desc)
        return sorted(out, key=lambda pair: pair[0])

    # -- plan -----------------------------------------------------------------------------------------------

    def run(self) -> list[Resource]:
        from .client import GLOBAL_ZONE

        if not self._identify(GLOBAL_ZONE):
            return [self.account_record]
        zones = self._zones(GLOBAL_ZONE)
        self._listings(zones, GLOBAL_ZONE)
        records = self._build_records()
        self._join(records)
        zones_sorted = [self.zone_records[z] for z in sorted(self.zone_records)]
        return [self.account_record, *zones_sorted, *sorted(records, key=Resource.sort_key)]

    def _identify(self, zone: str) -> bool:
        call = "iaas:GET auth-status"
        try:
            auth = self.client.get(self.client.zone_url(zone, "auth-status"))
        except Exception as exc:
            from .guard import ReadOnlyViolation

            if isinstance(exc, ReadOnlyViolation):
                raise
            err = self._api_error(exc, "*", call)
            self.account_record.errors.append(err)
            for rtype in [T.ZONE, *self.wanted]:
                self.account_record.errors.append(
                    CollectionError("*", err.call, err.code, err.message, resource_type=rtype.name)
                )
            return False
        auth = normalize(auth if isinstance(auth, dict) else {})
        account = (auth.get("Account") or {}).get("ID") if isinstance(auth.get("Account"), dict) else None
        self.account = str(account or UNKNOWN_ACCOUNT)
        self.account_record = self._record(
            T.ACCOUNT,
            {"AuthStatus": auth},
            GLOBAL_REGION,
            rid=f"account/{self.account}",
            name=str((auth.get("Account") or {}).get("Name") or self.account),
        )
        return True

    def _zones(self, global_zone: str) -> list[str]:
        """Zone names to scan; builds the zone records. A failed discovery with ``zones: all`` is a failed
        listing of every zonal type on the account record."""
        discovered: dict[str, dict[str, Any]] = {}
        error: CollectionError | None = None
        try:
            for item in self.client.list_all(global_zone, "zone", "Zones"):
                item = normalize(item)
                if item.get("Name"):
                    discovered[str(item["Name"])] = item
        except Exception as exc:
            error = self._api_error(exc, "Zones", "iaas:GET zone")
        if self.settings.zones == "all":
            if error is not None:
                self.account_record.errors.append(error)
                for rtype in [T.ZONE, *self.wanted]:
                    if rtype.scope == "zone":
                        self.account_record.errors.append(
                            CollectionError("*", error.call, error.code, error.message, rtype.name)
                        )
                return []
            names = sorted(discovered)
        else:
            names = list(self.settings.zones)
            if error is not None:
                self.account_record.errors.append(error)
        for name in names:
            data = discovered.get(name) or {"Name": name}
            self.zone_records[name] = self._record(T.ZONE, dict(data), name, rid=f"zone/{name}", name=name)
        return names

    def _listings(self, zones: list[str], global_zone: str) -> None:
        jobs: list[tuple[str, Callable[[], Any]]] = []
        plan: list[tuple[T.ResourceType, str]] = []
        for rtype in self.wanted:
            if rtype.api == "iaas":
                where = zones if rtype.scope == "zone" else [GLOBAL_REGION]
                for region in where:
                    zone = region if region != GLOBAL_REGION else global_zone
                    jobs.append((f"{rtype.name} {region}", self._lister(rtype, zone)))
                    plan.append((rtype, region))
            elif rtype.api == "iam":
                jobs.append((rtype.name, self._iam_lister(rtype)))
                plan.append((rtype, GLOBAL_REGION))
            elif rtype.api == "objectstorage":
                jobs.append((rtype.name, self._buckets))
                plan.append((rtype, GLOBAL_REGION))
        # The account's IAM settings (not a listing: errors go on the fields).
        account_reads = [
            ("AuthConditions", "organization-auth-conditions"),
            ("PasswordPolicy", "organization-password-policy"),
        ]
        for _fld, path in account_reads:
            jobs.append((f"sakura iam {path}", self._iam_getter(path)))
        results = self._run_jobs(jobs)
        for i, result in results[: len(plan)]:
            rtype, region = plan[i]
            scope = self.account_record if region == GLOBAL_REGION else self.zone_records[region]
            if isinstance(result, Exception):
                err = self._api_error(result, "*", rtype.call, rtype.name)
                scope.errors.append(err)
                self.listed.append(_Listed(rtype, region, error=err))
            else:
                self.listed.append(_Listed(rtype, region, items=result))
        for (_i, result), (fld, path) in zip(results[len(plan) :], account_reads, strict=True):
            if isinstance(result, Exception):
                self.account_record.errors.append(self._api_error(result, fld, f"iam:GET {path}"))
            else:
                self.account_record.data[fld] = normalize(result)
        self._details()

    def _lister(self, rtype: T.ResourceType, zone: str) -> Callable[[], list[dict[str, Any]]]:
        return lambda: self.client.list_all(zone, rtype.path, rtype.envelope, rtype.filter or None)

    def _iam_lister(self, rtype: T.ResourceType) -> Callable[[], list[dict[str, Any]]]:
        url = f"{self.settings.iam_api_root()}/{rtype.path}"
        return lambda: self.client.list_items_api(url)

    def _iam_getter(self, path: str) -> Callable[[], Any]:
        url = f"{self.settings.iam_api_root()}/{path}"
        return lambda: self.client.get(url)

    def _buckets(self) -> list[dict[str, Any]]:
        """Every bucket of every object-storage site, each with ``Site`` and ``Encryption``."""
        from .client import SakuraApiError

        root = self.settings.objectstorage_api_root()
        sites = self.client.get(f"{root}/fed/v1/clusters").get("data") or []
        out: list[dict[str, Any]] = []
        for site in sites:
            site_id = site.get("id") if isinstance(site, dict) else None
            if not site_id:
                continue
            for bucket in self.client.get(f"{root}/{site_id}/v2/buckets").get("data") or []:
                if not isinstance(bucket, dict) or not bucket.get("name"):
                    continue
                item = {**bucket, "Site": site_id}
                try:
                    enc = self.client.get(f"{root}/{site_id}/v2/buckets/{bucket['name']}/encryption")
                    item["Encryption"] = (enc.get("data") if isinstance(enc, dict) else None) or None
                except SakuraApiError as exc:
                    if exc.status != 404:
                        raise
                    item["Encryption"] = None  # 404: no encryption configured
                out.append(item)
        return out

    def _details(self) -> None:
        """Per-item sub-reads (``SubRead``), in the pool; the answers are written into the raw items."""
        from .client import SakuraApiError

        jobs: list[tuple[str, Callable[[], Any]]] = []
        targets: list[tuple[dict[str, Any], T.SubRead, T.ResourceType, str]] = []
        for listed in self.listed:
            for sub in listed.rtype.details:
                zone = listed.region if listed.region != GLOBAL_REGION else "is1a"
                for item in listed.items:
                    url = self.client.zone_url(zone, f"{listed.rtype.path}/{item.get('ID')}/{sub.suffix}")
                    jobs.append(
                        (f"{listed.rtype.name} {item.get('ID')} {sub.suffix}", _getter(self.client, url))
                    )
                    targets.append((item, sub, listed.rtype, url))
        for i, result in self._run_jobs(jobs):
            item, sub, rtype, _url = targets[i]
            if isinstance(result, SakuraApiError) and result.status == 404 and sub.not_found_is_none:
                item[sub.field] = None
            elif isinstance(result, Exception):
                call = f"iaas:GET {rtype.path}/{{ID}}/{sub.suffix}"
                item.setdefault("__errors__", []).append(self._api_error(result, sub.field, call))
            else:
                item[sub.field] = result.get(sub.envelope) if isinstance(result, dict) else None

    # -- records --------------------------------------------------------------------------------------------

    def _build_records(self) -> list[Resource]:
        records: list[Resource] = []
        seen: set[str] = set()
        for listed in self.listed:
            if listed.error is not None:
                continue
            scope = (
                self.account_record if listed.region == GLOBAL_REGION else self.zone_records[listed.region]
            )
            for raw in listed.items:
                errors = raw.pop("__errors__", [])
                rid, name = _identity(listed.rtype, raw, listed.region)
                if rid is None:
                    scope.errors.append(
                        CollectionError(
                            "*", listed.rtype.call, "MalformedItem", "item without an ID", listed.rtype.name
                        )
                    )
                    continue
                if rid in seen:
                    continue
                seen.add(rid)
                data = normalize(raw)
                if listed.rtype.derive:
                    try:
                        data["_derived"] = DERIVERS[listed.rtype.derive](data)
                    except Exception as exc:  # a deriver defect leaves only its fields unknown
                        errors.append(
                            CollectionError(
                                "_derived",
                                "ismap-scan:derive",
                                f"Internal{type(exc).__name__}",
                                str(exc)[:300],
                            )
                        )
                rec = self._record(listed.rtype, data, listed.region, rid=rid, name=name)
                rec.errors.extend(errors)
                records.append(rec)
        return records

    def _join(self, records: list[Resource]) -> None:
        by_type: dict[str, list[Resource]] = {}
        for r in records:
            by_type.setdefault(r.type, []).append(r)
        failed = {(lst.rtype.name, lst.region): lst.error for lst in self.listed if lst.error is not None}
        collected = {lst.rtype.name for lst in self.listed}

        # AutoBackup (zonal) -> disks of the same zone.
        covered: dict[str, list[str]] = {}
        for ab in by_type.get(T.AUTO_BACKUP.name, []):
            disk_id = (
                ((ab.data.get("Status") or {}).get("DiskID"))
                if isinstance(ab.data.get("Status"), dict)
                else None
            )
            if disk_id:
                covered.setdefault(str(disk_id), []).append(str(ab.data.get("ID")))
        for disk in by_type.get(T.DISK.name, []):
            err = failed.get((T.AUTO_BACKUP.name, disk.region))
            if err is not None:
                disk.errors.append(CollectionError("_derived.AutoBackupIDs", err.call, err.code, err.message))
            else:
                disk.data.setdefault("_derived", {})["AutoBackupIDs"] = sorted(
                    covered.get(str(disk.data.get("ID")), [])
                )

        # SimpleMonitor targets -> servers' public IPs and ProxyLB endpoints.
        targets: dict[str, list[str]] = {}
        for mon in by_type.get(T.SIMPLE_MONITOR.name, []):
            status = mon.data.get("Status") if isinstance(mon.data.get("Status"), dict) else {}
            target = str((status or {}).get("Target") or "").strip().lower()
            if target:
                targets.setdefault(target, []).append(str(mon.data.get("ID")))
        mon_err = failed.get((T.SIMPLE_MONITOR.name, GLOBAL_REGION))
        for rtype, key in ((T.SERVER.name, "PublicIPs"), (T.PROXY_LB.name, "Endpoints")):
            for rec in by_type.get(rtype, []):
                derived = rec.data.setdefault("_derived", {})
                if mon_err is not None and derived.get(key):  # nothing public: nothing to monitor, no unknown
                    rec.errors.append(
                        CollectionError("_derived.MonitoredBy", mon_err.call, mon_err.code, mon_err.message)
                    )
                    continue
                ids = {m for ep in derived.get(key) or [] for m in targets.get(str(ep).lower(), [])}
                derived["MonitoredBy"] = sorted(ids)

        # Zonal record counts -> zone records (for the allowed-zones check).
        all_zonal = all(t.name in collected for t in T.ZONAL_TYPES)
        for zone, zrec in self.zone_records.items():
            errs = [e for (t, region), e in failed.items() if region == zone and e is not None]
            if not all_zonal:
                zrec.errors.append(
                    CollectionError(
                        "_derived.ResourceCount",
                        "ismap-scan:collect",
                        "NotCollected",
                        "not every zonal type was collected",
                    )
                )
            elif errs:
                e = errs[0]
                zrec.errors.append(CollectionError("_derived.ResourceCount", e.call, e.code, e.message))
            else:
                count = sum(1 for r in records if r.region == zone)
                zrec.data.setdefault("_derived", {})["ResourceCount"] = count


def _getter(client: Any, url: str) -> Callable[[], Any]:
    return lambda: client.get(url)


def _identity(rtype: T.ResourceType, raw: dict[str, Any], region: str) -> tuple[str | None, str]:
    """Record ID and name of a listed item: ``{zone|global}/{short}/{ID}``; buckets
    ``objectstorage/{site}/{name}``; IAM items by ``id``."""
    if rtype is T.BUCKET:
        bucket = str(raw.get("name") or "")
        return (f"objectstorage/{raw.get('Site')}/{bucket}" if bucket else None), bucket
    ident = raw.get("ID") if rtype.api == "iaas" else raw.get("id")
    if ident is None or str(ident).strip() == "":
        return None, ""
    rid = f"{region}/{rtype.short}/{ident}"
    label = raw.get("Name") if rtype.api == "iaas" else raw.get("name")
    return rid, str(label or rid)
