"""Webhook notifications against a real HTTP server on 127.0.0.1 (werkzeug), through requests + urllib3 Retry."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from ismap_scan.ci.baseline import compare
from ismap_scan.ci.notify import NotifyError, choose_format, notify, redact_url, send, slack_escape
from ismap_scan.ci.policy import decide
from ismap_scan.ci.steps import notify_after_scan
from ismap_scan.errors import InputError
from ismap_scan.model import Result, Severity, Verdict, canonical_json


class Hook:
    """A webhook receiver: answers with ``statuses`` in turn (then 200) and records every request."""

    def __init__(self) -> None:
        self.statuses: list[int] = []
        self.requests: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        req = Request(environ)
        with self.lock:
            self.requests.append(
                {"path": req.path, "json": json.loads(req.get_data() or b"null"), "ctype": req.content_type}
            )
            status = self.statuses.pop(0) if self.statuses else 200
        return Response("ok", status=status)(environ, start_response)


@pytest.fixture
def hook() -> Iterator[tuple[Hook, str]]:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    app = Hook()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield app, f"http://127.0.0.1:{server.server_port}/hooks/T000/B000/secret-token"
    finally:
        server.shutdown()
        thread.join(5)


def res(rid: str, sev: str = "high", verdict: str = "FAIL") -> Result:
    return Result(
        check_id="aws.s3.bucket_versioning_enabled",
        verdict=Verdict(verdict),
        severity=Severity(sev),
        provider="aws",
        account="111122223333",
        region="ap-northeast-1",
        resource_type="aws.s3.bucket",
        resource_id=rid,
        resource_name=rid,
        collected_at="2026-11-30T01:02:03Z",
        title={"en": "S3 bucket versioning is enabled", "ja": "x"},
    )


def test_json_payload_posted(hook: tuple[Hook, str]) -> None:
    app, url = hook
    c = compare([res("arn:aws:s3:::a"), res("arn:aws:s3:::b", "low")], None, "high")
    d = decide(c, mode="gate")
    assert notify([url], c, d, "scan-1") == []
    (req,) = app.requests
    assert req["path"] == "/hooks/T000/B000/secret-token" and req["ctype"] == "application/json"
    body = req["json"]
    assert (
        body["schema"] == "ismap-scan/notification/v1"
        and body["exit_code"] == 3
        and body["status"] == "failures"
    )
    assert body["counts"]["new-failures-gating"] == 1 and body["counts"]["new-failures"] == 2
    assert [f["resource_id"] for f in body["new_failures"]] == ["arn:aws:s3:::a", "arn:aws:s3:::b"]


def test_slack_payload_when_asked(hook: tuple[Hook, str]) -> None:
    app, url = hook
    c = compare([res("arn:aws:s3:::<!channel>")], None, "high")
    assert notify([url], c, decide(c, mode="gate"), "scan-2", fmt="slack") == []
    body = app.requests[0]["json"]
    assert set(body) == {"text", "blocks"} and body["blocks"][0]["type"] == "section"
    assert "<!channel>" not in json.dumps(body) and "&lt;!channel&gt;" in body["blocks"][1]["text"]["text"]


def test_retries_on_5xx_then_succeeds(hook: tuple[Hook, str]) -> None:
    app, url = hook
    app.statuses = [503, 502]
    assert send(url, {"x": 1}, retries=3, backoff=0.01) == 200
    assert len(app.requests) == 3


def test_gives_up_and_never_shows_the_secret_path(hook: tuple[Hook, str]) -> None:
    app, url = hook
    app.statuses = [500] * 10
    with pytest.raises(NotifyError) as exc:
        send(url, {"x": 1}, retries=2, backoff=0.01)
    assert len(app.requests) == 3 and "HTTP 500" in str(exc.value)
    assert "secret-token" not in str(exc.value) and "127.0.0.1" in str(exc.value)
    app.statuses = [404]
    with pytest.raises(NotifyError, match="HTTP 404"):
        send(url, {"x": 1}, retries=2, backoff=0.01)  # 4xx is not retried


def test_unreachable_host_fails_quickly() -> None:
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    with pytest.raises(NotifyError, match="ConnectionError"):
        send(f"http://127.0.0.1:{port}/x", {}, retries=1, backoff=0.01)


def test_format_sniffing_and_url_checks() -> None:
    assert choose_format("https://hooks.slack.com/services/T/B/X") == "slack"
    assert choose_format("https://example.com/hook") == "json"
    assert choose_format("https://hooks.slack.com/services/T/B/X", "json") == "json"
    with pytest.raises(InputError):
        choose_format("ftp://example.com/x")
    assert redact_url("https://hooks.slack.com/services/T/B/X") == "https://hooks.slack.com/…"
    assert slack_escape("a<b>&") == "a&lt;b&gt;&amp;"


def _scan_folder(root: Path, name: str, results: list[Result]) -> Path:
    folder = root / name
    folder.mkdir(parents=True)
    lines = "".join(canonical_json(r.to_dict()) + "\n" for r in results)
    (folder / "results.jsonl").write_text(lines, encoding="utf-8")
    return folder


def test_notify_after_scan_uses_the_previous_scan(hook: tuple[Hook, str], tmp_path: Path) -> None:
    app, url = hook
    _scan_folder(tmp_path, "20261129T000000Z-aaaaaa", [res("arn:aws:s3:::old")])
    current = [res("arn:aws:s3:::old"), res("arn:aws:s3:::new")]
    folder = _scan_folder(tmp_path, "20261130T000000Z-bbbbbb", current)
    lines = notify_after_scan(folder, current, fail_on="high", urls=[url], baseline="previous")
    assert "sent to 1 of 1" in lines[0]
    body = app.requests[0]["json"]
    assert body["baseline_used"] and [f["resource_id"] for f in body["new_failures"]] == ["arn:aws:s3:::new"]
    # Nothing new since the previous scan: no notification.
    again = _scan_folder(tmp_path, "20261201T000000Z-cccccc", current)
    assert (
        "no notification sent"
        in notify_after_scan(again, current, fail_on="high", urls=[url], baseline="previous")[0]
    )
    assert len(app.requests) == 1
