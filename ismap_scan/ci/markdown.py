"""Markdown for CI: the job summary and the pull-request comment.

Every value that comes from a cloud (resource names and IDs) or a check is escaped with the report renderer's
helpers: identifiers go in code spans (no Markdown, no HTML, no ``@mention``), text in escaped cells. Bodies
are cut to fit GitHub's limits (1 MiB step summary, 65,536-character comment) by showing fewer rows.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..model import Result, Verdict
from ..reports.base import localized
from ..reports.markdown import md_cell, md_code
from .baseline import Comparison
from .github import COMMENT_LIMIT, STEP_SUMMARY_LIMIT
from .policy import Decision
from .touched import TouchedResources

#: The hidden marker that finds the action's own comment on a pull request (one per artifact name).
COMMENT_MARKER = "<!-- ismap-scan:pr-comment:{name} -->"
CONTROL_STATES = ("NON_COMPLIANT", "PARTIAL", "COMPLIANT", "MANUAL", "NOT_EVALUATED", "EXCLUDED")


@dataclass
class ScanInfo:
    """What the summary says about the scan: from its ``manifest.json`` and ``controls.json``."""

    scan_id: str = ""
    scope: dict[str, Any] = field(default_factory=dict)
    demo: bool = False
    provider_failures: dict[str, str] = field(default_factory=dict)
    control_states: Counter[str] = field(default_factory=Counter)
    checks: int = 0
    baseline_label: str = ""

    @classmethod
    def from_files(cls, manifest: dict[str, Any], controls: dict[str, Any] | None) -> ScanInfo:
        states: Counter[str] = Counter()
        for c in (controls or {}).get("controls") or []:
            if isinstance(c, dict) and isinstance(c.get("status"), str):
                states[c["status"]] += 1
        return cls(
            scan_id=str(manifest.get("scan_id", "")),
            scope=manifest.get("scope") or {},
            demo=bool(manifest.get("demo")),
            provider_failures=dict(manifest.get("provider_failures") or {}),
            control_states=states,
            checks=int((manifest.get("check_pack") or {}).get("checks") or 0),
        )

    def scope_line(self) -> str:
        parts = []
        for provider, accounts in sorted((self.scope.get("accounts") or {}).items()):
            regions = (self.scope.get("regions") or {}).get(provider) or []
            acct = ", ".join(md_code(a) for a in accounts)
            parts.append(f"{md_cell(provider)} {acct} ({len(regions)} regions)")
        return "; ".join(parts) or "no resources seen"


def _status_word(decision: Decision) -> str:
    if decision.fail_step:
        return "failed"
    if decision.code == 3:
        return "failures reported"
    if decision.code == 4:
        return "incomplete"
    return "passed"


def findings_table(
    results: Sequence[Result], limit: int, lang: str = "en", marks: dict[str, str] | None = None
) -> str:
    """A Markdown table of ``results`` (at most ``limit`` rows, then an "and N more" line).

    ``marks`` maps a finding key to a first-column word (``new``, ``still failing``).
    """
    if not results:
        return ""
    head = (
        "| | severity | check | resource | account / region | ISMAP controls |\n|---|---|---|---|---|---|\n"
    )
    if marks is None:
        head = "| severity | check | resource | account / region | ISMAP controls |\n|---|---|---|---|---|\n"
    rows = []
    for r in results[:limit]:
        title = localized(r.title, lang, r.check_id)
        controls = ", ".join(c.id for c in r.controls[:6]) + (" …" if len(r.controls) > 6 else "")
        cells = [
            r.severity.value,
            f"{md_code(r.check_id)}<br>{md_cell(title)}",
            md_code(r.resource_id),
            f"{md_code(r.account)} / {md_code(r.region)}",
            md_cell(controls),
        ]
        if marks is not None:
            cells.insert(0, md_cell(marks.get(r.finding_key, "")))
        rows.append("| " + " | ".join(cells) + " |\n")
    more = len(results) - limit
    tail = f"\n…and {more} more (see the reports in the workflow artifact).\n" if more > 0 else ""
    return head + "".join(rows) + tail


def _totals(c: Comparison, info: ScanInfo) -> str:
    lines = ["| verdict | results |", "|---|---:|"]
    for v in Verdict:
        lines.append(f"| {v.value} | {c.verdicts.get(v.value, 0)} |")
    out = "\n".join(lines) + "\n"
    if c.fail_by_severity:
        sev = ", ".join(
            f"{s} {c.fail_by_severity[s]}"
            for s in ("critical", "high", "medium", "low", "info")
            if s in c.fail_by_severity
        )
        out += f"\nFAIL by severity: {sev}\n"
    if info.control_states:
        states = [s for s in CONTROL_STATES if s in info.control_states]
        states += sorted(s for s in info.control_states if s not in CONTROL_STATES)
        out += "\n| ISMAP control status | controls |\n|---|---:|\n"
        out += "".join(f"| {md_cell(s)} | {info.control_states[s]} |\n" for s in states)
    return out


def _render_summary(c: Comparison, decision: Decision, info: ScanInfo, lang: str, limit: int) -> str:
    parts = [f"## ismap-scan: {_status_word(decision)}\n"]
    parts.append(f"**{md_cell(decision.reason[:1].upper() + decision.reason[1:])}.**\n\n")
    demo = " (**demo estate**: no cloud account was touched)" if info.demo else ""
    parts.append(
        f"Scan {md_code(info.scan_id)}{demo}: {c.total} results from {info.checks or '?'} checks; "
        f"{info.scope_line()}."
        + (f"  \nBaseline: {info.baseline_label}." if c.baseline_used else "")
        + "\n\n"
    )
    parts.append(_totals(c, info))
    if info.provider_failures:
        parts.append("\n### Providers that stopped early\n")
        parts.extend(f"- {md_code(p)}: {md_cell(why)}\n" for p, why in sorted(info.provider_failures.items()))
    if c.errors:
        noun = "result is" if c.errors == 1 else "results are"
        parts.append(f"\n{c.errors} {noun} ERROR (could not be evaluated); see the reports.\n")
    title = "New failures since the baseline" if c.baseline_used else "Failures"
    gating = {r.finding_key for r in c.gating}
    if c.new:
        parts.append(f"\n### {title} ({len(c.new)}; {len(gating)} at or above `{c.fail_on}`)\n\n")
        marks = {r.finding_key: ("gating" if r.finding_key in gating else "below") for r in c.new}
        parts.append(findings_table(c.new, limit, lang, marks))
    else:
        parts.append(f"\n### {title}: none\n")
    if c.baseline_used:
        parts.append(
            f"\nStill failing: {len(c.still_failing)} · fixed: {len(c.fixed)} · no longer seen: "
            f"{len(c.no_longer_seen)} · now ERROR: {len(c.unknown)}\n"
        )
        if c.fixed:
            parts.append(f"\n<details><summary>Fixed since the baseline ({len(c.fixed)})</summary>\n\n")
            parts.append(findings_table(c.fixed, min(limit, 50), lang))
            parts.append("\n</details>\n")
    return "".join(parts)


def summary_markdown(c: Comparison, decision: Decision, info: ScanInfo, lang: str = "en") -> str:
    """The job summary: status line, totals, control statuses, new failures (all of them when they fit)."""
    for limit in (1000, 300, 100, 30, 10):
        text = _render_summary(c, decision, info, lang, limit)
        if len(text.encode("utf-8")) < STEP_SUMMARY_LIMIT - 4096:
            return text
    return text


def _render_comment(
    c: Comparison,
    decision: Decision,
    info: ScanInfo,
    touched: TouchedResources | None,
    lang: str,
    limit: int,
    marker: str,
) -> str:
    parts = [marker + "\n", f"### ismap-scan: {_status_word(decision)}\n\n"]
    parts.append(
        f"This scan shows what is **deployed now** (scan {md_code(info.scan_id)}), not what this pull request "
        "would change. " + md_cell(decision.reason[:1].upper() + decision.reason[1:]) + ".\n\n"
    )
    if touched is not None:
        mine = [r for r in c.new + c.still_failing if r.resource_id in touched.ids]
        mine.sort(key=lambda r: (-r.severity.rank, *r.sort_key()))
        marks = {r.finding_key: "new" for r in c.new} | {
            r.finding_key: "still failing" for r in c.still_failing
        }
        seen = {r.resource_id for r in c.new + c.still_failing} & touched.ids
        parts.append(
            f"#### Resources this pull request changes ({md_cell(touched.source)}): {len(touched.ids)} with an ID, "
            f"{len(seen)} with failures now\n\n"
        )
        parts.append(findings_table(mine, limit, lang, marks) if mine else "No failing findings on them.\n")
        if touched.unidentified:
            parts.append(
                f"\n{len(touched.unidentified)} resources are being created and have no ID yet, so the scan "
                "cannot show them.\n"
            )
        parts.append("\n<details><summary>Totals for the whole scan</summary>\n\n")
        parts.append(_totals(c, info))
        parts.append("\n</details>\n")
    else:
        parts.append(_totals(c, info))
        label = "New failures since the baseline" if c.baseline_used else "Failures"
        if c.new:
            parts.append(f"\n#### {label} ({len(c.new)})\n\n")
            parts.append(findings_table(c.new, limit, lang))
    return "".join(parts)


def comment_markdown(
    c: Comparison,
    decision: Decision,
    info: ScanInfo,
    touched: TouchedResources | None = None,
    *,
    lang: str = "en",
    name: str = "ismap-scan",
) -> str:
    """The pull-request comment body, starting with :data:`COMMENT_MARKER` for ``name`` (the artifact name,
    so two jobs keep two comments). With ``touched``, the current failures on those resources; else totals
    and new failures. Always under GitHub's 65,536-character limit."""
    marker = COMMENT_MARKER.format(name=name.replace("--", "-"))
    for limit in (100, 50, 20, 5, 0):
        text = _render_comment(c, decision, info, touched, lang, limit, marker)
        if len(text) < COMMENT_LIMIT - 256:
            return text
    return text[: COMMENT_LIMIT - 256]
