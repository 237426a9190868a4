"""ISMAP catalogs, the check → control map, and the simple control roll-up written to ``controls.json``.

A catalog version is a folder ``<base>/<version>/`` (bundled: ``mappings/ismap/2024-07/``) holding
``catalog.yaml`` (the control criteria: parts, headings, items, clauses, categories, control objectives and
detailed controls) and ``checks.yaml`` (check ID → controls, each ``full`` or ``partial``). Versions are never
edited in place: an imported official table becomes another folder (DESIGN §5).

Both files are validated with ``file:line`` errors (:class:`~ismap_scan.errors.InputErrors`): unknown keys,
bad control IDs, missing parents, duplicate IDs, unknown controls in the map, bad coverage values, duplicates.
Whether a mapped *check* exists is not known here (the engine owns checks); the test suite and the CLI join
the two.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from . import paths
from .errors import InputError, InputErrors
from .model import ControlRef, Result, Verdict
from .yamlutil import LineDict, LineList, load_yaml, validation_errors

DEFAULT_VERSION = "2024-07"
CATALOG_FILE = "catalog.yaml"
CHECK_MAP_FILE = "checks.yaml"

#: Control IDs as ISMAP writes them: ``9``, ``9.4``, ``9.4.2``, ``9.4.2.2.B``, ``6.3.P``, ``12.4.1.15.PB``.
#: ``.P`` marks cloud-specific controls, ``.B`` basic statement requirements, ``.PB`` both.
CONTROL_ID_RE = re.compile(r"^\d+(\.\d+){0,4}(\.(P|B|PB))?$")
#: Check IDs (``<provider>.<service>.<what_must_hold>``); same rule as the engine's schema.
_CHECK_ID_RE = re.compile(r"^[a-z][a-z0-9]*\.[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")
#: A version folder name: no path separators, so a version can never point outside ``base``.
_VERSION_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")

COVERAGES = ("full", "partial")

Level = Literal["part", "heading", "item", "clause", "category", "objective", "detailed"]


class _TitleModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    en: str
    ja: str = ""


class _ControlModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    part: Literal["governance", "management", "controls"]
    level: Level
    parent: str | None
    title: _TitleModel
    basic_statement_requirement: bool
    cloud_specific: bool
    edition: str
    source: str


class _CatalogModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: str
    source: str
    ja_titles: str | None = None
    note: str | None = None
    controls: list[_ControlModel]


class _RefModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    control: str
    coverage: Literal["full", "partial"]


class _CheckMapModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    catalog: str
    checks: dict[str, list[_RefModel]]


@dataclass(frozen=True)
class Control:
    """One entry of the catalog.

    ``level`` is ``part``/``heading``/``item`` (governance and management criteria) or
    ``clause``/``category``/``objective``/``detailed`` (controls criteria). ``parent`` is ``None`` only for
    parts and clauses. ``title`` is ``{"en": ..., "ja": ...}`` (``ja`` may be empty; unofficial unless the
    catalog was imported from the official table).
    """

    id: str
    part: str
    level: str
    parent: str | None
    title: dict[str, str]
    basic_statement_requirement: bool
    cloud_specific: bool
    edition: str
    source: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "part": self.part,
            "level": self.level,
            "parent": self.parent,
            "title": dict(self.title),
            "basic_statement_requirement": self.basic_statement_requirement,
            "cloud_specific": self.cloud_specific,
            "edition": self.edition,
            "source": self.source,
        }


@dataclass
class Catalog:
    """A loaded catalog version: controls by ID in file order, with parent/child navigation."""

    version: str
    source: str
    controls: dict[str, Control]
    ja_titles: str | None = None
    path: Path | None = None
    _children: dict[str, list[str]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._children = {}
        for c in self.controls.values():
            if c.parent is not None:
                self._children.setdefault(c.parent, []).append(c.id)

    def __contains__(self, control_id: object) -> bool:
        return control_id in self.controls

    def __iter__(self) -> Iterator[Control]:
        return iter(self.controls.values())

    def __len__(self) -> int:
        return len(self.controls)

    def get(self, control_id: str) -> Control | None:
        return self.controls.get(control_id)

    def children(self, control_id: str) -> list[Control]:
        """Direct children of ``control_id`` in file order (``[]`` for a leaf or an unknown ID)."""
        return [self.controls[c] for c in self._children.get(control_id, [])]

    def parents(self, control_id: str) -> list[Control]:
        """Ancestors of ``control_id``, nearest first (``9.4.2.2.B`` → ``9.4.2``, ``9.4``, ``9``).

        Raises ``KeyError`` for an unknown ID.
        """
        out: list[Control] = []
        parent = self.controls[control_id].parent
        while parent is not None:
            node = self.controls[parent]
            out.append(node)
            parent = node.parent
        return out

    def objectives(self) -> list[Control]:
        """Every control objective (``level == "objective"``), in catalog order."""
        return [c for c in self.controls.values() if c.level == "objective"]

    def objective_of(self, control_id: str) -> Control | None:
        """The objective a control belongs to: itself for an objective, the nearest objective ancestor for a
        detailed control, ``None`` above objective level. Raises ``KeyError`` for an unknown ID."""
        node = self.controls[control_id]
        if node.level == "objective":
            return node
        return next((p for p in self.parents(control_id) if p.level == "objective"), None)


def _base_dir(base: Path | None) -> Path:
    """The folder that holds the catalog versions (default: the bundled ``mappings/ismap/``)."""
    return Path(base) if base is not None else paths.mappings_dir() / "ismap"


def available_versions(base: Path | None = None) -> list[str]:
    """Catalog versions present under ``base`` (folders holding a ``catalog.yaml``), sorted.

    ``base`` defaults to the bundled ``mappings/ismap/``; a missing folder gives ``[]``.
    """
    root = _base_dir(base)
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if p.is_dir() and (p / CATALOG_FILE).is_file())


def _version_dir(version: str, base: Path | None) -> Path:
    if not _VERSION_RE.match(version):
        raise InputError(f"catalog version {version!r} is not a valid version name (e.g. 2024-07)")
    folder = _base_dir(base) / version
    if not (folder / CATALOG_FILE).is_file():
        known = ", ".join(available_versions(base)) or "none"
        raise InputError(f"unknown catalog version {version!r} (available: {known})", file=folder)
    return folder


def _item_line(seq: Any, index: int) -> int | None:
    if isinstance(seq, LineList) and 0 <= index < len(seq.item_lines):
        return seq.item_lines[index]
    return getattr(seq, "line", None) or None


def _key_line(mapping: Any, key: str) -> int | None:
    if isinstance(mapping, LineDict):
        return mapping.key_lines.get(key, mapping.line or None)
    return None


def load_catalog(version: str = DEFAULT_VERSION, base: Path | None = None) -> Catalog:
    """Load and validate ``<base>/<version>/catalog.yaml``.

    ``base`` defaults to the bundled ``mappings/ismap/`` (through :func:`ismap_scan.paths.mappings_dir`).
    Checks: the document shape (unknown keys refused), the ``version`` field equals the folder name, every ID
    matches :data:`CONTROL_ID_RE` and is unique, every ``parent`` is a control listed in the catalog, and only
    parts and clauses have no parent. Raises :class:`InputError` for an unknown version and
    :class:`InputErrors` (``file:line: ...`` each) for a bad file.
    """
    folder = _version_dir(version, base)
    path = folder / CATALOG_FILE
    doc = load_yaml(path)
    if not isinstance(doc, LineDict):
        raise InputError("expected a mapping with version, source and controls", file=path, line=1)
    try:
        model = _CatalogModel.model_validate(doc)
    except ValidationError as exc:
        raise validation_errors(exc, doc, path) from None

    errors: list[InputError] = []
    if model.version != version:
        errors.append(
            InputError(
                f"version: {model.version!r} does not match its folder {version!r}",
                file=path,
                line=_key_line(doc, "version"),
            )
        )
    raw_controls = doc["controls"]
    controls: dict[str, Control] = {}
    lines: dict[str, int | None] = {}
    for i, c in enumerate(model.controls):
        line = _item_line(raw_controls, i)
        if not CONTROL_ID_RE.match(c.id):
            errors.append(
                InputError(f"controls[{i}].id: {c.id!r} is not an ISMAP control ID", file=path, line=line)
            )
        if c.id in controls:
            errors.append(
                InputError(
                    f"controls[{i}].id: duplicate control {c.id} (first at line {lines[c.id]})",
                    file=path,
                    line=line,
                )
            )
            continue
        lines[c.id] = line
        controls[c.id] = Control(
            id=c.id,
            part=c.part,
            level=c.level,
            parent=c.parent,
            title={"en": c.title.en, "ja": c.title.ja},
            basic_statement_requirement=c.basic_statement_requirement,
            cloud_specific=c.cloud_specific,
            edition=c.edition,
            source=c.source,
        )
    for cid, node in controls.items():
        if node.parent is None:
            if node.level not in ("part", "clause"):
                errors.append(
                    InputError(f"control {cid}: a {node.level} needs a parent", file=path, line=lines[cid])
                )
        elif node.parent not in controls:
            errors.append(
                InputError(
                    f"control {cid}: parent {node.parent} is not in the catalog", file=path, line=lines[cid]
                )
            )
        elif node.parent == cid:
            errors.append(InputError(f"control {cid}: is its own parent", file=path, line=lines[cid]))
    if not errors:
        errors.extend(_cycles(controls, lines, path))
    if errors:
        raise InputErrors(errors)
    return Catalog(
        version=model.version, source=model.source, controls=controls, ja_titles=model.ja_titles, path=path
    )


def _cycles(controls: Mapping[str, Control], lines: Mapping[str, int | None], path: Path) -> list[InputError]:
    """A parent chain that loops would make :meth:`Catalog.parents` spin forever: refuse it at load time."""
    errors: list[InputError] = []
    for cid in controls:
        seen = {cid}
        parent = controls[cid].parent
        while parent is not None:
            if parent in seen:
                errors.append(
                    InputError(f"control {cid}: parent chain loops at {parent}", file=path, line=lines[cid])
                )
                break
            seen.add(parent)
            parent = controls[parent].parent
    return errors


def load_check_map(
    version: str = DEFAULT_VERSION, base: Path | None = None, *, catalog: Catalog | None = None
) -> dict[str, list[ControlRef]]:
    """Load ``<base>/<version>/checks.yaml``: check ID → its :class:`~ismap_scan.model.ControlRef` list.

    Validated against the catalog of the same version (loaded unless ``catalog`` is given): ``catalog:`` names
    this version; each check ID is well formed (``aws.s3.bucket_versioning_enabled``) and appears once; each
    entry names a control that exists in the catalog, with ``coverage`` ``full`` or ``partial``, and no
    control twice for one check; no check has an empty list. Raises :class:`InputErrors` with ``file:line``.
    """
    folder = _version_dir(version, base)
    path = folder / CHECK_MAP_FILE
    if catalog is None:
        catalog = load_catalog(version, base)
    doc = load_yaml(path)
    if not isinstance(doc, LineDict):
        raise InputError("expected a mapping with catalog and checks", file=path, line=1)
    try:
        model = _CheckMapModel.model_validate(doc)
    except ValidationError as exc:
        raise validation_errors(exc, doc, path) from None

    errors: list[InputError] = []
    if model.catalog != version:
        errors.append(
            InputError(
                f"catalog: {model.catalog!r} does not match its folder {version!r}",
                file=path,
                line=_key_line(doc, "catalog"),
            )
        )
    raw_checks = doc["checks"]
    out: dict[str, list[ControlRef]] = {}
    for check_id, refs in model.checks.items():
        check_line = _key_line(raw_checks, check_id)
        if not _CHECK_ID_RE.match(check_id):
            errors.append(
                InputError(
                    "not a check ID (<provider>.<service>.<name>)", file=path, line=check_line, check=check_id
                )
            )
        if not refs:
            errors.append(InputError("maps to no control", file=path, line=check_line, check=check_id))
        raw_refs = raw_checks[check_id]
        seen: set[str] = set()
        mapped: list[ControlRef] = []
        for i, ref in enumerate(refs):
            line = _item_line(raw_refs, i)
            if ref.control not in catalog:
                errors.append(
                    InputError(
                        f"control {ref.control!r} is not in catalog {version}",
                        file=path,
                        line=line,
                        check=check_id,
                    )
                )
            elif ref.control in seen:
                errors.append(
                    InputError(f"control {ref.control} is mapped twice", file=path, line=line, check=check_id)
                )
            seen.add(ref.control)
            mapped.append(ControlRef(id=ref.control, coverage=ref.coverage))
        out[check_id] = mapped
    if errors:
        raise InputErrors(errors)
    return out


class ControlState(StrEnum):
    """Roll-up status of one control (GLOSSARY). :func:`rollup` gives the first four; ``MANUAL`` and
    ``EXCLUDED`` come from the assertion document (attestations, exclusions) once it is applied."""

    COMPLIANT = "COMPLIANT"
    NON_COMPLIANT = "NON_COMPLIANT"
    PARTIAL = "PARTIAL"
    NOT_EVALUATED = "NOT_EVALUATED"
    MANUAL = "MANUAL"
    EXCLUDED = "EXCLUDED"


@dataclass
class ControlStatus:
    """One control's roll-up for ``controls.json``.

    ``counts`` has every verdict (``{"PASS": n, "FAIL": n, "NOT_APPLICABLE": n, "ERROR": n}``) over the
    results of the checks mapped to the control; ``checks`` maps each contributing check ID to its coverage
    (``full``/``partial``); ``resources`` and ``failing_resources`` are sorted resource IDs. ``objective`` is
    the control's objective (itself for an objective).
    """

    id: str
    status: ControlState
    title: dict[str, str]
    level: str
    objective: str | None
    counts: dict[str, int]
    checks: dict[str, str]
    resources: list[str]
    failing_resources: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "status": self.status.value,
            "title": dict(self.title),
            "level": self.level,
            "objective": self.objective,
            "counts": dict(self.counts),
            "checks": sorted(self.checks),
            "coverage": dict(sorted(self.checks.items())),
            "resources": list(self.resources),
            "failing_resources": list(self.failing_resources),
        }


@dataclass
class _Tally:
    counts: dict[Verdict, int] = field(default_factory=lambda: {v: 0 for v in Verdict})
    checks: dict[str, str] = field(default_factory=dict)
    resources: set[str] = field(default_factory=set)
    failing: set[str] = field(default_factory=set)
    full_pass: bool = False


def _state(t: _Tally) -> ControlState:
    """The roll-up rule (DESIGN §5, without attestations and waivers).

    Any FAIL → NON_COMPLIANT. Otherwise, when no result is PASS (only NOT_APPLICABLE / ERROR) →
    NOT_EVALUATED. When every applicable result (PASS, ERROR) is PASS and at least one PASS came through a
    ``full`` mapping → COMPLIANT. Anything else with a PASS → PARTIAL: evidence passes but covers only part of
    the control, or some of it could not be read (an ERROR never counts as a pass).
    """
    if t.counts[Verdict.FAIL]:
        return ControlState.NON_COMPLIANT
    if not t.counts[Verdict.PASS]:
        return ControlState.NOT_EVALUATED
    if t.full_pass and not t.counts[Verdict.ERROR]:
        return ControlState.COMPLIANT
    return ControlState.PARTIAL


def rollup(
    results: Iterable[Result], check_map: Mapping[str, list[ControlRef]], catalog: Catalog
) -> list[ControlStatus]:
    """Roll check results up to the controls ``check_map`` maps them to.

    One :class:`ControlStatus` per mapped control that has at least one result, in catalog order (controls
    the catalog does not know come last, sorted by ID: :func:`load_check_map` refuses them, so this only
    happens with a hand-built map). Results of checks that are not in ``check_map`` are ignored. See
    :func:`_state` for the rule.
    """
    tallies: dict[str, _Tally] = {}
    for r in results:
        for ref in check_map.get(r.check_id, ()):
            t = tallies.setdefault(ref.id, _Tally())
            t.counts[r.verdict] += 1
            # A check mapped once per control, but keep the strongest coverage if a caller repeats it.
            if t.checks.get(r.check_id) != "full":
                t.checks[r.check_id] = ref.coverage
            t.resources.add(r.resource_id)
            if r.verdict is Verdict.FAIL:
                t.failing.add(r.resource_id)
            if r.verdict is Verdict.PASS and ref.coverage == "full":
                t.full_pass = True

    order = {cid: i for i, cid in enumerate(catalog.controls)}
    out: list[ControlStatus] = []
    for cid in sorted(tallies, key=lambda c: (order.get(c, len(order)), c)):
        t = tallies[cid]
        control = catalog.get(cid)
        objective = catalog.objective_of(cid) if control is not None else None
        out.append(
            ControlStatus(
                id=cid,
                status=_state(t),
                title=dict(control.title) if control else {"en": "", "ja": ""},
                level=control.level if control else "",
                objective=objective.id if objective else None,
                counts={v.value: n for v, n in t.counts.items()},
                checks=dict(t.checks),
                resources=sorted(t.resources),
                failing_resources=sorted(t.failing),
            )
        )
    return out
