"""A fake Sakura Cloud API on 127.0.0.1 (werkzeug), for the demo, the tests and the benchmark.

Nothing upstream offers an HTTP-level fake of ``cloud/1.1`` (SAKURA-API.md §5), so this one follows §5.3:

- ``/cloud/zone/{zone}/api/cloud/1.1/…``: ``auth-status`` (unwrapped), ``zone``, and for every stored
  resource path (``server``, ``disk``, ``appliance``, ``commonserviceitem``, …) the list call, the single
  read ``…/{id}`` and sub-resources ``…/{id}/{suffix}`` (``proxylb/sslcertificate``). Global paths answer
  the same in every zone.
- ``/cloud/api/iam/1.0/…`` (``{items, count, next}`` with ``page``/``per_page``) and
  ``/cloud/zone/is1a/api/objectstorage/1.0/…`` (``{data}``).
- HTTP Basic auth (401 + standard error body otherwise); the raw query string is percent-decoded once
  (``unquote``, not ``unquote_plus``) and parsed as JSON (400 when it is not).
- ``Filter`` subset: array = exact match (OR), string = partial match of every word, ``Tags.Name`` with a
  nested array = all tags, dotted paths (``Provider.Class``), ``>``/``>=``/``<``/``<=`` suffixes. Then
  ``Sort``, then paging: ``Total`` counts matches after filtering; ``Count`` is capped at ``page_cap``.
- ``X-Sakura-Bigint-As-Int: 1`` -> IDs as JSON numbers, otherwise as strings (as the real API does).
- Switches (:class:`FakeSakura` attributes, changed by tests): :meth:`FakeSakura.add_fault` (status 401 /
  403 / 404 / 423 / 429 / 503 on matching paths, N times or forever, ``Retry-After``, slow answers),
  ``latency`` (seconds per request), ``force_string_ids``, ``page_cap``, and counters: ``requests``,
  ``non_get``, ``log``.
- Anything but GET -> 405 (and counted: the scanner must never send one).
"""

from __future__ import annotations

import copy
import json
import logging
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote

from werkzeug.datastructures import Authorization
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from .estate import SakuraEstate

#: Plural (list) and singular (read) envelope keys per resource path (iaas-api-go ``zz_envelopes.go``).
ENVELOPES: dict[str, tuple[str, str]] = {
    "server": ("Servers", "Server"),
    "disk": ("Disks", "Disk"),
    "switch": ("Switches", "Switch"),
    "internet": ("Internet", "Internet"),
    "interface": ("Interfaces", "Interface"),
    "packetfilter": ("PacketFilters", "PacketFilter"),
    "appliance": ("Appliances", "Appliance"),
    "commonserviceitem": ("CommonServiceItems", "CommonServiceItem"),
    "archive": ("Archives", "Archive"),
    "sshkey": ("SSHKeys", "SSHKey"),
    "zone": ("Zones", "Zone"),
}
_BIGINT = 10**11
_CLOUD = re.compile(r"^/cloud/zone/(?P<zone>[a-z0-9]+)/api/cloud/1\.1/(?P<rest>.*)$")
_IAM = re.compile(r"^/cloud/api/iam/1\.0/(?P<rest>.*)$")
_OBJ = re.compile(r"^/cloud/zone/is1a/api/objectstorage/1\.0/(?P<rest>.*)$")

FAKE_TOKEN = "00000000-0000-4000-8000-000000000001"
FAKE_SECRET = "fake-secret-for-tests-only-0001"  # not a real credential; the fake accepts nothing else


@dataclass
class Fault:
    """Answer ``status`` for requests whose path matches ``path`` (regex, ``search``) ``times`` times
    (``-1``: forever). ``retry_after`` sets the header; ``delay`` sleeps first (slow answers)."""

    path: str
    status: int
    times: int = 1
    retry_after: str | None = None
    delay: float = 0.0
    error_code: str | None = None


