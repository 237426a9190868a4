"""The assertion document (言明書, ``assertion.yaml``): what the provider states, per DESIGN §5.

Shape (every key but ``controls`` optional; unknown keys are refused)::

    version: 1
    catalog: "2024-07"                 # catalog version the IDs refer to
    profile: ismap                     # ismap | ismap-liu
    service: {name: Example Cloud, organization: Example K.K.}
    scope:
      description: Production estate of Example Cloud
      accounts: {aws: ["111122223333"]}
      regions: {aws: [ap-northeast-1]}
    controls:                          # control ID (quoted) → decision; objectives and detailed controls only
      "9.4.2":   {selected: true, individual_control: "Console sign-in requires MFA ..."}
      "9.4.2.2.B":
        selected: true
        individual_control: "..."
        checks: [aws.iam.user_console_mfa_enabled]    # or {check: ID, coverage: full}; default partial
      "11.1.1":  {selected: false, reason: "No premises of our own: data centres are AWS's"}
    inherited:                         # controls an ISMAP-registered underlying cloud carries
      - {controls: ["11.1.2"], service: Amazon Web Services, registration: "ISMAP C21-0002-1"}
    attestations:                      # a person vouches for what no check shows
      - {id: att-1, controls: ["12.3.1"], owner: ..., evidence: ..., date: 2026-10-01,
         expires: 2027-09-30, reviewer: ...}
    waivers:                           # accepted deviations: one finding, or a check on matching resources
      - {id: wv-1, check: aws.ec2.instance_no_public_ip, resource: "arn:aws:ec2:*:instance/i-0bastion*",
         reason: ..., approver: ..., expires: 2027-03-31}

Rules (:func:`load_assertion`, each broken rule is one ``file:line`` error): every ID exists in the catalog
and is an objective or a detailed control; every objective is either selected or excluded; an exclusion has
a reason; a detailed control is not selected under an excluded objective; a basic statement requirement
(``.B``/``.PB``) is left out (excluded or missing) only when its objective is excluded; dates are
``YYYY-MM-DD`` and ``expires`` is not before ``date``; a waiver names a finding key or a check; check IDs
exist when the caller knows the checks. Expiry is judged separately (:meth:`Assertion.expired`), because a
scan keeps going with an expired waiver (it simply stops counting) while ``assertion validate`` refuses it.

The ``.B``/``.PB`` rule is only as complete as the catalog: the catalog built from public sources knows 31
basic statement requirements of the roughly 950 detailed controls; an imported official table (``catalog
import``) makes it complete (:func:`notes`).
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from .. import yamlutil
from ..errors import InputError, InputErrors
from ..model import GLOBAL_REGION, Result
from ..yamlutil import LineDict, LineList, validation_errors
from .catalog import Catalog, id_sort_key, load_catalog

PROFILES = ("ismap", "ismap-liu")
#: Text ``assertion init`` writes where the provider's own individual-control text belongs.
PLACEHOLDER = "TODO: describe the individual control (個別管理策) that implements this"
_FINDING_KEY_RE = re.compile(r"^[0-9a-f]{64}$")


# --------------------------------------------------------------------------------------- YAML with dates


class _Loader(yamlutil._Loader):
    """yamlutil's line-keeping loader, but dates stay strings: PyYAML turns ``2026-13-01`` into a bare
    ``ValueError`` without a line, while pydantic's date parsing reports it with file and line."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yamlutil._Loader.yaml_implicit_resolvers.items()
}


