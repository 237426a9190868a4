"""Secret redaction applied to every record before it leaves a provider (DESIGN §3: "a redacted value is
never needed by a check").

Mechanisms, cloud-agnostic; the provider supplies the per-type field rules:

1. **Field rules** (:class:`RedactionRules.fields`): per resource type, data paths whose values are always
   replaced, whatever they look like: ``{"aws.lambda.function": ["Environment.Variables.*"],
   "aws.ec2.instance": ["UserData"]}``. Path syntax: dotted keys, ``*`` for every key of a dict or every
   element of a list, ``[*]`` / ``[n]`` for list elements (``Tags[*].Value``).
2. **Value patterns** (:data:`PATTERNS`) on every string anywhere in ``data``: PEM private keys, AWS access
   key IDs (``AKIA``/``ASIA``...), ``aws_secret_access_key=...`` and other ``password=``/``secret=``/
   ``token=``/``api_key:`` assignments, passwords in URLs (``postgres://app:pw@db``), ``Basic`` and
   ``Bearer`` credentials, Slack and GitHub tokens, JWTs, and a 40-character high-entropy base64 run (the
   shape of an AWS secret access key), alone or inside longer text.
3. **Secret-ish keys**: the string value of a dict key whose name says "secret" (``password``,
   ``DB_PASSWORD``, ``client_secret``, ``api_key``...; :func:`is_secret_key`), and the value of a tag-like
   pair (``{"Key": "db_password", "Value": "..."}``, ``{"name": ..., "value": ...}``) with such a key name.
   Key names that only *describe* a secret (``PasswordLastUsed``, ``password_enabled``,
   ``access_key_1_last_used_region``, ``MinimumPasswordLength``, idempotency ``ClientToken``, IMDS
   ``HttpTokens``) and values that are plainly not secrets (booleans, numbers, dates, ``N/A``, ARNs) are
   kept: checks read them (credential report, password policy, instance metadata options).
4. **Record name, id and error messages**: a ``name`` matching a value pattern is replaced by the record's
   ``id`` (IDs are stable and already shown everywhere); an ``id`` that is not an identifier (ARN or a
   whitespace-free token) and matches a pattern is replaced by a stable digest; an ``errors[n].message``
   matching a pattern becomes :data:`REDACTED` (its ``call`` and ``code`` still say what failed).

Identifier keys (:data:`IDENTIFIER_KEYS`, and any key ending in ``Arn``/``ARN``/``arn``) are exempt from the
patterns as long as their value *looks like* an identifier (an ARN, or one token without whitespace, ``=``
or ``://``): an IAM ``AccessKeyId`` is shown in the console and needed to act on a finding; KMS ``KeyId`` and
ARNs name resources; ``secretsmanager:GetSecretValue`` in ``Action`` names an action. A value under such a
key that is not identifier-shaped (``"SomethingArn": "token=..."``) is scanned like any other. Dict *keys*
are never redacted (only values), and ``null`` stays ``null`` (the absence of a value is not a secret).

A redacted value becomes :data:`REDACTED` and its path (``data.Tags[2].Value``, ``name``,
``errors[0].message``) is listed in ``Resource.redactions``.
"""

from __future__ import annotations

import base64
import binascii
import copy
import hashlib
import math
import re
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from ..model import CollectionError, Resource

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
    # (``...:secret:name``) and paths do not match, and not an IAM action of Secrets Manager
    # (``secretsmanager:ListSecrets`` in an AccessDenied message).
    (
        "secret_assignment",
        re.compile(
            rf"(?i)(?<![:/\w-])(?!secretsmanager:[A-Za-z*])[\w.-]*{_SECRETISH}[\w.-]*['\"]?\s*[:=]\s*['\"]?"
            r"[^\s'\",;&]+"
        ),
    ),
    # scheme://user:password@host (RFC 3986 userinfo); a port (``host:8080/``) has no ``@`` after it.
    ("url_password", re.compile(r"(?i)\b[a-z][a-z0-9+.-]*://[^\s:/?#@]+:[^\s/?#@]+@")),
    ("slack_token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}")),
    ("slack_webhook", re.compile(r"https://hooks\.slack\.com/services/[A-Za-z0-9/_-]+")),
    ("github_token", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})")),
    ("jwt", re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")),
)

