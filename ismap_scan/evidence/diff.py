"""``ismap-scan diff``: what changed between two scans (stored scans or scan folders).

Findings are matched by finding key (DESIGN §4: check, provider, account, region, resource). Categories:

- ``new_failures``: FAIL in HEAD, not FAIL in BASE (including findings BASE did not have);
- ``fixed``: FAIL in BASE, and in HEAD PASS / NOT_APPLICABLE (``reason: "passes"``) or gone because the
  resource is gone (``reason: "resource removed"``);
- ``still_failing``: FAIL in both, with ``failing_since`` when the store knows it;
- ``new_resources`` / ``removed_resources``: resources (provider, account, region, type, id) with results in
  only one of the two;
- ``control_changes``: controls whose status differs (``NOT_PRESENT`` when a side has no status for it).

The JSON form (:meth:`ScanDiff.to_dict`) is a stable interface (the GitHub Action reads it): keys are only
ever added, never renamed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..model import RESULT_IDENTITY_FIELDS, Verdict

DIFF_SCHEMA = "ismap-scan/diff/v1"
_RESULT_FIELDS = RESULT_IDENTITY_FIELDS


@dataclass
class ScanView:
    """What a diff needs of one scan: identity, results by finding key, control status by control ID."""

    scan_id: str
    started_at: str
    scope: str
    results: dict[str, dict[str, Any]]
    controls: dict[str, str]
    source: str


def view_from_store(store: Any, scan: Any) -> ScanView:
    """A :class:`ScanView` of a stored scan (``store`` an :class:`~.store.EvidenceStore`, ``scan`` a ``ScanRow``)."""
    controls = {str(c.get("id")): str(c.get("status")) for c in store.control_dicts(scan)}
    return ScanView(scan.scan_id, scan.started_at, scan.scope_key, store.verdicts(scan), controls, "store")


def view_from_folder(path: Path) -> ScanView:
    """A :class:`ScanView` of a scan folder ``OUT/<scan-id>/`` (or its ``results.jsonl``).

    Raises :class:`InputError` when the folder has no readable ``results.jsonl``.
    """
    folder = path if path.is_dir() else path.parent
    res_path = folder / "results.jsonl"
    if not res_path.is_file():
        raise InputError("no results.jsonl here (give a stored scan ID or a scan folder)", file=folder)
    results: dict[str, dict[str, Any]] = {}
    for lineno, line in enumerate(res_path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            d = json.loads(line)
            results[d["finding_key"]] = {k: d[k] for k in _RESULT_FIELDS}
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise InputError(f"not a result line: {exc}", file=res_path, line=lineno) from None
    controls: dict[str, str] = {}
    manifest: dict[str, Any] = {}
    if (folder / "controls.json").is_file():
        doc = json.loads((folder / "controls.json").read_text(encoding="utf-8"))
        controls = {str(c["id"]): str(c["status"]) for c in doc.get("controls") or []}
    if (folder / "manifest.json").is_file():
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    from .store import scope_key_of

    return ScanView(
        str(manifest.get("scan_id", folder.name)),
        str(manifest.get("started_at", "")),
        scope_key_of(manifest.get("scope") or {}),
        results,
        controls,
        str(folder),
    )


def _resource(r: Mapping[str, Any]) -> tuple[str, str, str, str, str]:
    return (r["provider"], r["account"], r["region"], r["resource_type"], r["resource_id"])


@dataclass
class ScanDiff:
    """The difference between ``base`` and ``head`` (see the module docstring)."""

    base: ScanView
    head: ScanView
    new_failures: list[dict[str, Any]] = field(default_factory=list)
    fixed: list[dict[str, Any]] = field(default_factory=list)
    still_failing: list[dict[str, Any]] = field(default_factory=list)
    new_resources: list[dict[str, str]] = field(default_factory=list)
    removed_resources: list[dict[str, str]] = field(default_factory=list)
    control_changes: list[dict[str, str]] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(
            self.new_failures
            or self.fixed
            or self.new_resources
            or self.removed_resources
            or self.control_changes
        )

    def counts(self) -> dict[str, int]:
        return {
            "new_failures": len(self.new_failures),
            "fixed": len(self.fixed),
            "still_failing": len(self.still_failing),
            "new_resources": len(self.new_resources),
            "removed_resources": len(self.removed_resources),
            "control_changes": len(self.control_changes),
        }

    def to_dict(self) -> dict[str, Any]:
        side = lambda v: {"scan_id": v.scan_id, "started_at": v.started_at, "scope": v.scope}  # noqa: E731
        return {
            "schema": DIFF_SCHEMA,
            "base": side(self.base),
            "head": side(self.head),
            "counts": self.counts(),
            "new_failures": self.new_failures,
            "fixed": self.fixed,
            "still_failing": self.still_failing,
            "new_resources": self.new_resources,
            "removed_resources": self.removed_resources,
            "control_changes": self.control_changes,
        }


def diff_scans(
    base: ScanView, head: ScanView, history: Mapping[str, Mapping[str, Any]] | None = None
) -> ScanDiff:
    """Compare two scans. ``history`` (finding key → the store's ``findings`` row) adds ``first_seen_at`` and
    ``failing_since`` to entries. Every list is sorted (check ID, resource), so equal inputs give equal output."""
    out = ScanDiff(base, head)
    hist = history or {}
    fail = Verdict.FAIL.value

    def entry(key: str, r: Mapping[str, Any], **extra: Any) -> dict[str, Any]:
        e = {"finding_key": key, **{k: r[k] for k in _RESULT_FIELDS}, **extra}
        h = hist.get(key)
        if h:
            e["first_seen_at"] = h.get("first_seen_at")
            if r["verdict"] == fail and h.get("last_verdict") == fail:
                e["failing_since"] = h.get("failing_since")
        return e

    head_resources = {_resource(r) for r in head.results.values()}
    base_resources = {_resource(r) for r in base.results.values()}
    for key, h in head.results.items():
        b = base.results.get(key)
        if h["verdict"] == fail and (b is None or b["verdict"] != fail):
            out.new_failures.append(entry(key, h, before=b["verdict"] if b else None))
        elif h["verdict"] == fail:
            out.still_failing.append(entry(key, h))
    for key, b in base.results.items():
        if b["verdict"] != fail:
            continue
        h2 = head.results.get(key)
        if h2 is None:
            reason = "resource removed" if _resource(b) not in head_resources else "check no longer run"
            out.fixed.append(entry(key, b, after=None, reason=reason))
        elif h2["verdict"] in (Verdict.PASS.value, Verdict.NOT_APPLICABLE.value):
            out.fixed.append(entry(key, h2, after=h2["verdict"], reason="passes"))
    keys = ("provider", "account", "region", "resource_type", "resource_id")
    out.new_resources = [dict(zip(keys, r, strict=True)) for r in sorted(head_resources - base_resources)]
    out.removed_resources = [dict(zip(keys, r, strict=True)) for r in sorted(base_resources - head_resources)]
    for cid in sorted(set(base.controls) | set(head.controls), key=_control_sort):
        before, after = base.controls.get(cid, "NOT_PRESENT"), head.controls.get(cid, "NOT_PRESENT")
        if before != after:
            out.control_changes.append({"control": cid, "before": before, "after": after})
    for lst in (out.new_failures, out.fixed, out.still_failing):
        lst.sort(key=lambda e: (e["check_id"], e["provider"], e["account"], e["region"], e["resource_id"]))
    return out


def _control_sort(cid: str) -> tuple[Any, ...]:
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in cid.split("."))


def render_markdown(d: ScanDiff) -> str:
    """The diff as Markdown (for a pull-request comment or a job summary)."""
    c = d.counts()
    lines = [
        f"## ismap-scan diff: `{d.base.scan_id}` → `{d.head.scan_id}`",
        "",
        f"Scope: {d.head.scope}",
        "",
        "| change | count |",
        "|---|---:|",
        *[f"| {k.replace('_', ' ')} | {v} |" for k, v in c.items()],
        "",
    ]

    def findings_section(title: str, items: list[dict[str, Any]], extra: str | None = None) -> None:
        if not items:
            return
        lines.extend([f"### {title}", ""])
        head = "| severity | check | resource | region |" + (f" {extra} |" if extra else "")
        lines.extend([head, "|---|---|---|---|" + ("---|" if extra else "")])
        for e in items:
            row = f"| {e['severity']} | `{e['check_id']}` | `{_md(e['resource_id'])}` | {e['region']} |"
            if extra:
                row += f" {e.get(extra) or ''} |"
            lines.append(row)
        lines.append("")

    findings_section("New failures", d.new_failures, "before")
    findings_section("Fixed", d.fixed, "reason")
    findings_section("Still failing", d.still_failing, "failing_since")
    for title, res in (("New resources", d.new_resources), ("Removed resources", d.removed_resources)):
        if res:
            lines.extend([f"### {title}", ""])
            lines.extend(f"- `{r['resource_type']}` `{_md(r['resource_id'])}` ({r['region']})" for r in res)
            lines.append("")
    if d.control_changes:
        lines.extend(["### Control status changes", "", "| control | before | after |", "|---|---|---|"])
        lines.extend(f"| {x['control']} | {x['before']} | {x['after']} |" for x in d.control_changes)
        lines.append("")
    if not d.changed:
        lines.append("No change.")
    return "\n".join(lines).rstrip() + "\n"


def _md(text: str) -> str:
    return str(text).replace("|", "\\|").replace("`", "'")
