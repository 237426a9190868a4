"""``results.jsonl``: one result per line, the form every later stage (report, diff, bundle verify) reads.

The schema is documented field by field in ``docs/results-schema.md`` and as JSON Schema in
``docs/results.schema.json``. Lines are :func:`ismap_scan.model.canonical_json` of :meth:`Result.to_dict`
(keys sorted, UTF-8 kept), so the file's hash depends only on the results.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import InputError, InputErrors
from ..model import Result, Severity, Verdict, canonical_json
from .base import Renderer

#: Stop collecting after this many bad lines: a wrong file (say, a snapshot) would otherwise list thousands.
_MAX_REPORTED_ERRORS = 20

_STRING_FIELDS = (
    "check_id",
    "provider",
    "account",
    "region",
    "resource_type",
    "resource_id",
)
_OPTIONAL_STRING_FIELDS = ("resource_name", "collected_at", "message", "finding_key")
_COVERAGES = ("full", "partial")


class JsonlRenderer(Renderer[list[str]]):
    """Renders ``results.jsonl``: ``transform`` gives one canonical JSON text per result."""

    format = "jsonl"
    filename = "results.jsonl"

    def transform(self, results: Sequence[Result]) -> list[str]:
        return [canonical_json(r.to_dict()) for r in results]

    def serialize(self, document: list[str]) -> bytes:
        return "".join(line + "\n" for line in document).encode("utf-8")


def read_results(path: str | Path) -> list[Result]:
    """Read a ``results.jsonl`` file back into :class:`Result` objects, in file order.

    Blank lines are skipped. Every line must be a JSON object of the documented shape
    (``docs/results-schema.md``); a ``finding_key`` present on a line must equal the key computed from its
    check, provider, account, region and resource ID (an edited line is caught, not silently re-keyed), and
    no two lines may share a finding key. JSON nested too deeply to parse is a bad line, not a crash.
    Raises :class:`InputError` (``file:line: ...``) for one bad line, :class:`InputErrors` for several
    (up to 20 are listed), and :class:`InputError` without a line when the file cannot be read.
    """
    try:
        text = Path(path).read_text(encoding="utf-8-sig")  # tolerate a BOM an editor added
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read results file: {exc}", file=path) from None

    results: list[Result] = []
    errors: list[InputError] = []
    first_line: dict[str, int] = {}  # finding key → the line it was first seen on
    # Split on "\n" only: str.splitlines() also breaks at U+2028, U+0085 and friends, which JSON leaves
    # unescaped inside strings (a resource name may hold one).
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw.removesuffix("\r")
        if not line.strip():
            continue
        try:
            result = _parse_line(line)
            # One check judges one resource once: a second line with the same finding key is a merged or
            # edited file, and which verdict counts would be a guess.
            if result.finding_key in first_line:
                raise _LineError(
                    f"duplicate finding: {result.check_id} on {result.resource_id} "
                    f"(finding_key {result.finding_key[:16]}…) is also on line {first_line[result.finding_key]}",
                    result.check_id,
                )
            first_line[result.finding_key] = number
            results.append(result)
        except _LineError as exc:
            errors.append(InputError(exc.detail, file=path, line=number, check=exc.check))
            if len(errors) >= _MAX_REPORTED_ERRORS:
                errors.append(InputError("further lines not checked", file=path))
                break
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise InputErrors(errors)
    return results


class _LineError(Exception):
    """What is wrong with one line (``detail``) and, when the line names one, its check."""

    def __init__(self, detail: str, check: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.check = check


def _parse_line(line: str) -> Result:
    """One line to a :class:`Result`; raises :class:`_LineError` saying what was expected."""
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        raise _LineError(f"not valid JSON ({exc.msg} at column {exc.colno})") from None
    except RecursionError:
        raise _LineError("JSON nested too deeply") from None
    if not isinstance(obj, dict):
        raise _LineError(f"expected a JSON object (one result), got {type(obj).__name__}")
    check = obj["check_id"] if isinstance(obj.get("check_id"), str) else None
    problems = _shape_problems(obj)
    if problems:
        raise _LineError("; ".join(problems), check)
    result = Result.from_dict(obj)
    if "finding_key" in obj and obj["finding_key"] != result.finding_key:
        raise _LineError(
            f"finding_key {obj['finding_key']!r} does not match the key of "
            "(check_id, provider, account, region, resource_id); was the line edited?",
            check,
        )
    return result


def _shape_problems(obj: dict[str, Any]) -> list[str]:
    """Type problems of one results line, as short phrases (empty when the line is well formed).

    Kept in step with ``docs/results.schema.json``; :meth:`Result.from_dict` would coerce wrong types
    (``str(123)``), which would hide a file written by something else.
    """
    problems: list[str] = []
    for name in _STRING_FIELDS:
        if not isinstance(obj.get(name), str) or not obj[name]:
            problems.append(f"field {name!r} must be a non-empty string")
    for name in _OPTIONAL_STRING_FIELDS:
        if name in obj and not isinstance(obj[name], str):
            problems.append(f"field {name!r} must be a string")
    verdicts = [v.value for v in Verdict]
    if obj.get("verdict") not in verdicts:
        problems.append(f"field 'verdict' must be one of {', '.join(verdicts)}, got {obj.get('verdict')!r}")
    severities = [s.value for s in Severity]
    if obj.get("severity") not in severities:
        problems.append(
            f"field 'severity' must be one of {', '.join(severities)}, got {obj.get('severity')!r}"
        )
    for name in ("title", "remediation"):
        value = obj.get(name, {})
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            problems.append(f"field {name!r} must be an object of strings ({{'en': ..., 'ja': ...}})")
    if not isinstance(obj.get("evidence", {}), dict):
        problems.append("field 'evidence' must be an object (evidence path -> value)")
    controls = obj.get("controls", [])
    if not isinstance(controls, list) or not all(
        isinstance(c, dict) and isinstance(c.get("id"), str) and c.get("coverage") in _COVERAGES
        for c in controls
    ):
        problems.append("field 'controls' must be a list of {'id': str, 'coverage': 'full'|'partial'}")
    return problems
