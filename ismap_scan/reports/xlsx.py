"""``statement.xlsx``: the 言明書 workbook an auditor and the provider work from (openpyxl).

Three sheets, Japanese headers by default (``--lang en`` for English):

- **Cover** (表紙): service, organisation, profile, scope, scan ID and times, tool / check-pack / catalog
  versions, totals of control statuses and of verdicts, expired attestations and waivers.
- **Statement** (言明書): one row per objective and detailed control in the statement (or, without an
  assertion document, per control with results): ID, level, title, B / P flags, selected or the reason for
  exclusion, individual-control text, checks, resources evaluated, PASS / FAIL / ERROR / waived, status,
  attestation or inheritance, last evaluated.
- **Failing results** (不合格結果): every FAIL with its evidence values and, when muted, its waiver.

Headers are frozen and filtered, columns sized, long text wrapped. Every text cell is stored as a string
(``data_type "s"``): a resource name beginning with ``=`` stays text and never becomes a formula. The
renderer only presents: statuses arrive decided in :attr:`ReportMeta.controls` (the roll-up's dicts).
"""

from __future__ import annotations

import io
import json
from collections import Counter
from collections.abc import Sequence
from typing import Any

from ..model import Result, Verdict
from .base import Renderer, display_time, localized, outcome_text, scope_text, scope_warning_lines
from .markdown import CONTROL_STATUS_LABELS, SEVERITY_LABELS, VERDICT_LABELS
from .markdown import LABELS as MD_LABELS

#: Sheet names per language (Excel limits them to 31 characters).
SHEETS = {
    "ja": {"cover": "表紙", "statement": "言明書", "failing": "不合格結果"},
    "en": {"cover": "Cover", "statement": "Statement", "failing": "Failing results"},
}

#: Statement sheet columns: key, ja header, en header, width.
STATEMENT_COLUMNS: tuple[tuple[str, str, str, int], ...] = (
    ("id", "管理策番号", "Control ID", 14),
    ("level", "区分", "Level", 10),
    ("title", "管理策", "Title", 42),
    ("b", "基本言明要件", "Basic (B)", 8),
    ("p", "クラウド固有", "Cloud (P)", 8),
    ("selected", "選択", "Selected", 8),
    ("reason", "除外理由", "Reason for exclusion", 28),
    ("individual", "個別管理策", "Individual control", 48),
    ("checks", "チェック", "Checks", 40),
    ("resources", "評価リソース数", "Resources evaluated", 10),
    ("pass", "合格", "PASS", 7),
    ("fail", "不合格", "FAIL", 7),
    ("error", "評価不能", "ERROR", 7),
    ("waived", "免除", "Waived", 7),
    ("status", "状態", "Status", 12),
    ("assurance", "証明・継承", "Attestation / inheritance", 40),
    ("last", "最終評価日時", "Last evaluated", 22),
)

FAILING_COLUMNS: tuple[tuple[str, str, str, int], ...] = (
    ("severity", "重要度", "Severity", 8),
    ("check", "チェック", "Check", 38),
    ("title", "タイトル", "Title", 40),
    ("provider", "クラウド", "Provider", 8),
    ("account", "アカウント", "Account", 14),
    ("region", "リージョン", "Region", 14),
    ("type", "リソース種別", "Resource type", 22),
    ("resource", "リソース", "Resource", 48),
    ("message", "指摘内容", "Finding", 40),
    ("evidence", "証跡の値", "Evidence values", 48),
    ("controls", "管理策", "Controls", 22),
    ("waiver", "免除", "Waiver", 32),
    ("finding_key", "検出キー", "Finding key", 20),
)

LABELS = {
    "ja": {
        "title": "言明書 (ismap-scan による自動評価)",
        "service": "サービス名",
        "organization": "事業者",
        "profile": "制度",
        "scope": "対象範囲",
        "scanned": "評価した範囲",
        "scan_id": "スキャンID",
        "started": "開始",
        "finished": "終了",
        "tool": "ツールのバージョン",
        "check_pack": "チェックパック (SHA-256)",
        "catalog": "管理基準カタログ",
        "catalog_note": "日本語の管理策名は非公式 (公式の別表3を取り込むと置き換わります)",
        "catalog_official": "公式の別表3から取り込み",
        "statement": "言明書ファイル",
        "statuses": "管理策の状態",
        "verdicts": "評価結果",
        "expired": "期限切れの証明・免除",
        "none": "なし",
        "objective": "統制目標",
        "detailed": "詳細管理策",
        "yes": "○",
        "selected": "選択",
        "excluded": "除外",
        "attestation": "証明",
        "inherited": "継承",
        "waived_until": "免除",
        "no_statement": "言明書の指定なし: 結果のある管理策のみ",
        "scope_warnings": MD_LABELS["ja"]["scope_warnings"],
    },
    "en": {
        "title": "Statement of applicability (automated evaluation by ismap-scan)",
        "service": "Service",
        "organization": "Organisation",
        "profile": "Programme",
        "scope": "Scope",
        "scanned": "Scanned",
        "scan_id": "Scan ID",
        "started": "Started",
        "finished": "Finished",
        "tool": "Tool version",
        "check_pack": "Check pack (SHA-256)",
        "catalog": "Control catalog",
        "catalog_note": "Japanese control titles are unofficial (an imported Attached Table 3 replaces them)",
        "catalog_official": "imported from the official Attached Table 3",
        "statement": "Statement file",
        "statuses": "Control status",
        "verdicts": "Results",
        "expired": "Expired attestations and waivers",
        "none": "none",
        "objective": "Objective",
        "detailed": "Detailed",
        "yes": "Yes",
        "selected": "Yes",
        "excluded": "No",
        "attestation": "Attested",
        "inherited": "Inherited",
        "waived_until": "Waived",
        "no_statement": "No statement given: controls with results only",
        "scope_warnings": MD_LABELS["en"]["scope_warnings"],
    },
}

