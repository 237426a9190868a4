"""``ismap-scan report --period A..B``: compliance over a period, the operating-effectiveness view.

From the stored scans of one scope whose start falls in the period (dates inclusive, in the display time
zone, default Asia/Tokyo):

- per control: scans with a status for it, how many were COMPLIANT and their share; days scanned and days
  compliant (a day counts by its last scan), and the statuses seen;
- gaps: runs of whole days in the period without any scan;
- failures: for each finding key, when it opened (first FAIL scan) and closed (first later scan where it
  was not FAIL, or the resource was gone); still-open failures have ``closed_at: null``.

Times are stored in UTC and shown in the zone; the JSON keeps both.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..errors import InputError
from ..model import Verdict

PERIOD_SCHEMA = "ismap-scan/period-report/v1"


@dataclass(frozen=True)
class Period:
    """Inclusive local dates ``start..end`` in ``zone``."""

    start: date
    end: date
    zone: ZoneInfo

    def utc_bounds(self) -> tuple[str, str]:
        """ISO 8601 UTC bounds (inclusive start, inclusive end to the last second of ``end``)."""
        lo = datetime.combine(self.start, time.min, self.zone).astimezone(UTC)
        hi = datetime.combine(self.end, time.max, self.zone).astimezone(UTC)
        return lo.strftime("%Y-%m-%dT%H:%M:%SZ"), hi.strftime("%Y-%m-%dT%H:%M:%SZ")

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def parse_period(text: str, zone: str = "Asia/Tokyo") -> Period:
    """``"2026-04-01..2027-03-31"`` → :class:`Period`. Raises :class:`InputError` for a bad form, a bad date,
    an end before the start or an unknown zone."""
    try:
        tz = ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise InputError(f"unknown time zone {zone!r} (an IANA name such as Asia/Tokyo)") from None
    a, sep, b = text.partition("..")
    if not sep:
        raise InputError(f"--period: expected START..END (e.g. 2026-04-01..2027-03-31), got {text!r}")
    try:
        start, end = date.fromisoformat(a.strip()), date.fromisoformat(b.strip())
    except ValueError as exc:
        raise InputError(f"--period: {exc}") from None
    if end < start:
        raise InputError("--period: the end is before the start")
    return Period(start, end, tz)


def _parse_utc(ts: str) -> datetime:
    return datetime.strptime(ts, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def local_time(ts: str | None, zone: ZoneInfo) -> str | None:
    """``2026-11-30T01:02:03Z`` shown as ``2026-11-30 10:02 JST`` in ``zone``."""
    if not ts:
        return None
    return _parse_utc(ts).astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


def period_report(store: Any, scope: str, period: Period) -> dict[str, Any]:
    """Build the report (a JSON-able dict, schema :data:`PERIOD_SCHEMA`) from ``store`` for ``scope``."""
    lo, hi = period.utc_bounds()
    scans = store.list_scans(scope, since=lo, until=hi)
    zone = period.zone
    day_of = {s.scan_id: _parse_utc(s.started_at).astimezone(zone).date() for s in scans}

    per_control: dict[str, dict[str, Any]] = {}
    last_of_day: dict[str, dict[date, str]] = {}
    for s in scans:
        for c in store.control_dicts(s):
            cid, status = str(c.get("id")), str(c.get("status"))
            pc = per_control.setdefault(
                cid, {"control": cid, "title": c.get("title") or {}, "statuses": Counter()}
            )
            pc["statuses"][status] += 1
            last_of_day.setdefault(cid, {})[day_of[s.scan_id]] = status  # scans are in time order
    controls = []
    for cid, pc in sorted(per_control.items(), key=lambda kv: _control_sort(kv[0])):
        statuses: Counter[str] = pc["statuses"]
        n = sum(statuses.values())
        days = last_of_day[cid]
        ok_days = sum(1 for st in days.values() if st == "COMPLIANT")
        controls.append(
            {
                "control": cid,
                "title": pc["title"],
                "scans": n,
                "compliant_scans": statuses.get("COMPLIANT", 0),
                "compliant_share": round(statuses.get("COMPLIANT", 0) / n, 4) if n else None,
                "days_scanned": len(days),
                "days_compliant": ok_days,
                "compliant_day_share": round(ok_days / len(days), 4) if days else None,
                "statuses": dict(sorted(statuses.items())),
            }
        )

    scanned_days = sorted(set(day_of.values()))
    gaps = []
    cursor = period.start
    for d in [*scanned_days, period.end + timedelta(days=1)]:
        if d > cursor:
            gaps.append(
                {
                    "from": cursor.isoformat(),
                    "to": (d - timedelta(days=1)).isoformat(),
                    "days": (d - cursor).days,
                }
            )
        cursor = max(cursor, d + timedelta(days=1))

    failures = _failure_intervals(store, scans, zone)
    return {
        "schema": PERIOD_SCHEMA,
        "scope": scope,
        "period": {"start": period.start.isoformat(), "end": period.end.isoformat(), "days": period.days},
        "timezone": str(zone.key),
        "scans": [
            {
                "scan_id": s.scan_id,
                "started_at": s.started_at,
                "started_local": local_time(s.started_at, zone),
                "fail": s.fail_count,
                "error": s.error_count,
            }
            for s in scans
        ],
        "days_with_scans": len(scanned_days),
        "gaps": gaps,
        "controls": controls,
        "failures": failures,
    }


def _failure_intervals(store: Any, scans: list[Any], zone: ZoneInfo) -> list[dict[str, Any]]:
    """Open/close times per finding key across ``scans`` (in chain order)."""
    fail = Verdict.FAIL.value
    open_: dict[str, dict[str, Any]] = {}
    done: list[dict[str, Any]] = []
    for i, s in enumerate(scans):
        verdicts = store.verdicts(s)
        controls_of: dict[str, list[str]] = {}
        for key, r in verdicts.items():
            if r["verdict"] == fail and key not in open_:
                if not controls_of:
                    controls_of = _controls_by_check(store, s)
                open_[key] = {
                    "finding_key": key,
                    "check_id": r["check_id"],
                    "severity": r["severity"],
                    "resource_id": r["resource_id"],
                    "region": r["region"],
                    "controls": controls_of.get(r["check_id"], []),
                    "opened_at": s.started_at,
                    "opened_scan": s.scan_id,
                    "open_at_period_start": i == 0,
                }
        for key in list(open_):
            r = verdicts.get(key)
            if r is None or r["verdict"] != fail:
                item = open_.pop(key)
                item.update(
                    closed_at=s.started_at,
                    closed_scan=s.scan_id,
                    closed_by="gone" if r is None else r["verdict"],
                )
                done.append(item)
    for item in open_.values():
        item.update(closed_at=None, closed_scan=None, closed_by=None)
        done.append(item)
    for item in done:
        item["opened_local"] = local_time(item["opened_at"], zone)
        item["closed_local"] = local_time(item["closed_at"], zone)
        if item["closed_at"]:
            hours = (_parse_utc(item["closed_at"]) - _parse_utc(item["opened_at"])).total_seconds() / 3600
            item["open_hours"] = round(hours, 2)
    done.sort(key=lambda x: (x["opened_at"], x["check_id"], x["resource_id"]))
    return done


def _controls_by_check(store: Any, scan: Any) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for r in store.result_dicts(scan):
        out.setdefault(r["check_id"], sorted({c["id"] for c in r.get("controls") or []}))
    return out


def _control_sort(cid: str) -> tuple[Any, ...]:
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in cid.split("."))


def render_markdown(rep: dict[str, Any]) -> str:
    """The period report as Markdown, times in the report's zone."""
    p = rep["period"]
    lines = [
        f"# Compliance over {p['start']} .. {p['end']} ({rep['timezone']})",
        "",
        f"Scope: {rep['scope']}. Scans: {len(rep['scans'])} on {rep['days_with_scans']} of {p['days']} days.",
        "",
        "## Controls",
        "",
        "| control | scans | compliant scans | share | days scanned | days compliant | statuses |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for c in rep["controls"]:
        share = "" if c["compliant_share"] is None else f"{c['compliant_share']:.0%}"
        statuses = ", ".join(f"{k} {v}" for k, v in c["statuses"].items())
        lines.append(
            f"| {c['control']} | {c['scans']} | {c['compliant_scans']} | {share} | {c['days_scanned']} | "
            f"{c['days_compliant']} | {statuses} |"
        )
    lines.extend(["", "## Gaps in scanning", ""])
    if rep["gaps"]:
        lines.extend(f"- {g['from']} .. {g['to']} ({g['days']} days without a scan)" for g in rep["gaps"])
    else:
        lines.append("None: every day of the period has a scan.")
    lines.extend(["", "## Failures (opened / closed)", ""])
    if rep["failures"]:
        lines.extend(["| check | resource | controls | opened | closed |", "|---|---|---|---|---|"])
        for f in rep["failures"]:
            opened = f["opened_local"] + (" (or earlier)" if f["open_at_period_start"] else "")
            lines.append(
                f"| `{f['check_id']}` | `{str(f['resource_id']).replace('|', '/')}` | {', '.join(f['controls'])} | "
                f"{opened} | {f['closed_local'] or 'open'} |"
            )
    else:
        lines.append("No failures in the period.")
    return "\n".join(lines) + "\n"


def render_json(rep: dict[str, Any]) -> str:
    return json.dumps(rep, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
