"""``ismap-scan catalog import``: the official full table of the controls criteria (別表3) → a catalog version.

A provider downloads the table from the ISMAP portal as a spreadsheet. Its layout is not fixed here, so the
reader finds its columns by content and headers rather than by position:

- every cell is read as text (an ``.xlsx`` merged range gives its value to every cell it covers, so a merged
  header labels each column under it); IDs are normalised with ``unicodedata.normalize("NFKC")`` (full-width
  digits, dots and spaces become ASCII), whitespace removed, ``。`` read as a dot, suffixes upper-cased;
- the **ID column** is the column with the most cells that are control IDs; in a workbook, the sheet with
  the most such cells is used;
- the **header rows** are the rows just above the first ID that hold at least two different labels (a
  title above the table does not); a column's label joins them (several header rows and merged header
  cells both work);
- the **text column** is the first whose label names the control text (詳細管理策, 管理策, 内容, 統制目標, ...),
  else the column with the most text; a row whose text cell is empty takes its longest other cell;
- blank rows are skipped; a row with content but no usable ID, without text, duplicating an earlier ID or
  whose parent is nowhere to be found is listed with its row number and reason (:class:`UnparsedRow`).

The installed version keeps the base catalog's structure, English titles and check map: each control the
table has gets ``confirmed: true`` and the table's text as its (official) Japanese title; each one it lacks
at a level the table covers gets ``confirmed: false``; IDs only the table has are added under their parent.
"""

from __future__ import annotations

import csv
import hashlib
import re
import shutil
import tempfile
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..errors import InputError
from ..snapshot import utc_now
from .catalog import (
    CATALOG_FILE,
    CHECK_MAP_FILE,
    CONTROL_ID_RE,
    DEFAULT_VERSION,
    Catalog,
    catalog_from_doc,
    check_version_name,
    id_sort_key,
    installed_catalogs_dir,
    is_bundled,
    load_catalog,
    load_check_map,
    version_dir,
)

CHECKABLE_FILE = "checkable.yaml"
#: Header words that name the control text, most specific first (compared after NFKC, lower-cased).
TEXT_HEADERS = (
    "詳細管理策",
    "管理策の内容",
    "管理策",
    "内容",
    "統制目標",
    "要求事項",
    "本文",
    "text",
    "control",
)
_ID_PARTS_RE = re.compile(r"^(\d+(?:\.\d+){0,4})\.?(PB|P|B)?$")
_LEADING_ID_RE = re.compile(r"^\s*([0-9.]+(?:\.?\s*(?:PB|P|B))?)\s+(\S.*)$", re.S)
_PART_OF = {"3": "governance", "4": "management"}
#: Rows scanned for a header above the first ID (a table with a longer preamble is not a control table).
_MAX_HEADER_ROWS = 15


@dataclass(frozen=True)
class UnparsedRow:
    """A spreadsheet row the importer could not use: 1-based ``row`` number, its cells joined, and why."""

    row: int
    text: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"row": self.row, "text": self.text, "reason": self.reason}


@dataclass
class ParsedTable:
    """What :func:`parse_rows` found: the chosen columns, ``entries`` (row number, ID, text) in order."""

    id_column: int
    text_column: int | None
    headers: list[str]
    entries: list[tuple[int, str, str]] = field(default_factory=list)
    unparsed: list[UnparsedRow] = field(default_factory=list)
    sheet: str = ""


@dataclass
class ImportReport:
    """The outcome of :func:`import_table`: where the version went and what the table confirmed, added,
    lacked and could not parse (IDs in catalog order)."""

    version: str
    base: str
    folder: Path
    source: str
    sheet: str
    id_header: str
    text_header: str
    rows: int
    confirmed: list[str]
    added: list[str]
    lacking: list[str]
    unparsed: list[UnparsedRow]

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "base": self.base,
            "folder": str(self.folder),
            "source": self.source,
            "sheet": self.sheet,
            "id_header": self.id_header,
            "text_header": self.text_header,
            "rows": self.rows,
            "confirmed": list(self.confirmed),
            "added": list(self.added),
            "lacking": list(self.lacking),
            "unparsed": [u.to_dict() for u in self.unparsed],
        }


# ------------------------------------------------------------------------------------------ reading


