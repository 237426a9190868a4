"""The pipeline behind ``scan``, ``collect``, ``evaluate`` and ``report``: each stage reads the previous one's output.

A scan folder ``OUT/<scan-id>/`` holds ``manifest.json``, ``snapshot.jsonl.gz``, ``results.jsonl``,
``controls.json`` and the reports. Nothing here names a cloud: providers come from entry points.
"""

from __future__ import annotations

import fnmatch
import logging
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import __version__
from .config import ScanConfig
from .engine import CheckSet, evaluate, load_checks
from .errors import InputError, IsmapScanError
from .ismap.assertion import copy_statement, load_for_scan
from .ismap.rollup import controls_document, scope_check
from .mappings import load_catalog, load_check_map, rollup
from .model import GLOBAL_REGION, Resource, Result, Severity, Verdict
from .paths import checks_dir
from .providers.base import CollectOptions, NullProgress, Progress, get_provider, load_providers
from .reports import ReportMeta, write_reports
from .snapshot import (
    CONTROLS_FILE,
    MANIFEST_FILE,
    MANIFEST_SCHEMA,
    RESULTS_FILE,
    SNAPSHOT_FILE,
    FileDigest,
    file_sha256,
    new_scan_id,
    utc_now,
    write_json,
    write_results,
    write_snapshot,
)

log = logging.getLogger(__name__)


@dataclass
class CollectOutcome:
    """What collection produced: records, plus failures of a whole provider (its records so far are kept)."""

    resources: list[Resource]
    provider_failures: dict[str, str] = field(default_factory=dict)
    started_at: str = ""
    finished_at: str = ""


def known_resource_types() -> set[str]:
    """Every resource type the installed providers declare (no SDK import)."""
    types: set[str] = set()
    for name in load_providers():
        types.update(get_provider(name).resource_types())
    return types


def build_checkset(
    cfg: ScanConfig, only_ids: list[str] | None = None, providers: list[str] | None = None
) -> CheckSet:
    """Load bundled + configured checks, bind params, and apply the config's selection.

    ``only_ids`` (from ``--checks``) adds to ``checks.include``. ``providers`` limits the checks to those
    providers (default: the configured ones; none configured = all). Raises :class:`InputError` when the
    selection names no existing check or nothing is left.
    """
    wanted_providers = set(providers if providers is not None else cfg.providers)
    checks = load_checks(
        dirs=[checks_dir(), *cfg.checks.dirs],
        params=cfg.checks.params,
        known_types=known_resource_types(),
        params_file=cfg.source,
    )
    include = list(cfg.checks.include) + list(only_ids or [])
    for pattern in include + list(cfg.checks.exclude):
        if not any(fnmatch.fnmatchcase(c.id, pattern) for c in checks):
            raise InputError(f"check selection {pattern!r} matches no check (see `ismap-scan checks list`)")
    selected = []
    for c in checks:
        if include and not any(fnmatch.fnmatchcase(c.id, p) for p in include):
            continue
        if any(fnmatch.fnmatchcase(c.id, p) for p in cfg.checks.exclude):
            continue
        if cfg.checks.services and c.id.split(".")[1] not in cfg.checks.services:
            continue
        if Severity(c.severity).rank < cfg.checks.min_severity.rank:
            continue
        if wanted_providers and c.id.split(".")[0] not in wanted_providers:
            continue
        selected.append(c.id)
    if not selected:
        raise InputError("the check selection leaves no check to run")
    return checks.select(ids=selected)


