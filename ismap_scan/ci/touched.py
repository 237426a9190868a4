"""Which resources a pull request touches, so its comment can show their current findings.

A live scan cannot see a pull request's proposed state, but it can show what is wrong **now** with the resources
the pull request changes. The action's ``resources`` input names a file in one of two forms:

- **Terraform plan JSON** (``terraform show -json plan.tfplan``, format 1.x): every ``resource_changes[]`` entry
  whose ``change.actions`` is not only ``no-op``/``read``; its ``arn`` (and ``id``) from ``change.before`` and
  ``change.after``. Resources being created have no ARN yet and cannot match a scan; they are counted.
  Source: Terraform docs, "JSON Output Format" (``resource_changes``, ``change.actions``, ``before``, ``after``).
- **A text file**: one resource ID (an ARN for AWS) per line; blank lines and ``#`` comments are ignored.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InputError

#: Attributes of a Terraform resource state that hold the ID ismap-scan uses (the ARN for AWS).
ID_ATTRIBUTES = ("arn",)


@dataclass
class TouchedResources:
    """IDs the pull request changes (``ids``), Terraform addresses that have none yet (``unidentified``)."""

    ids: set[str] = field(default_factory=set)
    unidentified: list[str] = field(default_factory=list)
    source: str = ""


def _ids_in(state: Any) -> set[str]:
    if not isinstance(state, dict):
        return set()
    return {v for k in ID_ATTRIBUTES if isinstance(v := state.get(k), str) and v}


def from_plan(plan: dict[str, Any]) -> TouchedResources:
    """Touched resources of a Terraform plan (``terraform show -json``). Raises :class:`InputError` when
    ``resource_changes`` is not a list."""
    changes = plan.get("resource_changes", [])
    if not isinstance(changes, list):
        raise InputError("Terraform plan JSON: resource_changes must be a list")
    out = TouchedResources(source="terraform plan")
    for rc in changes:
        if not isinstance(rc, dict):
            continue
        change = rc.get("change") or {}
        actions = set(change.get("actions") or [])
        if not actions or actions <= {"no-op", "read"}:
            continue
        ids = _ids_in(change.get("before")) | _ids_in(change.get("after"))
        if ids:
            out.ids |= ids
        else:
            out.unidentified.append(str(rc.get("address", "?")))
    return out


def load_touched(path: Path) -> TouchedResources:
    """Read ``path`` as Terraform plan JSON when it is a JSON object, else as a list of IDs.

    Raises :class:`InputError` (naming the file) when it cannot be read or is JSON of another shape.
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read resources file: {exc}", file=path) from None
    stripped = text.lstrip()
    if stripped.startswith("{"):
        try:
            data = json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise InputError(f"not valid JSON ({exc.msg}, line {exc.lineno})", file=path) from None
        if "resource_changes" not in data and "format_version" not in data:
            raise InputError(
                "a JSON object without resource_changes (expected terraform show -json)", file=path
            )
        try:
            return from_plan(data)
        except InputError as exc:
            raise InputError(exc.detail, file=path) from None
    ids = {line.split("#", 1)[0].strip() for line in text.splitlines()}
    return TouchedResources(ids={i for i in ids if i}, source="resource list")
