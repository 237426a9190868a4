"""``ismap-scan.yaml``: what to scan and how (scope, credentials profile, check selection, params, outputs).

Example::

    version: 1
    providers:
      aws:
        profile: audit            # or role_arn / external_id; default credential chain otherwise
        regions: [ap-northeast-1, ap-northeast-3]
    checks:
      include: ["aws.s3.*", aws.iam.root_mfa_enabled]   # IDs or shell-style patterns; default: all
      exclude: [aws.ec2.instance_no_public_ip]
      services: [s3, iam, ec2]                          # <service> part of the check ID
      min_severity: low                                 # critical | high | medium | low | info
      params:
        aws.iam.user_access_keys_rotated: {max_age_days: 60}
      dirs: [./team-checks]                             # extra YAML check folders, relative to this file
    output:
      dir: ./ismap-scan-out
      formats: [jsonl, md, csv, sarif]
      lang: ja
      timezone: Asia/Tokyo
    fail_on: high                                       # a severity, or "none"
    catalog: "2024-07"
    assertion: ./assertion.yaml                         # optional: the statement (言明書) for the roll-up

Unknown keys, wrong types and bad values raise :class:`~ismap_scan.errors.InputErrors` naming the file, the
line and the key. Provider blocks are validated by each provider's own settings model.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .errors import InputError, InputErrors
from .model import Severity
from .yamlutil import LineDict, load_yaml, validation_errors

#: Formats written when neither the config nor ``--format`` names any.
DEFAULT_FORMATS = ["jsonl", "md", "csv", "sarif", "html", "ocsf", "junit"]
FailOn = Literal["critical", "high", "medium", "low", "info", "none"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False)


class ChecksConfig(_Strict):
    """Which checks run, and their params (overrides of the defaults declared in each check)."""

    include: list[str] = Field(default_factory=list)
    exclude: list[str] = Field(default_factory=list)
    services: list[str] = Field(default_factory=list)
    min_severity: Severity = Severity.INFO
    params: dict[str, dict[str, Any]] = Field(default_factory=dict)
    dirs: list[Path] = Field(default_factory=list)


class OutputConfig(_Strict):
    dir: Path = Path("ismap-scan-out")
    formats: list[str] = Field(default_factory=lambda: list(DEFAULT_FORMATS))
    lang: Literal["ja", "en"] = "ja"
    timezone: str = "Asia/Tokyo"

    @field_validator("formats")
    @classmethod
    def _known_formats(cls, v: list[str]) -> list[str]:
        return validate_formats(v)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {v!r} (expected an IANA name such as Asia/Tokyo)") from None
        return v


class ScanConfig(_Strict):
    """The validated ``ismap-scan.yaml``. ``providers`` maps a provider name to its validated settings."""

    version: Literal[1] = 1
    providers: dict[str, Any] = Field(default_factory=dict)
    checks: ChecksConfig = Field(default_factory=ChecksConfig)
    output: OutputConfig = Field(default_factory=OutputConfig)
    fail_on: FailOn = "info"
    catalog: str = "2024-07"
    assertion: Path | None = (
        None  # assertion.yaml (言明書), relative to this file; see ismap_scan/ismap/assertion.py
    )
    source: Path | None = None


def validate_formats(formats: list[str]) -> list[str]:
    """Lower-cased, de-duplicated formats. Raises ``ValueError`` naming an unknown format.

    The known formats are the report renderers' (:data:`ismap_scan.reports.FORMATS`).
    """
    from .reports import FORMATS  # lazy: renderers import Jinja2 and the SARIF models

    out: list[str] = []
    for f in formats:
        f = f.strip().lower()
        if f not in FORMATS:
            raise ValueError(f"unknown format {f!r} (known: {', '.join(FORMATS)})")
        if f not in out:
            out.append(f)
    return out


def load_config(path: str | Path | None, provider_models: dict[str, type[BaseModel]]) -> ScanConfig:
    """Load and validate ``path`` (``None``: defaults, no file).

    ``provider_models`` maps each installed provider's name to its settings model. A provider block for an
    unknown provider is an error. Relative ``checks.dirs`` and ``output.dir`` are resolved against the
    config file's folder. Raises :class:`InputError` / :class:`InputErrors` (exit code 2).
    """
    if path is None:
        return ScanConfig()
    path = Path(path)
    if not path.is_file():
        raise InputError("config file not found", file=path)
    doc = load_yaml(path)
    if doc is None:
        doc = LineDict()
    if not isinstance(doc, dict):
        raise InputError("expected a mapping at the top level", file=path, line=getattr(doc, "line", 1))
    try:
        cfg = ScanConfig.model_validate(dict(doc))
    except ValidationError as exc:
        raise validation_errors(exc, doc, path) from None

    errors: list[InputError] = []
    providers_doc = doc.get("providers") or LineDict()
    settings: dict[str, Any] = {}
    for name, block in cfg.providers.items():
        model = provider_models.get(name)
        if model is None:
            line = getattr(providers_doc, "key_lines", {}).get(name)
            known = ", ".join(sorted(provider_models)) or "none installed"
            errors.append(
                InputError(f"providers.{name}: unknown provider (known: {known})", file=path, line=line)
            )
            continue
        block_doc = providers_doc.get(name) if isinstance(providers_doc, dict) else None
        try:
            settings[name] = model.model_validate(dict(block or {}))
        except ValidationError as exc:
            errors.extend(validation_errors(exc, block_doc, path, prefix=("providers", name)).errors)
    if errors:
        raise InputErrors(errors)
    cfg.providers = settings
    params_doc = (doc.get("checks") or {}).get("params")
    if isinstance(params_doc, LineDict):
        cfg.checks.params = params_doc  # same values, but keeps lines for the engine's override errors
    base = path.parent
    cfg.checks.dirs = [d if d.is_absolute() else base / d for d in cfg.checks.dirs]
    if cfg.assertion is not None and not cfg.assertion.is_absolute():
        cfg.assertion = base / cfg.assertion
    if not cfg.output.dir.is_absolute() and "output" in doc and "dir" in (doc.get("output") or {}):
        cfg.output.dir = base / cfg.output.dir
    cfg.source = path
    return cfg
