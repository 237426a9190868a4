"""Control status roll-up (DESIGN §5): results + check map + assertion document → one status per control.

Without an assertion document every mapped control that has results gets a status from its automated
evidence alone. With one, every control the statement names gets a status, in catalog order:

1. excluded in the statement → ``EXCLUDED``;
2. any FAIL not muted by a current waiver → ``NON_COMPLIANT``;
3. some PASS, none ERROR, only ``partial`` evidence and no current attestation → ``PARTIAL``;
4. some PASS, none ERROR, and a ``full`` mapping passed or a current attestation covers the rest →
   ``COMPLIANT``;
5. some PASS but also ERROR → ``PARTIAL`` (what could not be read never counts as a pass);
6. no PASS (nothing, only NOT_APPLICABLE / ERROR, or only waived FAILs) and a current attestation or an
   inheritance from an ISMAP-registered underlying cloud → ``MANUAL``;
7. otherwise → ``NOT_EVALUATED``.

Expired waivers and attestations stop counting; each status lists the ones that would have applied.
Evidence for a control is the check map's checks for it plus the checks the statement ties to it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from ..model import ControlRef, Result, Verdict
from .assertion import Assertion, Attestation, Inheritance, Selection, Waiver, today_utc
from .catalog import Catalog, Control


class ControlState(StrEnum):
    """Roll-up status of one control (GLOSSARY)."""

    COMPLIANT = "COMPLIANT"
    NON_COMPLIANT = "NON_COMPLIANT"
    PARTIAL = "PARTIAL"
    NOT_EVALUATED = "NOT_EVALUATED"
    MANUAL = "MANUAL"
    EXCLUDED = "EXCLUDED"


@dataclass
class ResultRef:
    """One result behind a control: enough for a per-control view to list it and link to its finding."""

    finding_key: str
    check_id: str
    resource_id: str
    verdict: str
    coverage: str
    waiver: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "finding_key": self.finding_key,
            "check_id": self.check_id,
            "resource_id": self.resource_id,
            "verdict": self.verdict,
            "coverage": self.coverage,
            "waiver": self.waiver,
        }


@dataclass
class ControlStatus:
    """One control's roll-up for ``controls.json`` and the reports (shape: ``docs/architecture.md``).

    ``counts`` has every verdict over the results of the control's checks (waived FAILs still count as FAIL
    there; ``waived`` counts them separately). ``checks`` maps each contributing check ID to its coverage;
    ``resources`` / ``failing_resources`` are sorted resource IDs (failing = unwaived FAIL). ``objective`` is
    the control's objective (itself for an objective); ``detailed`` lists the statement's detailed controls
    under an objective. ``results`` lists each result with its finding key and waiver. ``selected`` is
    ``None`` without an assertion document.
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
    basic_statement_requirement: bool = False
    cloud_specific: bool = False
    selected: bool | None = None
    reason: str = ""
    individual_control: str = ""
    waived: int = 0
    results: list[ResultRef] = field(default_factory=list)
    attestations: list[dict[str, Any]] = field(default_factory=list)
    inheritance: dict[str, Any] | None = None
    expired: list[dict[str, Any]] = field(default_factory=list)
    detailed: list[str] = field(default_factory=list)
    last_evaluated: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "status": self.status.value,
            "title": dict(self.title),
            "level": self.level,
            "objective": self.objective,
            "basic_statement_requirement": self.basic_statement_requirement,
            "cloud_specific": self.cloud_specific,
            "selected": self.selected,
            "reason": self.reason,
            "individual_control": self.individual_control,
            "counts": dict(self.counts),
            "waived": self.waived,
            "checks": sorted(self.checks),
            "coverage": dict(sorted(self.checks.items())),
            "resources": list(self.resources),
            "failing_resources": list(self.failing_resources),
            "results": [r.to_dict() for r in self.results],
            "attestations": list(self.attestations),
            "inheritance": self.inheritance,
            "expired": list(self.expired),
            "detailed": list(self.detailed),
            "last_evaluated": self.last_evaluated,
        }