@dataclass
class FakeSakura:
    """The WSGI app and its switches. ``estate`` is served as-is (deep-copied per answer)."""

    estate: SakuraEstate
    token: str = FAKE_TOKEN
    secret: str = FAKE_SECRET
    page_cap: int = 50
    latency: float = 0.0
    faults: list[Fault] = field(default_factory=list)
    requests: int = 0
    non_get: int = 0
    log: list[dict[str, Any]] = field(default_factory=list)
    keep_log: bool = True
    #: Answer every number as a string, as without ``X-Sakura-Bigint-As-Int`` (the header is then ignored).
    force_string_ids: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add_fault(self, path: str, status: int, times: int = 1, **kw: Any) -> Fault:
        fault = Fault(path, status, times, **kw)
        with self._lock:
            self.faults.append(fault)
        return fault

    def reset_counters(self) -> None:
        with self._lock:
            self.requests = 0
            self.non_get = 0
            self.log.clear()
            self.faults.clear()

    # -- WSGI ---------------------------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        response = self._dispatch(request)
        return response(environ, start_response)

    def _dispatch(self, req: Request) -> Response:
        raw_qs = req.environ.get("QUERY_STRING", "")
        auth = req.authorization
        authorized = _auth_ok(auth, self.token, self.secret)
        with self._lock:
            self.requests += 1
            if req.method != "GET":
                self.non_get += 1
            if self.keep_log:
                self.log.append(
                    {
                        "method": req.method,
                        "path": req.path,
                        "query": unquote(raw_qs),
                        "authorized": authorized,
                        "bigint": req.headers.get("X-Sakura-Bigint-As-Int"),
                    }
                )
            fault = self._take_fault(req.path)
        if self.latency:
            time.sleep(self.latency)
        if req.method != "GET":
            return _error(405, "method_not_allowed", "only GET is served by this fake")
        if not authorized:
            return _error(401, "unauthorized", "invalid access token")
        if fault is not None:
            if fault.delay:
                time.sleep(fault.delay)
            resp = _error(
                fault.status, fault.error_code or _CODES.get(fault.status, "error"), "injected fault"
            )
            if fault.retry_after is not None:
                resp.headers["Retry-After"] = fault.retry_after
            return resp
        bigint = req.headers.get("X-Sakura-Bigint-As-Int") == "1" and not self.force_string_ids
        try:
            body = self._route(req.path, raw_qs)
        except _HttpError as exc:
            return _error(exc.status, exc.code, exc.message)
        if not bigint:
            body = _ids_as_strings(body)
        return Response(json.dumps(body, ensure_ascii=False), status=200, content_type="application/json")

    def _take_fault(self, path: str) -> Fault | None:
        for fault in self.faults:
            if fault.times != 0 and re.search(fault.path, path):
                if fault.times > 0:
                    fault.times -= 1
                return fault
        return None

    # -- routes -------------------------------------------------------------------------------------------

    def _route(self, path: str, raw_qs: str) -> Any:
        m = _OBJ.match(path)
        if m:
            return self._objectstorage(m.group("rest"))
        m = _IAM.match(path)
        if m:
            return self._iam(m.group("rest"), raw_qs)
        m = _CLOUD.match(path)
        if not m:
            raise _HttpError(404, "not_found", "no such API")
        zone, rest = m.group("zone"), m.group("rest").strip("/")
        if zone not in {z["Name"] for z in self.estate.zones}:
            raise _HttpError(404, "not_found", f"unknown zone {zone}")
        query = _parse_query(raw_qs)
        if rest == "auth-status":
            return copy.deepcopy(self.estate.auth_status)  # unwrapped (SAKURA-API §2.2)
        parts = rest.split("/")
        rpath = parts[0]
        if rpath == "zone" and len(parts) == 1:
            return self._page(copy.deepcopy(self.estate.zones), query, "Zones")
        items = self.estate.items(zone, rpath)
        if items is None or rpath not in ENVELOPES:
            raise _HttpError(404, "not_found", f"unknown resource {rpath}")
        plural, singular = ENVELOPES[rpath]
        if len(parts) == 1:
            return self._page(copy.deepcopy(items), query, plural)
        item = next((i for i in items if str(i.get("ID")) == parts[1]), None)
        if item is None:
            raise _HttpError(404, "not_found", "resource not found")
        if len(parts) == 2:
            return {singular: copy.deepcopy(item), "is_ok": True}
        sub = self.estate.subresources.get((rpath, str(item["ID"]), "/".join(parts[2:])))
        if sub is None:
            raise _HttpError(404, "not_found", "resource not found")
        return {**copy.deepcopy(sub), "is_ok": True}

    def _page(self, items: list[dict[str, Any]], query: dict[str, Any], plural: str) -> dict[str, Any]:
        matched = [i for i in items if _matches(i, query.get("Filter") or {})]
        for key in reversed(query.get("Sort") or []):
            desc = key.startswith("-")
            matched.sort(key=_sort_key(key.lstrip("-")), reverse=desc)
        start = int(query.get("From") or 0)
        count = int(query.get("Count") or self.page_cap)
        count = min(count, self.page_cap)
        page = matched[start : start + count]
        return {"From": start, "Count": len(page), "Total": len(matched), plural: page, "is_ok": True}

    def _iam(self, rest: str, raw_qs: str) -> Any:
        rest = rest.strip("/")
        value = self.estate.iam.get(rest)
        if value is None:
            raise _HttpError(404, "not_found", f"unknown IAM path {rest}")
        if isinstance(value, list):
            qs = parse_qs(raw_qs)
            page = int((qs.get("page") or ["1"])[0])
            per = min(int((qs.get("per_page") or ["20"])[0]), self.page_cap)
            chunk = value[(page - 1) * per : page * per]
            more = page * per < len(value)
            base = f"/cloud/api/iam/1.0/{rest}"
            return {
                "items": copy.deepcopy(chunk),
                "count": len(value),
                "next": f"{base}?page={page + 1}&per_page={per}" if more else None,
                "previous": f"{base}?page={page - 1}&per_page={per}" if page > 1 else None,
            }
        return copy.deepcopy(value)

    def _objectstorage(self, rest: str) -> Any:
        store = self.estate.objectstorage
        rest = rest.strip("/")
        if rest == "fed/v1/clusters":
            return {"data": copy.deepcopy(store.get("clusters", []))}
        m = re.fullmatch(r"(?P<site>[a-z0-9]+)/v2/buckets(?:/(?P<name>[^/]+)/encryption)?", rest)
        if not m:
            raise _HttpError(404, "not_found", "no such object-storage API")
        site, name = m.group("site"), m.group("name")
        if name is None:
            return {"data": copy.deepcopy(store.get("buckets", {}).get(site, []))}
        enc = store.get("encryption", {}).get(f"{site}/{name}")
        if enc is None:
            raise _HttpError(404, "not_found", "encryption is not configured")
        return {"data": copy.deepcopy(enc)}