def collect(
    cfg: ScanConfig,
    checks: CheckSet | None,
    progress: Progress | None = None,
    client_hooks: dict[str, list[Any]] | None = None,
) -> CollectOutcome:
    """Run every configured provider's collection. A provider that raises keeps what it yielded so far."""
    progress = progress or NullProgress()
    out = CollectOutcome(resources=[], started_at=utc_now())
    needed = checks.resource_types() if checks is not None else None
    for name, settings in cfg.providers.items():
        provider = get_provider(name)
        types = None
        if needed is not None:
            types = {t for t in needed if t.startswith(name + ".")}
        opts = CollectOptions(
            settings=settings,
            resource_types=types,
            client_hooks=list((client_hooks or {}).get(name, [])),
        )
        try:
            for record in provider.collect(opts, progress):
                out.resources.append(record)
        except IsmapScanError:
            raise  # configuration or credentials: nothing sensible was collected, exit with the message
        except Exception as exc:  # keep what was collected; the failure is in the manifest and summary
            log.debug("provider %s failed", name, exc_info=True)
            out.provider_failures[name] = f"{type(exc).__name__}: {exc}"
    out.finished_at = utc_now()
    return out


def unseen_summary(
    resources: Iterable[Resource], limit: int = 200, provider_failures: dict[str, str] | None = None
) -> list[str]:
    """Human-readable lines for what collection could not read, grouped by call and error code.

    A provider that stopped early (``provider_failures``: name → reason) comes first: everything it had not
    yet collected is unseen.
    """
    head = [
        f"{name}: collection stopped early: {why}" for name, why in sorted((provider_failures or {}).items())
    ]
    groups: Counter[tuple[str, str, str, str, str]] = Counter()
    for r in resources:
        for e in r.errors:
            groups[(r.provider, r.account, r.region, e.call, e.code)] += 1
    lines = []
    for (provider, account, region, call, code), n in sorted(groups.items()):
        lines.append(f"{provider} {account} {region}: {call} {code} ({n} {'read' if n == 1 else 'reads'})")
    if len(lines) > limit:
        rest = len(lines) - limit
        lines = [*lines[:limit], f"... and {rest} more groups (see the errors in snapshot.jsonl.gz)"]
    return head + lines


def scope_of(resources: Iterable[Resource]) -> dict[str, Any]:
    """``{"providers": [...], "accounts": {provider: [...]}, "regions": {provider: [...]}}`` seen in records."""
    accounts: dict[str, set[str]] = {}
    regions: dict[str, set[str]] = {}
    for r in resources:
        accounts.setdefault(r.provider, set()).add(r.account)
        if r.region != GLOBAL_REGION:
            regions.setdefault(r.provider, set()).add(r.region)
    return {
        "providers": sorted(accounts),
        "accounts": {p: sorted(a) for p, a in sorted(accounts.items())},
        "regions": {p: sorted(a) for p, a in sorted(regions.items())},
    }


