"""The GitHub Action's steps, one function each (``action.yml`` calls them through ``ismap-scan ci …``).

``scan`` runs ``ismap-scan scan`` (or takes an existing scan folder); ``report`` compares with the baseline,
writes the job summary, the comment body and the step outputs, and decides the exit; ``bundle`` creates the
evidence bundle when this version has ``bundle create``; ``enforce`` fails the step as decided. The decision is
kept in ``<output-dir>/ci/state.json`` so the upload steps between ``report`` and ``enforce`` always run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import InputError, IsmapScanError
from ..model import Result
from ..reports import read_results
from .baseline import Comparison, compare, resolve_results_path
from .github import GitHubEnv
from .inputs import ActionInputs
from .markdown import ScanInfo, comment_markdown, summary_markdown
from .policy import Decision, decide
from .touched import TouchedResources, load_touched

CI_DIR = "ci"
STATE_FILE = "state.json"
#: ``ismap-scan scan`` exit codes that mean "the scan ran" (DESIGN §8); 1 and 2 mean it did not.
SCAN_RAN = (0, 3, 4)
#: New failures annotated in the log (GitHub shows ten annotations of each kind per step).
MAX_ANNOTATIONS = 10


class StepError(IsmapScanError):
    """A step could not do its job (the scan did not run, a file is missing)."""


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read {path.name}: {exc}", file=path) from None
    if not isinstance(data, dict):
        raise InputError("expected a JSON object", file=path)
    return data


def scan_argv(inputs: ActionInputs, python: str = sys.executable) -> list[str]:
    """The ``ismap-scan scan`` command line for ``inputs`` (an argument list: no shell is involved)."""
    argv = [python, "-m", "ismap_scan", "scan", "--output-dir", str(inputs.output_dir)]
    argv += ["--format", ",".join(inputs.formats), "--fail-on", inputs.fail_on, "--lang", inputs.lang]
    argv += ["--provider", ",".join(inputs.providers)]
    if inputs.demo:
        argv.append("--demo")
    if inputs.config:
        argv += ["--config", str(inputs.config)]
    if inputs.regions:
        argv += ["--region", ",".join(inputs.regions)]
    if inputs.role_arn:
        argv += ["--role-arn", inputs.role_arn]
    if inputs.checks:
        argv += ["--checks", ",".join(inputs.checks)]
    return argv


def _scan_folders(out: Path) -> set[Path]:
    return (
        {p for p in out.iterdir() if p.is_dir() and (p / "manifest.json").is_file()}
        if out.is_dir()
        else set()
    )


def step_scan(inputs: ActionInputs, gh: GitHubEnv, environ: dict[str, str] | None = None) -> Path:
    """Run the scan (or use ``scan-dir``); set outputs ``scan-dir``, ``results``, ``sarif``, ``scan-exit-code``.

    The child's output is printed with workflow commands stopped (it may echo cloud-supplied text). Raises
    :class:`StepError` when the scan exits 1 or 2 or leaves no scan folder.
    """
    if inputs.scan_dir is not None:
        folder, code = inputs.scan_dir, 0
        print(f"Using the existing scan folder {folder}")
    else:
        inputs.output_dir.mkdir(parents=True, exist_ok=True)
        before = _scan_folders(inputs.output_dir)
        env = dict(os.environ if environ is None else environ)
        if inputs.data_dir is not None:
            env["ISMAP_SCAN_DATA_DIR"] = str(inputs.data_dir)
        sys.stdout.flush()
        with gh.commands_stopped():
            code = subprocess.run(scan_argv(inputs), env=env, check=False).returncode
        if code not in SCAN_RAN:
            raise StepError(f"ismap-scan scan exited {code}: the scan did not run (see the log above)")
        new = sorted(_scan_folders(inputs.output_dir) - before)
        if not new:
            raise StepError(
                f"ismap-scan scan exited {code} but wrote no scan folder under {inputs.output_dir}"
            )
        folder = new[-1]  # scan IDs sort by time
    sarif = folder / "results.sarif"
    gh.set_outputs(
        {
            "scan-dir": str(folder),
            "results": str(folder / "results.jsonl"),
            "sarif": str(sarif) if sarif.is_file() else "",
            "scan-exit-code": code,
        }
    )
    return folder


@dataclass
class Baseline:
    """A baseline that was found and read: its results, and a label for the summary."""

    results: list[Result]
    label: str


def load_baseline(path: Path | None, gh: GitHubEnv) -> Baseline | None:
    """Read the baseline at ``path``; a path that does not exist (a first run) gives a warning and ``None``.

    A baseline that exists but cannot be read raises :class:`InputError`: a broken baseline must not be
    mistaken for "no baseline" silently.
    """
    if path is None:
        return None
    if not path.exists():
        gh.warning(
            f"baseline {path} not found (first run, or the previous artifact expired): every failure at or "
            "above fail-on counts as new",
            title="ismap-scan baseline",
        )
        return None
    file = resolve_results_path(path)
    results = read_results(file)
    manifest_path = file.parent / "manifest.json"
    scan_id = ""
    if manifest_path.is_file():
        scan_id = str(_read_json(manifest_path).get("scan_id", ""))
    label = f"`{file}`" + (f" (scan `{scan_id}`)" if scan_id else "")
    return Baseline(results, label)


def evaluate_folder(
    folder: Path,
    baseline: Baseline | None,
    *,
    fail_on: str,
    mode: str,
    soft_fail: bool = False,
    fail_on_incomplete: bool = False,
) -> tuple[Comparison, Decision, ScanInfo]:
    """Compare a scan folder's results with ``baseline`` and decide. Raises :class:`InputError` for a folder
    without ``results.jsonl``/``manifest.json``."""
    results = read_results(folder / "results.jsonl")
    manifest = _read_json(folder / "manifest.json")
    controls_path = folder / "controls.json"
    controls = _read_json(controls_path) if controls_path.is_file() else None
    info = ScanInfo.from_files(manifest, controls)
    comparison = compare(results, baseline.results if baseline else None, fail_on)
    info.baseline_label = baseline.label if baseline else ""
    incomplete = bool(info.provider_failures) or comparison.errors > 0
    decision = decide(
        comparison,
        mode=mode,
        soft_fail=soft_fail,
        fail_on_incomplete=fail_on_incomplete,
        incomplete=incomplete,
    )
    return comparison, decision, info


def _annotate(gh: GitHubEnv, c: Comparison, decision: Decision) -> None:
    emit = gh.error if decision.fail_step else gh.warning
    for r in c.gating[:MAX_ANNOTATIONS]:
        emit(
            f"{r.check_id} ({r.severity.value}) fails on {r.resource_id} in {r.account}/{r.region}",
            title="New ISMAP failure" if c.baseline_used else "ISMAP failure",
        )
    if len(c.gating) > MAX_ANNOTATIONS:
        emit(f"…and {len(c.gating) - MAX_ANNOTATIONS} more; see the job summary", title="ismap-scan")


def step_report(inputs: ActionInputs, gh: GitHubEnv, folder: Path) -> Decision:
    """Compare, write ``<output-dir>/ci/`` (``summary.md``, ``comment.md``, ``comparison.json``,
    ``state.json``), append the job summary, annotate new failures and set the counting outputs."""
    baseline = load_baseline(inputs.baseline, gh)
    mode = inputs.effective_mode(gh.event_name)
    comparison, decision, info = evaluate_folder(
        folder,
        baseline,
        fail_on=inputs.fail_on,
        mode=mode,
        soft_fail=inputs.soft_fail,
        fail_on_incomplete=inputs.fail_on_incomplete,
    )
    touched: TouchedResources | None = load_touched(inputs.resources) if inputs.resources else None
    ci_dir = inputs.output_dir / CI_DIR
    ci_dir.mkdir(parents=True, exist_ok=True)
    summary = summary_markdown(comparison, decision, info, inputs.lang)
    comment = comment_markdown(
        comparison, decision, info, touched, lang=inputs.lang, name=inputs.artifact_name
    )
    (ci_dir / "summary.md").write_text(summary, encoding="utf-8")
    (ci_dir / "comment.md").write_text(comment, encoding="utf-8")
    doc = {
        "scan_id": info.scan_id,
        "fail_on": comparison.fail_on,
        "baseline_used": comparison.baseline_used,
        "counts": comparison.counts(),
        "new_failures": [r.finding_key for r in comparison.new],
        "gating": [r.finding_key for r in comparison.gating],
        "fixed": [r.finding_key for r in comparison.fixed],
    }
    (ci_dir / "comparison.json").write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    state = {"code": decision.code, "fail_step": decision.fail_step, "reason": decision.reason, "mode": mode}
    state_path = ci_dir / STATE_FILE
    state_path.write_text(json.dumps(state, indent=2) + "\n", encoding="utf-8")
    gh.append_summary(summary)
    _annotate(gh, comparison, decision)
    print(f"ismap-scan ({mode}): {decision.reason}")
    outputs: dict[str, object] = dict(comparison.counts())
    outputs.update(
        {
            "exit-code": decision.code,
            "fail-step": decision.fail_step,
            "mode": mode,
            "baseline-used": comparison.baseline_used,
            "summary": str(ci_dir / "summary.md"),
            "comment": str(ci_dir / "comment.md"),
            "state": str(state_path),
            "ci-dir": str(ci_dir),
        }
    )
    gh.set_outputs(outputs)
    return decision


def bundle_command_available() -> bool:
    """True when this ismap-scan has ``bundle create`` (the evidence store's command group)."""
    from ..cli import cli

    group = cli.commands.get("bundle")
    return group is not None and "create" in (getattr(group, "commands", None) or {})


def step_bundle(
    inputs: ActionInputs, gh: GitHubEnv, folder: Path, environ: dict[str, str] | None = None
) -> Path | None:
    """Create ``<output-dir>/<scan-id>.evidence.zip`` with ``ismap-scan bundle create``; output ``bundle``.

    When this version has no ``bundle create``, or ``bundle: false``, a notice says so and ``bundle`` is empty.
    Raises :class:`StepError` when the command exists but fails.
    """
    if not inputs.bundle:
        gh.set_outputs({"bundle": ""})
        return None
    if not bundle_command_available():
        gh.notice(
            "this ismap-scan version has no `bundle create`; no evidence bundle is made (the scan folder is "
            "still uploaded as an artifact)",
            title="ismap-scan bundle",
        )
        gh.set_outputs({"bundle": ""})
        return None
    target = inputs.output_dir / f"{folder.name}.evidence.zip"
    env = dict(os.environ if environ is None else environ)
    if inputs.data_dir is not None:
        env["ISMAP_SCAN_DATA_DIR"] = str(inputs.data_dir)
    # SCAN is the scan ID in the evidence store (`scan` stores every scan; the folder name is its ID).
    argv = [sys.executable, "-m", "ismap_scan", "bundle", "create", folder.name, "-o", str(target)]
    sys.stdout.flush()
    with gh.commands_stopped():
        code = subprocess.run(argv, env=env, check=False).returncode
    if code != 0 or not target.is_file():
        raise StepError(f"ismap-scan bundle create exited {code}")
    gh.set_outputs({"bundle": str(target)})
    return target


def step_enforce(state_path: Path, gh: GitHubEnv) -> int:
    """The step's exit code from ``state.json``: the decision's code when it fails the step, else 0."""
    state = _read_json(state_path)
    reason = str(state.get("reason", ""))
    if state.get("fail_step"):
        gh.error(reason, title="ismap-scan")
        return int(state.get("code", 3)) or 3
    print(f"ismap-scan: {reason}")
    return 0


def previous_results(output_dir: Path, current: Path) -> Path | None:
    """The newest scan folder under ``output_dir`` before ``current`` that has ``results.jsonl``, for
    ``scan --baseline previous`` (scheduled runs that keep their output folder)."""
    earlier = sorted(
        p
        for p in output_dir.iterdir()
        if p.is_dir() and p.name < current.name and (p / "results.jsonl").is_file()
    )
    return earlier[-1] / "results.jsonl" if earlier else None


def notify_after_scan(
    folder: Path,
    results: list[Result],
    *,
    fail_on: str,
    urls: list[str],
    fmt: str = "auto",
    baseline: str | None = None,
    provider_failures: dict[str, str] | None = None,
) -> list[str]:
    """``scan --notify``: compare with ``baseline`` (a results path, a scan folder, ``previous`` for the newest
    earlier scan in the same output folder, or ``None``) and post the new-failure summary to ``urls`` when
    there are new failures at or above ``fail_on`` or a provider stopped early.

    Returns the lines to print (what was sent, or why not, or what failed); never raises for a webhook that
    fails, so a notification problem cannot hide the scan's own result. Raises :class:`InputError` for a bad
    URL, format or baseline before anything is sent.
    """
    from . import notify

    for url in urls:
        notify.choose_format(url, fmt)
    base: list[Result] | None = None
    if baseline == "previous":
        prev = previous_results(folder.parent, folder)
        base = read_results(prev) if prev else None
    elif baseline:
        base = read_results(resolve_results_path(Path(baseline)))
    comparison = compare(results, base, fail_on)
    incomplete = bool(provider_failures) or comparison.errors > 0
    decision = decide(comparison, mode="gate", incomplete=incomplete)
    if not comparison.gating and not provider_failures:
        return [f"notify: nothing new at or above {fail_on}; no notification sent"]
    problems = notify.notify(urls, comparison, decision, folder.name, fmt)
    sent = len(urls) - len(problems)
    return [f"notify: sent to {sent} of {len(urls)} webhooks ({decision.reason})", *problems]
