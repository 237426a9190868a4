"""The GitHub Action's inputs: parsed from the step environment, validated, every problem reported at once.

A composite action does not export its inputs, so ``action.yml`` maps each input to an ``INPUT_<NAME>``
variable (upper case, ``-`` → ``_``) in each step's ``env:``; values are never interpolated into shell code.
Standard library only: ``PYTHONPATH=$GITHUB_ACTION_PATH python -m ismap_scan.ci.inputs`` validates the inputs
and names the pip extras to install before ismap-scan itself is installed.
"""

from __future__ import annotations

import json
import re
import sys
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path

from ..errors import InputError, InputErrors
from .github import GitHubEnv

SEVERITIES = ("critical", "high", "medium", "low", "info", "none")
MODES = ("auto", "gate", "comment")
LANGS = ("en", "ja")
#: Extras installed with ``bundle: true`` when the project declares them (the evidence store's dependencies).
BUNDLE_EXTRAS = ("evidence",)
#: Events on which ``mode: auto`` only comments: the scan shows what is deployed, not what the PR proposes.
PULL_REQUEST_EVENTS = ("pull_request", "pull_request_target")

_TRUE = ("true", "yes", "on", "1")
_FALSE = ("false", "no", "off", "0", "")
_REGION_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,40}$")
_PROVIDER_RE = re.compile(r"^[a-z][a-z0-9]{0,20}$")
_CHECK_RE = re.compile(r"^[a-z0-9_.*?\[\]-]{1,200}$")
_FORMAT_RE = re.compile(r"^[a-z0-9]{1,10}$")
_ROLE_ARN_RE = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}$")
#: actions/upload-artifact refuses these characters in an artifact name.
_ARTIFACT_BAD = set('":<>|*?\\/\r\n')
_PATH_FIELDS = ("config", "baseline", "output_dir", "scan_dir", "resources", "data_dir")
#: Where the validation step leaves the validated inputs for the later steps (under ``RUNNER_TEMP``).
INPUTS_FILE_ENV = "ISMAP_SCAN_CI_INPUTS"


