"""The few lines a scan runs after writing its folder: store it as evidence (``--store``/``--no-store``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .. import paths
from . import location
from .store import StoredScan, open_store


def store_after_scan(folder: Path, *, store_url: str | None, cfg: Any, checks: Any) -> StoredScan:
    """Append the scan in ``folder`` to the evidence store at ``store_url`` (default store when ``None``).

    ``cfg`` is the :class:`~ismap_scan.config.ScanConfig` and ``checks`` the
    :class:`~ismap_scan.engine.CheckSet` the scan ran: their check folders, mappings, selection and params
    are recorded, and its ``assertion.yaml`` (``cfg.assertion``) archived, so the scan's results and control
    statuses can be reproduced from a bundle. Signs with the configured key
    (:func:`location.configured_signing_key`). Raises :class:`~ismap_scan.evidence.store.StoreError` (exit 1)
    when the store cannot be written: a scan is never silently left out of the evidence.
    """
    check_dirs = list(checks.check_dirs)
    try:
        mappings: Path | None = paths.mappings_dir()
    except FileNotFoundError:
        mappings = None
    selection = {
        "check_ids": checks.ids(),
        "params": {c.id: dict(c.params) for c in checks if c.params},
    }
    with open_store(store_url) as store:
        return store.store_scan(
            folder,
            check_dirs=check_dirs,
            mappings_dir=mappings,
            selection=selection,
            sign_key=location.configured_signing_key(),
            assertion=getattr(cfg, "assertion", None),
        )
