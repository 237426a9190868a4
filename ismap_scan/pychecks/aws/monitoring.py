"""Monitoring joins: CloudTrail events to metric-filter alarms, GuardDuty findings to notifications.

``aws.cloudwatch.trail_security_event_alarms`` (on ``aws.cloudtrail.trail``): the trail delivers to a
CloudWatch Logs group (``DescribeTrails`` ``CloudWatchLogsLogGroupArn``) that has, for every security event
named in the ``events`` param, a metric filter (``logs:DescribeMetricFilters``) whose ``filterPattern``
contains all the event's tokens, and a metric alarm (``cloudwatch:DescribeAlarms``) on the filter's metric
(``MetricName`` + ``Namespace``) with actions enabled and at least one ``AlarmActions`` target. The default
events follow the CIS AWS Foundations Benchmark monitoring section (unauthorised API calls, console sign-in
without MFA, root use, IAM policy changes, CloudTrail changes, security group changes).

``aws.guardduty.findings_routed_to_notifications`` (on ``aws.guardduty.detector``, enabled detectors only):
an enabled EventBridge rule of the same account and region (``events:ListRules``) whose ``EventPattern``
``source`` includes ``aws.guardduty`` or ``aws.securityhub`` has at least one target
(``events:ListTargetsByRule``), so findings reach people rather than only the console.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from ...engine.python_checks import CheckContext, CheckMeta, PythonCheck
from ...model import Resource, Severity, Verdict

TRAIL = "aws.cloudtrail.trail"
METRIC_FILTER = "aws.logs.metric_filter"
ALARM = "aws.cloudwatch.alarm"
DETECTOR = "aws.guardduty.detector"
RULE = "aws.events.rule"

#: Security events and the tokens a metric filter pattern must contain to count for them (all of them).
DEFAULT_EVENTS: dict[str, list[str]] = {
    "unauthorized_api_calls": ["UnauthorizedOperation", "AccessDenied"],
    "console_sign_in_without_mfa": ["ConsoleLogin", "MFAUsed"],
    "root_account_usage": ["userIdentity.type", "Root"],
    "iam_policy_changes": ["PutUserPolicy", "AttachUserPolicy"],
    "cloudtrail_configuration_changes": ["StopLogging", "DeleteTrail"],
    "security_group_changes": ["AuthorizeSecurityGroupIngress"],
}


def log_group_of(arn: str) -> tuple[str, str] | None:
    """``(region, log group name)`` of a CloudWatch Logs log group ARN
    (``arn:aws:logs:<region>:<account>:log-group:<name>[:*]``), else ``None``."""
    parts = arn.split(":")
    if len(parts) < 7 or parts[2] != "logs" or parts[5] != "log-group":
        return None
    return parts[3], parts[6]


def _alarm_index(ctx: CheckContext) -> dict[tuple[str, str, str, str], list[Resource]]:
    def build() -> dict[tuple[str, str, str, str], list[Resource]]:
        out: dict[tuple[str, str, str, str], list[Resource]] = {}
        for alarm in ctx.records(ALARM):
            key = (
                alarm.account,
                alarm.region,
                str(alarm.data.get("Namespace")),
                str(alarm.data.get("MetricName")),
            )
            out.setdefault(key, []).append(alarm)
        return out

    return ctx.memo(("aws.cloudwatch.trail_security_event_alarms", "alarms"), build)


def _alarm_acts(alarm: Resource) -> bool:
    return alarm.data.get("ActionsEnabled") is not False and bool(alarm.data.get("AlarmActions"))


class TrailSecurityEventAlarms(PythonCheck):
    """Every security event in ``events`` has a metric filter on the trail's log group and an acting alarm."""

    meta = CheckMeta(
        id="aws.cloudwatch.trail_security_event_alarms",
        resource=TRAIL,
        severity=Severity.MEDIUM,
        title={
            "en": "CloudTrail events are watched by metric filters and alarms for security events",
            "ja": "CloudTrail のイベントがセキュリティイベント用のメトリクスフィルターとアラームで監視されている",
        },
        rationale={
            "en": "Alerting on unauthorised calls, sign-in without MFA, root use and changes to IAM, CloudTrail "
            "and security groups shortens the time to notice an attack. Reads the trail's "
            "CloudWatchLogsLogGroupArn, logs:DescribeMetricFilters filterPattern and metricTransformations, and "
            "cloudwatch:DescribeAlarms MetricName/Namespace/ActionsEnabled/AlarmActions: passes when each event "
            "in the events param (name -> tokens the pattern must all contain) has a filter on that log group "
            "and an alarm with an action on its metric. Equivalent: CIS AWS Foundations Benchmark, monitoring.",
            "ja": "不正な API 呼び出し、MFA なしのサインイン、ルート利用、IAM・CloudTrail・セキュリティグループの変更を"
            "通知すれば攻撃に早く気付ける。証跡の CloudWatchLogsLogGroupArn、logs:DescribeMetricFilters の filterPattern と"
            "metricTransformations、cloudwatch:DescribeAlarms の MetricName/Namespace/ActionsEnabled/AlarmActions を読み、"
            "events パラメータ（名前→パターンが全て含むべき語）の各イベントについて、そのロググループのフィルターと、"
            "そのメトリクスのアクション付きアラームがあれば適合とする。同等の基準: CIS AWS Foundations Benchmark（モニタリング）。",
        },
        remediation={
            "en": "Send the multi-region trail to CloudWatch Logs, create a metric filter per event and an alarm on "
            "each metric that notifies an SNS topic watched by the security team.",
            "ja": "マルチリージョン証跡を CloudWatch Logs に送り、イベントごとにメトリクスフィルターを作成し、各メトリクスに"
            "セキュリティ担当が購読する SNS トピックへ通知するアラームを設定する。",
            "url": "https://docs.aws.amazon.com/awscloudtrail/latest/userguide/"
            "cloudwatch-alarms-for-cloudtrail.html",
        },
        evidence=("data.CloudWatchLogsLogGroupArn",),
        params={"events": DEFAULT_EVENTS},
        joins=(METRIC_FILTER, ALARM),
    )

    def evaluate(self, resource: Resource, ctx: CheckContext) -> tuple[Verdict, str]:
        """PASS naming the log group; FAIL naming the uncovered events; ERROR when a listing failed."""
        arn = resource.data.get("CloudWatchLogsLogGroupArn")
        located = log_group_of(arn) if isinstance(arn, str) else None
        if located is None:
            return (
                Verdict.FAIL,
                "the trail does not deliver to CloudWatch Logs, so no metric filter sees its events",
            )
        region, group = located
        filters = [
            f
            for f in ctx.records(METRIC_FILTER, resource.account)
            if f.region == region and f.data.get("logGroupName") == group
        ]
        alarms = _alarm_index(ctx)
        events: Mapping[str, Sequence[str]] = ctx.params.get("events") or {}
        missing: list[str] = []
        for event, tokens in sorted(events.items()):
            covered = False
            for f in filters:
                pattern = str(f.data.get("filterPattern") or "")
                if not all(t in pattern for t in tokens):
                    continue
                for mt in f.data.get("metricTransformations") or []:
                    key = (
                        resource.account,
                        region,
                        str(mt.get("metricNamespace")),
                        str(mt.get("metricName")),
                    )
                    if any(_alarm_acts(a) for a in alarms.get(key, [])):
                        covered = True
            if not covered:
                missing.append(event)
        if not missing:
            return (
                Verdict.PASS,
                f"log group {group} ({region}) has filters and alarms for {len(events)} events",
            )
        failed = [
            e
            for e in ctx.listing_errors(METRIC_FILTER, resource.account)
            + ctx.listing_errors(ALARM, resource.account)
        ]
        if failed:
            return Verdict.ERROR, f"cannot tell: listing failed ({failed[0].call} {failed[0].code})"
        return (
            Verdict.FAIL,
            f"log group {group} ({region}): no filter with an acting alarm for {', '.join(missing)}",
        )


