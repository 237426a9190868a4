"""Load, validate and compile checks: ``checks/<provider>/<service>.yaml`` files plus Python entry points.

Two stages, as Cloud Custodian does: :func:`~ismap_scan.yamlutil.load_yaml` parses (syntax, duplicate
keys, line numbers), then each entry is validated by the pydantic schema and by the rules below. Every
problem becomes an :class:`~ismap_scan.errors.InputError` reading ``file:line: check <id>: <what was
expected>``; all problems of a load are collected and raised together as
:class:`~ismap_scan.errors.InputErrors`, so a check author fixes a file in one round.

Rules beyond the schema: the ID's ``<provider>.<service>`` matches the file (``checks/aws/s3.yaml`` holds
only ``aws.s3.*``); IDs are unique across all files and Python checks; ``resource`` is a type of the
check's provider and, when ``known_types`` is given, a declared one; every ``$param`` used is declared and
every declared param is used; expressions parse and call known functions with the right argument count;
param overrides name existing checks and params and keep the default's JSON type.
"""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from .. import paths
from ..errors import InputError, InputErrors
from ..model import Severity, canonical_json
from ..yamlutil import LineDict, LineList, load_yaml, validation_errors
from .checkdef import CheckDef, Need
from .compile import ExpressionError, bind_params, compile_expression, param_tokens
from .python_checks import LoadedPythonCheck, PythonCheckInfo, load_entry_points
from .schema import CHECK_ID_RE, RESOURCE_TYPE_RE, CheckMetaModel, YamlCheckModel, json_type

_CHECK_SUFFIXES = (".yaml", ".yml")


@dataclass
class _Spec:
    """A check that passed the schema, waiting for cross-check rules and compilation."""

    model: CheckMetaModel
    file: str
    line: int | None
    doc: LineDict | None = None  # the YAML mapping (for key lines); None for Python checks
    expected_prefix: str | None = None  # "aws.s3." from the file path; None for Python checks
    python: LoadedPythonCheck | None = None
    joins: tuple[str, ...] = ()

    def key_line(self, *keys: Any) -> int | None:
        node: Any = self.doc
        line = self.line
        for key in keys:
            if isinstance(node, LineDict) and key in node:
                line = node.key_lines.get(key, line)
                node = node[key]
            else:
                break
        return line


@dataclass
class _Errors:
    items: list[InputError] = field(default_factory=list)

    def add(self, message: str, *, file: str | Path | None, line: int | None, check: str | None) -> None:
        self.items.append(InputError(message, file=file, line=line, check=check))

    def extend(self, errors: Iterable[InputError]) -> None:
        self.items.extend(errors)


def _check_files(root: Path) -> Iterator[Path]:
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if any(part.startswith(".") for part in rel.parts) or not path.is_file():
            continue
        if path.suffix in _CHECK_SUFFIXES:
            yield path


def _read_file(
    root: Path, path: Path, known_types: set[str] | None, errors: _Errors, specs: list[_Spec]
) -> None:
    rel = path.relative_to(root)
    file = str(path)
    if len(rel.parts) != 2:
        errors.add("check files live at <provider>/<service>.yaml", file=file, line=None, check=None)
        return
    provider, service = rel.parts[0], path.stem
    if not CHECK_ID_RE.match(f"{provider}.{service}.x"):
        errors.add(
            f"provider and service names in the path must be lower-case snake case, got {provider}/{service}",
            file=file,
            line=None,
            check=None,
        )
        return
    try:
        doc = load_yaml(path)
    except InputError as exc:
        errors.extend(exc.errors if isinstance(exc, InputErrors) else [exc])
        return
    if not isinstance(doc, LineList):
        errors.add(
            "expected a YAML list of checks", file=file, line=getattr(doc, "line", None) or 1, check=None
        )
        return
    for index, item in enumerate(doc):
        line = doc.item_lines[index]
        if not isinstance(item, LineDict):
            errors.add(f"[{index}]: expected a mapping (one check)", file=file, line=line, check=None)
            continue
        raw_id = item.get("id")
        check_id = raw_id if isinstance(raw_id, str) else None
        try:
            model = YamlCheckModel.model_validate(dict(item))
        except ValidationError as exc:
            errors.extend(validation_errors(exc, item, file, check=check_id).errors)
            _partial_checks(item, file, f"{provider}.{service}.", known_types, errors)
            continue
        specs.append(
            _Spec(model=model, file=file, line=line, doc=item, expected_prefix=f"{provider}.{service}.")
        )


