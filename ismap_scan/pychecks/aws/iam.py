"""IAM checks that need policy evaluation and joins across records.

``aws.iam.user_no_admin_privileges`` joins an ``aws.iam.user`` record with the ``aws.iam.group`` records of
the groups it belongs to and the ``aws.iam.policy`` records of every managed policy attached to it or to
those groups (all from ``iam:GetAccountAuthorizationDetails``; documents are parsed dicts).

What counts as "administrator" (deliberately conservative: when in doubt it reports, it does not excuse):

* the AWS-managed ``AdministratorAccess`` policy, recognised by ARN even if its document is missing;
* any ``Allow`` statement whose ``Action`` contains ``"*"`` (or ``"*:*"``) and whose ``Resource`` contains
  ``"*"``, or that uses ``NotResource`` (everything but a few resources);
* any ``Allow`` statement with ``NotAction`` on ``"*"`` whose exclusions do not cover ``iam:*``: it grants
  every other service, IAM included, and IAM lets the principal grant itself the rest. AWS's
  ``PowerUserAccess`` (which excludes ``iam:*``) is therefore not reported;
* ``Condition`` blocks are ignored (an MFA or source-IP condition limits when, not what), and ``Deny``
  statements, permission boundaries and SCPs are not subtracted: those need a full policy simulator.
"""

from __future__ import annotations

import fnmatch
import re
from typing import Any

from ...engine.python_checks import CheckContext, CheckMeta, PythonCheck
from ...model import Resource, Severity, Verdict

USER = "aws.iam.user"
GROUP = "aws.iam.group"
POLICY = "aws.iam.policy"

#: ``arn:<partition>:iam::aws:policy/AdministratorAccess`` in every partition (aws, aws-cn, aws-us-gov).
_ADMIN_ACCESS_ARN = re.compile(r"^arn:[a-z-]+:iam::aws:policy/AdministratorAccess$")
_ALL_ACTIONS = frozenset({"*", "*:*"})


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _statements(document: Any) -> list[Any]:
    if not isinstance(document, dict):
        return []
    return _as_list(document.get("Statement"))


def admin_statement(document: Any) -> str | None:
    """Why ``document`` (a parsed IAM policy) grants administrator access, or ``None``.

    The reason names the statement (its ``Sid`` or index). See the module docstring for the rules.
    """
    for index, statement in enumerate(_statements(document)):
        if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
            continue
        label = f"statement {statement.get('Sid') or index}"
        # NotResource = every resource but a few: as broad as "*" for this question.
        if "NotResource" in statement:
            on = "every resource but its NotResource"
        elif "*" in _as_list(statement.get("Resource")):
            on = "Resource *"
        else:
            continue
        actions = {str(a) for a in _as_list(statement.get("Action"))}
        if actions & _ALL_ACTIONS:
            return f"{label} allows Action * on {on}"
        if "NotAction" in statement:
            excluded = [str(a).lower() for a in _as_list(statement.get("NotAction"))]
            if not any(fnmatch.fnmatchcase("iam:*", pattern) for pattern in excluded):
                return f"{label} allows every action except {sorted(excluded)} (IAM included) on {on}"
    return None


def _default_document(policy: Resource) -> Any:
    """The default version's document: ``_derived.DefaultVersionDocument``, else the ``PolicyVersionList``
    entry with ``IsDefaultVersion``; ``None`` when neither is there."""
    derived = policy.data.get("_derived") or {}
    if isinstance(derived, dict) and derived.get("DefaultVersionDocument") is not None:
        return derived["DefaultVersionDocument"]
    for version in _as_list(policy.data.get("PolicyVersionList")):
        if isinstance(version, dict) and version.get("IsDefaultVersion"):
            return version.get("Document")
    return None


def _unknown_fields(rec: Resource, *fields: str) -> str | None:
    """The first collection error on ``rec`` that leaves one of ``fields`` unknown, as text."""
    for err in rec.errors:
        if err.resource_type is None and any(err.covers(f) for f in fields):
            return f"{err.call} {err.code}".strip()
    return None


class _Findings:
    def __init__(self) -> None:
        self.admin: list[str] = []
        self.unknown: list[str] = []


