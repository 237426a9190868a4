"""Evidence store on SQLite: migrations, chain, tamper detection, signatures, crash safety, locking, retention."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select, text, update

from ismap_scan.cli import cli
from ismap_scan.evidence.schema import control_statuses, documents, metadata, results, scans
from ismap_scan.evidence.signing import generate_keypair
from ismap_scan.evidence.store import EvidenceStore, StoreError, open_store


@pytest.fixture
def store(tmp_path: Path) -> Any:
    with open_store(f"sqlite:///{tmp_path / 'ev.sqlite3'}") as s:
        yield s


def test_migrations_create_exactly_the_schema(store: EvidenceStore) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with store.engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), metadata)
        version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
    assert diffs == []
    assert version == "0002"


def test_chain_links_each_manifest_to_the_previous(
    store: EvidenceStore, scan_factory: Any, store_kwargs: Any
) -> None:
    stored = [store.store_scan(scan_factory({"a": True, "b": i % 2 == 0}), **store_kwargs) for i in range(3)]
    assert [s.seq for s in stored] == [1, 2, 3]
    assert stored[0].prev_manifest_sha256 is None
    assert stored[1].prev_manifest_sha256 == stored[0].manifest_sha256
    assert stored[2].prev_manifest_sha256 == stored[1].manifest_sha256
    rep = store.verify_chain("aws:111122223333")
    assert rep.ok, rep
    assert [link.signature for link in rep.links] == ["unsigned"] * 3
    row = store.list_scans("aws:111122223333")[0]
    assert row.results_count == len(store.result_dicts(row)) > 0
    assert row.manifest["check_pack"]["archive_sha256"]


def _forge(conn: Any, table: Any, pk: int, old: str, new: str) -> None:
    """What an editor of the database would do: write a changed copy of one of the scan's stored documents
    (a valid document in its own right, hash and all) and point the scan's row at it."""
    import zlib

    from ismap_scan.evidence.documents import insert_document_row

    for row_id, doc_id in conn.execute(select(table.c.id, table.c.doc_id).where(table.c.scan_pk == pk)):
        body = zlib.decompress(
            conn.execute(select(documents.c.body).where(documents.c.id == doc_id)).scalar_one()
        )
        if old.encode() in body:
            forged = insert_document_row(conn, body.decode().replace(old, new, 1))
            conn.execute(update(table).where(table.c.id == row_id).values(doc_id=forged))
            return
    raise AssertionError(f"no stored document of scan {pk} contains {old!r}")


@pytest.mark.parametrize("what", ["manifest", "result", "result_column", "controls", "control_column"])
def test_tampering_names_the_scan(
    store: EvidenceStore, scan_factory: Any, store_kwargs: Any, what: str, tmp_path: Path
) -> None:
    ids = [store.store_scan(scan_factory({"a": True, "b": False}), **store_kwargs).scan_id for _ in range(3)]
    victim = store.get_scan(ids[1])
    with store.engine.begin() as conn:
        if what == "manifest":
            m = victim.manifest
            m["finished_at"] = "2020-01-01T00:00:00Z"
            conn.execute(update(scans).where(scans.c.id == victim.pk).values(manifest_json=json.dumps(m)))
        elif what == "result":
            _forge(conn, results, victim.pk, '"verdict":"FAIL"', '"verdict":"PASS"')
        elif what == "result_column":
            conn.execute(
                update(results)
                .where(results.c.scan_pk == victim.pk)
                .where(results.c.verdict == "FAIL")
                .values(verdict="PASS")
            )
        elif what == "controls":
            _forge(conn, control_statuses, victim.pk, '"NON_COMPLIANT"', '"COMPLIANT"')
        else:
            conn.execute(
                update(control_statuses)
                .where(control_statuses.c.scan_pk == victim.pk)
                .values(last_evaluated="2020-01-01T00:00:00Z")
            )
    rep = store.verify_chain("aws:111122223333")
    assert not rep.ok
    assert rep.first_broken is not None and rep.first_broken.scan_id == ids[1]
    res = CliRunner().invoke(cli, ["history", "verify", "--store", store.url], obj={})
    assert res.exit_code == 3
    assert f"scan {ids[1]}" in res.output


def test_a_shared_document_edited_in_place_is_caught(
    store: EvidenceStore, scan_factory: Any, store_kwargs: Any
) -> None:
    """Unchanged results share one stored document; editing it in place breaks every scan that uses it, and
    verify names the first of them."""
    import zlib

    ids = [store.store_scan(scan_factory({"a": True, "b": False}), **store_kwargs).scan_id for _ in range(2)]
    counts = store.count_rows()
    assert counts["documents"] < counts["results"]  # the second scan's results reuse the first's documents
    with store.engine.begin() as conn:
        doc_id, body = conn.execute(select(documents.c.id, documents.c.body).order_by(documents.c.id)).first()
        changed = zlib.compress(zlib.decompress(body).replace(b'"severity":"', b'"severity":"x', 1))
        conn.execute(update(documents).where(documents.c.id == doc_id).values(body=changed))
    rep = store.verify_chain("aws:111122223333")
    assert rep.first_broken is not None and rep.first_broken.scan_id == ids[0]
    assert any("no longer hashes" in p for p in rep.first_broken.problems)


