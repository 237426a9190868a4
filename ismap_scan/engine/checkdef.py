"""A loaded, validated and compiled check — YAML or Python — as the evaluator and the CLI see it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from jmespath.parser import ParsedResult

from ..model import Severity
from .python_checks import PythonCheck


@dataclass(frozen=True)
class Need:
    """One ``needs`` entry split into its context root and the path inside that root's ``data``."""

    path: str  # as written: "account.PasswordPolicy"
    scope: Literal["data", "account", "region"]
    field: str  # relative to the record's data: "PasswordPolicy"

    @classmethod
    def parse(cls, path: str) -> Need:
        scope, _, rest = path.partition(".")
        if scope not in ("data", "account", "region") or not rest:
            raise ValueError(f"needs path {path!r} must start with data., account. or region.")
        return cls(path=path, scope=scope, field=rest)  # type: ignore[arg-type]


@dataclass(frozen=True, eq=False)
class CheckDef:
    """One check, ready to evaluate.

    ``kind`` is ``"yaml"`` (``applies``/``assert`` hold the expressions as written, before param binding)
    or ``"python"`` (``python`` holds the instance). ``params`` are the values in force (defaults merged
    with overrides); ``defaults`` are the check's own. ``source``/``line`` locate its definition.
    """

    id: str
    resource: str
    severity: Severity
    title: Mapping[str, str]
    remediation: Mapping[str, str]
    rationale: Mapping[str, str] | None
    needs: tuple[Need, ...]
    evidence: tuple[str, ...]
    params: Mapping[str, Any]
    defaults: Mapping[str, Any]
    kind: Literal["yaml", "python"]
    source: str
    line: int | None
    applies: str | None = None
    assert_: str | None = None
    joins: tuple[str, ...] = ()
    compiled_applies: ParsedResult | None = field(default=None, repr=False)
    compiled_assert: ParsedResult | None = field(default=None, repr=False)
    compiled_evidence: tuple[ParsedResult, ...] = field(default=(), repr=False)
    python: PythonCheck | None = field(default=None, repr=False)

    @property
    def provider(self) -> str:
        return self.id.split(".", 1)[0]

    @property
    def service(self) -> str:
        """``s3`` for ``aws.s3.bucket_versioning_enabled``."""
        return self.id.split(".")[1]

    @property
    def resource_types(self) -> tuple[str, ...]:
        """The type it judges plus the types it joins: what must be collected for it."""
        return (self.resource, *self.joins)

    def describe(self) -> dict[str, Any]:
        """A JSON-able summary for ``checks list --format json`` and docs."""
        return {
            "id": self.id,
            "kind": self.kind,
            "resource": self.resource,
            "severity": self.severity.value,
            "title": dict(self.title),
            "rationale": dict(self.rationale) if self.rationale else None,
            "remediation": dict(self.remediation),
            "applies": self.applies,
            "assert": self.assert_,
            "needs": [n.path for n in self.needs],
            "evidence": list(self.evidence),
            "params": dict(self.params),
            "joins": list(self.joins),
            "source": self.source if self.line is None else f"{self.source}:{self.line}",
        }
