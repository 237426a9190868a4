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
from ismap_scan.evidence.schema import metadata, results, scans
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
    assert version == "0001"


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


@pytest.mark.parametrize("what", ["manifest", "result", "result_column", "controls"])
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
            rid, rj = conn.execute(
                select(results.c.id, results.c.result_json).where(results.c.scan_pk == victim.pk).limit(1)
            ).one()
            conn.execute(
                update(results).where(results.c.id == rid).values(result_json=rj.replace("FAIL", "PASS"))
            )
        elif what == "result_column":
            conn.execute(
                update(results)
                .where(results.c.scan_pk == victim.pk)
                .where(results.c.verdict == "FAIL")
                .values(verdict="PASS")
            )
        else:
            conn.execute(
                text(
                    "UPDATE control_statuses SET status_json = replace(status_json, 'NON_COMPLIANT', 'COMPLIANT') "
                    "WHERE scan_pk = :pk"
                ),
                {"pk": victim.pk},
            )
    rep = store.verify_chain("aws:111122223333")
    assert not rep.ok
    assert rep.first_broken is not None and rep.first_broken.scan_id == ids[1]
    res = CliRunner().invoke(cli, ["history", "verify", "--store", store.url], obj={})
    assert res.exit_code == 3
    assert f"scan {ids[1]}" in res.output


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