def normalize_id(raw: str) -> str | None:
    """The control ID written in ``raw`` (``"９．４．２．２．Ｂ"``, ``"9.4.2. 2 B"`` → ``"9.4.2.2.B"``), or ``None``."""
    s = unicodedata.normalize("NFKC", raw).replace("。", ".")
    s = re.sub(r"\s+", "", s).strip(".").upper()
    m = _ID_PARTS_RE.match(s)
    if not m:
        return None
    out = m.group(1) + (f".{m.group(2)}" if m.group(2) else "")
    return out if CONTROL_ID_RE.match(out) else None


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def read_sheets(path: Path) -> list[tuple[str, list[list[str]]]]:
    """``[(sheet name, rows of cell texts)]``: every sheet of an ``.xlsx`` (merged ranges filled), or the one
    table of a ``.csv`` (UTF-8 with or without BOM, else CP932 as Japanese Excel writes it).

    Raises :class:`InputError` for another extension, an unreadable file, or a workbook beyond the size
    limits (:data:`MAX_SHEET_ROWS` × :data:`MAX_SHEET_COLUMNS` per sheet, :data:`MAX_MERGED_CELLS`,
    :data:`MAX_XLSX_PART_BYTES`), checked before anything is materialised.
    """
    suffix = path.suffix.lower()
    if suffix == ".csv":
        raw = path.read_bytes()
        for encoding in ("utf-8-sig", "cp932"):
            try:
                text = raw.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise InputError("cannot decode the CSV (expected UTF-8 or Shift_JIS/CP932)", file=path)
        return [("csv", [[c.strip() for c in row] for row in csv.reader(text.splitlines())])]
    if suffix not in (".xlsx", ".xlsm"):
        raise InputError("expected an .xlsx or .csv file", file=path)
    from openpyxl import load_workbook

    _check_workbook_size(path)
    try:
        wb = load_workbook(path, data_only=True)  # not read_only: merged ranges are needed
    except Exception as exc:
        raise InputError(f"cannot read the workbook: {exc}", file=path) from None
    sheets: list[tuple[str, list[list[str]]]] = []
    for ws in wb.worksheets:
        # iter_rows materialises every cell up to the used range's corner: one stray cell at XFD1048576
        # would mean 17 billion cells.
        if ws.max_row > MAX_SHEET_ROWS or ws.max_column > MAX_SHEET_COLUMNS:
            raise InputError(
                f"sheet {ws.title!r} spans {ws.max_row} rows × {ws.max_column} columns, over the limit of "
                f"{MAX_SHEET_ROWS} × {MAX_SHEET_COLUMNS} (a stray cell far down or right? delete it in Excel)",
                file=path,
            )
        rows = [[_text(v) for v in row] for row in ws.iter_rows(values_only=True)]
        for merged in ws.merged_cells.ranges:
            value = rows[merged.min_row - 1][merged.min_col - 1] if merged.min_row <= len(rows) else ""
            for r in range(merged.min_row - 1, min(merged.max_row, len(rows))):
                for c in range(merged.min_col - 1, merged.max_col):
                    if c < len(rows[r]):
                        rows[r][c] = value
        sheets.append((ws.title, rows))
    return sheets


#: The official table has ~1,200 rows and a dozen columns; these bounds leave a wide margin while keeping a
#: hostile workbook (a few KB declaring a 1,048,576 × 16,384 sheet) from exhausting memory.
MAX_SHEET_ROWS = 200_000
MAX_SHEET_COLUMNS = 200
#: Most cells all merged ranges of one sheet may cover: openpyxl creates an object per merged cell on load.
MAX_MERGED_CELLS = 1_000_000
#: Largest uncompressed part of the .xlsx (zip) read, in bytes.
MAX_XLSX_PART_BYTES = 256 << 20


