"""The evidence store on a real PostgreSQL server (never a mock).

Set ``ISMAP_SCAN_TEST_POSTGRES_URL`` (``scripts/test.sh`` does: ``postgresql+psycopg://postgres@127.0.0.1:5432/test``).
Each test gets its own schema (``search_path``), dropped afterwards, so parallel runs do not collide.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from sqlalchemy import create_engine, text

PG_URL = os.environ.get("ISMAP_SCAN_TEST_POSTGRES_URL")
pytestmark = pytest.mark.skipif(
    not PG_URL,
    reason="ISMAP_SCAN_TEST_POSTGRES_URL is not set: no PostgreSQL server to test the store against",
)


@pytest.fixture
def pg_url() -> Iterator[str]:
    assert PG_URL
    schema = f"ismap_test_{secrets.token_hex(6)}"
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in PG_URL else "?"
    try:
        yield f"{PG_URL}{sep}options={quote(f'-csearch_path={schema}')}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def test_postgres_store_chain_and_tamper(
    pg_url: str, scan_factory: Any, store_kwargs: Any, tmp_path: Any
) -> None:
    from ismap_scan.evidence.store import open_store

    with open_store(pg_url, blob_root=tmp_path / "blobs") as store:
        ids = [
            store.store_scan(scan_factory({"a": True, "b": i == 1}), **store_kwargs).scan_id for i in range(3)
        ]
        assert [r.seq for r in store.list_scans("aws:111122223333")] == [1, 2, 3]
        assert store.verify_chain("aws:111122223333").ok
        with store.engine.begin() as conn:
            conn.execute(
                text("UPDATE scans SET manifest_json = replace(manifest_json, :a, :b) WHERE scan_id = :s"),
                {"a": '"demo":false', "b": '"demo":true', "s": ids[1]},
            )
        rep = store.verify_chain("aws:111122223333")
        assert rep.first_broken is not None and rep.first_broken.scan_id == ids[1]


def test_postgres_lock_serialises_two_processes(
    pg_url: str, scan_factory: Any, store_kwargs: Any, tmp_path: Any
) -> None:
    import json
    import subprocess
    import sys

    from ismap_scan.evidence.store import open_store

    code = (
        "import json,sys; from pathlib import Path; from ismap_scan.evidence.store import open_store\n"
        "k=json.loads(sys.argv[3]); k['check_dirs']=[Path(p) for p in k['check_dirs']]; "
        "k['mappings_dir']=Path(k['mappings_dir'])\n"
        "with open_store(sys.argv[1], blob_root=Path(sys.argv[4])) as s: print(s.store_scan(Path(sys.argv[2]), **k).seq)"
    )
    kw = {
        **store_kwargs,
        "check_dirs": [str(p) for p in store_kwargs["check_dirs"]],
        "mappings_dir": str(store_kwargs["mappings_dir"]),
    }
    folders = [scan_factory({"a": i == 0}) for i in range(2)]
    env = {**os.environ, "ISMAP_SCAN_TEST_HOLD_LOCK": "1.0"}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, pg_url, str(f), json.dumps(kw), str(tmp_path / "blobs")],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for f in folders
    ]
    outs = [p.communicate(timeout=90) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    assert sorted(int(o[0]) for o in outs) == [1, 2]
    with open_store(pg_url, blob_root=tmp_path / "blobs") as store:
        rows = store.list_scans("aws:111122223333")
        assert rows[1].prev_manifest_sha256 == rows[0].manifest_sha256
        assert store.verify_chain("aws:111122223333").ok
