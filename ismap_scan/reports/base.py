"""What every report renderer shares: the scan metadata, the renderer base class and small text helpers.

A renderer turns the scan's ``list[Result]`` into one file. As in Prowler's ``Output`` classes, each format
is a class with two steps: :meth:`Renderer.transform` builds the format's in-memory document from the
results (pure, easy to test) and :meth:`Renderer.write` puts that document on disk. Renderers never judge:
verdicts, severities and control statuses arrive already decided.
"""

from __future__ import annotations

import os
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, Generic, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..errors import InputError
from ..model import ControlRef, Result

#: Languages the reports are written in (titles and remediation come from the checks in both).
LANGUAGES = ("ja", "en")


@dataclass
class ReportMeta:
    """Facts about the scan that the reports print beside the results.

    - ``scan_id``: the scan folder name (``20261130T010203Z-1a2b3c4d``).
    - ``tool_version``: ismap-scan's version; ``check_pack_hash``: SHA-256 hex of ``checks/`` + ``mappings/``;
      ``catalog_version``: the ISMAP catalog folder used (``"2024-07"``).
    - ``started_at`` / ``finished_at``: ISO 8601 UTC (``2026-11-30T01:02:03Z``); shown in ``timezone``.
    - ``scope``: ``{"providers": [...], "accounts": ..., "regions": ...}``; accounts and regions are either
      lists of strings or ``{provider: [...]}`` (as ``ismap_scan.scan.scope_of`` gives them).
    - ``language``: ``"ja"`` or ``"en"``; ``timezone``: an IANA zone name for displayed times.
    - ``controls``: the mappings roll-up, each ``{"id", "title": {"en", "ja"}, "status",
      "counts": {"PASS": n, ...}, "checks": [...]}``; ``None`` when no roll-up was made.
    - ``assertion``: the statement's summary when a scan had one (``ismap_scan.ismap.Assertion.summary``:
      ``path``, ``catalog``, ``official_catalog``, ``profile``, ``service``, ``scope``, ``selected``,
      ``excluded``); ``None`` otherwise.
    - ``unseen``: one line per thing the scan could not see
      (``"aws 111122223333 ap-northeast-3: ec2:DescribeSecurityGroups AccessDenied"``); ``None`` when that is
      not known (``report`` on a results file without its snapshot or manifest).
    - ``demo``: the results come from the built-in demo estate on local fake APIs, not from a cloud account.
    - ``statement_scope``: how the statement's scope and the scan differ (``controls.json`` ``scope``:
      ``outside`` = ``[{"provider", "account", "region", "results"}]`` counted but not judged,
      ``not_scanned`` = ``[{"provider", "kind", "value"}]``, ``warnings``); ``None`` without a statement.
    - ``information_uri``: the project's home page for SARIF ``tool.driver.informationUri``; when ``None``
      the installed package's ``Homepage`` URL is used, if it declares one.
    """

    scan_id: str
    tool_version: str
    check_pack_hash: str
    catalog_version: str
    started_at: str
    finished_at: str
    scope: dict[str, Any] = field(default_factory=dict)
    language: str = "ja"
    timezone: str = "Asia/Tokyo"
    controls: list[dict[str, Any]] | None = None
    unseen: list[str] | None = field(default_factory=list)
    demo: bool = False
    information_uri: str | None = None
    assertion: dict[str, Any] | None = None
    statement_scope: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        if self.language not in LANGUAGES:
            raise InputError(f"report language must be one of {', '.join(LANGUAGES)}, got {self.language!r}")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise InputError(
                f"unknown time zone {self.timezone!r} (expected an IANA name such as Asia/Tokyo)"
            ) from None


T = TypeVar("T")


class Renderer(ABC, Generic[T]):
    """One report format. Subclasses set :attr:`format` and :attr:`filename` and implement the two steps.

    ``transform(results) -> T`` builds the document (a list of rows, a SARIF model, a text);
    ``serialize(document) -> bytes`` encodes it; :meth:`write` stores it atomically, so an interrupted run
    never leaves a half-written report that looks complete.
    """

    format: ClassVar[str]
    filename: ClassVar[str]

    def __init__(self, meta: ReportMeta) -> None:
        self.meta = meta

    @abstractmethod
    def transform(self, results: Sequence[Result]) -> T:
        """Build this format's document from ``results`` (already sorted by the engine)."""

    @abstractmethod
    def serialize(self, document: T) -> bytes:
        """The file's exact bytes for ``document``."""

    def write(self, document: T, path: Path) -> Path:
        """Write ``document`` to ``path`` (replaced atomically); returns ``path``. Raises ``OSError``."""
        atomic_write(path, self.serialize(document))
        return path

    def render(self, results: Sequence[Result], out_dir: Path) -> Path:
        """``transform`` then ``write`` to ``out_dir / filename``; returns the file's path."""
        return self.write(self.transform(results), Path(out_dir) / self.filename)


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path`` and rename it over ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        # mkstemp creates 0600; reports get the same mode as every other file in the folder (umask applies).
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def localized(text: dict[str, str], lang: str, fallback: str = "") -> str:
    """``text[lang]``, else the other language's text, else ``fallback`` (a check without a translation
    still shows something rather than an empty cell)."""
    if text.get(lang):
        return text[lang]
    for other in LANGUAGES:
        if text.get(other):
            return text[other]
    return fallback


