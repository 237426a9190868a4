"""Ed25519 signatures over manifests (``cryptography``): key generation, loading, signing, verifying.

Keys are PEM files: the private key PKCS#8 (unencrypted, written with mode 0600), the public key
SubjectPublicKeyInfo. A key's ID is the first 16 hex digits of the SHA-256 of its raw 32-byte public key,
so a signature names the key that made it without carrying the key.
"""

from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ..errors import InputError


def generate_keypair(directory: Path, *, name: str = "signing", overwrite: bool = False) -> tuple[Path, Path]:
    """Write ``<name>.key`` (private, 0600) and ``<name>.pub`` into ``directory``; return both paths.

    Raises :class:`InputError` when the private key exists and ``overwrite`` is false (a key that signed
    evidence must not be lost by accident).
    """
    directory.mkdir(parents=True, exist_ok=True)
    priv_path, pub_path = directory / f"{name}.key", directory / f"{name}.pub"
    if priv_path.exists() and not overwrite:
        raise InputError("a signing key already exists (use --force to replace it)", file=priv_path)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    fd = os.open(priv_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    pub_path.write_bytes(public_pem(key.public_key()))
    return priv_path, pub_path


def public_pem(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def key_id(key: Ed25519PublicKey) -> str:
    """First 16 hex digits of SHA-256 over the raw public key."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def load_private_key(path: Path) -> Ed25519PrivateKey:
    """Load a PEM Ed25519 private key. Raises :class:`InputError` when missing or not an Ed25519 key."""
    try:
        key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise InputError(f"cannot read private key: {exc}", file=path) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise InputError("not an Ed25519 private key", file=path)
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    """Load a PEM Ed25519 public key (or derive it from a private key file)."""
    data = Path(path).read_bytes() if Path(path).is_file() else None
    if data is None:
        raise InputError("public key not found", file=path)
    try:
        key = serialization.load_pem_public_key(data)
    except ValueError:
        return load_private_key(path).public_key()
    if not isinstance(key, Ed25519PublicKey):
        raise InputError("not an Ed25519 public key", file=path)
    return key


def sign(key: Ed25519PrivateKey, message: bytes) -> str:
    """Base64 of the Ed25519 signature of ``message``."""
    return base64.b64encode(key.sign(message)).decode("ascii")


def verify(key: Ed25519PublicKey, message: bytes, signature_b64: str) -> bool:
    """True when ``signature_b64`` is ``key``'s signature of ``message``; false for any mismatch or bad base64."""
    try:
        key.verify(base64.b64decode(signature_b64, validate=True), message)
    except (InvalidSignature, ValueError):
        return False
    return True
