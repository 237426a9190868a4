"""Where the evidence store lives by default: the user's data directory (created on first use).

``ISMAP_SCAN_DATA_DIR`` overrides the platform default (``platformdirs.user_data_dir("ismap-scan")``, e.g.
``~/.local/share/ismap-scan`` on Linux). Under it: ``evidence.sqlite3`` (the default store), ``blobs/``
(content-addressed snapshot and check-pack files) and ``keys/`` (the signing key pair, if generated).
"""

from __future__ import annotations

import os
from pathlib import Path

DATA_DIR_ENV = "ISMAP_SCAN_DATA_DIR"
#: A store URL to use when ``--store`` is not given (e.g. a team's PostgreSQL).
STORE_URL_ENV = "ISMAP_SCAN_STORE"
#: A private key file that signs every stored manifest when set (else ``keys/signing.key`` if present).
SIGNING_KEY_ENV = "ISMAP_SCAN_SIGNING_KEY"

PRIVATE_KEY_FILE = "signing.key"
PUBLIC_KEY_FILE = "signing.pub"


def data_dir(create: bool = True) -> Path:
    """The data directory (``ISMAP_SCAN_DATA_DIR`` or the platform's user data dir), created when asked."""
    env = os.environ.get(DATA_DIR_ENV)
    if env:
        path = Path(env).expanduser()
    else:
        from platformdirs import user_data_dir

        path = Path(user_data_dir("ismap-scan", appauthor=False))
    if create:
        path.mkdir(parents=True, exist_ok=True)
    return path


def default_store_url() -> str:
    """``ISMAP_SCAN_STORE`` when set, else ``sqlite:///<data dir>/evidence.sqlite3``."""
    env = os.environ.get(STORE_URL_ENV)
    if env:
        return env
    return f"sqlite:///{data_dir() / 'evidence.sqlite3'}"


def blob_dir() -> Path:
    """``<data dir>/blobs``: content-addressed files (snapshots, check packs)."""
    return data_dir() / "blobs"


def keys_dir() -> Path:
    """``<data dir>/keys``: where ``keys generate`` writes by default."""
    return data_dir() / "keys"


def configured_signing_key() -> Path | None:
    """The private key that signs stored manifests: ``ISMAP_SCAN_SIGNING_KEY``, else ``keys/signing.key`` if it
    exists, else ``None`` (manifests are then stored unsigned)."""
    env = os.environ.get(SIGNING_KEY_ENV)
    if env:
        return Path(env).expanduser()
    default = data_dir(create=False) / "keys" / PRIVATE_KEY_FILE
    return default if default.is_file() else None


def configured_public_key() -> Path | None:
    """The public key next to the configured private key (``signing.pub``), if present."""
    default = data_dir(create=False) / "keys" / PUBLIC_KEY_FILE
    return default if default.is_file() else None
