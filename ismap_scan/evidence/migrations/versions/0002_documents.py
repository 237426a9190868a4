"""Evidence store, version 2: results and control statuses as shared, compressed documents.

Version 1 kept each result's and control status's full JSON in its row; 30 nightly scans of a 500-resource
estate took 160 MB of SQLite, almost all of it the same text night after night. Version 2 adds
``documents`` (zlib-compressed JSON, unique by the SHA-256 of the uncompressed text) and keeps in
``results`` / ``control_statuses`` only what queries need, the document's id and the one field that changes
every night (``collected_at`` / ``last_evaluated``). Columns that repeated the JSON (check, severity,
provider, account, region, type, resource) and the unused finding-key index go.

Existing rows are moved, not dropped: each stored JSON text is split the way
:mod:`ismap_scan.evidence.documents` does (the logic is repeated here, frozen, because a migration must keep
meaning what it meant when it was written), so every manifest's results and controls hashes still verify.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import hashlib
import json
import zlib
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_BATCH = 500


def _canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def _split(text: str, key: str, whole_if_not_canonical: bool) -> tuple[str, str | None]:
    obj = json.loads(text)
    at = obj.get(key) if isinstance(obj, dict) else None
    if isinstance(at, str) and (not whole_if_not_canonical or _canonical(obj) == text):
        return _canonical({k: v for k, v in obj.items() if k != key}), at
    return (text if whole_if_not_canonical else _canonical(obj)), None


def upgrade() -> None:
    documents = op.create_table(
        "documents",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("bytes", sa.Integer, nullable=False),
        sa.Column("body", sa.LargeBinary, nullable=False),
    )
    with op.batch_alter_table("results") as batch:
        batch.add_column(sa.Column("doc_id", sa.Integer, nullable=True))
        batch.add_column(sa.Column("collected_at", sa.String(32), nullable=True))
    with op.batch_alter_table("control_statuses") as batch:
        batch.add_column(sa.Column("doc_id", sa.Integer, nullable=True))
        batch.add_column(sa.Column("last_evaluated", sa.String(32), nullable=True))

    conn = op.get_bind()
    known: dict[str, int] = {}

    def doc_id(text: str) -> int:
        sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
        if sha not in known:
            raw = text.encode("utf-8")
            conn.execute(sa.insert(documents).values(sha256=sha, bytes=len(raw), body=zlib.compress(raw, 6)))
            known[sha] = int(
                conn.execute(sa.select(documents.c.id).where(documents.c.sha256 == sha)).scalar_one()
            )
        return known[sha]

    for table, json_col, time_col, strict in (
        ("results", "result_json", "collected_at", True),
        ("control_statuses", "status_json", "last_evaluated", False),
    ):
        t = sa.table(
            table,
            sa.column("id", sa.Integer),
            sa.column(json_col, sa.Text),
            sa.column("doc_id", sa.Integer),
            sa.column(time_col, sa.String),
        )
        last = 0
        while True:
            rows = conn.execute(
                sa.select(t.c.id, t.c[json_col]).where(t.c.id > last).order_by(t.c.id).limit(_BATCH)
            ).all()
            if not rows:
                break
            for pk, text in rows:
                body, at = _split(text, time_col, strict)
                conn.execute(sa.update(t).where(t.c.id == pk).values({"doc_id": doc_id(body), time_col: at}))
            last = rows[-1][0]

    op.drop_index("ix_results_finding", table_name="results")
    with op.batch_alter_table("results") as batch:
        for col in ("check_id", "severity", "provider", "account", "region", "resource_type", "resource_id"):
            batch.drop_column(col)
        batch.drop_column("result_json")
        batch.alter_column("doc_id", existing_type=sa.Integer, nullable=False)
        batch.create_foreign_key("fk_results_doc", "documents", ["doc_id"], ["id"])
    with op.batch_alter_table("control_statuses") as batch:
        batch.drop_column("status_json")
        batch.alter_column("doc_id", existing_type=sa.Integer, nullable=False)
        batch.create_foreign_key("fk_control_statuses_doc", "documents", ["doc_id"], ["id"])


def downgrade() -> None:
    raise NotImplementedError("the evidence store does not downgrade: restore a backup taken before 0002")