def _partial_checks(
    item: LineDict, file: str, prefix: str, known_types: set[str] | None, errors: _Errors
) -> None:
    """The file-level rules on an entry that failed the schema, so one round reports all of its problems:
    the ID prefix and the expressions' syntax (params bound as far as they are declared)."""
    raw_id = item.get("id")
    check_id = raw_id if isinstance(raw_id, str) else None
    if check_id and CHECK_ID_RE.match(check_id) and not check_id.startswith(prefix):
        errors.add(
            f"id: must start with {prefix} to live in this file",
            file=file,
            line=item.key_lines.get("id"),
            check=check_id,
        )
    resource = item.get("resource")
    if isinstance(resource, str) and RESOURCE_TYPE_RE.match(resource):
        problem = _type_problem(resource, prefix.split(".", 1)[0], known_types)
        if problem:
            errors.add(f"resource: {problem}", file=file, line=item.key_lines.get("resource"), check=check_id)
    raw_params = item.get("params")
    values = dict(raw_params) if isinstance(raw_params, dict) else {}
    for key in ("applies", "assert"):
        expr = item.get(key)
        if not isinstance(expr, str) or not expr:
            continue
        names = {name for _s, _e, name in param_tokens(expr)}
        try:
            compile_expression(bind_params(expr, {n: values.get(n) for n in names}))
        except ExpressionError as exc:
            errors.add(f"{key}: {exc}", file=file, line=item.key_lines.get(key), check=check_id)


def _read_python(
    eps: Iterable[EntryPoint] | None, errors: _Errors, specs: list[_Spec]
) -> list[PythonCheckInfo]:
    loaded, problems = load_entry_points(eps)
    for problem in problems:
        errors.add(problem, file=None, line=None, check=None)
    infos: list[PythonCheckInfo] = []
    for item in loaded:
        meta = type(item.check).meta
        try:
            model = CheckMetaModel.model_validate(meta.as_model_input())
        except ValidationError as exc:
            for err in exc.errors(include_url=False):
                loc = ".".join(str(p) for p in err["loc"])
                errors.add(f"meta.{loc}: {err['msg']}", file=item.file, line=item.line, check=str(meta.id))
            continue
        for joined in meta.joins:
            if not isinstance(joined, str) or not RESOURCE_TYPE_RE.match(joined):
                errors.add(
                    f"meta.joins: {joined!r} is not a resource type",
                    file=item.file,
                    line=item.line,
                    check=model.id,
                )
        specs.append(_Spec(model=model, file=item.file, line=item.line, python=item, joins=tuple(meta.joins)))
        infos.append(item.info)
    return infos