class _HttpError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        self.status, self.code, self.message = status, code, message


_CODES = {
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    423: "locked",
    429: "too_many_requests",
    503: "busy",
}
_REASONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    423: "Locked",
    429: "Too Many Requests",
    503: "Service Unavailable",
}


def _error(status: int, code: str, message: str) -> Response:
    """The classic error envelope (iaas-api-go ``error.go``)."""
    body = {
        "is_fatal": True,
        "serial": "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
        "status": f"{status} {_REASONS.get(status, 'Error')}",
        "error_code": code,
        "error_msg": message,
    }
    return Response(json.dumps(body), status=status, content_type="application/json")


def _auth_ok(auth: Authorization | None, token: str, secret: str) -> bool:
    return auth is not None and auth.type == "basic" and auth.username == token and auth.password == secret


def _parse_query(raw: str) -> dict[str, Any]:
    if not raw:
        return {}
    try:
        doc = json.loads(unquote(raw))
    except ValueError:
        raise _HttpError(400, "bad_request", "the query string is not JSON") from None
    if not isinstance(doc, dict):
        raise _HttpError(400, "bad_request", "the query must be a JSON object")
    return doc


def _dig(item: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(item, dict):
            return None
        item = item.get(part)
    return item


def _sort_key(name: str) -> Any:
    def key(item: dict[str, Any]) -> tuple[int, str]:
        value = _dig(item, name)
        # numbers by value, then text: 12-digit IDs sort numerically whatever their wire type
        return (0, f"{value:020d}") if isinstance(value, int) else (1, str(value or ""))

    return key


def _matches(item: dict[str, Any], filt: dict[str, Any]) -> bool:
    for key, cond in filt.items():
        op = next((o for o in (">=", "<=", ">", "<") if key.endswith(o)), None)
        name = key[: -len(op)] if op else key
        value = _dig(item, name)
        if op:
            if value is None:
                return False
            a, b = str(value), str(cond)
            if not {">=": a >= b, "<=": a <= b, ">": a > b, "<": a < b}[op]:
                return False
        elif isinstance(cond, list) and cond and isinstance(cond[0], list):  # Tags.Name: [["a", "b"]]
            have = set(_dig(item, name.rsplit(".", 1)[0]) or []) if name.endswith(".Name") else set()
            if not set(cond[0]) <= have:
                return False
        elif isinstance(cond, list):
            if str(value) not in {str(c) for c in cond}:
                return False
        elif isinstance(cond, str):
            text = str(value or "").lower()
            if not all(w.lower() in text for w in cond.split()):
                return False
        elif value != cond:
            return False
    return True


def _ids_as_strings(value: Any) -> Any:
    """Without the bigint header the API sends 12-digit numbers as strings."""
    if isinstance(value, dict):
        return {k: _ids_as_strings(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_ids_as_strings(v) for v in value]
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= _BIGINT:
        return str(value)
    return value


@dataclass
class SakuraHandle:
    """A running fake: ``api_root`` (for ``--sakura-api-root``), the app (switches and counters)."""

    host: str
    port: int
    app: FakeSakura

    @property
    def base(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_root(self) -> str:
        return f"{self.base}/cloud/zone"

    def settings(self, **extra: Any) -> dict[str, Any]:
        """A ``sakura:`` settings block pointing at this fake with its credentials."""
        return {
            "api_root": self.api_root,
            "access_token": self.app.token,
            "access_token_secret": self.app.secret,
            **extra,
        }


@contextmanager
def start_fake_sakura(estate: SakuraEstate | None = None, **kw: Any) -> Iterator[SakuraHandle]:
    """Serve ``estate`` (default: the demo estate) on 127.0.0.1 at an ephemeral port, in a thread."""
    from .estate import build_estate

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    app = FakeSakura(estate or build_estate(), **kw)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    # A short poll interval makes shutdown quick (tests start a fake per test).
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-sakura", daemon=True
    )
    thread.start()
    try:
        yield SakuraHandle("127.0.0.1", server.server_port, app)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
