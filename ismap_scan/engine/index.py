"""One pass over a snapshot that finds scope records, records by type, and failed listings.

Scope records (DESIGN §3) are ``<provider>.account`` (one per account) and ``<provider>.region`` (one per
scanned region). Checks read their ``data`` as the ``account`` / ``region`` context, and their errors with
``resource_type`` set say that a whole listing of that type failed there.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from ..model import CollectionError, Resource


def account_type(provider: str) -> str:
    return f"{provider}.account"


def region_type(provider: str) -> str:
    return f"{provider}.region"


#: Type-name suffixes of region-scope records: ``region``, or ``zone`` for clouds whose location unit is a
#: zone (Sakura Cloud's ``sakura.zone``: is1a, tk1b...). Either fills the ``region`` context of checks.
REGION_SCOPE_SUFFIXES = ("region", "zone")


def is_region_type(provider: str, rtype: str) -> bool:
    """True for ``<provider>.region`` and ``<provider>.zone``."""
    return any(rtype == f"{provider}.{suffix}" for suffix in REGION_SCOPE_SUFFIXES)


class SnapshotIndex:
    """Lookups over a list of records, built once per evaluation.

    The first record wins when a snapshot repeats a scope record (it should not).
    """

    def __init__(self, records: Iterable[Resource]) -> None:
        self.records: list[Resource] = list(records)
        #: Per-evaluation cache for Python checks' derived lookups (see ``CheckContext.memo``).
        self.memo: dict[Any, Any] = {}
        self._accounts: dict[tuple[str, str], Resource] = {}
        self._regions: dict[tuple[str, str, str], Resource] = {}
        self._by_type: dict[str, list[Resource]] = defaultdict(list)
        self._by_type_account: dict[tuple[str, str], list[Resource]] = defaultdict(list)
        # (resource type, account) -> [(scope record, error)]
        self._listing_errors: dict[tuple[str, str], list[tuple[Resource, CollectionError]]] = defaultdict(
            list
        )
        for rec in self.records:
            self._by_type[rec.type].append(rec)
            self._by_type_account[(rec.type, rec.account)].append(rec)
            if rec.type == account_type(rec.provider):
                self._accounts.setdefault((rec.provider, rec.account), rec)
            elif is_region_type(rec.provider, rec.type):
                self._regions.setdefault((rec.provider, rec.account, rec.region), rec)
            else:
                continue
            for err in rec.errors:
                if err.resource_type:
                    self._listing_errors[(err.resource_type, rec.account)].append((rec, err))

    def account_record(self, provider: str, account: str) -> Resource | None:
        """The ``<provider>.account`` record of ``account``, or ``None`` when the snapshot has none."""
        return self._accounts.get((provider, account))

    def region_record(self, provider: str, account: str, region: str) -> Resource | None:
        """The ``<provider>.region`` record of ``account``/``region``, or ``None`` (always for ``global``)."""
        return self._regions.get((provider, account, region))

    def of_type(self, resource_type: str, account: str | None = None) -> list[Resource]:
        """Records of ``resource_type`` (in snapshot order), all accounts or only ``account``."""
        if account is None:
            return list(self._by_type.get(resource_type, ()))
        return list(self._by_type_account.get((resource_type, account), ()))

    def listing_errors(
        self, resource_type: str, account: str | None = None
    ) -> list[tuple[Resource, CollectionError]]:
        """Failed listings of ``resource_type``: ``(scope record, error)`` pairs, for one account or all."""
        if account is not None:
            return list(self._listing_errors.get((resource_type, account), ()))
        return [
            pair
            for (rtype, _acct), pairs in sorted(self._listing_errors.items())
            if rtype == resource_type
            for pair in pairs
        ]

    def all_listing_errors(self) -> list[tuple[Resource, CollectionError]]:
        """Every failed listing in the snapshot, ordered by (type, account)."""
        return [pair for _key, pairs in sorted(self._listing_errors.items()) for pair in pairs]
