"""The shape of a check (DESIGN §4), as pydantic models with unknown keys refused.

:class:`CheckMetaModel` holds what every check has, YAML or Python: ID, resource type, severity, bilingual
title/rationale/remediation, ``needs``, ``evidence`` and ``params``. :class:`YamlCheckModel` adds the two
JMESPath expressions. Only the *shape* is checked here; rules that need the file path or the other checks
(ID prefix, duplicates, known resource types, params used) are the loader's job.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, JsonValue, StringConstraints

from ..model import Severity

#: ``<provider>.<service>.<what_must_hold>`` in lower-case snake parts (``aws.s3.bucket_versioning_enabled``).
CHECK_ID_RE = re.compile(r"^([a-z][a-z0-9]*)\.([a-z][a-z0-9_]*)\.([a-z][a-z0-9_]*)$")
#: ``<provider>.<service>[.<type>]`` or ``<provider>.account`` / ``<provider>.region``.
RESOURCE_TYPE_RE = re.compile(r"^[a-z][a-z0-9]*(\.[a-z][a-z0-9_]*)+$")
#: A ``needs`` path: a context root that can carry collection errors, then a dotted field path.
NEEDS_RE = re.compile(r"^(data|account|region)\.[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*|\[\d+\])*$")
PARAM_NAME_RE = re.compile(r"^[a-z_][a-z0-9_]*$")


def _check_needs_path(value: str) -> str:
    if not NEEDS_RE.match(value):
        raise ValueError(
            f"needs path {value!r} must be data.<Field>, account.<Field> or region.<Field> (dotted names)"
        )
    return value


NonEmpty = Annotated[str, StringConstraints(min_length=1, strip_whitespace=False)]
NeedsPath = Annotated[str, AfterValidator(_check_needs_path)]
ParamName = Annotated[str, StringConstraints(pattern=PARAM_NAME_RE.pattern)]


class Text(BaseModel):
    """A text in both report languages; both are required (reports are rendered in ``ja`` or ``en``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    en: NonEmpty
    ja: NonEmpty


class Remediation(Text):
    """How to fix a failure, in both languages, with an optional reference URL."""

    url: Annotated[str, StringConstraints(pattern=r"^https?://\S+$")] | None = None


class CheckMetaModel(BaseModel):
    """Metadata shared by YAML and Python checks."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    id: Annotated[str, StringConstraints(pattern=CHECK_ID_RE.pattern)]
    resource: Annotated[str, StringConstraints(pattern=RESOURCE_TYPE_RE.pattern)]
    severity: Severity
    title: Text
    rationale: Text | None = None
    remediation: Remediation
    needs: list[NeedsPath] = Field(default_factory=list)
    evidence: list[NonEmpty] = Field(default_factory=list)
    params: dict[ParamName, JsonValue] = Field(default_factory=dict)


class YamlCheckModel(CheckMetaModel):
    """One entry of ``checks/<provider>/<service>.yaml``: the metadata plus its JMESPath expressions."""

    applies: NonEmpty | None = None
    assert_: NonEmpty = Field(alias="assert")


def json_type(value: Any) -> str:
    """The JSON type name of a param value (``number`` covers int and float, but not bool)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__
