"""Bring a store's schema to the newest migration (Alembic, configured in code; no ``alembic.ini``).

Run on every open: a no-op when the schema is current. Concurrent first uses are serialised (SQLite:
``BEGIN IMMEDIATE``; PostgreSQL: a transaction-scoped advisory lock), so two scans starting together on a
fresh database do not both create the tables.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Engine

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
#: Arbitrary constant naming the advisory lock that serialises migrations on PostgreSQL.
_PG_MIGRATION_LOCK = 0x15AA_5CA1


def upgrade(engine: Engine) -> None:
    """Apply every migration not yet applied, in one transaction."""
    from alembic import command
    from alembic.config import Config

    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_MIGRATION_LOCK})
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def head_revision() -> str:
    """The newest migration's revision ID."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    head = ScriptDirectory.from_config(cfg).get_current_head()
    assert head is not None
    return head