def test_removing_the_last_scan_is_detected(
    store: EvidenceStore, scan_factory: Any, store_kwargs: Any
) -> None:
    for _ in range(2):
        store.store_scan(scan_factory({"a": True}), **store_kwargs)
    last = store.list_scans("aws:111122223333")[-1]
    with store.engine.begin() as conn:
        conn.execute(results.delete().where(results.c.scan_pk == last.pk))
        conn.execute(text("DELETE FROM control_statuses WHERE scan_pk = :pk"), {"pk": last.pk})
        conn.execute(scans.delete().where(scans.c.id == last.pk))
    rep = store.verify_chain("aws:111122223333")
    assert not rep.ok and "removed from the end" in rep.problems[0]


def test_signed_manifests_verify_only_with_the_right_key(
    store: EvidenceStore, scan_factory: Any, store_kwargs: Any, tmp_path: Path
) -> None:
    priv, pub = generate_keypair(tmp_path / "k1")
    _priv2, pub2 = generate_keypair(tmp_path / "k2")
    assert (priv.stat().st_mode & 0o777) == 0o600
    stored = store.store_scan(scan_factory({"a": True}), sign_key=priv, **store_kwargs)
    assert stored.signed and stored.key_id
    assert [link.signature for link in store.verify_chain(stored.scope_key, pub).links] == ["valid"]
    assert [link.signature for link in store.verify_chain(stored.scope_key).links] == ["unverified"]
    wrong = store.verify_chain(stored.scope_key, pub2)
    assert not wrong.ok and wrong.links[0].signature == "invalid"