@dataclass
class ActionInputs:
    """Validated inputs of ``action.yml`` (see its ``inputs:`` for each one's meaning and default)."""

    providers: list[str] = field(default_factory=lambda: ["aws"])
    demo: bool = False
    config: Path | None = None
    regions: list[str] = field(default_factory=list)
    role_arn: str = ""
    checks: list[str] = field(default_factory=list)
    fail_on: str = "high"
    soft_fail: bool = False
    fail_on_incomplete: bool = False
    mode: str = "auto"
    baseline: Path | None = None
    formats: list[str] = field(default_factory=lambda: ["jsonl", "md", "csv", "sarif"])
    lang: str = "en"
    output_dir: Path = Path("ismap-scan-out")
    scan_dir: Path | None = None
    resources: Path | None = None
    upload_sarif: bool = True
    sarif_category: str = "ismap-scan"
    upload_artifacts: bool = True
    artifact_name: str = "ismap-scan"
    bundle: bool = True
    comment: bool = True
    data_dir: Path | None = None

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form (paths as strings), for the file later steps read (:func:`load_inputs_file`)."""
        out: dict[str, object] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            out[f.name] = str(value) if isinstance(value, Path) else value
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> ActionInputs:
        """Inverse of :meth:`to_dict`; unknown keys are ignored."""
        obj = cls()
        for f in fields(cls):
            if f.name not in data:
                continue
            value = data[f.name]
            current = getattr(obj, f.name)
            if f.name in _PATH_FIELDS:
                value = Path(str(value)) if value not in (None, "") else None
                if value is None and isinstance(current, Path):
                    continue
            setattr(obj, f.name, value)
        return obj

    def effective_mode(self, event_name: str) -> str:
        """``gate`` or ``comment``: ``auto`` comments on pull-request events and gates on every other."""
        if self.mode != "auto":
            return self.mode
        return "comment" if event_name in PULL_REQUEST_EVENTS else "gate"


def _env_name(name: str) -> str:
    return "INPUT_" + name.upper().replace("-", "_")


def _csv(value: str) -> list[str]:
    return [x.strip() for x in value.replace("\n", ",").split(",") if x.strip()]


class _Reader:
    """Reads ``INPUT_*`` values and collects problems instead of stopping at the first."""

    def __init__(self, environ: Mapping[str, str], cwd: Path) -> None:
        self.environ = environ
        self.cwd = cwd
        self.errors: list[InputError] = []

    def raw(self, name: str) -> str:
        return self.environ.get(_env_name(name), "").strip()

    def problem(self, name: str, what: str) -> None:
        self.errors.append(InputError(f"input '{name}': {what}"))

    def boolean(self, name: str, default: bool) -> bool:
        value = self.raw(name).lower()
        if not value:
            return default
        if value in _TRUE:
            return True
        if value in _FALSE:
            return False
        self.problem(name, f"expected true or false, got {value[:40]!r}")
        return default

    def choice(self, name: str, choices: tuple[str, ...], default: str) -> str:
        value = self.raw(name).lower() or default
        if value not in choices:
            self.problem(name, f"expected one of {', '.join(choices)}, got {value[:40]!r}")
            return default
        return value

    def path(self, name: str, *, must_exist: str = "") -> Path | None:
        """A path relative to the working directory; ``must_exist`` is ``"file"``, ``"dir"`` or ``""``."""
        value = self.raw(name)
        if not value:
            return None
        if "\n" in value or "\x00" in value:
            self.problem(name, "expected one path, got several lines")
            return None
        path = Path(value).expanduser()
        full = path if path.is_absolute() else self.cwd / path
        if must_exist == "file" and not full.is_file():
            self.problem(name, f"file not found: {value}")
        elif must_exist == "dir" and not full.is_dir():
            self.problem(name, f"folder not found: {value}")
        return path

    def listing(self, name: str, pattern: re.Pattern[str], what: str, default: list[str]) -> list[str]:
        items = _csv(self.raw(name))
        bad = [x for x in items if not pattern.match(x)]
        if bad:
            shown = ", ".join(repr(x[:40]) for x in bad[:5])
            self.problem(name, f"{shown} {'is' if len(bad) == 1 else 'are'} not {what}")
        return [x for x in items if pattern.match(x)] or list(default)


def parse_inputs(
    environ: Mapping[str, str],
    *,
    known_providers: tuple[str, ...] = ("aws",),
    cwd: Path | None = None,
) -> ActionInputs:
    """Build :class:`ActionInputs` from ``INPUT_*`` variables in ``environ``.

    Relative paths are checked against ``cwd`` (default: the working directory) but kept relative.
    Raises :class:`~ismap_scan.errors.InputErrors` listing every bad input (``input 'fail-on': expected
    one of …``); secret values are never part of a message.
    """
    r = _Reader(environ, cwd or Path.cwd())
    out = ActionInputs()
    out.providers = r.listing("provider", _PROVIDER_RE, "a provider name", ["aws"])
    unknown = [p for p in out.providers if p not in known_providers]
    if unknown:
        r.problem("provider", f"unknown provider {', '.join(unknown)} (known: {', '.join(known_providers)})")
    out.demo = r.boolean("demo", False)
    out.config = r.path("config", must_exist="file")
    out.regions = r.listing("regions", _REGION_RE, "a region name", [])
    out.role_arn = r.raw("role-arn")
    if out.role_arn and not _ROLE_ARN_RE.match(out.role_arn):
        r.problem("role-arn", "expected an IAM role ARN, arn:aws:iam::<12-digit account>:role/<name>")
    out.checks = r.listing("checks", _CHECK_RE, "a check ID or pattern", [])
    out.fail_on = r.choice("fail-on", SEVERITIES, "high")
    out.soft_fail = r.boolean("soft-fail", False)
    out.fail_on_incomplete = r.boolean("fail-on-incomplete", False)
    out.mode = r.choice("mode", MODES, "auto")
    out.baseline = r.path("baseline")  # may be absent on a first run: reported as a warning, not an error
    formats = r.listing("format", _FORMAT_RE, "a report format name", ["jsonl", "md", "csv", "sarif"])
    out.upload_sarif = r.boolean("upload-sarif", True)
    # results.jsonl is what every later step reads; SARIF is needed when it is to be uploaded.
    for needed, wanted in (("jsonl", True), ("sarif", out.upload_sarif)):
        if wanted and needed not in formats:
            formats.insert(0 if needed == "jsonl" else len(formats), needed)
    out.formats = formats
    out.lang = r.choice("lang", LANGS, "en")
    default_out = Path(environ["RUNNER_TEMP"]) / "ismap-scan-out" if environ.get("RUNNER_TEMP") else None
    out.output_dir = r.path("output-dir") or default_out or Path("ismap-scan-out")
    out.scan_dir = r.path("scan-dir", must_exist="dir")
    if out.scan_dir is not None:
        full = out.scan_dir if out.scan_dir.is_absolute() else r.cwd / out.scan_dir
        if full.is_dir() and not (full / "results.jsonl").is_file():
            r.problem("scan-dir", f"no results.jsonl in {out.scan_dir} (give a scan folder OUT/<scan-id>)")
    out.resources = r.path("resources", must_exist="file")
    out.sarif_category = r.raw("sarif-category") or "ismap-scan"
    if "\n" in out.sarif_category or len(out.sarif_category) > 100:
        r.problem("sarif-category", "expected one line of at most 100 characters")
    out.upload_artifacts = r.boolean("upload-artifacts", True)
    out.artifact_name = r.raw("artifact-name") or "ismap-scan"
    bad_chars = sorted(set(out.artifact_name) & _ARTIFACT_BAD)
    if bad_chars:
        r.problem("artifact-name", f"must not contain {' '.join(repr(c) for c in bad_chars)}")
    out.bundle = r.boolean("bundle", True)
    out.comment = r.boolean("comment", True)
    out.data_dir = r.path("data-dir")
    if r.errors:
        raise r.errors[0] if len(r.errors) == 1 else InputErrors(r.errors)
    return out


@dataclass(frozen=True)
class ProjectInfo:
    """What the source tree at ``GITHUB_ACTION_PATH`` declares: provider names and pip extras."""

    providers: tuple[str, ...]
    extras: tuple[str, ...]


def project_info(root: Path) -> ProjectInfo:
    """Read providers (entry-point group ``ismap_scan.providers``) and extras from ``root/pyproject.toml``.

    Raises :class:`InputError` when the file is missing or malformed (the action checkout is broken).
    """
    path = root / "pyproject.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise InputError(f"cannot read the action's pyproject.toml: {exc}", file=path) from None
    project = data.get("project") or {}
    providers = tuple(sorted((project.get("entry-points") or {}).get("ismap_scan.providers") or {}))
    extras = tuple(sorted(project.get("optional-dependencies") or {}))
    return ProjectInfo(providers=providers or ("aws",), extras=extras)


def pip_extras(inputs: ActionInputs, available: tuple[str, ...]) -> list[str]:
    """The extras to install: one per provider that has one, ``demo`` for demo scans, the bundle's extras.

    Only extras the project declares are named, so pip never warns about a missing one.
    """
    wanted = [p for p in inputs.providers]
    if inputs.demo:
        wanted.append("demo")
    if inputs.bundle:
        wanted.extend(BUNDLE_EXTRAS)
    seen: list[str] = []
    for extra in wanted:
        if extra in available and extra not in seen:
            seen.append(extra)
    return seen


def main(environ: Mapping[str, str] | None = None) -> int:
    """The action's first step: validate the inputs, then output ``extras`` (a comma list) for the install.

    Reads ``GITHUB_ACTION_PATH`` for the project's pyproject.toml (default: this source tree). Returns 0,
    or 2 after printing one ``::error`` line per bad input.
    """
    import os

    env = os.environ if environ is None else environ
    gh = GitHubEnv(env)
    root = Path(env.get("GITHUB_ACTION_PATH") or Path(__file__).resolve().parents[2])
    try:
        info = project_info(root)
        inputs = parse_inputs(env, known_providers=info.providers)
    except InputError as exc:
        for err in getattr(exc, "errors", None) or [exc]:
            gh.error(str(err), title="ismap-scan: invalid input")
        return 2
    extras = pip_extras(inputs, info.extras)
    state_dir = Path(env.get("RUNNER_TEMP") or ".") / "ismap-scan-ci"
    state_dir.mkdir(parents=True, exist_ok=True)
    inputs_file = state_dir / "inputs.json"
    inputs_file.write_text(json.dumps(inputs.to_dict(), indent=2) + "\n", encoding="utf-8")
    gh.set_outputs({"extras": ",".join(extras), "inputs-file": str(inputs_file)})
    print(f"ismap-scan inputs are valid; extras to install: {','.join(extras) or '(none)'}")
    return 0


def load_inputs_file(path: Path) -> ActionInputs:
    """Read the validated inputs the validation step wrote. Raises :class:`InputError` when unreadable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read the validated inputs: {exc}", file=path) from None
    if not isinstance(data, dict):
        raise InputError("expected a JSON object", file=path)
    return ActionInputs.from_dict(data)


if __name__ == "__main__":
    sys.exit(main())
