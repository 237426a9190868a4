"""A moto server on 127.0.0.1 (ephemeral port) for the demo, the tests and the benchmarks.

The server runs in-process (``moto.server.ThreadedMotoServer``) and answers every AWS API moto implements on
one loopback port. Clients reach it through ``endpoint_url=`` or the standard ``AWS_ENDPOINT_URL``
environment variable, so production code needs no switch for it.

Account ID: moto reads ``MOTO_ACCOUNT_ID`` from ``os.environ`` on every request (moto
``core/responses.py``, ``get_current_account``), so :func:`start_moto` sets it for the life of the server and
restores the previous value on :meth:`MotoHandle.stop`. That is process-wide: run one moto server per process.

moto quirk handled here, on the harness side only (never in collectors): ``s3control`` endpoint rules put
``<AccountId>.`` in front of the host, which cannot resolve for ``127.0.0.1``;
:func:`s3control_host_prefix_hook` strips it again before the request is sent.

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

    def reset(self) -> None:
        """Drop every resource in every moto backend (``POST /moto-api/reset``, about 35 ms).

        Raises ``urllib.error.URLError`` if the server does not answer.
        """
        req = urllib.request.Request(self.endpoint + "/moto-api/reset", data=b"", method="POST")
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


def start_moto(account_id: str = DEMO_ACCOUNT_ID, *, verbose: bool = False) -> MotoHandle:
    """Start a moto server on 127.0.0.1, port chosen by the OS, serving account ``account_id``.

    ``verbose=False`` also quiets the ``werkzeug`` logger (no per-request lines or tracebacks on stderr).

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
    return MotoHandle(
        endpoint=f"http://{host}:{port}", account_id=account_id, _server=server, _saved_account_env=saved
    )


class _NotImplementedAsAwsError:
    """WSGI middleware: an action moto lacks raises ``NotImplementedError`` out of its app, which werkzeug
    turns into an HTML 500 that botocore cannot parse. Answer an AWS-shaped ``NotImplemented`` error (HTTP
    501, not retried) instead, in JSON for JSON protocols and in XML that the query, ec2 and rest-xml
    parsers all read, so collectors record ``code: NotImplemented``."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        try:
            return self.app(environ, start_response)
        except NotImplementedError as exc:
            message = f"moto: {exc}"
            ctype = str(environ.get("CONTENT_TYPE", ""))
            if "json" in ctype:
                body = json.dumps({"__type": "NotImplemented", "message": message}).encode()
                ctype = "application/x-amz-json-1.1"
            else:
                err = f"<Error><Code>NotImplemented</Code><Message>{escape(message)}</Message></Error>"
                body = (
                    f"<ErrorResponse>{err}<Errors>{err}</Errors><RequestId>moto</RequestId></ErrorResponse>"
                ).encode()
                ctype = "text/xml"
            headers = [
                ("Content-Type", ctype),
                ("Content-Length", str(len(body))),
                ("x-amzn-ErrorType", "NotImplemented"),
            ]
            start_response("501 Not Implemented", headers)
            return [body]


def _server_class() -> type[Any]:
    """``ThreadedMotoServer`` whose WSGI app is wrapped in :class:`_NotImplementedAsAwsError`.

    Mirrors ``ThreadedMotoServer._server_entry`` of moto 5.x (the app and werkzeug server it builds).
    """
    from moto.moto_server.threaded_moto_server import MotoRequestHandler
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
    from moto.server import ThreadedMotoServer
    from werkzeug.serving import make_server

    class _Server(ThreadedMotoServer):
        def _server_entry(self) -> None:
            app = _NotImplementedAsAwsError(DomainDispatcherApplication(create_backend_app))
            self._server = make_server(
                self._ip_address, self._port, app, True, request_handler=MotoRequestHandler
            )
            self._server_ready_event.set()
            self._server.serve_forever()

    return _Server


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
