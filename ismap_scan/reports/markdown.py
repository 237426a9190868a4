"""``summary.md``: the human summary of a scan, in Japanese or English, from one Jinja2 template.

The template (``reports/templates/summary.md.j2``, found through :func:`ismap_scan.paths.templates_dir`)
only lays out what :meth:`MarkdownRenderer.transform` prepared; every label comes from :data:`LABELS`, so
both languages share one template. Text that came from the cloud (resource names, messages) is escaped
with :func:`md_cell` / :func:`md_code` so it can neither break a table nor inject links or HTML.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from typing import Any

import jinja2

from ..model import Result, Severity, Verdict
from ..paths import templates_dir
from .base import (
    Renderer,
    controls_text,
    display_time,
    localized,
    outcome_text,
    scope_text,
    scope_warning_lines,
)

TEMPLATE = "summary.md.j2"

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "title": "ISMAP scan summary",
        "metadata": "Scan",
        "scan_id": "Scan ID",
        "tool_version": "ismap-scan version",
        "check_pack_hash": "Check pack hash",
        "catalog_version": "ISMAP catalog version",
        "started_at": "Started",
        "finished_at": "Finished",
        "providers": "Providers",
        "accounts": "Accounts",
        "regions": "Regions",
        "totals": "Results by verdict",
        "verdict": "Verdict",
        "count": "Count",
        "total": "Total",
        "by_severity": "Failures by severity",
        "severity": "Severity",
        "failures": "Failures",
        "no_failures": "No check failed.",
        "check": "Check",
        "check_title": "Title",
        "finding": "Finding",
        "resource": "Resource",
        "account_region": "Account / region",
        "controls": "ISMAP controls",
        "errors": "Could not be evaluated",
        "errors_intro": "These results are ERROR: the check could not be judged, which is not a pass.",
        "no_errors": "Every check could be evaluated.",
        "reason": "Reason",
        "control_status": "ISMAP control status",
        "control": "Control",
        "status": "Status",
        "counts": "Results",
        "checks": "Checks",
        "unseen": "Not seen by this scan",
        "unseen_intro": (
            "Collection could not read the following. A check that needs what was not read is ERROR, "
            "never PASS or FAIL; reads that no check needs only leave evidence fields empty."
        ),
        "no_unseen": "No collection gaps were reported.",
        "unseen_unknown": "Not known: this report was made from a results file without its snapshot.",
        "demo": "Demo: these results come from the built-in demo estate on local fake cloud APIs.",
        "scope_warnings": "Statement scope and scan scope",
        "full": "full",
        "partial": "partial",
        "none": "none",
    },
    "ja": {
        "title": "ISMAP スキャン結果サマリー",
        "metadata": "スキャン情報",
        "scan_id": "スキャンID",
        "tool_version": "ismap-scan バージョン",
        "check_pack_hash": "チェックパックのハッシュ",
        "catalog_version": "ISMAP 管理基準カタログ版",
        "started_at": "開始",
        "finished_at": "終了",
        "providers": "クラウド",
        "accounts": "アカウント",
        "regions": "リージョン",
        "totals": "判定別の結果数",
        "verdict": "判定",
        "count": "件数",
        "total": "合計",
        "by_severity": "重要度別の不合格数",
        "severity": "重要度",
        "failures": "不合格",
        "no_failures": "不合格のチェックはありません。",
        "check": "チェック",
        "check_title": "タイトル",
        "finding": "指摘内容",
        "resource": "リソース",
        "account_region": "アカウント / リージョン",
        "controls": "ISMAP 管理策",
        "errors": "評価できなかった項目",
        "errors_intro": "以下は ERROR（評価不能）です。判定できなかったものであり、合格ではありません。",
        "no_errors": "すべてのチェックを評価できました。",
        "reason": "理由",
        "control_status": "ISMAP 管理策の状況",
        "control": "管理策",
        "status": "状況",
        "counts": "結果",
        "checks": "チェック数",
        "unseen": "このスキャンで確認できなかった範囲",
        "unseen_intro": (
            "以下は収集時に読み取れませんでした。読み取れなかった情報を必要とするチェックは、合格でも不合格でもなく"
            " ERROR になります。どのチェックも必要としない情報は、証跡の欄が空になるだけです。"
        ),
        "no_unseen": "収集漏れの報告はありません。",
        "unseen_unknown": "不明です（スナップショットのない結果ファイルから作成したレポートのため）。",
        "demo": "デモ: この結果は、ローカルの疑似クラウド API 上の組み込みデモ環境のものです。",
        "scope_warnings": "言明書の対象範囲とスキャン範囲の差異",
        "full": "完全",
        "partial": "部分",
        "none": "なし",
    },
}

VERDICT_LABELS: dict[str, dict[str, str]] = {
    "en": {"PASS": "PASS", "FAIL": "FAIL", "NOT_APPLICABLE": "Not applicable", "ERROR": "ERROR"},
    "ja": {"PASS": "合格", "FAIL": "不合格", "NOT_APPLICABLE": "対象外", "ERROR": "評価不能"},
}

SEVERITY_LABELS: dict[str, dict[str, str]] = {
    "en": {"critical": "Critical", "high": "High", "medium": "Medium", "low": "Low", "info": "Info"},
    "ja": {"critical": "緊急", "high": "高", "medium": "中", "low": "低", "info": "情報"},
}

CONTROL_STATUS_LABELS: dict[str, dict[str, str]] = {
    "en": {
        "COMPLIANT": "Compliant",
        "NON_COMPLIANT": "Non-compliant",
        "PARTIAL": "Partial",
        "MANUAL": "Manual",
        "NOT_EVALUATED": "Not evaluated",
        "EXCLUDED": "Excluded",
    },
    "ja": {
        "COMPLIANT": "準拠",
        "NON_COMPLIANT": "非準拠",
        "PARTIAL": "一部準拠",
        "MANUAL": "手動確認",
        "NOT_EVALUATED": "未評価",
        # 適用除外 (GLOSSARY): 対象外 is the NOT_APPLICABLE verdict's label.
        "EXCLUDED": "適用除外",
    },
}

# Characters with a meaning in CommonMark/GFM inline text or tables. Backslash-escaping any ASCII
# punctuation is always literal in CommonMark, so over-escaping is harmless; under-escaping is not.
# "(" and ")" are left alone: they only form a link after "]", which is escaped.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#+!|~&])")
_LINE_BREAKS = re.compile(r"\r\n|[\r\n\u0085\u2028\u2029]")
# A list marker at the start of a list item's text ("- x", "1. x") would nest a list.
_LEADING_MARKER = re.compile(r"^(\s*)(-|\d+\.)(?=\s|$)")


def _escape_marker(match: re.Match[str]) -> str:
    marker = match.group(2)
    return match.group(1) + ("\\-" if marker == "-" else marker[:-1] + "\\.")


def md_cell(text: object) -> str:
    """``text`` safe inside a Markdown table cell: special characters backslash-escaped, line breaks
    shown as ``<br>`` (the only line break a GFM cell can hold)."""
    escaped = _LEADING_MARKER.sub(_escape_marker, _MD_SPECIAL.sub(r"\\\1", str(text)))
    return _LINE_BREAKS.sub("<br>", escaped)


def md_code(text: object) -> str:
    """``text`` as an inline code span that is safe in a table cell: identifiers (check IDs, ARNs) stay
    readable. Line breaks become spaces, ``|`` is escaped (GFM splits cells before parsing code spans)
    and the fence is one backtick longer than any run of backticks inside."""
    flat = _LINE_BREAKS.sub(" ", str(text)).replace("|", "\\|")
    if not flat:
        return ""
    longest = max((len(m) for m in re.findall(r"`+", flat)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if flat.startswith("`") or flat.endswith("`") else ""
    return f"{fence}{pad}{flat}{pad}{fence}"


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir())),
        undefined=jinja2.StrictUndefined,  # a misspelt variable is a bug, not an empty string
        autoescape=False,  # Markdown, not HTML: escaping is done by the cell/code filters
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["cell"] = md_cell
    env.filters["code"] = md_code
    return env


class MarkdownRenderer(Renderer[str]):
    """Renders ``summary.md``; ``transform`` returns the Markdown text."""

    format = "md"
    filename = "summary.md"

    def transform(self, results: Sequence[Result]) -> str:
        return _environment().get_template(TEMPLATE).render(**self.context(results))

    def serialize(self, document: str) -> bytes:
        return document.encode("utf-8")

    def context(self, results: Sequence[Result]) -> dict[str, Any]:
        """The template's variables: labels, metadata, totals and the rows of each table (plain strings,
        not yet escaped: the template escapes each cell)."""
        meta, lang = self.meta, self.meta.language
        labels = LABELS[lang]
        verdicts = Counter(r.verdict for r in results)
        failures = [r for r in results if r.verdict is Verdict.FAIL]
        fail_severity = Counter(r.severity for r in failures)
        coverage = {"full": labels["full"], "partial": labels["partial"]}
        # Worst first; the sort is stable, so the engine's order holds within a severity.
        failures.sort(key=lambda r: -r.severity.rank)
        return {
            "lang": lang,
            "L": labels,
            "meta": {
                "scan_id": meta.scan_id,
                "tool_version": meta.tool_version,
                "check_pack_hash": meta.check_pack_hash,
                "catalog_version": meta.catalog_version,
                "started_at": display_time(meta.started_at, meta.timezone),
                "finished_at": display_time(meta.finished_at, meta.timezone),
                "started_at_utc": meta.started_at,
                "finished_at_utc": meta.finished_at,
                "demo": meta.demo,
            },
            "scope": [
                (labels[key], scope_text(meta.scope.get(key)) or labels["none"])
                for key in ("providers", "accounts", "regions")
            ],
            "totals": [(VERDICT_LABELS[lang][v.value], verdicts.get(v, 0)) for v in Verdict],
            "total": len(results),
            "by_severity": [(SEVERITY_LABELS[lang][s.value], fail_severity.get(s, 0)) for s in Severity],
            "failures": [
                {
                    "severity": SEVERITY_LABELS[lang][r.severity.value],
                    "check_id": r.check_id,
                    "title": outcome_text(r, lang),
                    "resource_name": r.resource_name,
                    "resource_id": r.resource_id,
                    "where": f"{r.account} / {r.region}",
                    "controls": controls_text(r.controls, coverage),
                }
                for r in failures
            ],
            "errors": [
                {
                    "check_id": r.check_id,
                    "resource_id": r.resource_id,
                    "where": f"{r.account} / {r.region}",
                    "reason": r.message,
                }
                for r in results
                if r.verdict is Verdict.ERROR
            ],
            "controls": None if meta.controls is None else [self._control_row(c) for c in meta.controls],
            "unseen": None if meta.unseen is None else list(meta.unseen),
            "scope_warnings": scope_warning_lines(meta.statement_scope, lang),
        }

    def _control_row(self, control: dict[str, Any]) -> dict[str, str]:
        lang = self.meta.language
        status = str(control.get("status", ""))
        counts = control.get("counts") or {}
        verdict_labels = VERDICT_LABELS[lang]
        return {
            "id": str(control.get("id", "")),
            "title": localized(control.get("title") or {}, lang),
            "status": CONTROL_STATUS_LABELS[lang].get(status, status),
            "counts": ", ".join(f"{verdict_labels.get(k, k)} {n}" for k, n in counts.items() if n) or "-",
            "checks": str(len(control.get("checks") or [])),
        }
