"""``results.ocsf.json``: every result as an OCSF Compliance Finding (class 2003), one JSON array.

Built with the ``py-ocsf-models`` pydantic models (OCSF 1.5.0), so field names and enum values are the
schema's, and consumers that speak OCSF (AWS Security Lake, SIEMs, Prowler-style pipelines) can read it.
How a result maps:

| OCSF field | from |
|---|---|
| ``compliance.status_id`` / ``compliance.checks[0].status`` | verdict: PASS → 1 Pass, FAIL → 3 Fail, ERROR → 2 Warning ("did not yield a result due to missing information"), NOT_APPLICABLE → 99 Other with status ``NOT_APPLICABLE`` |
| ``status_code`` | the verdict itself (``PASS``, ``FAIL``, ...) |
| ``status_id`` | 1 New: the finding's workflow state, which a scanner does not manage (waivers will set 3 Suppressed) |
| ``severity_id`` | critical 5, high 4, medium 3, low 2, info 1 |
| ``finding_info.uid`` | the finding key (stable across scans); ``title`` the check title; ``types`` the check ID |
| ``compliance.standards`` | ``["ISMAP <catalog version>"]``; ``requirements`` the ISMAP control IDs; ``control`` the check ID |
| ``resources[0]`` | ``uid`` resource ID (ARN), ``name``, ``type``, ``region``, ``cloud_partition``, ``data.account`` |
| ``cloud`` | ``provider``, ``region``, ``account.uid`` (cloud profile; see :class:`IsmapComplianceFinding`) |
| ``evidences[0].data`` | the evidence values (already redacted) |
| ``remediation`` | ``desc`` in the report language, ``references`` the documentation URL |
| ``metadata`` | product ``ismap-scan`` and its version, ``event_code`` check ID, ``correlation_uid`` scan ID |
| ``time`` | the resource's ``collected_at`` in epoch milliseconds (what the verdict is about) |
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from py_ocsf_models.events.findings.activity_id import ActivityID
from py_ocsf_models.events.findings.compliance_finding import ComplianceFinding
from py_ocsf_models.events.findings.compliance_finding_type_id import ComplianceFindingTypeID
from py_ocsf_models.events.findings.severity_id import SeverityID
from py_ocsf_models.events.findings.status_id import StatusID
from py_ocsf_models.objects.account import Account, TypeID
from py_ocsf_models.objects.check import Check
from py_ocsf_models.objects.cloud import Cloud
from py_ocsf_models.objects.compliance import Compliance
from py_ocsf_models.objects.compliance_status import StatusID as ComplianceStatusID
from py_ocsf_models.objects.evidence_artifacts import EvidenceArtifacts
from py_ocsf_models.objects.finding_info import FindingInformation
from py_ocsf_models.objects.metadata import Metadata
from py_ocsf_models.objects.product import Product
from py_ocsf_models.objects.remediation import Remediation
from py_ocsf_models.objects.resource_details import ResourceDetails

from ..model import Result, Severity, Verdict
from .base import Renderer, localized, outcome_text

PRODUCT_NAME = "ismap-scan"
VENDOR_NAME = "ismap-scan project"
#: The OCSF profile whose attributes (``cloud``) these findings carry.
PROFILES = ["cloud"]

SEVERITY_ID = {
    Severity.CRITICAL: SeverityID.Critical,
    Severity.HIGH: SeverityID.High,
    Severity.MEDIUM: SeverityID.Medium,
    Severity.LOW: SeverityID.Low,
    Severity.INFO: SeverityID.Informational,
}
COMPLIANCE_STATUS = {
    Verdict.PASS: ComplianceStatusID.Pass,
    Verdict.FAIL: ComplianceStatusID.Fail,
    Verdict.ERROR: ComplianceStatusID.Warning,
    Verdict.NOT_APPLICABLE: ComplianceStatusID.Other,
}
#: OCSF cloud account type per provider (``Account.type_id``); others are 99 Other.
ACCOUNT_TYPE = {"aws": TypeID.AWS_Account, "gcp": TypeID.GCP_Account}


class IsmapComplianceFinding(ComplianceFinding):
    """``ComplianceFinding`` plus ``cloud``, the attribute OCSF's *cloud* profile adds to every event class.

    The package's ``ComplianceFinding`` model leaves the profile's attribute out (its ``DetectionFinding``
    has it); without it, a round trip through the model would drop the account.
    """

    cloud: Cloud | None = None


def _epoch_ms(iso_utc: str) -> int | None:
    try:
        moment = datetime.fromisoformat(iso_utc.replace("Z", "+00:00"))
    except (ValueError, AttributeError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def _partition(resource_id: str, provider: str) -> str:
    """The ARN partition (``aws``, ``aws-cn``, ``aws-us-gov``) of an AWS resource ID, else the provider."""
    if resource_id.startswith("arn:"):
        parts = resource_id.split(":", 2)
        if len(parts) > 1 and parts[1]:
            return parts[1]
    return provider


class OcsfRenderer(Renderer[list[dict[str, Any]]]):
    """Renders ``results.ocsf.json``; ``transform`` returns the list of finding dicts (JSON-ready)."""

    format = "ocsf"
    filename = "results.ocsf.json"

    def transform(self, results: Sequence[Result]) -> list[dict[str, Any]]:
        scan_time = _epoch_ms(self.meta.finished_at)
        return [self.finding(r, scan_time).model_dump(mode="json", exclude_none=True) for r in results]

    def serialize(self, document: list[dict[str, Any]]) -> bytes:
        # One finding per line inside the array: diff-friendly and still one JSON document.
        lines = ",\n".join(json.dumps(f, ensure_ascii=False, separators=(",", ":")) for f in document)
        return (f"[\n{lines}\n]\n" if document else "[]\n").encode("utf-8")

    def finding(self, r: Result, scan_time: int | None = None) -> IsmapComplianceFinding:
        """One result as an :class:`IsmapComplianceFinding` (validated by pydantic on construction)."""
        lang = self.meta.language
        title = localized(r.title, lang, r.check_id)
        time = _epoch_ms(r.collected_at) or scan_time or 0
        control_ids = [c.id for c in r.controls]
        standard = f"ISMAP {self.meta.catalog_version}".strip()
        remediation_text = localized({k: v for k, v in r.remediation.items() if k != "url"}, lang)
        url = r.remediation.get("url")
        return IsmapComplianceFinding(
            activity_id=ActivityID.Create,
            activity_name=ActivityID.Create.name,
            type_uid=ComplianceFindingTypeID.Create,
            type_name=f"Compliance Finding: {ActivityID.Create.name}",
            time=time,
            severity_id=SEVERITY_ID[r.severity],
            severity=SEVERITY_ID[r.severity].name,
            status_id=StatusID.New,
            status=StatusID.New.name,
            status_code=r.verdict.value,
            status_detail=r.message or None,
            message=f"{outcome_text(r, lang)} ({r.resource_name})",
            metadata=Metadata(
                product=Product(name=PRODUCT_NAME, vendor_name=VENDOR_NAME, version=self.meta.tool_version),
                event_code=r.check_id,
                correlation_uid=self.meta.scan_id or None,
                profiles=list(PROFILES),
                labels=[f"lang:{lang}"],
            ),
            finding_info=FindingInformation(
                uid=r.finding_key,
                title=title,
                types=[r.check_id],
                created_time=scan_time,
            ),
            compliance=Compliance(
                control=r.check_id,
                requirements=control_ids,
                standards=[standard],
                status_id=COMPLIANCE_STATUS[r.verdict],
                checks=[
                    Check(
                        uid=r.check_id,
                        name=title,
                        severity=r.severity.value,
                        severity_id=SEVERITY_ID[r.severity],
                        standards=[standard],
                        status=r.verdict.value,
                        status_id=COMPLIANCE_STATUS[r.verdict],
                    )
                ],
            ),
            resources=[
                ResourceDetails(
                    uid=r.resource_id,
                    name=r.resource_name,
                    type=r.resource_type,
                    region=r.region,
                    cloud_partition=_partition(r.resource_id, r.provider),
                    data={"account": r.account, "provider": r.provider, "collected_at": r.collected_at},
                )
            ],
            cloud=Cloud(
                provider=r.provider,
                region=r.region,
                account=Account(
                    name=r.account, uid=r.account, type_id=ACCOUNT_TYPE.get(r.provider, TypeID.Other)
                ),
            ),
            evidences=[EvidenceArtifacts(name="ismap-scan evidence", data=dict(r.evidence))]
            if r.evidence
            else None,
            remediation=Remediation(desc=remediation_text or title, references=[url] if url else None),
            unmapped={
                "ismap": {
                    "catalog_version": self.meta.catalog_version,
                    "controls": [c.to_dict() for c in r.controls],
                    "verdict": r.verdict.value,
                }
            },
        )
