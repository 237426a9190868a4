"""``report.html``: one self-contained HTML page per scan, readable offline and in either language.

The page needs no network when it is opened: the CSS and the small filter script (``report.css`` and
``report.js`` beside the template in ``reports/templates/``) are inlined, and a Content-Security-Policy
meta tag allows exactly those two inline blocks (by SHA-256) and nothing else — no remote script, style,
font, image, frame or form target. Cloud-supplied text (resource names, messages, evidence values) goes
through Jinja2 autoescaping; remediation links are kept only when they are ``http(s)`` URLs.

What it shows (labels from :data:`LABELS`, one template for Japanese and English):

- the scan's metadata, with times in ``ReportMeta.timezone`` (default Asia/Tokyo);
- totals per verdict, a severity × verdict table, and results per ISMAP control objective;
- the control view: objective → detailed control → checks and failing resources, coloured by the
  roll-up status of ``ReportMeta.controls`` (missing keys are tolerated: the roll-up's shape grows);
- findings: every FAIL and ERROR in full (message, evidence values, remediation and link, finding key,
  controls) and PASS / NOT_APPLICABLE grouped per (check, account, region) with their resource IDs, so
  a 60,000-result scan stays a page a browser opens quickly; filters by status, severity, service,
  account and region, and a text search.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

import jinja2
from markupsafe import Markup

from ..model import Result, Severity, Verdict
from ..paths import templates_dir
from .base import Renderer, display_time, localized, outcome_text, scope_text, scope_warning_lines
from .markdown import CONTROL_STATUS_LABELS, SEVERITY_LABELS, VERDICT_LABELS
from .markdown import LABELS as MD_LABELS

TEMPLATE = "report.html.j2"
CSS_FILE = "report.css"
JS_FILE = "report.js"

#: Resource IDs listed per PASS / NOT_APPLICABLE group; the rest are counted (results.jsonl has them all).
GROUP_IDS_SHOWN = 200
#: Characters of one evidence value shown; longer values are cut (results.jsonl keeps the whole value).
EVIDENCE_CHARS = 2000
#: Failing resources listed per control in the control view.
CONTROL_RESOURCES_SHOWN = 10

#: Display order of the roll-up states; a state the roll-up adds later is shown after these.
CONTROL_STATES = ("NON_COMPLIANT", "PARTIAL", "NOT_EVALUATED", "MANUAL", "COMPLIANT", "EXCLUDED")

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "title": "ISMAP scan report",
        "scan": "Scan",
        "scan_id": "Scan ID",
        "tool_version": "ismap-scan version",
        "check_pack_hash": "Check pack hash",
        "catalog_version": "ISMAP catalog version",
        "started_at": "Started",
        "finished_at": "Finished",
        "timezone": "Times shown in",
        "providers": "Providers",
        "accounts": "Accounts",
        "regions": "Regions",
        "none": "none",
        "totals": "Totals",
        "results": "results",
        "checks": "checks",
        "resources": "resources",
        "by_severity": "Results by severity",
        "severity": "Severity",
        "total": "Total",
        "by_objective": "Results by ISMAP control objective",
        "objective": "Objective",
        "no_controls": "No result is mapped to an ISMAP control.",
        "control_view": "ISMAP controls",
        "control_view_intro": (
            "Roll-up of the check results to the ISMAP controls they evidence. A control is only as "
            "complete as its checks: partial coverage and manual controls need other evidence."
        ),
        "no_rollup": "No control roll-up was made for this scan.",
        "control": "Control",
        "status": "Status",
        "counts": "Results",
        "coverage": "Coverage",
        "full": "full",
        "partial": "partial",
        "failing_resources": "Failing resources",
        "more": "more",
        "show_findings": "show findings",
        "findings": "Findings",
        "findings_intro": (
            "Every FAIL and ERROR is listed in full. PASS and not-applicable results are grouped per "
            "check, account and region. ERROR means the check could not be judged: it is not a pass."
        ),
        "filter_status": "Status",
        "filter_severity": "Severity",
        "filter_service": "Service",
        "filter_account": "Account",
        "filter_region": "Region",
        "filter_text": "Search",
        "filter_text_hint": "check, resource, message",
        "all": "all",
        "shown": "shown",
        "of": "of",
        "reset": "Reset filters",
        "check": "Check",
        "resource": "Resource",
        "resource_type": "Resource type",
        "account": "Account",
        "region": "Region",
        "collected_at": "Collected",
        "message": "Message",
        "evidence": "Evidence",
        "no_evidence": "no evidence paths",
        "truncated": "truncated; the full value is in results.jsonl",
        "remediation": "Remediation",
        "documentation": "documentation",
        "finding_key": "Finding key",
        "controls": "ISMAP controls",
        "grouped": "Grouped results",
        "count": "Count",
        "and_more": "and {n} more (see results.jsonl)",
        "unseen": "Not seen by this scan",
        "unseen_intro": "Collection could not read the following; checks on them are ERROR, not PASS.",
        "no_findings": "No result matches the filters.",
        "generated_by": "Generated by ismap-scan",
        "demo": MD_LABELS["en"]["demo"],
        "scope_warnings": MD_LABELS["en"]["scope_warnings"],
    },
    "ja": {
        "title": "ISMAP スキャンレポート",
        "scan": "スキャン情報",
        "scan_id": "スキャンID",
        "tool_version": "ismap-scan バージョン",
        "check_pack_hash": "チェックパックのハッシュ",
        "catalog_version": "ISMAP 管理基準カタログ版",
        "started_at": "開始",
        "finished_at": "終了",
        "timezone": "表示タイムゾーン",
        "providers": "クラウド",
        "accounts": "アカウント",
        "regions": "リージョン",
        "none": "なし",
        "totals": "集計",
        "results": "件の結果",
        "checks": "チェック",
        "resources": "リソース",
        "by_severity": "重要度別の結果",
        "severity": "重要度",
        "total": "合計",
        "by_objective": "ISMAP 管理目的別の結果",
        "objective": "管理目的",
        "no_controls": "ISMAP 管理策に対応付けられた結果はありません。",
        "control_view": "ISMAP 管理策",
        "control_view_intro": (
            "チェック結果を、その証跡となる ISMAP 管理策ごとに集約したものです。部分的な対応や手動確認の"
            "管理策には、別途の証跡が必要です。"
        ),
        "no_rollup": "このスキャンでは管理策の集約を行っていません。",
        "control": "管理策",
        "status": "状況",
        "counts": "結果",
        "coverage": "対応範囲",
        "full": "完全",
        "partial": "部分",
        "failing_resources": "不合格のリソース",
        "more": "件 ほか",
        "show_findings": "結果を表示",
        "findings": "検出結果",
        "findings_intro": (
            "不合格 (FAIL) と評価不能 (ERROR) はすべて個別に表示します。合格と対象外は、チェック・"
            "アカウント・リージョンごとにまとめて表示します。評価不能は判定できなかったものであり、"
            "合格ではありません。"
        ),
        "filter_status": "判定",
        "filter_severity": "重要度",
        "filter_service": "サービス",
        "filter_account": "アカウント",
        "filter_region": "リージョン",
        "filter_text": "検索",
        "filter_text_hint": "チェック、リソース、メッセージ",
        "all": "すべて",
        "shown": "件を表示",
        "of": "/",
        "reset": "フィルターを解除",
        "check": "チェック",
        "resource": "リソース",
        "resource_type": "リソース種別",
        "account": "アカウント",
        "region": "リージョン",
        "collected_at": "収集日時",
        "message": "メッセージ",
        "evidence": "証跡",
        "no_evidence": "証跡の項目はありません",
        "truncated": "省略しました。全体は results.jsonl にあります",
        "remediation": "対処方法",
        "documentation": "ドキュメント",
        "finding_key": "検出キー",
        "controls": "ISMAP 管理策",
        "grouped": "まとめた結果",
        "count": "件数",
        "and_more": "ほか {n} 件 (results.jsonl を参照)",
        "unseen": "このスキャンで確認できなかった範囲",
        "unseen_intro": (
            "以下は収集時に読み取れませんでした。これらに対するチェックは合格ではなく ERROR です。"
        ),
        "no_findings": "フィルターに一致する結果はありません。",
        "demo": MD_LABELS["ja"]["demo"],
        "scope_warnings": MD_LABELS["ja"]["scope_warnings"],
        "generated_by": "ismap-scan により生成",
    },
}

_VERDICT_ORDER = {
    v: i for i, v in enumerate((Verdict.FAIL, Verdict.ERROR, Verdict.PASS, Verdict.NOT_APPLICABLE))
}


@dataclass(frozen=True)
class _Assets:
    """The inline CSS and script, and the CSP that allows exactly them."""

    css: str
    js: str
    csp: str


def _sha256_source(text: str) -> str:
    """A CSP hash source (``'sha256-<base64>'``) for an inline block whose content is exactly ``text``."""
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


@lru_cache(maxsize=1)
def _assets() -> _Assets:
    folder = templates_dir()
    css = (folder / CSS_FILE).read_text(encoding="utf-8")
    js = (folder / JS_FILE).read_text(encoding="utf-8")
    # 'none' for everything, then only our two inline blocks. Meta-tag CSP cannot set frame-ancestors;
    # a page opened from disk has no server to send the header anyway.
    csp = (
        "default-src 'none'; "
        f"style-src {_sha256_source(css)}; "
        f"script-src {_sha256_source(js)}; "
        "img-src 'none'; font-src 'none'; connect-src 'none'; "
        "base-uri 'none'; form-action 'none'"
    )
    return _Assets(css=css, js=js, csp=csp)


def content_security_policy() -> str:
    """The CSP the report carries (for tests and for anyone serving the file with a real header)."""
    return _assets().csp


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir())),
        undefined=jinja2.StrictUndefined,  # a misspelt variable is a bug, not an empty string
        autoescape=True,  # HTML: every {{ }} is escaped unless marked safe (only our own CSS/JS are)
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env


def safe_url(url: Any) -> str | None:
    """``url`` when it is an absolute ``http``/``https`` URL, else ``None``: a check's remediation link
    comes from a YAML file a team wrote, and ``javascript:`` or ``data:`` links must not become clickable."""
    if not isinstance(url, str) or not url:
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return url.strip()


def _json_text(value: Any) -> tuple[str, bool]:
    """``(JSON text, truncated?)`` of an evidence value, cut at :data:`EVIDENCE_CHARS` characters."""
    try:
        text = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    except (TypeError, ValueError):
        text = repr(value)
    if len(text) > EVIDENCE_CHARS:
        return text[: EVIDENCE_CHARS - 1] + "…", True
    return text, False


def _objective_guess(control_id: str) -> str:
    """The objective a control ID belongs to when no catalog says it: ISMAP numbers objectives with
    three parts (``9.4.1``); detailed controls add parts below it (``9.4.1.2``, ``9.4.1.2.B``)."""
    parts = control_id.split(".")
    numeric = [p for p in parts if p.isdigit()]
    return ".".join(numeric[:3]) if len(numeric) >= 3 else control_id


class HtmlRenderer(Renderer[str]):
    """Renders ``report.html``; ``transform`` returns the page's text."""

    format = "html"
    filename = "report.html"

    def transform(self, results: Sequence[Result]) -> str:
        assets = _assets()
        return (
            _environment()
            .get_template(TEMPLATE)
            .render(css=Markup(assets.css), js=Markup(assets.js), csp=assets.csp, **self.context(results))
        )

    def serialize(self, document: str) -> bytes:
        return document.encode("utf-8")

    # ------------------------------------------------------------------ context

    def context(self, results: Sequence[Result]) -> dict[str, Any]:
        """The template's variables (plain values, escaped by the template). Keys: ``lang``, ``L`` (labels),
        ``meta``, ``scope``, ``totals``, ``severity_rows``, ``objectives``, ``control_groups``,
        ``findings`` (FAIL/ERROR, full), ``groups`` (PASS/NOT_APPLICABLE), ``filters``, ``unseen``."""
        meta, lang = self.meta, self.meta.language
        labels = LABELS[lang]
        vlabels = VERDICT_LABELS[lang]
        slabels = SEVERITY_LABELS[lang]
        verdicts = Counter(r.verdict for r in results)
        by_severity: dict[Severity, Counter[Verdict]] = {s: Counter() for s in Severity}
        for r in results:
            by_severity[r.severity][r.verdict] += 1
        zone = meta.timezone

        @lru_cache(maxsize=4096)
        def when(iso: str) -> str:
            return display_time(iso, zone)

        finding_checks = self._finding_checks(results, when)
        return {
            "lang": lang,
            "L": labels,
            "verdict_labels": vlabels,
            "meta": {
                "scan_id": meta.scan_id,
                "tool_version": meta.tool_version,
                "check_pack_hash": meta.check_pack_hash,
                "catalog_version": meta.catalog_version,
                "started_at": when(meta.started_at),
                "finished_at": when(meta.finished_at),
                "started_at_utc": meta.started_at,
                "finished_at_utc": meta.finished_at,
                "timezone": zone,
                "demo": meta.demo,
            },
            "scope": [
                (labels[key], scope_text(meta.scope.get(key)) or labels["none"])
                for key in ("providers", "accounts", "regions")
            ],
            "totals": [
                {"verdict": v.value, "label": vlabels[v.value], "count": verdicts.get(v, 0)} for v in Verdict
            ],
            "total": len(results),
            "check_count": len({r.check_id for r in results}),
            "resource_count": len({(r.provider, r.account, r.resource_id) for r in results}),
            "verdicts": [(v.value, vlabels[v.value]) for v in Verdict],
            "severity_rows": [
                {
                    "severity": s.value,
                    "label": slabels[s.value],
                    "counts": [by_severity[s].get(v, 0) for v in Verdict],
                    "total": sum(by_severity[s].values()),
                }
                for s in Severity
            ],
            "objectives": self._objectives(results),
            "control_groups": self._control_groups(results),
            "finding_checks": finding_checks,
            "finding_count": sum(len(c["findings"]) for c in finding_checks),
            "groups": self._groups(results),
            "filters": self._filters(results),
            "unseen": list(meta.unseen or []),
            "scope_warnings": scope_warning_lines(meta.statement_scope, lang),
        }

    def _finding_checks(self, results: Sequence[Result], when: Any) -> list[dict[str, Any]]:
        """FAIL and ERROR results in full, grouped per check (what to fix and the controls are said once per
        check): most severe checks first, FAIL before ERROR inside a check, engine order otherwise."""
        lang = self.meta.language
        by_check: dict[str, list[Result]] = defaultdict(list)
        for r in results:
            if r.verdict in (Verdict.FAIL, Verdict.ERROR):
                by_check[r.check_id].append(r)
        out: list[dict[str, Any]] = []
        for check_id, members in by_check.items():
            members.sort(key=lambda r: _VERDICT_ORDER[r.verdict])
            first = members[0]
            tally = Counter(r.verdict for r in members)
            out.append(
                {
                    "check_id": check_id,
                    "service": first.service,
                    "severity": first.severity.value,
                    "severity_label": SEVERITY_LABELS[lang][first.severity.value],
                    "rank": first.severity.rank,
                    "worst": _VERDICT_ORDER[first.verdict],
                    "title": localized(first.title, lang, check_id),
                    "remediation": localized(
                        {k: v for k, v in first.remediation.items() if k != "url"}, lang
                    ),
                    "url": safe_url(first.remediation.get("url")),
                    "controls": [(c.id, LABELS[lang].get(c.coverage, c.coverage)) for c in first.controls],
                    "counts": [
                        (v.value, VERDICT_LABELS[lang][v.value], tally[v])
                        for v in (Verdict.FAIL, Verdict.ERROR)
                        if tally.get(v)
                    ],
                    "findings": [self._finding(r, when) for r in members],
                }
            )
        out.sort(key=lambda c: (c["worst"], -c["rank"], c["check_id"]))
        return out

    def _finding(self, r: Result, when: Any) -> dict[str, Any]:
        """One FAIL/ERROR result's own facts (the check's are in :meth:`_finding_checks`)."""
        evidence = []
        for path, value in r.evidence.items():
            text, cut = _json_text(value)
            evidence.append({"path": path, "value": text, "truncated": cut})
        return {
            "v": r.verdict.value,
            "verdict_label": VERDICT_LABELS[self.meta.language][r.verdict.value],
            "account": r.account,
            "region": r.region,
            "resource_type": r.resource_type,
            "resource_id": r.resource_id,
            "resource_name": r.resource_name,
            "collected_at": when(r.collected_at),
            "message": outcome_text(r, self.meta.language),
            "evidence": evidence,
            "finding_key": r.finding_key,
        }

    def _groups(self, results: Sequence[Result]) -> list[dict[str, Any]]:
        """PASS and NOT_APPLICABLE results, one entry per (verdict, check, account, region)."""
        lang = self.meta.language
        grouped: dict[tuple[Verdict, str, str, str], list[Result]] = defaultdict(list)
        for r in results:
            if r.verdict in (Verdict.PASS, Verdict.NOT_APPLICABLE):
                grouped[(r.verdict, r.check_id, r.account, r.region)].append(r)
        out = []
        for (verdict, check_id, account, region), members in sorted(
            grouped.items(), key=lambda kv: (_VERDICT_ORDER[kv[0][0]], kv[0][1:])
        ):
            first = members[0]
            out.append(
                {
                    "v": verdict.value,
                    "verdict_label": VERDICT_LABELS[lang][verdict.value],
                    "severity": first.severity.value,
                    "severity_label": SEVERITY_LABELS[lang][first.severity.value],
                    "check_id": check_id,
                    "service": first.service,
                    "title": localized(first.title, lang, check_id),
                    "account": account,
                    "region": region,
                    "count": len(members),
                    "ids": [m.resource_id for m in members[:GROUP_IDS_SHOWN]],
                    "more": max(0, len(members) - GROUP_IDS_SHOWN),
                }
            )
        return out

    def _filters(self, results: Sequence[Result]) -> dict[str, list[tuple[str, str]]]:
        lang = self.meta.language
        present = {r.verdict for r in results}
        sev_present = {r.severity for r in results}
        return {
            "status": [(v.value, VERDICT_LABELS[lang][v.value]) for v in Verdict if v in present],
            "severity": [(s.value, SEVERITY_LABELS[lang][s.value]) for s in Severity if s in sev_present],
            "service": [(s, s) for s in sorted({r.service for r in results})],
            "account": [(a, a) for a in sorted({r.account for r in results})],
            "region": [(g, g) for g in sorted({r.region for r in results})],
        }

    # ------------------------------------------------------------------ ISMAP views

    def _catalog_titles(self) -> tuple[dict[str, dict[str, str]], dict[str, str]]:
        """``(titles by control ID, objective by control ID)`` from the catalog named in the metadata,
        when it can be loaded; empty maps otherwise (the report then shows IDs without titles)."""
        version = self.meta.catalog_version
        if not version:
            return {}, {}
        return _catalog_index(version)

    def _objective_map(self) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
        """``(control ID → objective ID, ID → title)`` from the roll-up, completed by the catalog."""
        titles, objective_of = self._catalog_titles()
        titles = dict(titles)
        objective_of = dict(objective_of)
        for c in self.meta.controls or []:
            if not isinstance(c, dict) or not c.get("id"):
                continue
            cid = str(c["id"])
            if c.get("objective"):
                objective_of[cid] = str(c["objective"])
            elif c.get("level") == "objective":
                objective_of[cid] = cid
            if isinstance(c.get("title"), dict) and any(c["title"].values()):
                titles.setdefault(cid, {k: str(v) for k, v in c["title"].items()})
        return objective_of, titles

    def _objectives(self, results: Sequence[Result]) -> list[dict[str, Any]]:
        """Results per control objective: a result counts once per objective its check maps into."""
        lang = self.meta.language
        objective_of, titles = self._objective_map()
        counts: dict[str, Counter[Verdict]] = defaultdict(Counter)
        for r in results:
            seen: set[str] = set()
            for c in r.controls:
                objective = objective_of.get(c.id) or _objective_guess(c.id)
                if objective not in seen:
                    seen.add(objective)
                    counts[objective][r.verdict] += 1
        status = {
            str(c.get("id")): str(c.get("status", ""))
            for c in self.meta.controls or []
            if isinstance(c, dict)
        }
        return [
            {
                "id": oid,
                "title": localized(titles.get(oid, {}), lang),
                "counts": [counts[oid].get(v, 0) for v in Verdict],
                "total": sum(counts[oid].values()),
                "status": status.get(oid, ""),
                "status_label": CONTROL_STATUS_LABELS[lang].get(status.get(oid, ""), status.get(oid, "")),
            }
            for oid in sorted(counts, key=_control_sort_key)
        ]

    def _control_groups(self, results: Sequence[Result]) -> list[dict[str, Any]] | None:
        """The roll-up grouped objective → controls, each control with its checks' verdict counts."""
        if self.meta.controls is None:
            return None
        lang = self.meta.language
        objective_of, titles = self._objective_map()
        per_check: dict[str, Counter[Verdict]] = defaultdict(Counter)
        check_titles: dict[str, str] = {}
        for r in results:
            per_check[r.check_id][r.verdict] += 1
            if r.check_id not in check_titles:
                check_titles[r.check_id] = localized(r.title, lang, r.check_id)
        groups: dict[str, dict[str, Any]] = {}
        for c in self.meta.controls:
            if not isinstance(c, dict) or not c.get("id"):
                continue
            cid = str(c["id"])
            oid = str(c.get("objective") or objective_of.get(cid) or _objective_guess(cid))
            group = groups.setdefault(
                oid,
                {
                    "id": oid,
                    "title": localized(titles.get(oid, {}), lang),
                    "status": "",
                    "status_label": "",
                    "controls": [],
                    "states": Counter(),
                },
            )
            row = self._control_row(c, per_check, check_titles)
            group["states"][row["status"]] += 1
            if cid == oid:
                group["status"], group["status_label"] = row["status"], row["status_label"]
            group["controls"].append(row)
        out = []
        for oid in sorted(groups, key=_control_sort_key):
            group = groups[oid]
            # An objective's own roll-up row first, then its detailed controls in ID order.
            group["controls"].sort(key=lambda row, oid=oid: (row["id"] != oid, _control_sort_key(row["id"])))
            if not group["status"]:
                group["status"] = _worst(group["states"])
                group["status_label"] = CONTROL_STATUS_LABELS[lang].get(group["status"], group["status"])
            group["states"] = [
                (s, CONTROL_STATUS_LABELS[lang].get(s, s), n) for s, n in _ordered_states(group["states"])
            ]
            out.append(group)
        return out

    def _control_row(
        self, c: dict[str, Any], per_check: dict[str, Counter[Verdict]], check_titles: dict[str, str]
    ) -> dict[str, Any]:
        lang = self.meta.language
        status = str(c.get("status") or "")
        raw_counts: dict[str, Any] = _as_dict(c.get("counts"))
        coverage: dict[str, Any] = _as_dict(c.get("coverage"))
        checks_field = c.get("checks")
        if isinstance(checks_field, dict):  # an older/newer shape: {check_id: coverage}
            coverage = {**checks_field, **coverage}
            check_ids = list(checks_field)
        elif isinstance(checks_field, list | tuple):
            check_ids = [str(x) for x in checks_field]
        else:
            check_ids = list(coverage)
        failing: list[Any] = _as_list(c.get("failing_resources"))
        title: dict[str, Any] = _as_dict(c.get("title"))
        return {
            "id": str(c.get("id")),
            "title": localized({k: str(v) for k, v in title.items()}, lang),
            "level": str(c.get("level") or ""),
            "status": status,
            "status_label": CONTROL_STATUS_LABELS[lang].get(status, status),
            "counts": [
                (k, VERDICT_LABELS[lang].get(k, k), n)
                for k, n in sorted(raw_counts.items(), key=lambda kv: _verdict_rank(kv[0]))
                if isinstance(n, int) and n
            ],
            "checks": [
                {
                    "id": cid,
                    "title": check_titles.get(cid, ""),
                    "coverage": LABELS[lang].get(str(coverage.get(cid, "")), str(coverage.get(cid, ""))),
                    "counts": [
                        (v.value, VERDICT_LABELS[lang][v.value], per_check.get(cid, Counter()).get(v, 0))
                        for v in Verdict
                        if per_check.get(cid, Counter()).get(v, 0)
                    ],
                }
                for cid in check_ids
            ],
            # Why a roll-up chose its status (attestation, exclusion, waiver), when the roll-up says.
            "reason": str(c.get("reason") or ""),
            "failing": [str(x) for x in failing[:CONTROL_RESOURCES_SHOWN]],
            "failing_more": max(0, len(failing) - CONTROL_RESOURCES_SHOWN),
        }


