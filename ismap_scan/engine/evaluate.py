"""Evaluate checks on snapshot records: one :class:`~ismap_scan.model.Result` per (check, record).

No network and no clock: everything comes from the records. Verdict order for one check on one record:

1. the record's data is wholly unknown (an error with ``field: "*"``), or a ``needs`` path is covered by a
   collection error (``data.X`` on the record, ``account.X`` / ``region.X`` on the scope record), or the
   scope record a ``needs`` path reads is missing → ERROR;
2. ``applies`` is ``false`` → NOT_APPLICABLE;
3. ``assert`` is ``true`` → PASS, ``false`` → FAIL;
4. a non-boolean result or any exception → ERROR naming the check and the expression.

JMESPath treats ``0``, ``""`` and ``[]`` as false and other values as true; only real booleans count here,
so ``AccountSummary.AccountMFAEnabled`` must be compared (``== `1```), not tested.

A failed *listing* (an error with ``resource_type`` on a scope record) gives one ERROR per check on that
type, reported on the scope record, so unseen resources never pass silently.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Mapping
from typing import Any

import jmespath
from jmespath.parser import ParsedResult
from jmespath.visitor import TreeInterpreter

from ..model import ControlRef, Resource, Result, Verdict, canonical_json
from .checkdef import CheckDef
from .functions import CheckFunctions, now_of
from .index import SnapshotIndex, account_type, region_type
from .python_checks import CheckContext

_MAX_SHOWN = 160  # characters of an expression or value quoted in a message


class _RecordContext:
    """Everything the checks on one record share: the JMESPath context, options and scope records."""

    def __init__(self, rec: Resource, index: SnapshotIndex) -> None:
        self.rec = rec
        self.account_rec = index.account_record(rec.provider, rec.account)
        self.region_rec = index.region_record(rec.provider, rec.account, rec.region)
        self.root: dict[str, Any] = {
            "resource": rec.to_dict(),
            "data": rec.data,
            "account": self.account_rec.data if self.account_rec is not None else None,
            "region": self.region_rec.data if self.region_rec is not None else None,
        }
        self.now = now_of(rec.collected_at)
        # One interpreter per record, reused by every expression of every check on it. This is exactly what
        # ParsedResult.search does per call; building it once avoids a reference cycle per search (its
        # method cache), which matters while the cyclic collector is paused in evaluate().
        self.interpreter = TreeInterpreter(jmespath.Options(custom_functions=CheckFunctions(self.now)))


def _what(expression: str | None) -> str:
    """An expression quoted in a PASS/FAIL/NOT_APPLICABLE message: one line, at most 100 characters."""
    flat = " ".join((expression or "").split())
    return flat if len(flat) <= 100 else flat[:99] + "…"


def _short(text: str) -> str:
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 1] + "…"


def _show(value: Any) -> str:
    try:
        return _short(canonical_json(value))
    except (TypeError, ValueError):
        return _short(repr(value))


def _needs_error(check: CheckDef, rc: _RecordContext) -> str | None:
    """Why the record cannot be judged by ``check`` (unknown data), or ``None``."""
    for err in rc.rec.errors:
        if err.field == "*" and err.resource_type is None:
            return f"record could not be read: {err.call} {err.code}: {err.message}".rstrip(": ")
    for need in check.needs:
        if need.scope == "data":
            scope_rec: Resource | None = rc.rec
        elif need.scope == "account":
            scope_rec = rc.account_rec
            if scope_rec is None:
                return (
                    f"needs {need.path}, but the snapshot has no {account_type(rc.rec.provider)} record "
                    f"for account {rc.rec.account}"
                )
        else:
            scope_rec = rc.region_rec
            if scope_rec is None:
                return (
                    f"needs {need.path}, but the snapshot has no {region_type(rc.rec.provider)} record "
                    f"for {rc.rec.account}/{rc.rec.region}"
                )
        assert scope_rec is not None
        for err in scope_rec.errors:
            if err.resource_type is None and err.covers(need.field):
                return f"{need.path} unknown: {err.call} {err.code}: {err.message}".rstrip(": ")
    return None


def _search(expr: ParsedResult, rc: _RecordContext) -> Any:
    return rc.interpreter.visit(expr.parsed, rc.root)


def _evidence(check: CheckDef, rc: _RecordContext) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for path, expr in zip(check.evidence, check.compiled_evidence, strict=True):
        try:
            out[path] = _search(expr, rc)
        except Exception:  # evidence is best effort; the verdict already says what went wrong
            out[path] = None
    return out


def _boolean(
    check: CheckDef, key: str, source: str | None, expr: ParsedResult, rc: _RecordContext
) -> bool | str:
    """The expression's boolean value, or an ERROR message (non-boolean result or exception)."""
    shown = _short(source or "")
    try:
        value = _search(expr, rc)
    except Exception as exc:
        return f"check {check.id}: {key} `{shown}` raised {type(exc).__name__}: {exc}"
    if not isinstance(value, bool):
        return f"check {check.id}: {key} `{shown}` returned {_show(value)}, expected true or false"
    return value


def _yaml_verdict(check: CheckDef, rc: _RecordContext) -> tuple[Verdict, str]:
    if check.compiled_applies is not None:
        applies = _boolean(check, "applies", check.applies, check.compiled_applies, rc)
        if isinstance(applies, str):
            return Verdict.ERROR, applies
        if not applies:
            return Verdict.NOT_APPLICABLE, f"not applicable: `{_what(check.applies)}` is false"
    assert check.compiled_assert is not None
    held = _boolean(check, "assert", check.assert_, check.compiled_assert, rc)
    if isinstance(held, str):
        return Verdict.ERROR, held
    # The message names what was tested (the assert expression) in stable English; reports state the
    # outcome in their own language from the verdict and the check's title (reports.base.outcome_text).
    shown = _what(check.assert_)
    return (Verdict.PASS, f"met: `{shown}`") if held else (Verdict.FAIL, f"not met: `{shown}`")


