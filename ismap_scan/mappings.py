"""Compatibility facade: the ISMAP catalog, check map and roll-up now live in :mod:`ismap_scan.ismap`.

Existing callers (``scan.py``, ``cli/checks_cmds.py``, tests) keep importing from here.
"""

from __future__ import annotations

from .ismap.catalog import (
    CATALOG_FILE,
    CHECK_MAP_FILE,
    CONTROL_ID_RE,
    COVERAGES,
    DEFAULT_VERSION,
    Catalog,
    Control,
    available_versions,
    load_catalog,
    load_check_map,
)
from .ismap.rollup import ControlState, ControlStatus, rollup

__all__ = [
    "CATALOG_FILE",
    "CHECK_MAP_FILE",
    "CONTROL_ID_RE",
    "COVERAGES",
    "DEFAULT_VERSION",
    "Catalog",
    "Control",
    "ControlState",
    "ControlStatus",
    "available_versions",
    "load_catalog",
    "load_check_map",
    "rollup",
]
