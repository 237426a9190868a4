"""Content-addressed files: ``<root>/sha256/<2 hex>/<64 hex>``, written once, atomically.

A blob's name is the SHA-256 of its bytes, so storing the same snapshot twice costs nothing and a changed
file is detected by re-hashing. Writes go to a temporary file in the same folder, are fsynced and renamed:
a killed writer leaves at most an orphan ``.part`` file, never a half blob under a real name.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path


class BlobStore:
    """Files by SHA-256 under ``root`` (created on first write)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path(self, sha256: str) -> Path:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise ValueError(f"not a SHA-256 hex digest: {sha256!r}")
        return self.root / "sha256" / sha256[:2] / sha256

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def put_bytes(self, data: bytes) -> str:
        """Store ``data``; return its SHA-256 hex. Idempotent."""
        digest = hashlib.sha256(data).hexdigest()
        target = self.path(digest)
        if target.is_file():
            return digest
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".part")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return digest

    def put_file(self, path: Path) -> str:
        """Store a copy of the file at ``path``; return its SHA-256 hex."""
        return self.put_bytes(Path(path).read_bytes())

    def get(self, sha256: str) -> bytes:
        """The blob's bytes. Raises ``FileNotFoundError`` when absent (pruned) and ``ValueError`` when its
        content no longer hashes to its name (changed on disk)."""
        data = self.path(sha256).read_bytes()
        if hashlib.sha256(data).hexdigest() != sha256:
            raise ValueError(f"blob {sha256} was changed on disk (its content no longer matches its hash)")
        return data

    def delete(self, sha256: str) -> bool:
        """Remove the blob; true when it existed."""
        try:
            self.path(sha256).unlink()
        except FileNotFoundError:
            return False
        return True