_B64_40 = re.compile(r"[A-Za-z0-9/+]{40}")
#: A 40-char base64 run inside longer text, not part of a longer run.
_B64_40_EMBEDDED = re.compile(r"(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])")
_ARN = re.compile(r"arn:[a-z0-9-]+:[^\s]*")
_SIMPLE_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
#: ``Authorization`` header values (RFC 7617 Basic, RFC 6750 Bearer).
_BASIC = re.compile(r"(?i)\bbasic\s+([A-Za-z0-9+/]{4,}={0,2})(?![A-Za-z0-9+/=])")
_BEARER = re.compile(r"(?i)\bbearer\s+([A-Za-z0-9._~+/-]{16,}=*)")

#: Well-formed identifiers, exempt from the patterns under identifier keys: an ARN, or one token without
#: whitespace, ``=`` or ``://`` (``AKIA...``, ``sg-0123``, ``alias/aws/s3``, ``AROA...:session``,
#: ``/hostedzone/Z1``, ``secretsmanager:GetSecretValue``, ``*``).
_IDENTIFIER_VALUE = re.compile(
    r"arn:[a-z0-9-]+:[a-z0-9-]*:[a-z0-9-]*:[a-z0-9-]*:\S+|(?!.*://)[\w.:/*@+,#-]{1,1024}"
)
#: Patterns that are never an identifier: still applied to identifier-shaped values under identifier keys.
_NEVER_IDENTIFIER = frozenset({"github_token", "slack_token", "jwt", "pem_private_key"})

#: Words of a secret-ish key name that make it describe a secret rather than hold one
#: (``PasswordLastUsed``, ``password_enabled``, ``access_key_1_last_used_region``, ``SecretId``).
_METADATA_WORDS_TEXT = """
    active age algorithm allow allowed arn arns change changed count created date enabled enable expire
    expired expires expiration expiry format generated has hard id ids is kms last length limit location
    max maximum min minimum mode name names next policy present prevention quota region require required
    requires reset reuse rotated rotation rule rules service size source stage stages state status time
    timestamp type used version versions
"""
_METADATA_WORDS = frozenset(_METADATA_WORDS_TEXT.split())
#: Secret-ish key names of AWS APIs whose values are not secrets (normalised: lower case, no ``_``/``-``):
#: idempotency tokens (EFS ``CreationToken``, ``ClientToken``), IMDS ``HttpTokens`` (``required``/
#: ``optional``), pagination tokens.
_NON_SECRET_KEYS = frozenset(
    {
        "clienttoken",
        "creationtoken",
        "idempotencytoken",
        "clientrequesttoken",
        "httptokens",
        "nexttoken",
        "continuationtoken",
        "nextcontinuationtoken",
        "paginationtoken",
        "startingtoken",
    }
)
_KEY_WORDS = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")
#: String values that are plainly not secrets even under a secret-ish key.
_PLAIN_VALUE = re.compile(
    r"(?i)true|false|yes|no|none|null|n/a|not_supported|no_information|-?[0-9]+(?:\.[0-9]+)?"
    r"|[0-9]{4}-[0-9]{2}-[0-9]{2}(?:[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?(?:Z|[+-][0-9]{2}:?[0-9]{2})?)?"
)


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


def _secret_key_shaped(s: str) -> bool:
    """40 base64 chars with mixed case and digits, high entropy and few ``/`` (AWS secret key shape).

    Hex digests (SHA-1 is 40 hex chars) fail the mixed-case test, paths (``/aws/lambda/Fn2024/...``) the
    slash count, so they are kept.
    """
    if not (any(c.islower() for c in s) and any(c.isupper() for c in s) and any(c.isdigit() for c in s)):
        return False
    return s.count("/") <= 3 and s.count("+") <= 3 and _entropy(s) >= 4.0