def _load(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read file: {exc}", file=path) from None
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise InputError(
            f"invalid YAML: {exc.problem or exc}", file=path, line=mark.line + 1 if mark else None
        ) from None
    except yaml.YAMLError as exc:
        raise InputError(f"invalid YAML: {exc}", file=path) from None


# --------------------------------------------------------------------------------------- shape (pydantic)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _CheckRefModel(_Strict):
    check: str
    coverage: Literal["full", "partial"] = "partial"


class _ControlModel(_Strict):
    selected: bool
    reason: str = ""
    individual_control: str = ""
    checks: list[str | _CheckRefModel] = Field(default_factory=list)
    note: str = ""


class _ServiceModel(_Strict):
    name: str = ""
    organization: str = ""
    description: str = ""


class _ScopeModel(_Strict):
    description: str = ""
    accounts: dict[str, list[str]] = Field(default_factory=dict)
    regions: dict[str, list[str]] = Field(default_factory=dict)


class _InheritedModel(_Strict):
    controls: list[str] = Field(min_length=1)
    service: str = Field(min_length=1)
    registration: str = Field(min_length=1)
    note: str = ""


class _AttestationModel(_Strict):
    id: str = ""
    controls: list[str] = Field(min_length=1)
    owner: str = Field(min_length=1)
    evidence: str = Field(min_length=1)
    date: dt.date
    expires: dt.date
    reviewer: str = Field(min_length=1)

    @model_validator(mode="after")
    def _order(self) -> _AttestationModel:
        if self.expires < self.date:
            raise ValueError(f"expires {self.expires} is before date {self.date}")
        return self


class _WaiverModel(_Strict):
    id: str = ""
    finding_key: str | None = None
    check: str | None = None
    resource: str = "*"
    reason: str = Field(min_length=1)
    approver: str = Field(min_length=1)
    approved: dt.date | None = None
    expires: dt.date
    scope: Literal["all"] | None = None  # the approver's explicit "yes, every check on every resource"

    @model_validator(mode="after")
    def _target(self) -> _WaiverModel:
        if not self.finding_key and not self.check:
            raise ValueError("a waiver names a finding_key, or a check (with an optional resource pattern)")
        if self.finding_key and not _FINDING_KEY_RE.match(self.finding_key):
            raise ValueError("finding_key must be the 64 lower-case hex digits of a result's finding_key")
        if self.approved and self.expires < self.approved:
            raise ValueError(f"expires {self.expires} is before approved {self.approved}")
        return self


class _AssertionModel(_Strict):
    version: Literal[1] = 1
    catalog: str = "2024-07"
    profile: Literal["ismap", "ismap-liu"] = "ismap"
    service: _ServiceModel = Field(default_factory=_ServiceModel)
    scope: _ScopeModel = Field(default_factory=_ScopeModel)
    controls: dict[str, _ControlModel]
    inherited: list[_InheritedModel] = Field(default_factory=list)
    attestations: list[_AttestationModel] = Field(default_factory=list)
    waivers: list[_WaiverModel] = Field(default_factory=list)


# --------------------------------------------------------------------------------------- loaded document


@dataclass(frozen=True)
class Selection:
    """One control's decision in the statement. ``checks`` maps a check ID to its coverage."""

    id: str
    selected: bool
    reason: str = ""
    individual_control: str = ""
    checks: dict[str, str] = field(default_factory=dict)
    line: int | None = None


@dataclass(frozen=True)
class Inheritance:
    """Controls carried by an ISMAP-registered underlying cloud service (``registration``: its reference)."""

    controls: tuple[str, ...]
    service: str
    registration: str
    note: str = ""
    line: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"service": self.service, "registration": self.registration, "note": self.note}


@dataclass(frozen=True)
class Attestation:
    """A person's statement that controls operate, with its evidence; counts from ``date`` to ``expires``."""

    id: str
    controls: tuple[str, ...]
    owner: str
    evidence: str
    date: dt.date
    expires: dt.date
    reviewer: str
    line: int | None = None

    def current(self, today: dt.date) -> bool:
        """True from ``date`` through ``expires`` (both days included)."""
        return self.date <= today <= self.expires

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "owner": self.owner,
            "evidence": self.evidence,
            "date": self.date.isoformat(),
            "expires": self.expires.isoformat(),
            "reviewer": self.reviewer,
        }


