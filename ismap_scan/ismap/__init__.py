"""ISMAP in depth: catalogs (bundled and imported), the check → control map, the assertion document
(言明書) and the control status roll-up.

| module | job |
|---|---|
| :mod:`.catalog` | catalog versions (bundled ``mappings/ismap/<v>/``, installed in the user data dir), the check map |
| :mod:`.importer` | ``catalog import``: the official Attached Table 3 (.xlsx / .csv) → an installed version |
| :mod:`.diff` | ``catalog diff``: what a revision added, removed, renumbered or retitled |
| :mod:`.assertion` | ``assertion.yaml``: load and validate (file:line), expiry |
| :mod:`.template` | ``assertion init``: a statement skeleton for a catalog |
| :mod:`.rollup` | control status per DESIGN §5 |
| :mod:`.coverage` | ``controls [--coverage]``: the catalog's controls and which have automated evidence |
"""

from .assertion import Assertion, Attestation, Inheritance, Selection, Waiver, load_assertion
from .catalog import (
    CONTROL_ID_RE,
    DEFAULT_VERSION,
    Catalog,
    Control,
    available_versions,
    installed_catalogs_dir,
    load_catalog,
    load_check_map,
    user_data_dir,
)
from .rollup import ControlState, ControlStatus, ResultRef, ScopeCheck, rollup, scope_check, status_totals

__all__ = [
    "CONTROL_ID_RE",
    "DEFAULT_VERSION",
    "Assertion",
    "Attestation",
    "Catalog",
    "Control",
    "ControlState",
    "ControlStatus",
    "Inheritance",
    "ResultRef",
    "ScopeCheck",
    "Selection",
    "Waiver",
    "available_versions",
    "installed_catalogs_dir",
    "load_assertion",
    "load_catalog",
    "load_check_map",
    "rollup",
    "scope_check",
    "status_totals",
    "user_data_dir",
]
