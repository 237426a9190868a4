"""A moto server on 127.0.0.1 (ephemeral port) for the demo, the tests and the benchmarks.

The server runs in-process (``moto.server.ThreadedMotoServer``) and answers every AWS API moto implements on
one loopback port. Clients reach it through ``endpoint_url=`` or the standard ``AWS_ENDPOINT_URL``
environment variable, so production code needs no switch for it.

Account ID: moto reads ``MOTO_ACCOUNT_ID`` from ``os.environ`` on every request (moto
``core/responses.py``, ``get_current_account``), so :func:`start_moto` sets it for the life of the server and
restores the previous value on :meth:`MotoHandle.stop`. That is process-wide: run one moto server per process.

Determinism: moto draws every generated ID (``organizations:CreateAccount``'s member account, security groups,
snapshots, CloudFront distributions, API Gateway APIs, default VPCs...) from one process-wide generator,
``moto.moto_api._internal.mock_random`` (what ``POST /moto-api/seed?a=<int>`` re-seeds). :func:`start_moto` and
:meth:`MotoHandle.reset` seed it with :data:`DEMO_RANDOM_SEED`, so a fresh or reset server that is written in
the same order (the seeder runs its calls on one thread) hands out the same IDs every run, and repeated demo
scans land in one evidence-store scope.

moto quirks handled here, on the harness side only (never in collectors): ``s3control`` endpoint rules put
``<AccountId>.`` in front of the host, which cannot resolve for ``127.0.0.1``;
:func:`s3control_host_prefix_hook` strips it again before the request is sent. Requests for an action moto
lacks, or for a service moto has no backend for at all (IAM Access Analyzer), are answered with an AWS-shaped
``NotImplemented`` error (HTTP 501) by :class:`_NotImplementedAsAwsError`, instead of an HTML 500 page, a
traceback on stderr and a "Unable to find appropriate backend" line on stdout.

moto (and its Flask/werkzeug stack) is imported inside :func:`start_moto` only, so importing this module is
cheap and works without the ``demo`` extra installed.
"""

from __future__ import annotations

import json
import logging
import os
import re
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit, urlunsplit
from xml.sax.saxutils import escape

#: The example account the demo estate lives in (AWS documentation's example ID, never a real account).
DEMO_ACCOUNT_ID = "111122223333"

#: Seed of moto's ID generator (``mock_random``) for every demo, test and benchmark server: fixed IDs run to run.
DEMO_RANDOM_SEED = 20240701

#: Explicit fake credentials for talking to moto. They are not secrets and unlock nothing real; passing them
#: keeps boto3's default chain (which probes the instance metadata address) from ever running.
FAKE_CREDENTIALS_ENV: Mapping[str, str] = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_EC2_METADATA_DISABLED": "true",
}