def _type_problem(resource_type: str, provider: str, known_types: set[str] | None) -> str | None:
    if not resource_type.startswith(provider + "."):
        return f"resource type {resource_type!r} is not a {provider} type"
    if known_types is not None and resource_type not in known_types:
        close = difflib.get_close_matches(resource_type, sorted(known_types), n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        return f"unknown resource type {resource_type!r}: no provider declares it{hint}"
    return None


def _check_spec(spec: _Spec, known_types: set[str] | None, errors: _Errors) -> None:
    model = spec.model
    provider = model.id.split(".", 1)[0]
    if spec.expected_prefix and not model.id.startswith(spec.expected_prefix):
        errors.add(
            f"id: must start with {spec.expected_prefix} to live in this file",
            file=spec.file,
            line=spec.key_line("id"),
            check=model.id,
        )
    problem = _type_problem(model.resource, provider, known_types)
    if problem:
        errors.add(f"resource: {problem}", file=spec.file, line=spec.key_line("resource"), check=model.id)
    for joined in spec.joins:
        problem = _type_problem(joined, provider, known_types)
        if problem:
            errors.add(f"meta.joins: {problem}", file=spec.file, line=spec.line, check=model.id)


def _check_duplicates(specs: list[_Spec], errors: _Errors) -> list[_Spec]:
    first: dict[str, _Spec] = {}
    unique: list[_Spec] = []
    for spec in specs:
        seen = first.get(spec.model.id)
        if seen is not None:
            where = seen.file if seen.line is None else f"{seen.file}:{seen.line}"
            errors.add(
                f"duplicate check ID (first defined at {where})",
                file=spec.file,
                line=spec.line,
                check=spec.model.id,
            )
            continue
        first[spec.model.id] = spec
        unique.append(spec)
    return unique


def _override_line(params: Any, *keys: Any) -> int | None:
    node, line = params, getattr(params, "line", None) or None
    for key in keys:
        if isinstance(node, LineDict) and key in node:
            line = node.key_lines.get(key, line)
            node = node[key]
        else:
            break
    return line


def _type_mismatch(default: Any, value: Any) -> str | None:
    """Why ``value`` cannot replace ``default`` (JSON types must match; array items too), or ``None``."""
    if default is None:
        return None
    if json_type(value) != json_type(default):
        shown = canonical_json(default)
        return f"expected a {json_type(default)} like the default {shown}, got {json_type(value)}"
    if isinstance(default, list) and default:
        item_types = {json_type(d) for d in default}
        if len(item_types) == 1:
            (item_type,) = item_types
            bad = [v for v in value if json_type(v) != item_type]
            if bad:
                return f"expected an array of {item_type}s like the default {canonical_json(default)}"
    return None


def _apply_overrides(
    specs: list[_Spec], overrides: Mapping[str, Any] | None, params_file: str | Path | None, errors: _Errors
) -> dict[str, dict[str, Any]]:
    """Params in force per check ID: defaults, replaced by valid overrides."""
    values = {spec.model.id: dict(spec.model.params) for spec in specs}
    if not overrides:
        return values
    if not isinstance(overrides, Mapping):
        errors.add(
            "params: expected a mapping {check_id: {param: value}}",
            file=params_file,
            line=_override_line(overrides),
            check=None,
        )
        return values
    for check_id, given in overrides.items():
        line = _override_line(overrides, check_id)
        if check_id not in values:
            close = difflib.get_close_matches(str(check_id), sorted(values), n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            errors.add(f"params: unknown check{hint}", file=params_file, line=line, check=str(check_id))
            continue
        if not isinstance(given, Mapping):
            errors.add(
                "params: expected a mapping of param names to values",
                file=params_file,
                line=line,
                check=check_id,
            )
            continue
        declared = values[check_id]
        for name, value in given.items():
            pline = _override_line(overrides, check_id, name)
            if name not in declared:
                known = ", ".join(sorted(declared)) or "none"
                errors.add(
                    f"params: unknown param {name!r} (declared: {known})",
                    file=params_file,
                    line=pline,
                    check=check_id,
                )
                continue
            why = _type_mismatch(declared[name], value)
            if why:
                errors.add(f"params.{name}: {why}", file=params_file, line=pline, check=check_id)
                continue
            declared[name] = value
    return values


def _compile_yaml(spec: _Spec, values: dict[str, Any], errors: _Errors) -> CheckDef | None:
    model = spec.model
    assert isinstance(model, YamlCheckModel)
    ok = True
    used: set[str] = set()
    compiled: dict[str, Any] = {}
    for key, expr in (("applies", model.applies), ("assert", model.assert_)):
        if expr is None:
            continue
        names = [name for _s, _e, name in param_tokens(expr)]
        used.update(names)
        undeclared = sorted({n for n in names if n not in values})
        if undeclared:
            ok = False
            errors.add(
                f"{key}: ${', $'.join(undeclared)} used but not declared in params",
                file=spec.file,
                line=spec.key_line(key),
                check=model.id,
            )
            continue
        try:
            compiled[key] = compile_expression(bind_params(expr, values))
        except ExpressionError as exc:
            ok = False
            errors.add(f"{key}: {exc}", file=spec.file, line=spec.key_line(key), check=model.id)
    for name in sorted(set(model.params) - used):
        ok = False
        errors.add(
            f"params.{name}: declared but not used in applies or assert",
            file=spec.file,
            line=spec.key_line("params", name),
            check=model.id,
        )
    evidence = _compile_evidence(spec, errors)
    if not ok or evidence is None:
        return None
    return CheckDef(
        **_metadata(spec, values),
        kind="yaml",
        applies=model.applies,
        assert_=model.assert_,
        compiled_applies=compiled.get("applies"),
        compiled_assert=compiled["assert"],
        compiled_evidence=evidence,
    )


def _metadata(spec: _Spec, values: dict[str, Any]) -> dict[str, Any]:
    """The :class:`CheckDef` fields YAML and Python checks share: metadata, needs, evidence paths, params."""
    model = spec.model
    return {
        "id": model.id,
        "resource": model.resource,
        "severity": model.severity,
        "title": model.title.model_dump(),
        "remediation": model.remediation.model_dump(exclude_none=True),
        "rationale": model.rationale.model_dump() if model.rationale else None,
        "needs": tuple(Need.parse(p) for p in model.needs),
        "evidence": tuple(model.evidence),
        "params": values,
        "defaults": dict(model.params),
        "source": spec.file,
        "line": spec.line,
    }


def _compile_evidence(spec: _Spec, errors: _Errors) -> tuple[Any, ...] | None:
    out = []
    ok = True
    for i, path in enumerate(spec.model.evidence):
        try:
            out.append(compile_expression(path))
        except ExpressionError as exc:
            ok = False
            line = spec.key_line("evidence")
            if spec.doc is not None and isinstance(spec.doc.get("evidence"), LineList):
                line = spec.doc["evidence"].item_lines[i]
            errors.add(f"evidence[{i}]: {exc}", file=spec.file, line=line, check=spec.model.id)
    return tuple(out) if ok else None


def _python_def(spec: _Spec, values: dict[str, Any], errors: _Errors) -> CheckDef | None:
    assert spec.python is not None
    evidence = _compile_evidence(spec, errors)
    if evidence is None:
        return None
    return CheckDef(
        **_metadata(spec, values),
        kind="python",
        joins=spec.joins,
        compiled_evidence=evidence,
        python=spec.python.check,
    )


def load_checks(
    dirs: Sequence[Path] | None = None,
    params: Mapping[str, Any] | None = None,
    known_types: set[str] | None = None,
    include_python: bool = True,
    *,
    params_file: str | Path | None = None,
    python_entry_points: Iterable[EntryPoint] | None = None,
) -> CheckSet:
    """Load every check of ``dirs`` (default: the bundled ``checks/``) and the Python entry points.

    ``params``: overrides ``{check_id: {param: value}}`` from ``ismap-scan.yaml`` (a :class:`LineDict`
    gives errors their lines; ``params_file`` names the file). ``known_types``: the resource types the
    providers declare (the CLI passes the union of ``Provider.resource_types()``); ``None`` skips that rule.
    ``python_entry_points`` replaces the installed ``ismap_scan.checks`` group (tests).

    Raises :class:`InputErrors` listing every problem found, each ``file:line: check <id>: ...``.
    """
    roots = [Path(d) for d in dirs] if dirs is not None else [paths.checks_dir()]
    errors = _Errors()
    specs: list[_Spec] = []
    for root in roots:
        if not root.is_dir():
            errors.add("checks folder not found", file=root, line=None, check=None)
            continue
        for path in _check_files(root):
            _read_file(root, path, known_types, errors, specs)
    infos: list[PythonCheckInfo] = []
    if include_python:
        infos = _read_python(python_entry_points, errors, specs)
    specs = _check_duplicates(specs, errors)
    for spec in specs:
        _check_spec(spec, known_types, errors)
    values = _apply_overrides(specs, params, params_file, errors)
    defs: list[CheckDef] = []
    for spec in specs:
        made = (
            _python_def(spec, values[spec.model.id], errors)
            if spec.python is not None
            else _compile_yaml(spec, values[spec.model.id], errors)
        )
        if made is not None:
            defs.append(made)
    if errors.items:
        raise InputErrors(errors.items)
    loaded_ids = {d.id for d in defs}
    return CheckSet(defs, [i for i in infos if i.check_id in loaded_ids], roots)


class CheckSet:
    """An immutable, ID-ordered collection of loaded checks: what the CLI selects from and evaluates."""

    def __init__(
        self,
        checks: Iterable[CheckDef],
        python_info: Iterable[PythonCheckInfo] = (),
        check_dirs: Sequence[Path] = (),
        pack_python_info: Iterable[PythonCheckInfo] | None = None,
    ) -> None:
        self._checks = tuple(sorted(checks, key=lambda c: c.id))
        self._by_id = {c.id: c for c in self._checks}
        if len(self._by_id) != len(self._checks):
            raise ValueError("duplicate check IDs in a CheckSet")
        self._python_info = tuple(sorted(python_info, key=lambda i: i.check_id))
        self._check_dirs = tuple(check_dirs)
        # The pack hash names the whole pack, so a selection keeps the info of every Python check.
        self._pack_python_info = (
            self._python_info
            if pack_python_info is None
            else tuple(sorted(pack_python_info, key=lambda i: i.check_id))
        )

    def __iter__(self) -> Iterator[CheckDef]:
        return iter(self._checks)

    def __len__(self) -> int:
        return len(self._checks)

    def __contains__(self, check_id: object) -> bool:
        return check_id in self._by_id

    def get(self, check_id: str) -> CheckDef | None:
        """The check with ``check_id``, or ``None``."""
        return self._by_id.get(check_id)

    def ids(self) -> list[str]:
        return [c.id for c in self._checks]

    @property
    def check_dirs(self) -> tuple[Path, ...]:
        """The check folders this set was loaded from, in load order (the order :meth:`pack_hash` labels
        them ``checks``, ``checks1``, ...)."""
        return self._check_dirs

    def select(
        self,
        ids: Iterable[str] | None = None,
        services: Iterable[str] | None = None,
        severities: Iterable[str | Severity] | None = None,
        providers: Iterable[str] | None = None,
    ) -> CheckSet:
        """The checks matching every given filter (a filter given as ``None`` matches all).

        ``services`` accepts ``s3`` or ``aws.s3``. Raises :class:`InputErrors` for IDs, services,
        severities or providers that match no loaded check (a typo must not shrink a scan silently).
        """
        errors: list[InputError] = []
        chosen = list(self._checks)
        if ids is not None:
            wanted = list(ids)
            for unknown in [i for i in wanted if i not in self._by_id]:
                close = difflib.get_close_matches(unknown, list(self._by_id), n=1)
                hint = f" (did you mean {close[0]}?)" if close else ""
                errors.append(InputError(f"unknown check ID{hint}", check=unknown))
            chosen = [c for c in chosen if c.id in set(wanted)]
        if services is not None:
            wanted_services = set(services)
            known = {c.service for c in self._checks} | {f"{c.provider}.{c.service}" for c in self._checks}
            errors += [InputError(f"unknown service {s!r}") for s in sorted(wanted_services - known)]
            chosen = [c for c in chosen if {c.service, f"{c.provider}.{c.service}"} & wanted_services]
        if severities is not None:
            levels: set[Severity] = set()
            for sev in severities:
                try:
                    levels.add(Severity(sev))
                except ValueError:
                    allowed = ", ".join(s.value for s in Severity)
                    errors.append(InputError(f"unknown severity {sev!r} (expected one of {allowed})"))
            chosen = [c for c in chosen if c.severity in levels]
        if providers is not None:
            wanted_providers = set(providers)
            known_providers = {c.provider for c in self._checks}
            errors += [
                InputError(f"no checks for provider {p!r}")
                for p in sorted(wanted_providers - known_providers)
            ]
            chosen = [c for c in chosen if c.provider in wanted_providers]
        if errors:
            raise InputErrors(errors)
        ids_chosen = {c.id for c in chosen}
        return CheckSet(
            chosen,
            [i for i in self._python_info if i.check_id in ids_chosen],
            self._check_dirs,
            self._pack_python_info,
        )

    def resource_types(self) -> set[str]:
        """Every type these checks judge or join: what a narrowed collection must still gather."""
        return {t for c in self._checks for t in c.resource_types}

    def python_check_info(self) -> list[dict[str, Any]]:
        """Provenance of the Python checks in this set (ID, entry point, package, version, source hash)."""
        return [i.to_dict() for i in self._python_info]

    def pack_hash(self, mappings_dir: Path | None = None) -> str:
        """SHA-256 hex identifying the check pack: every file under the check folders and ``mappings_dir``
        (default: the bundled ``mappings/``, skipped when absent), hashed as (relative path, bytes) in path
        order, then the Python check info. Selection does not change it: it names the pack, not the run.
        """
        digest = hashlib.sha256()
        if mappings_dir is None:
            try:
                mappings_dir = paths.mappings_dir()
            except FileNotFoundError:
                mappings_dir = None
        for name, path in check_pack_files(self._check_dirs, mappings_dir):
            data = path.read_bytes()
            digest.update(f"{name}\0{len(data)}\0".encode())
            digest.update(data)
        digest.update(canonical_json([i.to_dict() for i in self._pack_python_info]).encode("utf-8"))
        return digest.hexdigest()


def check_pack_files(check_dirs: Sequence[Path], mappings_dir: Path | None) -> list[tuple[str, Path]]:
    """The files of a check pack as ``(name, path)`` sorted by name: ``checks/…`` (the first folder),
    ``checks1/…`` (further folders) and ``mappings/…``; hidden files and ``__pycache__`` left out.

    The one definition of "the pack": :meth:`CheckSet.pack_hash` hashes these files and the evidence store
    archives them, so an archived pack always hashes back to the pack hash a scan recorded.
    """
    trees = [("checks" if i == 0 else f"checks{i}", Path(d)) for i, d in enumerate(check_dirs)]
    if mappings_dir is not None and mappings_dir.is_dir():
        trees.append(("mappings", mappings_dir))
    entries: list[tuple[str, Path]] = []
    for label, root in trees:
        for path in root.rglob("*"):
            rel = path.relative_to(root)
            if path.is_file() and not any(p.startswith(".") or p == "__pycache__" for p in rel.parts):
                entries.append((f"{label}/{rel.as_posix()}", path))
    return sorted(entries)
