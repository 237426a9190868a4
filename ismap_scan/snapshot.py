"""Snapshots (``snapshot.jsonl.gz``), results files and the scan folder's ``manifest.json`` (DESIGN §1, §3).

A snapshot is gzip-compressed JSON Lines, one canonical line per resource (keys sorted, UTF-8, no spaces),
sorted by (provider, account, region, type, id). The manifest records the SHA-256 of the *uncompressed*
canonical lines, so the hash does not depend on gzip settings.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import secrets
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .errors import InputError
from .model import Resource, Result, canonical_json

SNAPSHOT_FILE = "snapshot.jsonl.gz"
RESULTS_FILE = "results.jsonl"
MANIFEST_FILE = "manifest.json"
CONTROLS_FILE = "controls.json"
MANIFEST_SCHEMA = "ismap-scan/manifest/v1"


def utc_now() -> str:
    """Now as ISO 8601 UTC with a ``Z`` suffix, to the second."""
    return datetime.now(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_scan_id(now: datetime | None = None) -> str:
    """A scan ID that sorts by time: ``20261130T010203Z-<6 hex>`` (the suffix keeps same-second scans apart)."""
    now = now or datetime.now(UTC)
    return f"{now.strftime('%Y%m%dT%H%M%SZ')}-{secrets.token_hex(3)}"


@dataclass(frozen=True)
class FileDigest:
    """What the manifest says of a written file: SHA-256 hex of its canonical content, line count, bytes."""

    sha256: str
    lines: int
    bytes: int


def write_snapshot(path: Path, resources: Iterable[Resource]) -> FileDigest:
    """Write ``resources`` sorted and canonical to ``path`` (gzip, mtime 0 so equal input gives equal bytes).

    Returns the digest of the uncompressed lines. Written to a temporary name and renamed, so a killed
    scan never leaves a half-written snapshot under the real name.
    """
    ordered = sorted(resources, key=Resource.sort_key)
    digest = hashlib.sha256()
    size = 0
    tmp = path.with_name(path.name + ".part")
    with open(tmp, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz:
        for r in ordered:
            line = (canonical_json(r.to_dict()) + "\n").encode("utf-8")
            digest.update(line)
            size += len(line)
            gz.write(line)
    os.replace(tmp, path)
    return FileDigest(digest.hexdigest(), len(ordered), size)


def read_snapshot(path: str | Path) -> tuple[list[Resource], FileDigest]:
    """Read a snapshot (gzip or plain JSON Lines) and the digest of its lines.

    Raises :class:`InputError` naming the file and line for unreadable files, bad gzip, bad JSON or a record
    missing required fields.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError("snapshot not found", file=path)
    resources: list[Resource] = []
    digest = hashlib.sha256()
    size = 0
    opener: Any = gzip.open if _is_gzip(path) else open
    lineno = 0
    try:
        with opener(path, "rb") as fh:
            for lineno, raw in enumerate(fh, start=1):
                digest.update(raw)
                size += len(raw)
                if not raw.strip():
                    continue
                try:
                    obj = json.loads(raw)
                except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                    raise InputError(f"not a JSON object: {exc}", file=path, line=lineno) from None
                if not isinstance(obj, dict):
                    raise InputError("expected a JSON object (one resource per line)", file=path, line=lineno)
                try:
                    resources.append(Resource.from_dict(obj))
                except (KeyError, TypeError, ValueError) as exc:
                    raise InputError(
                        f"not a snapshot record: missing or bad field {exc}", file=path, line=lineno
                    ) from None
    except (OSError, EOFError, zlib.error) as exc:
        raise InputError(
            f"cannot read snapshot (truncated or not gzip?): {exc}", file=path, line=lineno or None
        ) from None
    return resources, FileDigest(digest.hexdigest(), len(resources), size)


def _is_gzip(path: Path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(2) == b"\x1f\x8b"


def write_results(path: Path, results: Iterable[Result]) -> FileDigest:
    """Write results as canonical JSON Lines in the order given (callers sort them)."""
    digest = hashlib.sha256()
    n = size = 0
    tmp = path.with_name(path.name + ".part")
    with open(tmp, "wb") as fh:
        for res in results:
            line = (canonical_json(res.to_dict()) + "\n").encode("utf-8")
            digest.update(line)
            fh.write(line)
            n += 1
            size += len(line)
    os.replace(tmp, path)
    return FileDigest(digest.hexdigest(), n, size)


def write_json(path: Path, obj: Any) -> None:
    """Write pretty, key-sorted UTF-8 JSON atomically (manifest, controls)."""
    tmp = path.with_name(path.name + ".part")
    tmp.write_text(json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 16), b""):
            h.update(chunk)
    return h.hexdigest()


def read_manifest_beside(snapshot_path: Path) -> dict[str, Any] | None:
    """The ``manifest.json`` in the snapshot's folder, or ``None``. Raises :class:`InputError` if unreadable."""
    mpath = snapshot_path.parent / MANIFEST_FILE
    if not mpath.is_file():
        return None
    try:
        obj = json.loads(mpath.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"cannot read manifest: {exc}", file=mpath) from None
    if not isinstance(obj, dict):
        raise InputError("manifest is not a JSON object", file=mpath)
    return obj
