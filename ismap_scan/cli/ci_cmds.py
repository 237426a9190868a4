"""``ismap-scan ci …``: the GitHub Action's steps, and a baseline gate for any CI system.

The action's steps (``inputs``, ``scan``, ``report``, ``bundle``, ``enforce``) read the action inputs from
``INPUT_*`` variables (see ``action.yml``) and write GitHub's step outputs and job summary; ``compare`` is the
same baseline compare and exit policy for other CI systems and terminals.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import click

from ..errors import InputError
from . import cli
from .common import _handle_errors

_SCAN_DIR_ENV = "ISMAP_SCAN_CI_SCAN_DIR"


@cli.group()
def ci() -> None:
    """CI helpers: the GitHub Action's steps and a baseline compare (``ci compare``)."""


def _inputs() -> Any:
    """The validated inputs file when the action's first step wrote one, else the ``INPUT_*`` variables."""
    from ..ci.inputs import INPUTS_FILE_ENV, load_inputs_file, parse_inputs, project_info
    from ..providers.base import load_providers

    inputs_file = os.environ.get(INPUTS_FILE_ENV)
    if inputs_file:
        return load_inputs_file(Path(inputs_file))
    known = tuple(load_providers())
    root = os.environ.get("GITHUB_ACTION_PATH")
    if root and Path(root, "pyproject.toml").is_file():
        known = tuple(sorted(set(known) | set(project_info(Path(root)).providers)))
    return parse_inputs(os.environ, known_providers=known or ("aws",))


def _gh() -> Any:
    from ..ci.github import GitHubEnv

    return GitHubEnv()


@ci.command("inputs")
def inputs_cmd() -> None:
    """Validate the action inputs (INPUT_* variables); output the pip extras to install."""
    from ..ci.inputs import main

    sys.exit(main())


@ci.command("scan")
@click.pass_context
def scan_step(ctx: click.Context) -> None:
    """Action step: run the scan from the inputs (or take scan-dir); outputs scan-dir, results, sarif."""
    with _handle_errors(ctx.obj["debug"]):
        from ..ci.steps import step_scan

        step_scan(_inputs(), _gh())


_scan_dir_option = click.option(
    "--scan-dir",
    envvar=_SCAN_DIR_ENV,
    required=True,
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help=f"The scan folder OUT/<scan-id>/ (env {_SCAN_DIR_ENV}).",
)


@ci.command("report")
@_scan_dir_option
@click.pass_context
def report_step(ctx: click.Context, scan_dir: Path) -> None:
    """Action step: baseline compare, job summary, comment body, outputs; decides (does not fail)."""
    with _handle_errors(ctx.obj["debug"]):
        from ..ci.steps import step_report

        step_report(_inputs(), _gh(), scan_dir)


@ci.command("bundle")
@_scan_dir_option
@click.pass_context
def bundle_step(ctx: click.Context, scan_dir: Path) -> None:
    """Action step: evidence bundle with `bundle create` when this version has it; output bundle."""
    with _handle_errors(ctx.obj["debug"]):
        from ..ci.steps import step_bundle

        step_bundle(_inputs(), _gh(), scan_dir)


@ci.command("enforce")
@click.option(
    "--state",
    "state_path",
    envvar="ISMAP_SCAN_CI_STATE",
    required=True,
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="state.json written by `ci report` (env ISMAP_SCAN_CI_STATE).",
)
@click.pass_context
def enforce_step(ctx: click.Context, state_path: Path) -> None:
    """Action step: exit non-zero when `ci report` decided the step fails (3 new failures, 4 incomplete)."""
    with _handle_errors(ctx.obj["debug"]):
        from ..ci.steps import step_enforce

        sys.exit(step_enforce(state_path, _gh()))


@ci.command("compare")
@click.argument("current", type=click.Path(exists=True, path_type=Path))
@click.option("--baseline", type=click.Path(path_type=Path), help="Baseline results.jsonl or scan folder.")
@click.option(
    "--fail-on",
    type=click.Choice(["critical", "high", "medium", "low", "info", "none"]),
    default="high",
    show_default=True,
    help="Fail on new failures at or above this severity.",
)
@click.option("--soft-fail", is_flag=True, help="Report, but exit 0.")
@click.option("--fail-on-incomplete", is_flag=True, help="Also fail (exit 4) when the scan is incomplete.")
@click.option(
    "--resources",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Terraform plan JSON or ID list (comment).",
)
@click.option(
    "--output",
    "output",
    type=click.Choice(["summary", "comment", "json"]),
    default="summary",
    show_default=True,
    help="What to print: the summary Markdown, the PR comment Markdown, or the counts as JSON.",
)
@click.option("--lang", type=click.Choice(["en", "ja"]), default="en", show_default=True)
@click.pass_context
def compare_cmd(
    ctx: click.Context,
    current: Path,
    baseline: Path | None,
    fail_on: str,
    soft_fail: bool,
    fail_on_incomplete: bool,
    resources: Path | None,
    output: str,
    lang: str,
) -> None:
    """Compare a scan folder CURRENT with a baseline; exit 3 on new failures at or above --fail-on.

    Without --baseline every failure counts. A --baseline path that does not exist is a warning (first run),
    not an error.
    """
    with _handle_errors(ctx.obj["debug"]):
        from ..ci.markdown import comment_markdown, summary_markdown
        from ..ci.steps import evaluate_folder, load_baseline
        from ..ci.touched import load_touched

        folder = current if current.is_dir() else current.parent
        if not (folder / "results.jsonl").is_file():
            raise InputError("expected a scan folder (OUT/<scan-id>/) or its results.jsonl", file=current)
        gh = _gh()
        gh.stream = sys.stderr
        base = load_baseline(baseline, gh)
        comparison, decision, info = evaluate_folder(
            folder,
            base,
            fail_on=fail_on,
            mode="gate",
            soft_fail=soft_fail,
            fail_on_incomplete=fail_on_incomplete,
        )
        if output == "json":
            doc = {"exit_code": decision.code, "fail": decision.fail_step, "reason": decision.reason}
            doc["counts"] = comparison.counts()
            doc["gating"] = [r.to_dict() for r in comparison.gating]
            click.echo(json.dumps(doc, ensure_ascii=False, indent=2))
        elif output == "comment":
            touched = load_touched(resources) if resources else None
            click.echo(comment_markdown(comparison, decision, info, touched, lang=lang), nl=False)
        else:
            click.echo(summary_markdown(comparison, decision, info, lang), nl=False)
        print(f"ismap-scan: {decision.reason}", file=sys.stderr)
        sys.exit(decision.code if decision.fail_step else 0)