@dataclass
class _Tally:
    counts: dict[Verdict, int] = field(default_factory=lambda: {v: 0 for v in Verdict})
    checks: dict[str, str] = field(default_factory=dict)
    resources: set[str] = field(default_factory=set)
    failing: set[str] = field(default_factory=set)
    results: list[ResultRef] = field(default_factory=list)
    waived: int = 0
    full_pass: bool = False
    last: str = ""
    expired_waivers: dict[str, Waiver] = field(default_factory=dict)


def decide(t: _Tally, *, attested: bool, inherited: bool, excluded: bool = False) -> ControlState:
    """The roll-up rule (module doc, DESIGN §5) on one control's tally."""
    if excluded:
        return ControlState.EXCLUDED
    unwaived_fail = t.counts[Verdict.FAIL] - t.waived
    if unwaived_fail > 0:
        return ControlState.NON_COMPLIANT
    if t.counts[Verdict.PASS]:
        if t.counts[Verdict.ERROR]:
            return ControlState.PARTIAL
        if t.full_pass or attested:
            return ControlState.COMPLIANT
        return ControlState.PARTIAL
    if attested or inherited:
        return ControlState.MANUAL
    return ControlState.NOT_EVALUATED


def _evidence(
    check_map: Mapping[str, list[ControlRef]], assertion: Assertion | None
) -> dict[str, list[ControlRef]]:
    """check ID → controls it evidences: the map's, plus the statement's ``checks`` (a control the map
    already names keeps the stronger coverage)."""
    out = {k: list(v) for k, v in check_map.items()}
    if assertion is None:
        return out
    for sel in assertion.controls.values():
        for check_id, coverage in sel.checks.items():
            refs = out.setdefault(check_id, [])
            existing = next((r for r in refs if r.id == sel.id), None)
            if existing is None:
                refs.append(ControlRef(sel.id, coverage))
            elif coverage == "full" and existing.coverage != "full":
                refs[refs.index(existing)] = ControlRef(sel.id, "full")
    return out


def rollup(
    results: Iterable[Result],
    check_map: Mapping[str, list[ControlRef]],
    catalog: Catalog,
    assertion: Assertion | None = None,
    *,
    today: date | None = None,
) -> list[ControlStatus]:
    """Roll check results up to controls (module doc for the rule).

    Without ``assertion``: one :class:`ControlStatus` per mapped control that has at least one result, in
    catalog order (IDs the catalog does not know last, sorted). With ``assertion``: one per control the
    statement names, in catalog order, results of mapped controls the statement leaves out are not shown.
    ``today`` (default: today in UTC) decides which waivers and attestations are current. Results of checks
    that evidence no control are ignored, and so are results outside the statement's scope
    (:meth:`Assertion.in_scope`; :func:`scope_check` reports them).
    """
    today = today or today_utc()
    evidence = _evidence(check_map, assertion)
    waivers = assertion.waivers if assertion else []
    tallies: dict[str, _Tally] = {}
    for r in results:
        if assertion is not None and not assertion.in_scope(r.provider, r.account, r.region):
            continue  # outside the statement's scope: counted by scope_check(), never judged
        refs = evidence.get(r.check_id, ())
        if not refs:
            continue
        waiver: Waiver | None = None
        expired: list[Waiver] = []
        if r.verdict is Verdict.FAIL:
            for w in waivers:
                if w.matches(r):
                    if w.current(today):
                        waiver = waiver or w
                    else:
                        expired.append(w)
        for ref in refs:
            t = tallies.setdefault(ref.id, _Tally())
            t.counts[r.verdict] += 1
            if t.checks.get(r.check_id) != "full":
                t.checks[r.check_id] = ref.coverage
            t.resources.add(r.resource_id)
            if r.verdict is Verdict.FAIL:
                if waiver is None:
                    t.failing.add(r.resource_id)
                else:
                    t.waived += 1
            if r.verdict is Verdict.PASS and ref.coverage == "full":
                t.full_pass = True
            t.last = max(t.last, r.collected_at)
            for w in expired:
                t.expired_waivers[w.id] = w
            t.results.append(
                ResultRef(
                    finding_key=r.finding_key,
                    check_id=r.check_id,
                    resource_id=r.resource_id,
                    verdict=r.verdict.value,
                    coverage=ref.coverage,
                    waiver=waiver.to_dict() if waiver else None,
                )
            )

    order = {cid: i for i, cid in enumerate(catalog.controls)}
    if assertion is None:
        ids = sorted(tallies, key=lambda c: (order.get(c, len(order)), c))
        return [_status(cid, catalog.get(cid), catalog, tallies[cid], None, None, today) for cid in ids]
    out: list[ControlStatus] = []
    for sel in assertion.in_statement():
        status = _status(
            sel.id, catalog.get(sel.id), catalog, tallies.get(sel.id) or _Tally(), sel, assertion, today
        )
        out.append(status)
    by_objective: dict[str, list[str]] = {}
    for s in out:
        if s.level == "detailed" and s.objective:
            by_objective.setdefault(s.objective, []).append(s.id)
    for s in out:
        if s.level == "objective":
            s.detailed = by_objective.get(s.id, [])
    return out


