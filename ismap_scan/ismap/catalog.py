"""ISMAP catalogs and the check → control map.

A catalog version is a folder ``<base>/<version>/`` holding ``catalog.yaml`` (the control criteria: parts,
headings, items, clauses, categories, control objectives and detailed controls) and ``checks.yaml`` (check ID →
controls, each ``full`` or ``partial``). Bundled versions live in ``mappings/ismap/`` (``2024-07``); versions
installed by ``ismap-scan catalog import`` live in the user's data directory (:func:`installed_catalogs_dir`).
Versions are never edited in place: an imported official table becomes another folder (DESIGN §5).

Both files are validated with ``file:line`` errors (:class:`~ismap_scan.errors.InputErrors`): unknown keys,
bad control IDs, missing parents, duplicate IDs, unknown controls in the map, bad coverage values, duplicates.
Whether a mapped *check* exists is not known here (the engine owns checks); the test suite and the CLI join
the two.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import platformdirs
from pydantic import BaseModel, ConfigDict, ValidationError

from .. import paths
from ..errors import InputError, InputErrors
from ..model import ControlRef
from ..yamlutil import LineDict, LineList, load_yaml, validation_errors

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
    confirmed: bool | None = None


class _CatalogModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: str
    source: str
    ja_titles: str | None = None
    note: str | None = None
    base: str | None = None
    imported: dict[str, Any] | None = None
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
    catalog was imported from the official table). ``confirmed`` is ``None`` in a catalog built from public
    sources; in an imported catalog it says whether the official table has this ID (``True``) or lacks it
    (``False``), for the parts the table covers.
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
    confirmed: bool | None = None

    def to_dict(self) -> dict[str, Any]:
        """The ``catalog.yaml`` entry (``confirmed`` only when known)."""
        d: dict[str, Any] = {
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
        if self.confirmed is not None:
            d["confirmed"] = self.confirmed
        return d


@dataclass
class Catalog:
    """A loaded catalog version: controls by ID in file order, with parent/child navigation.

    ``ja_titles`` is ``"unofficial"`` (our own wording) or ``"official"`` (from an imported table);
    ``base`` and ``imported`` are set on imported catalogs (the version they extend, and the import's facts:
    file, SHA-256, sheet, time, rows, what it confirmed, added and lacked).
    """

    version: str
    source: str
    controls: dict[str, Control]
    ja_titles: str | None = None
    path: Path | None = None
    base: str | None = None
    imported: dict[str, Any] | None = None
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

    def detailed(self) -> list[Control]:
        """Every detailed control (``level == "detailed"``), in catalog order."""
        return [c for c in self.controls.values() if c.level == "detailed"]

    def basic_statement_requirements(self) -> list[Control]:
        """The detailed controls with suffix ``.B`` / ``.PB`` (required in principle), in catalog order."""
        return [c for c in self.controls.values() if c.basic_statement_requirement]

    @property
    def official(self) -> bool:
        """True for a catalog imported from the official Attached Table 3: only then is the list of basic
        statement requirements complete (a catalog from public sources knows 31 of them)."""
        return self.imported is not None

    def objective_of(self, control_id: str) -> Control | None:
        """The objective a control belongs to: itself for an objective, the nearest objective ancestor for a
        detailed control, ``None`` above objective level. Raises ``KeyError`` for an unknown ID."""
        node = self.controls[control_id]
        if node.level == "objective":
            return node
        return next((p for p in self.parents(control_id) if p.level == "objective"), None)


def id_sort_key(cid: str) -> tuple[tuple[int, ...], str]:
    """Natural order of control IDs: ``9.4.2`` < ``9.4.2.2.B`` < ``9.4.3`` < ``10.1.1``."""
    parts = cid.split(".")
    nums = tuple(int(p) for p in parts if p.isdigit())
    return nums, "" if parts[-1].isdigit() else parts[-1]


#: Environment variable that overrides the user data directory (tests and CI point it at a temporary folder).
DATA_DIR_ENV = "ISMAP_SCAN_DATA_DIR"


def user_data_dir() -> Path:
    """ismap-scan's per-user data directory: ``$ISMAP_SCAN_DATA_DIR`` when set, else platformdirs'
    ``user_data_dir("ismap-scan")`` (``~/.local/share/ismap-scan`` on Linux). Not created here."""
    override = os.environ.get(DATA_DIR_ENV)
    return Path(override) if override else Path(platformdirs.user_data_dir("ismap-scan"))


def bundled_catalogs_dir() -> Path:
    """The bundled ``mappings/ismap/`` folder (one sub-folder per catalog version)."""
    return paths.mappings_dir() / "ismap"


def installed_catalogs_dir() -> Path:
    """Where ``catalog import`` installs versions: ``<user data dir>/catalogs/ismap/``."""
    return user_data_dir() / "catalogs" / "ismap"


def _roots(base: Path | None) -> list[Path]:
    """Folders searched for versions, first match wins: ``base`` alone when given, else bundled then
    installed (so an installed version can never shadow a bundled one)."""
    return [Path(base)] if base is not None else [bundled_catalogs_dir(), installed_catalogs_dir()]


def _versions_in(root: Path) -> list[str]:
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if p.is_dir() and (p / CATALOG_FILE).is_file())


def available_versions(base: Path | None = None) -> list[str]:
    """Catalog versions present (folders holding a ``catalog.yaml``), sorted, each once.

    With ``base``: the versions under it (a missing folder gives ``[]``). Without: bundled and installed.
    """
    return sorted({v for root in _roots(base) for v in _versions_in(root)})


def is_bundled(version: str) -> bool:
    """True when ``version`` is a bundled catalog (those cannot be replaced by an import)."""
    return version in _versions_in(bundled_catalogs_dir())


def check_version_name(version: str) -> str:
    """``version`` unchanged when it is a safe folder name (``2024-07``, ``2024-07-official``); raises
    :class:`InputError` otherwise, so a version can never point outside its catalogs folder."""
    if not _VERSION_RE.match(version):
        raise InputError(f"catalog version {version!r} is not a valid version name (e.g. 2024-07)")
    return version


def version_dir(version: str, base: Path | None = None) -> Path:
    """The folder of catalog ``version`` (see :func:`_roots` for the search order).

    Raises :class:`InputError` for a malformed or unknown version (naming the available ones).
    """
    check_version_name(version)
    roots = _roots(base)
    for root in roots:
        folder = root / version
        if (folder / CATALOG_FILE).is_file():
            return folder
    known = ", ".join(available_versions(base)) or "none"
    raise InputError(f"unknown catalog version {version!r} (available: {known})", file=roots[0] / version)


_version_dir = version_dir


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

    Without ``base`` the version is looked up in the bundled ``mappings/ismap/``, then among the installed
    (imported) versions. Checks: the document shape (unknown keys refused), the ``version`` field equals the folder name, every ID
    matches :data:`CONTROL_ID_RE` and is unique, every ``parent`` is a control listed in the catalog, and only
    parts and clauses have no parent. Raises :class:`InputError` for an unknown version and
    :class:`InputErrors` (``file:line: ...`` each) for a bad file.
    """
    folder = _version_dir(version, base)
    path = folder / CATALOG_FILE
    try:
        stat = path.stat()
    except OSError as exc:
        raise InputError(f"cannot read file: {exc}", file=path) from None
    # Parsing the ~3,000-line catalog with the line-keeping (pure Python) loader takes most of a second;
    # a scan, the CLI and the tests load the same unchanged file many times.
    key = (str(path.resolve()), version, stat.st_mtime_ns, stat.st_size)
    cached = _CACHE.get(key)
    if cached is not None:
        return cached
    doc = load_yaml(path)
    catalog = catalog_from_doc(doc, path, version)
    _CACHE[key] = catalog
    return catalog


_CACHE: dict[tuple[str, str, int, int], Catalog] = {}


def catalog_from_doc(doc: Any, path: Path, version: str) -> Catalog:
    """Validate a parsed catalog document (as :func:`load_catalog` describes) and build the :class:`Catalog`.

    ``doc`` is normally a :class:`LineDict` from ``path`` (errors then carry lines); a plain dict built in
    memory (``catalog import``) is validated the same way, its errors naming ``path`` only.
    """
    if not isinstance(doc, dict):
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
            confirmed=c.confirmed,
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
        version=model.version,
        source=model.source,
        controls=controls,
        ja_titles=model.ja_titles,
        path=path,
        base=model.base,
        imported=model.imported,
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
