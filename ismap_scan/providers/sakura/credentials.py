"""Where the Sakura Cloud access token comes from: settings, environment, or a usacloud profile.

Order (first that gives both halves wins):

1. ``access_token`` / ``access_token_secret`` in the ``sakura:`` settings;
2. when no ``profile`` is set: ``SAKURACLOUD_ACCESS_TOKEN`` / ``SAKURACLOUD_ACCESS_TOKEN_SECRET``;
3. a usacloud profile: ``settings.profile``, else ``SAKURACLOUD_PROFILE`` / ``USACLOUD_PROFILE``, else the
   name in ``<profile dir>/current``, else ``default``. The profile dir is ``USACLOUD_PROFILE_DIR`` or
   ``~/.usacloud``; the file is ``<dir>/<name>/config.json`` with keys ``AccessToken`` and
   ``AccessTokenSecret`` (usacloud's profile format).

The secret is held in a :class:`~pydantic.SecretStr` and only unwrapped to build the HTTP Basic header; no
message of this module quotes it.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr

from ...errors import IsmapScanError
from .settings import SakuraSettings

ENV_TOKEN = "SAKURACLOUD_ACCESS_TOKEN"
ENV_SECRET = "SAKURACLOUD_ACCESS_TOKEN_SECRET"
_ENV_PROFILE = ("SAKURACLOUD_PROFILE", "USACLOUD_PROFILE")


class SakuraCredentialsError(IsmapScanError):
    """No usable access token was found (exit code 2: a setup problem, nothing was scanned)."""

    exit_code = 2


@dataclass(frozen=True)
class Credentials:
    """An API key: ``token`` (the Basic user name, not secret on its own) and ``secret``. ``source`` says
    where it came from (``"environment"``, ``"settings"``, ``"usacloud profile 'audit'"``)."""

    token: str
    secret: SecretStr
    source: str

    def __repr__(self) -> str:
        return f"Credentials(token={self.token[:4]}..., secret=**********, source={self.source!r})"


def profile_dir() -> Path:
    """usacloud's profile folder: ``USACLOUD_PROFILE_DIR`` or ``~/.usacloud``."""
    env = os.environ.get("USACLOUD_PROFILE_DIR")
    return Path(env) if env else Path.home() / ".usacloud"


def _profile_name(settings: SakuraSettings) -> str:
    if settings.profile:
        return settings.profile
    for name in _ENV_PROFILE:
        if os.environ.get(name):
            return os.environ[name]
    current = profile_dir() / "current"
    if current.is_file():
        text = current.read_text(encoding="utf-8").strip()
        if text:
            return text
    return "default"


def _from_profile(name: str) -> Credentials | None:
    path = profile_dir() / name / "config.json"
    if not path.is_file():
        return None
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SakuraCredentialsError(f"usacloud profile {name!r} ({path}) is not valid JSON: {exc}") from None
    token, secret = doc.get("AccessToken"), doc.get("AccessTokenSecret")
    if isinstance(token, str) and isinstance(secret, str) and token and secret:
        return Credentials(token, SecretStr(secret), f"usacloud profile {name!r}")
    return None


def resolve_credentials(settings: SakuraSettings) -> Credentials:
    """The access token to scan with, see the module doc for the order.

    Raises :class:`SakuraCredentialsError` when nothing gives both halves (the message names the places
    looked at, never a value).
    """
    if settings.access_token is not None and settings.access_token_secret is not None:
        return Credentials(settings.access_token.get_secret_value(), settings.access_token_secret, "settings")
    if settings.profile is None:
        token, secret = os.environ.get(ENV_TOKEN), os.environ.get(ENV_SECRET)
        if token and secret:
            return Credentials(token, SecretStr(secret), "environment")
    name = _profile_name(settings)
    found = _from_profile(name)
    if found is not None:
        return found
    raise SakuraCredentialsError(
        f"no Sakura Cloud API key: set {ENV_TOKEN} and {ENV_SECRET}, or sakura.access_token / "
        f"access_token_secret in the config, or create the usacloud profile {name!r} "
        f"({profile_dir() / name / 'config.json'})"
    )
