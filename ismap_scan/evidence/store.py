"""The evidence store (DESIGN §6): every scan, chained per scope, in SQLite (default) or PostgreSQL.

What a stored scan is: a row in ``scans`` holding the **evidence manifest** (canonical JSON: scope, tool
version, check-pack hash, catalog version, times, the snapshot's and results' SHA-256, the previous manifest's
SHA-256 for the same scope), its SHA-256 and, when a key is configured, its Ed25519 signature; the results and
control statuses as rows; the snapshot (``snapshot.jsonl.gz`` as written by the scan) and the check pack as
content-addressed files (:mod:`.blobs`).

Writes are atomic: the blobs are written first (content-addressed, so an orphan is harmless), then one
database transaction appends the scan, its rows, the finding history and the new chain head. A killed
writer leaves either the whole scan or none of it. The chain head row of the scope is locked for the whole
transaction (``SELECT ... FOR UPDATE`` on PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite), so two concurrent
scans of one scope append one after the other instead of both pointing at the same predecessor.

Test hooks (environment, for the crash and concurrency tests only): ``ISMAP_SCAN_TEST_KILL_AT=<step>`` sends
SIGKILL to the writing process at that step (``after_blobs``, ``after_scan_row``, ``after_results``,
``before_commit``); ``ISMAP_SCAN_TEST_HOLD_LOCK=<seconds>`` sleeps while holding the chain-head lock.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import signal
import time
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, func, insert, select, update
from sqlalchemy.engine import Connection, make_url

from .. import __version__
from ..engine.loader import check_pack_files
from ..errors import InputError, IsmapScanError
from ..model import RESULT_IDENTITY_FIELDS, Verdict, canonical_json
from . import location, signing
from .blobs import BlobStore
from .documents import (
    join_control,
    join_result,
    load_documents,
    put_documents,
    split_control,
    split_result,
    text_sha256,
)
from .schema import chain_heads, check_packs, control_statuses, documents, findings, results, scans

EVIDENCE_MANIFEST_SCHEMA = "ismap-scan/evidence-manifest/v1"
KILL_ENV = "ISMAP_SCAN_TEST_KILL_AT"
HOLD_ENV = "ISMAP_SCAN_TEST_HOLD_LOCK"
_BATCH = 1000


class StoreError(IsmapScanError):
    """The store cannot be opened or written (exit 1): the scan's evidence was not kept."""

    exit_code = 1


def _test_hook(step: str) -> None:
    """Crash or pause at ``step`` when a test asks for it through the environment (see module docstring)."""
    if os.environ.get(KILL_ENV) == step:
        os.kill(os.getpid(), signal.SIGKILL)
    hold = os.environ.get(HOLD_ENV)
    if hold and step == "locked":
        time.sleep(float(hold))


def normalize_url(url: str) -> str:
    """``postgresql://`` and ``postgres://`` become ``postgresql+psycopg://`` (psycopg 3); others unchanged.

    Raises :class:`InputError` for a scheme other than SQLite or PostgreSQL.
    """
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    if not url.startswith(("sqlite:", "postgresql+")):
        raise InputError(
            f"--store: unsupported URL {safe_url(url)!r} (use sqlite:///PATH or postgresql://...)"
        )
    return url


