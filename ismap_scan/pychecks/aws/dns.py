"""Mail domain authentication records in Route 53 hosted zones (ISMAP 13.2.3.7.P, 2024-07: SPF and DMARC).

A *mail domain* is a name in a public hosted zone with an ``MX`` record (``route53:ListResourceRecordSets``).

* ``aws.route53.mail_domain_spf``: every mail domain has exactly one ``TXT`` record at the same name whose
  text starts with ``v=spf1`` (RFC 7208 §4.5: more than one SPF record is a permanent error).
* ``aws.route53.mail_domain_dmarc``: every mail domain has a ``TXT`` record at ``_dmarc.<domain>`` whose text
  starts with ``v=DMARC1`` — or, for a subdomain, the zone apex's record (RFC 7489 §6.6.3: receivers fall back
  to the organizational domain's policy) — with a policy ``p=`` in the ``allowed_policies`` param.

``TXT`` values come quoted and may be split into several quoted strings (``"v=spf1 include:a" " -all"``);
they are joined before matching. Private zones and zones without ``MX`` records are NOT_APPLICABLE.
"""

from __future__ import annotations

import re
from typing import Any

from ...engine.python_checks import CheckContext, CheckMeta, PythonCheck
from ...model import Resource, Severity, Verdict

ZONE = "aws.route53.hosted_zone"
_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')


def txt_text(value: str) -> str:
    """The text of one TXT record value: its quoted strings joined (``'"a" "b"'`` -> ``"ab"``)."""
    parts = _QUOTED.findall(value)
    return "".join(parts) if parts else value


def _records(zone: Resource) -> list[dict[str, Any]]:
    return [r for r in zone.data.get("ResourceRecordSets") or [] if isinstance(r, dict)]


def _texts(zone: Resource, name: str) -> list[str]:
    out: list[str] = []
    for r in _records(zone):
        if r.get("Type") == "TXT" and _norm(r.get("Name")) == name:
            out.extend(txt_text(str(v.get("Value", ""))) for v in r.get("ResourceRecords") or [])
    return out


def _norm(name: Any) -> str:
    """A DNS name lower-cased with the trailing dot (Route 53 answers ``example.jp.``)."""
    text = str(name or "").lower()
    return text if text.endswith(".") else text + "."


def mail_domains(zone: Resource) -> list[str]:
    """Names with an MX record in the zone, sorted."""
    return sorted({_norm(r.get("Name")) for r in _records(zone) if r.get("Type") == "MX"})


def _mail_zone(zone: Resource) -> bool:
    config = zone.data.get("Config") or {}
    return config.get("PrivateZone") is not True and bool(mail_domains(zone))


_META_COMMON: dict[str, Any] = {"resource": ZONE, "evidence": ("data.Name", "data.ResourceRecordSets")}


class MailDomainSpf(PythonCheck):
    """Every mail domain of a public zone publishes exactly one SPF record."""

    meta = CheckMeta(
        id="aws.route53.mail_domain_spf",
        severity=Severity.MEDIUM,
        title={
            "en": "Mail domains in the hosted zone publish an SPF record",
            "ja": "ホストゾーンのメールドメインが SPF レコードを公開している",
        },
        rationale={
            "en": "SPF tells receivers which servers may send mail for the domain, so spoofed mail can be "
            "rejected. Applies to public zones with MX records; reads route53:ListResourceRecordSets and passes "
            "when every name with an MX record has exactly one TXT record starting v=spf1.",
            "ja": "SPF は受信側にドメインのメールを送信できるサーバーを示し、なりすましメールを拒否できるようにする。MX "
            "レコードのある公開ゾーンを対象に route53:ListResourceRecordSets を読み、MX を持つ各名前に v=spf1 で始まる "
            "TXT レコードがちょうど1つあれば適合とする。",
        },
        remediation={
            "en": 'Add one TXT record "v=spf1 include:<your mail provider> -all" at each mail domain.',
            "ja": '各メールドメインに TXT レコード "v=spf1 include:<メール事業者> -all" を1つ追加する。',
            "url": "https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/ResourceRecordTypes.html#SPFFormat",
        },
        needs=("data.ResourceRecordSets",),
        **_META_COMMON,
    )

    def applies(self, resource: Resource, ctx: CheckContext) -> bool:
        """Public zones with at least one MX record."""
        return _mail_zone(resource)

    def evaluate(self, resource: Resource, ctx: CheckContext) -> tuple[Verdict, str]:
        """FAIL naming the domains with no (or several) SPF records."""
        problems: list[str] = []
        for name in mail_domains(resource):
            spf = [t for t in _texts(resource, name) if t.lower().startswith("v=spf1")]
            if len(spf) != 1:
                problems.append(f"{name} has {len(spf)} SPF records")
        if problems:
            return Verdict.FAIL, "; ".join(problems)
        return Verdict.PASS, f"{len(mail_domains(resource))} mail domain(s) publish one SPF record each"


