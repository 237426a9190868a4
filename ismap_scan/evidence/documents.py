"""Content-addressed, zlib-compressed JSON documents in the ``documents`` table (migration 0002).

Why: a night's results are mostly last night's results. Stored whole per row (0001), 30 scans of a
500-resource estate took 160 MB of SQLite. A result's only nightly change is its ``collected_at``, and a
control status's only nightly change is its ``last_evaluated``; with that time kept in a column of the row,
the rest is a document shared by every scan that produced the same text.

Exactness: ``results.jsonl`` lines are canonical JSON (``model.canonical_json``), and the manifest hashes
those exact lines. A line is split only when re-joining gives it back byte for byte; any other line is
stored whole (time column ``NULL``). A document's ``sha256`` is the SHA-256 of its uncompressed UTF-8 text,
so a body edited in place is caught by re-hashing (:func:`load_documents`).
"""

from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from ..model import canonical_json
from .schema import documents

RESULT_TIME_KEY = "collected_at"
CONTROL_TIME_KEY = "last_evaluated"
_BATCH = 500


def split_result(line: str, parsed: Mapping[str, Any]) -> tuple[str, str | None]:
    """``(document text, collected_at)`` for a ``results.jsonl`` line; ``(line, None)`` when the line is not
    canonical JSON or has no string ``collected_at`` (stored whole, so it is still given back exactly)."""
    at = parsed.get(RESULT_TIME_KEY)
    if isinstance(at, str) and canonical_json(parsed) == line:
        return canonical_json({k: v for k, v in parsed.items() if k != RESULT_TIME_KEY}), at
    return line, None


def join_result(text: str, collected_at: str | None) -> str:
    """The exact ``results.jsonl`` line (without newline) :func:`split_result` was given."""
    if collected_at is None:
        return text
    obj = json.loads(text)
    obj[RESULT_TIME_KEY] = collected_at
    return canonical_json(obj)


def split_control(status: Mapping[str, Any]) -> tuple[str, str | None]:
    """``(document text, last_evaluated)`` for a control status dict (``controls.json`` entry)."""
    at = status.get(CONTROL_TIME_KEY)
    if isinstance(at, str):
        return canonical_json({k: v for k, v in status.items() if k != CONTROL_TIME_KEY}), at
    return canonical_json(status), None


def join_control(text: str, last_evaluated: str | None) -> dict[str, Any]:
    """The control status dict (keys sorted, as canonical JSON parses back) :func:`split_control` was given."""
    obj: dict[str, Any] = json.loads(text)
    if last_evaluated is not None:
        obj[CONTROL_TIME_KEY] = last_evaluated
    return dict(sorted(obj.items()))


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def put_documents(conn: Connection, texts: Iterable[str]) -> dict[str, int]:
    """Store every text not stored yet; return ``sha256 → documents.id`` for all of them.

    Existing documents are looked up first, so an unchanged result costs no compression and no write.
    Inserts skip a document another writer stored meanwhile (``ON CONFLICT DO NOTHING`` on the SHA-256).
    """
    by_sha = {text_sha256(t): t for t in texts}
    ids = _ids_of(conn, by_sha)
    missing = [sha for sha in by_sha if sha not in ids]
    if missing:
        from sqlalchemy.dialects import postgresql, sqlite

        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        for i in range(0, len(missing), _BATCH):
            rows = []
            for sha in missing[i : i + _BATCH]:
                raw = by_sha[sha].encode("utf-8")
                rows.append({"sha256": sha, "bytes": len(raw), "body": zlib.compress(raw, 6)})
            stmt: Any = dialect.insert(documents).values(rows)
            conn.execute(stmt.on_conflict_do_nothing(index_elements=["sha256"]))
        ids.update(_ids_of(conn, dict.fromkeys(missing, "")))
    return ids


def _ids_of(conn: Connection, shas: Mapping[str, str]) -> dict[str, int]:
    keys = list(shas)
    out: dict[str, int] = {}
    for i in range(0, len(keys), _BATCH):
        part = keys[i : i + _BATCH]
        for sha, pk in conn.execute(
            select(documents.c.sha256, documents.c.id).where(documents.c.sha256.in_(part))
        ):
            out[sha] = int(pk)
    return out


def insert_document_row(conn: Connection, text: str) -> int:
    """Store one text (tests and migrations use this to add a single document); return its id."""
    return put_documents(conn, [text])[text_sha256(text)]


def load_documents(conn: Connection, ids: Iterable[int]) -> tuple[dict[int, str], list[str]]:
    """``(id → text, problems)`` for the given document ids. A document whose body does not decompress, or
    no longer hashes to its ``sha256``, is left out and named in ``problems``."""
    wanted = sorted(set(ids))
    texts: dict[int, str] = {}
    problems: list[str] = []
    found: set[int] = set()
    for i in range(0, len(wanted), _BATCH):
        part = wanted[i : i + _BATCH]
        stmt = select(documents.c.id, documents.c.sha256, documents.c.body).where(documents.c.id.in_(part))
        for pk, sha, body in conn.execute(stmt):
            found.add(int(pk))
            try:
                text = zlib.decompress(bytes(body)).decode("utf-8")
            except (zlib.error, UnicodeDecodeError) as exc:
                problems.append(f"stored document {sha[:12]} is damaged ({exc})")
                continue
            if text_sha256(text) != sha:
                problems.append(f"stored document {sha[:12]} was changed: it no longer hashes to its SHA-256")
                continue
            texts[int(pk)] = text
    problems += [f"stored document #{pk} is missing" for pk in sorted(set(wanted) - found)]
    return texts, problems