def _sources(pattern: Any) -> list[str]:
    """The ``source`` values of an EventBridge pattern (a JSON string or dict); [] when none or unparsable."""
    if isinstance(pattern, str):
        try:
            pattern = json.loads(pattern)
        except ValueError:
            return []
    if not isinstance(pattern, dict):
        return []
    source = pattern.get("source")
    if isinstance(source, str):
        return [source]
    return [s for s in source or [] if isinstance(s, str)]


class FindingsRoutedToNotifications(PythonCheck):
    """An enabled EventBridge rule with a target matches GuardDuty or Security Hub findings in the region."""

    meta = CheckMeta(
        id="aws.guardduty.findings_routed_to_notifications",
        resource=DETECTOR,
        severity=Severity.MEDIUM,
        title={
            "en": "GuardDuty findings are routed to a notification target",
            "ja": "GuardDuty の検出結果が通知先に送られている",
        },
        rationale={
            "en": "Findings nobody is told about wait in the console. Applies to regions with an enabled detector; "
            "reads events:ListRules (State, EventPattern source) and events:ListTargetsByRule: passes when an "
            "enabled rule of the region matches source aws.guardduty or aws.securityhub and has a target (an SNS "
            "topic, chat integration or ticketing function).",
            "ja": "誰にも知らされない検出結果はコンソールで放置される。有効な検出器のあるリージョンを対象に events:ListRules"
            "（State、EventPattern の source）と events:ListTargetsByRule を読み、source が aws.guardduty または "
            "aws.securityhub に一致する有効なルールにターゲット（SNS トピック、チャット連携、チケット起票関数等）があれば適合とする。",
        },
        remediation={
            "en": "Create an EventBridge rule for source aws.guardduty (detail-type GuardDuty Finding) with an SNS "
            "topic target, or aggregate through Security Hub and route its findings.",
            "ja": "source aws.guardduty（detail-type GuardDuty Finding）の EventBridge ルールを SNS トピックをターゲットとして"
            "作成するか、Security Hub で集約してその検出結果を送る。",
            "url": "https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_findings_eventbridge.html",
        },
        evidence=("data.Detector.Status",),
        joins=(RULE,),
    )

    def applies(self, resource: Resource, ctx: CheckContext) -> bool:
        """Only regions whose detector is enabled produce findings to route."""
        detector = resource.data.get("Detector")
        return isinstance(detector, dict) and detector.get("Status") == "ENABLED"

    def evaluate(self, resource: Resource, ctx: CheckContext) -> tuple[Verdict, str]:
        """PASS naming the rule; ERROR when the region's rules could not be listed; otherwise FAIL."""
        for rule in ctx.records(RULE, resource.account):
            if rule.region != resource.region or rule.data.get("State") != "ENABLED":
                continue
            matches = {"aws.guardduty", "aws.securityhub"} & set(_sources(rule.data.get("EventPattern")))
            if matches and rule.data.get("Targets"):
                return (
                    Verdict.PASS,
                    f"rule {rule.name} sends findings to {len(rule.data['Targets'])} target(s)",
                )
        failed = [e for e in ctx.listing_errors(RULE, resource.account)]
        if failed or any(
            r.errors for r in ctx.records(RULE, resource.account) if r.region == resource.region
        ):
            return Verdict.ERROR, "cannot tell: EventBridge rules or their targets could not be read here"
        return (
            Verdict.FAIL,
            f"no enabled EventBridge rule with a target matches GuardDuty findings in {resource.region}",
        )
