"""Alembic environment: always online, on the connection the caller passes in ``config.attributes``.

There is no ``alembic.ini``: :func:`ismap_scan.evidence.migrate.upgrade` builds the config in code, so the
migrations ship inside the package and run wherever ismap-scan is installed.
"""

from __future__ import annotations

from alembic import context

from ismap_scan.evidence.schema import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