@dataclass
class MotoHandle:
    """A running moto server. ``endpoint`` is ``http://127.0.0.1:<port>``; ``account_id`` its account.

    Use as a context manager or call :meth:`stop`. :meth:`env` gives the environment variables that point
    unchanged boto3 code at this server with fake credentials.
    """

    endpoint: str
    account_id: str
    _server: Any = field(repr=False)
    _saved_account_env: str | None = field(default=None, repr=False)
    _stopped: bool = field(default=False, repr=False)

    def env(self, region: str = "us-east-1") -> dict[str, str]:
        """Environment for boto3 clients of this server: endpoint, fake credentials, region, one attempt.

        ``AWS_MAX_ATTEMPTS=1`` because moto answers unimplemented operations with HTTP 500, which botocore
        would otherwise retry (3 requests each).
        """
        out = dict(FAKE_CREDENTIALS_ENV)
        out.update(
            {
                "AWS_ENDPOINT_URL": self.endpoint,
                "AWS_DEFAULT_REGION": region,
                "AWS_MAX_ATTEMPTS": "1",
                "MOTO_ACCOUNT_ID": self.account_id,
            }
        )
        return out

    def reset(self, random_seed: int | None = DEMO_RANDOM_SEED) -> None:
        """Drop every resource in every moto backend (``POST /moto-api/reset``, about 35 ms), then re-seed
        moto's ID generator with ``random_seed`` (:meth:`seed_random`; ``None`` leaves it as it is).

        Raises ``urllib.error.URLError`` if the server does not answer.
        """
        from moto.core.base_backend import BackendDict, backend_lock  # lazy, like every moto import here

        known = list(BackendDict._instances)  # type: ignore[misc]  # moto's registry of BackendDicts
        self._post("/moto-api/reset")
        # moto 5.2 resets a backend by re-running its __init__, and some __init__s look up another service's
        # backend (EC2's from ELB, RDS...), re-creating it after the reset had cleared that service. Such
        # survivors were built with IDs drawn before our seed and would make this server's next IDs differ
        # from a fresh server's: drop them too, so everything is built lazily again, as on a fresh server.
        with backend_lock:
            for backends in known:
                backends.clear()
        if random_seed is not None:
            self.seed_random(random_seed)

    def seed_random(self, value: int = DEMO_RANDOM_SEED) -> None:
        """Seed moto's process-wide ID generator, ``moto.moto_api._internal.mock_random``, with ``value``.

        From here on, the same sequence of create calls gets the same IDs (account IDs, ``sg-``/``snap-``/
        ``vpc-`` IDs, UUIDs). This is what ``POST /moto-api/seed?a=<value>`` does, called directly because the
        server runs in this process: any request, even to ``/moto-api``, builds the account's IAM backend,
        and one built before the seeder's first call lacks the AWS-managed policies the seeder needs.
        """
        from moto.moto_api._internal import mock_random  # lazy, like every moto import here

        mock_random.seed(int(value))

    def _post(self, path: str) -> None:
        req = urllib.request.Request(self.endpoint + path, data=b"", method="POST")
        with urllib.request.urlopen(req, timeout=30) as resp:  # loopback only: endpoint is 127.0.0.1
            resp.read()

    def stop(self) -> None:
        """Shut the server down, join its thread and restore ``MOTO_ACCOUNT_ID``. Idempotent."""
        if self._stopped:
            return
        self._stopped = True
        self._server.stop()
        if self._saved_account_env is None:
            os.environ.pop("MOTO_ACCOUNT_ID", None)
        else:
            os.environ["MOTO_ACCOUNT_ID"] = self._saved_account_env

    def __enter__(self) -> MotoHandle:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def start_moto(
    account_id: str = DEMO_ACCOUNT_ID, *, verbose: bool = False, random_seed: int | None = DEMO_RANDOM_SEED
) -> MotoHandle:
    """Start a moto server on 127.0.0.1, port chosen by the OS, serving account ``account_id``.

    ``verbose=False`` also quiets the ``werkzeug`` logger (no per-request lines or tracebacks on stderr).
    ``random_seed`` seeds moto's ID generator once the server listens (:meth:`MotoHandle.seed_random`;
    ``None``: moto's own random seeding, IDs differ run to run).

    Returns at once (the socket is bound and listening; startup takes a few ms, the first EC2 call ~1.7 s
    while moto builds its backend). Sets ``os.environ["MOTO_ACCOUNT_ID"]`` until :meth:`MotoHandle.stop`.
    Raises ``ModuleNotFoundError`` when ``moto[server]`` is not installed (``pip install ismap-scan[demo]``).
    """
    server_cls = _server_class()  # lazy: moto pulls in Flask and every backend module

    if not verbose:
        # werkzeug logs every request (and every moto traceback) to stderr unless its logger has a level;
        # the demo and tests want quiet, and unimplemented actions come back as NotImplemented errors anyway.
        logging.getLogger("werkzeug").setLevel(logging.CRITICAL)
    saved = os.environ.get("MOTO_ACCOUNT_ID")
    os.environ["MOTO_ACCOUNT_ID"] = account_id
    server = server_cls(ip_address="127.0.0.1", port=0, verbose=verbose)
    try:
        server.start()
    except BaseException:
        if saved is None:
            os.environ.pop("MOTO_ACCOUNT_ID", None)
        else:
            os.environ["MOTO_ACCOUNT_ID"] = saved
        raise
    host, port = server.get_host_and_port()
    handle = MotoHandle(
        endpoint=f"http://{host}:{port}", account_id=account_id, _server=server, _saved_account_env=saved
    )
    if random_seed is not None:
        try:
            handle.seed_random(random_seed)
        except BaseException:
            handle.stop()
            raise
    return handle