def _as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _verdict_rank(name: str) -> int:
    try:
        return _VERDICT_ORDER[Verdict(name)]
    except ValueError:
        return len(_VERDICT_ORDER)


def _ordered_states(states: Counter[str]) -> list[tuple[str, int]]:
    known = [(s, states[s]) for s in CONTROL_STATES if states.get(s)]
    return known + sorted((s, n) for s, n in states.items() if s not in CONTROL_STATES and n)


def _worst(states: Counter[str]) -> str:
    """The first state of :data:`CONTROL_STATES` present (a display summary only; the roll-up decides)."""
    for s in CONTROL_STATES:
        if states.get(s):
            return s
    return next(iter(states), "")


def _control_sort_key(control_id: str) -> tuple[tuple[int, int | str], ...]:
    """``9.4.2`` before ``9.10.1``; ``.B``/``.P`` suffixes after the numbers."""
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in control_id.split("."))


@lru_cache(maxsize=4)
def _catalog_index(version: str) -> tuple[dict[str, dict[str, str]], dict[str, str]]:
    from ..errors import IsmapScanError

    # Titles are a nicety: a missing or unreadable catalog leaves the report with IDs only.
    try:
        from ..mappings import load_catalog

        catalog = load_catalog(version)
    except (ImportError, IsmapScanError, OSError, ValueError):
        return {}, {}
    titles = {c.id: dict(c.title) for c in catalog}
    objective_of: dict[str, str] = {}
    for c in catalog:
        if c.level in ("objective", "detailed"):
            objective = catalog.objective_of(c.id)
            if objective is not None:
                objective_of[c.id] = objective.id
    return titles, objective_of