#: Control status labels: the Markdown report's (one set of terms across every report).
STATUS_LABELS = CONTROL_STATUS_LABELS

PROFILE_NAMES = {"ismap": "ISMAP", "ismap-liu": "ISMAP-LIU"}
#: Fill colours of the status cell (ARGB), the same meaning in both languages.
STATUS_FILLS = {
    "COMPLIANT": "FFC6EFCE",
    "NON_COMPLIANT": "FFFFC7CE",
    "PARTIAL": "FFFFEB9C",
    "MANUAL": "FFDDEBF7",
    "NOT_EVALUATED": "FFEDEDED",
    "EXCLUDED": "FFFFFFFF",
}

Sheet = list[list[Any]]


class XlsxRenderer(Renderer[dict[str, Sheet]]):
    """Renders ``statement.xlsx``. ``transform`` gives ``{sheet key: rows}`` (first row = headers on the
    statement and failing sheets; the cover is label/value pairs); ``serialize`` builds the workbook."""

    format = "xlsx"
    filename = "statement.xlsx"

    def transform(self, results: Sequence[Result]) -> dict[str, Sheet]:
        lang = self.meta.language
        waivers = self._waivers_by_finding()
        return {
            "cover": self._cover(results),
            "statement": [[c[1] if lang == "ja" else c[2] for c in STATEMENT_COLUMNS]]
            + [self._statement_row(c) for c in self.meta.controls or []],
            "failing": [[c[1] if lang == "ja" else c[2] for c in FAILING_COLUMNS]]
            + [
                self._failing_row(r, waivers.get(r.finding_key)) for r in results if r.verdict is Verdict.FAIL
            ],
        }

    # ------------------------------------------------------------------------------ rows

    def _cover(self, results: Sequence[Result]) -> Sheet:
        m, lang = self.meta, self.meta.language
        L = LABELS[lang]
        a = m.assertion or {}
        service = a.get("service") or {}
        scope = a.get("scope") or {}
        statement_scope = "; ".join(
            x
            for x in (
                scope.get("description", ""),
                scope_text(scope.get("accounts")),
                scope_text(scope.get("regions")),
            )
            if x
        )
        catalog = m.catalog_version
        catalog += f" ({L['catalog_official']})" if a.get("official_catalog") else f" ({L['catalog_note']})"
        rows: Sheet = [
            [L["title"], ""],
            [L["service"], service.get("name", "")],
            [L["organization"], service.get("organization", "")],
            [L["profile"], PROFILE_NAMES.get(a.get("profile", ""), a.get("profile", ""))],
            [L["scope"], statement_scope],
            [
                L["scanned"],
                "; ".join(scope_text(m.scope.get(k)) for k in ("accounts", "regions") if m.scope.get(k)),
            ],
            [L["scan_id"], m.scan_id],
            [L["started"], display_time(m.started_at, m.timezone)],
            [L["finished"], display_time(m.finished_at, m.timezone)],
            [L["tool"], m.tool_version],
            [L["check_pack"], m.check_pack_hash],
            [L["catalog"], catalog],
            [L["statement"], a.get("path", L["no_statement"])],
            [L["scope_warnings"], "\n".join(scope_warning_lines(m.statement_scope, lang)) or L["none"]],
            ["", ""],
            [L["statuses"], ""],
        ]
        totals = Counter(str(c.get("status", "")) for c in m.controls or [])
        for state, label in STATUS_LABELS[lang].items():
            rows.append([label, totals.get(state, 0)])
        rows += [["", ""], [L["verdicts"], ""]]
        verdicts = Counter(r.verdict.value for r in results)
        for v, label in VERDICT_LABELS[lang].items():
            rows.append([label, verdicts.get(v, 0)])
        expired = [
            f"{c.get('id')}: {e.get('kind')} {e.get('id')} ({e.get('expires')})"
            for c in m.controls or []
            for e in c.get("expired") or []
        ]
        rows += [["", ""], [L["expired"], "\n".join(dict.fromkeys(expired)) or L["none"]]]
        return rows

    def _statement_row(self, c: dict[str, Any]) -> list[Any]:
        lang = self.meta.language
        L = LABELS[lang]
        counts = c.get("counts") or {}
        selected = c.get("selected")
        assurance = [
            f"{L['attestation']}: {a.get('owner')} / {a.get('evidence')} ({a.get('date')}〜{a.get('expires')}, {a.get('reviewer')})"
            for a in c.get("attestations") or []
        ]
        inh = c.get("inheritance")
        if inh:
            assurance.append(f"{L['inherited']}: {inh.get('service')} ({inh.get('registration')})")
        checks = c.get("coverage") or {}
        status = str(c.get("status", ""))
        return [
            c.get("id", ""),
            L.get(str(c.get("level", "")), c.get("level", "")),
            localized(c.get("title") or {}, lang),
            L["yes"] if c.get("basic_statement_requirement") else "",
            L["yes"] if c.get("cloud_specific") else "",
            "" if selected is None else (L["selected"] if selected else L["excluded"]),
            c.get("reason", ""),
            c.get("individual_control", ""),
            "\n".join(f"{k} ({MD_LABELS[lang].get(v, v)})" for k, v in checks.items()),
            len(c.get("resources") or []),
            counts.get("PASS", 0),
            counts.get("FAIL", 0),
            counts.get("ERROR", 0),
            c.get("waived", 0),
            STATUS_LABELS[lang].get(status, status),
            "\n".join(assurance),
            display_time(c["last_evaluated"], self.meta.timezone) if c.get("last_evaluated") else "",
        ]

    def _failing_row(self, r: Result, waiver: dict[str, Any] | None) -> list[Any]:
        lang = self.meta.language
        waiver_text = ""
        if waiver:
            waiver_text = f"{waiver.get('id')}: {waiver.get('reason')} ({waiver.get('approver')}, ≤ {waiver.get('expires')})"
        return [
            SEVERITY_LABELS[lang].get(r.severity.value, r.severity.value),
            r.check_id,
            localized(r.title, lang, r.check_id),
            r.provider,
            r.account,
            r.region,
            r.resource_type,
            r.resource_id,
            outcome_text(r, lang),
            "\n".join(
                f"{k} = {json.dumps(v, ensure_ascii=False, default=str)}" for k, v in r.evidence.items()
            ),
            "\n".join(f"{c.id} ({MD_LABELS[lang].get(c.coverage, c.coverage)})" for c in r.controls),
            waiver_text,
            r.finding_key,
        ]

    def _waivers_by_finding(self) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for c in self.meta.controls or []:
            for r in c.get("results") or []:
                if r.get("waiver"):
                    out.setdefault(r["finding_key"], r["waiver"])
        return out

    # ------------------------------------------------------------------------------ workbook

    def serialize(self, document: dict[str, Sheet]) -> bytes:
        from openpyxl import Workbook
        from openpyxl.styles import Alignment, Font, PatternFill

        lang = self.meta.language
        names = SHEETS[lang]
        wb = Workbook()
        bold = Font(bold=True)
        wrap = Alignment(wrap_text=True, vertical="top")

        cover = wb.active
        cover.title = names["cover"]
        for row in document["cover"]:
            _append(cover, row)
        for row in cover.iter_rows():
            row[0].font = bold
            for cell in row:
                cell.alignment = wrap
        cover["A1"].font = Font(bold=True, size=14)
        cover.column_dimensions["A"].width = 28
        cover.column_dimensions["B"].width = 90

        status_col = [c[0] for c in STATEMENT_COLUMNS].index("status") + 1
        for key, columns in (("statement", STATEMENT_COLUMNS), ("failing", FAILING_COLUMNS)):
            ws = wb.create_sheet(names[key])
            rows = document[key]
            for row in rows:
                _append(ws, row)
            for i, (_key, _ja, _en, width) in enumerate(columns, start=1):
                ws.column_dimensions[ws.cell(row=1, column=i).column_letter].width = width
            for cell in ws[1]:
                cell.font = bold
                cell.fill = PatternFill("solid", fgColor="FFD9E1F2")
            for row in ws.iter_rows(min_row=2):
                for cell in row:
                    cell.alignment = wrap
            ws.freeze_panes = "B2"
            ws.auto_filter.ref = ws.dimensions
            if key == "statement":
                reverse = {v: k for k, v in STATUS_LABELS[lang].items()}
                for r in range(2, len(rows) + 1):
                    cell = ws.cell(row=r, column=status_col)
                    fill = STATUS_FILLS.get(reverse.get(str(cell.value), ""), "")
                    if fill:
                        cell.fill = PatternFill("solid", fgColor=fill)
        buf = io.BytesIO()
        wb.save(buf)
        return buf.getvalue()


def _append(ws: Any, row: list[Any]) -> None:
    """Append ``row``; text cells are forced to strings, since openpyxl reads ``"=..."`` as a formula and a
    resource name or message must never run in the auditor's spreadsheet."""
    values = [
        ("" if v is None else v) if isinstance(v, int | float | str) or v is None else str(v) for v in row
    ]
    ws.append(values)
    for cell in ws[ws.max_row]:
        if isinstance(cell.value, str):
            cell.data_type = "s"