class _NoBackend(Exception):
    """Raised by the dispatcher of :func:`_server_class` when moto has no backend for a request's service."""

    def __init__(self, service: str) -> None:
        super().__init__(service)
        self.service = service


class _NotImplementedAsAwsError:
    """WSGI middleware: answer what moto cannot serve with an AWS-shaped ``NotImplemented`` error (HTTP 501,
    not retried by botocore), so collectors record ``code: NotImplemented`` and nothing is printed.

    Two cases: an action moto lacks raises ``NotImplementedError`` out of its app (werkzeug would turn it
    into an HTML 500 that botocore cannot parse); a service moto has no backend for at all raises
    :class:`_NoBackend` from the dispatcher before any moto backend runs (moto itself would print "Unable to
    find appropriate backend" on stdout and crash in ``get_backend(None)`` with a traceback on stderr).
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        try:
            return self.app(environ, start_response)
        except NotImplementedError as exc:
            return _aws_error(environ, start_response, f"moto: {exc}", json_default=False)
        except _NoBackend as exc:
            # Services without a moto backend are mostly newer rest-json APIs (GET, no Content-Type).
            return _aws_error(
                environ, start_response, f"moto has no backend for {exc.service}", json_default=True
            )


def _aws_error(
    environ: dict[str, Any], start_response: Any, message: str, *, json_default: bool
) -> list[bytes]:
    """Send a ``NotImplemented`` HTTP 501 error in the request's protocol and return the WSGI body.

    JSON (``__type`` + ``message``, read by the json and rest-json parsers) when the request is JSON
    (``Content-Type`` with ``json`` or an ``X-Amz-Target`` header); XML (``ErrorResponse`` holding both the
    query/rest-xml ``Error`` and the ec2 ``Errors`` shape) for form and XML requests; ``json_default``
    decides when the request has no body type. The ``x-amzn-ErrorType`` header carries the code as well.
    """
    ctype = str(environ.get("CONTENT_TYPE", "")).lower()
    if "json" in ctype or environ.get("HTTP_X_AMZ_TARGET"):
        as_json = True
    elif "xml" in ctype or "form-urlencoded" in ctype:
        as_json = False
    else:
        as_json = json_default
    if as_json:
        body = json.dumps({"__type": "NotImplemented", "message": message}).encode()
        out_type = "application/x-amz-json-1.1"
    else:
        err = f"<Error><Code>NotImplemented</Code><Message>{escape(message)}</Message></Error>"
        body = (
            f"<ErrorResponse>{err}<Errors>{err}</Errors><RequestId>moto</RequestId></ErrorResponse>".encode()
        )
        out_type = "text/xml"
    headers = [
        ("Content-Type", out_type),
        ("Content-Length", str(len(body))),
        ("x-amzn-ErrorType", "NotImplemented"),
    ]
    start_response("501 Not Implemented", headers)
    return [body]


def _server_class() -> type[Any]:
    """``ThreadedMotoServer`` whose WSGI app is wrapped in :class:`_NotImplementedAsAwsError`.

    Mirrors ``ThreadedMotoServer._server_entry`` of moto 5.x (the app and werkzeug server it builds). The
    dispatcher's ``get_backend_for_host`` mirrors moto 5.x ``DomainDispatcherApplication`` except that a
    host no backend matches raises :class:`_NoBackend` instead of printing and returning ``None``.
    """
    from moto import backends
    from moto.moto_server.threaded_moto_server import MotoRequestHandler
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
    from moto.server import ThreadedMotoServer
    from werkzeug.serving import make_server

    class _Dispatcher(DomainDispatcherApplication):
        def get_backend_for_host(self, host: str | None) -> Any:
            # moto calls this first with the moto-api/metadata pseudo-host or None (then infers a host
            # from the signature and asks again); only the inferred, unmatched host means "no backend".
            if host is None:
                return None
            if host == "moto_api" or host in backends.list_of_moto_modules():
                return host
            for backend, pattern in self.backend_url_patterns:
                if pattern.match(f"http://{host}"):
                    return backend
            raise _NoBackend(_service_of(host))

    def _create_app_keeping_random(service: Any) -> Any:
        # moto builds a service's Flask app on the server's first request for it, and that builds a backend
        # for its default account (IDs drawn from mock_random). Undo those draws: otherwise a fresh server
        # and a reset one (apps already built) would hand out different IDs for the same seed and calls.
        from moto.moto_api._internal import mock_random

        state = mock_random.getstate()
        try:
            return create_backend_app(service)
        finally:
            mock_random.setstate(state)

    class _Server(ThreadedMotoServer):
        def _server_entry(self) -> None:
            app = _NotImplementedAsAwsError(_Dispatcher(_create_app_keeping_random))
            self._server = make_server(
                self._ip_address, self._port, app, True, request_handler=MotoRequestHandler
            )
            self._server_ready_event.set()
            self._server.serve_forever()

    return _Server


def _service_of(host: str) -> str:
    """``access-analyzer.ap-northeast-1.amazonaws.com`` -> ``access-analyzer`` (moto builds these hosts from
    the SigV4 signing name and region)."""
    return host.split(".", 1)[0] or host


@contextmanager
def moto_server(account_id: str = DEMO_ACCOUNT_ID) -> Iterator[MotoHandle]:
    """``with moto_server() as moto:`` — :func:`start_moto` that always stops."""
    handle = start_moto(account_id)
    try:
        yield handle
    finally:
        handle.stop()


# A 12-digit account ID prepended to a loopback host by the s3control endpoint rules.
_ACCOUNT_PREFIX = re.compile(r"^\d{12}\.(?=(?:127\.0\.0\.1|localhost|\[::1\])(?::\d+)?$)")


def _strip_account_prefix(request: Any, **_: Any) -> None:
    """botocore ``before-send`` handler: ``http://111122223333.127.0.0.1:5000/...`` → ``http://127.0.0.1:5000/...``.

    Only loopback hosts are touched, so the hook is inert against real AWS endpoints.
    """
    parts = urlsplit(request.url)
    netloc = _ACCOUNT_PREFIX.sub("", parts.netloc)
    if netloc != parts.netloc:
        request.url = urlunsplit(parts._replace(netloc=netloc))


def s3control_host_prefix_hook(session: Any) -> None:
    """Client hook for ``CollectOptions.client_hooks`` (and the seeder): make ``s3control`` reach moto.

    ``session`` is a ``boto3.Session`` or a ``botocore.session.Session`` (anything with ``.events``), or a
    client (``.meta.events``). Registers a ``before-send.s3-control.*`` handler; clients created from a
    session *after* this call inherit it. Returns nothing, raises ``TypeError`` for another object.
    """
    events = getattr(session, "events", None)
    if events is None:
        meta = getattr(session, "meta", None)
        events = getattr(meta, "events", None)
    if events is None:
        raise TypeError(f"expected a boto3/botocore session or client, got {type(session).__name__}")
    events.register(
        "before-send.s3-control.*", _strip_account_prefix, unique_id="ismap-scan-s3control-prefix"
    )
