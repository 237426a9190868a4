"""``results.sarif``: SARIF 2.1.0 for GitHub code scanning and other SARIF viewers. FAIL results only.

Built with the ``sarif-pydantic`` models (validated field names, camelCase aliases) rather than hand-made
dicts. Cloud resources are not files, so each result carries both kinds of SARIF location:

- a ``logicalLocation`` (``kind: "resource"``, ``fullyQualifiedName`` = the resource ID, ``name`` = its name);
- a ``physicalLocation`` whose ``artifactLocation.uri`` is a stable pseudo-path
  ``<provider>/<account>/<region>/<resource type>/<percent-encoded resource ID>``, because GitHub code
  scanning only accepts results with a physical location. The resource ID is part of the path so two
  resources never share a location, even for a consumer that ignores our fingerprints.

``partialFingerprints["ismapFindingKey/v1"]`` is the result's finding key (DESIGN §4), so alerts follow a
resource across scans. Rules carry ``properties.security-severity``, which GitHub maps to its severities
(over 9.0 critical, 7.0-8.9 high, 4.0-6.9 medium, up to 3.9 low).

GitHub rejects an upload with more than 25,000 results in a run or over 10 MB gzip-compressed; when either
limit would be passed the least severe results are dropped first and ``run.properties.truncated`` says so.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Sequence
from datetime import datetime
from importlib.metadata import PackageNotFoundError, metadata
from typing import Any
from urllib.parse import quote

import sarif_pydantic as sp

from ..model import Result, Severity, Verdict
from .base import Renderer, ReportMeta, localized, outcome_text

SARIF_SCHEMA_URI = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
FINGERPRINT_KEY = "ismapFindingKey/v1"
TOOL_NAME = "ismap-scan"

#: GitHub code scanning's hard limits (docs: "SARIF results exceed one or more limits").
GITHUB_MAX_RESULTS = 25_000
GITHUB_MAX_GZIP_BYTES = 10 * 1024 * 1024
#: GitHub shows at most 10 tags per rule (20 is the hard limit); the full control list stays in properties.
GITHUB_SHOWN_TAGS = 10

#: security-severity scores; GitHub reads "over 9.0" as critical, so critical sits clearly above it.
SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "7.0",
    Severity.MEDIUM: "5.0",
    Severity.LOW: "3.0",
    Severity.INFO: "0.0",
}
LEVEL = {
    Severity.CRITICAL: sp.Level.ERROR,
    Severity.HIGH: sp.Level.ERROR,
    Severity.MEDIUM: sp.Level.WARNING,
    Severity.LOW: sp.Level.NOTE,
    Severity.INFO: sp.Level.NOTE,
}


class SarifRenderer(Renderer[dict[str, Any]]):
    """Renders ``results.sarif``; ``transform`` returns the SARIF log as a JSON-ready dict.

    ``max_results`` and ``max_gzip_bytes`` default to GitHub's limits; tests lower them.
    """

    format = "sarif"
    filename = "results.sarif"

    def __init__(
        self,
        meta: ReportMeta,
        *,
        max_results: int = GITHUB_MAX_RESULTS,
        max_gzip_bytes: int = GITHUB_MAX_GZIP_BYTES,
    ) -> None:
        super().__init__(meta)
        self.max_results = max_results
        self.max_gzip_bytes = max_gzip_bytes

    def transform(self, results: Sequence[Result]) -> dict[str, Any]:
        failures = [r for r in results if r.verdict is Verdict.FAIL]
        # Most severe first, engine order within a severity: truncation keeps a prefix of this list.
        ranked = sorted(failures, key=lambda r: -r.severity.rank)
        keep = min(len(ranked), self.max_results)
        log = self._log(ranked[:keep], len(ranked))
        if self._gzip_size(log) <= self.max_gzip_bytes:
            return log
        # The largest prefix that fits. Size grows with the prefix, so binary search: about 15 dumps
        # for 25,000 results instead of one per dropped result.
        low, high = 0, keep - 1
        while low < high:
            mid = (low + high + 1) // 2
            if self._gzip_size(self._log(ranked[:mid], len(ranked))) <= self.max_gzip_bytes:
                low = mid
            else:
                high = mid - 1
        return self._log(ranked[:low], len(ranked))

    def serialize(self, document: dict[str, Any]) -> bytes:
        # Compact: with ``indent`` the json module falls back to its pure-Python encoder (3x slower here).
        return (json.dumps(document, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")

    def _gzip_size(self, log: dict[str, Any]) -> int:
        return len(gzip.compress(self.serialize(log), compresslevel=6))

    def _log(self, included: Sequence[Result], total_failures: int) -> dict[str, Any]:
        """The SARIF log for ``included`` FAIL results, noting truncation when ``total_failures`` is more."""
        lang = self.meta.language
        rules: list[sp.ReportingDescriptor] = []
        rule_index: dict[str, int] = {}
        for r in included:
            if r.check_id not in rule_index:
                rule_index[r.check_id] = len(rules)
                rules.append(self._rule(r))
        run_properties: dict[str, Any] = {
            "scanId": self.meta.scan_id,
            "checkPackHash": self.meta.check_pack_hash,
            "catalogVersion": self.meta.catalog_version,
            "scope": self.meta.scope,
            "language": lang,
            "unseen": None if self.meta.unseen is None else list(self.meta.unseen),
            "truncated": len(included) < total_failures,
        }
        if run_properties["truncated"]:
            run_properties["truncation"] = {
                "failures": total_failures,
                "included": len(included),
                "reason": (
                    f"GitHub code scanning accepts at most {self.max_results} results per run and "
                    f"{self.max_gzip_bytes} gzip-compressed bytes per upload; the least severe failures "
                    "were left out. results.jsonl holds all of them."
                ),
            }
        driver = sp.ToolDriver(
            name=TOOL_NAME,
            version=self.meta.tool_version,
            semantic_version=self.meta.tool_version,
            information_uri=self._information_uri(),
            rules=rules,
        )
        run = sp.Run(
            tool=sp.Tool(driver=driver),
            invocations=[self._invocation()],
            results=[self._result(r, rule_index[r.check_id]) for r in included],
            properties=run_properties,
        )
        log = sp.Sarif(schema_uri=SARIF_SCHEMA_URI, runs=[run])
        return log.model_dump(by_alias=True, exclude_none=True, mode="json")

    def _rule(self, r: Result) -> sp.ReportingDescriptor:
        lang = self.meta.language
        title = localized(r.title, lang, r.check_id)
        remediation = localized({k: v for k, v in r.remediation.items() if k != "url"}, lang)
        url = r.remediation.get("url") or None
        help_text = "\n\n".join(part for part in (remediation, url) if part) or title
        help_md = "\n\n".join(part for part in (remediation, f"<{url}>" if url else "") if part) or title
        controls = [{"id": c.id, "coverage": c.coverage} for c in r.controls]
        return sp.ReportingDescriptor(
            id=r.check_id,
            short_description=sp.Message(text=title),
            full_description=sp.Message(text=f"{title}\n\n{remediation}" if remediation else title),
            help=sp.Message(text=help_text, markdown=help_md),
            help_uri=url,
            default_configuration=sp.ReportingConfiguration(level=LEVEL[r.severity].value),
            properties={
                "security-severity": SECURITY_SEVERITY[r.severity],
                "severity": r.severity.value,
                "tags": ["security", *[f"ISMAP-{c.id}" for c in r.controls]][:GITHUB_SHOWN_TAGS],
                "ismapControls": controls,
            },
        )

    def _result(self, r: Result, index: int) -> sp.Result:
        # The title states the desired state; the message must say it is not met (a bare title reads as
        # if the resource complied).
        where = (
            r.resource_id if r.resource_name in ("", r.resource_id) else f"{r.resource_name}, {r.resource_id}"
        )
        text = f"{outcome_text(r, self.meta.language)} ({where})"
        return sp.Result(
            rule_id=r.check_id,
            rule_index=index,
            level=LEVEL[r.severity],
            message=sp.Message(text=text),
            locations=[
                sp.Location(
                    physical_location=sp.PhysicalLocation(
                        artifact_location=sp.ArtifactLocation(uri=artifact_uri(r)),
                        region=sp.Region(start_line=1),
                    ),
                    logical_locations=[
                        sp.LogicalLocation(
                            name=r.resource_name, fully_qualified_name=r.resource_id, kind="resource"
                        )
                    ],
                )
            ],
            partial_fingerprints={FINGERPRINT_KEY: r.finding_key},
            properties={
                "provider": r.provider,
                "account": r.account,
                "region": r.region,
                "resourceType": r.resource_type,
                "collectedAt": r.collected_at,
                "ismapControls": [{"id": c.id, "coverage": c.coverage} for c in r.controls],
            },
        )

    def _invocation(self) -> sp.Invocation:
        return sp.Invocation(
            execution_successful=True,
            start_time_utc=_parse_time(self.meta.started_at),
            end_time_utc=_parse_time(self.meta.finished_at),
        )

    def _information_uri(self) -> str | None:
        if self.meta.information_uri:
            return str(self.meta.information_uri)
        try:
            urls = metadata("ismap-scan").get_all("Project-URL") or []
        except PackageNotFoundError:
            return None
        for entry in urls:
            label, _, url = entry.partition(",")
            if label.strip().lower() in ("homepage", "home", "source", "repository"):
                return url.strip()
        return None


def artifact_uri(r: Result) -> str:
    """The pseudo-path standing for a resource in SARIF: every segment percent-encoded, so an ARN's
    ``:`` and ``/`` (or anything odd in an ID) cannot change the path's shape; stable across scans."""
    parts = (r.provider, r.account, r.region, r.resource_type, r.resource_id)
    return "/".join(quote(p, safe="") for p in parts)


def _parse_time(iso_utc: str) -> datetime | None:
    try:
        return datetime.fromisoformat(iso_utc.replace("Z", "+00:00"))
    except ValueError:
        return None
