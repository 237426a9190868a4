"""Checks written in Python, for logic that outgrows an expression (policy evaluation, joins).

A Python check is a class registered under the entry-point group ``ismap_scan.checks``::

    [project.entry-points."ismap_scan.checks"]
    aws_iam_user_no_admin_privileges = "ismap_scan.pychecks.aws.iam:UserNoAdminPrivileges"

It subclasses :class:`PythonCheck`, sets ``meta`` (a :class:`CheckMeta`: the YAML metadata fields, plus
``joins``, the other resource types it reads) and implements :meth:`PythonCheck.evaluate`. It shares the
ID space, the ``needs`` handling and the ERROR rules of YAML checks. It sees the snapshot only: no
network, no clock (use ``ctx.now``). For the manifest the engine records each check's distribution name,
version and the SHA-256 of its module source (:class:`PythonCheckInfo`).
"""

from __future__ import annotations

import hashlib
import inspect
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from importlib.metadata import EntryPoint, entry_points
from typing import Any, ClassVar, TypeVar

from ..model import CollectionError, Resource, Severity, Verdict
from .index import SnapshotIndex

ENTRY_POINT_GROUP = "ismap_scan.checks"

T = TypeVar("T")


@dataclass(frozen=True)
class CheckMeta:
    """A Python check's metadata; the same fields and rules as a YAML check (see ``schema.py``).

    ``title``/``rationale``/``remediation`` are ``{"en": ..., "ja": ...}`` (remediation may add ``url``).
    ``needs`` are context paths (``data.GroupList``) whose collection errors make the result ERROR.
    ``params`` are defaults, overridable from ``ismap-scan.yaml``; the check reads them from ``ctx.params``.
    ``joins`` are the resource types the check reads through ``ctx.records()``: they are collected too.
    """

    id: str
    resource: str
    severity: Severity | str
    title: Mapping[str, str]
    remediation: Mapping[str, str]
    rationale: Mapping[str, str] | None = None
    needs: tuple[str, ...] = ()
    evidence: tuple[str, ...] = ()
    params: Mapping[str, Any] = field(default_factory=dict)
    joins: tuple[str, ...] = ()

    def as_model_input(self) -> dict[str, Any]:
        """The fields the shared schema validates (everything but ``joins``)."""
        out: dict[str, Any] = {
            "id": self.id,
            "resource": self.resource,
            "severity": self.severity,
            "title": dict(self.title),
            "remediation": dict(self.remediation),
            "needs": list(self.needs),
            "evidence": list(self.evidence),
            "params": dict(self.params),
        }
        if self.rationale is not None:
            out["rationale"] = dict(self.rationale)
        return out


class CheckContext:
    """What a Python check may see besides its record.

    ``account`` / ``region``: ``data`` of the record's ``<provider>.account`` / ``<provider>.region`` record
    (``None`` when the snapshot has none). ``params``: the check's params after overrides. ``now``: the
    record's ``collected_at`` (aware UTC) or ``None``.
    """

    def __init__(
        self,
        index: SnapshotIndex,
        resource: Resource,
        *,
        account: dict[str, Any] | None,
        region: dict[str, Any] | None,
        params: Mapping[str, Any],
        now: datetime | None,
        joins: tuple[str, ...],
    ) -> None:
        self._index = index
        self._resource = resource
        self._joins = joins
        self.account = account
        self.region = region
        self.params = params
        self.now = now

    def _allowed(self, resource_type: str) -> None:
        if resource_type not in self._joins and resource_type != self._resource.type:
            # Undeclared joins would not be collected when the scan is narrowed to the selected checks.
            raise LookupError(f"resource type {resource_type!r} is not declared in the check's meta.joins")

    def records(self, resource_type: str, account: str | None = None) -> list[Resource]:
        """Records of ``resource_type`` for ``account`` (``None``: every account), in snapshot order.

        Raises ``LookupError`` for a type not declared in ``meta.joins``.
        """
        self._allowed(resource_type)
        return self._index.of_type(resource_type, account)

    def memo(self, key: Hashable, factory: Callable[[], T]) -> T:
        """``factory()`` computed once per evaluation for ``key`` (e.g. an ARN → policy-record map), so a
        join does not rescan the snapshot for every record. Keys should start with the check ID."""
        if key not in self._index.memo:
            self._index.memo[key] = factory()
        value: T = self._index.memo[key]
        return value

    def listing_errors(self, resource_type: str, account: str | None = None) -> list[CollectionError]:
        """Errors of failed listings of ``resource_type`` (on scope records): an empty ``records()`` answer
        is only trustworthy when this is empty too."""
        self._allowed(resource_type)
        return [err for _scope, err in self._index.listing_errors(resource_type, account)]