def _status(
    cid: str,
    control: Control | None,
    catalog: Catalog,
    t: _Tally,
    sel: Selection | None,
    assertion: Assertion | None,
    today: date,
) -> ControlStatus:
    objective = catalog.objective_of(cid) if control is not None else None
    attestations: list[Attestation] = assertion.attestations_of(cid) if assertion else []
    current = [a for a in attestations if a.current(today)]
    inheritance: Inheritance | None = assertion.inheritance_of(cid) if assertion else None
    excluded = sel is not None and not sel.selected
    expired = [{"kind": "attestation", **a.to_dict()} for a in attestations if not a.current(today)]
    expired += [{"kind": "waiver", **w.to_dict()} for w in t.expired_waivers.values()]
    return ControlStatus(
        id=cid,
        status=decide(t, attested=bool(current), inherited=inheritance is not None, excluded=excluded),
        title=dict(control.title) if control else {"en": "", "ja": ""},
        level=control.level if control else "",
        objective=objective.id if objective else None,
        counts={v.value: n for v, n in t.counts.items()},
        checks=dict(t.checks),
        resources=sorted(t.resources),
        failing_resources=sorted(t.failing),
        basic_statement_requirement=control.basic_statement_requirement if control else False,
        cloud_specific=control.cloud_specific if control else False,
        selected=None if sel is None else sel.selected,
        reason=sel.reason if sel else "",
        individual_control=sel.individual_control if sel else "",
        waived=t.waived,
        results=sorted(t.results, key=lambda r: (r.check_id, r.resource_id)),
        attestations=[a.to_dict() for a in current],
        inheritance=inheritance.to_dict() if inheritance else None,
        expired=expired,
        last_evaluated=t.last or None,
    )


@dataclass
class ScopeCheck:
    """How the scan's scope and the statement's scope differ (DESIGN §1/§5: the scan scope wins for
    collection; the report warns).

    ``outside``: results the scan produced outside the statement's scope, counted and left out of the
    roll-up, ``[{"provider", "account", "region", "results": n}]`` (``region`` is ``""`` when the whole
    account or provider is outside). ``not_scanned``: statement scope the scan did not reach,
    ``[{"provider", "kind": "provider" | "account" | "region", "value"}]``.
    """

    outside: list[dict[str, Any]] = field(default_factory=list)
    not_scanned: list[dict[str, Any]] = field(default_factory=list)

    def warnings(self) -> list[str]:
        """One English line per difference (``controls.json`` ``scope.warnings``; reports localize
        from the structured fields)."""
        lines = [
            f"{o['results']} results from {where_text(o)} are outside the statement's scope: "
            "kept in results.jsonl, not counted in control statuses"
            for o in self.outside
        ]
        lines += [f"statement scope not scanned: {where_text(n)}" for n in self.not_scanned]
        return lines

    def to_dict(self) -> dict[str, Any]:
        return {
            "outside": [dict(o) for o in self.outside],
            "not_scanned": [dict(n) for n in self.not_scanned],
            "warnings": self.warnings(),
        }


