"""HTTP client for the Sakura Cloud APIs: Basic auth, JSON query strings, paging, retries and pacing.

Wire rules (``../shared/SAKURA-API.md`` §2; iaas-api-go ``client.go``):

- IaaS URL: ``{api_root}/{zone}/api/cloud/1.1/{path}``; global resources are read through zone ``is1a``.
- A list is ``GET {url}?{percent-encoded JSON}`` with ``From`` (0-based offset), ``Count``, ``Sort`` and
  ``Filter``; the answer is ``{"From", "Count", "Total", "<Plural>": [...], "is_ok"}``. Spaces are encoded as
  ``%20`` (the server does not decode ``+``), so the query is built here, never passed as ``params=``.
- Headers: ``X-Sakura-Bigint-As-Int: 1`` (IDs as JSON numbers; the parser accepts strings anyway) and
  ``X-Requested-With: XMLHttpRequest``, as the official clients send.
- Errors: classic ``{"is_fatal", "status", "error_code", "error_msg"}``, newer APIs
  ``{"error": {"code", "message"}}``. Branch on the HTTP status; the code/message are text for the report.
- Retries (urllib3 ``Retry`` on the session's adapters): HTTP 423 (resource locked), 429 (honouring
  ``Retry-After``) and 503 (``busy``), plus connection errors and read timeouts, with exponential backoff.
  Only ``GET`` is retried, and only ``GET`` is ever sent (:mod:`.guard`).
- Pacing: a :class:`~.ratelimit.RateLimiter` shared by all threads, taken once per logical request (a
  retry's backoff already spaces its attempts).

Every failure surfaces as :class:`SakuraApiError` (``status`` ``None`` for a connection failure); the
collectors turn it into a :class:`~ismap_scan.model.CollectionError`, never into an empty answer.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlencode

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from ... import __version__
from .credentials import Credentials
from .guard import ALLOWED_METHODS, GetOnlySession
from .ratelimit import RateLimiter
from .settings import SakuraSettings

#: Zone the SDK uses for global resources (iaas-api-go ``APIDefaultZone``).
GLOBAL_ZONE = "is1a"

#: HTTP statuses retried with backoff: 423 Locked, 429 Too Many Requests, 503 busy.
RETRY_STATUSES = frozenset({423, 429, 503})

#: Pages fetched at most for one listing (a server that ignores ``From`` must not loop forever).
MAX_PAGES = 10_000


class SakuraApiError(Exception):
    """A request that did not give a usable answer.

    ``status``: HTTP status, or ``None`` when no response arrived (connection refused, timeout).
    ``code``: the body's ``error_code`` (``"busy"``, ``"not_found"``), else a name for the status
    (``"HTTP503"``) or the failure (``"ConnectionError"``, ``"BadResponse"``). ``message``: text for the
    report (never contains credentials).
    """

    def __init__(self, status: int | None, code: str, message: str) -> None:
        self.status = status
        self.code = code
        self.message = message
        super().__init__(f"{status or '-'} {code}: {message}")


def build_retry(settings: SakuraSettings) -> Retry:
    """The urllib3 retry policy for ``settings`` (see the module doc)."""
    return Retry(
        total=settings.max_retries,
        connect=settings.max_retries,
        read=settings.max_retries,
        status=settings.max_retries,
        other=0,
        redirect=0,
        allowed_methods=ALLOWED_METHODS,
        status_forcelist=RETRY_STATUSES,
        backoff_factor=settings.backoff_factor,
        backoff_max=settings.backoff_max,
        respect_retry_after_header=True,
        raise_on_status=False,  # the last answer is returned and classified below
    )


def encode_query(query: Mapping[str, Any]) -> str:
    """The JSON query string of a list call: compact JSON, percent-encoded with ``%20`` for spaces."""
    return quote(json.dumps(query, separators=(",", ":"), ensure_ascii=False), safe="")


def _error_from_body(resp: requests.Response) -> SakuraApiError:
    code, message = f"HTTP{resp.status_code}", resp.reason or ""
    try:
        body = resp.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        if isinstance(body.get("error"), dict):  # newer APIs
            err = body["error"]
            reasons = [e.get("reason") for e in err.get("errors") or [] if isinstance(e, dict)]
            code = str(next((r for r in reasons if r), None) or err.get("code") or code)
            message = str(err.get("message") or message)
        else:
            code = str(body.get("error_code") or code)
            message = str(body.get("error_msg") or body.get("status") or message)
    return SakuraApiError(resp.status_code, code, message[:300])


class SakuraClient:
    """GET-only client for one API key. Thread-safe: one :class:`requests.Session` per thread, one shared
    :class:`RateLimiter`. ``requests_made`` counts logical requests (retries excluded)."""

    def __init__(
        self, settings: SakuraSettings, credentials: Credentials, limiter: RateLimiter | None = None
    ):
        self.settings = settings
        self._auth = (credentials.token, credentials.secret.get_secret_value())
        self.limiter = limiter or RateLimiter(settings.rate_limit)
        self._local = threading.local()
        self._sessions: list[requests.Session] = []
        self._lock = threading.Lock()
        self.requests_made = 0

    # -- plumbing -------------------------------------------------------------------------------------------

    def _session(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = GetOnlySession()
            session.auth = self._auth
            session.trust_env = False  # no netrc / proxy credentials from the environment
            session.headers.update(
                {
                    "User-Agent": f"ismap-scan/{__version__}",
                    "Accept": "application/json",
                    "X-Requested-With": "XMLHttpRequest",
                    "X-Sakura-Bigint-As-Int": "1",
                }
            )
            adapter = HTTPAdapter(max_retries=build_retry(self.settings))
            session.mount("https://", adapter)
            session.mount("http://", adapter)
            self._local.session = session
            with self._lock:
                self._sessions.append(session)
        return session

    def close(self) -> None:
        """Close every thread's session."""
        with self._lock:
            for s in self._sessions:
                s.close()
            self._sessions.clear()

    def zone_url(self, zone: str, path: str) -> str:
        """``{api_root}/{zone}/api/cloud/1.1/{path}``."""
        return f"{self.settings.api_root}/{zone}/api/cloud/1.1/{path.lstrip('/')}"

    def get(
        self, url: str, query: Mapping[str, Any] | None = None, params: Mapping[str, Any] | None = None
    ) -> Any:
        """``GET url`` with a JSON query string (``query``) or ordinary parameters (``params``); returns the
        parsed JSON body. Raises :class:`SakuraApiError` for a non-2xx answer after retries, a failed
        connection or a body that is not JSON."""
        if query is not None:
            url = f"{url}?{encode_query(query)}"
        elif params:
            url = f"{url}?{urlencode(params)}"
        self.limiter.acquire()
        with self._lock:
            self.requests_made += 1
        try:
            resp = self._session().get(url, timeout=self.settings.timeout, allow_redirects=False)
        except requests.exceptions.RetryError as exc:  # retries exhausted on a status (not raised by default)
            raise SakuraApiError(None, "RetriesExhausted", str(exc)[:300]) from None
        except requests.exceptions.Timeout:
            raise SakuraApiError(None, "Timeout", f"no answer within {self.settings.timeout:g} s") from None
        except requests.exceptions.ConnectionError as exc:
            raise SakuraApiError(None, "ConnectionError", _connection_message(exc)) from None
        if not 200 <= resp.status_code < 300:
            raise _error_from_body(resp)
        if resp.status_code == 204 or not resp.content:
            return {}
        try:
            return resp.json()
        except ValueError:
            raise SakuraApiError(resp.status_code, "BadResponse", "the answer is not JSON") from None

    # -- listings -------------------------------------------------------------------------------------------

    def list_all(
        self, zone: str, path: str, envelope: str, filter: Mapping[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """Every item of a classic list call, paging ``From``/``Count`` until ``Total`` is reached.

        ``envelope`` is the plural key (``"Servers"``, ``"Internet"``). Items are de-duplicated by ``ID``
        (a resource created while paging shifts the pages). A page without the key while items remain, or a
        non-list value, raises :class:`SakuraApiError` ``BadResponse``.
        """
        size = self.settings.page_size
        out: list[dict[str, Any]] = []
        seen: set[str] = set()
        start = 0
        for _ in range(MAX_PAGES):
            query: dict[str, Any] = {"From": start, "Count": size, "Sort": ["ID"]}
            if filter:
                query["Filter"] = dict(filter)
            page = self.get(self.zone_url(zone, path), query=query)
            if not isinstance(page, dict):
                raise SakuraApiError(200, "BadResponse", f"{path}: the answer is not an object")
            items = page.get(envelope)
            total = _as_int(page.get("Total"))
            if items is None:
                if total in (None, 0) or start >= (total or 0):
                    break
                raise SakuraApiError(200, "BadResponse", f"{path}: no {envelope} in a page before Total")
            if not isinstance(items, list):
                raise SakuraApiError(200, "BadResponse", f"{path}: {envelope} is not a list")
            for item in items:
                if not isinstance(item, dict):
                    continue
                key = str(item.get("ID"))
                if key in seen and item.get("ID") is not None:
                    continue
                seen.add(key)
                out.append(item)
            start += len(items)
            if not items or (total is not None and start >= total) or (total is None and len(items) < size):
                break
        return out

    def list_items_api(self, url: str, per_page: int = 100) -> list[dict[str, Any]]:
        """Every item of a newer-API list (``{"items", "count", "next"}``), paging ``page``/``per_page``.

        The ``next`` URL is not followed: it could name another host, and the API key must only ever go to
        the configured roots.
        """
        out: list[dict[str, Any]] = []
        for page_no in range(1, MAX_PAGES):
            body = self.get(url, params={"page": page_no, "per_page": per_page})
            items = body.get("items") if isinstance(body, dict) else None
            if not isinstance(items, list):
                raise SakuraApiError(200, "BadResponse", f"{url}: no items list")
            out.extend(i for i in items if isinstance(i, dict))
            count = _as_int(body.get("count"))
            if not items or (count is not None and len(out) >= count) or not body.get("next"):
                break
        return out


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def _connection_message(exc: Exception) -> str:
    """A short cause for a connection failure (urllib3 nests the reason several levels deep)."""
    text = str(exc)
    for marker in ("Connection refused", "Name or service not known", "timed out", "Max retries exceeded"):
        if marker in text:
            return marker
    return text[:200]