@dataclass(frozen=True)
class Waiver:
    """An accepted deviation: one finding (``finding_key``), or a check on resources matching ``resource``
    (shell pattern on the resource ID or name, ``*`` for all). Mutes FAIL results until ``expires``."""

    id: str
    finding_key: str | None
    check: str | None
    resource: str
    reason: str
    approver: str
    expires: dt.date
    approved: dt.date | None = None
    line: int | None = None
    scope: str | None = None

    @property
    def waives_everything(self) -> bool:
        """True for a check pattern and a resource pattern that match anything (``*``): every FAIL muted."""
        return not self.finding_key and _match_all(self.check or "") and _match_all(self.resource)

    def current(self, today: dt.date) -> bool:
        """True until ``expires`` (that day included) and, when ``approved`` is given, from that day."""
        return today <= self.expires and (self.approved is None or self.approved <= today)

    def matches(self, result: Result) -> bool:
        """True when this waiver names ``result``: its finding key, or its check and resource pattern."""
        if self.finding_key:
            return result.finding_key == self.finding_key
        if self.check is None or not fnmatch.fnmatchcase(result.check_id, self.check):
            return False
        return fnmatch.fnmatchcase(result.resource_id, self.resource) or fnmatch.fnmatchcase(
            result.resource_name, self.resource
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "reason": self.reason,
            "approver": self.approver,
            "expires": self.expires.isoformat(),
        }


@dataclass
class Assertion:
    """A validated ``assertion.yaml`` bound to its catalog.

    ``controls`` maps every control ID the statement names to its :class:`Selection`, in file order.
    """

    path: Path
    catalog: Catalog
    profile: str
    service: dict[str, str]
    scope: dict[str, Any]
    controls: dict[str, Selection]
    inherited: list[Inheritance]
    attestations: list[Attestation]
    waivers: list[Waiver]

    def selected(self, control_id: str) -> bool:
        s = self.controls.get(control_id)
        return bool(s and s.selected)

    def in_statement(self) -> list[Selection]:
        """Every selection in ID order, each objective followed by its detailed controls (the workbook's
        order)."""
        return sorted(self.controls.values(), key=lambda s: id_sort_key(s.id))

    def inheritance_of(self, control_id: str) -> Inheritance | None:
        return next((i for i in self.inherited if control_id in i.controls), None)

    def attestations_of(self, control_id: str) -> list[Attestation]:
        return [a for a in self.attestations if control_id in a.controls]

    def expired(self, today: dt.date) -> list[InputError]:
        """One ``file:line`` error per attestation or waiver that is not current on ``today``."""
        out: list[InputError] = []
        for a in self.attestations:
            if not a.current(today):
                why = f"expired on {a.expires}" if today > a.expires else f"not valid before {a.date}"
                out.append(InputError(f"attestation {a.id}: {why}", file=self.path, line=a.line))
        for w in self.waivers:
            if not w.current(today):
                why = f"expired on {w.expires}" if today > w.expires else f"not valid before {w.approved}"
                out.append(InputError(f"waiver {w.id}: {why}", file=self.path, line=w.line))
        return out

    def scope_providers(self) -> set[str]:
        """Providers the statement's scope names (under ``accounts`` or ``regions``); empty = no limit."""
        return {p for key in ("accounts", "regions") for p, v in (self.scope.get(key) or {}).items() if v}

    def in_scope(self, provider: str, account: str, region: str) -> bool:
        """Whether a result from ``provider`` / ``account`` / ``region`` lies inside the statement's scope.

        DESIGN §1/§5: a scope that names providers limits to them; a provider's ``accounts`` list limits its
        accounts; its ``regions`` list limits its regions, except that ``global`` (IAM, the account itself,
        CloudFront...) belongs to every in-scope account. An empty scope limits nothing."""
        providers = self.scope_providers()
        if not providers:
            return True
        if provider not in providers:
            return False
        accounts = (self.scope.get("accounts") or {}).get(provider) or []
        if accounts and account not in accounts:
            return False
        regions = (self.scope.get("regions") or {}).get(provider) or []
        return not regions or region == GLOBAL_REGION or region in regions

    def summary(self) -> dict[str, Any]:
        """Facts reports print on their cover: ``path``, ``catalog``, ``profile``, ``service``, ``scope``,
        ``selected`` / ``excluded`` counts and the catalog's ``official`` flag."""
        sel = sum(1 for s in self.controls.values() if s.selected)
        return {
            "path": str(self.path),
            "catalog": self.catalog.version,
            "official_catalog": self.catalog.official,
            "profile": self.profile,
            "service": dict(self.service),
            "scope": dict(self.scope),
            "selected": sel,
            "excluded": len(self.controls) - sel,
        }