def where_text(entry: Mapping[str, Any]) -> str:
    """``"aws 444455556666 ap-northeast-3"`` from a :class:`ScopeCheck` entry (either kind)."""
    if "kind" in entry:
        if entry["kind"] == "provider":
            return str(entry["provider"])
        return f"{entry['provider']} {entry['kind']} {entry['value']}"
    return " ".join(str(x) for x in (entry["provider"], entry["account"], entry["region"]) if x)


def scope_check(
    results: Iterable[Result], assertion: Assertion | None, scanned: Mapping[str, Any] | None
) -> ScopeCheck:
    """Compare ``results`` (and the scan's ``scanned`` scope, ``ismap_scan.scan.scope_of``'s shape:
    ``{"providers": [...], "accounts": {p: [...]}, "regions": {p: [...]}}``) with the statement's scope.

    Without a statement there is nothing to compare (empty :class:`ScopeCheck`)."""
    out = ScopeCheck()
    if assertion is None:
        return out
    named = assertion.scope_providers()
    outside: dict[tuple[str, str, str], int] = {}
    for r in results:
        if assertion.in_scope(r.provider, r.account, r.region):
            continue
        accounts = (assertion.scope.get("accounts") or {}).get(r.provider) or []
        whole = r.provider not in named or bool(accounts and r.account not in accounts)
        key = (r.provider, "" if r.provider not in named else r.account, "" if whole else r.region)
        outside[key] = outside.get(key, 0) + 1
    out.outside = [
        {"provider": p, "account": a, "region": g, "results": n} for (p, a, g), n in sorted(outside.items())
    ]
    if scanned is None:
        return out
    scanned_providers = set(scanned.get("providers") or [])
    for field_name, kind in (("accounts", "account"), ("regions", "region")):
        stated: Mapping[str, list[str]] = assertion.scope.get(field_name) or {}
        seen: Mapping[str, list[str]] = scanned.get(field_name) or {}
        for provider, values in sorted(stated.items()):
            if not values:
                continue
            if provider not in scanned_providers:
                entry = {"provider": provider, "kind": "provider", "value": provider}
                if entry not in out.not_scanned:
                    out.not_scanned.append(entry)
                continue
            for v in values:
                if v not in set(seen.get(provider) or []):
                    out.not_scanned.append({"provider": provider, "kind": kind, "value": v})
    return out


def status_totals(statuses: Iterable[ControlStatus | dict[str, Any]]) -> dict[str, int]:
    """``{state: count}`` over ``statuses`` (objects or their dicts), every state present, in enum order."""
    totals = {s.value: 0 for s in ControlState}
    for s in statuses:
        value = s["status"] if isinstance(s, dict) else s.status.value
        totals[value] = totals.get(value, 0) + 1
    return totals


def controls_document(
    catalog: Catalog,
    statuses: list[dict[str, Any]],
    assertion: Assertion | None,
    today: date | None = None,
    scope: ScopeCheck | None = None,
) -> dict[str, Any]:
    """The ``controls.json`` document: ``catalog``, ``assertion`` (its summary or ``None``), ``totals`` by
    state, ``expired`` (``file:line: ...`` lines for attestations and waivers past their date), ``scope``
    (:meth:`ScopeCheck.to_dict`: results outside the statement's scope, statement scope not scanned) and
    ``controls`` (each :meth:`ControlStatus.to_dict`)."""
    today = today or today_utc()
    return {
        "catalog": catalog.version,
        "assertion": assertion.summary() if assertion else None,
        "totals": status_totals(statuses),
        "expired": [str(e) for e in assertion.expired(today)] if assertion else [],
        "scope": (scope or ScopeCheck()).to_dict(),
        "controls": statuses,
    }