class PythonCheck:
    """Base class of Python checks. Subclasses set ``meta`` and implement :meth:`evaluate`."""

    meta: ClassVar[CheckMeta]

    def applies(self, resource: Resource, ctx: CheckContext) -> bool:
        """``False`` → NOT_APPLICABLE. Default: every record of ``meta.resource`` is in scope."""
        return True

    def evaluate(self, resource: Resource, ctx: CheckContext) -> tuple[Verdict, str]:
        """The verdict and a one-line reason naming what decided it. An exception becomes ERROR."""
        raise NotImplementedError


@dataclass(frozen=True)
class PythonCheckInfo:
    """Provenance of one Python check, for the scan manifest and the check-pack hash."""

    check_id: str
    entry_point: str
    package: str
    version: str
    module: str
    source_sha256: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "check_id": self.check_id,
            "entry_point": self.entry_point,
            "package": self.package,
            "version": self.version,
            "module": self.module,
            "source_sha256": self.source_sha256,
        }


@dataclass
class LoadedPythonCheck:
    """A loaded entry point: the instance, its provenance and where it is defined (for error messages)."""

    check: PythonCheck
    info: PythonCheckInfo
    file: str
    line: int | None


def _source_info(obj: type) -> tuple[str, int | None, str | None]:
    """(file, line of the class, SHA-256 of the module file) — ``None`` parts when unavailable."""
    try:
        path = inspect.getsourcefile(obj) or inspect.getfile(obj)
    except TypeError:
        return f"<{obj.__module__}>", None, None
    try:
        line: int | None = inspect.getsourcelines(obj)[1]
    except (OSError, TypeError):
        line = None
    try:
        with open(path, "rb") as fh:
            digest: str | None = hashlib.sha256(fh.read()).hexdigest()
    except OSError:
        digest = None
    return path, line, digest


def load_entry_points(eps: Iterable[EntryPoint] | None = None) -> tuple[list[LoadedPythonCheck], list[str]]:
    """Load the ``ismap_scan.checks`` entry points (or ``eps``), sorted by entry-point name.

    Returns the loaded checks and one problem text per entry point that could not be loaded or is not a
    :class:`PythonCheck` subclass with ``meta`` (metadata itself is validated by the loader).
    """
    selected = list(eps) if eps is not None else list(entry_points(group=ENTRY_POINT_GROUP))
    loaded: list[LoadedPythonCheck] = []
    problems: list[str] = []
    for ep in sorted(selected, key=lambda e: (e.name, e.value)):
        try:
            obj = ep.load()
        except Exception as exc:  # a broken plugin must be reported, not crash the load
            problems.append(f"entry point {ep.name} = {ep.value}: cannot import: {type(exc).__name__}: {exc}")
            continue
        if not (isinstance(obj, type) and issubclass(obj, PythonCheck)):
            problems.append(f"entry point {ep.name} = {ep.value}: not a PythonCheck subclass")
            continue
        meta = getattr(obj, "meta", None)
        if not isinstance(meta, CheckMeta):
            problems.append(f"entry point {ep.name} = {ep.value}: class has no `meta: CheckMeta`")
            continue
        try:
            instance = obj()
        except Exception as exc:
            problems.append(
                f"entry point {ep.name} = {ep.value}: cannot instantiate: {type(exc).__name__}: {exc}"
            )
            continue
        file, line, digest = _source_info(obj)
        dist = getattr(ep, "dist", None)
        package = dist.name if dist is not None else obj.__module__.split(".")[0]
        version = dist.version if dist is not None else "unknown"
        info = PythonCheckInfo(
            check_id=meta.id,
            entry_point=f"{ep.name} = {ep.value}",
            package=package,
            version=version,
            module=obj.__module__,
            source_sha256=digest,
        )
        loaded.append(LoadedPythonCheck(check=instance, info=info, file=file, line=line))
    return loaded, problems