def _python_verdict(check: CheckDef, rc: _RecordContext, index: SnapshotIndex) -> tuple[Verdict, str]:
    assert check.python is not None
    ctx = CheckContext(
        index,
        rc.rec,
        account=rc.root["account"],
        region=rc.root["region"],
        params=dict(check.params),
        now=rc.now,
        joins=check.joins,
    )
    try:
        applies = check.python.applies(rc.rec, ctx)
        if not isinstance(applies, bool):
            return Verdict.ERROR, f"check {check.id}: applies() returned {_show(applies)}, expected a bool"
        if not applies:
            return Verdict.NOT_APPLICABLE, "not applicable: applies() is false"
        outcome = check.python.evaluate(rc.rec, ctx)
    except Exception as exc:
        return Verdict.ERROR, f"check {check.id}: {type(exc).__name__}: {exc}"
    if (
        not isinstance(outcome, tuple)
        or len(outcome) != 2
        or not isinstance(outcome[0], Verdict)
        or not isinstance(outcome[1], str)
    ):
        return Verdict.ERROR, f"check {check.id}: evaluate() returned {outcome!r}, expected (Verdict, str)"
    return outcome


def _result(
    check: CheckDef,
    rec: Resource,
    verdict: Verdict,
    message: str,
    evidence: dict[str, Any],
    controls: list[ControlRef],
) -> Result:
    return Result(
        check_id=check.id,
        verdict=verdict,
        severity=check.severity,
        provider=rec.provider,
        account=rec.account,
        region=rec.region,
        resource_type=rec.type,
        resource_id=rec.id,
        resource_name=rec.name,
        collected_at=rec.collected_at,
        message=message,
        title=dict(check.title),
        remediation=dict(check.remediation),
        evidence=evidence,
        controls=list(controls),
    )


def evaluate_record(
    check: CheckDef, rec: Resource, index: SnapshotIndex, controls: list[ControlRef] | None = None
) -> Result:
    """One check on one record (``rec.type`` must be ``check.resource``); see the module docstring."""
    return _evaluate(check, _RecordContext(rec, index), index, controls or [])


def _evaluate(
    check: CheckDef, rc: _RecordContext, index: SnapshotIndex, controls: list[ControlRef]
) -> Result:
    unknown = _needs_error(check, rc)
    if unknown is not None:
        verdict, message = Verdict.ERROR, f"check {check.id}: {unknown}"
    elif check.kind == "python":
        verdict, message = _python_verdict(check, rc, index)
    else:
        verdict, message = _yaml_verdict(check, rc)
    return _result(check, rc.rec, verdict, message, _evidence(check, rc), controls)


def evaluate(
    resources: Iterable[Resource],
    checks: Iterable[CheckDef],
    check_map: Mapping[str, list[ControlRef]] | None = None,
) -> list[Result]:
    """Evaluate ``checks`` (a :class:`~ismap_scan.engine.loader.CheckSet` or any iterable of
    :class:`CheckDef`) on a snapshot's ``resources``.

    Returns one result per (check, record of the check's type), plus one ERROR per (check, failed listing
    of its type), sorted by :meth:`Result.sort_key` (then verdict and message) so equal inputs give equal
    output. ``check_map`` (check ID → controls, from the mappings) is attached to each result.
    """
    index = SnapshotIndex(resources)
    by_type: dict[str, list[CheckDef]] = {}
    for check in checks:
        by_type.setdefault(check.resource, []).append(check)
    mapping = check_map or {}
    results: list[Result] = []
    # The loop allocates millions of small objects and frees none, so the cyclic collector would run
    # again and again over a growing heap (half of the time on 100,000 records); pause it meanwhile.
    collecting = gc.isenabled()
    gc.disable()
    try:
        for rec in index.records:
            applicable = by_type.get(rec.type)
            if not applicable:
                continue
            rc = _RecordContext(rec, index)
            for check in applicable:
                results.append(_evaluate(check, rc, index, list(mapping.get(check.id, []))))
    finally:
        if collecting:
            gc.enable()
    results.extend(_listing_results(index, by_type, mapping))
    results.sort(key=lambda r: (*r.sort_key(), r.verdict.value, r.message))
    return results


def _listing_results(
    index: SnapshotIndex, by_type: Mapping[str, list[CheckDef]], mapping: Mapping[str, list[ControlRef]]
) -> list[Result]:
    """One ERROR per (check, scope record, failed listing type), all the failed calls in its message."""
    grouped: dict[tuple[int, str], tuple[Resource, list[str]]] = {}
    for scope_rec, err in index.all_listing_errors():
        assert err.resource_type is not None
        key = (id(scope_rec), err.resource_type)
        entry = grouped.setdefault(key, (scope_rec, []))
        entry[1].append(f"{err.call} {err.code}: {err.message}".rstrip(": "))
    out: list[Result] = []
    for (_rid, rtype), (scope_rec, reasons) in grouped.items():
        for check in by_type.get(rtype, ()):
            message = f"check {check.id}: listing {rtype} failed here: {'; '.join(reasons)}"
            out.append(_result(check, scope_rec, Verdict.ERROR, message, {}, list(mapping.get(check.id, []))))
    return out