#: How every report states a result (one template per verdict and language). A check's title states the
#: desired state ("S3 bucket has versioning enabled"), so a FAIL must say that state is not met; ERROR has no
#: template: the engine's message (what could not be read or evaluated) is the whole statement.
OUTCOME_TEMPLATES: dict[str, dict[str, str]] = {
    "en": {"PASS": "Met: {title}", "FAIL": "Not met: {title}", "NOT_APPLICABLE": "Not applicable: {title}"},
    "ja": {"PASS": "達成: {title}", "FAIL": "未達: {title}", "NOT_APPLICABLE": "対象外: {title}"},
}
# Engine messages that only restate the verdict (engine/evaluate.py); anything else (a Python check's own
# explanation) is detail worth showing after the sentence.
_ENGINE_PREFIXES = ("met: ", "not met: ", "not applicable: ")


def outcome_text(result: Result, lang: str, *, detail: bool = True) -> str:
    """The result as one sentence in ``lang``: ``"未達: S3バケットのバージョニングが有効になっている"``.

    PASS / FAIL / NOT_APPLICABLE use :data:`OUTCOME_TEMPLATES` with the check's localized title; with
    ``detail`` a message that says more than the verdict (a Python check's reason) follows after ``" — "``.
    ERROR gives the engine's message unchanged (``"could not be evaluated"`` when it has none)."""
    if result.verdict.value not in OUTCOME_TEMPLATES.get(lang, {}):
        return result.message or "could not be evaluated"
    sentence = OUTCOME_TEMPLATES[lang][result.verdict.value].format(
        title=localized(result.title, lang, result.check_id)
    )
    if detail and result.message and not result.message.startswith(_ENGINE_PREFIXES):
        sentence += f" — {result.message}"
    return sentence


#: Scope warnings (DESIGN §1/§5), per language: results outside the statement's scope and statement scope
#: the scan did not reach. ``{where}`` is ``"aws 444455556666"`` / ``"aws region ap-northeast-3"``.
SCOPE_TEMPLATES: dict[str, dict[str, str]] = {
    "en": {
        "outside": "{n} results from {where} are outside the statement's scope: counted, not judged "
        "(not in the control statuses)",
        "not_scanned": "Statement scope not scanned: {where}",
        "account": "account",
        "region": "region",
    },
    "ja": {
        "outside": "{where} の結果 {n} 件は言明書の対象範囲外です（件数のみ。管理策の状況には含めていません）",
        "not_scanned": "言明書の対象範囲のうち未スキャン: {where}",
        "account": "アカウント",
        "region": "リージョン",
    },
}


def scope_warning_lines(statement_scope: dict[str, Any] | None, lang: str) -> list[str]:
    """``ReportMeta.statement_scope`` as one localized line per difference (``[]`` when none)."""
    if not statement_scope:
        return []
    t = SCOPE_TEMPLATES[lang]
    lines = [
        t["outside"].format(
            n=o.get("results", 0),
            where=" ".join(str(o[k]) for k in ("provider", "account", "region") if o.get(k)),
        )
        for o in statement_scope.get("outside") or []
    ]
    for n in statement_scope.get("not_scanned") or []:
        kind = n.get("kind")
        where = str(n.get("provider"))
        if kind != "provider":
            where += f" {t.get(str(kind), str(kind))} {n.get('value')}"
        lines.append(t["not_scanned"].format(where=where))
    return lines


def controls_text(controls: Sequence[ControlRef], labels: dict[str, str] | None = None) -> str:
    """``"9.4.1 (full); 9.4.2 (partial)"``; ``labels`` maps ``full``/``partial`` to displayed words."""
    labels = labels or {}
    return "; ".join(f"{c.id} ({labels.get(c.coverage, c.coverage)})" for c in controls)


def scope_text(value: Any) -> str:
    """A scope entry as one line: ``["a", "b"]`` → ``"a, b"``; ``{"aws": ["1", "2"]}`` → ``"aws: 1, 2"``
    (providers separated by ``"; "``); anything else ``str()``-ed. Empty gives ``""``."""
    if isinstance(value, dict):
        return "; ".join(f"{k}: {scope_text(v)}" for k, v in value.items() if v)
    if isinstance(value, list | tuple | set | frozenset):
        return ", ".join(str(v) for v in value)
    return "" if value is None else str(value)


def display_time(iso_utc: str, zone: str) -> str:
    """An ISO 8601 UTC time shown in ``zone``: ``2026-11-30 10:02:03 JST``. Unparseable input comes back
    unchanged, so a report still renders with whatever the metadata held."""
    try:
        moment = datetime.fromisoformat(iso_utc.replace("Z", "+00:00"))
    except (ValueError, AttributeError):
        return iso_utc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M:%S %Z")
