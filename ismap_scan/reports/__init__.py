"""Reports: one renderer class per format over the scan's results (DESIGN §1, Prowler-style outputs).

``write_reports(results, out_dir, formats, meta)`` writes the chosen formats into the scan folder;
``read_results(path)`` reads ``results.jsonl`` back (for ``report`` on an existing scan, diffs, bundles).

| format | file | content |
|---|---|---|
| ``jsonl`` | ``results.jsonl`` | every result, ``docs/results-schema.md`` |
| ``md`` | ``summary.md`` | human summary (ja/en) from ``reports/templates/summary.md.j2`` |
| ``csv`` | ``results.csv`` | one row per result, spreadsheet-safe |
| ``sarif`` | ``results.sarif`` | SARIF 2.1.0, FAIL results only, for GitHub code scanning |
| ``html`` | ``report.html`` | self-contained page (no network at view time): totals, ISMAP views, filters |
| ``ocsf`` | ``results.ocsf.json`` | every result as an OCSF 1.5 Compliance Finding (class 2003), one JSON array |
| ``junit`` | ``results.junit.xml`` | JUnit XML: a test suite per check, a test case per check × resource |
| ``xlsx`` | ``statement.xlsx`` | the 言明書 workbook: cover, one row per control in the statement, failing results |
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..model import Result
from .base import Renderer, ReportMeta
from .csvfile import CsvRenderer
from .html import HtmlRenderer
from .jsonl import JsonlRenderer, read_results
from .junit import JunitRenderer
from .markdown import MarkdownRenderer
from .ocsf import OcsfRenderer
from .sarif import SarifRenderer
from .xlsx import XlsxRenderer

#: Format name (as given to ``--format``) → renderer class, in the order reports are written.
FORMATS: dict[str, type[Renderer[Any]]] = {
    JsonlRenderer.format: JsonlRenderer,
    MarkdownRenderer.format: MarkdownRenderer,
    CsvRenderer.format: CsvRenderer,
    SarifRenderer.format: SarifRenderer,
    HtmlRenderer.format: HtmlRenderer,
    OcsfRenderer.format: OcsfRenderer,
    JunitRenderer.format: JunitRenderer,
    XlsxRenderer.format: XlsxRenderer,
}


def write_reports(
    results: Sequence[Result], out_dir: str | Path, formats: Iterable[str], meta: ReportMeta
) -> list[Path]:
    """Write one file per format in ``formats`` (names from :data:`FORMATS`) into ``out_dir``.

    ``formats`` may also be one comma-separated string (``"jsonl,md"``, as ``--format`` takes it).
    ``results`` are written in the order given (the engine sorts them). Returns the written paths in
    the order of ``formats``, each format once. Raises :class:`InputError` for an unknown format (before
    anything is written) and ``OSError`` when the folder cannot be written.
    """
    if isinstance(formats, str):
        formats = formats.split(",")
    wanted: list[str] = []
    for name in formats:
        name = name.strip().lower()
        if name not in FORMATS:
            raise InputError(f"unknown report format {name!r} (choose from {', '.join(FORMATS)})")
        if name not in wanted:
            wanted.append(name)
    out = Path(out_dir)
    return [FORMATS[name](meta).render(results, out) for name in wanted]


__all__ = [
    "FORMATS",
    "CsvRenderer",
    "HtmlRenderer",
    "JsonlRenderer",
    "JunitRenderer",
    "MarkdownRenderer",
    "OcsfRenderer",
    "Renderer",
    "ReportMeta",
    "SarifRenderer",
    "XlsxRenderer",
    "read_results",
    "write_reports",
]
