"""Compare a scan's results with a baseline ``results.jsonl``, keyed by finding key (DESIGN §4).

Works on two results files only (no evidence store), so it runs wherever the previous run's artifact can be
downloaded. A failure is **new** when its finding key was not FAIL in the baseline (absent, PASS,
NOT_APPLICABLE or ERROR there); **still failing** when it was FAIL in both; a baseline failure is **fixed** when
the key is now PASS or NOT_APPLICABLE, **no longer seen** when the key is absent (resource removed, or outside
this scan's scope), and **unknown** when it is now ERROR. Without a baseline every failure is new.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError
from ..model import Result, Severity, Verdict

RESULTS_FILE = "results.jsonl"


@dataclass
class Comparison:
    """The outcome of :func:`compare`. Result lists are sorted by severity (highest first), then check, resource.

    ``new``, ``still_failing``: current FAIL results. ``fixed``, ``no_longer_seen``, ``unknown``: the baseline's
    FAIL results (as they were then). ``gating``: the new failures at or above ``fail_on`` (empty for
    ``"none"``). ``verdicts``: current count per verdict; ``fail_by_severity``: current FAIL count per severity.
    """

    fail_on: str
    baseline_used: bool
    new: list[Result] = field(default_factory=list)
    still_failing: list[Result] = field(default_factory=list)
    fixed: list[Result] = field(default_factory=list)
    no_longer_seen: list[Result] = field(default_factory=list)
    unknown: list[Result] = field(default_factory=list)
    verdicts: Counter[str] = field(default_factory=Counter)
    fail_by_severity: Counter[str] = field(default_factory=Counter)
    total: int = 0

    @property
    def gating(self) -> list[Result]:
        return [r for r in self.new if at_or_above(r.severity, self.fail_on)]

    @property
    def errors(self) -> int:
        return self.verdicts.get(Verdict.ERROR.value, 0)

    def counts(self) -> dict[str, int]:
        """Flat counts for step outputs and notifications."""
        return {
            "total": self.total,
            "pass": self.verdicts.get(Verdict.PASS.value, 0),
            "fail": self.verdicts.get(Verdict.FAIL.value, 0),
            "not-applicable": self.verdicts.get(Verdict.NOT_APPLICABLE.value, 0),
            "error": self.errors,
            "new-failures": len(self.new),
            "new-failures-gating": len(self.gating),
            "still-failing": len(self.still_failing),
            "fixed": len(self.fixed),
            "no-longer-seen": len(self.no_longer_seen),
        }


def at_or_above(severity: Severity, fail_on: str) -> bool:
    """True when ``severity`` is at or above ``fail_on`` (a severity name, or ``"none"`` → never)."""
    if fail_on == "none":
        return False
    return severity.rank >= Severity(fail_on).rank


def severity_order(r: Result) -> tuple[int, str, str, str, str, str]:
    """Sort key: highest severity first, then the result's natural order."""
    return (-r.severity.rank, *r.sort_key())


def resolve_results_path(path: Path) -> Path:
    """A results file from ``path``: the file itself, or the one ``results.jsonl`` under a folder.

    A downloaded artifact keeps the folder layout it was uploaded with, so a folder is searched
    recursively. Raises :class:`InputError` when there is none, or several (name the one to use).
    """
    if path.is_file():
        return path
    if path.is_dir():
        found = sorted(path.rglob(RESULTS_FILE))
        if len(found) == 1:
            return found[0]
        if not found:
            raise InputError(f"no {RESULTS_FILE} under this folder", file=path)
        shown = ", ".join(str(p) for p in found[:5])
        raise InputError(
            f"several {RESULTS_FILE} files under this folder ({shown}); give one of them", file=path
        )
    raise InputError("baseline not found", file=path)


def compare(current: list[Result], baseline: list[Result] | None, fail_on: str) -> Comparison:
    """Compare ``current`` with ``baseline`` (``None`` = no baseline: every failure is new).

    ``fail_on`` is a severity name or ``"none"``; it only decides :attr:`Comparison.gating`.
    Raises ``ValueError`` for another ``fail_on``.
    """
    if fail_on != "none":
        Severity(fail_on)
    out = Comparison(fail_on=fail_on, baseline_used=baseline is not None, total=len(current))
    before = {r.finding_key: r for r in baseline or []}
    for r in current:
        out.verdicts[r.verdict.value] += 1
        if r.verdict is not Verdict.FAIL:
            continue
        out.fail_by_severity[r.severity.value] += 1
        old = before.get(r.finding_key)
        if old is not None and old.verdict is Verdict.FAIL:
            out.still_failing.append(r)
        else:
            out.new.append(r)
    current_by_key = {r.finding_key: r for r in current}
    for key, old in before.items():
        if old.verdict is not Verdict.FAIL:
            continue
        now = current_by_key.get(key)
        if now is None:
            out.no_longer_seen.append(old)
        elif now.verdict is Verdict.ERROR:
            out.unknown.append(old)
        elif now.verdict is not Verdict.FAIL:
            out.fixed.append(old)
    for bucket in (out.new, out.still_failing, out.fixed, out.no_longer_seen, out.unknown):
        bucket.sort(key=severity_order)
    return out
