"""Check case files: small snapshots with the exact resource IDs expected per verdict (Checkov-style).

Format (``tests/checks/<provider>/<service>/<check_tail>.yaml``, see docs/architecture.md)::

    check: aws.s3.bucket_versioning_enabled
    description: optional free text
    records:
      - {type: aws.s3.bucket, id: "arn:aws:s3:::good", data: {Versioning: {Status: Enabled}}}
      - {type: aws.account, id: "arn:aws:iam::111122223333:root", data: {...},
         errors: [{field: "*", call: "s3:ListBuckets", code: AccessDenied, resource_type: aws.s3.bucket}]}
    expected:
      PASS: ["arn:aws:s3:::good"]

``input`` is accepted as another name for ``records`` (the wording of ``ismap-scan checks test`` docs and
of other tools' case formats); a file gives one of the two, not both.

Missing record fields get defaults: ``provider`` from the type's prefix, ``account`` 111122223333,
``region`` ``global`` for ``<provider>.account`` and for types the provider declares global (else
ap-northeast-1), ``collected_at`` 2026-11-30T00:00:00Z, ``name`` = ``id``, ``data`` ``{}``. YAML
timestamps are turned back into ISO 8601 strings, as a snapshot holds them. Verdicts missing from
``expected`` must be empty: the comparison is on exact sets.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError

from ..errors import InputError, InputErrors
from ..model import CollectionError, Resource, Result, Verdict
from ..yamlutil import LineDict, load_yaml, validation_errors
from .evaluate import evaluate
from .loader import CheckSet

DEFAULT_ACCOUNT = "111122223333"
DEFAULT_REGION = "ap-northeast-1"
DEFAULT_COLLECTED_AT = "2026-11-30T00:00:00Z"


class _CaseError(BaseModel):
    model_config = ConfigDict(extra="forbid")

    field: str
    call: str = "test:Call"
    code: str = "AccessDenied"
    message: str = ""
    resource_type: str | None = None


class _CaseRecord(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: str = Field(pattern=r"^[a-z][a-z0-9]*(\.[a-z][a-z0-9_]*)+$")
    id: str = Field(min_length=1)
    provider: str | None = None
    account: str = DEFAULT_ACCOUNT
    region: str | None = None
    name: str | None = None
    collected_at: str = DEFAULT_COLLECTED_AT
    data: dict[str, Any] = Field(default_factory=dict)
    errors: list[_CaseError] = Field(default_factory=list)
    redactions: list[str] = Field(default_factory=list)


class _CaseFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    check: str
    description: str | None = None
    records: list[_CaseRecord] = Field(validation_alias=AliasChoices("records", "input"))
    expected: dict[Verdict, list[str]]


def _plain(value: Any) -> Any:
    """Deep copy with plain dict/list (JMESPath type checks reject subclasses) and ISO timestamp strings."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        return aware.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    return value


@cache
def _global_types(provider: str) -> frozenset[str]:
    """Types the provider says live in region ``global`` (optional ``global_resource_types()``)."""
    try:
        from ..providers.base import get_provider

        declared = getattr(get_provider(provider), "global_resource_types", None)
        return frozenset(declared()) if callable(declared) else frozenset()
    except Exception:  # provider not installed or not importable: fall back to the account rule
        return frozenset()


def _default_region(rtype: str, provider: str) -> str:
    if rtype == f"{provider}.account" or rtype in _global_types(provider):
        return "global"
    return DEFAULT_REGION


def _to_resource(rec: _CaseRecord) -> Resource:
    provider = rec.provider or rec.type.split(".", 1)[0]
    return Resource(
        provider=provider,
        account=rec.account,
        region=rec.region or _default_region(rec.type, provider),
        type=rec.type,
        id=rec.id,
        name=rec.name or rec.id,
        collected_at=rec.collected_at,
        data=_plain(rec.data),
        errors=[CollectionError(**e.model_dump()) for e in rec.errors],
        redactions=list(rec.redactions),
    )


@dataclass
class CaseSpec:
    """A parsed case file."""

    path: Path
    check: str
    records: list[Resource]
    expected: dict[Verdict, set[str]]
    line: int | None = None