def today_utc() -> dt.date:
    """Today's date in UTC (what expiry is judged against unless a caller passes a date)."""
    return dt.datetime.now(dt.UTC).date()


# --------------------------------------------------------------------------------------- loading rules


def _line(node: Any, key: Any = None) -> int | None:
    if key is not None and isinstance(node, LineDict):
        return node.key_lines.get(key, node.line or None)
    return getattr(node, "line", None) or None


def _item_line(seq: Any, i: int) -> int | None:
    if isinstance(seq, LineList) and i < len(seq.item_lines):
        return seq.item_lines[i]
    return _line(seq)


def load_assertion(
    path: str | Path,
    *,
    known_checks: set[str] | None = None,
    catalog: Catalog | None = None,
    catalog_base: Path | None = None,
) -> Assertion:
    """Load and validate ``path`` against its catalog (loaded from ``catalog:`` unless given).

    ``known_checks``, when given, is the set of check IDs that exist; ``checks`` entries and waiver checks
    (patterns allowed) must match one. Raises :class:`InputError` for an unreadable file and
    :class:`InputErrors` listing every broken rule (see the module doc) with ``file:line``. Expiry is not
    judged here (:meth:`Assertion.expired`).
    """
    path = Path(path)
    doc = _load(path)
    if not isinstance(doc, LineDict):
        raise InputError("expected a mapping with catalog, profile and controls", file=path, line=1)
    errors: list[InputError] = []
    raw_controls = doc.get("controls")
    if isinstance(raw_controls, LineDict):
        # YAML reads an unquoted 9.4 as a number (and 9.10 as 9.1): refuse rather than guess.
        for key in list(raw_controls):
            if not isinstance(key, str):
                errors.append(
                    InputError(
                        f'controls: control ID {key!r} must be quoted ("{key}"): YAML reads 9.10 as the number 9.1',
                        file=path,
                        line=_line(raw_controls, key),
                    )
                )
        if errors:
            raise InputErrors(errors)
    try:
        model = _AssertionModel.model_validate(doc)
    except ValidationError as exc:
        raise validation_errors(exc, doc, path) from None

    if catalog is None or catalog.version != model.catalog:
        try:
            catalog = load_catalog(model.catalog, catalog_base)
        except InputError as exc:
            raise InputError(f"catalog: {exc.detail}", file=path, line=_line(doc, "catalog")) from None

    controls: dict[str, Selection] = {}
    for cid, entry in model.controls.items():
        line = _line(raw_controls, cid)
        control = catalog.get(cid)
        if control is None:
            errors.append(
                InputError(
                    f"controls: unknown control ID {cid} (not in catalog {catalog.version})",
                    file=path,
                    line=line,
                )
            )
            continue
        if control.level not in ("objective", "detailed"):
            errors.append(
                InputError(
                    f"controls: {cid} is a {control.level}; a statement selects objectives and detailed controls",
                    file=path,
                    line=line,
                )
            )
            continue
        if not entry.selected and not entry.reason.strip():
            errors.append(InputError(f"controls: {cid} is excluded without a reason", file=path, line=line))
        checks: dict[str, str] = {}
        for ref in entry.checks:
            check_id, coverage = (ref, "partial") if isinstance(ref, str) else (ref.check, ref.coverage)
            if known_checks is not None and check_id not in known_checks:
                errors.append(InputError(f"controls: {cid}: unknown check {check_id}", file=path, line=line))
            checks[check_id] = coverage
        controls[cid] = Selection(
            id=cid,
            selected=entry.selected,
            reason=entry.reason.strip(),
            individual_control=entry.individual_control.strip(),
            checks=checks,
            line=line,
        )

    errors.extend(_statement_rules(catalog, controls, path, _line(doc, "controls")))

    def known_ids(ids: list[str], where: str, line: int | None) -> None:
        for cid in ids:
            if cid not in catalog:
                errors.append(
                    InputError(
                        f"{where}: unknown control ID {cid} (not in catalog {catalog.version})",
                        file=path,
                        line=line,
                    )
                )
            elif not controls.get(cid, Selection(cid, False)).selected:
                errors.append(InputError(f"{where}: {cid} is not selected in controls", file=path, line=line))

    inherited: list[Inheritance] = []
    for i, inh in enumerate(model.inherited):
        line = _item_line(doc.get("inherited"), i)
        known_ids(inh.controls, f"inherited[{i}]", line)
        inherited.append(Inheritance(tuple(inh.controls), inh.service, inh.registration, inh.note, line))
    attestations: list[Attestation] = []
    for i, att in enumerate(model.attestations):
        line = _item_line(doc.get("attestations"), i)
        known_ids(att.controls, f"attestations[{i}]", line)
        attestations.append(
            Attestation(
                id=att.id or f"attestations[{i}]",
                controls=tuple(att.controls),
                owner=att.owner,
                evidence=att.evidence,
                date=att.date,
                expires=att.expires,
                reviewer=att.reviewer,
                line=line,
            )
        )
    waivers: list[Waiver] = []
    waiver_lines: dict[str, int | None] = {}  # explicit waiver ID → its line
    for i, w in enumerate(model.waivers):
        line = _item_line(doc.get("waivers"), i)
        if w.id:
            if w.id in waiver_lines:
                errors.append(
                    InputError(
                        f"waivers[{i}]: duplicate waiver ID {w.id} (first at line {waiver_lines[w.id]})",
                        file=path,
                        line=line,
                    )
                )
            else:
                waiver_lines[w.id] = line
        if not w.finding_key and _match_all(w.check or "") and _match_all(w.resource) and w.scope != "all":
            # Mutes every FAIL of every check: almost always a slip. Allowed only when said out loud.
            errors.append(
                InputError(
                    f"waivers[{i}]: check {w.check!r} on resource {w.resource!r} waives every finding; "
                    "narrow it, or set scope: all to confirm that is intended",
                    file=path,
                    line=line,
                )
            )
        if (
            w.check
            and known_checks is not None
            and not any(fnmatch.fnmatchcase(c, w.check) for c in known_checks)
        ):
            errors.append(InputError(f"waivers[{i}]: check {w.check} matches no check", file=path, line=line))
        waivers.append(
            Waiver(
                id=w.id or f"waivers[{i}]",
                finding_key=w.finding_key,
                check=w.check,
                resource=w.resource,
                reason=w.reason,
                approver=w.approver,
                expires=w.expires,
                approved=w.approved,
                line=line,
                scope=w.scope,
            )
        )
    if errors:
        raise InputErrors(errors)
    return Assertion(
        path=path,
        catalog=catalog,
        profile=model.profile,
        service=model.service.model_dump(),
        scope=model.scope.model_dump(),
        controls=controls,
        inherited=inherited,
        attestations=attestations,
        waivers=waivers,
    )


