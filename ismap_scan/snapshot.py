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


#: Longest snapshot line read (bytes, uncompressed): a resource record is kilobytes, a large IAM policy set
#: a few megabytes. Lines are read with this limit, so a gzip of one endless line cannot exhaust memory.
MAX_LINE_BYTES = 64 << 20


def read_snapshot(path: str | Path) -> tuple[list[Resource], FileDigest]:
    """Read a snapshot (gzip or plain JSON Lines) and the digest of its lines.

    Raises :class:`InputError` naming the file and line for unreadable files, bad gzip, bad JSON, JSON
    nested too deeply, a line over :data:`MAX_LINE_BYTES`, a record with a missing or wrongly typed field
    (:meth:`Resource.from_dict`), two records for the same (provider, account, region, type, id), and a
    snapshot with no records at all (an empty file is a failed collection, never "nothing to check").
    """
    path = Path(path)
    if not path.is_file():
        raise InputError("snapshot not found", file=path)
    resources: list[Resource] = []
    first_line: dict[tuple[str, str, str, str, str], int] = {}
    digest = hashlib.sha256()
    size = 0
    opener: Any = gzip.open if _is_gzip(path) else open
    lineno = 0
    try:
        with opener(path, "rb") as fh:
            while raw := fh.readline(MAX_LINE_BYTES + 1):
                lineno += 1
                if len(raw) > MAX_LINE_BYTES:
                    raise InputError(
                        f"line is longer than {MAX_LINE_BYTES} bytes: not a snapshot record",
                        file=path,
                        line=lineno,
                    )
                digest.update(raw)
                size += len(raw)
                if not raw.strip():
                    continue
                resource = _parse_record(raw, path, lineno)
                key = resource.sort_key()
                if key in first_line:
                    raise InputError(
                        f"duplicate record: {resource.provider} {resource.account} {resource.region} "
                        f"{resource.type} {resource.id} is also on line {first_line[key]}",
                        file=path,
                        line=lineno,
                    )
                first_line[key] = lineno
                resources.append(resource)
    except (OSError, EOFError, zlib.error) as exc:
        raise InputError(
            f"cannot read snapshot (truncated or not gzip?): {exc}", file=path, line=lineno or None
        ) from None
    if not resources:
        raise InputError(
            "no records: the snapshot is empty (a collection that saw nothing still writes scope records)",
            file=path,
        )
    return resources, FileDigest(digest.hexdigest(), len(resources), size)


def _parse_record(raw: bytes, path: Path, lineno: int) -> Resource:
    """One snapshot line to a :class:`Resource`; :class:`InputError` with ``path:lineno`` otherwise."""
    try:
        obj = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"not a JSON object: {exc}", file=path, line=lineno) from None
    except RecursionError:
        raise InputError("JSON nested too deeply", file=path, line=lineno) from None
    if not isinstance(obj, dict):
        raise InputError("expected a JSON object (one resource per line)", file=path, line=lineno)
    try:
        return Resource.from_dict(obj)
    except KeyError as exc:
        raise InputError(
            f"not a snapshot record: missing or bad field {exc}", file=path, line=lineno
        ) from None
    except (TypeError, ValueError) as exc:
        raise InputError(f"not a snapshot record: {exc}", file=path, line=lineno) from None


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
    """The ``manifest.json`` in the snapshot's folder, or ``None`` when there is none.

    Its shape is checked once here so callers can use it directly: the keys they read (``snapshot``,
    ``check_pack``, ``scope`` objects; ``provider_failures`` an object; ``unseen`` a list of strings;
    ``scan_id``, ``catalog_version``, ``started_at``, ``finished_at`` strings; ``demo`` a boolean) have
    those types when present. Raises :class:`InputError` if unreadable or wrongly shaped.
    """
    mpath = snapshot_path.parent / MANIFEST_FILE
    if not mpath.is_file():
        return None
    try:
        obj = json.loads(mpath.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"cannot read manifest: {exc}", file=mpath) from None
    except RecursionError:
        raise InputError("cannot read manifest: JSON nested too deeply", file=mpath) from None
    if not isinstance(obj, dict):
        raise InputError("manifest is not a JSON object", file=mpath)
    problems = [
        f"{key!r} must be {what}"
        for key, (kind, what) in _MANIFEST_SHAPE.items()
        if obj.get(key) is not None and not isinstance(obj[key], kind)
    ]
    unseen = obj.get("unseen")
    if isinstance(unseen, list) and not all(isinstance(x, str) for x in unseen):
        problems.append("'unseen' must be a list of strings")
    failures = obj.get("provider_failures")
    if isinstance(failures, dict) and not all(isinstance(v, str) for v in failures.values()):
        problems.append("'provider_failures' must map provider names to reason strings")
    snap = obj.get("snapshot")
    if isinstance(snap, dict) and snap.get("sha256") is not None and not isinstance(snap["sha256"], str):
        problems.append("'snapshot.sha256' must be a string")
    if problems:
        raise InputError(f"manifest is not an ismap-scan manifest: {'; '.join(problems)}", file=mpath)
    return obj


#: Keys of a scan folder's manifest that readers use, with their JSON type (DESIGN §1).
_MANIFEST_SHAPE: dict[str, tuple[type | tuple[type, ...], str]] = {
    "scan_id": (str, "a string"),
    "catalog_version": (str, "a string"),
    "started_at": (str, "a string"),
    "finished_at": (str, "a string"),
    "snapshot": (dict, "an object"),
    "check_pack": (dict, "an object"),
    "scope": (dict, "an object"),
    "provider_failures": (dict, "an object"),
    "unseen": (list, "a list"),
    "demo": (bool, "a boolean"),
}