def safe_url(url: str) -> str:
    """The URL with any password hidden, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<unparsable URL>"


def scope_key_of(scope: Mapping[str, Any]) -> str:
    """The chain's scope: ``"aws:111122223333"``, accounts of every provider, sorted and comma-joined.

    Regions are left out on purpose: a scan of fewer regions of the same accounts continues the same chain.
    """
    parts = [f"{p}:{a}" for p, accts in sorted((scope.get("accounts") or {}).items()) for a in sorted(accts)]
    return ",".join(parts) or "empty"


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def manifest_bytes(manifest: Mapping[str, Any]) -> bytes:
    """The canonical bytes a manifest is hashed and signed over."""
    return canonical_json(manifest).encode("utf-8")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def lines_sha256(lines: Iterable[str]) -> str:
    """SHA-256 of JSON lines joined with ``\\n`` (each line terminated), as ``results.jsonl`` is written."""
    h = hashlib.sha256()
    for line in lines:
        h.update(line.encode("utf-8") + b"\n")
    return h.hexdigest()


def snapshot_lines_sha256(gz_bytes: bytes) -> str:
    """SHA-256 of a snapshot's uncompressed lines (the manifest's snapshot hash, independent of gzip)."""
    return sha256_hex(gzip.decompress(gz_bytes))


def check_pack_archive(check_dirs: Sequence[Path], mappings_dir: Path | None) -> bytes:
    """A deterministic zip of the check pack: ``checks/`` (the first folder), ``checks1/``... and ``mappings/``.

    Same labels and file filter as :meth:`~ismap_scan.engine.CheckSet.pack_hash`, so the archive, once
    unpacked, hashes to the pack hash the scan recorded. Fixed timestamps: equal packs give equal bytes.
    """
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, path in check_pack_files(check_dirs, mappings_dir):
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, path.read_bytes())
    return buf.getvalue()


@dataclass(frozen=True)
class StoredScan:
    """What :meth:`EvidenceStore.store_scan` appended: the scan's place in its scope's chain."""

    scan_id: str
    scope_key: str
    seq: int
    manifest_sha256: str
    prev_manifest_sha256: str | None
    signed: bool
    key_id: str | None


@dataclass
class ScanRow:
    """One stored scan as read back (the ``scans`` row, manifest parsed)."""

    pk: int
    scan_id: str
    scope_key: str
    seq: int
    kind: str
    demo: bool
    started_at: str
    finished_at: str
    stored_at: str
    tool_version: str
    check_pack_sha256: str | None
    catalog_version: str
    snapshot_sha256: str
    snapshot_blob: str
    snapshot_records: int
    snapshot_pruned_at: str | None
    results_count: int
    pass_count: int
    fail_count: int
    error_count: int
    manifest_json: str
    manifest_sha256: str
    prev_manifest_sha256: str | None
    signature: str | None
    key_id: str | None

    @property
    def manifest(self) -> dict[str, Any]:
        obj: dict[str, Any] = json.loads(self.manifest_json)
        return obj

    def summary(self) -> dict[str, Any]:
        """JSON-able summary used by ``history --format json``."""
        return {
            "scan_id": self.scan_id,
            "scope": self.scope_key,
            "seq": self.seq,
            "kind": self.kind,
            "demo": self.demo,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "stored_at": self.stored_at,
            "tool_version": self.tool_version,
            "catalog_version": self.catalog_version,
            "check_pack_sha256": self.check_pack_sha256,
            "snapshot_records": self.snapshot_records,
            "snapshot_pruned_at": self.snapshot_pruned_at,
            "results": self.results_count,
            "pass": self.pass_count,
            "fail": self.fail_count,
            "error": self.error_count,
            "manifest_sha256": self.manifest_sha256,
            "prev_manifest_sha256": self.prev_manifest_sha256,
            "signed": self.signature is not None,
            "key_id": self.key_id,
        }


@dataclass
class LinkReport:
    """Verification of one chain link: ``problems`` empty means intact; ``signature`` is ``"valid"``,
    ``"invalid"``, ``"unverified"`` (signed, no trusted key given) or ``"unsigned"``."""

    scan_id: str
    seq: int
    problems: list[str] = field(default_factory=list)
    signature: str = "unsigned"
    notes: list[str] = field(default_factory=list)


@dataclass
class ChainReport:
    """Verification of a scope's chain; :attr:`first_broken` names the first link with a problem."""

    scope_key: str
    links: list[LinkReport] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and all(not link.problems for link in self.links)

    @property
    def first_broken(self) -> LinkReport | None:
        return next((link for link in self.links if link.problems), None)