def _looks_like_secret_key(s: str) -> bool:
    """A standalone 40-char AWS-secret-key-shaped string (see :func:`_secret_key_shaped`)."""
    s = s.strip()
    return _B64_40.fullmatch(s) is not None and _secret_key_shaped(s)


def _has_embedded_secret_key(s: str) -> bool:
    """An AWS-secret-key-shaped 40-char run anywhere in ``s`` (``"key wJalr...EXAMPLEKEY in a note"``)."""
    return any(_secret_key_shaped(m.group(0)) for m in _B64_40_EMBEDDED.finditer(s))


def _has_basic_credentials(s: str) -> bool:
    """``Basic <base64>`` whose payload decodes to ``user:password`` (RFC 7617), not "basic monitoring"."""
    for m in _BASIC.finditer(s):
        token = m.group(1)
        if len(token) % 4:
            continue
        try:
            decoded = base64.b64decode(token, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            continue
        if ":" in decoded and decoded.isprintable():
            return True
    return False


def _has_bearer_token(s: str) -> bool:
    """``Bearer <token>`` (RFC 6750) with a token of 16+ chars holding a digit or symbol, not a plain word."""
    return any(re.search(r"[0-9._~+/=-]", m.group(1)) for m in _BEARER.finditer(s))


def secret_pattern(text: str) -> str | None:
    """Name of the first pattern ``text`` matches (``"aws_access_key_id"``, ``"basic_auth"``), else ``None``.

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
    if _has_basic_credentials(text):
        return "basic_auth"
    if _has_bearer_token(text):
        return "bearer_token"
    if _has_embedded_secret_key(text):
        return "high_entropy_base64_40"
    return None


def is_secret_key(name: str) -> bool:
    """Whether a dict key (or a tag's key) names a value that is itself a secret.

    ``password``, ``DB_PASSWORD``, ``client_secret``, ``ApiKey``: yes. Keys that describe a secret
    (``PasswordLastUsed``, ``password_enabled``, ``RequireSymbols``, ``MinimumPasswordLength``,
    ``access_key_1_last_used_region``; any word of :data:`_METADATA_WORDS`) and the API keys of
    ``_NON_SECRET_KEYS`` (``ClientToken``, ``HttpTokens``): no.
    """
    if not _SECRETISH_NAME.search(name):
        return False
    if re.sub(r"[_\-.\s]", "", name).lower() in _NON_SECRET_KEYS:
        return False
    return not any(w.lower() in _METADATA_WORDS for w in _KEY_WORDS.findall(name))


def _plain_value(v: str) -> bool:
    """A value that is not a secret whatever its key: empty, boolean, number, date, ``N/A``, an ARN."""
    v = v.strip()
    return not v or v == REDACTED or _PLAIN_VALUE.fullmatch(v) is not None or _ARN.fullmatch(v) is not None


def _identifier_pattern(text: str) -> str | None:
    """Pattern hit for a value under an identifier key: identifier-shaped values are only checked for
    tokens that are never identifiers (GitHub, Slack, JWT, PEM); other values get every pattern."""
    if _IDENTIFIER_VALUE.fullmatch(text):
        hit = secret_pattern(text)
        return hit if hit in _NEVER_IDENTIFIER else None
    return secret_pattern(text)


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


#: ``(key field, value field)`` of tag-like pairs: AWS tags, EC2 filters, ECS/Batch environment entries.
_PAIRS = (("Key", "Value"), ("key", "value"), ("Name", "Value"), ("name", "value"), ("TagKey", "TagValue"))


def _tag_pair(d: dict[str, Any]) -> tuple[str, str] | None:
    """``(key name, value field)`` of a tag-like pair ``{"Key": k, "Value": v}``, else ``None``."""
    for k_name, v_name in _PAIRS:
        if k_name in d and v_name in d and isinstance(d[k_name], str):
            return d[k_name], v_name
    return None


def _redact_strings(v: Any, path: str, hits: list[str]) -> Any:
    """``v`` (a string or a list of strings under a secret-ish key) with its non-plain strings redacted."""
    if isinstance(v, str):
        if _plain_value(v):
            return v
        hits.append(path)
        return REDACTED
    return [_redact_strings(x, f"{path}[{i}]", hits) for i, x in enumerate(v)]


def _scan_identifier(v: Any, path: str, hits: list[str]) -> Any:
    """A string or list of strings under an identifier key, scanned by :func:`_identifier_pattern`."""
    if isinstance(v, list):
        return [_scan_identifier(x, f"{path}[{i}]", hits) for i, x in enumerate(v)]
    if v != REDACTED and _identifier_pattern(v):
        hits.append(path)
        return REDACTED
    return v


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
        pair = _tag_pair(node)
        secret_value_field = pair[1] if pair is not None and is_secret_key(pair[0]) else None
        out: dict[str, Any] = {}
        for k, v in node.items():
            key = str(k)
            path = where + _fmt_key(key)
            if _is_identifier_key(key, rules.identifier_keys) and _strings(v):
                out[k] = _scan_identifier(v, path, hits)
            elif (key == secret_value_field or is_secret_key(key)) and _strings(v):
                out[k] = _redact_strings(v, path, hits)
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


def _stable_id(resource: Resource) -> str:
    """Replacement for an ``id`` holding a secret: the same input gives the same ID on every scan (diffs and
    suppressions keep working), and the digest is salted and slow so a guessable secret is not recoverable."""
    salt = "|".join((resource.provider, resource.account, resource.region, resource.type)).encode()
    digest = hashlib.pbkdf2_hmac("sha256", resource.id.encode(), salt, 100_000).hex()[:16]
    return f"{REDACTED}#{digest}"


def _redact_identity(resource: Resource) -> tuple[str, str, list[str]]:
    """``(id, name, paths)``: ``id`` replaced only when it is not identifier-shaped and matches a pattern;
    a secret-looking ``name`` replaced by the (possibly replaced) ``id``."""
    rid, name, paths = resource.id, resource.name, []
    if rid != REDACTED and not _IDENTIFIER_VALUE.fullmatch(rid) and secret_pattern(rid):
        rid = _stable_id(resource)
        paths.append("id")
    # A name equal to the old id follows the id; any other name is replaced when it looks like a secret.
    if name != rid and (name == resource.id or secret_pattern(name)):
        name = rid
        paths.append("name")
    return rid, name, paths


def _redact_errors(errors: Sequence[CollectionError]) -> tuple[list[CollectionError], list[str]]:
    """Errors with secret-looking messages replaced (whole message: ``call`` and ``code`` stay)."""
    out: list[CollectionError] = []
    paths: list[str] = []
    for i, err in enumerate(errors):
        if err.message != REDACTED and secret_pattern(err.message):
            err = replace(err, message=REDACTED)
            paths.append(f"errors[{i}].message")
        out.append(err)
    return out, paths


def redact(resource: Resource, rules: RedactionRules) -> Resource:
    """A copy of ``resource`` with secrets replaced by ``"<redacted>"``, their paths added to ``redactions``
    (sorted, with any paths it already had). ``resource`` itself is not modified.

    Covers ``data`` (:func:`redact_data`), ``name`` and ``id`` (``"name"``, ``"id"``; see the module doc)
    and ``errors[n].message`` (``"errors[0].message"``). Raises ``ValueError`` for a malformed rule path.
    """
    data, paths = redact_data(resource.type, resource.data, rules)
    rid, name, identity_paths = _redact_identity(resource)
    errors, error_paths = _redact_errors(resource.errors)
    all_paths = set(resource.redactions) | set(paths) | set(identity_paths) | set(error_paths)
    return replace(resource, id=rid, name=name, data=data, errors=errors, redactions=sorted(all_paths))