def _check_workbook_size(path: Path) -> None:
    """Refuse a workbook whose parts or merged ranges are too large to load, before openpyxl loads it.

    Reads the zip directory (declared sizes) and streams each worksheet's XML for ``<mergeCell ref=...>``
    (ECMA-376 Part 1, §18.3.1.55). Raises :class:`InputError` naming the part or range.
    """
    import zipfile
    from xml.etree.ElementTree import ParseError, iterparse

    from openpyxl.utils.cell import range_boundaries

    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError(f"cannot read the workbook: {exc}", file=path) from None
    with zf:
        for info in zf.infolist():
            if info.file_size > MAX_XLSX_PART_BYTES:
                raise InputError(
                    f"workbook part {info.filename} is {info.file_size} bytes uncompressed, over the limit of "
                    f"{MAX_XLSX_PART_BYTES} (zip bomb?)",
                    file=path,
                )
        for info in zf.infolist():
            if not (info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml")):
                continue
            merged = 0
            try:
                with zf.open(info) as fh:
                    for _event, elem in iterparse(fh):
                        if elem.tag.rsplit("}", 1)[-1] == "mergeCell":
                            ref = str(elem.get("ref") or "")
                            try:
                                min_col, min_row, max_col, max_row = range_boundaries(ref)
                            except (ValueError, TypeError):
                                raise InputError(
                                    f"{info.filename}: merged range {ref!r} is not a cell range", file=path
                                ) from None
                            merged += ((max_row or 0) - (min_row or 0) + 1) * (
                                (max_col or 0) - (min_col or 0) + 1
                            )
                            if merged > MAX_MERGED_CELLS:
                                raise InputError(
                                    f"{info.filename}: merged ranges (up to {ref}) cover more than "
                                    f"{MAX_MERGED_CELLS} cells: refusing to load the workbook",
                                    file=path,
                                )
                        elem.clear()
            except (ParseError, zipfile.BadZipFile, OSError, EOFError) as exc:
                raise InputError(f"cannot read the workbook: {info.filename}: {exc}", file=path) from None


def _cell_id(cell: str) -> tuple[str | None, str]:
    """(ID, text after it) for a cell holding an ID alone or an ID followed by its title."""
    cid = normalize_id(cell)
    if cid:
        return cid, ""
    m = _LEADING_ID_RE.match(unicodedata.normalize("NFKC", cell))
    if m:
        cid = normalize_id(m.group(1))
        if cid:
            return cid, m.group(2).strip()
    return None, ""


def parse_rows(rows: Sequence[Sequence[str]], sheet: str = "") -> ParsedTable | None:
    """Find the ID and text columns in ``rows`` and read every entry (module doc). ``None`` when no column
    holds control IDs."""
    width = max((len(r) for r in rows), default=0)
    counts = [0] * width
    for row in rows:
        for c, cell in enumerate(row):
            if cell and _cell_id(cell)[0]:
                counts[c] += 1
    if not counts or max(counts) == 0:
        return None
    id_col = counts.index(max(counts))
    first = next(i for i, row in enumerate(rows) if id_col < len(row) and _cell_id(row[id_col])[0])
    header_rows = _header_rows(rows, first)
    headers: list[str] = []
    for c in range(width):
        parts: list[str] = []
        for r in header_rows:
            label = unicodedata.normalize("NFKC", r[c]).strip() if c < len(r) else ""
            if label and label not in parts:
                parts.append(label)
        headers.append(" / ".join(parts))

    text_col = _text_column(rows[first:], headers, id_col, width)
    table = ParsedTable(id_column=id_col, text_column=text_col, headers=headers, sheet=sheet)
    for i in range(first, len(rows)):
        row = list(rows[i])
        if not any(cell.strip() for cell in row):
            continue
        rownum = i + 1
        joined = " | ".join(cell for cell in row if cell)[:200]
        cid, inline = _cell_id(row[id_col]) if id_col < len(row) else (None, "")
        if cid is None:
            what = row[id_col] if id_col < len(row) and row[id_col] else ""
            reason = f"not a control ID: {what!r}" if what else "no control ID in the ID column"
            table.unparsed.append(UnparsedRow(rownum, joined, reason))
            continue
        text = row[text_col].strip() if text_col is not None and text_col < len(row) else ""
        if not text or normalize_id(text) == cid:
            others = [cell for c, cell in enumerate(row) if c != id_col and cell and not _cell_id(cell)[0]]
            text = inline or max(others, key=len, default="")
        if not text:
            table.unparsed.append(UnparsedRow(rownum, joined, f"{cid}: no control text"))
            continue
        table.entries.append((rownum, cid, " ".join(text.split())))
    return table


def _header_rows(rows: Sequence[Sequence[str]], first: int) -> list[Sequence[str]]:
    """The header block above row index ``first``: walking up over blank rows, every row with at least two
    different labels (a title or a note above the table has one, even when merged across it)."""
    out: list[Sequence[str]] = []
    for i in range(first - 1, max(-1, first - 1 - _MAX_HEADER_ROWS), -1):
        labels = {cell.strip() for cell in rows[i] if cell.strip()}
        if not labels:
            continue
        if len(labels) < 2:
            break
        out.insert(0, rows[i])
    return out


def _text_column(data: Sequence[Sequence[str]], headers: list[str], id_col: int, width: int) -> int | None:
    for word in TEXT_HEADERS:
        for c, label in enumerate(headers):
            if c != id_col and word in label.lower():
                return c
    lengths = [0] * width
    for row in data:
        for c, cell in enumerate(row):
            if c != id_col:
                lengths[c] += len(cell)
    best = max(range(width), key=lambda c: lengths[c], default=None)
    return best if best is not None and lengths[best] else None


def parse_file(path: Path) -> ParsedTable:
    """Read ``path`` and parse its best sheet (most control IDs). Raises :class:`InputError` when no sheet
    holds a column of control IDs."""
    best: ParsedTable | None = None
    for name, rows in read_sheets(path):
        table = parse_rows(rows, name)
        if table is not None and (best is None or len(table.entries) > len(best.entries)):
            best = table
    if best is None or not best.entries:
        raise InputError("no column of ISMAP control IDs (e.g. 5.1.1, 9.4.2.2.B) found", file=path)
    return best


# ------------------------------------------------------------------------------------------ building


def _level(cid: str) -> tuple[str, str]:
    """(part, level) of an ID from its shape: chapters 3 and 4 are governance / management criteria
    (part → heading → item), chapters 5-18 the controls criteria (clause → category → objective →
    detailed)."""
    nums = [p for p in cid.split(".") if p.isdigit()]
    part = _PART_OF.get(nums[0], "controls")
    if part != "controls":
        return part, ("part", "heading", "heading", "item", "item")[len(nums) - 1]
    return part, ("clause", "category", "objective", "detailed", "detailed")[len(nums) - 1]


def _parent_candidates(cid: str) -> list[str]:
    nums = [p for p in cid.split(".") if p.isdigit()]
    if len(nums) == 1:
        return []
    prefix = ".".join(nums[:-1])
    return [prefix, f"{prefix}.P"]


def build_imported(
    table: ParsedTable, base: Catalog, version: str, source: str
) -> tuple[dict[str, Any], list[str], list[str], list[str], list[UnparsedRow]]:
    """The new ``catalog.yaml`` document from ``table`` over ``base``; also (confirmed, added, lacking IDs,
    unparsed rows including duplicates and orphans)."""
    unparsed = list(table.unparsed)
    seen: dict[str, int] = {}
    texts: dict[str, tuple[int, str]] = {}
    for rownum, cid, text in table.entries:
        if cid in seen:
            unparsed.append(UnparsedRow(rownum, f"{cid} | {text[:150]}", f"duplicate of row {seen[cid]}"))
            continue
        seen[cid] = rownum
        texts[cid] = (rownum, text)

    controls = {c.id: c.to_dict() for c in base}
    for d in controls.values():
        d["confirmed"] = None
    added: list[str] = []
    # Parents first, so a new detailed control can hang under a new objective of the same table.
    for cid in sorted(texts, key=id_sort_key):
        rownum, text = texts[cid]
        if cid in controls:
            controls[cid]["confirmed"] = True
            controls[cid]["title"] = {"en": controls[cid]["title"]["en"], "ja": text}
            continue
        part, level = _level(cid)
        candidates = _parent_candidates(cid)
        parent = next((p for p in candidates if p in controls), None)
        if candidates and parent is None:
            unparsed.append(
                UnparsedRow(
                    rownum,
                    f"{cid} | {text[:150]}",
                    f"parent {candidates[0]} is neither in the table nor in catalog {base.version}",
                )
            )
            continue
        suffix = cid.rsplit(".", 1)[-1]
        controls[cid] = {
            "id": cid,
            "part": part,
            "level": level,
            "parent": parent,
            "title": {"en": "", "ja": text},
            "basic_statement_requirement": suffix in ("B", "PB"),
            "cloud_specific": suffix in ("P", "PB"),
            "edition": version,
            "source": f"{source}#row{rownum}",
            "confirmed": True,
        }
        added.append(cid)

    covered = {(d["part"], d["level"]) for cid, d in controls.items() if d["confirmed"]}
    lacking: list[str] = []
    for cid, d in controls.items():
        if d["confirmed"] is None and (d["part"], d["level"]) in covered:
            d["confirmed"] = False
            lacking.append(cid)
    out_controls = []
    for d in controls.values():
        if d["confirmed"] is None:
            del d["confirmed"]
        out_controls.append(d)
    confirmed = [cid for cid in controls if controls[cid].get("confirmed") is True and cid not in added]
    doc = {
        "version": version,
        "source": f"ISMAP Attached Table 3 (official full table) imported from {source} over catalog {base.version}",
        "ja_titles": "official",
        "note": (
            "Japanese titles of confirmed controls are the official table's text; English titles are this "
            f"project's paraphrases from catalog {base.version} (empty for controls only the table has)."
        ),
        "base": base.version,
        "imported": {},
        "controls": out_controls,
    }
    return doc, confirmed, added, lacking, sorted(unparsed, key=lambda u: u.row)


def import_table(
    path: str | Path, version: str, *, base_version: str = DEFAULT_VERSION, force: bool = False
) -> ImportReport:
    """Parse the official table at ``path`` and install it as catalog ``version`` in
    :func:`~ismap_scan.ismap.catalog.installed_catalogs_dir`, with the base version's check map.

    Raises :class:`InputError` when ``version`` is bundled, already installed (unless ``force``), not a
    valid name, or when the file has no control IDs; the installed folder is validated by loading it and
    removed again if that fails. Nothing is half-written: the folder is built aside and moved in place.
    """
    path = Path(path)
    check_version_name(version)
    if is_bundled(version):
        raise InputError(f"catalog version {version} is bundled and cannot be replaced; choose another name")
    dest = installed_catalogs_dir() / version
    if dest.exists() and not force:
        raise InputError(
            f"catalog version {version} is already installed at {dest} (use --force to replace it)"
        )
    if not path.is_file():
        raise InputError("file not found", file=path)
    base = load_catalog(base_version)
    check_map = load_check_map(base_version, catalog=base)
    table = parse_file(path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    doc, confirmed, added, lacking, unparsed = build_imported(table, base, version, path.name)
    id_header = table.headers[table.id_column] if table.id_column < len(table.headers) else ""
    text_header = table.headers[table.text_column] if table.text_column is not None else ""
    doc["imported"] = {
        "file": path.name,
        "sha256": digest,
        "sheet": table.sheet,
        "imported_at": utc_now(),
        "id_column": id_header,
        "text_column": text_header,
        "rows": len(table.entries),
        "confirmed": len(confirmed),
        "added": added,
        "lacking": lacking,
        "unparsed": [u.to_dict() for u in unparsed],
    }
    checks_doc = {
        "catalog": version,
        "checks": {
            cid: [{"control": r.id, "coverage": r.coverage} for r in refs] for cid, refs in check_map.items()
        },
    }
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp_root = Path(tempfile.mkdtemp(prefix=f".{version}.", dir=dest.parent))
    tmp = tmp_root / version
    tmp.mkdir()
    try:
        header = f"# Installed by `ismap-scan catalog import {path.name} --version {version}`; do not edit.\n"
        (tmp / CATALOG_FILE).write_text(
            header + yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=120), encoding="utf-8"
        )
        (tmp / CHECK_MAP_FILE).write_text(
            header + yaml.safe_dump(checks_doc, allow_unicode=True, sort_keys=False), encoding="utf-8"
        )
        checkable = version_dir(base_version) / CHECKABLE_FILE
        if checkable.is_file():
            text = checkable.read_text(encoding="utf-8")
            (tmp / CHECKABLE_FILE).write_text(
                text.replace(f'catalog: "{base_version}"', f'catalog: "{version}"'), encoding="utf-8"
            )
        # Validate before anything replaces an old copy (from the in-memory document: re-parsing the YAML
        # written above would cost a second for nothing).
        imported = catalog_from_doc(doc, tmp / CATALOG_FILE, version)
        load_check_map(version, tmp_root, catalog=imported)
        if dest.exists():
            shutil.rmtree(dest)
        tmp.rename(dest)
    finally:
        shutil.rmtree(tmp_root, ignore_errors=True)
    return ImportReport(
        version=version,
        base=base.version,
        folder=dest,
        source=str(path),
        sheet=table.sheet,
        id_header=id_header,
        text_header=text_header,
        rows=len(table.entries),
        confirmed=confirmed,
        added=added,
        lacking=lacking,
        unparsed=unparsed,
    )
