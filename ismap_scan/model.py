"""The records every stage passes on: snapshot resources, check results and their verdicts.

A :class:`Resource` is one line of ``snapshot.jsonl.gz`` (DESIGN §3); a :class:`Result` is one line of
``results.jsonl`` (one check evaluated against one resource). Both serialise to plain JSON-able dicts with
:meth:`to_dict` and back with :meth:`from_dict`; the snapshot's canonical line form is :func:`canonical_json`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

#: Region value of records that belong to no region (IAM users, the account record, S3's account settings).
GLOBAL_REGION = "global"


class Verdict(StrEnum):
    """Outcome of one check on one resource. ``ERROR`` means "could not be evaluated", never "failed"."""

    PASS = "PASS"
    FAIL = "FAIL"
    NOT_APPLICABLE = "NOT_APPLICABLE"
    ERROR = "ERROR"


class Severity(StrEnum):
    """Check severity, ordered by :attr:`rank` (``critical`` highest)."""

    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"

    @property
    def rank(self) -> int:
        """4 for critical down to 0 for info, for ``--fail-on`` comparisons."""
        return _SEVERITY_RANK[self]


_SEVERITY_RANK = {
    Severity.CRITICAL: 4,
    Severity.HIGH: 3,
    Severity.MEDIUM: 2,
    Severity.LOW: 1,
    Severity.INFO: 0,
}


#: The fields of a result that say what was judged and how; enough to diff two scans by finding key.
RESULT_IDENTITY_FIELDS = (
    "check_id",
    "verdict",
    "severity",
    "provider",
    "account",
    "region",
    "resource_type",
    "resource_id",
)


def canonical_json(obj: Any) -> str:
    """One canonical JSON text: keys sorted, UTF-8 kept (no ``\\u`` escapes), no insignificant spaces.

    The snapshot and results are hashed over these texts, so the hash does not depend on dict order.
    """
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def finding_key(check_id: str, provider: str, account: str, region: str, resource_id: str) -> str:
    """SHA-256 hex of (check ID, provider, account, region, resource ID), joined by U+001F.

    Stable across scans: waivers, diffs, "failing since", SARIF fingerprints and baselines use it.
    """
    raw = "\x1f".join((check_id, provider, account, region, resource_id))
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class CollectionError:
    """A read that failed while collecting; the fields it left unknown cannot be judged.

    ``field`` is a path inside the record's ``data`` (``"Policy"``, ``"CredentialReport.root"``), or ``"*"``
    when the whole record (or a whole listing) is unknown. ``resource_type`` is set on scope records (account,
    region) when a *listing* of that type failed there, so checks on that type report ERROR instead of
    silently seeing no resources. ``call`` is ``service:Operation`` (``"s3:GetBucketPolicy"``); ``code`` the
    API's error code (``"AccessDenied"``, ``"Throttling"``, ``"NotImplemented"``).
    """

    field: str
    call: str
    code: str
    message: str
    resource_type: str | None = None

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "field": self.field,
            "call": self.call,
            "code": self.code,
            "message": self.message,
        }
        if self.resource_type is not None:
            d["resource_type"] = self.resource_type
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CollectionError:
        return cls(
            field=str(d["field"]),
            call=str(d.get("call", "")),
            code=str(d.get("code", "")),
            message=str(d.get("message", "")),
            resource_type=d.get("resource_type"),
        )

    def covers(self, data_path: str) -> bool:
        """True when this error leaves ``data_path`` (relative to ``data``, dotted) unknown.

        ``"*"`` covers everything; ``"Policy"`` covers ``"Policy"`` and ``"Policy.Statement"``, and a need
        for ``"Policy"`` is covered by an error on ``"Policy.Statement"`` too (part of it is unknown).
        """
        if self.field == "*":
            return True
        a, b = self.field, data_path
        return a == b or b.startswith(a + ".") or b.startswith(a + "[") or a.startswith(b + ".")


@dataclass
class Resource:
    """One collected resource: a snapshot line (DESIGN §3).

    ``data`` keeps the cloud API's own field names and values; anything ismap-scan derives lives under
    ``data["_derived"]``. "Not configured" answers are stored as ``None``. ``collected_at`` is ISO 8601 UTC
    (``2026-11-30T01:02:03Z``) and is the "now" for time-based checks. ``redactions`` lists the paths
    (``data.Tags[2].Value``) whose values were replaced before the record was written.
    """

    provider: str
    account: str
    region: str
    type: str
    id: str
    name: str
    collected_at: str
    data: dict[str, Any] = field(default_factory=dict)
    errors: list[CollectionError] = field(default_factory=list)
    redactions: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "account": self.account,
            "region": self.region,
            "type": self.type,
            "id": self.id,
            "name": self.name,
            "collected_at": self.collected_at,
            "data": self.data,
            "errors": [e.to_dict() for e in self.errors],
            "redactions": list(self.redactions),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Resource:
        """Build from a snapshot line's dict (DESIGN §3), strictly: nothing is coerced.

        ``provider``, ``type`` and ``id`` are non-empty strings, ``account``, ``region`` and ``collected_at``
        strings; ``name`` a string or absent/null (then the ID); ``data`` an object; ``errors`` a list of
        objects with a string ``field``; ``redactions`` a list of strings (the last three may be absent).
        Raises ``KeyError`` for a missing field, ``TypeError``/``ValueError`` naming a field of the wrong
        type: a snapshot written by something else must not be silently reinterpreted.
        """
        for key in ("provider", "type", "id"):
            if not isinstance(d[key], str) or not d[key]:
                raise ValueError(f"field {key!r} must be a non-empty string, got {d[key]!r}")
        for key in ("account", "region", "collected_at"):
            if not isinstance(d[key], str):
                raise TypeError(f"field {key!r} must be a string, got {type(d[key]).__name__}")
        name = d.get("name")
        if name is not None and not isinstance(name, str):
            raise TypeError(f"field 'name' must be a string, got {type(name).__name__}")
        data = d.get("data", {})
        if not isinstance(data, dict):
            raise TypeError(f"field 'data' must be an object, got {_json_type(data)}")
        errors = d.get("errors", [])
        if not isinstance(errors, list) or not all(
            isinstance(e, dict) and isinstance(e.get("field"), str) for e in errors
        ):
            raise TypeError("field 'errors' must be a list of objects with a string 'field'")
        redactions = d.get("redactions", [])
        if not isinstance(redactions, list) or not all(isinstance(x, str) for x in redactions):
            raise TypeError("field 'redactions' must be a list of strings")
        return cls(
            provider=d["provider"],
            account=d["account"],
            region=d["region"],
            type=d["type"],
            id=d["id"],
            name=name or d["id"],
            collected_at=d["collected_at"],
            data=data,
            errors=[CollectionError.from_dict(e) for e in errors],
            redactions=list(redactions),
        )

    def sort_key(self) -> tuple[str, str, str, str, str]:
        return (self.provider, self.account, self.region, self.type, self.id)


def _json_type(value: Any) -> str:
    """The JSON name of a parsed value's type (``list`` → ``array``), for error messages."""
    names = {dict: "object", list: "array", str: "string", bool: "boolean", int: "number", float: "number"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


@dataclass(frozen=True)
class ControlRef:
    """A check's mapping to one ISMAP control (objective or detailed control), ``full`` or ``partial``."""

    id: str
    coverage: str  # "full" | "partial"

    def to_dict(self) -> dict[str, str]:
        return {"id": self.id, "coverage": self.coverage}


@dataclass
class Result:
    """One check evaluated against one resource: a line of ``results.jsonl``.

    ``message`` says why (for ERROR: which check, expression or collection error). ``evidence`` maps each
    evidence path of the check (``"data.Versioning.Status"``) to the value it had. ``title`` and
    ``remediation`` are ``{"en": ..., "ja": ...}`` (remediation may add ``"url"``). ``collected_at`` is the
    resource's collection time, so results are reproducible from the snapshot alone.
    """

    check_id: str
    verdict: Verdict
    severity: Severity
    provider: str
    account: str
    region: str
    resource_type: str
    resource_id: str
    resource_name: str
    collected_at: str
    message: str = ""
    title: dict[str, str] = field(default_factory=dict)
    remediation: dict[str, str] = field(default_factory=dict)
    evidence: dict[str, Any] = field(default_factory=dict)
    controls: list[ControlRef] = field(default_factory=list)

    @property
    def finding_key(self) -> str:
        return finding_key(self.check_id, self.provider, self.account, self.region, self.resource_id)

    @property
    def service(self) -> str:
        """The ``<service>`` part of the check ID (``s3`` for ``aws.s3.bucket_versioning_enabled``)."""
        parts = self.check_id.split(".")
        return parts[1] if len(parts) > 2 else ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "check_id": self.check_id,
            "verdict": self.verdict.value,
            "severity": self.severity.value,
            "provider": self.provider,
            "account": self.account,
            "region": self.region,
            "resource_type": self.resource_type,
            "resource_id": self.resource_id,
            "resource_name": self.resource_name,
            "collected_at": self.collected_at,
            "finding_key": self.finding_key,
            "message": self.message,
            "title": dict(self.title),
            "remediation": dict(self.remediation),
            "evidence": self.evidence,
            "controls": [c.to_dict() for c in self.controls],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Result:
        """Build from a results.jsonl line's dict. Raises ``KeyError``/``ValueError`` on a malformed line."""
        return cls(
            check_id=str(d["check_id"]),
            verdict=Verdict(d["verdict"]),
            severity=Severity(d["severity"]),
            provider=str(d["provider"]),
            account=str(d["account"]),
            region=str(d["region"]),
            resource_type=str(d["resource_type"]),
            resource_id=str(d["resource_id"]),
            resource_name=str(d.get("resource_name") or d["resource_id"]),
            collected_at=str(d.get("collected_at", "")),
            message=str(d.get("message", "")),
            title=dict(d.get("title") or {}),
            remediation=dict(d.get("remediation") or {}),
            evidence=dict(d.get("evidence") or {}),
            controls=[ControlRef(str(c["id"]), str(c["coverage"])) for c in d.get("controls") or []],
        )

    def sort_key(self) -> tuple[str, str, str, str, str]:
        return (self.check_id, self.provider, self.account, self.region, self.resource_id)
