"""Alembic migrations of the evidence store, run programmatically by :func:`ismap_scan.evidence.migrate.upgrade`."""
