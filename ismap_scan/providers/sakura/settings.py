"""The ``sakura:`` block of ``ismap-scan.yaml``: credentials source, zones, API roots, pacing and retries.

Everything is optional. With an empty block the scan reads the access token from
``SAKURACLOUD_ACCESS_TOKEN`` / ``SAKURACLOUD_ACCESS_TOKEN_SECRET`` (or the current usacloud profile), scans
every zone ``GET /zone`` reports, and paces itself at 5 requests per second (the default of Sakura's own
clients, saclient ``apiRequestRateLimit``). Unknown keys are refused (``extra="forbid"``).
"""

from __future__ import annotations

import ipaddress
import re
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

#: Root of the IaaS API (``{root}/{zone}/api/cloud/1.1``); iaas-api-go ``SakuraCloudAPIRoot``.
DEFAULT_API_ROOT = "https://secure.sakura.ad.jp/cloud/zone"

_ZONE = re.compile(r"^[a-z]{2}[0-9][a-z]$")


class SakuraSettings(BaseModel):
    """Validated ``sakura:`` settings.

    - ``profile``: a usacloud profile name (``~/.usacloud/<profile>/config.json``, keys ``AccessToken`` /
      ``AccessTokenSecret``); ``None`` = the environment, then the current usacloud profile.
    - ``access_token`` / ``access_token_secret``: the key itself (kept as :class:`SecretStr`: never printed,
      never written to the snapshot or manifest). Prefer the environment.
    - ``zones``: zone names to scan (``is1a``, ``tk1b``...) or ``"all"`` = every zone ``GET /zone`` lists.
    - ``api_root``: the IaaS root, default :data:`DEFAULT_API_ROOT` (``--sakura-api-root``; tests and private
      endpoints). The IAM and object-storage roots are derived from it unless given. Every root must be
      ``https://``; plain ``http://`` is accepted only for a loopback host (see :func:`check_api_root`).
    - ``iam_root`` / ``objectstorage_root``: override the derived roots of the newer APIs.
    - ``rate_limit``: requests per second, client side, across all threads; ``0`` switches pacing off.
    - ``max_retries``: retries per request on 423 / 429 / 503 and connection errors (urllib3 ``Retry``).
    - ``backoff_factor``: seconds; the n-th retry waits ``backoff_factor * 2**(n-1)`` (capped at
      ``backoff_max``), or the server's ``Retry-After``.
    - ``timeout``: seconds per request (connect and read).
    - ``page_size``: ``Count`` of each list page (the API documents no maximum; 100 is what the SDK uses).
    - ``max_workers``: threads across (zone x resource type); ``None`` = the scan's ``CollectOptions``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    profile: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.-]+$")
    access_token: SecretStr | None = None
    access_token_secret: SecretStr | None = None
    zones: list[str] | Literal["all"] = "all"
    api_root: str = DEFAULT_API_ROOT
    iam_root: str | None = None
    objectstorage_root: str | None = None
    rate_limit: float = Field(default=5.0, ge=0, le=100)
    max_retries: int = Field(default=6, ge=0, le=20)
    backoff_factor: float = Field(default=1.0, ge=0, le=60)
    backoff_max: float = Field(default=64.0, ge=0, le=600)
    timeout: float = Field(default=30.0, gt=0, le=600)
    page_size: int = Field(default=100, ge=1, le=1000)
    max_workers: int | None = Field(default=None, ge=1, le=64)

    @field_validator("zones")
    @classmethod
    def _check_zones(cls, v: list[str] | str) -> list[str] | str:
        if isinstance(v, str):
            return v
        if not v:
            raise ValueError('zones must name at least one zone, or be "all"')
        for name in v:
            if not _ZONE.fullmatch(name):
                raise ValueError(f"not a Sakura Cloud zone name: {name!r} (expected e.g. is1a, tk1b)")
        return sorted(set(v))

    @field_validator("api_root", "iam_root", "objectstorage_root")
    @classmethod
    def _check_root(cls, v: str | None) -> str | None:
        return None if v is None else check_api_root(v)

    def iam_api_root(self) -> str:
        """IAM API root: ``iam_root``, else ``…/cloud/api/iam/1.0`` beside the IaaS root's ``…/cloud/zone``."""
        if self.iam_root:
            return self.iam_root
        return _cloud_base(self.api_root) + "/api/iam/1.0"

    def objectstorage_api_root(self) -> str:
        """Object-storage control-plane root (the SDK reaches it through zone is1a)."""
        if self.objectstorage_root:
            return self.objectstorage_root
        return self.api_root + "/is1a/api/objectstorage/1.0"


def _is_loopback(host: str) -> bool:
    """``localhost`` or a loopback address (127.0.0.0/8, ``::1``); ``host`` as ``urlsplit().hostname`` gives it."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_api_root(url: str) -> str:
    """``url`` without trailing ``/`` if it may serve as a Sakura API root, else ``ValueError`` saying why.

    Every request carries the API key as HTTP Basic credentials (``Authorization: Basic``), which plain HTTP
    would send in clear text, so ``http://`` is allowed only where the traffic cannot leave the machine: the
    host ``localhost`` or a loopback address (127.0.0.0/8, ``::1``), as the local fake API and tests use.
    """
    if not re.match(r"^https?://[^/\s]+", url):
        raise ValueError(f"not an http(s) URL: {url!r}")
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme == "http" and not _is_loopback(host):
        raise ValueError(
            f"plain http:// would send the API key unencrypted to {host!r}; use https:// "
            "(http:// is accepted only for localhost, 127.0.0.0/8 and ::1)"
        )
    return url.rstrip("/")


def _cloud_base(api_root: str) -> str:
    """``https://secure.sakura.ad.jp/cloud/zone`` -> ``https://secure.sakura.ad.jp/cloud``."""
    return api_root[: -len("/zone")] if api_root.endswith("/zone") else api_root


def with_api_root(current: SakuraSettings | None, api_root: str) -> SakuraSettings:
    """``current`` (or defaults) with ``api_root`` replaced: the ``--sakura-api-root`` option.

    Raises :class:`~ismap_scan.errors.InputError` when ``api_root`` is not an http(s) URL, or is ``http://``
    to a host that is not loopback (:func:`check_api_root`).
    """
    from pydantic import ValidationError

    from ...errors import InputError

    data = (current or SakuraSettings()).model_dump()
    data["api_root"] = api_root
    try:
        return SakuraSettings.model_validate(data)
    except ValidationError as exc:
        raise InputError(f"--sakura-api-root: {exc.errors(include_url=False)[0]['msg']}") from None
