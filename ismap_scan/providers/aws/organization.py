"""AWS Organizations: which member accounts to scan, and how their records look when one cannot be entered.

Discovery runs in the management account (or a delegated administrator for Organizations) with the scan's
own credentials:

- no ``ous``: ``organizations:ListAccounts`` (every account of the organization);
- with ``ous``: ``organizations:ListAccountsForParent`` on each OU/root, and ``organizations:ListChildren``
  (``ChildType=ORGANIZATIONAL_UNIT``) to walk nested OUs.

Only ``ACTIVE`` accounts are scanned (``State``, or the older ``Status`` field; suspended and closing
accounts cannot be entered). Accounts asked for by ID that the listing does not have, or has in another
state, get an account record carrying the reason, so nothing asked for silently disappears.

Entering a member is ``sts:AssumeRole`` into ``arn:<partition>:iam::<id>:role<path><role_name>``
(:meth:`~.session.SessionFactory.assume`). When that fails the member's ``aws.account`` record carries the
error (field ``"*"``) plus one listing error per wanted type and for ``aws.region``, so every check reports
ERROR for that account instead of silently seeing nothing (docs/architecture.md, "listing that fails").
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ...model import GLOBAL_REGION, CollectionError, Resource
from .collectors import PROVIDER, classify_error, normalize, utc_now
from .guard import ReadOnlyViolation
from .session import SessionFactory
from .settings import OrganizationSettings

#: Account states that can be entered and scanned (Organizations ``Account.State`` / ``Account.Status``).
ACTIVE = "ACTIVE"

#: Fields of a listed account kept on the account record as ``data.OrganizationAccount`` (the e-mail
#: address of the account's root user is personal data a configuration check never needs).
_KEPT_FIELDS = ("Id", "Arn", "Name", "Status", "State", "JoinedMethod", "JoinedTimestamp")


@dataclass(frozen=True)
class AccountTarget:
    """One account to scan. ``entry`` is its kept ``ListAccounts`` fields (``{}`` for the management
    account when discovery failed); ``role_arn`` is ``None`` for the account the credentials are in."""

    account_id: str
    role_arn: str | None
    entry: dict[str, Any] = field(default_factory=dict)


@dataclass
class OrganizationPlan:
    """What discovery found: targets sorted by account ID, and problems.

    ``discovery_error``: the listing failed (it goes on the management account's record, field
    ``Organization``); ``account_errors``: accounts asked for in ``accounts:`` that cannot be scanned.
    """

    targets: list[AccountTarget] = field(default_factory=list)
    discovery_error: CollectionError | None = None
    account_errors: dict[str, CollectionError] = field(default_factory=dict)


def role_arn_for(account_id: str, org: OrganizationSettings, partition: str) -> str:
    """``arn:<partition>:iam::<account_id>:role<role_path><role_name>``."""
    return f"arn:{partition}:iam::{account_id}:role{org.role_path}{org.role_name}"


def _state(entry: dict[str, Any]) -> str:
    return str(entry.get("State") or entry.get("Status") or "")


def _pages(client: Any, operation: str, key: str, **params: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for page in client.get_paginator(operation).paginate(**params):
        out.extend(x for x in page.get(key, []) if isinstance(x, dict))
    return out


def list_organization_accounts(client: Any, ous: Iterable[str]) -> list[dict[str, Any]]:
    """Listed accounts (raw API dicts): all of them, or those under ``ous`` (nested OUs walked).

    ``client`` is an ``organizations`` client. Raises botocore errors unchanged (``AccessDeniedException``,
    ``AWSOrganizationsNotInUseException``, ``ParentNotFoundException``).
    """
    ous = list(ous)
    if not ous:
        return _pages(client, "list_accounts", "Accounts")
    found: dict[str, dict[str, Any]] = {}
    pending, visited = list(ous), set()
    while pending:
        parent = pending.pop()
        if parent in visited:
            continue
        visited.add(parent)
        for acct in _pages(client, "list_accounts_for_parent", "Accounts", ParentId=parent):
            found.setdefault(str(acct.get("Id")), acct)
        children = _pages(
            client, "list_children", "Children", ParentId=parent, ChildType="ORGANIZATIONAL_UNIT"
        )
        pending.extend(str(c["Id"]) for c in children if c.get("Id"))
    return [found[k] for k in sorted(found)]


def plan_accounts(
    factory: SessionFactory, current_account: str, partition: str, org: OrganizationSettings
) -> OrganizationPlan:
    """Discover and filter the accounts to scan (see the module doc). Never raises for an AWS failure:
    when the listing fails only the current account is planned and the error is returned with it."""
    plan = OrganizationPlan()
    call = "organizations:ListAccountsForParent" if org.ous else "organizations:ListAccounts"
    try:
        listed = list_organization_accounts(factory.client("organizations"), org.ous)
    except ReadOnlyViolation:
        raise
    except Exception as exc:  # recorded on the management account's record
        code, message = classify_error(exc)
        plan.discovery_error = CollectionError("Organization", call, code, message)
        listed = []
    entries = {str(e["Id"]): _kept(e) for e in listed if e.get("Id")}
    if org.include_management and current_account not in org.exclude_accounts:
        plan.targets.append(AccountTarget(current_account, None, entries.get(current_account, {})))
    wanted = set(org.accounts) if org.accounts else set(entries)
    for account_id in sorted(wanted - set(org.exclude_accounts) - {current_account}):
        entry = entries.get(account_id)
        if entry is None:
            if plan.discovery_error is None:  # a failed listing already explains every absence
                plan.account_errors[account_id] = CollectionError(
                    "*", call, "AccountNotFound", f"account {account_id} is not in the organization's listing"
                )
            continue
        if _state(entry) != ACTIVE:
            if org.accounts:  # asked for by ID: say why it was skipped
                plan.account_errors[account_id] = CollectionError(
                    "*", call, "AccountNotActive", f"account {account_id} is {_state(entry) or 'in no state'}"
                )
            continue
        plan.targets.append(AccountTarget(account_id, role_arn_for(account_id, org, partition), entry))
    plan.targets.sort(key=lambda t: t.account_id)
    return plan


def _kept(entry: dict[str, Any]) -> dict[str, Any]:
    kept: dict[str, Any] = normalize({k: entry[k] for k in _KEPT_FIELDS if k in entry})
    return kept


def unscanned_account_record(
    account_id: str,
    partition: str,
    error: CollectionError,
    wanted_types: Iterable[str],
    entry: dict[str, Any] | None = None,
) -> Resource:
    """The ``aws.account`` record of an account that could not be scanned at all.

    ``error`` (field ``"*"``) makes every account-level check ERROR; a copy per wanted type and for
    ``aws.region`` (``resource_type`` set) makes every other check ERROR for this account too.
    """
    errors = [error]
    for rtype in sorted({*wanted_types, "aws.region"} - {"aws.account"}):
        errors.append(CollectionError("*", error.call, error.code, error.message, resource_type=rtype))
    data: dict[str, Any] = {"AccountId": account_id}
    if entry:
        data["OrganizationAccount"] = entry
    return Resource(
        provider=PROVIDER,
        account=account_id,
        region=GLOBAL_REGION,
        type="aws.account",
        id=f"arn:{partition}:iam::{account_id}:root",
        name=account_id,
        collected_at=utc_now(),
        data=data,
        errors=errors,
    )