class MailDomainDmarc(PythonCheck):
    """Every mail domain of a public zone is covered by a DMARC record with an allowed policy."""

    meta = CheckMeta(
        id="aws.route53.mail_domain_dmarc",
        severity=Severity.MEDIUM,
        title={
            "en": "Mail domains in the hosted zone publish a DMARC policy",
            "ja": "ホストゾーンのメールドメインが DMARC ポリシーを公開している",
        },
        rationale={
            "en": "DMARC tells receivers what to do with mail failing SPF/DKIM alignment and where to report it. "
            "Applies to public zones with MX records; reads route53:ListResourceRecordSets and passes when every "
            "mail domain has a TXT record at _dmarc.<domain> (a subdomain may rely on the zone apex's) starting "
            "v=DMARC1 whose p= tag is in allowed_policies (default quarantine or reject: p=none only monitors).",
            "ja": "DMARC は SPF/DKIM の整合に失敗したメールの扱いと報告先を受信側に示す。MX レコードのある公開ゾーンを対象に "
            "route53:ListResourceRecordSets を読み、各メールドメインに _dmarc.<ドメイン>（サブドメインはゾーン頂点のものでも可）の "
            "v=DMARC1 で始まる TXT レコードがあり、p= タグが allowed_policies（既定: quarantine または reject。p=none は監視のみ）"
            "のいずれかであれば適合とする。",
        },
        remediation={
            "en": 'Add a TXT record at _dmarc.<domain>: "v=DMARC1; p=quarantine; rua=mailto:<reports address>", '
            "moving to p=reject once reports are clean.",
            "ja": '_dmarc.<ドメイン> に TXT レコード "v=DMARC1; p=quarantine; rua=mailto:<報告先>" を追加し、レポートを確認後 '
            "p=reject に移行する。",
            "url": "https://docs.aws.amazon.com/ses/latest/dg/send-email-authentication-dmarc.html",
        },
        needs=("data.ResourceRecordSets",),
        params={"allowed_policies": ["quarantine", "reject"]},
        **_META_COMMON,
    )

    def applies(self, resource: Resource, ctx: CheckContext) -> bool:
        """Public zones with at least one MX record."""
        return _mail_zone(resource)

    def evaluate(self, resource: Resource, ctx: CheckContext) -> tuple[Verdict, str]:
        """FAIL naming the domains without a DMARC record or with a policy not allowed."""
        allowed = {str(p).lower() for p in ctx.params.get("allowed_policies") or []}
        apex = _norm(resource.data.get("Name"))
        problems: list[str] = []
        for name in mail_domains(resource):
            records = [t for t in _texts(resource, "_dmarc." + name) if t.startswith("v=DMARC1")]
            if not records and name != apex:
                records = [t for t in _texts(resource, "_dmarc." + apex) if t.startswith("v=DMARC1")]
            if len(records) != 1:
                problems.append(f"{name} has {len(records)} DMARC records")
                continue
            tags = dict(part.strip().split("=", 1) for part in records[0].split(";") if "=" in part)
            policy = tags.get("p", "").strip().lower()
            if policy not in allowed:
                problems.append(f"{name} has DMARC policy p={policy or '(none given)'}")
        if problems:
            return Verdict.FAIL, "; ".join(problems)
        return Verdict.PASS, f"{len(mail_domains(resource))} mail domain(s) covered by a DMARC policy"
