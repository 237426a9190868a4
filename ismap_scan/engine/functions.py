"""The custom JMESPath functions checks may call, all in one :class:`CheckFunctions` class.

Every function is total over the values a snapshot holds (``null`` included) and raises on values that
make no sense (an unparsable CIDR or timestamp); the engine turns a raise into an ERROR result, never a
verdict. Time is never read from the clock: :func:`days_since` measures against the record's
``collected_at``, so re-evaluating an old snapshot gives the verdicts it gave then.

Functions (argument types as JMESPath names them):

``cidr_is_public(cidr)``
    ``true`` when the network is ``/0`` in its family (``0.0.0.0/0``, ``::/0``): "any address". Host bits
    are ignored. ``null`` → ``false``. Narrower public ranges are *not* reported: a rule for one partner's
    address is a decision, "anyone" is the finding.
``port_in(from, to, ports)``
    ``true`` when any port of ``ports`` (an array or one number) lies in the inclusive range
    ``[from, to]``. AWS writes "all ports" as ``-1`` or leaves the bounds out (``IpProtocol: "-1"``), so a
    ``null`` or ``-1`` bound means 0 (from) / 65535 (to). ``ports`` ``null`` or empty → ``false``. It does
    not know the protocol: filter on ``IpProtocol`` first (ICMP rules carry ICMP type/code there).
``days_since(ts)``
    whole days (floor) from the ISO 8601 timestamp ``ts`` to the record's ``collected_at``; negative when
    ``ts`` is later. ``null``, ``""``, ``"N/A"``, ``"no_information"`` and ``"not_supported"`` (IAM
    credential report placeholders) → ``null``. A timestamp without a zone is UTC.
``to_number_or_null(v)``
    a number for a number or a numeric string, else ``null`` (booleans too).
``parse_json(s)``
    a JSON text parsed; a non-string (``null``, an already parsed document) is returned as is.
``statement_list(policy)``
    a policy document's ``Statement`` as a list (IAM allows one object or a list); ``null`` policy or no
    ``Statement`` → ``[]``. A JSON string is parsed first.
``contains_any(a, b)``
    ``true`` when any element of ``a`` is in ``b``; a non-array ``a`` counts as ``[a]``, ``null`` as ``[]``.
``as_list(v)``
    ``v`` if it is an array, ``[]`` for ``null``, else ``[v]`` (IAM ``Action``, ``Resource`` and
    ``Principal`` values may be a string or a list).
"""

from __future__ import annotations

import ipaddress
import json
import math
from datetime import UTC, datetime, timedelta
from typing import Any

from jmespath import functions

#: Values the IAM credential report writes instead of a timestamp.
NO_TIMESTAMP = frozenset({"", "N/A", "no_information", "not_supported"})

_MAX_PORT = 65535


def parse_timestamp(value: str) -> datetime:
    """Parse ISO 8601 (``Z`` or an offset; no zone = UTC) to an aware UTC datetime. Raises ``ValueError``."""
    text = value.strip()
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


class CheckFunctions(functions.Functions):
    """JMESPath builtins plus the check functions above. One instance per record: ``now`` is its time."""

    def __init__(self, now: datetime | None = None) -> None:
        self.now = now

    @functions.signature({"types": ["string", "null"]})
    def _func_cidr_is_public(self, cidr: str | None) -> bool:
        if cidr is None:
            return False
        return ipaddress.ip_network(cidr.strip(), strict=False).prefixlen == 0

    @functions.signature(
        {"types": ["number", "null"]}, {"types": ["number", "null"]}, {"types": ["array", "number", "null"]}
    )
    def _func_port_in(self, from_port: float | None, to_port: float | None, ports: Any) -> bool:
        if ports is None:
            return False
        wanted = ports if isinstance(ports, list) else [ports]
        low = 0 if from_port is None or from_port == -1 else from_port
        high = _MAX_PORT if to_port is None or to_port == -1 else to_port
        for port in wanted:
            if isinstance(port, bool) or not isinstance(port, int | float):
                raise ValueError(f"port_in(): ports must be numbers, got {port!r}")
            if low <= port <= high:
                return True
        return False

    @functions.signature({"types": ["string", "null"]})
    def _func_days_since(self, ts: str | None) -> int | None:
        if ts is None or ts.strip() in NO_TIMESTAMP:
            return None
        if self.now is None:
            raise ValueError("days_since(): the record has no collected_at to measure from")
        return (self.now - parse_timestamp(ts)) // timedelta(days=1)

    @functions.signature({"types": []})
    def _func_to_number_or_null(self, value: Any) -> float | int | None:
        if isinstance(value, bool) or value is None:
            return None
        if isinstance(value, int | float):
            return value
        if isinstance(value, str):
            try:
                return int(value.strip())
            except ValueError:
                pass
            try:
                number = float(value.strip())
            except ValueError:
                return None
            return number if math.isfinite(number) else None
        return None

    @functions.signature({"types": []})
    def _func_parse_json(self, value: Any) -> Any:
        if isinstance(value, str):
            return json.loads(value)
        return value

    @functions.signature({"types": ["object", "string", "null"]})
    def _func_statement_list(self, policy: Any) -> list[Any]:
        if isinstance(policy, str):
            policy = json.loads(policy)
        if not isinstance(policy, dict):
            return []
        statement = policy.get("Statement")
        if statement is None:
            return []
        return statement if isinstance(statement, list) else [statement]

    @functions.signature({"types": []}, {"types": ["array", "null"]})
    def _func_contains_any(self, items: Any, pool: list[Any] | None) -> bool:
        if items is None or not pool:
            return False
        candidates = items if isinstance(items, list) else [items]
        return any(item in pool for item in candidates)

    @functions.signature({"types": []})
    def _func_as_list(self, value: Any) -> list[Any]:
        if value is None:
            return []
        return value if isinstance(value, list) else [value]


def known_function_arity() -> dict[str, int | None]:
    """Function name → argument count (``None``: variadic), builtins included; for load-time checks."""
    out: dict[str, int | None] = {}
    for name, spec in CheckFunctions.FUNCTION_TABLE.items():
        signature = spec["signature"]
        variadic = bool(signature) and bool(signature[-1].get("variadic"))
        out[name] = None if variadic else len(signature)
    return out


def now_of(collected_at: str) -> datetime | None:
    """The record's collection time as the evaluation's "now"; ``None`` when absent or unparsable."""
    if not collected_at:
        return None
    try:
        return parse_timestamp(collected_at)
    except ValueError:
        return None
