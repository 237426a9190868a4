"""``results.csv``: one row per result for spreadsheets, columns in a fixed order.

Cells are guarded against CSV ("formula") injection: resource names, tag values and messages come from
the scanned cloud, so anyone who can name a bucket could otherwise plant ``=HYPERLINK(...)`` in an
auditor's spreadsheet. A cell whose first non-blank character starts a formula gets a leading ``'``
(OWASP's advice), which spreadsheets show as text. The file is UTF-8 with a byte-order mark so that
Excel, the usual reader in Japan, decodes Japanese titles correctly.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from ..model import Result
from .base import Renderer, controls_text, localized, outcome_text
from .markdown import LABELS as MD_LABELS

#: Column order is part of the format; append new columns at the end only.
COLUMNS = (
    "finding_key",
    "check_id",
    "verdict",
    "severity",
    "provider",
    "account",
    "region",
    "resource_type",
    "resource_id",
    "resource_name",
    "title",
    "controls",
    "message",
    "remediation",
    "collected_at",
    "remediation_url",
)

# Characters that make Excel, LibreOffice or Google Sheets treat a cell as a formula or a DDE call: the
# ASCII four, tab and carriage return (OWASP), and the full-width forms a Japanese-locale Excel also accepts.
_FORMULA_START = frozenset("=+-@\t\r＝＋－＠")


def guard_cell(value: str) -> str:
    """``value`` made inert for spreadsheets: prefixed with ``'`` when it could start a formula."""
    stripped = value.lstrip(" ")
    if stripped and stripped[0] in _FORMULA_START:
        return "'" + value
    return value


class CsvRenderer(Renderer[list[list[str]]]):
    """Renders ``results.csv``; ``transform`` gives the header row then one guarded row per result."""

    format = "csv"
    filename = "results.csv"

    def transform(self, results: Sequence[Result]) -> list[list[str]]:
        lang = self.meta.language
        rows = [list(COLUMNS)]
        for r in results:
            row = [
                r.finding_key,
                r.check_id,
                r.verdict.value,
                r.severity.value,
                r.provider,
                r.account,
                r.region,
                r.resource_type,
                r.resource_id,
                r.resource_name,
                localized(r.title, lang, r.check_id),
                controls_text(r.controls, MD_LABELS[lang]),
                outcome_text(r, lang),
                localized({k: v for k, v in r.remediation.items() if k != "url"}, lang),
                r.collected_at,
                r.remediation.get("url", ""),
            ]
            rows.append([guard_cell(cell) for cell in row])
        return rows

    def serialize(self, document: list[list[str]]) -> bytes:
        buf = io.StringIO(newline="")
        # QUOTE_MINIMAL still quotes cells holding the delimiter, quotes or line breaks (RFC 4180).
        writer = csv.writer(buf, dialect="excel", quoting=csv.QUOTE_MINIMAL)
        writer.writerows(document)
        return buf.getvalue().encode("utf-8-sig")