def _match_all(pattern: str) -> bool:
    """True for a shell pattern made only of ``*`` (it matches every check ID or resource)."""
    return bool(pattern) and set(pattern) == {"*"}


def _statement_rules(
    catalog: Catalog, controls: dict[str, Selection], path: Path, controls_line: int | None
) -> list[InputError]:
    """Completeness and consistency of the selections (see the module doc)."""
    errors: list[InputError] = []
    for obj in catalog.objectives():
        if obj.id not in controls:
            errors.append(
                InputError(
                    f"controls: objective {obj.id} is neither selected nor excluded",
                    file=path,
                    line=controls_line,
                )
            )
    for sel in controls.values():
        control = catalog.controls[sel.id]
        if control.level != "detailed":
            continue
        objective = catalog.objective_of(sel.id)
        obj_sel = controls.get(objective.id) if objective else None
        if sel.selected and obj_sel is not None and not obj_sel.selected:
            errors.append(
                InputError(
                    f"controls: {sel.id} is selected but its objective {obj_sel.id} is excluded",
                    file=path,
                    line=sel.line,
                )
            )
    for bsr in catalog.basic_statement_requirements():
        bsr_objective = catalog.objective_of(bsr.id)
        obj_sel = controls.get(bsr_objective.id) if bsr_objective else None
        if obj_sel is None or not obj_sel.selected:
            continue  # objective excluded (or itself missing, reported above)
        bsr_sel = controls.get(bsr.id)
        if bsr_sel is None:
            errors.append(
                InputError(
                    f"controls: basic statement requirement {bsr.id} is missing while its objective "
                    f"{obj_sel.id} is selected (a .B/.PB control is left out only with its objective)",
                    file=path,
                    line=obj_sel.line,
                )
            )
        elif not bsr_sel.selected:
            errors.append(
                InputError(
                    f"controls: {bsr.id} is a basic statement requirement: it cannot be excluded while its "
                    f"objective {obj_sel.id} is selected (exclude the objective, or select {bsr.id})",
                    file=path,
                    line=bsr_sel.line,
                )
            )
    return errors