def new_scan_folder(output_dir: Path) -> tuple[str, Path]:
    """Create ``output_dir/<new scan ID>/``; :class:`InputError` (exit 2) when ``output_dir`` is a file or
    cannot be created or written (``/etc/passwd``, ``/proc/x``, a read-only mount)."""
    scan_id = new_scan_id()
    folder = output_dir / scan_id
    if output_dir.exists() and not output_dir.is_dir():
        raise InputError(f"output.dir {output_dir} exists and is not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=False)
    except OSError as exc:
        raise InputError(
            f"output.dir {output_dir}: cannot create the scan folder: {exc.strerror or exc}"
        ) from None
    return scan_id, folder


def write_collect_outputs(folder: Path, outcome: CollectOutcome) -> FileDigest:
    return write_snapshot(folder / SNAPSHOT_FILE, outcome.resources)


def evaluate_and_report(
    cfg: ScanConfig,
    checks: CheckSet,
    resources: list[Resource],
    folder: Path,
    scan_id: str,
    started_at: str,
    finished_at: str,
    formats: list[str],
    *,
    unseen: list[str] | None = None,
    demo: bool = False,
) -> tuple[list[Result], list[Path], list[dict[str, Any]]]:
    """Evaluate, roll up controls, write results.jsonl, controls.json and the reports into ``folder``.

    ``unseen`` overrides the collection-gap lines computed from the records (the caller adds provider
    failures); ``demo`` marks the reports as coming from the demo estate.
    """
    check_map = load_check_map(cfg.catalog)
    catalog = load_catalog(cfg.catalog)
    results = evaluate(resources, checks, check_map)
    write_results(folder / RESULTS_FILE, results)
    assertion = load_for_scan(cfg.assertion, catalog, set(check_map) | set(checks.ids()))
    if assertion is not None:  # keep the statement used with the scan (the manifest then hashes it)
        copy_statement(assertion, folder)
    controls = [c.to_dict() for c in rollup(results, check_map, catalog, assertion)]
    scope_diff = scope_check(results, assertion, scope_of(resources))  # statement scope vs scanned
    write_json(folder / CONTROLS_FILE, controls_document(catalog, controls, assertion, scope=scope_diff))
    meta = ReportMeta(
        scan_id=scan_id,
        tool_version=__version__,
        check_pack_hash=checks.pack_hash(),
        catalog_version=cfg.catalog,
        started_at=started_at,
        finished_at=finished_at,
        scope=scope_of(resources),
        language=cfg.output.lang,
        timezone=cfg.output.timezone,
        controls=controls,
        assertion=assertion.summary() if assertion else None,
        unseen=unseen if unseen is not None else unseen_summary(resources),
        demo=demo,
        statement_scope=scope_diff.to_dict() if assertion else None,
    )
    fmts = [f for f in formats if f != "jsonl"]
    reports = write_reports(results, folder, fmts, meta) if fmts else []
    return results, reports, controls


def write_manifest(
    folder: Path,
    scan_id: str,
    *,
    kind: str,
    cfg: ScanConfig,
    checks: CheckSet | None,
    started_at: str,
    finished_at: str,
    resources: list[Resource],
    snapshot: FileDigest | None,
    source_snapshot: dict[str, Any] | None = None,
    provider_failures: dict[str, str] | None = None,
    unseen: list[str] | None = None,
    demo: bool = False,
) -> dict[str, Any]:
    """Write ``manifest.json``: versions, scope, times, and the SHA-256 of every file in the folder."""
    files = {
        p.name: {"sha256": file_sha256(p), "bytes": p.stat().st_size}
        for p in sorted(folder.iterdir())
        if p.is_file() and p.name != MANIFEST_FILE and not p.name.endswith(".part")
    }
    manifest: dict[str, Any] = {
        "schema": MANIFEST_SCHEMA,
        "scan_id": scan_id,
        "kind": kind,
        "demo": demo,
        "tool": {"name": "ismap-scan", "version": __version__},
        "check_pack": (
            {"sha256": checks.pack_hash(), "checks": len(checks), "python_checks": checks.python_check_info()}
            if checks is not None
            else None
        ),
        "catalog_version": cfg.catalog,
        "scope": scope_of(resources),
        "started_at": started_at,
        "finished_at": finished_at,
        "snapshot": (
            {
                "file": SNAPSHOT_FILE,
                "sha256": snapshot.sha256,
                "records": snapshot.lines,
                "bytes": snapshot.bytes,
            }
            if snapshot is not None
            else None
        ),
        "source_snapshot": source_snapshot,
        "provider_failures": provider_failures or {},
        "unseen": unseen if unseen is not None else unseen_summary(resources),
        "files": files,
    }
    write_json(folder / MANIFEST_FILE, manifest)
    return manifest


def exit_code(results: list[Result], fail_on: str) -> int:
    """DESIGN §8: 3 when a FAIL is at or above ``fail_on``; else 4 when any result is ERROR; else 0."""
    if fail_on != "none":
        threshold = Severity(fail_on).rank
        if any(r.verdict is Verdict.FAIL and r.severity.rank >= threshold for r in results):
            return 3
    if any(r.verdict is Verdict.ERROR for r in results):
        return 4
    return 0