class UserNoAdminPrivileges(PythonCheck):
    """No IAM user holds administrator privileges directly, inline, or through a group."""

    meta = CheckMeta(
        id="aws.iam.user_no_admin_privileges",
        resource=USER,
        severity=Severity.HIGH,
        title={
            "en": "IAM user does not have administrator privileges",
            "ja": "IAMユーザーに管理者権限が付与されていない",
        },
        rationale={
            "en": "Administrator rights on long-lived user credentials turn one leaked password or key into "
            "full control of the account. Grant them through roles assumed only when needed.",
            "ja": "長期的なユーザー認証情報に管理者権限があると、パスワードやアクセスキーが"
            "一つ漏えいしただけでアカウント全体を掌握されます。"
            "管理者権限は必要な時だけ引き受けるロールで付与してください。",
        },
        remediation={
            "en": 'Detach AdministratorAccess and any policy allowing Action "*" on Resource "*" from the '
            "user and its groups; grant least-privilege policies, and use an IAM role (or an IAM Identity "
            "Center permission set) for administration.",
            "ja": 'ユーザーと所属グループから AdministratorAccess および Action "*"・Resource "*" を許可する'
            "ポリシーを外し、最小権限のポリシーを付与してください。管理作業には IAM ロール"
            "(または IAM Identity Center の権限セット)を使用してください。",
            "url": "https://docs.aws.amazon.com/IAM/latest/UserGuide/best-practices.html",
        },
        needs=("data.AttachedManagedPolicies", "data.UserPolicyList", "data.GroupList"),
        evidence=("data.AttachedManagedPolicies", "data.GroupList"),
        joins=(GROUP, POLICY),
    )

    def evaluate(self, resource: Resource, ctx: CheckContext) -> tuple[Verdict, str]:
        """FAIL naming each policy that grants admin; ERROR when a needed group or policy is unknown."""
        found = _Findings()
        self._inline("inline policy", resource.data.get("UserPolicyList"), found)
        self._attached("", resource.data.get("AttachedManagedPolicies"), resource, ctx, found)
        groups = self._groups(resource.account, ctx)
        for name in _as_list(resource.data.get("GroupList")):
            group = groups.get(name)
            if group is None:
                found.unknown.append(self._missing(GROUP, f"group {name}", resource.account, ctx))
                continue
            why = _unknown_fields(group, "GroupPolicyList", "AttachedManagedPolicies")
            if why:
                found.unknown.append(f"group {name}: policies unknown ({why})")
            self._inline(f"group {name} inline policy", group.data.get("GroupPolicyList"), found)
            self._attached(f"group {name} ", group.data.get("AttachedManagedPolicies"), resource, ctx, found)
        if found.admin:
            return Verdict.FAIL, "administrator access via " + "; ".join(found.admin)
        if found.unknown:
            return Verdict.ERROR, "cannot tell: " + "; ".join(found.unknown)
        return Verdict.PASS, "no attached, inline or group policy grants administrator access"

    @staticmethod
    def _inline(label: str, policies: Any, found: _Findings) -> None:
        for policy in _as_list(policies):
            if not isinstance(policy, dict):
                continue
            why = admin_statement(policy.get("PolicyDocument"))
            if why:
                found.admin.append(f"{label} {policy.get('PolicyName')}: {why}")

    def _attached(
        self, label: str, attached: Any, user: Resource, ctx: CheckContext, found: _Findings
    ) -> None:
        policies = self._policies(user.account, ctx)
        for item in _as_list(attached):
            if not isinstance(item, dict):
                continue
            arn = str(item.get("PolicyArn") or "")
            if _ADMIN_ACCESS_ARN.match(arn):
                found.admin.append(f"{label}attached policy {arn}")
                continue
            policy = policies.get(arn)
            if policy is None:
                found.unknown.append(
                    self._missing(POLICY, f"{label}attached policy {arn}", user.account, ctx)
                )
                continue
            why = _unknown_fields(policy, "_derived", "PolicyVersionList")
            document = _default_document(policy)
            if document is None:
                found.unknown.append(
                    f"{label}attached policy {arn}: document unknown ({why or 'not in record'})"
                )
                continue
            reason = admin_statement(document)
            if reason:
                found.admin.append(f"{label}attached policy {arn}: {reason}")

    @staticmethod
    def _missing(rtype: str, what: str, account: str, ctx: CheckContext) -> str:
        failed = ctx.listing_errors(rtype, account)
        if failed:
            return f"{what} unknown (listing failed: {failed[0].call} {failed[0].code})"
        return f"{what} not in the snapshot"

    @staticmethod
    def _groups(account: str, ctx: CheckContext) -> dict[str, Resource]:
        def build() -> dict[str, Resource]:
            return {str(g.data.get("GroupName") or g.name): g for g in ctx.records(GROUP, account)}

        return ctx.memo((UserNoAdminPrivileges.meta.id, GROUP, account), build)

    @staticmethod
    def _policies(account: str, ctx: CheckContext) -> dict[str, Resource]:
        def build() -> dict[str, Resource]:
            out: dict[str, Resource] = {}
            for p in ctx.records(POLICY, account):
                out.setdefault(p.id, p)
                if p.data.get("Arn"):
                    out.setdefault(str(p.data["Arn"]), p)
            return out

        return ctx.memo((UserNoAdminPrivileges.meta.id, POLICY, account), build)
