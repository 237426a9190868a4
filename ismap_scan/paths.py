"""Where the bundled check pack, mappings and report templates are, installed or in a source tree.

A wheel carries them under ``ismap_scan/_data/`` (hatch ``force-include``); a source checkout or an
editable install reads them from the repository's top-level folders, where people review them.
"""

from __future__ import annotations

from pathlib import Path

_PKG = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    """The folder ``name`` (``"checks"``, ``"mappings"``, ``"reports/templates"``).

    Raises ``FileNotFoundError`` when neither the installed copy nor the source-tree folder exists.
    """
    for candidate in (_PKG / "_data" / name, _PKG.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"bundled folder {name!r} not found (is ismap-scan installed correctly?)")


def checks_dir() -> Path:
    return data_dir("checks")


def mappings_dir() -> Path:
    return data_dir("mappings")


def templates_dir() -> Path:
    return data_dir("reports/templates")