_WRITER = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    from ismap_scan.evidence.store import open_store
    url, folder, kwargs = sys.argv[1], Path(sys.argv[2]), json.loads(sys.argv[3])
    kwargs["check_dirs"] = [Path(p) for p in kwargs["check_dirs"]]
    kwargs["mappings_dir"] = Path(kwargs["mappings_dir"])
    with open_store(url) as store:
        print(store.store_scan(folder, **kwargs).seq)
    """
)


def _writer(url: str, folder: Path, kwargs: dict[str, Any], env: dict[str, str]) -> subprocess.Popen[str]:
    args = {
        **kwargs,
        "check_dirs": [str(p) for p in kwargs["check_dirs"]],
        "mappings_dir": str(kwargs["mappings_dir"]),
    }
    return subprocess.Popen(
        [sys.executable, "-c", _WRITER, url, str(folder), json.dumps(args)],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize("step", ["after_blobs", "after_scan_row", "after_results", "before_commit"])
def test_a_scan_killed_mid_write_leaves_no_half_scan(
    store: EvidenceStore, scan_factory: Any, store_kwargs: Any, step: str
) -> None:
    first = store.store_scan(scan_factory({"a": True}), **store_kwargs)
    doomed = scan_factory({"a": False, "b": True})
    proc = _writer(store.url, doomed, store_kwargs, {"ISMAP_SCAN_TEST_KILL_AT": step})
    proc.communicate(timeout=60)
    assert proc.returncode == -9  # SIGKILL, at the named step
    assert [r.scan_id for r in store.list_scans()] == [first.scan_id]
    counts = store.count_rows()
    assert counts["scans"] == 1 and counts["results"] == first_results(store)
    assert store.verify_chain(first.scope_key).ok
    again = store.store_scan(doomed, **store_kwargs)  # the next write continues the intact chain
    assert again.seq == 2 and again.prev_manifest_sha256 == first.manifest_sha256


def first_results(store: EvidenceStore) -> int:
    return store.list_scans()[0].results_count


def test_two_concurrent_writers_do_not_fork_the_chain(
    store: EvidenceStore, scan_factory: Any, store_kwargs: Any
) -> None:
    store.store_scan(scan_factory({"a": True}), **store_kwargs)
    folders = [scan_factory({"a": True, "b": i == 0}) for i in range(2)]
    procs = [_writer(store.url, f, store_kwargs, {"ISMAP_SCAN_TEST_HOLD_LOCK": "1.0"}) for f in folders]
    outs = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    assert sorted(int(o[0]) for o in outs) == [2, 3]
    rows = store.list_scans("aws:111122223333")
    assert [r.seq for r in rows] == [1, 2, 3]
    assert rows[2].prev_manifest_sha256 == rows[1].manifest_sha256
    assert store.verify_chain("aws:111122223333").ok


def test_retention_prunes_snapshots_never_manifests(
    store: EvidenceStore, scan_factory: Any, store_kwargs: Any
) -> None:
    old = store.store_scan(scan_factory({"a": True}, started_at="2026-01-01T00:00:00Z"), **store_kwargs)
    new = store.store_scan(
        scan_factory({"a": True, "b": True}, started_at="2026-11-29T00:00:00Z"), **store_kwargs
    )
    pruned = store.prune(30, now=datetime(2026, 11, 30, tzinfo=UTC))
    assert pruned == [old.scan_id]
    rows = store.list_scans()
    assert [r.scan_id for r in rows] == [old.scan_id, new.scan_id]
    assert rows[0].snapshot_pruned_at and rows[0].manifest_json and rows[0].results_count
    assert not store.blobs.exists(rows[0].snapshot_blob) and store.blobs.exists(rows[1].snapshot_blob)
    rep = store.verify_chain(old.scope_key)
    assert rep.ok and rep.links[0].notes == [rep.links[0].notes[0]] and "pruned" in rep.links[0].notes[0]


def test_failing_since_survives_consecutive_failures(
    store: EvidenceStore, scan_factory: Any, store_kwargs: Any
) -> None:
    times = ["2026-11-01T00:00:00Z", "2026-11-02T00:00:00Z", "2026-11-03T00:00:00Z", "2026-11-04T00:00:00Z"]
    states = [True, False, False, True]  # bucket b: passes, fails twice, fixed
    for t, ok in zip(times, states, strict=True):
        store.store_scan(scan_factory({"b": ok}, started_at=t), **store_kwargs)
        hist = store.finding_history("aws:111122223333")
        versioning = next(h for h in hist.values() if h["check_id"] == "aws.s3.bucket_versioning_enabled")
        assert versioning["first_seen_at"] == times[0] and versioning["last_seen_at"] == t
        assert versioning["failing_since"] == (None if ok else times[1])


def test_unreachable_store_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="cannot open evidence store"):
        EvidenceStore("postgresql://nobody@127.0.0.1:1/none")


def test_migration_0002_moves_version_1_rows_and_the_chain_still_verifies(
    tmp_path: Path, scan_factory: Any, store_kwargs: Any
) -> None:
    """A store written by version 1 (full JSON per row) is migrated in place: same results, same controls,
    every link verifies. The version-1 rows are rebuilt from a current store with version 1's layout."""
    import sqlalchemy as sa
    from alembic import command
    from alembic.config import Config

    from ismap_scan.evidence.migrate import MIGRATIONS_DIR
    from ismap_scan.evidence.schema import chain_heads, check_packs, findings
    from ismap_scan.model import canonical_json

    with open_store(f"sqlite:///{tmp_path / 'new.sqlite3'}", blob_root=tmp_path / "blobs") as new:
        for ok in (True, False, False):
            new.store_scan(scan_factory({"a": True, "b": ok}), **store_kwargs)
        rows = new.list_scans()
        want = {r.scan_id: (new.result_dicts(r), new.control_dicts(r)) for r in rows}
        with new.engine.connect() as c:
            copied = {
                t: [dict(x._mapping) for x in c.execute(sa.select(t))]
                for t in (scans, chain_heads, findings, check_packs)
            }
    old_url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    engine = sa.create_engine(old_url)
    with engine.begin() as conn:
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
        for t, data in copied.items():
            conn.execute(sa.insert(t), data)
        cols = ("check_id", "severity", "provider", "account", "region", "resource_type", "resource_id")
        v1_results = sa.table(
            "results", *(sa.column(c) for c in ("scan_pk", "finding_key", "verdict", "result_json", *cols))
        )
        v1_controls = sa.table(
            "control_statuses", *(sa.column(c) for c in ("scan_pk", "control_id", "status", "status_json"))
        )
        for r in rows:
            res, ctl = want[r.scan_id]
            conn.execute(
                sa.insert(v1_results),
                [
                    {
                        "scan_pk": r.pk,
                        "finding_key": d["finding_key"],
                        "verdict": d["verdict"],
                        "result_json": canonical_json(d),
                        **{c: d[c] for c in cols},
                    }
                    for d in res
                ],
            )
            conn.execute(
                sa.insert(v1_controls),
                [
                    {
                        "scan_pk": r.pk,
                        "control_id": c["id"],
                        "status": c["status"],
                        "status_json": canonical_json(c),
                    }
                    for c in ctl
                ],
            )
    engine.dispose()
    with open_store(old_url, blob_root=tmp_path / "blobs") as migrated:
        assert migrated.verify_chain("aws:111122223333").ok
        for r in migrated.list_scans():
            assert (migrated.result_dicts(r), migrated.control_dicts(r)) == want[r.scan_id]
        counts = migrated.count_rows()
        assert counts["documents"] < counts["results"] + counts["control_statuses"]
