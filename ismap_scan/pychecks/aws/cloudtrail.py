"""CloudTrail coverage of an account: a check on ``aws.account`` that joins ``aws.cloudtrail.trail`` records.

``aws.cloudtrail.multi_region_trail_logging`` passes when at least one trail covering the account is

* multi-region (``DescribeTrails`` ``IsMultiRegionTrail``),
* logging (``GetTrailStatus`` ``IsLogging``), and
* recording every management event, read and write (``GetEventSelectors``): a basic selector with
  ``IncludeManagementEvents: true``, ``ReadWriteType: "All"`` and no ``ExcludeManagementEventSources``,
  or an advanced selector whose only field selector is ``eventCategory`` equal to ``Management`` (a
  ``readOnly`` or ``eventSource`` field narrows it, so it does not count).

Trails covering the account are the trail records of that account — ``DescribeTrails`` in a member
account also lists its organization's trail — plus organization trails (``IsOrganizationTrail``) recorded
under another account of the same snapshot (its management account), on the assumption that one
snapshot covers one organization.
"""

from __future__ import annotations

from typing import Any

from ...engine.python_checks import CheckContext, CheckMeta, PythonCheck
from ...model import Resource, Severity, Verdict

ACCOUNT = "aws.account"
TRAIL = "aws.cloudtrail.trail"


def _advanced_logs_management(selectors: list[Any]) -> bool:
    for selector in selectors:
        if not isinstance(selector, dict):
            continue
        fields = [f for f in selector.get("FieldSelectors") or [] if isinstance(f, dict)]
        categories = [f for f in fields if f.get("Field") == "eventCategory"]
        others = [f for f in fields if f.get("Field") != "eventCategory"]
        if others or len(categories) != 1:
            continue
        only = categories[0]
        equals = only.get("Equals") or []
        narrowing = [
            k for k in ("NotEquals", "StartsWith", "NotStartsWith", "EndsWith", "NotEndsWith") if only.get(k)
        ]
        if "Management" in equals and not narrowing:
            return True
    return False


def _basic_logs_management(selectors: list[Any]) -> bool:
    return any(
        isinstance(s, dict)
        and s.get("IncludeManagementEvents") is True
        and s.get("ReadWriteType") == "All"
        and not s.get("ExcludeManagementEventSources")
        for s in selectors
    )


def trail_state(trail: Resource) -> tuple[bool | None, str]:
    """(qualifies, reason) for one trail record; ``None`` when collection errors leave it undecidable."""
    data = trail.data
    label = f"trail {data.get('TrailARN') or trail.id}"
    for err in trail.errors:
        if err.resource_type is None and any(
            err.covers(f)
            for f in ("IsMultiRegionTrail", "Status", "EventSelectors", "AdvancedEventSelectors")
        ):
            return None, f"{label}: {err.field} unknown ({err.call} {err.code})"
    if data.get("IsMultiRegionTrail") is not True:
        return False, f"{label}: not multi-region"
    status = data.get("Status")
    if not isinstance(status, dict) or status.get("IsLogging") is not True:
        return False, f"{label}: not logging"
    if "EventSelectors" not in data and "AdvancedEventSelectors" not in data:
        return None, f"{label}: event selectors not in the snapshot"
    advanced = data.get("AdvancedEventSelectors") or []
    basic = data.get("EventSelectors") or []
    if _advanced_logs_management(advanced) or _basic_logs_management(basic):
        return True, f"{label} is multi-region, logging, and records all management events"
    return False, f"{label}: does not record all (read and write) management events"


class MultiRegionTrailLogging(PythonCheck):
    """At least one multi-region trail records all management events for the account, and is logging."""

    meta = CheckMeta(
        id="aws.cloudtrail.multi_region_trail_logging",
        resource=ACCOUNT,
        severity=Severity.HIGH,
        title={
            "en": "A multi-region CloudTrail trail is logging all management events",
            "ja": "全リージョンの管理イベントを記録する CloudTrail 証跡が有効になっている",
        },
        rationale={
            "en": "Without a logging multi-region trail, API activity in unused regions and read/write "
            "management calls go unrecorded, so incidents cannot be detected or investigated.",
            "ja": "記録中のマルチリージョン証跡がないと、未使用リージョンでの操作や"
            "管理イベント(読み取り・書き込み)が記録されず、インシデントの検知や調査ができません。",
        },
        remediation={
            "en": "Create (or update) a trail with IsMultiRegionTrail enabled, start logging, and configure "
            "event selectors to include management events with ReadWriteType All.",
            "ja": "IsMultiRegionTrail を有効にした証跡を作成(または更新)してログ記録を開始し、"
            "イベントセレクタで管理イベントを ReadWriteType All で記録するよう設定してください。",
            "url": "https://docs.aws.amazon.com/awscloudtrail/latest/userguide/"
            "receive-cloudtrail-log-files-from-multiple-regions.html",
        },
        joins=(TRAIL,),
    )

    def evaluate(self, resource: Resource, ctx: CheckContext) -> tuple[Verdict, str]:
        """PASS naming a qualifying trail; ERROR when none qualifies but a trail or listing is unknown."""
        own = ctx.records(TRAIL, resource.account)
        seen = {t.id for t in own}
        org = [
            t
            for t in ctx.records(TRAIL)
            if t.account != resource.account
            and t.data.get("IsOrganizationTrail") is True
            and t.id not in seen
        ]
        reasons: list[str] = []
        undecided = False
        for trail in [*own, *org]:
            ok, reason = trail_state(trail)
            if ok:
                return Verdict.PASS, reason
            undecided = undecided or ok is None
            reasons.append(reason)
        failed = ctx.listing_errors(TRAIL, resource.account)
        if failed:
            undecided = True
            reasons.append(f"trail listing failed: {failed[0].call} {failed[0].code}")
        if undecided:
            return Verdict.ERROR, "cannot tell: " + "; ".join(reasons)
        if not reasons:
            return Verdict.FAIL, "no CloudTrail trail covers the account"
        return Verdict.FAIL, "no qualifying trail: " + "; ".join(reasons)
