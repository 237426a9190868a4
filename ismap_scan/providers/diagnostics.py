"""Provider-neutral results of ``ismap-scan doctor``: what was checked before a scan and how it went.

A provider that supports pre-flight checks has ``doctor(options: CollectOptions) -> list[DoctorCheck]``
(:class:`DoctorProvider`); the CLI renders the list and picks the exit code with :func:`doctor_exit_code`,
without knowing which cloud it talks to.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from .base import CollectOptions


class DoctorStatus(StrEnum):
    """Outcome of one pre-flight check.

    ``OK``: works. ``MISSING``: a permission the scan needs is denied. ``FAILED``: a prerequisite is broken
    (no credentials, a member account cannot be entered, a region is closed). ``INCONCLUSIVE``: the probe's
    answer does not tell (the API validated the request before authorising it, an emulator lacks the call,
    a throttle or network error).
    """

    OK = "ok"
    MISSING = "missing"
    FAILED = "failed"
    INCONCLUSIVE = "inconclusive"


@dataclass(frozen=True)
class DoctorCheck:
    """One pre-flight check.

    ``category``: ``credentials``, ``identity``, ``region``, ``account``, ``organization`` or
    ``permission``. ``subject``: what was checked (a region name, an account ID, ``service:Operation``).
    ``permission``: for ``permission`` checks, the IAM action (or equivalent) that authorises the call.
    ``code``: the API's error code when there was one. ``detail``: one line for a human.
    """

    category: str
    subject: str
    status: DoctorStatus
    detail: str = ""
    account: str = ""
    region: str = ""
    permission: str = ""
    code: str = ""

    def to_dict(self) -> dict[str, str]:
        return {
            "category": self.category,
            "subject": self.subject,
            "status": self.status.value,
            "detail": self.detail,
            "account": self.account,
            "region": self.region,
            "permission": self.permission,
            "code": self.code,
        }


class DoctorProvider(Protocol):
    """A provider with pre-flight checks (optional part of :class:`~.base.Provider`)."""

    def doctor(self, options: CollectOptions) -> list[DoctorCheck]: ...

    def permissions_policy(self) -> dict[str, Any]: ...


def missing_permissions(checks: Iterable[DoctorCheck]) -> list[str]:
    """Sorted, distinct permissions of the ``MISSING`` checks."""
    return sorted({c.permission or c.subject for c in checks if c.status is DoctorStatus.MISSING})


def doctor_exit_code(checks: Iterable[DoctorCheck]) -> int:
    """3 when a permission is missing or a prerequisite failed, 4 when only inconclusive checks remain,
    else 0 (the ``scan`` exit codes' meaning: failures, then incompleteness; DESIGN §8)."""
    statuses = {c.status for c in checks}
    if statuses & {DoctorStatus.MISSING, DoctorStatus.FAILED}:
        return 3
    if DoctorStatus.INCONCLUSIVE in statuses:
        return 4
    return 0