class EvidenceStore:
    """A store at ``url`` (SQLAlchemy URL) with its blobs under ``blob_root``.

    Opening migrates the schema to the newest version. Raises :class:`StoreError` when the database cannot
    be reached or migrated, :class:`InputError` for an unsupported URL.
    """

    def __init__(self, url: str | None = None, blob_root: Path | None = None) -> None:
        self.url = normalize_url(url or location.default_store_url())
        if blob_root is None:
            blob_root = self._default_blob_root()
        self.blobs = BlobStore(blob_root)
        self.engine = self._make_engine(self.url)
        try:
            from .migrate import upgrade

            upgrade(self.engine)
        except Exception as exc:
            self.engine.dispose()
            raise StoreError(
                f"cannot open evidence store {safe_url(self.url)}: {type(exc).__name__}: {exc}"
            ) from exc

    def _default_blob_root(self) -> Path:
        """SQLite: ``blobs/`` beside the database file; otherwise the data directory's ``blobs/``."""
        parsed = make_url(self.url)
        if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
            return Path(parsed.database).expanduser().resolve().parent / "blobs"
        return location.blob_dir()

    @staticmethod
    def _make_engine(url: str) -> Engine:
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite":
            if parsed.database and parsed.database != ":memory:":
                Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(url, connect_args={"timeout": 60})

            # pysqlite opens transactions lazily and never with IMMEDIATE; take the write lock at BEGIN so
            # the chain head read and the append happen under one lock (SQLAlchemy's documented recipe).
            @event.listens_for(engine, "connect")
            def _on_connect(dbapi_conn: Any, _record: Any) -> None:
                dbapi_conn.isolation_level = None
                dbapi_conn.execute("PRAGMA foreign_keys=ON")

            @event.listens_for(engine, "begin")
            def _on_begin(conn: Connection) -> None:
                conn.exec_driver_sql("BEGIN IMMEDIATE")

            return engine
        return create_engine(url, pool_pre_ping=True)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> EvidenceStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ writing

    def store_scan(
        self,
        folder: Path,
        *,
        check_dirs: Sequence[Path] = (),
        mappings_dir: Path | None = None,
        selection: Mapping[str, Any] | None = None,
        sign_key: Path | None = None,
        assertion: Path | None = None,
    ) -> StoredScan:
        """Append the scan in ``folder`` (``manifest.json``, ``snapshot.jsonl.gz``, ``results.jsonl``,
        ``controls.json``) to its scope's chain.

        ``check_dirs``/``mappings_dir``: the check pack the scan used (archived so a bundle can re-evaluate);
        ``selection``: ``{"check_ids": [...], "params": {check_id: {param: value}}}`` in force. ``sign_key``:
        Ed25519 private key that signs the manifest. ``assertion``: the statement (``assertion.yaml``) the
        control roll-up used, archived so a bundle can reproduce the control statuses. Raises :class:`InputError` for a folder that is not a
        complete scan and :class:`StoreError` when the write fails (nothing of the scan is then stored).
        """
        folder = Path(folder)
        scan_manifest = _read_json(folder / "manifest.json")
        snap_path = folder / "snapshot.jsonl.gz"
        if not snap_path.is_file():
            raise InputError("scan folder has no snapshot.jsonl.gz", file=folder)
        snap_gz = snap_path.read_bytes()
        snap_sha = snapshot_lines_sha256(snap_gz)
        declared = (scan_manifest.get("snapshot") or {}).get("sha256")
        if declared and declared != snap_sha:
            raise InputError("snapshot does not match the SHA-256 in manifest.json", file=snap_path)
        result_lines = _read_lines(folder / "results.jsonl")
        controls_doc = _read_json(folder / "controls.json") if (folder / "controls.json").is_file() else {}
        control_list = list(controls_doc.get("controls") or [])
        key = signing.load_private_key(sign_key) if sign_key else None

        snap_blob = self.blobs.put_bytes(snap_gz)
        pack_blob = None
        if check_dirs:
            pack_blob = self.blobs.put_bytes(check_pack_archive(check_dirs, mappings_dir))
        if assertion is None and (folder / "assertion.yaml").is_file():
            assertion = folder / "assertion.yaml"  # the scan keeps a copy of the statement it used
        assertion_blob = self.blobs.put_file(Path(assertion)) if assertion else None
        _test_hook("after_blobs")

        parsed = [json.loads(line) for line in result_lines]
        counts = {v: 0 for v in Verdict}
        for r in parsed:
            counts[Verdict(r["verdict"])] += 1
        scope = scan_manifest.get("scope") or {}
        scope_key = scope_key_of(scope)
        pack = scan_manifest.get("check_pack") or None
        try:
            with self.engine.begin() as conn:
                head = self._lock_head(conn, scope_key)
                _test_hook("locked")
                seq = int(head["seq"]) + 1
                prev = head["head_manifest_sha256"]
                manifest: dict[str, Any] = {
                    "schema": EVIDENCE_MANIFEST_SCHEMA,
                    "scan_id": scan_manifest["scan_id"],
                    "scope_key": scope_key,
                    "scope": scope,
                    "seq": seq,
                    "prev_manifest_sha256": prev,
                    "kind": scan_manifest.get("kind", "scan"),
                    "demo": bool(scan_manifest.get("demo")),
                    "tool": scan_manifest.get("tool") or {"name": "ismap-scan", "version": __version__},
                    "stored_by": {"name": "ismap-scan", "version": __version__},
                    "check_pack": {**pack, "archive_sha256": pack_blob} if pack else None,
                    "selection": dict(selection or {}),
                    "assertion": (
                        {"file_sha256": assertion_blob, "name": Path(assertion).name}
                        if assertion and assertion_blob
                        else None
                    ),
                    "catalog_version": str(scan_manifest.get("catalog_version", "")),
                    "started_at": scan_manifest.get("started_at", ""),
                    "finished_at": scan_manifest.get("finished_at", ""),
                    "stored_at": _now(),
                    "snapshot": {
                        "sha256": snap_sha,
                        "records": (scan_manifest.get("snapshot") or {}).get("records"),
                        "file_sha256": snap_blob,
                        "bytes": len(snap_gz),
                    },
                    "results": {"sha256": lines_sha256(result_lines), "count": len(result_lines)},
                    "controls": {
                        "sha256": sha256_hex(canonical_json(control_list).encode("utf-8")),
                        "count": len(control_list),
                    },
                    "provider_failures": scan_manifest.get("provider_failures") or {},
                    "scan_folder_manifest_sha256": sha256_hex((folder / "manifest.json").read_bytes()),
                }
                body = manifest_bytes(manifest)
                msha = sha256_hex(body)
                sig = signing.sign(key, body) if key else None
                kid = signing.key_id(key.public_key()) if key else None
                inserted = conn.execute(
                    insert(scans).values(
                        scan_id=manifest["scan_id"],
                        scope_key=scope_key,
                        seq=seq,
                        kind=manifest["kind"],
                        demo=manifest["demo"],
                        started_at=manifest["started_at"],
                        finished_at=manifest["finished_at"],
                        stored_at=manifest["stored_at"],
                        tool_version=str((manifest["tool"] or {}).get("version", "")),
                        check_pack_sha256=(pack or {}).get("sha256"),
                        catalog_version=manifest["catalog_version"],
                        snapshot_sha256=snap_sha,
                        snapshot_blob=snap_blob,
                        snapshot_records=int(manifest["snapshot"]["records"] or 0),
                        results_count=len(parsed),
                        pass_count=counts[Verdict.PASS],
                        fail_count=counts[Verdict.FAIL],
                        error_count=counts[Verdict.ERROR],
                        manifest_json=body.decode("utf-8"),
                        manifest_sha256=msha,
                        prev_manifest_sha256=prev,
                        signature=sig,
                        key_id=kid,
                    )
                ).inserted_primary_key
                assert inserted is not None
                pk = int(inserted[0])
                _test_hook("after_scan_row")
                self._insert_results(conn, pk, parsed, result_lines)
                self._insert_controls(conn, pk, control_list)
                _test_hook("after_results")
                self._update_findings(conn, scope_key, manifest["scan_id"], manifest["started_at"], parsed)
                if pack_blob and pack:
                    self._remember_pack(conn, str(pack["sha256"]), pack_blob)
                conn.execute(
                    update(chain_heads)
                    .where(chain_heads.c.scope_key == scope_key)
                    .values(
                        seq=seq,
                        head_scan_id=manifest["scan_id"],
                        head_manifest_sha256=msha,
                        updated_at=_now(),
                    )
                )
                _test_hook("before_commit")
        except IsmapScanError:
            raise
        except Exception as exc:
            raise StoreError(
                f"scan {scan_manifest.get('scan_id')} was NOT stored in {safe_url(self.url)}: "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        return StoredScan(manifest["scan_id"], scope_key, seq, msha, prev, sig is not None, kid)

    def _lock_head(self, conn: Connection, scope_key: str) -> dict[str, Any]:
        """Create the scope's head row if missing, then lock and return it (held until commit)."""
        from sqlalchemy.dialects import postgresql, sqlite

        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        stmt: Any = dialect.insert(chain_heads).values(scope_key=scope_key, seq=0)
        conn.execute(stmt.on_conflict_do_nothing(index_elements=["scope_key"]))
        row = conn.execute(
            select(chain_heads).where(chain_heads.c.scope_key == scope_key).with_for_update()
        ).one()
        return dict(row._mapping)

    @staticmethod
    def _insert_results(conn: Connection, pk: int, parsed: list[dict[str, Any]], lines: list[str]) -> None:
        """One row per result: finding key, verdict, the shared document and the ``collected_at`` taken out."""
        split = [split_result(line, r) for r, line in zip(parsed, lines, strict=True)]
        ids = put_documents(conn, (text for text, _at in split))
        rows = [
            {
                "scan_pk": pk,
                "finding_key": r["finding_key"],
                "verdict": r["verdict"],
                "doc_id": ids[text_sha256(text)],
                "collected_at": at,
            }
            for r, (text, at) in zip(parsed, split, strict=True)
        ]
        for i in range(0, len(rows), _BATCH):
            conn.execute(insert(results), rows[i : i + _BATCH])

    @staticmethod
    def _insert_controls(conn: Connection, pk: int, control_list: list[dict[str, Any]]) -> None:
        """One row per control status: ID, status, the shared document and the ``last_evaluated`` taken out."""
        split = [split_control(c) for c in control_list]
        ids = put_documents(conn, (text for text, _at in split))
        rows = [
            {
                "scan_pk": pk,
                "control_id": str(c.get("control_id") or c.get("id")),
                "status": str(c.get("status") or c.get("state")),
                "doc_id": ids[text_sha256(text)],
                "last_evaluated": at,
            }
            for c, (text, at) in zip(control_list, split, strict=True)
        ]
        for i in range(0, len(rows), _BATCH):
            conn.execute(insert(control_statuses), rows[i : i + _BATCH])

    @staticmethod
    def _update_findings(
        conn: Connection, scope_key: str, scan_id: str, seen_at: str, parsed: list[dict[str, Any]]
    ) -> None:
        """First seen / last seen / failing since per finding key (DESIGN §4), in the scan's transaction."""
        existing = {
            row.finding_key: row
            for row in conn.execute(
                select(findings.c.finding_key, findings.c.last_verdict, findings.c.failing_since).where(
                    findings.c.scope_key == scope_key
                )
            )
        }
        new_rows: list[dict[str, Any]] = []
        changed: list[dict[str, Any]] = []
        for r in parsed:
            fk, verdict = r["finding_key"], r["verdict"]
            failing = verdict == Verdict.FAIL.value
            old = existing.get(fk)
            if old is None:
                new_rows.append(
                    {
                        "scope_key": scope_key,
                        "finding_key": fk,
                        "check_id": r["check_id"],
                        "resource_id": r["resource_id"],
                        "first_seen_scan": scan_id,
                        "first_seen_at": seen_at,
                        "last_seen_scan": scan_id,
                        "last_seen_at": seen_at,
                        "last_verdict": verdict,
                        "failing_since": seen_at if failing else None,
                        "failing_since_scan": scan_id if failing else None,
                    }
                )
                continue
            keep = failing and old.last_verdict == Verdict.FAIL.value and old.failing_since
            changed.append(
                {
                    "b_fk": fk,
                    "last_seen_scan": scan_id,
                    "last_seen_at": seen_at,
                    "last_verdict": verdict,
                    "failing_since": old.failing_since if keep else (seen_at if failing else None),
                    "keep": bool(keep),
                }
            )
        for i in range(0, len(new_rows), _BATCH):
            conn.execute(insert(findings), new_rows[i : i + _BATCH])
        from sqlalchemy import bindparam

        # Two statements so a continuing failure keeps its failing_since_scan without reading it back.
        for keep in (True, False):
            part = [{k: v for k, v in c.items() if k != "keep"} for c in changed if c["keep"] is keep]
            if not part:
                continue
            values: dict[str, Any] = {
                "last_seen_scan": bindparam("last_seen_scan"),
                "last_seen_at": bindparam("last_seen_at"),
                "last_verdict": bindparam("last_verdict"),
                "failing_since": bindparam("failing_since"),
            }
            if not keep:
                for c in part:
                    c["failing_since_scan"] = scan_id if c["failing_since"] else None
                values["failing_since_scan"] = bindparam("failing_since_scan")
            stmt = (
                update(findings)
                .where(findings.c.scope_key == scope_key)
                .where(findings.c.finding_key == bindparam("b_fk"))
                .values(**values)
            )
            for i in range(0, len(part), _BATCH):
                conn.execute(stmt, part[i : i + _BATCH])

    @staticmethod
    def _remember_pack(conn: Connection, pack_sha: str, blob: str) -> None:
        if conn.execute(
            select(check_packs.c.pack_sha256).where(check_packs.c.pack_sha256 == pack_sha)
        ).first():
            return
        conn.execute(
            insert(check_packs).values(pack_sha256=pack_sha, blob_sha256=blob, bytes=0, stored_at=_now())
        )

    # ------------------------------------------------------------------ reading

    def scopes(self) -> list[str]:
        """Every scope with at least one stored scan, sorted."""
        with self.engine.connect() as conn:
            return [
                r[0] for r in conn.execute(select(scans.c.scope_key).distinct().order_by(scans.c.scope_key))
            ]

    def latest_scope(self) -> str | None:
        """The scope of the most recently stored scan (the default for ``history``/``diff``)."""
        with self.engine.connect() as conn:
            row = conn.execute(select(scans.c.scope_key).order_by(scans.c.id.desc()).limit(1)).first()
        return row[0] if row else None

    def resolve_scope(self, scope: str | None) -> str:
        """``scope`` if stored, else the latest scan's scope. Raises :class:`InputError` when none fits."""
        if scope:
            if scope not in self.scopes():
                raise InputError(
                    f"no stored scans for scope {scope!r} (known: {', '.join(self.scopes()) or 'none'})"
                )
            return scope
        latest = self.latest_scope()
        if latest is None:
            raise InputError(f"the evidence store {safe_url(self.url)} holds no scans yet")
        return latest

    def list_scans(
        self, scope: str | None = None, *, since: str | None = None, until: str | None = None
    ) -> list[ScanRow]:
        """Scans of ``scope`` (all scopes when ``None``) in chain order; ``since``/``until`` bound
        ``started_at`` (ISO 8601 UTC strings, inclusive)."""
        stmt = select(scans).order_by(scans.c.scope_key, scans.c.seq)
        if scope:
            stmt = stmt.where(scans.c.scope_key == scope)
        if since:
            stmt = stmt.where(scans.c.started_at >= since)
        if until:
            stmt = stmt.where(scans.c.started_at <= until)
        with self.engine.connect() as conn:
            return [_scan_row(r) for r in conn.execute(stmt)]

    def get_scan(self, scan_id: str) -> ScanRow:
        """The scan with ``scan_id`` (a unique prefix is enough). Raises :class:`InputError` when unknown."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(scans).where(scans.c.scan_id.startswith(scan_id, autoescape=True)).limit(2)
            ).all()
        if len(rows) != 1:
            raise InputError(f"{'no' if not rows else 'more than one'} stored scan matches {scan_id!r}")
        return _scan_row(rows[0])

    def result_dicts(self, scan: ScanRow) -> list[dict[str, Any]]:
        """The scan's results as stored (``results.jsonl`` objects, in their original order)."""
        return [json.loads(line) for line in self._result_lines(scan.pk)]

    def _result_lines(self, pk: int) -> list[str]:
        """The scan's ``results.jsonl`` lines (no newline), exactly as the scan wrote them. Raises
        :class:`StoreError` when a stored document is damaged (``history verify`` says which scan)."""
        lines, _cols, problems = self._read_results(pk)
        if problems:
            raise StoreError(f"stored results are damaged: {problems[0]} (run `ismap-scan history verify`)")
        return lines

    def _read_results(self, pk: int) -> tuple[list[str], list[tuple[str, str]], list[str]]:
        """``(lines, [(verdict column, finding_key column)], problems)`` for scan ``pk``, in stored order."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(results.c.doc_id, results.c.collected_at, results.c.verdict, results.c.finding_key)
                .where(results.c.scan_pk == pk)
                .order_by(results.c.id)
            ).all()
            texts, problems = load_documents(conn, (r[0] for r in rows))
        lines = [join_result(texts[r[0]], r[1]) for r in rows if r[0] in texts]
        return lines, [(r[2], r[3]) for r in rows if r[0] in texts], problems

    def verdicts(self, scan: ScanRow) -> dict[str, dict[str, str]]:
        """``finding_key → {check_id, verdict, severity, provider, account, region, resource_type, resource_id}``."""
        cols = RESULT_IDENTITY_FIELDS
        out: dict[str, dict[str, str]] = {}
        for d in self.result_dicts(scan):
            out[str(d["finding_key"])] = {"finding_key": str(d["finding_key"]), **{c: d[c] for c in cols}}
        return out

    def control_dicts(self, scan: ScanRow) -> list[dict[str, Any]]:
        """The scan's control statuses (``controls.json`` entries), in their original order. Raises
        :class:`StoreError` when a stored document is damaged."""
        statuses, problems = self._read_controls(scan.pk)
        if problems:
            raise StoreError(f"stored control statuses are damaged: {problems[0]}")
        return statuses

    def _read_controls(self, pk: int) -> tuple[list[dict[str, Any]], list[str]]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(control_statuses.c.doc_id, control_statuses.c.last_evaluated)
                .where(control_statuses.c.scan_pk == pk)
                .order_by(control_statuses.c.id)
            ).all()
            texts, problems = load_documents(conn, (r[0] for r in rows))
        return [join_control(texts[r[0]], r[1]) for r in rows if r[0] in texts], problems

    def finding_history(self, scope: str, keys: Iterable[str] | None = None) -> dict[str, dict[str, Any]]:
        """``finding_key → {first_seen_at, last_seen_at, failing_since, ...}`` for the scope (all or ``keys``)."""
        stmt = select(findings).where(findings.c.scope_key == scope)
        wanted = set(keys) if keys is not None else None
        with self.engine.connect() as conn:
            out = {r.finding_key: dict(r._mapping) for r in conn.execute(stmt)}
        return out if wanted is None else {k: v for k, v in out.items() if k in wanted}

    def snapshot_bytes(self, scan: ScanRow) -> bytes:
        """The scan's ``snapshot.jsonl.gz``. Raises :class:`InputError` when it was pruned or changed on disk."""
        if scan.snapshot_pruned_at:
            raise InputError(
                f"scan {scan.scan_id}: snapshot was pruned on {scan.snapshot_pruned_at} (retention)"
            )
        try:
            return self.blobs.get(scan.snapshot_blob)
        except FileNotFoundError:
            raise InputError(f"scan {scan.scan_id}: snapshot file missing from {self.blobs.root}") from None
        except ValueError as exc:
            raise InputError(f"scan {scan.scan_id}: {exc}") from None

    def assertion_bytes(self, scan: ScanRow) -> bytes | None:
        """The ``assertion.yaml`` the scan's control roll-up used, or ``None`` when it used none. Raises
        :class:`InputError` when the archived file is missing or changed."""
        archive = (scan.manifest.get("assertion") or {}).get("file_sha256")
        if not archive:
            return None
        try:
            return self.blobs.get(str(archive))
        except (FileNotFoundError, ValueError) as exc:
            raise InputError(f"scan {scan.scan_id}: its assertion.yaml is unavailable: {exc}") from None

    def check_pack_bytes(self, scan: ScanRow) -> bytes | None:
        """The archived check pack the scan used, or ``None`` when the scan recorded none."""
        archive = ((scan.manifest.get("check_pack") or {}) or {}).get("archive_sha256")
        if not archive:
            return None
        try:
            return self.blobs.get(str(archive))
        except (FileNotFoundError, ValueError) as exc:
            raise InputError(f"scan {scan.scan_id}: check pack archive unavailable: {exc}") from None

    # ------------------------------------------------------------------ verification and retention

    def verify_chain(self, scope: str, public_key: Path | None = None) -> ChainReport:
        """Walk ``scope``'s chain from the first scan: manifest hashes, previous-hash links, sequence, results,
        control statuses and snapshot against their manifest hashes, and signatures (with ``public_key``).

        Returns a :class:`ChainReport`; nothing is raised for a broken chain (the report says where).
        """
        pub = signing.load_public_key(public_key) if public_key else None
        report = ChainReport(scope)
        prev_sha: str | None = None
        prev_seq = 0
        rows = self.list_scans(scope)
        for row in rows:
            link = LinkReport(row.scan_id, row.seq)
            report.links.append(link)
            body = row.manifest_json.encode("utf-8")
            if sha256_hex(body) != row.manifest_sha256:
                link.problems.append("manifest was changed: it no longer hashes to its recorded SHA-256")
            try:
                m = json.loads(row.manifest_json)
            except json.JSONDecodeError:
                link.problems.append("manifest is not valid JSON")
                m = {}
            if m and (
                m.get("scan_id") != row.scan_id or m.get("seq") != row.seq or m.get("scope_key") != scope
            ):
                link.problems.append("manifest does not match its row (scan ID, sequence or scope differs)")
            if row.seq != prev_seq + 1:
                link.problems.append(
                    f"sequence gap: expected link {prev_seq + 1}, found {row.seq} (a scan was removed)"
                )
            if m.get("prev_manifest_sha256") != prev_sha or row.prev_manifest_sha256 != prev_sha:
                link.problems.append(
                    f"chain broken: previous-manifest hash {str(m.get('prev_manifest_sha256'))[:12]} does not match "
                    f"the previous scan's manifest {str(prev_sha)[:12]}"
                )
            link.problems.extend(self._verify_contents(row, m))
            if row.signature:
                if pub is None:
                    link.signature = "unverified"
                elif signing.verify(pub, body, row.signature):
                    link.signature = "valid"
                else:
                    link.signature = "invalid"
                    link.problems.append(
                        f"signature does not verify with the given public key (key {row.key_id})"
                    )
            if row.snapshot_pruned_at:
                link.notes.append(f"snapshot pruned {row.snapshot_pruned_at}")
            prev_sha, prev_seq = row.manifest_sha256, row.seq
        with self.engine.connect() as conn:
            head = conn.execute(select(chain_heads).where(chain_heads.c.scope_key == scope)).first()
        if head is not None and (head.seq != prev_seq or head.head_manifest_sha256 != prev_sha):
            report.problems.append(
                f"chain head says link {head.seq} ({head.head_scan_id}) but the last stored scan is link {prev_seq}: "
                "scans were removed from the end"
            )
        return report

    def _verify_contents(self, row: ScanRow, m: Mapping[str, Any]) -> list[str]:
        problems: list[str] = []
        lines, cols, doc_problems = self._read_results(row.pk)
        problems += doc_problems
        if lines_sha256(lines) != (m.get("results") or {}).get("sha256") or len(lines) != row.results_count:
            problems.append("results were changed: they no longer hash to the manifest's results SHA-256")
        for line, (verdict, fk) in zip(lines, cols, strict=True):
            d = json.loads(line)
            if (d.get("verdict"), d.get("finding_key")) != (verdict, fk):
                problems.append(
                    f"result row for {d.get('check_id')} was changed: its columns disagree with its JSON"
                )
                break
        controls, ctl_problems = self._read_controls(row.pk)
        problems += [p for p in ctl_problems if p not in problems]
        if sha256_hex(canonical_json(controls).encode("utf-8")) != (m.get("controls") or {}).get("sha256"):
            problems.append(
                "control statuses were changed: they no longer hash to the manifest's controls SHA-256"
            )
        if not row.snapshot_pruned_at:
            try:
                data = self.blobs.get(row.snapshot_blob)
                if snapshot_lines_sha256(data) != row.snapshot_sha256 or row.snapshot_sha256 != (
                    m.get("snapshot") or {}
                ).get("sha256"):
                    problems.append("snapshot does not match the manifest's snapshot SHA-256")
            except FileNotFoundError:
                problems.append(
                    f"snapshot file missing ({row.snapshot_blob[:12]}) and not recorded as pruned"
                )
            except (ValueError, OSError, EOFError) as exc:
                problems.append(f"snapshot file damaged: {exc}")
        return problems

    def prune(self, keep_days: int, now: datetime | None = None) -> list[str]:
        """Delete snapshot files of scans that started more than ``keep_days`` days before ``now``; their
        manifests, results and control statuses stay (the chain stays verifiable). A blob still used by a
        newer scan is kept. Returns the scan IDs whose snapshots were pruned."""
        if keep_days < 0:
            raise InputError("--keep-days must be 0 or more")
        now = now or datetime.now(UTC)
        cutoff = (now - timedelta(days=keep_days)).strftime("%Y-%m-%dT%H:%M:%SZ")
        pruned: list[str] = []
        with self.engine.begin() as conn:
            old = conn.execute(
                select(scans.c.id, scans.c.scan_id, scans.c.snapshot_blob)
                .where(scans.c.started_at < cutoff)
                .where(scans.c.snapshot_pruned_at.is_(None))
            ).all()
            stamp = _now()
            for pk, scan_id, _blob in old:
                conn.execute(update(scans).where(scans.c.id == pk).values(snapshot_pruned_at=stamp))
                pruned.append(scan_id)
            still_used = {
                r[0]
                for r in conn.execute(
                    select(scans.c.snapshot_blob).where(scans.c.snapshot_pruned_at.is_(None))
                )
            }
        # Files go after the commit: a crash in between leaves a file with no live reference, never a live
        # reference with no file.
        for _pk, _scan_id, blob in old:
            if blob not in still_used:
                self.blobs.delete(blob)
        return pruned

    def count_rows(self) -> dict[str, int]:
        """Row counts per table (benchmarks and tests)."""
        with self.engine.connect() as conn:
            return {
                t.name: int(conn.execute(select(func.count()).select_from(t)).scalar_one())
                for t in (scans, results, control_statuses, documents, findings, chain_heads, check_packs)
            }


def _scan_row(row: Any) -> ScanRow:
    d = dict(row._mapping)
    d["pk"] = d.pop("id")
    return ScanRow(**d)


def _read_json(path: Path) -> dict[str, Any]:
    try:
        obj = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError("not found (is this a scan folder?)", file=path) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"cannot read: {exc}", file=path) from None
    if not isinstance(obj, dict):
        raise InputError("expected a JSON object", file=path)
    return obj


def _read_lines(path: Path) -> list[str]:
    if not path.is_file():
        return []
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def open_store(url: str | None = None, blob_root: Path | None = None) -> EvidenceStore:
    """Open (and migrate) the store at ``url`` (default: :func:`location.default_store_url`)."""
    return EvidenceStore(url, blob_root)
