"""Notifications for scheduled runs outside GitHub: a JSON webhook or a Slack-compatible incoming webhook.

Posts the new-failure summary of a :class:`~ismap_scan.ci.baseline.Comparison`. Formats:

- ``json``: ``{"schema": "ismap-scan/notification/v1", "scan_id", "status", "exit_code", "fail_on",
  "baseline_used", "counts": {...}, "new_failures": [{check_id, severity, title, provider, account, region,
  resource_type, resource_id, resource_name, finding_key, controls}], "new_failures_shown", "truncated"}``;
- ``slack``: ``{"text": ..., "blocks": [section blocks in mrkdwn]}`` (Slack "Sending messages using incoming
  webhooks"; the text is escaped as Slack asks: ``&``, ``<``, ``>``). Mattermost and Rocket.Chat accept it too.

``auto`` picks ``slack`` for ``https://hooks.slack.com/…`` and ``json`` otherwise. A webhook URL is a secret
(it carries the token), so messages only ever show its scheme and host.

Requests use a timeout and retries with backoff on connection errors and 429/5xx (urllib3 ``Retry``, which
honours ``Retry-After``). ``requests`` comes with the ``notify`` extra.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from ..errors import InputError, IsmapScanError
from ..model import Result
from .baseline import Comparison
from .policy import Decision

FORMATS = ("auto", "json", "slack")
SCHEMA = "ismap-scan/notification/v1"
#: How many new failures a message lists (the counts always cover all of them).
MAX_LISTED = 50
#: (connect, read) timeouts in seconds.
TIMEOUT = (5.0, 15.0)
RETRY_STATUSES = (429, 500, 502, 503, 504)


class NotifyError(IsmapScanError):
    """A webhook could not be reached or answered with an error after the retries."""


def redact_url(url: str) -> str:
    """``scheme://host/…``: what may be shown of a webhook URL (its path and query hold the secret)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or '?'}{':' + str(parts.port) if parts.port else ''}/…"


def choose_format(url: str, fmt: str = "auto") -> str:
    """``json`` or ``slack`` for ``url``; ``auto`` sniffs ``hooks.slack.com``. Raises :class:`InputError` for
    an unknown format or a URL that is not http(s)."""
    if fmt not in FORMATS:
        raise InputError(f"--notify-format: expected one of {', '.join(FORMATS)}, got {fmt!r}")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError(f"--notify: expected an http(s) URL, got {redact_url(url)}")
    if fmt != "auto":
        return fmt
    return "slack" if parts.hostname == "hooks.slack.com" else "json"


def _finding(r: Result) -> dict[str, Any]:
    return {
        "check_id": r.check_id,
        "severity": r.severity.value,
        "title": r.title.get("en", r.check_id),
        "provider": r.provider,
        "account": r.account,
        "region": r.region,
        "resource_type": r.resource_type,
        "resource_id": r.resource_id,
        "resource_name": r.resource_name,
        "finding_key": r.finding_key,
        "controls": [c.id for c in r.controls],
    }


def json_payload(c: Comparison, decision: Decision, scan_id: str) -> dict[str, Any]:
    """The generic webhook body (see the module docstring)."""
    listed = c.new[:MAX_LISTED]
    return {
        "schema": SCHEMA,
        "scan_id": scan_id,
        "status": "failures" if decision.code == 3 else ("incomplete" if decision.code == 4 else "ok"),
        "exit_code": decision.code,
        "reason": decision.reason,
        "fail_on": c.fail_on,
        "baseline_used": c.baseline_used,
        "counts": c.counts(),
        "new_failures": [_finding(r) for r in listed],
        "new_failures_shown": len(listed),
        "truncated": len(c.new) > len(listed),
    }


def slack_escape(text: str) -> str:
    """Escape text for Slack mrkdwn: ``&`` → ``&amp;``, ``<`` → ``&lt;``, ``>`` → ``&gt;`` (so cloud-supplied
    names cannot form links or ``<!channel>`` mentions); backticks are dropped inside code spans."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_payload(c: Comparison, decision: Decision, scan_id: str) -> dict[str, Any]:
    """A Slack incoming-webhook body: a plain ``text`` fallback plus mrkdwn section blocks."""
    headline = f"ismap-scan {scan_id}: {decision.reason}"
    counts = c.counts()
    totals = (
        f"PASS {counts['pass']} · FAIL {counts['fail']} · ERROR {counts['error']} · "
        f"new failures {counts['new-failures']} ({counts['new-failures-gating']} at or above {c.fail_on})"
    )
    blocks: list[dict[str, Any]] = [
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": f"*{slack_escape(headline)}*\n{slack_escape(totals)}"},
        },
    ]
    lines = []
    for r in c.new[:20]:
        rid = slack_escape(r.resource_id.replace("`", ""))
        lines.append(
            f"• *{r.severity.value}* `{slack_escape(r.check_id)}` on `{rid}` ({r.account} {r.region})"
        )
    if len(c.new) > 20:
        lines.append(f"…and {len(c.new) - 20} more")
    if lines:
        # A section's text holds at most 3,000 characters.
        text = "\n".join(lines)
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": text[:2900]}})
    return {"text": slack_escape(headline), "blocks": blocks}


def build_payload(fmt: str, c: Comparison, decision: Decision, scan_id: str) -> dict[str, Any]:
    """The body for ``fmt`` (``json`` or ``slack``)."""
    return slack_payload(c, decision, scan_id) if fmt == "slack" else json_payload(c, decision, scan_id)


def _session(retries: int, backoff: float) -> Any:
    import requests
    from requests.adapters import HTTPAdapter
    from urllib3.util.retry import Retry

    retry = Retry(
        total=retries,
        connect=retries,
        read=retries,
        status=retries,
        backoff_factor=backoff,
        status_forcelist=RETRY_STATUSES,
        allowed_methods=frozenset({"POST"}),  # a duplicate notification beats a lost one
        respect_retry_after_header=True,
        raise_on_status=False,
    )
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def send(
    url: str,
    payload: dict[str, Any],
    *,
    retries: int = 3,
    backoff: float = 0.5,
    timeout: tuple[float, float] = TIMEOUT,
) -> int:
    """POST ``payload`` as JSON to ``url``; returns the HTTP status (2xx).

    Retries ``retries`` times on connection errors and 429/5xx with exponential backoff
    (``backoff`` × 2ⁿ seconds). Raises :class:`NotifyError` (the URL shown as scheme and host only) when the
    last answer is not 2xx or the host cannot be reached.
    """
    import requests

    shown = redact_url(url)
    try:
        with _session(retries, backoff) as session:
            resp = session.post(url, json=payload, timeout=timeout, allow_redirects=False)
    except requests.RequestException as exc:
        raise NotifyError(f"notification to {shown} failed: {type(exc).__name__}") from None
    if not 200 <= resp.status_code < 300:
        raise NotifyError(f"notification to {shown} failed: HTTP {resp.status_code}")
    return int(resp.status_code)


def notify(
    urls: list[str], c: Comparison, decision: Decision, scan_id: str, fmt: str = "auto", **send_kw: Any
) -> list[str]:
    """Post to every URL (each in its own format); returns one error message per URL that failed
    (empty when all succeeded). Raises :class:`InputError` for a bad URL or format before sending anything."""
    formats = [choose_format(u, fmt) for u in urls]
    problems = []
    for url, f in zip(urls, formats, strict=True):
        try:
            send(url, build_payload(f, c, decision, scan_id), **send_kw)
        except NotifyError as exc:
            problems.append(str(exc))
    return problems
