"""Secret redaction applied to every record before it leaves a provider (DESIGN §3: "a redacted value is
never needed by a check").

Two mechanisms, cloud-agnostic; the provider supplies the per-type field rules:

1. **Field rules** (:class:`RedactionRules.fields`): per resource type, data paths whose values are always
   replaced, whatever they look like: ``{"aws.lambda.function": ["Environment.Variables.*"],
   "aws.ec2.instance": ["UserData"]}``. Path syntax: dotted keys, ``*`` for every key of a dict or every
   element of a list, ``[*]`` / ``[n]`` for list elements (``Tags[*].Value``).
2. **Value patterns** (:data:`PATTERNS`) on every string anywhere in ``data``: PEM private keys, AWS access
   key IDs (``AKIA``/``ASIA``...), ``aws_secret_access_key=...`` and other ``password=``/``secret=``/
   ``token=``/``api_key:`` assignments, Slack and GitHub tokens, JWTs, and a standalone 40-character
   high-entropy base64 string (the shape of an AWS secret access key). Tag-like pairs
   (``{"Key": "db_password", "Value": "..."}``) whose key name is secret-ish have their value redacted too.

Not scanned by the value patterns: strings under identifier keys (:data:`IDENTIFIER_KEYS`, and any key ending
in ``Arn``/``ARN``/``arn``). They identify things and are not secrets: an IAM ``AccessKeyId`` is shown in the
console and needed to act on a finding; KMS ``KeyId`` and ARNs name resources. Dict *keys* are never
redacted (only values), and ``null`` stays ``null`` (the absence of a value is not a secret).

A redacted value becomes :data:`REDACTED` and its path (``data.Tags[2].Value``) is listed in
``Resource.redactions``.
"""

from __future__ import annotations

import copy
import math
import re
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from ..model import Resource

REDACTED = "<redacted>"

#: Keys whose string values identify a resource or principal and are not secrets (see module doc).
IDENTIFIER_KEYS: frozenset[str] = frozenset(
    {
        "AccessKeyId",
        "KeyId",
        "UserId",
        "RoleId",
        "GroupId",
        "PolicyId",
        "InstanceProfileId",
        "PrincipalId",
        "AccountId",
        "OwnerId",
        "ID",
        "Id",
        # IAM policy grammar: ``secretsmanager:GetSecretValue`` names an action, it is not a secret.
        "Action",
        "NotAction",
    }
)
_IDENTIFIER_SUFFIXES = ("Arn", "ARN", "arn")

#: Name part that makes a key or assignment secret-ish ("DB_PASSWORD", "api-key", "GITHUB_TOKEN").
_SECRETISH = r"(?:pass(?:word|wd|phrase)|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|credential)"
_SECRETISH_NAME = re.compile(_SECRETISH, re.IGNORECASE)

#: ``(name, pattern)``; a string matching any of them is redacted as a whole.
PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("pem_private_key", re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----")),
    ("aws_access_key_id", re.compile(r"(?<![A-Z0-9])(?:AKIA|ASIA|ABIA|ACCA|AIPA)[A-Z0-9]{16}(?![A-Z0-9])")),
    (
        "aws_secret_access_key",
        re.compile(r"(?i)aws.{0,20}?secret.{0,20}?[:=]\s*['\"]?[A-Za-z0-9/+=]{40}(?![A-Za-z0-9/+=])"),
    ),
    # key=value / key: value with a secret-ish key; not preceded by ":" or "/" so ARNs
    # (``...:secret:name``) and paths do not match.
    (
        "secret_assignment",
        re.compile(rf"(?i)(?<![:/\w-])[\w.-]*{_SECRETISH}[\w.-]*['\"]?\s*[:=]\s*['\"]?[^\s'\",;&]+"),
    ),
    ("slack_token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}")),
    ("slack_webhook", re.compile(r"https://hooks\.slack\.com/services/[A-Za-z0-9/_-]+")),
    ("github_token", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})")),
    ("jwt", re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")),
)

_B64_40 = re.compile(r"[A-Za-z0-9/+]{40}")
_ARN = re.compile(r"arn:[a-z0-9-]+:[^\s]*")
_SIMPLE_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class RedactionRules:
    """Per-type always-redacted paths (relative to ``data``) and the identifier keys patterns skip."""

    fields: Mapping[str, Sequence[str]] = field(default_factory=dict)
    identifier_keys: frozenset[str] = IDENTIFIER_KEYS


def _entropy(s: str) -> float:
    """Shannon entropy in bits per character."""
    counts = Counter(s)
    n = len(s)
    return -sum(c / n * math.log2(c / n) for c in counts.values())


def _looks_like_secret_key(s: str) -> bool:
    """A standalone 40-char base64 string with mixed case and digits and high entropy (AWS secret key shape).

    Hex digests (SHA-1 is 40 hex chars) fail the mixed-case test, so they are kept.
    """
    s = s.strip()
    if not _B64_40.fullmatch(s):
        return False
    if not (any(c.islower() for c in s) and any(c.isupper() for c in s) and any(c.isdigit() for c in s)):
        return False
    return _entropy(s) >= 4.0


