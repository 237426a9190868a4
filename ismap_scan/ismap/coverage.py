"""``ismap-scan controls [--coverage]``: the catalog's controls with their flags, and which have automated
evidence on which cloud.

A control has automated evidence on a cloud when a check of that provider (the first part of the check ID,
``aws`` in ``aws.s3.bucket_versioning_enabled``) is mapped to it in the catalog's check map or tied to it by
the statement. The coverage target is the list of objectives a configuration scan can evidence
(``checkable.yaml`` in the catalog folder, from the project's CHECKABLE list).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..model import ControlRef
from ..yamlutil import load_yaml
from .assertion import Assertion
from .catalog import Catalog, version_dir

CHECKABLE_FILE = "checkable.yaml"


def load_checkable(catalog: Catalog, base: Path | None = None) -> list[str]:
    """Objective IDs of ``checkable.yaml`` in the catalog's folder (``[]`` when it has none)."""
    path = (catalog.path.parent if catalog.path else version_dir(catalog.version, base)) / CHECKABLE_FILE
    if not path.is_file():
        return []
    doc = load_yaml(path) or {}
    return [str(k) for k in (doc.get("objectives") or {})]


def _evidence(
    check_map: Mapping[str, list[ControlRef]], assertion: Assertion | None
) -> dict[str, dict[str, list[str]]]:
    """control ID → provider → sorted check IDs."""
    out: dict[str, dict[str, set[str]]] = {}
    pairs = [(check_id, ref.id) for check_id, refs in check_map.items() for ref in refs]
    if assertion is not None:
        pairs += [(check_id, sel.id) for sel in assertion.controls.values() for check_id in sel.checks]
    for check_id, control_id in pairs:
        out.setdefault(control_id, {}).setdefault(check_id.split(".")[0], set()).add(check_id)
    return {cid: {p: sorted(c) for p, c in sorted(by.items())} for cid, by in out.items()}


def control_rows(
    catalog: Catalog, check_map: Mapping[str, list[ControlRef]], assertion: Assertion | None = None
) -> list[dict[str, Any]]:
    """One row per objective and detailed control, in catalog order: ``id``, ``level``, ``objective``,
    ``title``, ``basic_statement_requirement``, ``cloud_specific``, ``confirmed`` (``None`` unless the
    catalog was imported), ``selected`` / ``reason`` (``None`` / ``""`` without a statement; ``False`` for a
    control the statement leaves out), ``checks`` (``{provider: [check IDs]}``)."""
    evidence = _evidence(check_map, assertion)
    rows: list[dict[str, Any]] = []
    for c in catalog:
        if c.level not in ("objective", "detailed"):
            continue
        objective = catalog.objective_of(c.id)
        sel = assertion.controls.get(c.id) if assertion else None
        rows.append(
            {
                "id": c.id,
                "level": c.level,
                "objective": objective.id if objective else None,
                "title": dict(c.title),
                "basic_statement_requirement": c.basic_statement_requirement,
                "cloud_specific": c.cloud_specific,
                "confirmed": c.confirmed,
                "selected": None if assertion is None else bool(sel and sel.selected),
                "reason": sel.reason if sel else "",
                "checks": evidence.get(c.id, {}),
            }
        )
    return rows


def controls_report(
    catalog: Catalog,
    check_map: Mapping[str, list[ControlRef]],
    assertion: Assertion | None = None,
    *,
    coverage: bool = False,
) -> dict[str, Any]:
    """The ``controls`` command's document.

    ``{"catalog", "official", "objectives": n, "detailed": n, "basic_statement_requirements": n,
    "controls": [row]}``; with ``coverage`` the rows are the statement's selected controls (all rows without
    a statement) and ``"coverage"`` is added: ``{"providers": [...], "with_evidence": {provider: n},
    "without_evidence": [IDs], "checkable": {"target": n, "covered": {provider: [IDs]},
    "missing": {provider: [IDs]}}}``.
    """
    rows = control_rows(catalog, check_map, assertion)
    doc: dict[str, Any] = {
        "catalog": catalog.version,
        "official": catalog.official,
        "objectives": sum(1 for r in rows if r["level"] == "objective"),
        "detailed": sum(1 for r in rows if r["level"] == "detailed"),
        "basic_statement_requirements": sum(1 for r in rows if r["basic_statement_requirement"]),
        "controls": rows,
    }
    if not coverage:
        return doc
    if assertion is not None:
        rows = [r for r in rows if r["selected"]]
    providers = sorted({p for r in rows for p in r["checks"]} | {ref.split(".")[0] for ref in check_map})
    checkable = load_checkable(catalog)
    by_id = {r["id"]: r for r in control_rows(catalog, check_map, assertion)}
    doc["controls"] = rows
    doc["coverage"] = {
        "providers": providers,
        "with_evidence": {p: sum(1 for r in rows if p in r["checks"]) for p in providers},
        "without_evidence": [r["id"] for r in rows if not r["checks"]],
        "checkable": {
            "target": len(checkable),
            "covered": {
                p: [c for c in checkable if p in by_id.get(c, {}).get("checks", {})] for p in providers
            },
            "missing": {
                p: [c for c in checkable if p not in by_id.get(c, {}).get("checks", {})] for p in providers
            },
        },
    }
    return doc