def notes(assertion: Assertion) -> list[str]:
    """Advice that is not an error: the ``.B``/``.PB`` rule's reach, and placeholders still in place."""
    out: list[str] = []
    cat = assertion.catalog
    if not cat.official:
        out.append(
            f"catalog {cat.version} is built from public sources and knows {len(cat.basic_statement_requirements())} "
            "basic statement requirements (.B/.PB); the rule that they cannot be left out is complete only "
            "once the official table is imported (ismap-scan catalog import)"
        )
    todo = [
        s.id
        for s in assertion.controls.values()
        if s.selected and (not s.individual_control or s.individual_control.startswith("TODO"))
    ]
    if todo:
        out.append(
            f"{len(todo)} selected controls have no individual-control text yet (e.g. {', '.join(todo[:5])})"
        )
    out.extend(waiver_warnings(assertion))
    return out


def waiver_warnings(assertion: Assertion) -> list[str]:
    """One warning per waiver that mutes every finding (``check: "*"``, ``resource: "*"``, ``scope: all``):
    allowed because the approver said so, but worth saying on every validate and scan."""
    return [
        f"{assertion.path}:{w.line}: waiver {w.id} waives every finding of every check (scope: all, "
        f"approver {w.approver}, until {w.expires.isoformat()})"
        for w in assertion.waivers
        if w.waives_everything
    ]


def load_for_scan(path: Path | None, catalog: Catalog, known_checks: set[str]) -> Assertion | None:
    """The scan's assertion document (``None`` without one), validated against the scan's ``catalog``.

    Raises :class:`InputError` when the document names another catalog version than the scan uses, and
    whatever :func:`load_assertion` raises. Expired waivers and attestations do not stop a scan.
    """
    if path is None:
        return None
    assertion = load_assertion(path, known_checks=known_checks, catalog=catalog)
    for warning in waiver_warnings(assertion):
        logging.getLogger(__name__).warning("%s", warning)
    if assertion.catalog.version != catalog.version:
        raise InputError(
            f"the statement names catalog {assertion.catalog.version} but the scan uses catalog "
            f"{catalog.version} (set catalog: {assertion.catalog.version} in ismap-scan.yaml)",
            file=path,
        )
    return assertion


#: Name of the statement's copy inside a scan folder.
STATEMENT_FILE = "assertion.yaml"


def copy_statement(assertion: Assertion, folder: Path) -> Path:
    """Copy the statement a scan used into its folder (``assertion.yaml``), so the evidence names exactly
    the waivers and attestations it applied and the manifest's SHA-256 covers them. Raises ``OSError``."""
    target = Path(folder) / STATEMENT_FILE
    target.write_bytes(assertion.path.read_bytes())
    return target