def load_case_file(path: str | Path) -> CaseSpec:
    """Parse and validate a case file. Raises :class:`InputError`/:class:`InputErrors` with file:line."""
    path = Path(path)
    doc = load_yaml(path)
    if not isinstance(doc, LineDict):
        raise InputError("expected a mapping with check, records and expected", file=path, line=1)
    if "records" in doc and "input" in doc:
        raise InputError(
            "give the records as `records` or as `input`, not both",
            file=path,
            line=doc.key_lines.get("input"),
        )
    try:
        case = _CaseFile.model_validate(doc)
    except ValidationError as exc:
        check = doc.get("check") if isinstance(doc.get("check"), str) else None
        raise validation_errors(exc, doc, path, check=check) from None
    expected: dict[Verdict, set[str]] = {v: set(case.expected.get(v, [])) for v in Verdict}
    seen: dict[str, Verdict] = {}
    problems: list[InputError] = []
    for verdict in Verdict:
        for rid in sorted(expected[verdict]):
            if rid in seen:
                problems.append(
                    InputError(
                        f"expected: {rid} listed under {seen[rid]} and {verdict}",
                        file=path,
                        line=doc.key_lines.get("expected"),
                        check=case.check,
                    )
                )
            seen[rid] = verdict
    if problems:
        raise InputErrors(problems)
    return CaseSpec(
        path=path,
        check=case.check,
        records=[_to_resource(r) for r in case.records],
        expected=expected,
        line=doc.line,
    )


@dataclass
class CaseOutcome:
    """What a case file expected and what the engine gave."""

    path: Path
    check_id: str
    expected: dict[Verdict, set[str]]
    actual: dict[Verdict, set[str]]
    results: list[Result] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(self.expected[v] == self.actual[v] for v in Verdict)

    def diff(self) -> str:
        """A readable account of every resource whose verdict differs (empty when :attr:`ok`)."""
        if self.ok:
            return ""
        want = {rid: v for v in Verdict for rid in self.expected[v]}
        got = {r.resource_id: r for r in self.results}
        lines = [f"{self.path}: check {self.check_id}: verdicts differ from expected"]
        for rid in sorted(set(want) | set(got)):
            expected = want.get(rid)
            result = got.get(rid)
            actual = result.verdict if result else None
            if expected == actual:
                continue
            exp_text = expected.value if expected else "(not expected)"
            act_text = actual.value if actual else "(no result: wrong type, or record missing)"
            reason = f" — {result.message}" if result and result.message else ""
            lines.append(f"  {rid}: expected {exp_text}, got {act_text}{reason}")
        return "\n".join(lines)

    def verdicts(self) -> set[Verdict]:
        """Verdicts this case file covers (non-empty expected sets)."""
        return {v for v, ids in self.expected.items() if ids}


def run_case(spec: CaseSpec, checks: CheckSet) -> CaseOutcome:
    """Evaluate the case's check on its records and compare with its expected sets."""
    if spec.check not in checks:
        raise InputError("unknown check ID in case file", file=spec.path, line=spec.line, check=spec.check)
    selected = checks.select(ids=[spec.check])
    results = [r for r in evaluate(spec.records, selected) if r.check_id == spec.check]
    actual: dict[Verdict, set[str]] = {v: set() for v in Verdict}
    for r in results:
        actual[r.verdict].add(r.resource_id)
    return CaseOutcome(
        path=spec.path, check_id=spec.check, expected=spec.expected, actual=actual, results=results
    )


def run_case_file(path: str | Path, checks: CheckSet) -> CaseOutcome:
    """Load ``path`` and run it against ``checks`` (which must contain its check). Raises
    :class:`InputError` for a malformed case file or an unknown check."""
    return run_case(load_case_file(path), checks)


def find_case_files(roots: Iterable[Path]) -> list[Path]:
    """Every ``*.yaml`` under ``roots``, sorted."""
    return sorted(p for root in roots for p in Path(root).rglob("*.yaml") if p.is_file())
