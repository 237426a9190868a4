"""Generic collection from the declarations in ``types.py``: list a type, then describe each item.

Nothing here raises for an AWS failure: a failed detail call becomes a :class:`CollectionError` on the record
naming the field it left unknown (the field is then *absent*, while ``None`` means "not configured"), and
:func:`list_items` raises only to let the caller put the error on the scope record. The one exception is
:class:`~.guard.ReadOnlyViolation`, a defect that must stop the scan.

Values are normalised on the way in (:func:`normalize`): datetimes become ISO 8601 UTC strings ending in
``Z``, bytes are never stored, ``ResponseMetadata`` is dropped.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import html
import json
import re
import string
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jmespath
import jmespath.parser

from ...model import GLOBAL_REGION, CollectionError, Resource
from .guard import ReadOnlyViolation
from .session import SessionFactory
from .types import MERGE, Detail, Ref, ResourceType

PROVIDER = "aws"

#: Error codes (or exception class names) meaning the region as a whole cannot be talked to: the endpoint
#: does not answer, or the account is not enabled there / a policy blocks the region's STS endpoint.
UNREACHABLE_CODES = frozenset(
    {
        "EndpointConnectionError",
        "ConnectTimeoutError",
        "ConnectionClosedError",
        "AuthFailure",
        "OptInRequired",
        "UnrecognizedClientException",
        "InvalidClientTokenId",
    }
)


#: Error codes of a refused request. Alone they do not close a region (the principal may just lack one
#: permission); with an SCP named in the message they do (see :func:`region_closed`).
DENIED_CODES = frozenset(
    {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "UnauthorizedAccess", "Forbidden"}
)


def region_closed(error: CollectionError) -> bool:
    """True when ``error`` (from a region probe) means the whole region is closed to this principal.

    Closed = unreachable or not enabled (:data:`UNREACHABLE_CODES`), or refused by an organization policy:
    AWS access-denied messages name the policy type that denied ("... with an explicit deny in a service
    control policy"), which a region-restricting SCP (``aws:RequestedRegion``) produces for every call there.
    A plain identity-policy denial is not a closed region: the other reads there may still be allowed.
    """
    if error.code in UNREACHABLE_CODES:
        return True
    text = error.message.lower()
    return error.code in DENIED_CODES and (
        "service control policy" in text or "resource control policy" in text
    )


@dataclass(frozen=True)
class ScanContext:
    """Per-account facts every collector needs: sessions, account ID and partition (``aws``, ``aws-cn``)."""

    factory: SessionFactory
    account: str
    partition: str


def utc_now() -> str:
    """Now as ``2026-11-30T01:02:03Z`` (second precision), the ``collected_at`` format."""
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_utc(value: dt.datetime) -> str:
    """A datetime as ISO 8601 UTC ending in ``Z``; naive values are taken as UTC (botocore gives aware ones).

    Sub-second precision is kept only when the API gave it (``...T01:02:03.456000Z``).
    """
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    value = value.astimezone(dt.UTC)
    fmt = "%Y-%m-%dT%H:%M:%S.%fZ" if value.microsecond else "%Y-%m-%dT%H:%M:%SZ"
    return value.strftime(fmt)


def normalize(value: Any) -> Any:
    """JSON-able copy of an API value: datetimes -> ISO UTC ``Z`` strings, bytes -> a size note (never the
    bytes themselves), dates -> ISO dates, ``ResponseMetadata`` dropped, tuples/sets -> lists."""
    if isinstance(value, dict):
        return {str(k): normalize(v) for k, v in value.items() if k != "ResponseMetadata"}
    if isinstance(value, list | tuple):
        return [normalize(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted(normalize(v) for v in value)
    if isinstance(value, dt.datetime):
        return iso_utc(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return f"<{len(bytes(value))} bytes not stored>"
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def classify_error(exc: BaseException) -> tuple[str, str]:
    """``(code, message)`` for a failed call.

    ``ClientError`` -> the API's ``Error.Code`` (``AccessDenied``, ``Throttling``) and message; HTTP 501 or a
    message saying "has not been implemented" (moto, see ``demo/aws/server.py``) -> ``NotImplemented``; a
    body without an AWS error code (botocore then gives the HTTP status as the code, e.g. an HTML 500 page
    from a proxy, a load balancer or an emulator) -> ``HTTP<status>`` with the message
    ``HTTP 500 without an AWS error code (<page title>)``; if that body is an XML AWS error
    (``<Code>AccessDenied</Code>``, as emulators send to JSON-protocol clients), its code and message.
    botocore transport and other errors -> the exception class name (``EndpointConnectionError``,
    ``ResponseParserError``). Messages other than an AWS error's own are one line, never markup, and at most
    300 characters: they end up in every report.
    """
    from botocore.exceptions import ClientError
    from botocore.parsers import ResponseParserError

    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {}) or {}
        code = str(err.get("Code") or "")
        message = str(err.get("Message") or exc)
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        if status == 501 or "not been implemented" in message or code == "NotImplementedException":
            return "NotImplemented", _short(message)
        if not code or code.isdigit():
            # botocore found no AWS error code in the body and used the HTTP status (rest-json, json and
            # rest-xml parsers); the "message" is then whatever the body was, often a whole HTML page, or an
            # XML AWS error an emulator or proxy sent to a JSON-protocol client: keep that error's code.
            xml_code = _XML_CODE.search(message)
            if xml_code:
                xml_message = _XML_MESSAGE.search(message)
                return xml_code.group(1), _short(html.unescape(xml_message.group(1)) if xml_message else "")
            status_text = str(status or code or "")
            head = f"HTTP {status_text} without an AWS error code" if status_text else "no AWS error code"
            detail = _short(message)
            return f"HTTP{status_text}", _short(head + (f" ({detail})" if detail else ""))
        return code, message
    if isinstance(exc, ResponseParserError):
        # Query/ec2 parsers put the raw body (b'<!doctype html>...') into the exception text.
        return "ResponseParserError", _short(str(exc))
    return type(exc).__name__, _short(str(exc))


#: An HTML/XML tag, comment or doctype: where a non-AWS body starts inside an error text.
_MARKUP = re.compile(r"<\s*[!?/]?[A-Za-z][^>]*>|<!--")
_XML_CODE = re.compile(r"<Code>\s*([A-Za-z][A-Za-z0-9.]*)\s*</Code>")
_XML_MESSAGE = re.compile(r"<Message>(.*?)</Message>", re.DOTALL)
_TITLE = re.compile(r"<title[^>]*>(.*?)</title\s*>", re.IGNORECASE | re.DOTALL)


def _short(message: str, limit: int = 300) -> str:
    """One line of at most ``limit`` characters and no markup.

    A text with tags in it (an HTML error page, or botocore's "invalid XML received: b'<html>...'") keeps the
    plain text before the first tag plus the page ``<title>``, if any: ``Unable to parse response ...
    (500 Internal Server Error)``. A text that is nothing but a page gives just its title (or ``""``).
    """
    found = _MARKUP.search(message)
    if found:
        title = _TITLE.search(message)
        head = message[: found.start()].rstrip().removesuffix("b'").removesuffix('b"').rstrip(" :\n")
        title_text = " ".join(html.unescape(_MARKUP.sub(" ", title.group(1))).split()) if title else ""
        message = f"{head} ({title_text})" if head and title_text else head or title_text
        message = message.replace("<", "‹").replace(">", "›")  # an entity in the title may decode to a tag
    flat = " ".join(message.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


@functools.lru_cache(maxsize=256)
def _compiled(expression: str) -> jmespath.parser.ParsedResult:
    return jmespath.compile(expression)


def search(expression: str, data: Any) -> Any:
    """JMESPath ``expression`` (compiled once) on ``data``."""
    return _compiled(expression).search(data)


def resolve_params(params: Mapping[str, Any], item: Mapping[str, Any]) -> Any:
    """Replace every :class:`Ref` in ``params`` (nested dicts/lists too) with its value read from ``item``."""

    def _resolve(v: Any) -> Any:
        if isinstance(v, Ref):
            return search(v.path, item)
        if isinstance(v, Mapping):
            return {k: _resolve(x) for k, x in v.items()}
        if isinstance(v, list | tuple):
            return [_resolve(x) for x in v]
        return v

    return _resolve(params)


def invoke(client: Any, operation: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """Call ``operation`` with ``params``; when botocore has a paginator for it, return all pages merged.

    Raises botocore's exceptions unchanged (the caller classifies them).
    """
    from botocore import xform_name

    method = xform_name(operation)
    if client.can_paginate(method):
        result: dict[str, Any] = client.get_paginator(method).paginate(**params).build_full_result()
        return result
    response: dict[str, Any] = getattr(client, method)(**params)
    return response


def list_items(ctx: ScanContext, rtype: ResourceType, region: str) -> list[dict[str, Any]]:
    """The items of ``rtype`` listed in ``region`` (page by page, selected by ``rtype.items``).

    Items are raw API dicts (not normalised yet). Raises botocore errors (caller records them).
    """
    assert rtype.list_operation is not None
    from botocore import xform_name

    client = ctx.factory.client(rtype.service, region)
    method = xform_name(rtype.list_operation)
    # Refs in list params read the scope: Ref("AccountId") (inspector2:BatchGetAccountStatus accountIds).
    params = resolve_params(rtype.list_params, {"AccountId": ctx.account, "Region": region})
    if rtype.singleton:
        # One record per scope even when nothing is configured there (a region without a GuardDuty detector
        # must be able to FAIL): the whole (merged) answer is the item, a "not enabled" answer an empty one.
        try:
            return [invoke(client, rtype.list_operation, params)]
        except ReadOnlyViolation:
            raise
        except Exception as exc:
            if classify_error(exc)[0] in rtype.list_not_configured:
                return [{}]
            raise
    out: list[dict[str, Any]] = []
    if client.can_paginate(method):
        for page in client.get_paginator(method).paginate(**params):
            found = search(rtype.items, page)
            if found:
                out.extend(x for x in found if isinstance(x, dict))
    else:
        found = search(rtype.items, getattr(client, method)(**params))
        out.extend(x for x in found or [] if isinstance(x, dict))
    return out


class _Fields(dict[str, Any]):
    """``str.format_map`` mapping over an item plus context keys; missing keys raise ``KeyError``."""


class _IdFormatter(string.Formatter):
    """``str.format`` plus the conversion ``!b``: the part after the last ``/`` (Route 53 answers zone IDs
    as ``/hostedzone/Z0123``, while the zone's ARN ends in ``hostedzone/Z0123``)."""

    def convert_field(self, value: Any, conversion: str | None) -> Any:
        if conversion == "b":
            return str(value).rsplit("/", 1)[-1]
        return super().convert_field(value, conversion)


_ID_FORMATTER = _IdFormatter()


def record_id(ctx: ScanContext, rtype: ResourceType, item: Mapping[str, Any], region: str) -> str:
    """The record ID from ``rtype.id`` (an ARN where AWS has one). Raises ``KeyError`` if a field is missing."""
    fields = _Fields({k: v for k, v in item.items() if isinstance(v, str | int)})
    fields.update(partition=ctx.partition, region=region, account=ctx.account)
    return _ID_FORMATTER.vformat(rtype.id, (), fields)


def record_name(rtype: ResourceType, item: Mapping[str, Any], rid: str) -> str:
    """The display name: ``rtype.name_path`` on the item, else the last ``/`` part of the ID
    (``vol-0abc`` for an untagged volume; moto omits ``PolicyName`` in authorization details), else the ID."""
    if rtype.name_path:
        value = search(rtype.name_path, item)
        if isinstance(value, str) and value:
            return value
    return rid.rsplit("/", 1)[-1] or rid


def _parse(kind: str | None, value: Any) -> Any:
    if kind == "s3_region":
        # GetBucketLocation: null/"" means us-east-1; "EU" is the legacy name of eu-west-1 (S3 API reference).
        if not value:
            return "us-east-1"
        return "eu-west-1" if value == "EU" else str(value)
    if value is None or kind is None:
        return value
    if kind == "json":
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                return value  # kept as the API gave it; a check can still see it is not a dict
        return value
    if kind == "base64_text":
        if isinstance(value, str):
            return base64.b64decode(value).decode("utf-8", errors="replace")
        return value
    raise ValueError(f"unknown parse kind {kind!r}")


def run_detail(
    ctx: ScanContext,
    service: str,
    region: str,
    detail: Detail,
    item: Mapping[str, Any],
    target: dict[str, Any],
    errors: list[CollectionError],
    prefix: str = "",
) -> None:
    """Run one detail call for ``item`` and write its fields into ``target`` (in place).

    When ``detail.when`` is not true on ``target`` the call is skipped and the fields are ``None``
    (not applicable). On a "not configured"/"not applicable" error code the fields are set to ``None``; on any other failure
    each field gets a ``CollectionError`` (field ``prefix + name``; ``"*"`` for a merge) and stays absent.
    Only :class:`ReadOnlyViolation` propagates.
    """
    svc = detail.service or service
    call = f"{svc}:{detail.operation}"
    if detail.when is not None and search(detail.when, target) is not True:
        for name in detail.fill:
            if name != MERGE:
                target[name] = None
        return
    try:
        params = resolve_params(detail.params, item)
        response = invoke(ctx.factory.client(svc, region), detail.operation, params)
    except ReadOnlyViolation:
        raise
    except Exception as exc:  # every AWS/transport failure is recorded, never raised (see module doc)
        code, message = classify_error(exc)
        if code in detail.not_configured or code in detail.not_applicable:
            for name in detail.fill:
                if name != MERGE:
                    target[name] = None
            return
        for name in detail.fill:
            field = prefix + name if name != MERGE else (prefix.rstrip(".") or "*")
            errors.append(CollectionError(field=field, call=call, code=code, message=message))
        return
    for name, path in detail.fill.items():
        raw = response if path is None else search(path, response)
        value = normalize(_parse(detail.parse, raw))
        if name == MERGE:
            if isinstance(value, dict):
                target.update(value)
        else:
            target[name] = value
    if detail.each is not None:
        (name,) = [n for n in detail.fill if n != MERGE]
        elements = target.get(name)
        if isinstance(elements, list):
            for i, element in enumerate(elements):
                if isinstance(element, dict):
                    run_detail(
                        ctx, svc, region, detail.each, element, element, errors, f"{prefix}{name}[{i}]."
                    )


def _listed_region(rtype: ResourceType, data: Mapping[str, Any]) -> bool:
    """True when the listing already said where the item is, so ``rtype.locate`` need not be asked.

    S3 ``ListBuckets`` answers ``BucketRegion`` per bucket (S3 API reference, ListBuckets ``Bucket``; added
    in 2024 and answered by AWS for every general purpose bucket), the same region name ``GetBucketLocation``
    gives after parsing (``us-east-1`` rather than ``null``, ``eu-west-1`` rather than ``EU``): one request
    fewer per bucket. Emulators and older endpoints that omit it still get the ``locate`` call.
    """
    if not rtype.region_field or rtype.locate is None or rtype.region_field not in rtype.locate.fill:
        return False
    value = data.get(rtype.region_field)
    return isinstance(value, str) and bool(value)


def describe_item(
    ctx: ScanContext, rtype: ResourceType, item: Mapping[str, Any], list_region: str
) -> Resource:
    """Build the record of one listed item: locate (S3), detail calls, derived fields, ``collected_at``.

    ``list_region`` is where the item was listed (``"global"``-scoped types pass the session's default
    region). Raises only :class:`ReadOnlyViolation` and ``KeyError`` for an item lacking its ID field.
    """
    from . import special

    data: dict[str, Any] = normalize(dict(item))
    errors: list[CollectionError] = []
    region = list_region
    if rtype.locate is not None and not _listed_region(rtype, data):
        run_detail(ctx, rtype.service, list_region, rtype.locate, item, data, errors)
    if rtype.region_field:
        located = data.get(rtype.region_field)
        if isinstance(located, str) and located:
            region = located
    record_region = region if (rtype.scope == "region" or rtype.region_field) else GLOBAL_REGION
    rid = record_id(ctx, rtype, item, region)
    for detail in rtype.details:
        run_detail(ctx, rtype.service, region, detail, item, data, errors)
    if rtype.derive:
        special.DERIVERS[rtype.derive](data)
    return Resource(
        provider=PROVIDER,
        account=ctx.account,
        region=record_region,
        type=rtype.name,
        id=rid,
        name=record_name(rtype, item, rid),
        collected_at=utc_now(),
        data=data,
        errors=errors,
    )