def secret_pattern(text: str) -> str | None:
    """Name of the first pattern ``text`` matches (``"aws_access_key_id"``), else ``None``.

    A text that is a single ARN is not a secret assignment (``arn:aws:secretsmanager:...:secret:db``).
    """
    if _looks_like_secret_key(text):
        return "high_entropy_base64_40"
    is_arn = _ARN.fullmatch(text.strip()) is not None
    for name, pattern in PATTERNS:
        if is_arn and name == "secret_assignment":
            continue
        if pattern.search(text):
            return name
    return None


def _fmt_key(key: str) -> str:
    return "." + key if _SIMPLE_KEY.fullmatch(key) else '."' + key.replace('"', '\\"') + '"'


def _parse_rule(path: str) -> list[str]:
    """``"Tags[*].Value"`` -> ``["Tags", "[*]", "Value"]``; ``"Environment.Variables.*"`` -> 3 parts."""
    parts: list[str] = []
    for segment in path.split("."):
        m = re.fullmatch(r"([^\[\]]*)((?:\[(?:\*|\d+)\])*)", segment)
        if not m:
            raise ValueError(f"bad redaction path {path!r}")
        if m.group(1):
            parts.append(m.group(1))
        parts.extend(re.findall(r"\[(?:\*|\d+)\]", m.group(2)))
    return parts


def _match_rule(node: Any, parts: list[str], where: str) -> Iterator[tuple[Any, Any, str]]:
    """Yield ``(container, key_or_index, path)`` for every location ``parts`` reaches under ``node``."""
    if not parts:
        return
    head, rest = parts[0], parts[1:]
    children: list[tuple[Any, str]] = []
    if isinstance(node, dict):
        if head == "*":
            children = [(k, where + _fmt_key(str(k))) for k in node]
        elif head in node:
            children = [(head, where + _fmt_key(head))]
    elif isinstance(node, list):
        if head in ("*", "[*]"):
            children = [(i, f"{where}[{i}]") for i in range(len(node))]
        elif head.startswith("[") and head[1:-1].isdigit() and int(head[1:-1]) < len(node):
            i = int(head[1:-1])
            children = [(i, f"{where}[{i}]")]
    for key, path in children:
        if rest:
            yield from _match_rule(node[key], rest, path)
        else:
            yield node, key, path


def _strings(v: Any) -> bool:
    """A string, or a list of strings (``"Action": ["s3:Get*", "kms:Decrypt"]``)."""
    return isinstance(v, str) or (isinstance(v, list) and all(isinstance(x, str) for x in v))


def _is_identifier_key(key: str, identifier_keys: frozenset[str]) -> bool:
    return key in identifier_keys or key.endswith(_IDENTIFIER_SUFFIXES)


def _tag_key(d: dict[str, Any]) -> str | None:
    """The key name of a tag-like pair ``{"Key": k, "Value": v}`` (any case), else ``None``."""
    for k_name, v_name in (("Key", "Value"), ("key", "value"), ("Name", "Value"), ("TagKey", "TagValue")):
        if k_name in d and v_name in d and isinstance(d[k_name], str):
            return d[k_name]
    return None


def _scan(node: Any, where: str, rules: RedactionRules, hits: list[str]) -> Any:
    """Return ``node`` with secret-looking strings replaced; append each replaced path to ``hits``."""
    if isinstance(node, str):
        if node != REDACTED and secret_pattern(node):
            hits.append(where)
            return REDACTED
        return node
    if isinstance(node, list):
        return [_scan(v, f"{where}[{i}]", rules, hits) for i, v in enumerate(node)]
    if isinstance(node, dict):
        tag_key = _tag_key(node)
        secret_pair = tag_key is not None and _SECRETISH_NAME.search(tag_key) is not None
        out: dict[str, Any] = {}
        for k, v in node.items():
            path = where + _fmt_key(str(k))
            if secret_pair and k in ("Value", "value", "TagValue") and isinstance(v, str) and v != REDACTED:
                hits.append(path)
                out[k] = REDACTED
            elif _is_identifier_key(str(k), rules.identifier_keys) and _strings(v):
                out[k] = v
            else:
                out[k] = _scan(v, path, rules, hits)
        return out
    return node


def redact_data(rtype: str, data: dict[str, Any], rules: RedactionRules) -> tuple[dict[str, Any], list[str]]:
    """Redact a ``data`` dict of type ``rtype``; returns ``(new data, paths)``, paths as ``data.X[1].Y``.

    The input is not modified. Raises ``ValueError`` for a malformed rule path.
    """
    out = copy.deepcopy(data)
    hits: list[str] = []
    for rule in rules.fields.get(rtype, ()):
        for container, key, path in list(_match_rule(out, _parse_rule(rule), "data")):
            if container[key] is not None and container[key] != REDACTED:
                container[key] = REDACTED
                hits.append(path)
    out = _scan(out, "data", rules, hits)
    return out, sorted(set(hits))


def redact(resource: Resource, rules: RedactionRules) -> Resource:
    """A copy of ``resource`` with secrets in ``data`` replaced by ``"<redacted>"`` and their paths added to
    ``redactions`` (sorted, with any paths it already had). ``resource`` itself is not modified."""
    data, paths = redact_data(resource.type, resource.data, rules)
    return replace(resource, data=data, redactions=sorted(set(resource.redactions) | set(paths)))
