"""``results.junit.xml``: JUnit XML for CI systems (Jenkins, GitLab, Azure DevOps, GitHub test reporters).

One ``<testsuite>`` per check (``name`` = check ID) and one ``<testcase>`` per check × resource, so a CI
dashboard shows each failing resource as a failed test and keeps its history by name:

- ``classname`` = the check ID, ``name`` = ``<account>/<region>/<resource ID>`` (unique within a check);
- FAIL → ``<failure type="<severity>" message="<title>">`` whose text has the message, evidence values,
  remediation, controls and finding key; ERROR → ``<error type="ERROR">`` (the check could not be judged);
  NOT_APPLICABLE → ``<skipped>``; PASS → an empty test case;
- suite ``<properties>``: severity, title, ISMAP controls, catalog version; the root ``<testsuites>`` is
  named after the scan and carries the totals.

Built with ``junitparser`` (maintained, typed, reads what it writes) rather than string templates, so
attribute and text escaping is the XML library's. Times are 0: a check's evaluation has no duration a CI
system should trend.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence

from junitparser import Error, Failure, JUnitXml, Properties, Property, Skipped, TestCase, TestSuite

from ..model import Result, Verdict
from .base import Renderer, localized, outcome_text

#: Characters of an evidence value written into a failure's text (results.jsonl keeps the whole value).
EVIDENCE_CHARS = 2000


def case_name(r: Result) -> str:
    """``<account>/<region>/<resource ID>``: the test case's name, unique within a check and stable."""
    return f"{r.account}/{r.region}/{r.resource_id}"


class JunitRenderer(Renderer[JUnitXml]):
    """Renders ``results.junit.xml``; ``transform`` returns the ``junitparser.JUnitXml`` document."""

    format = "junit"
    filename = "results.junit.xml"

    def transform(self, results: Sequence[Result]) -> JUnitXml:
        by_check: dict[str, list[Result]] = defaultdict(list)
        for r in results:
            by_check[r.check_id].append(r)
        root = JUnitXml(name=f"ismap-scan {self.meta.scan_id}".strip())
        for check_id in sorted(by_check):
            root.append(self._suite(check_id, by_check[check_id]))
        root.update_statistics()
        return root

    def serialize(self, document: JUnitXml) -> bytes:
        return b'<?xml version="1.0" encoding="utf-8"?>\n' + document.tostring() + b"\n"

    def _suite(self, check_id: str, members: list[Result]) -> TestSuite:
        lang = self.meta.language
        first = members[0]
        suite = TestSuite(check_id)
        if self.meta.finished_at:
            suite.timestamp = self.meta.finished_at
        props = Properties()
        for name, value in (
            ("severity", first.severity.value),
            ("title", localized(first.title, lang, check_id)),
            ("ismap.catalog", self.meta.catalog_version),
            ("ismap.controls", ", ".join(f"{c.id} ({c.coverage})" for c in first.controls)),
            ("scan_id", self.meta.scan_id),
        ):
            if value:
                props.append(Property(name, value))
        suite.append(props)
        # append + one update_statistics: add_testcase recounts the suite on every call (quadratic).
        for r in members:
            suite.append(self._case(r))
        suite.update_statistics()
        return suite

    def _case(self, r: Result) -> TestCase:
        case = TestCase(case_name(r), classname=r.check_id, time=0)
        if r.verdict is Verdict.FAIL:
            failure = Failure(outcome_text(r, self.meta.language), r.severity.value)
            failure.text = self._details(r)
            case.result = [failure]
        elif r.verdict is Verdict.ERROR:
            error = Error(r.message or "the check could not be evaluated", "ERROR")
            error.text = self._details(r)
            case.result = [error]
        elif r.verdict is Verdict.NOT_APPLICABLE:
            case.result = [Skipped(outcome_text(r, self.meta.language))]
        return case

    def _details(self, r: Result) -> str:
        """The plain-text body of a failure or error: what a CI log shows under the test."""
        lang = self.meta.language
        lines = [
            f"resource: {r.resource_name} ({r.resource_id})",
            f"type: {r.resource_type}  account: {r.account}  region: {r.region}",
            f"severity: {r.severity.value}",
        ]
        if r.message:
            lines.append(f"message: {r.message}")
        for path, value in r.evidence.items():
            text = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
            if len(text) > EVIDENCE_CHARS:
                text = text[: EVIDENCE_CHARS - 1] + "…"
            lines.append(f"evidence {path} = {text}")
        remediation = localized({k: v for k, v in r.remediation.items() if k != "url"}, lang)
        if remediation:
            lines.append(f"remediation: {remediation}")
        if r.remediation.get("url"):
            lines.append(f"documentation: {r.remediation['url']}")
        if r.controls:
            lines.append("ISMAP controls: " + ", ".join(f"{c.id} ({c.coverage})" for c in r.controls))
        lines.append(f"finding key: {r.finding_key}")
        return "\n".join(lines)
