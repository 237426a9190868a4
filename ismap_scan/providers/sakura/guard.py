"""The read-only guard for Sakura Cloud (DESIGN §7): only ``GET`` ever leaves the process.

Every Sakura API changes state with ``POST``/``PUT``/``DELETE`` (create, power, attach, share an archive,
generate a key) and reads with ``GET``, so the method alone is a complete allow-list. :class:`GetOnlySession`
refuses any other method in :meth:`~GetOnlySession.request` (before a request is even prepared) and again in
:meth:`~GetOnlySession.send` (for code that prepares requests itself), raising :class:`ReadOnlyViolation`.
``HEAD`` and ``OPTIONS`` are refused too: the scanner has no use for them.
"""

from __future__ import annotations

from typing import Any

import requests

from ...errors import IsmapScanError

ALLOWED_METHODS = frozenset({"GET"})


class ReadOnlyViolation(IsmapScanError):
    """A non-GET request was attempted: a defect in ismap-scan, never a cloud error. Nothing was sent."""

    def __init__(self, method: str, url: str) -> None:
        self.method = method
        self.url = url
        super().__init__(f"refused {method} {url}: the Sakura Cloud provider only sends GET requests")


def _check(method: str | bytes | None, url: Any) -> None:
    name = method.decode() if isinstance(method, bytes) else str(method or "")
    if name.upper() not in ALLOWED_METHODS:
        raise ReadOnlyViolation(name.upper() or "?", str(url))


class GetOnlySession(requests.Session):
    """A :class:`requests.Session` that can only send ``GET``."""

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        _check(method, url)
        return super().request(method, url, *args, **kwargs)  # type: ignore[arg-type]

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        _check(request.method, request.url)
        return super().send(request, **kwargs)
